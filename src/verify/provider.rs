//! The one trait every Git provider implements, and the pieces they share: the standard
//! authorization-code exchange through the `oauth2` crate, reading a token response, API probes and
//! scope comparison.

use std::sync::Mutex;

use futures_util::future::BoxFuture;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, ResponseType, Scope, TokenUrl,
};
use url::Url;

use super::net::{Http, NetFailure, Raw};
use super::report::{Diagnosis, Field, Step};
use super::secret::Secret;

/// A scope by both of its names.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct ScopeName {
    /// The name the API and the authorize request use, e.g. `vso.code_full`.
    pub api: &'static str,
    /// The name the provider's registration page shows, e.g. `Code (full)`.
    pub ui: &'static str,
}

/// What the form and the messages need to know about a provider.
#[derive(Debug, serde::Serialize)]
pub struct ProviderInfo {
    /// The id used in frontmatter (`verify.provider`), e.g. `azure-devops`.
    pub id: &'static str,
    /// The provider's name, e.g. `Azure DevOps`.
    pub name: &'static str,
    /// The Instance URL the form is pre-filled with.
    pub default_instance_url: &'static str,
    /// What the provider calls the client ID.
    pub client_id_label: &'static str,
    /// What the provider calls the client secret.
    pub secret_label: &'static str,
    /// Where in the provider's UI the ID and secret are found.
    pub credentials_hint: &'static str,
    /// The scopes a guide asks for unless its frontmatter says otherwise.
    pub scopes: &'static [ScopeName],
    /// Whether scopes are fixed at registration rather than requested (Bitbucket).
    pub scopes_registered: bool,
    /// Whether the provider only accepts https callback URLs.
    pub https_callback_only: bool,
    /// Whether the form asks for a tenant (Microsoft Entra ID).
    pub needs_tenant: bool,
    /// Something to say before anyone registers anything, e.g. a deprecation.
    pub notice: Option<&'static str>,
}

impl ProviderInfo {
    /// The UI name of a scope, or the API name when the provider does not know it.
    pub fn ui_name(&self, api: &str) -> String {
        self.scopes
            .iter()
            .find(|s| s.api == api)
            .map(|s| format!("{} (`{}`)", s.ui, s.api))
            .unwrap_or_else(|| format!("`{api}`"))
    }
}

/// The values of one verification, as entered.
#[derive(Debug)]
pub struct FlowParams {
    /// The provider's base address.
    pub instance: Url,
    /// The Entra tenant (empty for other providers).
    pub tenant: String,
    /// The application's client ID.
    pub client_id: String,
    /// The application's secret.
    pub secret: Secret,
    /// The exact callback URL sent.
    pub redirect_uri: String,
    /// The scopes requested, by API name.
    pub scopes: Vec<String>,
}

/// A provider's endpoints for one flow, derived from the Instance URL (or discovered).
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// Where the browser is sent to consent.
    pub authorize: Url,
    /// Where the code is exchanged.
    pub token: Url,
    /// The API base the probes call.
    pub api: Url,
    /// A second base some providers need (Azure DevOps' profile service, OIDC's userinfo).
    pub extra: Option<Url>,
    /// Whether to send PKCE.
    pub pkce: bool,
    /// Whether the client authenticates with HTTP Basic at the token endpoint.
    pub basic_auth: bool,
}

/// An access token and what came with it. The token never leaves the server.
#[derive(Debug)]
pub struct Token {
    /// The token itself.
    pub access: Secret,
    /// The scopes the provider says it granted, when it says.
    pub scopes: Option<Vec<String>>,
    /// Seconds until it expires, when given.
    pub expires_in: Option<u64>,
}

/// One Git provider: how to start a flow, exchange a code, prove the token works, and explain
/// every way each of those fails.
pub trait Provider: Send + Sync {
    /// Names, labels and default scopes.
    fn info(&self) -> &'static ProviderInfo;

