//! Azure DevOps' legacy OAuth apps, as in the founding guide. Not the standard grant: the
//! authorize request asks for `response_type=Assertion`, and the token request is a JWT-bearer
//! grant carrying the client secret as `client_assertion`. Errors come in PascalCase, `expires_in`
//! is a string, an organization that forbids OAuth apps answers `TF400813` on every API call, and
//! a rejected token can come back as HTTP 203 with a sign-in page.

use futures_util::future::BoxFuture;
use oauth2::{CsrfToken, PkceCodeChallenge, PkceCodeVerifier};
use url::Url;

use crate::verify::net::{Http, NetFailure, Raw};
use crate::verify::provider::{
    self as p, Endpoints, ExchangeFailure, FlowParams, Provider, ProviderInfo, ScopeName, Token,
};
use crate::verify::report::{Diagnosis, Field, Status, Step};

/// Azure DevOps (legacy OAuth app).
pub(super) struct AzureDevOps;

static INFO: ProviderInfo = ProviderInfo {
    id: "azure-devops",
    name: "Azure DevOps",
    default_instance_url: "https://dev.azure.com",
    client_id_label: "Application ID",
    secret_label: "Client Secret",
    credentials_hint: "open https://app.vsaex.visualstudio.com/me, select the application, and copy its App ID and its Client Secret (click \"show\"). The App Secret on the same page is a different value and does not work here.",
    scopes: &[
        ScopeName {
            api: "vso.code_full",
            ui: "Code (full)",
        },
        ScopeName {
            api: "vso.identity",
            ui: "Identity (read)",
        },
        ScopeName {
            api: "vso.project",
            ui: "Project and team (read)",
        },
        ScopeName {
            api: "vso.profile",
            ui: "User profile (read)",
        },
    ],
    scopes_registered: false,
    https_callback_only: true,
    needs_tenant: false,
    notice: Some(
        "Microsoft accepts no new Azure DevOps OAuth app registrations since April 2025 and plans to remove them in favour of Microsoft Entra ID. An existing app can still be verified here; for a new setup, follow the Entra ID guide.",
    ),
};

/// Whether the Instance URL names the public service: dev.azure.com (often pasted with the
/// organization, `https://dev.azure.com/contoso`) or an organization's older
/// `https://contoso.visualstudio.com` address.
pub(super) fn is_public(instance: &Url) -> bool {
    instance.host_str().is_some_and(|h| {
        let h = h.trim_end_matches('.').to_ascii_lowercase();
        h == "dev.azure.com" || h == "visualstudio.com" || h.ends_with(".visualstudio.com")
    })
}

/// The public service splits authorization and profiles (app.vssps.visualstudio.com) from the
/// organizations' APIs (dev.azure.com); any other instance (a test double) serves both.
pub(super) fn hosts(instance: &Url) -> (Url, Url) {
    if is_public(instance) {
        let vssps =
            Url::parse("https://app.vssps.visualstudio.com/").unwrap_or_else(|_| instance.clone());
        let api = Url::parse("https://dev.azure.com/").unwrap_or_else(|_| instance.clone());
        (vssps, api)
    } else {
        (instance.clone(), instance.clone())
    }
}

/// `vso.code_full` includes `vso.code_manage`, `vso.code_write` and `vso.code`, and so on for every
/// `vso.x` family.
fn implies(granted: &str, wanted: &str) -> bool {
    const LEVELS: [&str; 5] = ["", "_write", "_manage", "_full", "_execute"];
    let family = |s: &str| {
        LEVELS
            .iter()
            .enumerate()
            .rev()
            .find(|(_, l)| !l.is_empty() && s.ends_with(*l))
            .map(|(i, l)| (s[..s.len() - l.len()].to_string(), i))
            .unwrap_or((s.to_string(), 0))
    };
    let (gf, gl) = family(granted);
    let (wf, wl) = family(wanted);
    gf == wf && gl >= wl
}

