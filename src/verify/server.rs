//! The HTTP face of the verifier, mounted by `docsite serve` and `docsite host`:
//! `GET /api/verify` (is the endpoint here?), `POST /api/verify` (start), `GET /oauth/callback`
//! (finish), `GET /api/verify/{id}` (the result). Every answer is `no-store`; the callback's also
//! `no-referrer`, because its URL carries the code.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::flow::Refusal;
use super::secret::Secret;
use super::{CallbackOutcome, StartError, StartForm, Verifier, random_token};

/// The cookie that binds a flow to the browser that started it.
pub const COOKIE: &str = "docsite_verify";

/// The same cookie under TLS: the `__Host-` prefix makes browsers refuse it unless it is
/// `Secure`, for path `/` and without a `Domain`, so a sibling subdomain cannot plant one.
pub const HOST_COOKIE: &str = "__Host-docsite_verify";

/// How the server is reached, which the endpoint needs to check origins and build callback URLs.
#[derive(Clone, Debug)]
pub struct Mount {
    /// Whether the server itself speaks https.
    pub tls: bool,
    /// The origin of `[verify] public_url`: requests for its host expect its scheme, whatever
    /// the listener speaks (a TLS proxy in front of a plain listener).
    pub public_origin: Option<String>,
    /// The names the server answers for.
    pub names: crate::listen::Names,
}

#[derive(Clone)]
struct Ctx {
    verifier: Arc<Verifier>,
    mount: Arc<Mount>,
    /// Signs the cookie values this server made, so a value a client chose is never adopted.
    cookie_key: [u8; 32],
}

/// The verification routes, ready to merge into a server's router. The server must be run with
/// `into_make_service_with_connect_info::<SocketAddr>()`, for the per-client rate limit.
pub fn routes(verifier: Arc<Verifier>, mount: Mount) -> Router {
    Router::new()
        .route("/api/verify", get(available).post(start))
        .route("/api/verify/{id}", get(result))
        .route("/oauth/callback", get(callback))
        .layer(DefaultBodyLimit::max(16 * 1024))
        .with_state(Ctx {
            verifier,
            mount: Arc::new(mount),
            cookie_key: *blake3::hash(random_token().as_bytes()).as_bytes(),
        })
}

fn no_store(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn json(status: StatusCode, value: serde_json::Value) -> Response {
    no_store((status, axum::Json(value)).into_response())
}

/// A small page for the cases a person lands on directly: refused callbacks, form errors.
fn page(status: StatusCode, title: &str, paragraphs: &[String]) -> Response {
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>",
    );
    let esc = |s: &str| {
        let mut out = String::new();
        let _ = pulldown_cmark_escape::escape_html(&mut out, s);
        out
    };
    html.push_str(&esc(title));
    html.push_str("</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}h1{font-size:1.5rem}</style></head><body><main><h1>");
    html.push_str(&esc(title));
    html.push_str("</h1>");
    for p in paragraphs {
        html.push_str("<p>");
        html.push_str(&esc(p));
        html.push_str("</p>");
    }
    // A link, not `history.back()`: the Content Security Policy runs no `javascript:` URL.
    html.push_str("<p><a href=\"/\">Back to the guide</a></p></main></body></html>");
    let mut response = (status, html).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    no_store(response)
}

/// The cookie's name on a server that does (`tls`) or does not speak https.
fn cookie_name(tls: bool) -> &'static str {
    if tls { HOST_COOKIE } else { COOKIE }
}

/// A new cookie value: a random token and its signature.
fn mint(key: &[u8; 32]) -> String {
    let token = random_token();
    let mac = blake3::keyed_hash(key, token.as_bytes()).to_hex();
    format!("{token}.{mac}")
}

/// The browser's cookie value, only if this server made it.
fn cookie(headers: &HeaderMap, key: &[u8; 32], tls: bool) -> Option<String> {
    let name = cookie_name(tls);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix(name)?.strip_prefix('='))
        .find(|v| {
            let Some((token, mac)) = v.split_once('.') else {
                return false;
            };
            // blake3::Hash compares in constant time.
            token.len() <= 64
                && blake3::Hash::from_hex(mac)
                    .is_ok_and(|mac| mac == blake3::keyed_hash(key, token.as_bytes()))
        })
        .map(str::to_string)
}

/// The `Set-Cookie` value for `value`.
fn set_cookie(value: &str, tls: bool) -> String {
    let secure = if tls { "; Secure" } else { "" };
    format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600{secure}",
        cookie_name(tls)
    )
}