    /// The endpoints for this Instance URL. Most are derived; OIDC discovers them.
    fn endpoints<'a>(
        &'a self,
        http: &'a Http,
        params: &'a FlowParams,
    ) -> BoxFuture<'a, Result<Endpoints, Diagnosis>>;

    /// The URL the browser is sent to.
    fn authorize_url(
        &self,
        endpoints: &Endpoints,
        params: &FlowParams,
        state: &CsrfToken,
        pkce: Option<&PkceCodeChallenge>,
    ) -> Result<Url, Diagnosis> {
        standard_authorize_url(endpoints, params, state, pkce, "code", &[])
    }

    /// Exchanges the code for a token.
    fn exchange<'a>(
        &'a self,
        http: &'a Http,
        endpoints: &'a Endpoints,
        params: &'a FlowParams,
        code: String,
        verifier: Option<PkceCodeVerifier>,
    ) -> BoxFuture<'a, Result<Token, Diagnosis>> {
        Box::pin(async move {
            standard_exchange(http, endpoints, params, code, verifier, &[])
                .await
                .map_err(|f| self.token_error(params, &f))
        })
    }

    /// Explains a failed token request.
    fn token_error(&self, params: &FlowParams, failure: &ExchangeFailure) -> Diagnosis;

    /// Explains an `error` the provider sent to the callback.
    fn callback_error(&self, params: &FlowParams, error: &str, description: &str) -> Diagnosis {
        common_callback_error(self.info(), params, error, description)
    }

    /// Calls the API with the token: one step per probe, then one per requested scope.
    fn probes<'a>(
        &'a self,
        http: &'a Http,
        endpoints: &'a Endpoints,
        params: &'a FlowParams,
        token: &'a Token,
    ) -> BoxFuture<'a, Vec<Step>>;
}

/// A token request that did not give a token.
#[derive(Debug)]
pub enum ExchangeFailure {
    /// The provider could not be reached or its answer not read.
    Net(NetFailure),
    /// The provider answered, but not with a token.
    Answer {
        /// What it sent.
        raw: Raw,
        /// The OAuth `error` code, from `error` or Azure DevOps' `Error`.
        error: Option<String>,
        /// The provider's description.
        description: Option<String>,
    },
}

impl ExchangeFailure {
    /// A failure from a raw answer that is not a token.
    pub fn answer(raw: Raw) -> Self {
        let json = answer_fields(&raw);
        let get = |keys: &[&str]| {
            let json = json.as_ref()?;
            keys.iter()
                .find_map(|k| json.get(*k).and_then(|v| v.as_str()).map(str::to_string))
        };
        ExchangeFailure::Answer {
            error: get(&["error", "Error"]),
            description: get(&["error_description", "ErrorDescription", "message"]),
            raw,
        }
    }

    /// The diagnosis for failures every provider explains the same way: the network, an answer
    /// that is not JSON, an empty body. `None` when the provider must explain it itself.
    pub fn common(&self, info: &ProviderInfo) -> Option<Diagnosis> {
        match self {
            ExchangeFailure::Net(net) => Some(net.diagnosis()),
            // No token endpoint at this address: the Instance URL (or its path) is wrong, which the
            // answer's body, often a generic "Not Found", would not make clear.
            ExchangeFailure::Answer {
                raw, error: None, ..
            } if raw.status == 404 || raw.status == 405 => Some(Diagnosis::field(
                Field::InstanceUrl,
                format!(
                    "{}'s token endpoint is not at this address: it answered HTTP {} ({}).",
                    info.name,
                    raw.status,
                    excerpt(raw)
                ),
                format!(
                    "Check the Instance URL: it must be {}'s base address, including the path a self-managed instance is served under (such as https://git.example.com/gitlab).",
                    info.name
                ),
            )),
            ExchangeFailure::Answer {
                raw, error: None, ..
            } if raw.body.iter().all(u8::is_ascii_whitespace) => Some(Diagnosis::general(
                format!(
                    "{}'s token endpoint answered HTTP {} with an empty body.",
                    info.name, raw.status
                ),
                "Check that the Instance URL points at the provider itself and not at a proxy or another service, then verify again.",
            )),
            ExchangeFailure::Answer {
                raw, error: None, ..
            } if raw.is_html() => Some(Diagnosis::field(
                Field::InstanceUrl,
                format!(
                    "{}'s token endpoint answered HTTP {} with an HTML page instead of JSON: {}.",
                    info.name,
                    raw.status,
                    excerpt(raw)
                ),
                "Check that the Instance URL points at the provider itself (not a sign-in proxy or a web page), then verify again.",
            )),
            ExchangeFailure::Answer {
                raw, error: None, ..
            } => Some(Diagnosis::general(
                format!(
                    "{}'s token endpoint answered HTTP {} with something that is not a token: {}.",
                    info.name,
                    raw.status,
                    excerpt(raw)
                ),
                "Check that the Instance URL points at the provider itself, then verify again.",
            )),
            ExchangeFailure::Answer { .. } => None,
        }
    }

