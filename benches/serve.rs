//! The live preview's speed: from a file's write to the reload message arriving at a connected
//! client (over the real SSE stream on loopback), and the time until a large site is served.
//!
//! cargo bench --bench serve -- [--pages N] [--edits E]
//!
//! Runs on the bundled site (a copy of this repository's content/ and static/) and on a
//! generated corpus of N pages (default 10,000). Without `--bench` (under `cargo test`) it does a
//! small smoke run.

#[allow(dead_code)]
mod corpus;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `docsite serve --port 0` and returns it with the time until it was serving.
fn start(root: &Path) -> Result<(Server, Duration), String> {
    let t = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_docsite"))
        .args(["serve", "--port", "0", "--root"])
        .arg(root)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    loop {
        let line = lines
            .next()
            .ok_or("serve exited before serving")?
            .map_err(|e| e.to_string())?;
        if let Some(rest) = line.strip_prefix("serving on http://") {
            let addr = rest.split('/').next().unwrap_or("").to_string();
            let ready = t.elapsed();
            // Keep draining stderr so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return Ok((Server { child, addr }, ready));
        }
    }
}

/// Connects to the event stream; returns a reader positioned after the response headers.
fn subscribe(addr: &str) -> Result<BufReader<TcpStream>, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "GET /__docsite/events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut r = BufReader::new(s);
    let mut line = String::new();
    loop {
        line.clear();
        r.read_line(&mut line).map_err(|e| e.to_string())?;
        if line == "\r\n" || line.is_empty() {
            return Ok(r);
        }
    }
}

/// What an edit changes: the page's text, its title, or a template.
#[derive(Clone, Copy)]
enum Edit {
    Body,
    Title,
    Template,
}

impl Edit {
    /// The file's text for edit number `i`.
    fn apply(self, original: &str, i: usize) -> String {
        match self {
            Edit::Body => format!("{original}\n\nEdit number {i}.\n"),
            // The first `title:` line is the frontmatter's.
            Edit::Title => original.replacen("title: ", &format!("title: Edit {i} of "), 1),
            Edit::Template => original.replacen(
                "{% endblock content %}",
                &format!("<!-- edit {i} -->\n{{% endblock content %}}"),
                1,
            ),
        }
    }
}

/// Edits `file` `edits` times and measures write → reload message.
fn measure(addr: &str, file: &Path, edits: usize, edit: Edit) -> Result<Vec<Duration>, String> {
    let mut events = subscribe(addr)?;
    let original = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let mut times = Vec::new();
    for i in 0..edits {
        std::thread::sleep(Duration::from_millis(120));
        let t = Instant::now();
        std::fs::write(file, edit.apply(&original, i)).map_err(|e| e.to_string())?;
        let mut line = String::new();
        loop {
            line.clear();
            events
                .read_line(&mut line)
                .map_err(|e| format!("waiting for reload: {e}"))?;
            if line.contains("\"type\":\"reload\"") {
                times.push(t.elapsed());
                break;
            }
            if line.contains("\"type\":\"failed\"") {
                return Err("the rebuild failed".into());
            }
        }
    }
    // Put it back, and let that rebuild pass before the next scenario.
    std::fs::write(file, original).map_err(|e| e.to_string())?;
    std::thread::sleep(Duration::from_millis(120));
    let mut line = String::new();
    while !line.starts_with("data:") {
        line.clear();
        events.read_line(&mut line).map_err(|e| e.to_string())?;
    }
    Ok(times)
}

/// Measures every kind of edit on a served site: a page's text, its title, and the templates
/// of section pages and of ordinary pages (copied into the site's `templates/` before serving,
/// as a theme author's would be).
fn scenarios(
    name: &str,
    root: &Path,
    page: &Path,
    edits: usize,
    targets: &str,
) -> Result<(), String> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let templates = root.join("templates");
    std::fs::create_dir_all(&templates).map_err(|e| e.to_string())?;
    for t in ["section.html", "page.html"] {
        std::fs::copy(repo.join("templates").join(t), templates.join(t))
            .map_err(|e| e.to_string())?;
    }
    // The first serve fills the highlight cache, as a writer's first would.
    drop(start(root)?);
    let (server, ready) = start(root)?;
    let times = measure(&server.addr, page, edits, Edit::Body)?;
    report(&format!("{name}, body edit"), ready, times, targets);
    let times = measure(&server.addr, page, edits, Edit::Title)?;
    report(&format!("{name}, title change"), ready, times, targets);
    let times = measure(
        &server.addr,
        &templates.join("section.html"),
        edits,
        Edit::Template,
    )?;
    report(
        &format!("{name}, section template change"),
        ready,
        times,
        "section pages only",
    );
    let times = measure(
        &server.addr,
        &templates.join("page.html"),
        edits.div_ceil(4),
        Edit::Template,
    )?;
    report(
        &format!("{name}, page template change"),
        ready,
        times,
        "nearly every page uses it",
    );
    Ok(())
}

fn report(name: &str, ready: Duration, mut times: Vec<Duration>, targets: &str) {
    times.sort();
    let pct = |p: usize| times[(times.len() - 1) * p / 100].as_secs_f64() * 1000.0;
    println!(
        "{name}: serving after {:.0} ms; write → reload message over {} edits: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms ({targets})",
        ready.as_secs_f64() * 1000.0,
        times.len(),
        pct(50),
        pct(95),
        pct(100)
    );
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let benching = args.iter().any(|a| a == "--bench");
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<usize>().ok())
    };
    let pages = value("--pages").unwrap_or(if benching { 10_000 } else { 100 });
    let edits = value("--edits").unwrap_or(if benching { 40 } else { 3 });
    let base: PathBuf = if Path::new("/dev/shm").is_dir() {
        "/dev/shm".into()
    } else {
        std::env::temp_dir()
    };
    let dir = tempfile::Builder::new()
        .prefix("docsite-serve-bench-")
        .tempdir_in(base)
        .map_err(|e| e.to_string())?;

    // The bundled site.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bundled = dir.path().join("bundled");
    copy_dir(&repo.join("content"), &bundled.join("content")).map_err(|e| e.to_string())?;
    copy_dir(&repo.join("static"), &bundled.join("static")).map_err(|e| e.to_string())?;
    scenarios(
        "bundled site",
        &bundled,
        &bundled.join("content/docs/guide/writing-pages.md"),
        edits,
        "targets p50 ≤ 20 ms, p95 ≤ 50 ms",
    )?;

    let big = dir.path().join("corpus");
    corpus::generate(&big, pages, 0x00D0_C517_E5EE_D001).map_err(|e| e.to_string())?;
    scenarios(
        &format!("{pages} pages"),
        &big,
        &big.join("content/section-03/page-00003.md"),
        edits,
        "targets p50 ≤ 50 ms, p95 ≤ 100 ms; serving ≤ 3 s after start",
    )?;
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
