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

/// Edits `file` `edits` times and measures write → reload message.
fn measure(addr: &str, file: &Path, edits: usize) -> Result<Vec<Duration>, String> {
    let mut events = subscribe(addr)?;
    let original = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let mut times = Vec::new();
    for i in 0..edits {
        std::thread::sleep(Duration::from_millis(120));
        let t = Instant::now();
        std::fs::write(file, format!("{original}\n\nEdit number {i}.\n"))
            .map_err(|e| e.to_string())?;
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
    let _ = std::fs::write(file, original);
    Ok(times)
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
    let (server, ready) = start(&bundled)?;
    let file = bundled.join("content/docs/guide/writing-pages.md");
    let times = measure(&server.addr, &file, edits)?;
    report(
        "bundled site",
        ready,
        times,
        "targets p50 ≤ 20 ms, p95 ≤ 50 ms",
    );
    drop(server);

    // A generated corpus; its first serve also fills the highlight cache, as a writer's would.
    let big = dir.path().join("corpus");
    corpus::generate(&big, pages, 0x00D0_C517_E5EE_D001).map_err(|e| e.to_string())?;
    let (server, _) = start(&big)?;
    drop(server);
    let (server, ready) = start(&big)?;
    let file = big.join("content/section-03/page-00003.md");
    let times = measure(&server.addr, &file, edits)?;
    report(
        &format!("{pages} pages"),
        ready,
        times,
        "targets p50 ≤ 50 ms, p95 ≤ 100 ms; serving ≤ 3 s after start",
    );
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