    /// `error: description` for messages.
    pub fn said(&self) -> String {
        match self {
            ExchangeFailure::Net(n) => n.to_string(),
            ExchangeFailure::Answer {
                raw,
                error,
                description,
            } => match (error, description) {
                (Some(e), Some(d)) => format!("HTTP {}: `{e}`: {d}", raw.status),
                (Some(e), None) => format!("HTTP {}: `{e}`", raw.status),
                _ => format!("HTTP {}: {}", raw.status, excerpt(raw)),
            },
        }
    }
}

/// Builds an authorize URL with the `oauth2` crate: client ID, redirect, scopes, state, PKCE.
pub fn standard_authorize_url(
    endpoints: &Endpoints,
    params: &FlowParams,
    state: &CsrfToken,
    pkce: Option<&PkceCodeChallenge>,
    response_type: &str,
    extra: &[(&str, &str)],
) -> Result<Url, Diagnosis> {
    let redirect = RedirectUrl::new(params.redirect_uri.clone()).map_err(|e| {
        Diagnosis::field(
            Field::CallbackUrl,
            format!(
                "The callback URL `{}` is not valid: {e}.",
                params.redirect_uri
            ),
            "Open the guide through the address your browser should come back to.",
        )
    })?;
    let client = BasicClient::new(ClientId::new(params.client_id.clone()))
        .set_auth_uri(AuthUrl::from_url(endpoints.authorize.clone()))
        .set_redirect_uri(redirect);
    let state = state.clone();
    let mut request = client
        .authorize_url(move || state)
        .set_response_type(&ResponseType::new(response_type.to_string()));
    if !params.scopes.is_empty() {
        request = request.add_scope(Scope::new(params.scopes.join(" ")));
    }
    if let Some(challenge) = pkce {
        request = request.set_pkce_challenge(challenge.clone());
    }
    for (k, v) in extra {
        request = request.add_extra_param(*k, *v);
    }
    Ok(request.url().0)
}

