//! Bitbucket Cloud OAuth consumers: the Key and Secret go in HTTP Basic at the token endpoint, and
//! permissions are fixed on the consumer, not requested per sign-in.

use futures_util::future::BoxFuture;
use oauth2::{CsrfToken, PkceCodeChallenge};
use url::Url;

use crate::verify::net::Http;
use crate::verify::provider::{
    self as p, Endpoints, ExchangeFailure, FlowParams, Provider, ProviderInfo, ScopeName, Token,
};
use crate::verify::report::{Diagnosis, Field, Status, Step};

/// Bitbucket Cloud.
pub(super) struct Bitbucket;

static INFO: ProviderInfo = ProviderInfo {
    id: "bitbucket",
    name: "Bitbucket",
    default_instance_url: "https://bitbucket.org",
    client_id_label: "Key",
    secret_label: "Secret",
    credentials_hint: "in Bitbucket, open Workspace settings → OAuth consumers and click the consumer's name: its Key and Secret appear below it.",
    scopes: &[
        ScopeName {
            api: "account",
            ui: "Account: Read",
        },
        ScopeName {
            api: "repository",
            ui: "Repositories: Read",
        },
        ScopeName {
            api: "pullrequest",
            ui: "Pull requests: Read",
        },
        ScopeName {
            api: "webhook",
            ui: "Webhooks: Read and write",
        },
    ],
    scopes_registered: true,
    https_callback_only: false,
    needs_tenant: false,
    notice: None,
};

/// Bitbucket Cloud's API is on its own host; any other instance (a test double) serves it under
/// `/api`.
fn api_base(instance: &Url) -> Url {
    if instance.host_str() == Some("bitbucket.org") {
        Url::parse("https://api.bitbucket.org/2.0/").unwrap_or_else(|_| instance.clone())
    } else {
        p::join(instance, "api/2.0/")
    }
}

/// Bitbucket's write permissions include read, and `repository:admin` includes everything below it.
fn implies(granted: &str, wanted: &str) -> bool {
    granted.split(':').next() == wanted.split(':').next() && granted.len() > wanted.len()
}

impl Provider for Bitbucket {
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
                authorize: p::join(&params.instance, "site/oauth2/authorize"),
                token: p::join(&params.instance, "site/oauth2/access_token"),
                api: api_base(&params.instance),
                extra: None,
                pkce: false,
                basic_auth: true,
            })
        })
    }

    /// Scopes are not sent: the consumer's permissions decide, and are checked after the token.
    fn authorize_url(
        &self,
        endpoints: &Endpoints,
        params: &FlowParams,
        state: &CsrfToken,
        pkce: Option<&PkceCodeChallenge>,
    ) -> Result<Url, Diagnosis> {
        let unscoped = FlowParams {
            instance: params.instance.clone(),
            tenant: String::new(),
            client_id: params.client_id.clone(),
            secret: params.secret.clone(),
            redirect_uri: params.redirect_uri.clone(),
            scopes: Vec::new(),
        };
        p::standard_authorize_url(endpoints, &unscoped, state, pkce, "code", &[])
    }

    fn token_error(&self, _params: &FlowParams, failure: &ExchangeFailure) -> Diagnosis {
        if let Some(d) = failure.common(&INFO) {
            return d;
        }
        let said = format!("Bitbucket's token endpoint answered {}.", failure.said());
        let ExchangeFailure::Answer { error, .. } = failure else {
            return Diagnosis::general(said, "Verify again.");
        };
        match error.as_deref().unwrap_or_default() {
            "invalid_client" | "unauthorized_client" => Diagnosis::field(
                Field::ClientSecret,
                format!("{said} Bitbucket does not accept this Key and Secret together."),
                format!(
                    "Copy the consumer's Key into the ID field and its Secret into Secret: {}",
                    INFO.credentials_hint
                ),
            ),
            "invalid_grant" => Diagnosis::general(
                format!("{said} The code was already used or has expired."),
                "Verify again; codes are single-use.",
            ),
            _ => Diagnosis::general(
                said,
                "Check the consumer's settings in Bitbucket, then verify again.",
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
                "GET /2.0/user with the token",
                &answer,
                |j| {
                    format!(
                        "Signed in as {}.",
                        j.get("display_name")
                            .or_else(|| j.get("username"))
                            .and_then(|v| v.as_str())
                            .unwrap_or("an unnamed user")
                    )
                },
            );
            let passed = step.status == Status::Pass;
            let mut steps = vec![step];
            if passed {
                let header: Option<Vec<String>> =
                    answer.ok().and_then(|r| r.oauth_scopes).map(|h| {
                        h.split([',', ' '])
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect()
                    });
                let granted = header.or_else(|| token.scopes.clone());
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