/// One probe against an Azure DevOps API, with the service's own ways of failing explained.
pub(super) fn azure_step(
    info: &ProviderInfo,
    id: &str,
    label: &str,
    answer: &Result<Raw, NetFailure>,
    describe: impl Fn(&serde_json::Value) -> String,
) -> Step {
    if let Ok(raw) = answer {
        let body = String::from_utf8_lossy(&raw.body);
        if body.contains("TF400813") {
            return Step::fail(
                id,
                label,
                Diagnosis::general(
                    format!(
                        "The token was issued, but Azure DevOps refused it with HTTP {} and TF400813 (\"not authorized to access this resource\"). This is what an organization that forbids OAuth apps answers.",
                        raw.status
                    ),
                    "An organization administrator must turn on Organization settings → Security → Policies → \"Third-party application access via OAuth\", then verify again.",
                ),
            );
        }
        if raw.status == 203 || ((200..300).contains(&raw.status) && raw.is_html()) {
            return Step::fail(
                id,
                label,
                Diagnosis::general(
                    format!(
                        "Azure DevOps answered HTTP {} with a sign-in page instead of data: the token was not accepted.",
                        raw.status
                    ),
                    format!(
                        "Verify again. If it repeats, check that the application's scopes include {}.",
                        info.scopes
                            .iter()
                            .map(|s| s.ui)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
            );
        }
    }
    p::probe_step(info, id, label, answer, describe)
}

/// The probes Azure DevOps tokens share, legacy or Entra: profile, organizations, projects,
/// repositories. Returns the steps and whether they all passed.
pub(super) async fn azure_probes(
    info: &ProviderInfo,
    http: &Http,
    endpoints: &Endpoints,
    token: &Token,
) -> (Vec<Step>, bool) {
    let vssps = endpoints
        .extra
        .clone()
        .unwrap_or_else(|| endpoints.api.clone());
    let mut steps = Vec::new();
    let profile = p::get_with_token(
        http,
        p::join(
            &vssps,
            "_apis/profile/profiles/me?api-version=7.1-preview.3",
        ),
        token,
    )
    .await;
    let step = azure_step(
        info,
        "probe:profile",
        "Read your profile (User profile)",
        &profile,
        |j| {
            format!(
                "Signed in as {}.",
                j.get("displayName")
                    .and_then(|v| v.as_str())
                    .unwrap_or("an unnamed user")
            )
        },
    );
    let ok = step.status == Status::Pass;
    steps.push(step);
    let id = profile.ok().and_then(|r| r.field("id"));
    let (true, Some(id)) = (ok, id) else {
        return (steps, false);
    };

    let accounts = p::get_with_token(
        http,
        p::join(
            &vssps,
            &format!("_apis/accounts?memberId={id}&api-version=7.0"),
        ),
        token,
    )
    .await;
    let org: Option<String> = accounts.as_ref().ok().and_then(|r| r.json()).and_then(|j| {
        j.get("value")?
            .as_array()?
            .first()?
            .get("accountName")?
            .as_str()
            .map(str::to_string)
    });
    let mut step = azure_step(
        info,
        "probe:organizations",
        "List your organizations",
        &accounts,
        |j| {
            let n = j
                .get("value")
                .and_then(|v| v.as_array())
                .map_or(0, Vec::len);
            format!("Member of {n} organization(s).")
        },
    );
    if step.status == Status::Pass && org.is_none() {
        step = Step::fail(
            "probe:organizations",
            "List your organizations",
            Diagnosis::general(
                "The account that signed in belongs to no Azure DevOps organization.",
                "Sign in with an account that is a member of the organization you want to connect.",
            ),
        );
    }
    let ok = step.status == Status::Pass;
    steps.push(step);
    let (true, Some(org)) = (ok, org) else {
        return (steps, false);
    };

    let projects = p::get_with_token(
        http,
        p::join(
            &endpoints.api,
            &format!("{org}/_apis/projects?api-version=7.1"),
        ),
        token,
    )
    .await;
    let project: Option<String> = projects.as_ref().ok().and_then(|r| r.json()).and_then(|j| {
        j.get("value")?
            .as_array()?
            .first()?
            .get("name")?
            .as_str()
            .map(str::to_string)
    });
    let step = azure_step(
        info,
        "probe:projects",
        &format!("List projects in {org} (Project and team)"),
        &projects,
        |j| {
            format!(
                "{} project(s) visible.",
                j.get("count").and_then(|v| v.as_u64()).unwrap_or(0)
            )
        },
    );
    let ok = step.status == Status::Pass;
    steps.push(step);
    if !ok {
        return (steps, false);
    }
    let Some(project) = project else {
        steps.push(Step::waiting(
            "probe:repositories",
            "List repositories (Code)",
            Status::Skip,
            format!("{org} has no project to list repositories in."),
        ));
        return (steps, true);
    };
    let repos = p::get_with_token(
        http,
        p::join(
            &endpoints.api,
            &format!("{org}/{project}/_apis/git/repositories?api-version=7.1"),
        ),
        token,
    )
    .await;
    let step = azure_step(
        info,
        "probe:repositories",
        &format!("List repositories in {org}/{project} (Code)"),
        &repos,
        |j| {
            format!(
                "{} repository(ies) visible.",
                j.get("count").and_then(|v| v.as_u64()).unwrap_or(0)
            )
        },
    );
    let ok = step.status == Status::Pass;
    steps.push(step);
    (steps, ok)
}

impl Provider for AzureDevOps {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn endpoints<'a>(
        &'a self,
        _http: &'a Http,
        params: &'a FlowParams,
    ) -> BoxFuture<'a, Result<Endpoints, Diagnosis>> {
        Box::pin(async move {
            let (vssps, api) = hosts(&params.instance);
            Ok(Endpoints {
                authorize: p::join(&vssps, "oauth2/authorize"),
                token: p::join(&vssps, "oauth2/token"),
                api,
                extra: Some(vssps),
                pkce: false,
                basic_auth: false,
            })
        })
    }

    fn authorize_url(
        &self,
        endpoints: &Endpoints,
        params: &FlowParams,
        state: &CsrfToken,
        _pkce: Option<&PkceCodeChallenge>,
    ) -> Result<Url, Diagnosis> {
        p::standard_authorize_url(endpoints, params, state, None, "Assertion", &[])
    }

    fn exchange<'a>(
        &'a self,
        http: &'a Http,
        endpoints: &'a Endpoints,
        params: &'a FlowParams,
        code: String,
        _verifier: Option<PkceCodeVerifier>,
    ) -> BoxFuture<'a, Result<Token, Diagnosis>> {
        Box::pin(async move {
            let body = url::form_urlencoded::Serializer::new(String::new())
                .append_pair(
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                )
                .append_pair("client_assertion", params.secret.expose())
                .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
                .append_pair("assertion", &code)
                .append_pair("redirect_uri", &params.redirect_uri)
                .finish();
            let request = http
                .client()
                .post(endpoints.token.clone())
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .body(body);
            let failure = match http.send(request).await {
                Ok(raw) if raw.status == 200 => match p::token_from(&raw) {
                    Some(token) => return Ok(token),
                    None => ExchangeFailure::answer(raw),
                },
                Ok(raw) => ExchangeFailure::answer(raw),
                Err(net) => ExchangeFailure::Net(net),
            };
            Err(self.token_error(params, &failure))
        })
    }

    fn token_error(&self, params: &FlowParams, failure: &ExchangeFailure) -> Diagnosis {
        if let Some(d) = failure.common(&INFO) {
            return d;
        }
        let said = format!("Azure DevOps' token endpoint answered {}.", failure.said());
        let ExchangeFailure::Answer {
            error, description, ..
        } = failure
        else {
            return Diagnosis::general(said, "Verify again.");
        };
        let description = description.as_deref().unwrap_or_default();
        if description.contains("JsonWebToken") || description.contains("deserialize") {
            return Diagnosis::field(
                Field::ClientSecret,
                format!(
                    "{said} This is what Azure DevOps says when the App Secret is pasted instead of the Client Secret."
                ),
                format!(
                    "Paste the Client Secret, not the App Secret: {}",
                    INFO.credentials_hint
                ),
            );
        }
        match error.as_deref().unwrap_or_default() {
            "invalid_client" | "unauthorized_client" => Diagnosis::field(
                Field::ClientSecret,
                format!(
                    "{said} Azure DevOps does not accept this Client Secret for this application. Client secrets also expire 60 days after they are created."
                ),
                format!(
                    "Generate a new Client Secret on the application's page and paste it (the Client Secret, not the App Secret): {}",
                    INFO.credentials_hint
                ),
            ),
            "invalid_grant" | "InvalidGrant" => Diagnosis::general(
                format!("{said} The code was already used or has expired."),
                "Verify again; codes are single-use and short-lived.",
            ),
            "invalid_request" | "InvalidRequest" => Diagnosis::field(
                Field::CallbackUrl,
                format!(
                    "{said} The token request sent the callback URL `{}`; Azure DevOps rejects it when it differs from the application's registered one.",
                    params.redirect_uri
                ),
                format!(
                    "Check that the application's Authorization callback URL is exactly `{}`.",
                    params.redirect_uri
                ),
            ),
            _ => Diagnosis::general(
                said,
                "Check the application's settings in Azure DevOps, then verify again.",
            ),
        }
    }

    fn callback_error(&self, params: &FlowParams, error: &str, description: &str) -> Diagnosis {
        if error == "InvalidScope" || error == "invalid_scope" {
            return Diagnosis::field(
                Field::Scopes,
                format!(
                    "Azure DevOps sent back `error={error}`: the scopes requested ({}) differ from the ones the application was registered with.",
                    p::scope_list(&INFO, &params.scopes)
                ),
                format!(
                    "Azure DevOps requires the request to name exactly the registered scopes. Register the application with {} (you cannot edit scopes later: register a new application), then verify again.",
                    p::scope_list(&INFO, &params.scopes)
                ),
            );
        }
        p::common_callback_error(&INFO, params, error, description)
    }

    fn probes<'a>(
        &'a self,
        http: &'a Http,
        endpoints: &'a Endpoints,
        params: &'a FlowParams,
        token: &'a Token,
    ) -> BoxFuture<'a, Vec<Step>> {
        Box::pin(async move {
            let (mut steps, ok) = azure_probes(&INFO, http, endpoints, token).await;
            // A probe refused for a missing scope only says "401"; the token answer's `scope`
            // names which one, so compare it even then. Without that list, only passing probes
            // vouch for the scopes.
            if ok || token.scopes.is_some() {
                steps.extend(p::scope_steps(
                    &INFO,
                    &params.scopes,
                    token.scopes.as_deref(),
                    &implies,
                ));
            }
            steps
        })
    }
}

#[cfg(test)]
mod tests {
    use super::implies;

    #[test]
    fn organization_urls_mean_the_public_service() {
        for raw in [
            "https://dev.azure.com",
            "https://dev.azure.com/contoso/",
            "https://contoso.visualstudio.com",
            "https://app.vssps.visualstudio.com",
        ] {
            let (vssps, api) = super::hosts(&url::Url::parse(raw).unwrap());
            assert_eq!(
                vssps.as_str(),
                "https://app.vssps.visualstudio.com/",
                "{raw}"
            );
            assert_eq!(api.as_str(), "https://dev.azure.com/", "{raw}");
        }
        let own = url::Url::parse("http://127.0.0.1:9/").unwrap();
        assert_eq!(super::hosts(&own), (own.clone(), own));
        assert!(!super::is_public(
            &url::Url::parse("https://visualstudio.com.evil.example").unwrap()
        ));
    }

    #[test]
    fn scope_levels() {
        assert!(implies("vso.code_full", "vso.code"));
        assert!(implies("vso.code_full", "vso.code_write"));
        assert!(!implies("vso.code", "vso.code_full"));
        assert!(!implies("vso.project", "vso.code"));
        assert!(implies("vso.identity", "vso.identity"));
    }
}