/// The standard authorization-code grant through the `oauth2` crate, over the verifier's own
/// client so the policy, the timeouts and the body cap apply. The raw answer is kept, because the
/// crate's parsed error drops the status and the providers that do not follow the standard
/// (GitHub's HTTP 200 errors, Bitbucket's `scopes`) need the body.
pub async fn standard_exchange(
    http: &Http,
    endpoints: &Endpoints,
    params: &FlowParams,
    code: String,
    verifier: Option<PkceCodeVerifier>,
    extra: &[(&'static str, String)],
) -> Result<Token, ExchangeFailure> {
    let redirect = RedirectUrl::new(params.redirect_uri.clone()).map_err(|e| {
        ExchangeFailure::Net(NetFailure::Transport {
            host: String::new(),
            message: e.to_string(),
        })
    })?;
    let client = BasicClient::new(ClientId::new(params.client_id.clone()))
        .set_client_secret(ClientSecret::new(params.secret.expose().to_string()))
        .set_auth_uri(AuthUrl::from_url(endpoints.authorize.clone()))
        .set_token_uri(TokenUrl::from_url(endpoints.token.clone()))
        .set_redirect_uri(redirect)
        .set_auth_type(if endpoints.basic_auth {
            AuthType::BasicAuth
        } else {
            AuthType::RequestBody
        });
    let recorder = Recorder {
        http: http.clone(),
        seen: Mutex::new(None),
    };
    let mut request = client.exchange_code(AuthorizationCode::new(code));
    if let Some(verifier) = verifier {
        request = request.set_pkce_verifier(verifier);
    }
    for (k, v) in extra {
        request = request.add_extra_param(*k, v.clone());
    }
    let result = request.request_async(&recorder).await;
    let raw = recorder.seen.lock().ok().and_then(|mut s| s.take());
    // The crate refuses token answers that real providers send: a `text/plain` label, no
    // `token_type`, `expires_in` as a string. A success status with an access token is a token,
    // whatever the crate thought of it; otherwise the body would be reported, token and all.
    if let Some(token) = raw.as_ref().and_then(success_token) {
        return Ok(token);
    }
    match (result, raw) {
        (Ok(_), Some(raw)) => token_from(&raw).ok_or_else(|| ExchangeFailure::answer(raw)),
        (Err(oauth2::RequestTokenError::Request(net)), _) => Err(ExchangeFailure::Net(net)),
        (_, Some(raw)) => Err(ExchangeFailure::answer(raw)),
        (Err(e), None) => Err(ExchangeFailure::Net(NetFailure::Transport {
            host: endpoints.token.host_str().unwrap_or_default().to_string(),
            message: e.to_string(),
        })),
        (Ok(_), None) => Err(ExchangeFailure::Net(NetFailure::Transport {
            host: endpoints.token.host_str().unwrap_or_default().to_string(),
            message: "no answer was recorded".into(),
        })),
    }
}

/// The `oauth2` crate's HTTP client: the verifier's own client, keeping the last raw answer.
struct Recorder {
    http: Http,
    seen: Mutex<Option<Raw>>,
}

impl<'c> oauth2::AsyncHttpClient<'c> for Recorder {
    type Error = NetFailure;
    type Future = BoxFuture<'c, Result<oauth2::HttpResponse, NetFailure>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let builder = self
                .http
                .client()
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body);
            let raw = self.http.send(builder).await?;
            let response = http::Response::builder()
                .status(raw.status)
                .header(http::header::CONTENT_TYPE, raw.content_type.clone())
                .body(raw.body.clone())
                .map_err(|e| NetFailure::Transport {
                    host: String::new(),
                    message: e.to_string(),
                });
            if let Ok(mut slot) = self.seen.lock() {
                *slot = Some(raw);
            }
            response
        })
    }
}

/// The token in a successful answer (any 2xx but 203, which Azure DevOps uses for sign-in pages).
pub fn success_token(raw: &Raw) -> Option<Token> {
    ((200..300).contains(&raw.status) && raw.status != 203)
        .then(|| token_from(raw))
        .flatten()
}

/// The fields of a token endpoint's answer: a JSON object, or a form-encoded body (GitHub's answer
/// when the Accept header is ignored, e.g. by a proxy in front of an old Enterprise Server).
fn answer_fields(raw: &Raw) -> Option<serde_json::Value> {
    if let Some(json) = raw.json() {
        return json.is_object().then_some(json);
    }
    let text = std::str::from_utf8(&raw.body).ok()?.trim();
    let form_like = !text.is_empty()
        && !text.contains(char::is_whitespace)
        && text.split('&').all(|pair| pair.contains('='));
    if !form_like {
        return None;
    }
    let map: serde_json::Map<String, serde_json::Value> =
        url::form_urlencoded::parse(text.as_bytes())
            .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
            .collect();
    Some(serde_json::Value::Object(map))
}

/// Fields whose values are credentials: what a token endpoint returns, and what a request carried
/// if an answer echoes it.
const SENSITIVE: [&str; 6] = [
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "client_assertion",
    "assertion",
];

