//! Setup verification: a guide's form runs the real OAuth flow against the provider the person
//! names, then calls its API with the token, and says exactly what is wrong and how to fix it.
//!
//! [`Verifier`] owns the pending flows and the HTTP client; [`server`] puts it behind
//! `POST /api/verify`, `GET /oauth/callback` and `GET /api/verify/{id}`; each provider is a file in
//! `providers/` behind the [`provider::Provider`] trait. Secrets are [`secret::Secret`]s: held by
//! one pending flow, sent only to that flow's provider, dropped when it ends.

pub mod cli;
pub mod flow;
pub mod form;
pub mod net;
pub mod provider;
pub mod providers;
pub mod report;
pub mod secret;
pub mod server;
pub mod special;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oauth2::{CsrfToken, PkceCodeChallenge};
use serde::Deserialize;
use url::Url;

use flow::{Flows, Pending, Refusal, consent_step};
use net::{Http, NetPolicy};
use provider::FlowParams;
use report::{Diagnosis, Field, Report, Status, Step};
use secret::Secret;

/// Limits and policy of the verifier (`[verify]` in docsite.toml).
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Which addresses may be contacted.
    pub net: NetPolicy,
    /// How long a flow waits for its callback.
    pub flow_ttl: Duration,
    /// How many flows may wait at once.
    pub max_pending: usize,
    /// How many flows one client address may start per minute.
    pub starts_per_minute: u32,
    /// The timeout of each request to a provider.
    pub request_timeout: Duration,
    /// The origin people reach this server at, when it is not the one the browser shows (a proxy).
    pub public_origin: Option<String>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            net: NetPolicy::default(),
            flow_ttl: Duration::from_secs(600),
            max_pending: 10_000,
            starts_per_minute: 30,
            request_timeout: Duration::from_secs(15),
            public_origin: None,
        }
    }
}

