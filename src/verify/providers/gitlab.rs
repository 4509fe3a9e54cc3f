//! GitLab (gitlab.com and self-managed) OAuth applications: Doorkeeper's standard errors, PKCE,
//! and `/oauth/token/info` for the granted scopes.

use futures_util::future::BoxFuture;

use crate::verify::net::Http;
use crate::verify::provider::{
    self as p, Endpoints, ExchangeFailure, FlowParams, Provider, ProviderInfo, ScopeName, Token,
};
use crate::verify::report::{Diagnosis, Field, Status, Step};

/// GitLab.
pub(super) struct GitLab;

static INFO: ProviderInfo = ProviderInfo {
    id: "gitlab",
    name: "GitLab",
    default_instance_url: "https://gitlab.com",
    client_id_label: "Application ID",
    secret_label: "Secret",
    credentials_hint: "on GitLab, open Edit profile → Applications (or Admin → Applications, or the group's Settings → Applications) and select the application. The Application ID is shown there; the Secret only at creation, afterwards use \"Renew secret\".",
    scopes: &[
        ScopeName {
            api: "api",
            ui: "Access the API on your behalf",
        },
        ScopeName {
            api: "read_user",
            ui: "Read the authenticated user's personal information",
        },
    ],
    scopes_registered: false,
    https_callback_only: false,
    needs_tenant: false,
    notice: None,
};

/// Which granted scope covers another: `api` grants everything `read_user` does.
fn implies(granted: &str, wanted: &str) -> bool {
    granted == "api"
        && (wanted == "read_user" || wanted == "read_api" || wanted == "read_repository")
}

impl Provider for GitLab {
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
                authorize: p::join(&params.instance, "oauth/authorize"),
                token: p::join(&params.instance, "oauth/token"),
                api: p::join(&params.instance, "api/v4/"),
                extra: Some(p::join(&params.instance, "oauth/token/info")),
                pkce: true,
                basic_auth: false,
            })
        })
    }

    fn token_error(&self, _params: &FlowParams, failure: &ExchangeFailure) -> Diagnosis {
        if let Some(d) = failure.common(&INFO) {
            return d;
        }
        let said = format!("GitLab's token endpoint answered {}.", failure.said());
        let ExchangeFailure::Answer { error, .. } = failure else {
            return Diagnosis::general(said, "Verify again.");
        };
        match error.as_deref().unwrap_or_default() {
            "invalid_client" => Diagnosis::field(
                Field::ClientSecret,
                format!("{said} GitLab does not accept this Application ID and Secret together."),
                format!(
                    "Paste the application's Secret again (renew it if it was not saved), and check the Application ID: {}",
                    INFO.credentials_hint
                ),
            ),
            "invalid_grant" => Diagnosis::general(
                format!(
                    "{said} The code was already used, has expired, or the callback URL differs from the one registered."
                ),
                "Verify again; if it repeats, check that the application's Callback URL is exactly the one shown in the form.",
            ),
            _ => Diagnosis::general(
                said,
                "Check the application's settings in GitLab, then verify again.",
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
            let user = p::probe_step(
                &INFO,
                "probe:user",
                "GET /api/v4/user with the token",
                &answer,
                |j| {
                    format!(
                        "Signed in as {}.",
                        j.get("username")
                            .and_then(|v| v.as_str())
                            .unwrap_or("an unnamed user")
                    )
                },
            );
            let mut steps = vec![user];
            let Some(info_url) = endpoints.extra.clone() else {
                return steps;
            };
            let info = p::get_with_token(http, info_url, token).await;
            let info_step = p::probe_step(
                &INFO,
                "probe:token_info",
                "GET /oauth/token/info",
                &info,
                |j| {
                    format!(
                        "The token is valid for {} more seconds.",
                        j.get("expires_in").and_then(|v| v.as_i64()).unwrap_or(0)
                    )
                },
            );
            let granted: Option<Vec<String>> = info.ok().and_then(|r| r.json()).and_then(|j| {
                let list = j
                    .get("scope")
                    .or_else(|| j.get("scopes"))?
                    .as_array()?
                    .clone();
                Some(
                    list.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect(),
                )
            });
            let info_ok = info_step.status == Status::Pass;
            steps.push(info_step);
            if info_ok {
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