/// The browser's origin, if the request is a same-origin post to a host this server is for.
fn origin(headers: &HeaderMap, mount: &Mount) -> Result<String, String> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .ok_or("The request has no Host header.")?;
    if !mount.names.allows(host) {
        return Err(format!(
            "This server does not answer verifications for the host `{host}`. Open the guide at the server's own address, or set `[verify] public_url` to the address you use."
        ));
    }
    let public = mount.public_origin.as_deref().filter(|public| {
        url::Url::parse(public).is_ok_and(|u| {
            let authority = match (u.host_str(), u.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_string(),
                _ => return false,
            };
            authority.eq_ignore_ascii_case(host)
        })
    });
    let expected = match public {
        Some(public) => public.trim_end_matches('/').to_string(),
        None => format!("{}://{host}", if mount.tls { "https" } else { "http" }),
    };
    match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        Some(o) if o.eq_ignore_ascii_case(&expected) => Ok(expected),
        Some(o) => Err(format!("The form was posted from {o}, not from {expected}. Only the guide's own page may start a verification.")),
        None => Err("The request has no Origin header, so it cannot be told apart from a cross-site post. Submit the form from the guide page in a current browser.".into()),
    }
}

fn parse_form(body: &[u8], is_json: bool) -> Result<StartForm, String> {
    if is_json {
        return serde_json::from_slice(body)
            .map_err(|e| format!("The request body is not the expected JSON: {e}."));
    }
    let mut form = StartForm {
        provider: String::new(),
        instance_url: String::new(),
        display_name: String::new(),
        client_id: String::new(),
        client_secret: Secret::new(String::new()),
        tenant: String::new(),
        scopes: String::new(),
        page: String::new(),
    };
    for (k, v) in url::form_urlencoded::parse(body) {
        match k.as_ref() {
            "provider" => form.provider = v.into_owned(),
            "instance_url" => form.instance_url = v.into_owned(),
            "display_name" => form.display_name = v.into_owned(),
            "client_id" => form.client_id = v.into_owned(),
            "client_secret" => form.client_secret = Secret::new(v.into_owned()),
            "tenant" => form.tenant = v.into_owned(),
            "scopes" => form.scopes = v.into_owned(),
            "page" => form.page = v.into_owned(),
            _ => {}
        }
    }
    Ok(form)
}

async fn available() -> Response {
    json(
        StatusCode::OK,
        serde_json::json!({ "ready": true, "providers": super::providers::ids() }),
    )
}

