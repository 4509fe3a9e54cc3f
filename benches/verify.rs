//! The verifier under load, over its real HTTP routes on loopback against a GitLab-style provider
//! stub: many flows at once (start, callback, result), the memory of many pending flows, and the
//! cost of expiring them.
//!
//! cargo bench --bench verify -- [--flows N] [--in-flight K] [--pending P]
//!
//! Defaults: 500 flows all at once, then the same 500 with 16 in flight, and 10,000 pending. Latency is measured inside the server (a
//! middleware around the verification routes, from request to response head) and, for
//! comparison, as the client's round trip on loopback. Memory is the process's VmRSS growth while
//! the pending flows are held. Without `--bench` (under `cargo test`) it does a small smoke run.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;
use axum::routing::{get, post};
use docsite::verify::net::NetPolicy;
use docsite::verify::secret::Secret;
use docsite::verify::server::{COOKIE, Mount, routes};
use docsite::verify::{StartForm, Verifier, VerifyOptions};

/// Server-side durations per route.
#[derive(Default)]
struct Timings {
    start: Vec<Duration>,
    callback: Vec<Duration>,
    result: Vec<Duration>,
}

async fn timed(State(t): State<Arc<Mutex<Timings>>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let begun = Instant::now();
    let response = next.run(request).await;
    let took = begun.elapsed();
    if let Ok(mut t) = t.lock() {
        match path.as_str() {
            "/api/verify" => t.start.push(took),
            "/oauth/callback" => t.callback.push(took),
            _ => t.result.push(took),
        }
    }
    response
}

const JSON: [(header::HeaderName, &str); 1] = [(header::CONTENT_TYPE, "application/json")];