impl VerifyOptions {
    /// The options `[verify]` in docsite.toml asks for, with `ca_bundle` read relative to
    /// `root`. The error names the bad entry.
    pub fn from_site(
        config: &crate::config::VerifyConfig,
        root: &std::path::Path,
    ) -> Result<VerifyOptions, String> {
        let mut options = Self::from_config(config)?;
        if !config.ca_bundle.is_empty() {
            use rustls::pki_types::CertificateDer;
            use rustls::pki_types::pem::PemObject;
            let path = root.join(&config.ca_bundle);
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&path)
                .and_then(|i| i.collect::<Result<_, _>>())
                .map_err(|e| format!("`[verify] ca_bundle` {}: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!(
                    "`[verify] ca_bundle` {} holds no PEM certificate",
                    path.display()
                ));
            }
            options.net.extra_roots = certs.into_iter().map(|c| c.to_vec()).collect();
        }
        Ok(options)
    }

    /// The options `[verify]` in docsite.toml asks for. The error names the bad entry.
    pub fn from_config(config: &crate::config::VerifyConfig) -> Result<VerifyOptions, String> {
        let allowed_networks = config
            .allow_networks
            .iter()
            .map(|n| {
                n.parse().map_err(|e| {
                    format!("`[verify] allow_networks` entry `{n}` is not a network ({e}); write it as CIDR, e.g. `10.20.0.0/16`")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let public_origin = if config.public_url.is_empty() {
            None
        } else {
            Some(parse_origin(&config.public_url).ok_or_else(|| {
                format!("`[verify] public_url` `{}` is not a URL; write it like `https://docs.example.com`", config.public_url)
            })?)
        };
        if config.flow_seconds == 0 || config.max_pending == 0 || config.starts_per_minute == 0 {
            return Err(
                "`[verify]` flow_seconds, max_pending and starts_per_minute must be above 0".into(),
            );
        }
        Ok(VerifyOptions {
            net: NetPolicy {
                allow_insecure_loopback: config.allow_insecure_loopback,
                allowed_networks,
                extra_roots: Vec::new(),
            },
            flow_ttl: Duration::from_secs(config.flow_seconds),
            max_pending: config.max_pending,
            starts_per_minute: config.starts_per_minute,
            request_timeout: Duration::from_secs(15),
            public_origin,
        })
    }
}

/// The fields of the form, as posted (form-encoded or JSON).
#[derive(Debug, Deserialize)]
pub struct StartForm {
    /// The provider id.
    #[serde(default)]
    pub provider: String,
    /// The provider's base address.
    #[serde(default)]
    pub instance_url: String,
    /// The name the provider will have in the product.
    #[serde(default)]
    pub display_name: String,
    /// The application's client ID.
    #[serde(default)]
    pub client_id: String,
    /// The application's secret.
    #[serde(default = "empty_secret")]
    pub client_secret: Secret,
    /// The Entra tenant.
    #[serde(default)]
    pub tenant: String,
    /// Space-separated scopes; the provider's defaults when empty.
    #[serde(default)]
    pub scopes: String,
    /// The guide page to come back to.
    #[serde(default)]
    pub page: String,
}

fn empty_secret() -> Secret {
    Secret::new(String::new())
}

/// A started flow: where to send the browser.
#[derive(Debug, serde::Serialize)]
pub struct Started {
    /// The flow's id, for `GET /api/verify/{id}`.
    pub id: String,
    /// The provider's authorize URL.
    pub authorize_url: String,
    /// The callback URL sent.
    pub callback_url: String,
    /// Warnings to show before leaving.
    pub warnings: Vec<String>,
}

/// Why a start was refused.
#[derive(Debug)]
pub enum StartError {
    /// Fields to fix: field name → message.
    Fields(BTreeMap<&'static str, String>),
    /// Too many starts from this address, or too many pending flows.
    Busy(String),
    /// The provider could not be prepared (discovery failed).
    Provider(Diagnosis),
}

/// What a callback led to.
#[derive(Debug)]
pub enum CallbackOutcome {
    /// The flow finished (well or not); send the browser back to this page with the result.
    Finished {
        /// The flow's id.
        id: String,
        /// The guide page.
        page: String,
    },
    /// Refused before anything ran.
    Refused(Refusal),
}

/// The verifier: the flows, the HTTP client and the options.
pub struct Verifier {
    options: VerifyOptions,
    http: Http,
    flows: Mutex<Flows>,
}

/// Controls and anything outside printable text, which no field legitimately contains.
fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

fn looks_like_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A random, URL-safe, 128-bit value: flow ids and browser cookies.
pub fn random_token() -> String {
    CsrfToken::new_random().secret().clone()
}

impl Verifier {
    /// A verifier with these options.
    pub fn new(options: VerifyOptions) -> Result<Verifier, String> {
        let http = Http::new(Arc::new(options.net.clone()), options.request_timeout)?;
        Ok(Verifier {
            flows: Mutex::new(Flows::new(options.flow_ttl)),
            options,
            http,
        })
    }

    /// The options it runs with.
    pub fn options(&self) -> &VerifyOptions {
        &self.options
    }

    fn flows(&self) -> std::sync::MutexGuard<'_, Flows> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.flows.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many flows wait for a callback.
    pub fn pending(&self) -> usize {
        self.flows().pending()
    }

    /// Checks the fields, prepares the provider, and stores a pending flow. `origin` is the
    /// browser's origin (the callback URL is built from it); `browser` its cookie value.
    pub async fn start(
        &self,
        form: StartForm,
        origin: &str,
        browser: &str,
        client: IpAddr,
    ) -> Result<Started, StartError> {
        let now = Instant::now();
        {
            let mut flows = self.flows();
            flows.sweep(now);
            if !flows.allow_start(client, self.options.starts_per_minute, now) {
                return Err(StartError::Busy(format!(
                    "Too many verifications from this address: at most {} a minute. Wait a minute and try again.",
                    self.options.starts_per_minute
                )));
            }
            if flows.pending() >= self.options.max_pending {
                return Err(StartError::Busy(
                    "Too many verifications are waiting for their provider. Try again in a few minutes.".into(),
                ));
            }
        }
        let (provider, params, page, warnings) = self.validate(form, origin)?;
        let endpoints = provider
            .endpoints(&self.http, &params)
            .await
            .map_err(StartError::Provider)?;
        let state = CsrfToken::new_random();
        let (challenge, verifier) = if endpoints.pkce {
            let (c, v) = PkceCodeChallenge::new_random_sha256();
            (Some(c), Some(v))
        } else {
            (None, None)
        };
        let authorize = provider
            .authorize_url(&endpoints, &params, &state, challenge.as_ref())
            .map_err(StartError::Provider)?;
        let id = random_token();
        let started = Started {
            id: id.clone(),
            authorize_url: authorize.to_string(),
            callback_url: params.redirect_uri.clone(),
            warnings: warnings.clone(),
        };
        let mut flows = self.flows();
        // Checked again here: discovery ran without the lock, and other starts may have filled up.
        if flows.pending() >= self.options.max_pending {
            return Err(StartError::Busy(
                "Too many verifications are waiting for their provider. Try again in a few minutes.".into(),
            ));
        }
        flows.insert(
            &state,
            Pending {
                id,
                provider,
                params,
                endpoints,
                verifier,
                browser: browser.to_string(),
                page,
                warnings,
                created: now,
                state: state.secret().clone(),
            },
        );
        drop(flows);
        Ok(started)
    }

    fn validate(
        &self,
        form: StartForm,
        origin: &str,
    ) -> Result<
        (
            &'static dyn provider::Provider,
            FlowParams,
            String,
            Vec<String>,
        ),
        StartError,
    > {
        let mut errors = BTreeMap::new();
        let Some(provider) = providers::find(form.provider.trim()) else {
            errors.insert(
                "provider",
                format!(
                    "Unknown provider `{}`. Known: {}.",
                    form.provider.chars().take(40).collect::<String>(),
                    providers::ids().join(", ")
                ),
            );
            return Err(StartError::Fields(errors));
        };
        let info = provider.info();
        let mut field = |f: Field, msg: String| {
            errors.entry(f.name()).or_insert(msg);
        };
        let check_text = |value: &str, label: &str, max: usize| -> Result<(), String> {
            if value.is_empty() {
                Err(format!("Enter the {label}."))
            } else if value.chars().count() > max {
                Err(format!(
                    "The {label} is longer than {max} characters; paste just the value."
                ))
            } else if has_control(value) {
                Err(format!(
                    "The {label} contains control characters (a line break or tab?); paste just the value."
                ))
            } else {
                Ok(())
            }
        };

        let instance = match check_text(form.instance_url.trim(), "Instance URL", 2048) {
            Err(e) => {
                field(Field::InstanceUrl, e);
                None
            }
            Ok(()) => match self.options.net.check_url(&form.instance_url) {
                Ok(u) => Some(u),
                Err(e) => {
                    field(Field::InstanceUrl, e);
                    None
                }
            },
        };
        if let Err(e) = check_text(form.display_name.trim(), "Display name", 100) {
            field(Field::DisplayName, e);
        }
        let client_id = form.client_id.trim().to_string();
        let secret = Secret::new(form.client_secret.expose().trim().to_string());
        match check_text(&client_id, info.client_id_label, 256) {
            Err(e) => field(Field::ClientId, e),
            Ok(()) if client_id.contains(char::is_whitespace) => field(
                Field::ClientId,
                format!(
                    "The {} contains spaces; paste just the value.",
                    info.client_id_label
                ),
            ),
            Ok(())
                if (info.id == "azure-devops" || info.id == "azure-devops-entra")
                    && !looks_like_guid(&client_id) =>
            {
                field(
                    Field::ClientId,
                    format!(
                        "The {} is a GUID like 1b4f3e2a-0c9d-4e8f-a7b6-5d4c3b2a1f0e. {}",
                        info.client_id_label, info.credentials_hint
                    ),
                )
            }
            Ok(()) => {}
        }
        match check_text(secret.expose(), info.secret_label, 4096) {
            Err(e) => field(Field::ClientSecret, e),
            Ok(()) if secret.expose() == client_id => field(
                Field::ClientSecret,
                format!(
                    "The secret is the same as the {}: paste the secret here. {}",
                    info.client_id_label, info.credentials_hint
                ),
            ),
            Ok(()) if info.id == "azure-devops-entra" && looks_like_guid(secret.expose()) => field(
                Field::ClientSecret,
                format!(
                    "This looks like the secret's ID, not its Value. {}",
                    info.credentials_hint
                ),
            ),
            Ok(()) => {}
        }
        let tenant = form.tenant.trim().to_string();
        if info.needs_tenant {
            match check_text(&tenant, "Tenant", 256) {
                Err(e) => field(Field::Tenant, e),
                Ok(()) if tenant == "consumers" => field(
                    Field::Tenant,
                    "Personal Microsoft accounts cannot use Azure DevOps' API: enter your directory (tenant) ID, a domain, or `organizations`.".into(),
                ),
                Ok(()) if !tenant.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') => field(
                    Field::Tenant,
                    "A tenant is a directory ID (a GUID), a domain such as contoso.onmicrosoft.com, or `organizations`.".into(),
                ),
                Ok(()) => {}
            }
        }
        let scopes: Vec<String> = if form.scopes.trim().is_empty() {
            info.scopes.iter().map(|s| s.api.to_string()).collect()
        } else {
            form.scopes.split_whitespace().map(str::to_string).collect()
        };
        if scopes.len() > 20
            || scopes.iter().any(|s| {
                s.len() > 200
                    || !s
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_.:/-".contains(c))
            })
        {
            field(
                Field::Scopes,
                "Scopes are API names separated by spaces, such as `repo read:user`.".into(),
            );
        }
        let origin = origin.trim_end_matches('/');
        let redirect_uri = format!("{origin}/oauth/callback");
        // Tests on loopback may use http when the site allows it; nothing else may.
        let loopback_origin = url::Url::parse(origin)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .is_some_and(|h| crate::listen::is_loopback_name(&h));
        if info.https_callback_only
            && redirect_uri.starts_with("http:")
            && !(self.options.net.allow_insecure_loopback && loopback_origin)
        {
            field(
                Field::CallbackUrl,
                format!(
                    "{} accepts only https callback URLs, and this page was opened over http. Restart with `docsite serve --tls` (or `docsite host --tls`) and open https://localhost:PORT.",
                    info.name
                ),
            );
        }
        let page = if form.page.starts_with('/')
            && !form.page.starts_with("//")
            && !form.page.contains('\\')
            && form.page.len() <= 1024
            && !has_control(&form.page)
        {
            form.page.clone()
        } else {
            "/".to_string()
        };
        let mut warnings = Vec::new();
        if let Some(public) = &self.options.public_origin {
            if public.trim_end_matches('/') != origin {
                warnings.push(format!("This page was opened at {origin}, but the server's configured address is {public}. The callback URL sent is `{redirect_uri}`; it must match the registered one exactly."));
            }
        }
        if let Some(notice) = info.notice {
            warnings.push(notice.to_string());
        }
        let (true, Some(instance)) = (errors.is_empty(), instance) else {
            return Err(StartError::Fields(errors));
        };
        Ok((
            provider,
            FlowParams {
                instance,
                tenant,
                client_id,
                secret,
                redirect_uri,
                scopes,
            },
            page,
            warnings,
        ))
    }

    /// Finishes a flow from the provider's callback: exchanges the code, runs the probes, drops the
    /// token and the secret, and stores the report.
    pub async fn callback(
        &self,
        query: &BTreeMap<String, String>,
        browser: Option<&str>,
    ) -> CallbackOutcome {
        let state = query.get("state").map(String::as_str).unwrap_or_default();
        let pending = match self.flows().take(state, browser, Instant::now()) {
            Ok(p) => p,
            Err(refusal) => return CallbackOutcome::Refused(refusal),
        };
        let id = pending.id.clone();
        let page = pending.page.clone();
        let owner = pending.browser.clone();
        let report = self.finish(*pending, query).await;
        self.flows().finish(report, owner, Instant::now());
        CallbackOutcome::Finished { id, page }
    }

    async fn finish(&self, pending: Pending, query: &BTreeMap<String, String>) -> Report {
        let provider = pending.provider;
        let info = provider.info();
        let mut report = flow::waiting_report(&pending);
        let get = |k: &str| query.get(k).map(String::as_str).unwrap_or_default();
        let skip_rest = |report: &mut Report, from: usize| {
            for step in report.steps.iter_mut().skip(from) {
                step.status = Status::Skip;
                step.detail = "Not run: an earlier step failed.".into();
            }
        };
        report.steps[0] = consent_step(&pending, true);
        if !get("error").is_empty() {
            let error: String = get("error").chars().take(100).collect();
            let description: String = get("error_description").chars().take(500).collect();
            let why = provider.callback_error(&pending.params, &error, &description);
            if why.field == Some(Field::CallbackUrl) || why.field == Some(Field::ClientId) {
                report.steps[0] = Step::fail("consent", "Consent page reached", why.clone());
            }
            report.steps[1] = Step::fail("callback", "Callback received", why);
            skip_rest(&mut report, 2);
            report.conclude();
            return report;
        }
        let code = get("code");
        if code.is_empty() {
            report.steps[1] = Step::fail(
                "callback",
                "Callback received",
                Diagnosis::general(
                    format!(
                        "{} sent the browser back without a code or an error.",
                        info.name
                    ),
                    "Verify again; if it repeats, check that nothing between the provider and this server (a proxy) strips the query string.",
                ),
            );
            skip_rest(&mut report, 2);
            report.conclude();
            return report;
        }
        report.steps[1] = Step::pass(
            "callback",
            "Callback received",
            "The provider sent the browser back with a code.",
        );
        let Pending {
            params,
            endpoints,
            verifier,
            ..
        } = pending;
        let token = provider
            .exchange(&self.http, &endpoints, &params, code.to_string(), verifier)
            .await;
        match token {
            Err(why) => {
                report.steps[2] = Step::fail("token", "Token issued for the secret", why);
                skip_rest(&mut report, 3);
            }
            Ok(token) => {
                let lifetime = token
                    .expires_in
                    .map(|s| format!(" It expires in {s} s."))
                    .unwrap_or_default();
                report.steps[2] = Step::pass(
                    "token",
                    "Token issued for the secret",
                    format!(
                        "{} exchanged the code for a token with this secret.{lifetime}",
                        info.name
                    ),
                );
                report.steps.pop();
                let probes = provider
                    .probes(&self.http, &endpoints, &params, &token)
                    .await;
                report.steps.extend(probes);
                // The token and the secret are dropped here, at the end of the flow.
                drop(token);
            }
        }
        drop(params);
        report.conclude();
        report
    }

    /// The report of flow `id`, for the browser that started it.
    pub fn report(&self, id: &str, browser: Option<&str>) -> Option<Report> {
        self.flows().report(id, browser, Instant::now())
    }

    /// Expires overdue flows now (tests and the CLI use it; the server sweeps on every request).
    pub fn sweep(&self) {
        self.flows().sweep(Instant::now());
    }
}

/// The parsed `[verify]` section's options from a URL string, for the CLI and tests.
pub fn parse_origin(raw: &str) -> Option<String> {
    let url = Url::parse(raw).ok()?;
    Some(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(secret: &str) -> StartForm {
        StartForm {
            provider: "github".into(),
            instance_url: "https://github.com".into(),
            display_name: "GitHub".into(),
            client_id: "Iv1.0123456789abcdef".into(),
            client_secret: Secret::new(secret.into()),
            tenant: String::new(),
            scopes: String::new(),
            page: "/docs/github/".into(),
        }
    }

    fn verifier(per_minute: u32, max_pending: usize) -> Verifier {
        Verifier::new(VerifyOptions {
            starts_per_minute: per_minute,
            max_pending,
            ..VerifyOptions::default()
        })
        .unwrap()
    }

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7));

    #[tokio::test]
    async fn starts_are_rate_limited_per_address_and_pending_flows_capped() {
        let v = verifier(2, 100);
        for _ in 0..2 {
            v.start(form("s3cret-value"), "http://localhost:3000", "b", IP)
                .await
                .unwrap();
        }
        assert!(matches!(
            v.start(form("s3cret-value"), "http://localhost:3000", "b", IP).await,
            Err(StartError::Busy(m)) if m.contains("a minute")
        ));
        let other = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 8));
        assert!(
            v.start(form("s3cret-value"), "http://localhost:3000", "b", other)
                .await
                .is_ok()
        );

        let v = verifier(100, 2);
        for _ in 0..2 {
            v.start(form("s3cret-value"), "http://localhost:3000", "b", IP)
                .await
                .unwrap();
        }
        assert_eq!(v.pending(), 2);
        assert!(matches!(
            v.start(form("s3cret-value"), "http://localhost:3000", "b", IP).await,
            Err(StartError::Busy(m)) if m.contains("waiting")
        ));
    }

    #[tokio::test]
    async fn the_authorize_url_carries_state_pkce_and_the_exact_callback_but_never_the_secret() {
        let v = verifier(10, 10);
        let started = v
            .start(
                form("s3cret-NEVER-in-url"),
                "http://localhost:3000/",
                "b",
                IP,
            )
            .await
            .unwrap();
        let url = Url::parse(&started.authorize_url).unwrap();
        let q: BTreeMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["redirect_uri"], "http://localhost:3000/oauth/callback");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["scope"], "repo read:user");
        assert!(q["state"].len() >= 22);
        assert!(!started.authorize_url.contains("NEVER"));
        assert!(!format!("{started:?}").contains("NEVER"));
        let report = v.report(&started.id, Some("b")).unwrap();
        assert!(!serde_json::to_string(&report).unwrap().contains("NEVER"));
        assert!(v.report(&started.id, Some("another-browser")).is_none());
    }

    #[tokio::test]
    async fn fields_get_one_message_each() {
        let v = verifier(100, 100);
        let mut f = form("same-as-id");
        f.client_id = "same-as-id".into();
        f.display_name = String::new();
        f.page = "//evil.example/".into();
        let Err(StartError::Fields(errors)) = v.start(f, "http://localhost:3000", "b", IP).await
        else {
            panic!("expected field errors");
        };
        assert!(errors["client_secret"].contains("same as"));
        assert!(errors["display_name"].contains("Enter"));
        let mut f = form("x");
        f.provider = "azure-devops".into();
        f.instance_url = "https://dev.azure.com".into();
        let Err(StartError::Fields(errors)) = v.start(f, "http://localhost:3000", "b", IP).await
        else {
            panic!("expected field errors");
        };
        assert!(errors["client_id"].contains("GUID"));
        assert!(errors["callback_url"].contains("https"), "{errors:?}");
    }
}