async fn start(
    State(ctx): State<Ctx>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let is_json = content_type.starts_with("application/json");
    let wants_json = is_json
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("application/json"));
    let fail = |status: StatusCode, errors: BTreeMap<&str, String>| {
        if wants_json {
            json(status, serde_json::json!({ "errors": errors }))
        } else {
            let lines: Vec<String> = errors.iter().map(|(f, m)| format!("{f}: {m}")).collect();
            page(status, "Verification not started", &lines)
        }
    };
    let origin = match origin(&headers, &ctx.mount) {
        Ok(o) => o,
        Err(e) => return fail(StatusCode::FORBIDDEN, BTreeMap::from([("form", e)])),
    };
    if !is_json && !content_type.starts_with("application/x-www-form-urlencoded") {
        return fail(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            BTreeMap::from([(
                "form",
                "Send the form as application/x-www-form-urlencoded or application/json."
                    .to_string(),
            )]),
        );
    }
    let form = match parse_form(&body, is_json) {
        Ok(f) => f,
        Err(e) => return fail(StatusCode::BAD_REQUEST, BTreeMap::from([("form", e)])),
    };
    let tls = ctx.mount.tls;
    let browser = cookie(&headers, &ctx.cookie_key, tls).unwrap_or_else(|| mint(&ctx.cookie_key));
    let started = ctx.verifier.start(form, &origin, &browser, peer.ip()).await;
    let started = match started {
        Ok(s) => s,
        Err(StartError::Fields(errors)) => return fail(StatusCode::BAD_REQUEST, errors),
        Err(StartError::Busy(message)) => {
            return fail(
                StatusCode::TOO_MANY_REQUESTS,
                BTreeMap::from([("form", message)]),
            );
        }
        Err(StartError::Provider(d)) => {
            let field = d.field.map_or("form", |f| f.name());
            return fail(
                StatusCode::BAD_GATEWAY,
                BTreeMap::from([(field, format!("{} {}", d.detail, d.fix))]),
            );
        }
    };
    let set_cookie = set_cookie(&browser, tls);
    let mut response = if wants_json {
        json(
            StatusCode::OK,
            serde_json::to_value(&started).unwrap_or_default(),
        )
    } else {
        let mut r = StatusCode::SEE_OTHER.into_response();
        if let Ok(v) = HeaderValue::from_str(&started.authorize_url) {
            r.headers_mut().insert(header::LOCATION, v);
        }
        no_store(r)
    };
    if let Ok(v) = HeaderValue::from_str(&set_cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

async fn callback(
    State(ctx): State<Ctx>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query: BTreeMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    if !query.contains_key("state") {
        return page(
            StatusCode::BAD_REQUEST,
            "Nothing to verify here",
            &["This address is where a Git provider sends the browser back after sign-in. It was opened without the `state` the provider adds, so there is no verification to finish.".into(),
              "Start the verification from the form in the guide.".into()],
        );
    }
    let browser = cookie(&headers, &ctx.cookie_key, ctx.mount.tls);
    match ctx.verifier.callback(&query, browser.as_deref()).await {
        CallbackOutcome::Finished { id, page: guide } => {
            let location = format!("{guide}?verify={id}#dsv-result");
            let mut r = StatusCode::SEE_OTHER.into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            no_store(r)
        }
        CallbackOutcome::Refused(Refusal::UnknownState) => page(
            StatusCode::BAD_REQUEST,
            "Unknown or used verification",
            &["This callback names a verification this server is not waiting for: it was already used, it expired, the server restarted, or the link was not made by this server.".into(),
              "Start the verification again from the guide's form.".into()],
        ),
        CallbackOutcome::Refused(Refusal::OtherBrowser) => page(
            StatusCode::FORBIDDEN,
            "Verification started in another browser",
            &["This sign-in was started in a different browser (or with its cookies cleared), so it cannot be finished here.".into(),
              "Start the verification again from the guide's form in this browser.".into()],
        ),
    }
}

async fn result(State(ctx): State<Ctx>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let browser = cookie(&headers, &ctx.cookie_key, ctx.mount.tls);
    match ctx.verifier.report(&id, browser.as_deref()) {
        Some(report) => json(
            StatusCode::OK,
            serde_json::to_value(&report).unwrap_or_default(),
        ),
        None => json(
            StatusCode::NOT_FOUND,
            serde_json::json!({ "error": "No verification with this id was started in this browser, or its result has been forgotten (results are kept 30 minutes)." }),
        ),
    }
}

/// The routes for a server bound at `local`, with the site's `[verify]` settings. The error is a
/// sentence naming the bad setting.
pub fn for_site(
    config: &crate::config::VerifyConfig,
    root: &std::path::Path,
    tls: bool,
) -> Result<Router, String> {
    let options = super::VerifyOptions::from_site(config, root)?;
    let public_origin = options.public_origin.clone();
    let verifier = Verifier::new(options)?;
    Ok(routes(
        Arc::new(verifier),
        Mount {
            tls,
            public_origin,
            names: crate::listen::Names::new(&config.public_url),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(host: &str, origin: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        h.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        h
    }

    fn mount(tls: bool, public: &str) -> Mount {
        Mount {
            tls,
            public_origin: super::super::parse_origin(public),
            names: crate::listen::Names::new(public),
        }
    }

    /// Behind a TLS proxy the listener speaks http, but browsers post from https.
    #[test]
    fn the_public_url_sets_the_expected_scheme() {
        let m = mount(false, "https://docs.example.com");
        let ok = origin(&headers("docs.example.com", "https://docs.example.com"), &m);
        assert_eq!(ok.as_deref(), Ok("https://docs.example.com"));
        assert!(origin(&headers("docs.example.com", "http://docs.example.com"), &m).is_err());
        // Loopback keeps the listener's scheme.
        assert_eq!(
            origin(&headers("127.0.0.1:4000", "http://127.0.0.1:4000"), &m).as_deref(),
            Ok("http://127.0.0.1:4000")
        );
    }

    #[test]
    fn only_cookies_this_server_made_are_adopted() {
        let key = [7u8; 32];
        let with = |name: &str, value: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                header::COOKIE,
                HeaderValue::from_str(&format!("a=b; {name}={value}")).unwrap(),
            );
            h
        };
        // A value the client chose, even well-formed, is not this server's.
        assert_eq!(
            cookie(&with(COOKIE, "attackerchosenvalue123"), &key, false),
            None
        );
        assert_eq!(
            cookie(
                &with(COOKIE, &format!("attacker.{}", "0".repeat(64))),
                &key,
                false
            ),
            None
        );
        let made = mint(&key);
        assert_eq!(
            cookie(&with(COOKIE, &made), &key, false).as_deref(),
            Some(made.as_str())
        );
        // Another server's key does not verify it.
        assert_eq!(cookie(&with(COOKIE, &made), &[8u8; 32], false), None);
        // Under TLS only the __Host- cookie counts.
        assert_eq!(cookie(&with(COOKIE, &made), &key, true), None);
        assert_eq!(
            cookie(&with(HOST_COOKIE, &made), &key, true).as_deref(),
            Some(made.as_str())
        );
    }

    #[test]
    fn the_cookie_is_host_prefixed_under_tls() {
        let tls = set_cookie("v", true);
        assert!(tls.starts_with("__Host-docsite_verify=v;"), "{tls}");
        for part in ["; Secure", "; Path=/", "; HttpOnly", "; SameSite=Lax"] {
            assert!(tls.contains(part), "{tls}");
        }
        assert!(!tls.contains("Domain"));
        let plain = set_cookie("v", false);
        assert!(
            plain.starts_with("docsite_verify=v;") && plain.contains("HttpOnly"),
            "{plain}"
        );
    }

    #[test]
    fn rebinding_names_cannot_post() {
        let m = mount(false, "");
        let e = origin(
            &headers("127.evil.example:4000", "http://127.evil.example:4000"),
            &m,
        );
        assert!(e.is_err());
    }
}
