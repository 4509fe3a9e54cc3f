//! `docsite serve` as a process: many connected clients all get their reload, and a churn of
//! saves leaves the served pages equal to a clean build, with the server responsive and its
//! memory flat.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
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

fn start(root: &Path) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_docsite"))
        .args(["serve", "--port", "0", "--root"])
        .arg(root)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Owned by `Server` from here on, so the process is killed and reaped even if we panic.
    let mut server = Server {
        child,
        addr: String::new(),
    };
    let stderr = server.child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    loop {
        let line = lines.next().expect("serve exited").unwrap();
        if let Some(rest) = line.strip_prefix("serving on http://") {
            server.addr = rest.split('/').next().unwrap().to_string();
            std::thread::spawn(move || for _ in lines {});
            return server;
        }
    }
}

fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn subscribe(addr: &str) -> BufReader<TcpStream> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(s, "GET /__docsite/events HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    loop {
        line.clear();
        r.read_line(&mut line).unwrap();
        if line == "\r\n" {
            return r;
        }
    }
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn page(i: usize, edit: usize) -> String {
    format!(
        "---\ntitle: Page {i}\nweight: {i}\n---\n\n## Section\n\nEdit {edit} of page {i}, with a [link](./p{}.md#section).\n\n```rust\nfn f{edit}() {{}}\n```\n",
        (i + 1) % 100
    )
}

#[test]
fn fifty_clients_all_get_their_reload() {
    let site = common::Site::new();
    site.write("content/a.md", "---\ntitle: A\n---\nHello.\n");
    let server = start(site.root());
    let mut clients: Vec<_> = (0..50).map(|_| subscribe(&server.addr)).collect();
    std::thread::sleep(Duration::from_millis(200));
    site.write("content/a.md", "---\ntitle: A\n---\nHello again.\n");
    for (i, c) in clients.iter_mut().enumerate() {
        let mut line = String::new();
        loop {
            line.clear();
            c.read_line(&mut line)
                .unwrap_or_else(|e| panic!("client {i}: {e}"));
            if line.starts_with("data:") {
                assert!(line.contains("\"type\":\"reload\""), "{line}");
                break;
            }
        }
    }
}

#[test]
fn churn_ends_equal_to_a_clean_build_with_flat_memory() {
    let site = common::Site::new();
    for i in 0..100 {
        site.write(&format!("content/p{i}.md"), &page(i, 0));
    }
    let server = start(site.root());
    let pid = server.child.id();
    // Warm up, then measure memory across the churn.
    for i in 0..100 {
        site.write(&format!("content/p{i}.md"), &page(i, 1));
    }
    std::thread::sleep(Duration::from_millis(500));
    let before = rss_kb(pid);

    let start = Instant::now();
    let mut slowest = Duration::ZERO;
    for n in 0..1000 {
        let i = (n * 37) % 100;
        site.write(&format!("content/p{i}.md"), &page(i, n + 2));
        std::thread::sleep(Duration::from_millis(8));
        if n % 100 == 0 {
            let t = Instant::now();
            let (status, _) = get(&server.addr, "/p1/");
            slowest = slowest.max(t.elapsed());
            assert_eq!(status, 200, "responsive during the churn");
        }
    }
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "1,000 saves took {:?}",
        start.elapsed()
    );
    assert!(
        slowest < Duration::from_secs(2),
        "a request took {slowest:?} during the churn"
    );
    std::thread::sleep(Duration::from_millis(1500));
    let after = rss_kb(pid);

    // The served pages equal a clean build (less the live script).
    let out = tempfile::tempdir().unwrap();
    docsite::build(&docsite::BuildOptions {
        root: site.root().to_path_buf(),
        out: Some(out.path().join("site")),
        base_url: Some("/".into()),
        ..Default::default()
    })
    .unwrap();
    for i in 0..100 {
        let (status, served) = get(&server.addr, &format!("/p{i}/"));
        assert_eq!(status, 200);
        let start = served
            .find("<script>/* docsite live preview")
            .expect("live script");
        let end = served[start..].find("</script>").unwrap() + start + "</script>".len();
        let served = format!("{}{}", &served[..start], &served[end..]);
        let built =
            std::fs::read_to_string(out.path().join(format!("site/p{i}/index.html"))).unwrap();
        assert_eq!(served, built, "page p{i} differs from a clean build");
    }
    assert!(
        after < before + 64 * 1024,
        "memory grew from {before} KB to {after} KB over 1,000 saves"
    );
}

#[test]
fn content_folder_removed_and_restored_keeps_serving_and_recovers() {
    let site = common::Site::new();
    site.write("content/a.md", "---\ntitle: A\n---\nHello.\n");
    let server = start(site.root());
    let content = site.root().join("content");
    let away = site.root().join("away");
    std::fs::rename(&content, &away).unwrap();
    let failed = |want: bool| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let (_, body) = get(&server.addr, "/__docsite/status?page=/a/");
            if body.contains(&format!("\"failed\":{want}")) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    };
    assert!(failed(true), "the missing folder is reported");
    assert_eq!(
        get(&server.addr, "/a/").0,
        200,
        "the last good pages are still served"
    );
    std::fs::rename(&away, &content).unwrap();
    site.write("content/a.md", "---\ntitle: A\n---\nBack.\n");
    assert!(failed(false), "recovered once the folder is back");
    assert!(get(&server.addr, "/a/").1.contains("Back."));
    // A request for a path outside the site is a 404, never a file from the disk.
    assert_eq!(get(&server.addr, "/../../etc/passwd").0, 404);
    assert_eq!(get(&server.addr, "/%2e%2e/%2e%2e/etc/passwd").0, 404);
}