/// `text` with the value after every credential field name replaced, in JSON (`"key": "v"`) and
/// form (`key=v`) syntax alike.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, len)) = SENSITIVE
        .iter()
        .filter_map(|k| rest.find(k).map(|i| (i, k.len())))
        .min()
    {
        let (head, tail) = rest.split_at(at + len);
        out.push_str(head);
        let sep_len = tail
            .find(|c: char| !(matches!(c, '"' | '\'' | ':' | '=' | '\\') || c.is_whitespace()))
            .unwrap_or(tail.len());
        let (sep, value) = tail.split_at(sep_len);
        out.push_str(sep);
        // `client_assertion_type` and the like are names, not values: only a separator starts one.
        if !sep.contains([':', '=']) {
            rest = value;
            continue;
        }
        let value_len = value
            .find(|c: char| matches!(c, '"' | '\'' | '&' | ',' | '}' | '\\') || c.is_whitespace())
            .unwrap_or(value.len());
        if value_len > 0 {
            out.push_str("<redacted>");
        }
        rest = &value[value_len..];
    }
    out.push_str(rest);
    out
}

/// The start of a provider's answer for a message, with any credential in it redacted.
pub fn excerpt(raw: &Raw) -> String {
    let text = String::from_utf8_lossy(&raw.body);
    if !SENSITIVE.iter().any(|k| text.contains(k)) {
        return raw.excerpt();
    }
    Raw {
        status: raw.status,
        content_type: raw.content_type.clone(),
        oauth_scopes: None,
        body: redact(&text).into_bytes(),
    }
    .excerpt()
}

