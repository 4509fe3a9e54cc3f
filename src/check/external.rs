//! Checking links to other sites (`docsite check --external`).
//!
//! Each URL is checked once however many pages link to it: concurrently, at most a few requests
//! at a time per host (so a docs site does not hammer one server), HEAD first and GET when a
//! server does not answer HEAD properly, with timeouts, retries with backoff, and `429
//! Retry-After` honoured. Definite answers are cached for a day in the cache folder.
//!
//! Precision: servers that refuse robots (401, 403, 429 after retries) and server errors give
//! warnings, not errors; only "this does not exist" (404, 410, no such host, refused
//! connection) is an error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::error::{Error, ErrorKind, Location};

/// How external links are checked.
#[derive(Debug, Clone)]
pub struct Options {
    /// Requests in flight at once, in all.
    pub concurrency: usize,
    /// Requests in flight at once to one host.
    pub per_host: usize,
    /// Time allowed for one request, from connecting to the end of the headers.
    pub timeout: Duration,
    /// Retries after a timeout, a reset, a 5xx or a 429.
    pub retries: u32,
    /// First backoff; doubled on each retry.
    pub backoff: Duration,
    /// The longest `Retry-After` honoured; longer ones count as a failed try.
    pub max_retry_after: Duration,
    /// Where results are cached (`None`: no cache).
    pub cache_dir: Option<PathBuf>,
    /// How long a cached result is trusted.
    pub cache_ttl: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            concurrency: 16,
            per_host: 2,
            timeout: Duration::from_secs(10),
            retries: 2,
            backoff: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(30),
            cache_dir: None,
            cache_ttl: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// One external URL and every place that links to it.
#[derive(Debug, Clone)]
pub struct Link {
    /// The URL (without its fragment).
    pub url: String,
    /// Where it is linked from.
    pub locations: Vec<Location>,
}

/// What checking a URL found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// It answered with a success (after redirects).
    Ok,
    /// It does not exist: an error.
    Broken(String),
    /// It could not be confirmed (blocked, server error, slow): a warning.
    Unsure(String),
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    /// URL → (checked at, in seconds since the epoch; outcome).
    entries: HashMap<String, (u64, Outcome)>,
}

const CACHE_FILE: &str = "external-links.json";

/// Checks every link and returns a finding for each location of a link that is not fine.
pub fn check(links: &[Link], options: &Options) -> Vec<Error> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut cache = options
        .cache_dir
        .as_deref()
        .map(load_cache)
        .unwrap_or_default();
    let ttl = options.cache_ttl.as_secs();
    let mut outcomes: HashMap<String, Outcome> = HashMap::new();
    let mut to_check: Vec<String> = Vec::new();
    for link in links {
        match cache.entries.get(&link.url) {
            Some((at, outcome)) if now.saturating_sub(*at) < ttl => {
                outcomes.insert(link.url.clone(), outcome.clone());
            }
            _ => to_check.push(link.url.clone()),
        }
    }
    to_check.sort();
    to_check.dedup();

    if !to_check.is_empty() {
        let checked = match run_checks(&to_check, options) {
            Ok(c) => c,
            Err(message) => {
                return vec![Error::new(
                    ErrorKind::ExternalLink {
                        url: String::new(),
                        detail: format!("could not start the link checker: {message}"),
                    },
                    Location::file("docsite.toml"),
                )];
            }
        };
        for (url, outcome) in checked {
            // Only answers that will still be true tomorrow are worth keeping.
            if !matches!(outcome, Outcome::Unsure(_)) {
                cache.entries.insert(url.clone(), (now, outcome.clone()));
            }
            outcomes.insert(url, outcome);
        }
        if let Some(dir) = &options.cache_dir {
            cache
                .entries
                .retain(|_, (at, _)| now.saturating_sub(*at) < ttl);
            // A cache that cannot be written only makes the next run slower.
            let _ = save_cache(dir, &cache);
        }
    }

    let mut findings = Vec::new();
    for link in links {
        let (detail, warning) = match outcomes.get(&link.url) {
            Some(Outcome::Broken(d)) => (d.clone(), false),
            Some(Outcome::Unsure(d)) => (d.clone(), true),
            _ => continue,
        };
        for loc in &link.locations {
            let e = Error::new(
                ErrorKind::ExternalLink {
                    url: link.url.clone(),
                    detail: detail.clone(),
                },
                loc.clone(),
            );
            findings.push(if warning { e.warning() } else { e });
        }
    }
    findings
}

