//! `docsite serve` as a process: many connected clients all get their reload, and a churn of
//! saves leaves the served pages equal to a clean build, with the server responsive and its
//! memory flat.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    addr: String,
    /// Every line the server wrote to stderr so far.
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Waits until a log line after the first `from` lines satisfies `want`; returns it.
    fn wait_log(&self, from: usize, want: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(l) = self.log.lock().unwrap()[from..].iter().find(|l| want(l)) {
                return Some(l.clone());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    fn log_len(&self) -> usize {
        self.log.lock().unwrap().len()
    }

    fn log_since(&self, from: usize) -> String {
        self.log.lock().unwrap()[from..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(root: &Path) -> Server {
    start_as(root, None)
}

/// Starts the server, as the user `uid` when given (the test runs as root).
fn start_as(root: &Path, uid: Option<u32>) -> Server {
    use std::os::unix::process::CommandExt;
    // Another user may not reach the build's own binary (a clone under a private folder), so
    // that user runs a copy placed beside the site, which it can read.
    let bin = match uid {
        Some(_) => {
            use std::os::unix::fs::PermissionsExt;
            let dir = root.parent().unwrap();
            let bin = dir.join("docsite-for-another-user");
            std::fs::copy(env!("CARGO_BIN_EXE_docsite"), &bin).unwrap();
            std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
            bin
        }
        None => std::path::PathBuf::from(env!("CARGO_BIN_EXE_docsite")),
    };
    let mut command = Command::new(bin);
    command
        .args(["serve", "--port", "0", "--root"])
        .arg(root)
        .stderr(Stdio::piped())
        .stdout(Stdio::null());
    if let Some(uid) = uid {
        command.uid(uid).gid(uid);
    }
    let child = command.spawn().unwrap();
    // Owned by `Server` from here on, so the process is killed and reaped even if we panic.
    let mut server = Server {
        child,
        addr: String::new(),
        log: Arc::default(),
    };
    let stderr = server.child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    loop {
        let line = lines.next().expect("serve exited").unwrap();
        server.log.lock().unwrap().push(line.clone());
        if let Some(rest) = line.strip_prefix("serving on http://") {
            server.addr = rest.split('/').next().unwrap().to_string();
            let log = server.log.clone();
            std::thread::spawn(move || {
                for line in lines.map_while(Result::ok) {
                    log.lock().unwrap().push(line);
                }
            });
            return server;
        }
    }
}

fn get(addr: &str, path: &str) -> (u16, String) {
    let (status, body) = get_bytes(addr, path);
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn get_bytes(addr: &str, path: &str) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let status = String::from_utf8_lossy(&out[9..12]).parse().unwrap();
    let body = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| out[i + 4..].to_vec())
        .unwrap_or_default();
    (status, body)
}

/// A served HTML page without the live script, as a clean build has it.
fn strip_live(served: &str) -> String {
    let start = served
        .find("<script>/* docsite live preview")
        .expect("live script");
    let end = served[start..].find("</script>").unwrap() + start + "</script>".len();
    format!("{}{}", &served[..start], &served[end..])
}

/// The text documents of a clean build of the site (path → text), as `docsite build` writes
/// them with the preview's base path.
fn clean_build(root: &Path) -> Vec<(String, String)> {
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    docsite::build(&docsite::BuildOptions {
        root: root.to_path_buf(),
        out: Some(site.clone()),
        base_url: Some("/".into()),
        ..Default::default()
    })
    .unwrap();
    let mut files = Vec::new();
    let mut stack = vec![site.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e == "html" || e == "xml" || e == "css")
            {
                let rel = path
                    .strip_prefix(&site)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string();
                files.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// The paths whose served text differs from `built`.
fn differences(addr: &str, built: &[(String, String)]) -> Vec<String> {
    built
        .iter()
        .filter(|(rel, text)| {
            let (status, served) = get(addr, &format!("/{rel}"));
            let served = if rel.ends_with(".html") {
                strip_live(&served)
            } else {
                served
            };
            status != 200 || served != *text
        })
        .map(|(rel, _)| rel.clone())
        .collect()
}

/// Waits until every served document equals a clean build of the site as it is now.
fn settles_to_clean_build(server: &Server, root: &Path, step: &str, from: usize) {
    let built = clean_build(root);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let diff = differences(&server.addr, &built);
        if diff.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            panic!(
                "{step}: served pages differ from a clean build: {diff:?}\nserver log:\n{}",
                server.log_since(from)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// After a save of `rel`: the preview rebuilt, re-rendered only some pages (no whole
/// rebuild), and serves what a clean build makes.
fn rerendered_alone(server: &Server, root: &Path, step: &str, rel: &str, from: usize) {
    server
        .wait_log(from, |l| l.contains(rel.rsplit('/').next().unwrap()))
        .unwrap_or_else(|| panic!("{step}: no rebuild"));
    settles_to_clean_build(server, root, step, from);
    let log = server.log_since(from);
    assert!(
        !log.contains("site rebuilt"),
        "{step}: a whole rebuild:\n{log}"
    );
    assert!(log.contains("re-rendered"), "{step}:\n{log}");
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
        let served = strip_live(&served);
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

/// Titles, weights, labels, visibility, descriptions, dates and templates change without a
/// whole rebuild, and after each change every served document equals a clean build.
#[test]
fn navigation_and_template_changes_equal_a_clean_build() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let builtin = |name: &str| std::fs::read_to_string(repo.join(name)).unwrap();
    let site = common::Site::new();
    site.write(
        "docsite.toml",
        "title = \"T\"\n[theme]\nsidebar_page_size = 4\n",
    );
    site.write(
        "content/_index.md",
        "---\ntitle: Home\n---\nSee [docs](docs/).\n",
    );
    site.write(
        "content/docs/_index.md",
        "---\ntitle: Docs\n---\nAll of it.\n",
    );
    let doc = |i: usize, extra: &str| {
        format!(
            "---\ntitle: Page {i}\nweight: {i}\n{extra}---\n## Part\n\nOn to [the next](p{}.md#part).\n",
            (i + 1) % 10
        )
    };
    for i in 0..10 {
        site.write(&format!("content/docs/p{i}.md"), &doc(i, ""));
    }
    site.write(
        "content/docs/p1.md",
        &format!("{}\n![A picture](img.png)\n", doc(1, "")),
    );
    site.write("content/docs/p2.md", &doc(2, "aliases: [/old-two/]\n"));
    let first_png = common::images::png(&common::images::screenshot(8, 6, 1));
    site.write_bytes("content/docs/img.png", &first_png);
    for i in 0..5 {
        site.write(
            &format!("content/guide/g{i}.md"),
            &format!("---\ntitle: Guide {i}\n---\nText {i}.\n"),
        );
    }
    // The folders exist before serving: a folder that comes or goes is a whole rebuild.
    site.write("templates/partials/notes.txt", "not a template");
    site.write("static/docsite.css", &builtin("static/docsite.css"));

    let server = start(site.root());
    settles_to_clean_build(&server, site.root(), "start", 0);
    let page_html = builtin("templates/page.html").replace("<article", "<article data-own=\"1\"");
    let footer = format!(
        "{}<p>Our footer</p>\n",
        builtin("templates/partials/page-footer.html")
    );
    let sidebar = format!(
        "{}<!-- our sidebar -->\n",
        builtin("templates/partials/sidebar.html")
    );
    let base = builtin("templates/base.html").replace("Built with docsite", "Made with docsite");
    let css = format!("{}\n/* ours */\n", builtin("static/docsite.css"));
    let steps: Vec<(&str, &str, Option<String>)> = vec![
        (
            "title",
            "content/docs/p3.md",
            Some(doc(3, "").replace("Page 3", "Third")),
        ),
        (
            "weight",
            "content/docs/p9.md",
            Some(doc(9, "").replace("weight: 9", "weight: -1")),
        ),
        (
            "label",
            "content/guide/g1.md",
            Some("---\ntitle: Guide 1\nsidebar_label: G1\n---\nText 1.\n".into()),
        ),
        ("hide", "content/docs/p5.md", Some(doc(5, "hide: true\n"))),
        (
            "description",
            "content/docs/p6.md",
            Some(doc(6, "description: Six.\n")),
        ),
        (
            "date",
            "content/docs/p7.md",
            Some(doc(7, "date: 2026-01-02\n")),
        ),
        (
            "section title",
            "content/docs/_index.md",
            Some("---\ntitle: Guides\nweight: 1\n---\nAll of it.\n".into()),
        ),
        ("template added", "templates/page.html", Some(page_html)),
        (
            "partial",
            "templates/partials/page-footer.html",
            Some(footer),
        ),
        (
            "sidebar template",
            "templates/partials/sidebar.html",
            Some(sidebar),
        ),
        ("base template", "templates/base.html", Some(base)),
        ("template removed", "templates/page.html", None),
        ("stylesheet", "static/docsite.css", Some(css)),
        (
            "body",
            "content/docs/p0.md",
            Some(doc(0, "").replace("On to", "Onwards to")),
        ),
    ];
    for (step, rel, text) in steps {
        let from = server.log_len();
        match text {
            Some(text) => site.write(rel, &text),
            None => std::fs::remove_file(site.root().join(rel)).unwrap(),
        }
        rerendered_alone(&server, site.root(), step, rel, from);
    }

    // An image changed in place is encoded alone and published under its new content-hashed
    // names; only the pages showing it are rendered again, and the result equals a clean build.
    let from = server.log_len();
    let second_png = common::images::png(&common::images::screenshot(8, 6, 2));
    site.write_bytes("content/docs/img.png", &second_png);
    let line = server
        .wait_log(from, |l| l.contains("img.png"))
        .expect("no rebuild for the image");
    assert!(line.contains("re-rendered"), "{line}");
    settles_to_clean_build(&server, site.root(), "after an image change", from);

    // A file that is not part of the site changes nothing: no rebuild, no reload.
    let from = server.log_len();
    site.write("notes.txt", "a note");
    site.write("content/docs/.p0.md.swo-tmp", "an editor's file");
    std::fs::remove_file(site.root().join("content/docs/.p0.md.swo-tmp")).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(server.log_since(from), "", "nothing to rebuild");
    site.write("content/docs/p0.md", &doc(0, ""));
    server.wait_log(from, |l| l.contains("p0.md")).unwrap();
    settles_to_clean_build(&server, site.root(), "after a note", from);
}

#[test]
fn saving_an_included_file_or_a_component_template_re_renders_the_pages_using_it() {
    let site = common::Site::new();
    site.write(
        "content/a.md",
        "---\ntitle: A\n---\n1. First\n\n   <Include path=\"_parts/one.md\" />\n",
    );
    site.write(
        "content/b.md",
        "---\ntitle: B\n---\n<Card title=\"x\">\nBody\n</Card>\n\n<Include url=\"/a/\" />\n",
    );
    site.write("content/c.md", "---\ntitle: C\n---\nPlain.\n");
    site.write("content/_parts/one.md", "## Shared\n\nOne.\n");
    site.write(
        "templates/components/Card.html",
        "<div class=\"card\">{{ attrs.title }} {{ body }}</div>",
    );
    let server = start(site.root());
    settles_to_clean_build(&server, site.root(), "start", 0);
    for (step, rel, text) in [
        (
            "included file",
            "content/_parts/one.md",
            "## Shared again\n\nTwo.\n",
        ),
        (
            "component template",
            "templates/components/Card.html",
            "<section class=\"card\">{{ attrs.title }} {{ body }}</section>",
        ),
        (
            "included page",
            "content/a.md",
            "---\ntitle: A\n---\nNow <em>this</em>.\n\n<Include path=\"_parts/one.md\" />\n",
        ),
    ] {
        let from = server.log_len();
        site.write(rel, text);
        rerendered_alone(&server, site.root(), step, rel, from);
    }
    // A file in a `_` folder that nothing includes changes nothing.
    let from = server.log_len();
    site.write("content/_parts/unused.md", "Nobody shows this.\n");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(server.log_since(from), "", "nothing to rebuild");
}

/// Polls the status of `page` until `failed` is `want`; returns the status JSON.
fn status_until(server: &Server, page: &str, want: bool) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let (_, body) = get(&server.addr, &format!("/__docsite/status?page={page}"));
        if body.contains(&format!("\"failed\":{want}")) {
            return Some(body);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// A site with one page, served; the test then drops bad input into it.
fn served_site() -> (common::Site, Server) {
    let site = common::Site::new();
    site.write("content/a.md", "---\ntitle: A\n---\nHello.\n");
    let server = start(site.root());
    (site, server)
}

/// The bad input is reported (in the status, naming `file`, and on the terminal), the last good
/// pages are still served, and removing it recovers.
fn reported_then_recovers(
    site: &common::Site,
    server: &Server,
    from: usize,
    file: &str,
    remove: &Path,
) {
    let status = status_until(server, "/a/", true)
        .unwrap_or_else(|| panic!("{file} not reported:\n{}", server.log_since(from)));
    assert!(status.contains(file), "the status names {file}: {status}");
    assert!(
        server.wait_log(from, |l| l.contains(file)).is_some(),
        "the terminal names {file}:\n{}",
        server.log_since(from)
    );
    let (code, body) = get(&server.addr, "/a/");
    assert_eq!(code, 200, "the last good pages are still served");
    assert!(body.contains("Hello."));
    std::fs::remove_file(remove).unwrap();
    assert!(
        status_until(server, "/a/", false).is_some(),
        "recovers once {file} is gone:\n{}",
        server.log_since(from)
    );
    let _ = site;
}

#[test]
fn site_root_deleted_while_serving_is_reported_and_recovers() {
    let (site, server) = served_site();
    let from = server.log_len();
    std::fs::remove_dir_all(site.root()).unwrap();
    assert!(
        server.wait_log(from, |l| l.contains("is gone")).is_some(),
        "the missing root is reported:\n{}",
        server.log_since(from)
    );
    assert!(status_until(&server, "/a/", true).is_some());
    let (code, body) = get(&server.addr, "/a/");
    assert_eq!(code, 200, "the last good pages are still served");
    assert!(body.contains("Hello."));

    site.write("content/a.md", "---\ntitle: A\n---\nRestored.\n");
    assert!(
        server.wait_log(from, |l| l.contains("is back")).is_some(),
        "{}",
        server.log_since(from)
    );
    assert!(status_until(&server, "/a/", false).is_some());
    assert!(get(&server.addr, "/a/").1.contains("Restored."));
    // Watched again: a later edit shows.
    site.write("content/a.md", "---\ntitle: A\n---\nEdited after.\n");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !get(&server.addr, "/a/").1.contains("Edited after.") {
        assert!(Instant::now() < deadline, "{}", server.log_since(from));
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_binary_file_in_content_is_reported_by_name() {
    let (site, server) = served_site();
    let from = server.log_len();
    let mut bytes = b"\x7fELF\x02\x01\x01\x00".to_vec();
    bytes.extend((0..4096u32).map(|i| (i * 7 % 256) as u8));
    site.write_bytes("content/program.md", &bytes);
    let path = site.root().join("content/program.md");
    reported_then_recovers(&site, &server, from, "content/program.md", &path);

    // Under another name it is an asset, published as it is.
    site.write_bytes("content/program.bin", &bytes);
    let deadline = Instant::now() + Duration::from_secs(20);
    while get_bytes(&server.addr, "/program.bin").1 != bytes {
        assert!(Instant::now() < deadline, "{}", server.log_since(from));
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(status_until(&server, "/a/", false).is_some());
}

/// 50 MB of valid Markdown is a page like any other: built, served, named on the terminal, and
/// the server answers other requests while it builds.
#[test]
fn a_huge_file_in_content_is_served_without_stopping_the_server() {
    let (site, server) = served_site();
    let from = server.log_len();
    let line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\n\n";
    let text = format!(
        "---\ntitle: Huge\n---\n{}",
        line.repeat(50 * 1024 * 1024 / line.len())
    );
    site.write("content/huge.md", &text);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let t = Instant::now();
        let (code, _) = get(&server.addr, "/a/");
        assert_eq!(code, 200);
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "a request took {:?} while the huge page was built",
            t.elapsed()
        );
        // The file is written in one call but not atomically: the server may read and serve
        // part of it first, and the whole once the last change event arrives.
        let (code, body) = get_bytes(&server.addr, "/huge/");
        if code == 200 && body.len() > 50 * 1000 * 1000 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "/huge/ is {code} with {} bytes\n{}",
            body.len(),
            server.log_since(from)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        server
            .wait_log(from, |l| l.contains("content/huge.md"))
            .is_some(),
        "{}",
        server.log_since(from)
    );
    std::fs::remove_file(site.root().join("content/huge.md")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while get(&server.addr, "/huge/").0 != 404 {
        assert!(Instant::now() < deadline, "{}", server.log_since(from));
        std::thread::sleep(Duration::from_millis(100));
    }

    // 50 MB under another name: an asset, published as it is.
    let bytes: Vec<u8> = (0..50 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    site.write_bytes("content/huge.bin", &bytes);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (code, body) = get_bytes(&server.addr, "/huge.bin");
        if code == 200 && body == bytes {
            break;
        }
        assert!(Instant::now() < deadline, "{}", server.log_since(from));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(get(&server.addr, "/a/").0, 200);
}

/// A page the server may not read. Root reads mode-000 files anyway, so when the test runs as
/// root the server runs as `nobody`; when that is impossible too, the test says so and skips.
#[test]
fn an_unreadable_page_is_reported_by_name() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let site = common::Site::new();
    site.write("content/a.md", "---\ntitle: A\n---\nHello.\n");
    // Written outside the watched folder and moved in, so the server never sees it readable.
    let outside = tempfile::NamedTempFile::new_in(site.root().parent().unwrap()).unwrap();
    std::fs::write(outside.path(), "---\ntitle: Secret\n---\nx\n").unwrap();
    std::fs::set_permissions(outside.path(), std::fs::Permissions::from_mode(0o000)).unwrap();
    let uid = if std::fs::read(outside.path()).is_ok() {
        // Root: serve as nobody, who may read the site but not the secret.
        const NOBODY: u32 = 65534;
        std::fs::set_permissions(site.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let probe = Command::new("cat")
            .arg(site.root().join("content/a.md"))
            .uid(NOBODY)
            .gid(NOBODY)
            .output();
        if !probe.is_ok_and(|o| o.status.success()) {
            println!(
                "skipped: running as root, where mode-000 files are still readable, and cannot run the server as nobody"
            );
            return;
        }
        Some(NOBODY)
    } else {
        None
    };
    let server = start_as(site.root(), uid);
    let from = server.log_len();
    let path = site.root().join("content/secret.md");
    let (_, kept) = outside.keep().unwrap();
    std::fs::rename(&kept, &path).unwrap();
    reported_then_recovers(&site, &server, from, "content/secret.md", &path);
}

#[test]
fn a_file_name_that_is_not_utf8_is_reported() {
    use std::os::unix::ffi::OsStrExt;
    let (site, server) = served_site();
    let from = server.log_len();
    let path = site
        .root()
        .join("content")
        .join(std::ffi::OsStr::from_bytes(b"caf\xe9.md"));
    std::fs::write(&path, "---\ntitle: Cafe\n---\nx\n").unwrap();
    // Named as well as it can be: the bad byte shown as U+FFFD.
    reported_then_recovers(&site, &server, from, "content/caf\u{fffd}.md", &path);
}

#[test]
fn a_port_in_use_is_reported_with_the_way_out() {
    let site = common::Site::new();
    site.write("content/a.md", "---\ntitle: A\n---\nHello.\n");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_docsite"))
        .args(["serve", "--port", &port, "--root"])
        .arg(site.root())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!("port {port} is in use")) && stderr.contains("--port"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn search_index_follows_an_edit_once_the_writer_pauses() {
    let (site, server) = served_site();
    let shard_of = |word: &str| {
        let meta = get(&server.addr, "/search/meta.json").1;
        format!("/{}", common::search_shard(&meta, word))
    };
    let has_word = |body: &str| body.lines().any(|l| l.starts_with("zebracorn "));
    assert!(!has_word(&get(&server.addr, &shard_of("zebracorn")).1));
    let from = server.log_len();
    site.write("content/a.md", "---\ntitle: A\n---\nHello zebracorn.\n");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = get(&server.addr, &shard_of("zebracorn"));
        if status == 200 && has_word(&body) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the served index never learned the new word; server log:\n{}",
            server.log_since(from)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A site whose page `a` shows `n` screenshots, `w` x `h` each (one resized width).
fn image_site(n: usize, w: u32, h: u32) -> common::Site {
    let site = common::Site::new();
    site.write(
        "docsite.toml",
        "title = \"Images\"\n[images]\nwidths = [120]\n",
    );
    let mut page = String::from("---\ntitle: A\n---\nShots.\n\n");
    for i in 0..n {
        site.write_bytes(
            &format!("content/img/s{i}.png"),
            &common::images::png(&common::images::screenshot(w, h, i as u64)),
        );
        page.push_str(&format!("![Shot {i}](./img/s{i}.png)\n\n"));
    }
    site.write("content/a.md", &page);
    site
}

/// Waits until every image of `/a/` is on its pipeline outputs.
fn images_on_outputs(server: &Server, from: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, html) = get(&server.addr, "/a/");
        let srcs: Vec<&str> = html
            .split("<img src=\"")
            .skip(1)
            .map(|r| r.split('"').next().unwrap_or(""))
            .collect();
        if code == 200 && !srcs.is_empty() && srcs.iter().all(|s| s.starts_with("/assets/")) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "images not on outputs: {srcs:?}\n{}",
            server.log_since(from)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_preview_serves_at_once_and_switches_to_outputs_made_in_the_background() {
    let site = image_site(4, 900, 600);
    let server = start(site.root());
    // Served before any image was encoded: the start line says they show their sources.
    assert!(
        server.log_since(0).contains("4 image(s) show their source"),
        "{}",
        server.log_since(0)
    );
    let (code, html) = get(&server.addr, "/a/");
    assert_eq!(code, 200);
    assert_eq!(html.matches("<img ").count(), 4, "{html}");
    images_on_outputs(&server, 0);
    assert!(
        server
            .wait_log(0, |l| l.contains("images: all 4 encoded in the background"))
            .is_some(),
        "{}",
        server.log_since(0)
    );
    settles_to_clean_build(&server, site.root(), "background images", 0);
    // The source files are no longer published once the pages show the outputs.
    assert_eq!(get(&server.addr, "/img/s0.png").0, 404);
    // A later `docsite build` finds every output in the cache the preview filled.
    let summary = docsite::build(&docsite::BuildOptions {
        root: site.root().to_path_buf(),
        out: Some(site.root().join("public")),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        (summary.images.encoded, summary.images.cached),
        (0, 4),
        "{}",
        summary.images
    );
}

#[test]
fn an_image_replaced_while_it_is_encoded_ends_on_the_new_image() {
    let site = image_site(1, 1600, 1000);
    let server = start(site.root());
    let from = server.log_len();
    // At once, while the background worker has the old bytes.
    site.write_bytes(
        "content/img/s0.png",
        &common::images::png(&common::images::screenshot(700, 350, 99)),
    );
    images_on_outputs(&server, from);
    settles_to_clean_build(&server, site.root(), "image replaced mid-encode", from);
    let (_, html) = get(&server.addr, "/a/");
    assert!(html.contains("width=\"700\" height=\"350\""), "{html}");
}

#[test]
fn an_image_deleted_while_it_is_encoded_is_a_missing_image_at_the_page() {
    let site = image_site(1, 1600, 1000);
    let server = start(site.root());
    let from = server.log_len();
    std::fs::remove_file(site.root().join("content/img/s0.png")).unwrap();
    let status = status_until(&server, "/a/", false);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut body = status.unwrap_or_default();
    while !body.contains("missing-image") {
        assert!(
            Instant::now() < deadline,
            "no missing-image: {body}\n{}",
            server.log_since(from)
        );
        std::thread::sleep(Duration::from_millis(50));
        body = get(&server.addr, "/__docsite/status?page=/a/").1;
    }
    assert!(body.contains("content/a.md"), "{body}");
    // Still serving, and a restored image is published again.
    site.write_bytes(
        "content/img/s0.png",
        &common::images::png(&common::images::screenshot(300, 200, 5)),
    );
    images_on_outputs(&server, from);
    settles_to_clean_build(&server, site.root(), "image restored", from);
}

#[test]
fn a_thousand_images_changed_at_once_are_one_rebuild() {
    let site = common::Site::new();
    site.write("docsite.toml", "title = \"Many\"\n[images]\nwidths = []\n");
    // Each image its own pixels, but the last two alike (a screenshot copied to two places):
    // one job makes both.
    let shot = |i: usize, seed: u8| {
        let mut img = common::images::screenshot(24, 16, 1);
        let i = i.min(998);
        img.put_pixel(
            (i % 24) as u32,
            (i / 24 % 16) as u32,
            image::Rgb([seed, (i / 384) as u8, 7]),
        );
        common::images::png(&img)
    };
    for p in 0..10 {
        let mut page = format!("---\ntitle: P{p}\n---\n");
        for i in p * 100..(p + 1) * 100 {
            site.write_bytes(&format!("content/img/i{i}.png"), &shot(i, 0));
            page.push_str(&format!("![{i}](./img/i{i}.png)\n"));
        }
        site.write(&format!("content/p{p}.md"), &page);
    }
    let server = start(site.root());
    assert!(
        server
            .wait_log(0, |l| l.contains("images: all 999 encoded"))
            .is_some(),
        "{}",
        server.log_since(0)
    );
    let mut events = subscribe(&server.addr);
    let from = server.log_len();
    // As a checkout does: every image rewritten in one go.
    for i in 0..1000 {
        site.write_bytes(&format!("content/img/i{i}.png"), &shot(i, 200));
    }
    assert!(
        server.wait_log(from, |l| l.contains(" more: ")).is_some(),
        "{}",
        server.log_since(from)
    );
    let mut line = String::new();
    let mut reloads = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    // The rebuild's reload, then the background batches', until every output is made.
    while server
        .wait_log(from, |l| l.contains("images: all 999 encoded"))
        .is_none()
        || reloads == 0
    {
        assert!(Instant::now() < deadline, "{}", server.log_since(from));
        line.clear();
        if events.read_line(&mut line).is_ok() && line.contains("\"type\":\"reload\"") {
            reloads += 1;
        }
    }
    let log = server.log_since(from);
    let rebuilds = log
        .lines()
        .filter(|l| l.contains("re-rendered in") || l.contains("rebuilt in"))
        .count();
    assert_eq!(rebuilds, 1, "one rebuild for the checkout:\n{log}");
    assert!(
        log.lines().any(|l| l.contains(" more: ")),
        "the burst was one rebuild:\n{log}"
    );
    assert!(reloads < 30, "{reloads} reloads for one checkout:\n{log}");
    settles_to_clean_build(&server, site.root(), "checkout of 1,000 images", from);
}

/// The preview reads published images from disk: with the cache gone and nothing else changed,
/// asking for an output finds it missing, and the site is built (and its images made) again.
#[test]
fn outputs_deleted_under_the_preview_are_made_again_when_asked_for() {
    let site = image_site(2, 400, 300);
    let server = start(site.root());
    images_on_outputs(&server, 0);
    let from = server.log_len();
    std::fs::remove_dir_all(site.root().join(".docsite-cache")).unwrap();
    let (_, html) = get(&server.addr, "/a/");
    let src = html
        .split("<img src=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    assert_eq!(get(&server.addr, &src).0, 404, "{src} was deleted");
    images_on_outputs(&server, from);
    settles_to_clean_build(&server, site.root(), "outputs deleted", from);
}

#[test]
fn the_cache_removed_while_serving_is_filled_again() {
    let site = image_site(2, 400, 300);
    let server = start(site.root());
    images_on_outputs(&server, 0);
    let from = server.log_len();
    std::fs::remove_dir_all(site.root().join(".docsite-cache")).unwrap();
    // A change that needs outputs again: the image is encoded anew into a new cache.
    site.write_bytes(
        "content/img/s1.png",
        &common::images::png(&common::images::screenshot(420, 300, 77)),
    );
    images_on_outputs(&server, from);
    settles_to_clean_build(&server, site.root(), "cache removed", from);
    assert!(site.root().join(".docsite-cache/images").is_dir());
    assert_eq!(get(&server.addr, "/a/").0, 200);
}

/// A navigation file orders pages it is not part of: saving, changing and removing it reorders
/// every served page as a clean build would.
#[test]
fn a_saved_nav_file_reorders_every_page_as_a_clean_build() {
    let site = common::Site::new();
    site.write("content/_index.md", "---\ntitle: Home\n---\nHome.\n");
    for name in ["a", "b", "c"] {
        site.write(
            &format!("content/docs/{name}.md"),
            &format!("---\ntitle: Page {name}\n---\nText {name}.\n"),
        );
    }
    let server = start(site.root());
    settles_to_clean_build(&server, site.root(), "start", 0);
    let order = |html: &str| {
        let s = &html[html.find("id=\"sidebar\"").unwrap()..];
        let c = s.find(">C last<").or_else(|| s.find(">Page c<")).unwrap();
        let a = s.find(">A<").or_else(|| s.find(">Page a<")).unwrap();
        c < a
    };
    let from = server.log_len();
    site.write(
        "content/docs/_nav.md",
        "- [C last](c.md)\n- [A](a.md)\n- [B](b.md)\n",
    );
    settles_to_clean_build(&server, site.root(), "nav file added", from);
    assert!(order(&get(&server.addr, "/docs/b/").1), "the file's order");
    let from = server.log_len();
    site.write(
        "content/docs/_nav.md",
        "- [A](a.md)\n- [B](b.md)\n- [C last](c.md)\n",
    );
    settles_to_clean_build(&server, site.root(), "nav file changed", from);
    assert!(!order(&get(&server.addr, "/docs/b/").1));
    let from = server.log_len();
    std::fs::remove_file(site.root().join("content/docs/_nav.md")).unwrap();
    settles_to_clean_build(&server, site.root(), "nav file removed", from);
}
