//! Azure DevOps through Microsoft Entra ID, the current path: the standard code grant with PKCE
//! against the tenant's v2.0 endpoints, the Azure DevOps resource's `/.default` scope, and AADSTS
//! error codes that name the exact cause.

use futures_util::future::BoxFuture;
use oauth2::{CsrfToken, PkceCodeChallenge, PkceCodeVerifier};
use url::Url;

use super::azure_devops::{azure_probes, hosts, is_public};
use crate::verify::net::Http;
use crate::verify::provider::{
    self as p, Endpoints, ExchangeFailure, FlowParams, Provider, ProviderInfo, ScopeName, Token,
};
use crate::verify::report::{Diagnosis, Field, Step};

/// Azure DevOps with Microsoft Entra ID.
pub(super) struct Entra;

static INFO: ProviderInfo = ProviderInfo {
    id: "azure-devops-entra",
    name: "Microsoft Entra ID",
    default_instance_url: "https://dev.azure.com",
    client_id_label: "Application (client) ID",
    secret_label: "Client secret value",
    credentials_hint: "in the Microsoft Entra admin center, open App registrations → your app. The Application (client) ID is on the Overview page; under Certificates & secrets → Client secrets, copy the secret's Value (shown only right after it is created), not its Secret ID.",
    scopes: &[
        ScopeName {
            api: "499b84ac-1321-427f-aa17-267ca6975798/.default",
            ui: "Azure DevOps (user_impersonation)",
        },
        ScopeName {
            api: "offline_access",
            ui: "Maintain access to data you have given it access to",
        },
    ],
    scopes_registered: false,
    https_callback_only: false,
    needs_tenant: true,
    notice: None,
};

/// The public cloud signs in at login.microsoftonline.com; a test double serves everything itself.
fn login_base(instance: &Url) -> Url {
    if is_public(instance) {
        Url::parse("https://login.microsoftonline.com/").unwrap_or_else(|_| instance.clone())
    } else {
        instance.clone()
    }
}