fn run_checks(urls: &[String], options: &Options) -> Result<Vec<(String, Outcome)>, String> {
    let client = crate::http::client_builder()?
        .timeout(options.timeout)
        .redirect(reqwest::redirect::Policy::limited(10))
        .build()
        .map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let global = Arc::new(Semaphore::new(options.concurrency.max(1)));
        let mut per_host: HashMap<String, Arc<Semaphore>> = HashMap::new();
        let mut tasks = Vec::new();
        for url in urls {
            let host = reqwest::Url::parse(url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_default();
            let host_limit = per_host
                .entry(host)
                .or_insert_with(|| Arc::new(Semaphore::new(options.per_host.max(1))))
                .clone();
            let global = global.clone();
            let client = client.clone();
            let url = url.clone();
            let options = options.clone();
            tasks.push(tokio::spawn(async move {
                let Ok(_host) = host_limit.acquire_owned().await else {
                    return (url, Outcome::Unsure("checker stopped".into()));
                };
                let Ok(_slot) = global.acquire_owned().await else {
                    return (url, Outcome::Unsure("checker stopped".into()));
                };
                let outcome = check_one(&client, &url, &options).await;
                (url, outcome)
            }));
        }
        let mut out = Vec::new();
        for t in tasks {
            if let Ok(r) = t.await {
                out.push(r);
            }
        }
        Ok(out)
    })
}

/// One try's result: an outcome, or "try again" after a wait.
enum Try {
    Done(Outcome),
    Again(Option<Duration>, String),
}

async fn check_one(client: &reqwest::Client, url: &str, options: &Options) -> Outcome {
    let mut last = String::new();
    for attempt in 0..=options.retries {
        match try_once(client, url, options).await {
            Try::Done(outcome) => return outcome,
            Try::Again(wait, why) => {
                last = why;
                if attempt == options.retries {
                    break;
                }
                let backoff = options.backoff * 2u32.saturating_pow(attempt);
                tokio::time::sleep(wait.unwrap_or(backoff)).await;
            }
        }
    }
    Outcome::Unsure(last)
}

async fn try_once(client: &reqwest::Client, url: &str, options: &Options) -> Try {
    let head = client.head(url).send().await;
    let response = match head {
        // Many servers answer HEAD wrongly; their GET is the truth.
        Ok(r) if matches!(r.status().as_u16(), 400 | 403 | 404 | 405 | 406 | 501) => {
            client.get(url).send().await
        }
        other => other,
    };
    let response = match response {
        Ok(r) => r,
        Err(e) => return network_failure(url, &e),
    };
    let status = response.status();
    let code = status.as_u16();
    match code {
        200..=399 => Try::Done(Outcome::Ok),
        404 | 410 => Try::Done(Outcome::Broken(format!("the server answered {status}"))),
        429 => {
            let wait = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            match wait {
                Some(w) if w > options.max_retry_after => Try::Done(Outcome::Unsure(format!(
                    "rate limited: the server asks to wait {} s",
                    w.as_secs()
                ))),
                _ => Try::Again(wait, "rate limited (429) on every try".into()),
            }
        }
        401 | 403 => Try::Done(Outcome::Unsure(format!(
            "the server answered {status}: it may refuse automated checks; check it in a browser"
        ))),
        500..=599 => Try::Again(None, format!("the server answered {status} on every try")),
        _ => Try::Done(Outcome::Broken(format!("the server answered {status}"))),
    }
}

fn network_failure(url: &str, e: &reqwest::Error) -> Try {
    let host = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    if e.is_timeout() {
        return Try::Again(None, format!("no answer from {host} in time"));
    }
    // The most specific cause says what happened (DNS, refused, reset, TLS).
    let mut cause = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    let lower = cause.to_lowercase();
    if lower.contains("dns")
        || lower.contains("failed to lookup")
        || lower.contains("name or service")
    {
        Try::Done(Outcome::Broken(format!("no such host: {host} ({cause})")))
    } else if lower.contains("refused") {
        Try::Done(Outcome::Broken(format!("{host} refused the connection")))
    } else if lower.contains("certificate") || lower.contains("tls") {
        Try::Done(Outcome::Unsure(format!("TLS failure with {host}: {cause}")))
    } else {
        Try::Again(None, format!("connection to {host} failed: {cause}"))
    }
}

fn load_cache(dir: &Path) -> CacheFile {
    std::fs::read(dir.join(CACHE_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn save_cache(dir: &Path, cache: &CacheFile) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer(tmp.as_file_mut(), cache)?;
    tmp.persist(dir.join(CACHE_FILE)).map_err(|e| e.error)?;
    Ok(())
}