/// Reads a token answer, tolerating the providers' variations: `expires_in` as a string (Azure
/// DevOps), `scope` as a string or a list, Bitbucket's `scopes`, a form-encoded body.
pub fn token_from(raw: &Raw) -> Option<Token> {
    let json = answer_fields(raw)?;
    // Some servers send `"error": null` beside a token; only an actual error voids it.
    let has = |k: &str| json.get(k).is_some_and(|v| !v.is_null());
    if has("error") || has("Error") {
        return None;
    }
    let access = json.get("access_token")?.as_str()?.to_string();
    let scopes = ["scope", "scopes"]
        .iter()
        .find_map(|k| match json.get(*k)? {
            serde_json::Value::String(s) => Some(
                s.split([' ', ','])
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
            serde_json::Value::Array(a) => Some(
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
            ),
            _ => None,
        });
    let expires_in = match json.get("expires_in") {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    Some(Token {
        access: Secret::new(access),
        scopes,
        expires_in,
    })
}

/// Callback errors every provider reports the same way.
pub fn common_callback_error(
    info: &ProviderInfo,
    params: &FlowParams,
    error: &str,
    description: &str,
) -> Diagnosis {
    let said = if description.is_empty() {
        format!("{} sent back `error={error}`.", info.name)
    } else {
        format!("{} sent back `error={error}`: {description}.", info.name)
    };
    match error {
        "access_denied" => Diagnosis::general(
            format!("{said} The person signing in declined the consent page."),
            format!(
                "Verify again and click Authorize (or Accept) on {}'s consent page.",
                info.name
            ),
        ),
        "redirect_uri_mismatch" => Diagnosis::field(
            Field::CallbackUrl,
            format!(
                "{said} The callback URL sent was `{}`.",
                params.redirect_uri
            ),
            format!(
                "Register exactly `{}` as the application's callback URL (scheme, host, port and path; no trailing slash), then verify again.",
                params.redirect_uri
            ),
        ),
        "invalid_scope" | "InvalidScope" => Diagnosis::field(
            Field::Scopes,
            format!("{said} Requested: {}.", scope_list(info, &params.scopes)),
            format!(
                "Allow exactly these scopes on the application in {}: {}.",
                info.name,
                scope_list(info, &params.scopes)
            ),
        ),
        "unauthorized_client" | "invalid_client" => Diagnosis::field(
            Field::ClientId,
            said,
            format!(
                "Check the {} field: {}",
                info.client_id_label, info.credentials_hint
            ),
        ),
        "application_suspended" => Diagnosis::general(
            said,
            format!(
                "The application is suspended in {}; an owner of the application must restore it.",
                info.name
            ),
        ),
        _ => Diagnosis::general(
            said,
            format!(
                "Look up `{error}` in {}'s OAuth documentation; fix the application's settings and verify again.",
                info.name
            ),
        ),
    }
}

/// Scopes by UI and API name, for messages.
pub fn scope_list(info: &ProviderInfo, scopes: &[String]) -> String {
    scopes
        .iter()
        .map(|s| info.ui_name(s))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One scope step per requested scope, judged against the scopes the provider reports granted.
/// `implied` says which granted scope also covers a requested one (GitHub's `user` covers
/// `read:user`).
pub fn scope_steps(
    info: &ProviderInfo,
    requested: &[String],
    granted: Option<&[String]>,
    implied: &dyn Fn(&str, &str) -> bool,
) -> Vec<Step> {
    requested
        .iter()
        .map(|scope| {
            let id = format!("scope:{scope}");
            let label = format!("Scope {} granted", info.ui_name(scope));
            match granted {
                None => Step::pass(
                    id,
                    label,
                    format!("{} does not list granted scopes; the API checks above passed with this token.", info.name),
                ),
                Some(granted) if granted.iter().any(|g| g == scope || implied(g, scope)) => {
                    Step::pass(id, label, format!("Granted: {}.", granted.join(" ")))
                }
                Some(granted) => Step::fail(
                    id,
                    label,
                    Diagnosis::field(
                        Field::Scopes,
                        format!(
                            "The token lacks {}. {} granted: {}.",
                            info.ui_name(scope),
                            info.name,
                            if granted.is_empty() { "nothing".to_string() } else { granted.join(" ") }
                        ),
                        format!(
                            "Allow {} on the application in {}, and leave it ticked on the consent page, then verify again.",
                            info.ui_name(scope),
                            info.name
                        ),
                    ),
                ),
            }
        })
        .collect()
}

/// A GET with the token as a bearer, for probes.
pub async fn get_with_token(http: &Http, url: Url, token: &Token) -> Result<Raw, NetFailure> {
    http.send(
        http.client()
            .get(url)
            .bearer_auth(token.access.expose())
            .header("accept", "application/json"),
    )
    .await
}

/// A probe's step from the answer: pass on 2xx JSON, else a diagnosis of the status.
pub fn probe_step(
    info: &ProviderInfo,
    id: &str,
    label: &str,
    answer: &Result<Raw, NetFailure>,
    describe: impl Fn(&serde_json::Value) -> String,
) -> Step {
    match answer {
        Err(net) => Step::fail(id, label, net.diagnosis()),
        Ok(raw) if (200..300).contains(&raw.status) && raw.status != 203 => match raw.json() {
            Some(json) => Step::pass(id, label, describe(&json)),
            None => Step::fail(
                id,
                label,
                Diagnosis::field(
                    Field::InstanceUrl,
                    format!(
                        "The API answered HTTP {} with something that is not JSON: {}.",
                        raw.status,
                        excerpt(raw)
                    ),
                    "Check that the Instance URL points at the provider's API, not a web page or proxy.",
                ),
            ),
        },
        Ok(raw) if raw.status == 401 || raw.status == 403 => Step::fail(
            id,
            label,
            Diagnosis::field(
                Field::Scopes,
                format!(
                    "The API refused the new token with HTTP {}: {}.",
                    raw.status,
                    excerpt(raw)
                ),
                format!(
                    "The token lacks a permission this call needs. Check the scopes of the application in {}: {}.",
                    info.name,
                    info.scopes
                        .iter()
                        .map(|s| format!("{} (`{}`)", s.ui, s.api))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        ),
        Ok(raw) => Step::fail(
            id,
            label,
            Diagnosis::general(
                format!("The API answered HTTP {}: {}.", raw.status, excerpt(raw)),
                "Verify again; if it persists, check the provider's status page.",
            ),
        ),
    }
}

/// `base` joined with a path, keeping any path the base already has (`https://host/gitlab`).
pub fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!(
        "{}/{}",
        base.path().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    match path.split_once('?') {
        Some((p, q)) => {
            url.set_path(&format!(
                "{}/{}",
                base.path().trim_end_matches('/'),
                p.trim_start_matches('/')
            ));
            url.set_query(Some(q));
        }
        None => url.set_path(&joined),
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(status: u16, body: &str) -> Raw {
        Raw {
            status,
            content_type: "application/json".into(),
            oauth_scopes: None,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn token_answers_vary_and_are_all_read() {
        let t = token_from(&raw(
            200,
            r#"{"access_token":"a","expires_in":"3599","scope":"vso.code vso.profile"}"#,
        ))
        .unwrap();
        assert_eq!(t.expires_in, Some(3599));
        assert_eq!(t.scopes.unwrap(), ["vso.code", "vso.profile"]);
        let t = token_from(&raw(
            200,
            r#"{"access_token":"a","scopes":"account repository"}"#,
        ))
        .unwrap();
        assert_eq!(t.scopes.unwrap(), ["account", "repository"]);
        let t = token_from(&raw(
            200,
            r#"{"access_token":"a","scope":["api","read_user"]}"#,
        ))
        .unwrap();
        assert_eq!(t.scopes.unwrap(), ["api", "read_user"]);
        assert!(token_from(&raw(200, r#"{"error":"bad_verification_code"}"#)).is_none());
        assert!(token_from(&raw(200, "<html>")).is_none());
    }

    #[test]
    fn pascal_case_errors_are_read() {
        match ExchangeFailure::answer(raw(
            400,
            r#"{"Error":"invalid_client","ErrorDescription":"nope"}"#,
        )) {
            ExchangeFailure::Answer {
                error, description, ..
            } => {
                assert_eq!(error.as_deref(), Some("invalid_client"));
                assert_eq!(description.as_deref(), Some("nope"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn credentials_are_redacted_from_excerpts() {
        let r = raw(
            400,
            r#"{"access_token":"tok-1","token_type":"bearer","refresh_token": "ref-2","id_token":null}"#,
        );
        let e = excerpt(&r);
        assert!(!e.contains("tok-1") && !e.contains("ref-2"), "{e}");
        assert!(e.contains("token_type") && e.contains("bearer"), "{e}");
        let form =
            redact("client_assertion_type=urn%3Ax&client_assertion=sec-3&assertion=code-4&x=1");
        assert_eq!(
            form,
            "client_assertion_type=urn%3Ax&client_assertion=<redacted>&assertion=<redacted>&x=1"
        );
        let echoed = redact(r#"upstream: {\"client_secret\":\"sec-5\"}"#);
        assert!(!echoed.contains("sec-5"), "{echoed}");
        assert_eq!(redact("no credentials here"), "no credentials here");
    }

    #[test]
    fn form_encoded_answers_are_read() {
        let mut r = raw(200, "access_token=a&scope=repo%2Cuser&token_type=bearer");
        r.content_type = "application/x-www-form-urlencoded".into();
        let t = token_from(&r).unwrap();
        assert_eq!(t.scopes.unwrap(), ["repo", "user"]);
        match ExchangeFailure::answer(raw(
            200,
            "error=bad_verification_code&error_description=old",
        )) {
            ExchangeFailure::Answer {
                error, description, ..
            } => {
                assert_eq!(error.as_deref(), Some("bad_verification_code"));
                assert_eq!(description.as_deref(), Some("old"));
            }
            other => panic!("{other:?}"),
        }
        // Prose is not a form.
        assert!(answer_fields(&raw(502, "Bad Gateway")).is_none());
        assert!(success_token(&raw(203, r#"{"access_token":"a"}"#)).is_none());
    }

    #[test]
    fn join_keeps_the_base_path() {
        let base = Url::parse("https://h.example/gitlab/").unwrap();
        assert_eq!(
            join(&base, "/oauth/token").as_str(),
            "https://h.example/gitlab/oauth/token"
        );
        assert_eq!(
            join(&base, "api/v4/user?x=1").as_str(),
            "https://h.example/gitlab/api/v4/user?x=1"
        );
    }
}
