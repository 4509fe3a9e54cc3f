//! `docsite verify`: the same verification from a terminal. It listens on loopback for the
//! provider's callback, hands the person a local start URL (which binds the browser with the flow
//! cookie, then redirects to the provider), and returns the report when the callback arrives or the
//! flow expires.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tokio::sync::oneshot;

use super::report::{Report, Verdict};
use super::secret::Secret;
use super::server::COOKIE;
use super::{CallbackOutcome, StartError, StartForm, Verifier, VerifyOptions, random_token};
use crate::error::{Error, ErrorKind, Location};
use crate::listen::{self, Tls};

/// What the command was given.
#[derive(Debug)]
pub struct CliOptions {
    /// The provider id.
    pub provider: String,
    /// The Instance URL (the provider's default when `None`).
    pub instance_url: Option<String>,
    /// The client ID.
    pub client_id: String,
    /// The secret, read from the environment or a no-echo prompt.
    pub secret: Secret,
    /// The Entra tenant.
    pub tenant: Option<String>,
    /// Scopes, space separated (the provider's defaults when `None`).
    pub scopes: Option<String>,
    /// The loopback port for the callback (it must match the registered callback URL).
    pub port: u16,
    /// Serve the callback over https.
    pub tls: Option<Tls>,
    /// The site's `[verify]` settings.
    pub config: crate::config::VerifyConfig,
    /// The site root (`ca_bundle` is relative to it).
    pub root: std::path::PathBuf,
}

struct Ctx {
    verifier: Arc<Verifier>,
    browser: String,
    nonce: String,
    authorize: String,
    done: Mutex<Option<oneshot::Sender<String>>>,
}

fn fail(message: String) -> Error {
    Error::new(
        ErrorKind::InvalidValue {
            key: "verify".into(),
            message,
        },
        Location::file("docsite verify"),
    )
}

/// Runs one verification. `on_start` gets the local URL to open in a browser.
pub fn run(options: CliOptions, on_start: impl FnOnce(&str, &str)) -> Result<Report, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the verifier", std::path::Path::new("."), &e))?;
    runtime.block_on(run_async(options, on_start))
}

async fn run_async(
    options: CliOptions,
    on_start: impl FnOnce(&str, &str),
) -> Result<Report, Error> {
    let verify_options = VerifyOptions::from_site(&options.config, &options.root).map_err(fail)?;
    let ttl = verify_options.flow_ttl;
    let verifier = Arc::new(Verifier::new(verify_options).map_err(fail)?);
    let bound = listen::bind("127.0.0.1", options.port, options.tls.as_ref()).await?;
    let origin = format!("{}://localhost:{}", bound.scheme(), bound.local.port());
    let browser = random_token();
    let info = super::providers::find(&options.provider)
        .map(|p| p.info())
        .ok_or_else(|| {
            fail(format!(
                "unknown provider `{}`; known: {}",
                options.provider,
                super::providers::ids().join(", ")
            ))
        })?;
    let form = StartForm {
        provider: options.provider.clone(),
        instance_url: options
            .instance_url
            .unwrap_or_else(|| info.default_instance_url.to_string()),
        display_name: info.name.to_string(),
        client_id: options.client_id,
        client_secret: options.secret,
        tenant: options.tenant.unwrap_or_else(|| "organizations".into()),
        scopes: options.scopes.unwrap_or_default(),
        page: "/".into(),
    };
    let started = verifier
        .start(form, &origin, &browser, IpAddr::V4(Ipv4Addr::LOCALHOST))
        .await
        .map_err(|e| match e {
            StartError::Fields(fields) => fail(
                fields
                    .iter()
                    .map(|(f, m)| format!("{f}: {m}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            StartError::Busy(m) => fail(m),
            StartError::Provider(d) => fail(format!("{} {}", d.detail, d.fix)),
        })?;
    let (tx, rx) = oneshot::channel();
    let ctx = Arc::new(Ctx {
        verifier: verifier.clone(),
        browser: browser.clone(),
        nonce: random_token(),
        authorize: started.authorize_url.clone(),
        done: Mutex::new(Some(tx)),
    });
    let start_url = format!("{origin}/start/{}", ctx.nonce);
    let app = Router::new()
        .route("/start/{nonce}", get(start))
        .route("/oauth/callback", get(callback))
        .with_state(ctx);
    let server = tokio::spawn(listen::run(bound, app, listen::Names::default()));
    on_start(&start_url, &started.callback_url);
    let id = tokio::select! {
        finished = rx => finished.ok(),
        () = tokio::time::sleep(ttl + Duration::from_secs(1)) => None,
    };
    server.abort();
    verifier.sweep();
    let id = id.unwrap_or(started.id);
    verifier
        .report(&id, Some(&browser))
        .ok_or_else(|| fail("the verification's result was lost".into()))
}

async fn start(State(ctx): State<Arc<Ctx>>, Path(nonce): Path<String>) -> Response {
    if nonce != ctx.nonce {
        return (StatusCode::NOT_FOUND, "unknown start link").into_response();
    }
    let mut r = StatusCode::SEE_OTHER.into_response();
    let headers = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&ctx.authorize) {
        headers.insert(header::LOCATION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{COOKIE}={}; Path=/; HttpOnly; SameSite=Lax",
        ctx.browser
    )) {
        headers.insert(header::SET_COOKIE, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn callback(
    State(ctx): State<Arc<Ctx>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query: BTreeMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let cookie = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(';')
                .find_map(|c| c.trim().strip_prefix(COOKIE)?.strip_prefix('='))
        })
        .map(str::to_string);
    let message = match ctx.verifier.callback(&query, cookie.as_deref()).await {
        CallbackOutcome::Finished { id, .. } => {
            let verdict = ctx
                .verifier
                .report(&id, Some(&ctx.browser))
                .map(|r| r.verdict);
            if let Some(tx) = ctx.done.lock().ok().and_then(|mut d| d.take()) {
                let _ = tx.send(id);
            }
            match verdict {
                Some(Verdict::Verified) => "Setup verified. The details are in the terminal.",
                _ => "Setup not verified. The terminal says what to fix.",
            }
        }
        CallbackOutcome::Refused(_) => {
            "This callback does not belong to the running verification. Open the start link the terminal printed."
        }
    };
    let mut r = Html(format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>docsite verify</title><p>{message}</p></html>"
    ))
    .into_response();
    r.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The report as terminal text: verdict, then one line per step with its fix.
pub fn to_text(report: &Report) -> String {
    use super::report::Status;
    let mut out = format!("{}\n", report.summary);
    for s in &report.steps {
        let mark = match s.status {
            Status::Pass => "ok  ",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
            Status::Pending => "wait",
        };
        out.push_str(&format!("  {mark} {}: {}\n", s.label, s.detail));
        if let Some(fix) = &s.fix {
            out.push_str(&format!("       fix: {fix}\n"));
        }
    }
    for w in &report.warnings {
        out.push_str(&format!("  note: {w}\n"));
    }
    out.push_str(&format!("  callback URL sent: {}\n", report.callback_url));
    out
}
