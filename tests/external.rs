//! The external link checker against a real HTTP server on loopback that answers 200, 301, 404,
//! 429 with Retry-After, slowly, with a reset, and 405 to HEAD.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use docsite::Location;
use docsite::check::external::{Link, Options, check};

#[derive(Clone, Default)]
struct Hits(Arc<Mutex<HashMap<String, usize>>>);

impl Hits {
    fn count(&self, path: &str) -> usize {
        self.0.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

async fn answer(State(hits): State<Hits>, method: Method, uri: Uri) -> Response {
    let path = uri.path().to_string();
    let n = {
        let mut h = hits.0.lock().unwrap();
        let n = h.entry(path.clone()).or_default();
        *n += 1;
        *n
    };
    match path.as_str() {
        "/ok" => StatusCode::OK.into_response(),
        "/moved" => (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, "/ok")]).into_response(),
        "/missing" => StatusCode::NOT_FOUND.into_response(),
        "/busy" if n == 1 => {
            (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "1")]).into_response()
        }
        "/busy" => StatusCode::OK.into_response(),
        "/always-busy" => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "3600")],
        )
            .into_response(),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            StatusCode::OK.into_response()
        }
        "/no-head" if method == Method::HEAD => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        "/no-head" => StatusCode::OK.into_response(),
        "/forbidden" => StatusCode::FORBIDDEN.into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Starts the server on a free loopback port; also a raw listener that resets connections.
fn start() -> (String, String, Hits, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let hits = Hits::default();
    let app = Router::new().fallback(answer).with_state(hits.clone());
    let (base, reset) = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let raw = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let reset = format!("http://{}/reset", raw.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((sock, _)) = raw.accept().await {
                // Linger 0 turns the close into a TCP reset.
                let _ = sock.set_zero_linger();
                drop(sock);
            }
        });
        (base, reset)
    });
    (base, reset, hits, rt)
}

fn link(url: &str) -> Link {
    Link {
        url: url.to_string(),
        locations: vec![Location::at_line("content/a.md", "x\n", 1, 1)],
    }
}

fn options(cache: Option<&std::path::Path>) -> Options {
    Options {
        timeout: Duration::from_millis(800),
        retries: 2,
        backoff: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(5),
        cache_dir: cache.map(|p| p.to_path_buf()),
        ..Options::default()
    }
}

#[test]
fn each_answer_gets_the_right_finding() {
    let (base, reset, hits, _rt) = start();
    let urls: Vec<String> = [
        "/ok",
        "/moved",
        "/missing",
        "/busy",
        "/always-busy",
        "/slow",
        "/no-head",
        "/forbidden",
    ]
    .iter()
    .map(|p| format!("{base}{p}"))
    .chain([reset.clone()])
    .collect();
    let links: Vec<Link> = urls.iter().map(|u| link(u)).collect();
    let findings = check(&links, &options(None));
    let by_url: HashMap<String, (bool, String)> = findings
        .iter()
        .map(|e| match &e.kind {
            docsite::ErrorKind::ExternalLink { url, detail } => {
                (url.clone(), (e.is_error(), detail.clone()))
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    let at = |p: &str| by_url.get(&format!("{base}{p}")).cloned();
    assert_eq!(at("/ok"), None);
    assert_eq!(
        at("/moved"),
        None,
        "a redirect to a page that exists is fine"
    );
    assert_eq!(at("/busy"), None, "429 with Retry-After is retried");
    assert_eq!(hits.count("/busy"), 2);
    assert_eq!(at("/no-head"), None, "405 to HEAD falls back to GET");
    let missing = at("/missing").unwrap();
    assert!(missing.0 && missing.1.contains("404"), "{missing:?}");
    let slow = at("/slow").unwrap();
    assert!(!slow.0, "a slow server is a warning: {slow:?}");
    assert_eq!(hits.count("/slow"), 3, "tried once and retried twice");
    assert!(!at("/always-busy").unwrap().0);
    assert!(!at("/forbidden").unwrap().0, "bot-blocking is not an error");
    let reset_finding = by_url.get(&reset).expect("reset reported");
    assert!(
        !reset_finding.0,
        "a reset is reported after retries: {reset_finding:?}"
    );
    assert_eq!(findings.len(), 5, "{findings:#?}");
}

#[test]
fn results_are_cached_for_a_day() {
    let (base, _reset, hits, _rt) = start();
    let dir = tempfile::tempdir().unwrap();
    let links = vec![
        link(&format!("{base}/ok")),
        link(&format!("{base}/missing")),
    ];
    let first = check(&links, &options(Some(dir.path())));
    assert_eq!(first.len(), 1);
    let requests = hits.count("/ok") + hits.count("/missing");
    let second = check(&links, &options(Some(dir.path())));
    assert_eq!(second.len(), 1, "the cached 404 is still reported");
    assert_eq!(
        hits.count("/ok") + hits.count("/missing"),
        requests,
        "no new requests"
    );
    let expired = Options {
        cache_ttl: Duration::ZERO,
        ..options(Some(dir.path()))
    };
    check(&links, &expired);
    assert!(hits.count("/ok") + hits.count("/missing") > requests);
}

#[test]
fn per_host_limit_is_respected() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (f, p) = (in_flight.clone(), peak.clone());
    let app = Router::new().fallback(move || {
        let (f, p) = (f.clone(), p.clone());
        async move {
            let now = f.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            f.fetch_sub(1, Ordering::SeqCst);
            StatusCode::OK
        }
    });
    let base = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        base
    });
    let links: Vec<Link> = (0..12).map(|i| link(&format!("{base}/p{i}"))).collect();
    let findings = check(&links, &options(None));
    assert!(findings.is_empty(), "{findings:?}");
    assert!(
        peak.load(Ordering::SeqCst) <= 2,
        "peak {}",
        peak.load(Ordering::SeqCst)
    );
}

/// `[links] outside`: links to the rest of the website are checked against `base_url`'s
/// origin, and only when it has one.
#[test]
fn links_to_the_rest_of_the_website_are_checked_against_the_origin() {
    let (base, _reset, hits, _rt) = start();
    let site = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let path = site.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "docsite.toml",
        &format!("base_url = \"{base}/docs/\"\n[links]\noutside = [\"/ok\", \"/missing\"]\n"),
    );
    write(
        "content/a.md",
        "---\ntitle: A\n---\nSee [ok](/ok), [gone](/missing#top) and [b](b.md).\n",
    );
    write("content/b.md", "---\ntitle: B\n---\nB.\n");
    let loaded = docsite::build::load(site.path(), &Default::default()).unwrap();
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let links = docsite::check::external_links(&loaded);
    let urls: Vec<&str> = links.iter().map(|l| l.url.as_str()).collect();
    assert_eq!(urls, [format!("{base}/missing"), format!("{base}/ok")]);
    assert_eq!(links[0].locations[0].to_string(), "content/a.md:4:23");
    let findings = check(&links, &options(None));
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(findings[0].is_error());
    assert_eq!(findings[0].location.to_string(), "content/a.md:4:23");
    assert_eq!(hits.count("/ok"), 1);

    // With a base URL without a host, there is no origin to check them against.
    write(
        "docsite.toml",
        "base_url = \"/docs/\"\n[links]\noutside = [\"/ok\", \"/missing\"]\n",
    );
    let loaded = docsite::build::load(site.path(), &Default::default()).unwrap();
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert!(docsite::check::external_links(&loaded).is_empty());
}