/// The AADSTS number in an Entra error, from `error_codes` or the description.
fn aadsts(failure: &ExchangeFailure) -> Option<u64> {
    let ExchangeFailure::Answer {
        raw, description, ..
    } = failure
    else {
        return None;
    };
    raw.json()
        .and_then(|j| j.get("error_codes")?.as_array()?.first()?.as_u64())
        .or_else(|| {
            let d = description.as_deref()?;
            let at = d.find("AADSTS")? + 6;
            let digits: String = d[at..].chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
}

fn aadsts_in(text: &str) -> Option<u64> {
    let at = text.find("AADSTS")? + 6;
    text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

/// The diagnosis for an AADSTS code, wherever it appeared.
fn explain(code: u64, said: String, params: &FlowParams) -> Option<Diagnosis> {
    Some(match code {
        7000215 => Diagnosis::field(
            Field::ClientSecret,
            format!(
                "{said} AADSTS7000215 means the secret is wrong: most often the secret's ID was pasted instead of its Value."
            ),
            format!("Paste the client secret's Value: {}", INFO.credentials_hint),
        ),
        7000222 => Diagnosis::field(
            Field::ClientSecret,
            format!("{said} AADSTS7000222 means the client secret has expired."),
            "Create a new client secret under Certificates & secrets and paste its Value.",
        ),
        50011 => Diagnosis::field(
            Field::CallbackUrl,
            format!(
                "{said} AADSTS50011: the redirect URI `{}` is not registered for this app.",
                params.redirect_uri
            ),
            format!(
                "Under Authentication → Web → Redirect URIs, add exactly `{}`, then verify again.",
                params.redirect_uri
            ),
        ),
        70011 => Diagnosis::field(
            Field::Scopes,
            format!("{said} AADSTS70011: the scope is not valid."),
            "Request the Azure DevOps resource as `499b84ac-1321-427f-aa17-267ca6975798/.default` (with `offline_access`), not `vso.*` scopes.",
        ),
        54005 => Diagnosis::general(
            format!("{said} AADSTS54005: the code was already redeemed."),
            "Verify again; codes are single-use.",
        ),
        50148 => Diagnosis::general(
            format!("{said} AADSTS50148: the PKCE code verifier does not match the challenge."),
            "Verify again from the start; do not reuse a consent page from an earlier attempt.",
        ),
        700016 => Diagnosis::field(
            Field::ClientId,
            format!("{said} AADSTS700016: no application with this ID exists in the tenant."),
            format!(
                "Check the Application (client) ID and the Tenant: {}",
                INFO.credentials_hint
            ),
        ),
        90002 | 90023 | 900023 => Diagnosis::field(
            Field::Tenant,
            format!("{said} The tenant `{}` was not found.", params.tenant),
            "Enter the Directory (tenant) ID from the app's Overview page, or `organizations`.",
        ),
        _ => return None,
    })
}

impl Provider for Entra {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn endpoints<'a>(
        &'a self,
        _http: &'a Http,
        params: &'a FlowParams,
    ) -> BoxFuture<'a, Result<Endpoints, Diagnosis>> {
        Box::pin(async move {
            let login = login_base(&params.instance);
            let (vssps, api) = hosts(&params.instance);
            Ok(Endpoints {
                authorize: p::join(&login, &format!("{}/oauth2/v2.0/authorize", params.tenant)),
                token: p::join(&login, &format!("{}/oauth2/v2.0/token", params.tenant)),
                api,
                extra: Some(vssps),
                pkce: true,
                basic_auth: false,
            })
        })
    }

    fn authorize_url(
        &self,
        endpoints: &Endpoints,
        params: &FlowParams,
        state: &CsrfToken,
        pkce: Option<&PkceCodeChallenge>,
    ) -> Result<Url, Diagnosis> {
        p::standard_authorize_url(
            endpoints,
            params,
            state,
            pkce,
            "code",
            &[("response_mode", "query")],
        )
    }

    fn exchange<'a>(
        &'a self,
        http: &'a Http,
        endpoints: &'a Endpoints,
        params: &'a FlowParams,
        code: String,
        verifier: Option<PkceCodeVerifier>,
    ) -> BoxFuture<'a, Result<Token, Diagnosis>> {
        Box::pin(async move {
            // Entra's v2.0 token endpoint wants the scope again.
            let scope = params.scopes.join(" ");
            p::standard_exchange(http, endpoints, params, code, verifier, &[("scope", scope)])
                .await
                .map_err(|f| self.token_error(params, &f))
        })
    }

    fn token_error(&self, params: &FlowParams, failure: &ExchangeFailure) -> Diagnosis {
        if let Some(d) = failure.common(&INFO) {
            return d;
        }
        let said = format!(
            "Microsoft Entra ID's token endpoint answered {}.",
            failure.said()
        );
        if let Some(d) = aadsts(failure).and_then(|c| explain(c, said.clone(), params)) {
            return d;
        }
        Diagnosis::general(
            said,
            "Look up the AADSTS code in Microsoft's error reference, fix the app registration, then verify again.",
        )
    }

    fn callback_error(&self, params: &FlowParams, error: &str, description: &str) -> Diagnosis {
        let said = format!("Microsoft Entra ID sent back `error={error}`: {description}.");
        aadsts_in(description)
            .and_then(|c| explain(c, said, params))
            .unwrap_or_else(|| p::common_callback_error(&INFO, params, error, description))
    }

    fn probes<'a>(
        &'a self,
        http: &'a Http,
        endpoints: &'a Endpoints,
        params: &'a FlowParams,
        token: &'a Token,
    ) -> BoxFuture<'a, Vec<Step>> {
        Box::pin(async move {
            // What an Entra token may do is decided by the user's rights in the organization, so the
            // API calls are the scope check; `offline_access` shows as a refresh token.
            let _ = params;
            let (steps, _) = azure_probes(&INFO, http, endpoints, token).await;
            steps
        })
    }
}
