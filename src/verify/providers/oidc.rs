//! Any OpenID Connect provider, found through its discovery document. Also what the test suite
//! verifies against a real OAuth server on loopback.

use futures_util::future::BoxFuture;
use url::Url;

use crate::verify::net::Http;
use crate::verify::provider::{
    self as p, Endpoints, ExchangeFailure, FlowParams, Provider, ProviderInfo, ScopeName, Token,
};
use crate::verify::report::{Diagnosis, Field, Status, Step};

/// A generic OpenID Connect provider.
pub(super) struct Oidc;

static INFO: ProviderInfo = ProviderInfo {
    id: "oidc",
    name: "the OpenID Connect provider",
    default_instance_url: "",
    client_id_label: "Client ID",
    secret_label: "Client secret",
    credentials_hint: "the client's ID and secret are on its page in the provider's admin console.",
    scopes: &[
        ScopeName {
            api: "openid",
            ui: "Sign you in",
        },
        ScopeName {
            api: "profile",
            ui: "Read your profile",
        },
    ],
    scopes_registered: false,
    https_callback_only: false,
    needs_tenant: false,
    notice: None,
};

fn endpoint(doc: &serde_json::Value, key: &str, issuer: &Url) -> Result<Url, Diagnosis> {
    let raw = doc.get(key).and_then(|v| v.as_str()).ok_or_else(|| {
        Diagnosis::field(
            Field::InstanceUrl,
            format!("The discovery document of {issuer} has no `{key}`."),
            "Check that the Instance URL is the provider's issuer URL.",
        )
    })?;
    let url = Url::parse(raw).map_err(|e| {
        Diagnosis::general(
            format!("The discovery document's `{key}` is not a URL ({e})."),
            "The provider's configuration is broken; ask its administrator.",
        )
    })?;
    // The document could point the token request anywhere; keep it on the issuer's origin.
    if url.origin() != issuer.origin() {
        return Err(Diagnosis::general(
            format!(
                "The discovery document's `{key}` ({url}) is on a different host than the issuer {issuer}."
            ),
            "The verifier only sends the secret to the issuer's own host. Enter the issuer that serves its own endpoints.",
        ));
    }
    Ok(url)
}

impl Provider for Oidc {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn endpoints<'a>(
        &'a self,
        http: &'a Http,
        params: &'a FlowParams,
    ) -> BoxFuture<'a, Result<Endpoints, Diagnosis>> {
        Box::pin(async move {
            let issuer = &params.instance;
            let url = p::join(issuer, ".well-known/openid-configuration");
            let raw = http
                .send(http.client().get(url.clone()))
                .await
                .map_err(|n| n.diagnosis())?;
            let doc = match raw.json() {
                Some(doc) if raw.status == 200 => doc,
                _ => {
                    return Err(Diagnosis::field(
                        Field::InstanceUrl,
                        format!(
                            "{url} answered HTTP {} with {} instead of a discovery document.",
                            raw.status,
                            raw.excerpt()
                        ),
                        "Enter the provider's issuer URL: the address under which /.well-known/openid-configuration is served.",
                    ));
                }
            };
            let said_issuer = doc
                .get("issuer")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            if said_issuer.trim_end_matches('/') != issuer.as_str().trim_end_matches('/') {
                return Err(Diagnosis::field(
                    Field::InstanceUrl,
                    format!("The provider calls itself `{said_issuer}`, not `{issuer}`."),
                    format!("Enter `{said_issuer}` as the Instance URL."),
                ));
            }
            let pkce = doc
                .get("code_challenge_methods_supported")
                .and_then(|v| v.as_array())
                .is_some_and(|a| a.iter().any(|m| m == "S256"));
            let basic_auth = doc
                .get("token_endpoint_auth_methods_supported")
                .and_then(|v| v.as_array())
                .is_none_or(|a| a.iter().any(|m| m == "client_secret_basic"));
            let userinfo = endpoint(&doc, "userinfo_endpoint", issuer).ok();
            Ok(Endpoints {
                authorize: endpoint(&doc, "authorization_endpoint", issuer)?,
                token: endpoint(&doc, "token_endpoint", issuer)?,
                api: issuer.clone(),
                extra: userinfo,
                pkce,
                basic_auth,
            })
        })
    }

    fn token_error(&self, _params: &FlowParams, failure: &ExchangeFailure) -> Diagnosis {
        if let Some(d) = failure.common(&INFO) {
            return d;
        }
        let said = format!("The token endpoint answered {}.", failure.said());
        let ExchangeFailure::Answer { error, .. } = failure else {
            return Diagnosis::general(said, "Verify again.");
        };
        match error.as_deref().unwrap_or_default() {
            "invalid_client" | "unauthorized_client" => Diagnosis::field(
                Field::ClientSecret,
                format!(
                    "{said} The provider does not accept this client secret for this client ID."
                ),
                "Copy the client secret again from the client's page in the provider's console (a secret is often shown only once; create a new one if needed).",
            ),
            "invalid_grant" => Diagnosis::general(
                format!(
                    "{said} The code was already used, has expired, or was issued for another callback URL or PKCE verifier."
                ),
                "Verify again from the start; codes are single-use and short-lived.",
            ),
            _ => Diagnosis::general(
                said,
                "Check the client's settings in the provider, then verify again.",
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
            let mut steps = Vec::new();
            let mut ok = true;
            if let (Some(userinfo), true) = (
                endpoints.extra.clone(),
                params.scopes.iter().any(|s| s == "openid"),
            ) {
                let answer = p::get_with_token(http, userinfo, token).await;
                let step = p::probe_step(
                    &INFO,
                    "probe:userinfo",
                    "GET userinfo with the token",
                    &answer,
                    |j| {
                        format!(
                            "Signed in as {}.",
                            j.get("sub")
                                .and_then(|v| v.as_str())
                                .unwrap_or("an unnamed user")
                        )
                    },
                );
                ok = step.status == Status::Pass;
                steps.push(step);
            }
            if ok {
                steps.extend(p::scope_steps(
                    &INFO,
                    &params.scopes,
                    token.scopes.as_deref(),
                    &|_, _| false,
                ));
            }
            steps
        })
    }
}
