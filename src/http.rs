//! The one outgoing HTTP client setup: rustls with the *ring* provider (it builds from crates.io
//! alone, with no cmake or clang), the platform's trust store, and explicit timeouts.

use std::sync::Arc;
use std::time::Duration;

use rustls_platform_verifier::BuilderVerifierExt;

/// A client builder with TLS configured; callers add their own timeouts and redirect policy.
pub fn client_builder() -> Result<reqwest::ClientBuilder, String> {
    client_builder_with_roots(Vec::new())
}

/// Like [`client_builder`], also trusting `extra_roots` (a self-managed provider's private CA).
pub fn client_builder_with_roots(
    extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
) -> Result<reqwest::ClientBuilder, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let tls = if extra_roots.is_empty() {
        builder
            .with_platform_verifier()
            .map_err(|e| e.to_string())?
    } else {
        let verifier =
            rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots, provider)
                .map_err(|e| e.to_string())?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
    }
    .with_no_client_auth();
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("docsite/", env!("CARGO_PKG_VERSION"))))
}
