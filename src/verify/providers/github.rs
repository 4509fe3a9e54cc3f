//! GitHub (github.com and Enterprise Server) OAuth apps. Token errors arrive with HTTP 200 and an
//! `error` field; granted scopes arrive in the `X-OAuth-Scopes` header of API answers.

use futures_util::future::BoxFuture;
use url::Url;

use crate::verify::net::Http;
use crate::verify::provider::{
    self as p, Endpoints, ExchangeFailure, FlowParams, Provider, ProviderInfo, ScopeName, Token,
};
use crate::verify::report::{Diagnosis, Field, Step};

/// GitHub.
pub(super) struct GitHub;

static INFO: ProviderInfo = ProviderInfo {
    id: "github",
    name: "GitHub",
    default_instance_url: "https://github.com",
    client_id_label: "Client ID",
    secret_label: "Client secret",
    credentials_hint: "on GitHub, open Settings → Developer settings → OAuth Apps → your app. The Client ID is at the top; a client secret is shown only once, right after \"Generate a new client secret\".",
    scopes: &[
        ScopeName {
            api: "repo",
            ui: "Full control of private repositories",
        },
        ScopeName {
            api: "read:user",
            ui: "Read all user profile data",
        },
    ],
    scopes_registered: false,
    https_callback_only: false,
    needs_tenant: false,
    notice: None,
};

/// github.com's API lives on its own host; Enterprise Server's under `/api/v3`.
fn api_base(instance: &Url) -> Url {
    if instance.host_str() == Some("github.com") {
        Url::parse("https://api.github.com/").unwrap_or_else(|_| instance.clone())
    } else {
        p::join(instance, "api/v3/")
    }
}

/// A broader scope covering a narrower one, per GitHub's scope documentation.
fn implies(granted: &str, wanted: &str) -> bool {
    match granted {
        "repo" => wanted.starts_with("repo:") || wanted == "public_repo",
        "user" => wanted.starts_with("user:") || wanted == "read:user",
        g if g.starts_with("admin:") => {
            wanted == format!("write:{}", &g[6..]) || wanted == format!("read:{}", &g[6..])
        }
        g if g.starts_with("write:") => wanted == format!("read:{}", &g[6..]),
        _ => false,
    }
}

impl Provider for GitHub {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn endpoints<'a>(
        &'a self,
        _http: &'a Http,
        params: &'a FlowParams,
    ) -> BoxFuture<'a, Result<Endpoints, Diagnosis>> {
        Box::pin(async move {
            Ok(Endpoints {
                authorize: p::join(&params.instance, "login/oauth/authorize"),
                token: p::join(&params.instance, "login/oauth/access_token"),
                api: api_base(&params.instance),
                extra: None,
                pkce: true,
                basic_auth: false,
            })
        })
    }

    fn token_error(&self, params: &FlowParams, failure: &ExchangeFailure) -> Diagnosis {
        if let Some(d) = failure.common(&INFO) {
            return d;
        }
        let said = format!("GitHub's token endpoint answered {}.", failure.said());
        let ExchangeFailure::Answer { error, .. } = failure else {
            return Diagnosis::general(said, "Verify again.");
        };
        match error.as_deref().unwrap_or_default() {
            "incorrect_client_credentials" => Diagnosis::field(
                Field::ClientSecret,
                format!("{said} The Client ID and client secret do not belong together."),
                format!(
                    "Generate a new client secret for this app and paste it into Secret; check the Client ID too. {}",
                    INFO.credentials_hint
                ),
            ),
            "redirect_uri_mismatch" => Diagnosis::field(
                Field::CallbackUrl,
                format!(
                    "{said} The callback URL sent was `{}`.",
                    params.redirect_uri
                ),
                format!(
                    "Set the app's Authorization callback URL to exactly `{}`, then verify again.",
                    params.redirect_uri
                ),
            ),
            "bad_verification_code" => Diagnosis::general(
                format!("{said} The code was already used or is older than 10 minutes."),
                "Verify again: codes are single-use and short-lived.",
            ),
            _ => Diagnosis::general(
                said,
                "Check the app's settings on GitHub, then verify again.",
            ),
        }
    }

    fn probes<'a>(
        &'a self,
        http: &'a Http,
        endpoints: &'a Endpoints,
        params: &'a FlowParams,
        token: &'a Token,
    ) -> BoxFuture<'a, Vec<Step>> {
        Box::pin(async move {
            let answer = p::get_with_token(http, p::join(&endpoints.api, "user"), token).await;
            let step = p::probe_step(
                &INFO,
                "probe:user",
                "GET /user with the token",
                &answer,
                |j| {
                    format!(
                        "Signed in as {}.",
                        j.get("login")
                            .and_then(|v| v.as_str())
                            .unwrap_or("an unnamed user")
                    )
                },
            );
            let passed = step.status == crate::verify::report::Status::Pass;
            let mut steps = vec![step];
            if passed {
                let granted: Option<Vec<String>> =
                    answer.ok().and_then(|r| r.oauth_scopes).map(|h| {
                        h.split(',')
                            .map(|s| s.trim().to_string())
                            .filter(|s| !s.is_empty())
                            .collect()
                    });
                let granted = granted.or_else(|| token.scopes.clone());
                steps.extend(p::scope_steps(
                    &INFO,
                    &params.scopes,
                    granted.as_deref(),
                    &implies,
                ));
            }
            steps
        })
    }
}