/// A GitLab-style provider that accepts every code.
async fn provider() -> Result<String, String> {
    let app = Router::new()
        .route(
            "/oauth/token",
            post(|| async {
                (
                    JSON,
                    r#"{"access_token":"bench-token","token_type":"Bearer","expires_in":7200,"refresh_token":"r","scope":"api read_user","created_at":1767225600}"#,
                )
            }),
        )
        .route(
            "/api/v4/user",
            get(|| async { (JSON, r#"{"id":1,"username":"bench","name":"Bench"}"#) }),
        )
        .route(
            "/oauth/token/info",
            get(|| async {
                (
                    JSON,
                    r#"{"resource_owner_id":1,"scope":["api","read_user"],"expires_in":7199}"#,
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{addr}"))
}

fn options(ttl: Duration) -> VerifyOptions {
    VerifyOptions {
        net: NetPolicy {
            allow_insecure_loopback: true,
            ..NetPolicy::default()
        },
        flow_ttl: ttl,
        max_pending: 1_000_000,
        // One client address starts everything here; the limit is not what is measured.
        starts_per_minute: u32::MAX,
        ..VerifyOptions::default()
    }
}

/// The server: the verification routes behind the timing middleware.
async fn server(verifier: Arc<Verifier>, timings: Arc<Mutex<Timings>>) -> Result<String, String> {
    let app = routes(
        verifier,
        Mount {
            tls: false,
            public_origin: None,
            names: docsite::listen::Names::default(),
        },
    )
    .layer(from_fn_with_state(timings, timed));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Ok(format!("http://{addr}"))
}

/// Client-side round trips of one flow.
struct Trip {
    start: Duration,
    callback: Duration,
    result: Duration,
}

/// One whole flow as a browser makes it: the form's POST, the provider's redirect back, the
/// result page's fetch. Errors name the step.
async fn flow(client: &reqwest::Client, base: &str, provider: &str) -> Result<Trip, String> {
    let body = serde_json::json!({
        "provider": "gitlab",
        "instance_url": provider,
        "display_name": "Bench",
        "client_id": "bench-client",
        "client_secret": "bench-secret-value",
        "page": "/guide/",
    })
    .to_string();
    let t = Instant::now();
    let answer = client
        .post(format!("{base}/api/verify"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ORIGIN, base)
        .body(body)
        .send()
        .await
        .map_err(|e| format!("start: {e}"))?;
    let status = answer.status();
    // The browser's cookie is one the server made (a value the client picks is never adopted).
    let cookie = answer
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|v| v.contains(COOKIE))
        .unwrap_or_default()
        .to_string();
    let bytes = answer.bytes().await.map_err(|e| format!("start: {e}"))?;
    let start = t.elapsed();
    if status != 200 {
        return Err(format!(
            "start: HTTP {status}: {}",
            String::from_utf8_lossy(&bytes)
        ));
    }
    let started: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("start: {e}"))?;
    let id = started["id"].as_str().ok_or("start: no id")?.to_string();
    let authorize = url::Url::parse(started["authorize_url"].as_str().unwrap_or_default())
        .map_err(|e| format!("start: {e}"))?;
    let state = authorize
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .ok_or("start: no state")?;

    let t = Instant::now();
    let answer = client
        .get(format!(
            "{base}/oauth/callback?{}",
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("code", "bench-code")
                .append_pair("state", &state)
                .finish()
        ))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .map_err(|e| format!("callback: {e}"))?;
    let status = answer.status();
    let _ = answer.bytes().await;
    let callback = t.elapsed();
    if status != 303 {
        return Err(format!("callback: HTTP {status}"));
    }

    let t = Instant::now();
    let answer = client
        .get(format!("{base}/api/verify/{id}"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .map_err(|e| format!("result: {e}"))?;
    let bytes = answer.bytes().await.map_err(|e| format!("result: {e}"))?;
    let result = t.elapsed();
    let report: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("result: {e}"))?;
    if report["verdict"] != "verified" {
        return Err(format!("result: {report}"));
    }
    Ok(Trip {
        start,
        callback,
        result,
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn row(label: &str, mut times: Vec<Duration>, errors: usize, target: &str) {
    times.sort();
    println!(
        "{label:<34} {:>6} {:>10} {:>10} {:>10} {errors:>7}   {target}",
        times.len(),
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        ms(times.last().copied().unwrap_or_default()),
    );
}

/// The process's resident memory in bytes.
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn form(provider: &str, n: usize) -> StartForm {
    StartForm {
        provider: "gitlab".into(),
        instance_url: provider.to_string(),
        display_name: "Bench".into(),
        client_id: format!("bench-client-{n}"),
        client_secret: Secret::new(format!("bench-secret-value-{n:08}")),
        tenant: String::new(),
        scopes: String::new(),
        page: "/guide/".into(),
    }
}

/// Runs `flows` whole flows over HTTP with at most `in_flight` at a time, prints their table, and
/// returns the server-side p99 of all requests and the number of failed flows.
async fn flows_over_http(
    provider: &str,
    flows: usize,
    in_flight: usize,
) -> Result<(Duration, usize), String> {
    let verifier = Arc::new(Verifier::new(options(Duration::from_secs(600)))?);
    let timings = Arc::new(Mutex::new(Timings::default()));
    let base = server(verifier.clone(), timings.clone()).await?;
    let client = docsite::http::client_builder()?
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .pool_max_idle_per_host(flows)
        .build()
        .map_err(|e| e.to_string())?;
    // One warm-up flow, so first-use costs are not measured.
    flow(&client, &base, provider).await?;
    if let Ok(mut t) = timings.lock() {
        *t = Timings::default();
    }
    let gate = Arc::new(tokio::sync::Semaphore::new(in_flight));
    let wall = Instant::now();
    let tasks: Vec<_> = (0..flows)
        .map(|_| {
            let client = client.clone();
            let base = base.clone();
            let provider = provider.to_string();
            let gate = gate.clone();
            tokio::spawn(async move {
                let _permit = gate.acquire().await.map_err(|e| e.to_string())?;
                flow(&client, &base, &provider).await
            })
        })
        .collect();
    let mut trips = Vec::new();
    let mut errors = Vec::new();
    for task in tasks {
        match task.await {
            Ok(Ok(trip)) => trips.push(trip),
            Ok(Err(e)) => errors.push(e),
            Err(e) => errors.push(e.to_string()),
        }
    }
    let wall = wall.elapsed();
    let server_side = timings
        .lock()
        .map(|mut t| std::mem::take(&mut *t))
        .unwrap_or_default();
    println!(
        "\n{flows} flows, {in_flight} in flight at once (start → callback, which exchanges the code and makes 2 API calls → result): {:.2} s, {:.0} flows/s",
        wall.as_secs_f64(),
        flows as f64 / wall.as_secs_f64()
    );
    println!(
        "{:<34} {:>6} {:>10} {:>10} {:>10} {:>7}   target",
        "request", "n", "p50", "p99", "max", "errors"
    );
    let mut all: Vec<Duration> = Vec::new();
    all.extend(&server_side.start);
    all.extend(&server_side.callback);
    all.extend(&server_side.result);
    all.sort();
    let p99 = percentile(&all, 0.99);
    let failed = |step: &str| errors.iter().filter(|e| e.starts_with(step)).count();
    row(
        "POST /api/verify (server)",
        server_side.start,
        failed("start"),
        "p99 ≤ 20 ms",
    );
    row(
        "GET /oauth/callback (server)",
        server_side.callback,
        failed("callback"),
        "p99 ≤ 20 ms",
    );
    row(
        "GET /api/verify/{id} (server)",
        server_side.result,
        failed("result"),
        "p99 ≤ 20 ms",
    );
    row("all requests (server)", all, errors.len(), "p99 ≤ 20 ms");
    row(
        "POST /api/verify (client RTT)",
        trips.iter().map(|t| t.start).collect(),
        0,
        "",
    );
    row(
        "GET /oauth/callback (client RTT)",
        trips.iter().map(|t| t.callback).collect(),
        0,
        "",
    );
    row(
        "GET /api/verify/{id} (client RTT)",
        trips.iter().map(|t| t.result).collect(),
        0,
        "",
    );
    for e in errors.iter().take(5) {
        eprintln!("error: {e}");
    }
    Ok((p99, errors.len()))
}

/// Starts `pending` flows at library level; returns the verifier and the time each start took.
async fn start_many(
    provider: &str,
    pending: usize,
    ttl: Duration,
) -> Result<(Verifier, Vec<Duration>, usize), String> {
    let verifier = Verifier::new(options(ttl))?;
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut per_start = Vec::with_capacity(pending);
    let mut errors = 0;
    for n in 0..pending {
        let t = Instant::now();
        let browser = format!("bench-browser-{n:012}");
        if verifier
            .start(form(provider, n), "http://127.0.0.1:4000", &browser, ip)
            .await
            .is_err()
        {
            errors += 1;
        }
        per_start.push(t.elapsed());
    }
    Ok((verifier, per_start, errors))
}

async fn run(flows: usize, in_flight: usize, pending: usize) -> Result<bool, String> {
    let provider = provider().await?;

    // Scenario 1: whole flows over HTTP, all at once, then paced.
    let (burst_p99, burst_errors) = flows_over_http(&provider, flows, flows).await?;
    let paced = in_flight.clamp(1, flows.max(1));
    let (paced_p99, paced_errors) = flows_over_http(&provider, flows, paced).await?;

    // Scenario 2: many pending flows (started, never called back): memory, and the cost of each
    // start as they accumulate.
    let before = rss();
    let began = Instant::now();
    let (verifier, per_start, start_errors) =
        start_many(&provider, pending, Duration::from_secs(3600)).await?;
    let starting = began.elapsed();
    let after = rss();
    let held = verifier.pending();
    drop(verifier);
    let growth_mb = after.saturating_sub(before) as f64 / (1024.0 * 1024.0);
    let tenth = (pending / 10).max(1);
    let mean = |v: &[Duration]| v.iter().sum::<Duration>() / (v.len().max(1) as u32);
    let first = mean(&per_start[..tenth.min(per_start.len())]);
    let last = mean(&per_start[per_start.len().saturating_sub(tenth)..]);
    println!(
        "\n{pending} pending flows (library-level starts): {held} held, {start_errors} errors; VmRSS {:.1} MB → {:.1} MB: +{growth_mb:.1} MB, target ≤ 50 MB",
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
    );
    println!(
        "  starting them took {:.2} s; mean per start: first {tenth} {:.0} µs, last {tenth} {:.0} µs (each start sweeps every stored flow under the lock)",
        starting.as_secs_f64(),
        first.as_secs_f64() * 1e6,
        last.as_secs_f64() * 1e6,
    );

    // Scenario 3: all of them expiring at once. The TTL leaves room for starting them all (as long
    // as scenario 2 took, with a margin), and the sweep runs once the last one is overdue.
    let ttl = starting * 3 / 2 + Duration::from_secs(2);
    let (verifier, _, _) = start_many(&provider, pending, ttl).await?;
    let waiting = verifier.pending();
    tokio::time::sleep(ttl + Duration::from_millis(200)).await;
    let t = Instant::now();
    verifier.sweep();
    let sweep = t.elapsed();
    println!(
        "  {waiting} expiring at once: one sweep took {} with the flows lock held; {} left pending",
        ms(sweep),
        verifier.pending()
    );

    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!(
        "\ntargets: p99 ≤ 20 ms per request: {} with {flows} at once, {} with {paced} in flight; {pending} pending ≤ 50 MB: {}; errors: {}",
        verdict(burst_p99 <= Duration::from_millis(20)),
        verdict(paced_p99 <= Duration::from_millis(20)),
        verdict(growth_mb <= 50.0),
        burst_errors + paced_errors + start_errors,
    );
    Ok(burst_errors == 0 && paced_errors == 0 && start_errors == 0 && held == pending)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let benching = args.iter().any(|a| a == "--bench");
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<usize>().ok())
    };
    let flows = value("--flows").unwrap_or(if benching { 500 } else { 20 });
    let in_flight = value("--in-flight").unwrap_or(16);
    let pending = value("--pending").unwrap_or(if benching { 10_000 } else { 200 });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(flows, in_flight, pending)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("error: some flows failed");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
