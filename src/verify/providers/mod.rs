//! The providers docsite can verify, one file each. Adding a provider is a file here and a line in
//! [`ALL`].

mod azure_devops;
mod bitbucket;
mod entra;
mod github;
mod gitlab;
mod oidc;

use super::provider::Provider;

/// Every provider, in the order the documentation lists them.
pub static ALL: &[&dyn Provider] = &[
    &azure_devops::AzureDevOps,
    &entra::Entra,
    &github::GitHub,
    &gitlab::GitLab,
    &bitbucket::Bitbucket,
    &oidc::Oidc,
];

/// The provider with this id.
pub fn find(id: &str) -> Option<&'static dyn Provider> {
    ALL.iter().copied().find(|p| p.info().id == id)
}

/// Every provider id, for "did you mean" and messages.
pub fn ids() -> Vec<&'static str> {
    ALL.iter().map(|p| p.info().id).collect()
}
