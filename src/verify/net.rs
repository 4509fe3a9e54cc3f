//! Every request the verifier makes goes to an address a person typed, so this module decides which
//! addresses may be reached and how: https only (plain http for loopback when the site allows it, for
//! tests), no private, link-local or metadata addresses unless allow-listed, checked again on every
//! DNS answer so a name cannot be pointed at an internal address later; no redirects; timeouts; and
//! a cap on how much of a response is read.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use url::Url;

use super::report::{Diagnosis, Field};
use super::special::{self, Refused};

/// Which addresses the verifier may contact.
#[derive(Clone, Debug, Default)]
pub struct NetPolicy {
    /// Allow loopback addresses, over http too (`[verify] allow_insecure_loopback`), for testing.
    pub allow_insecure_loopback: bool,
    /// Networks allowed although private (`[verify] allow_networks`), e.g. a self-managed GitLab.
    pub allowed_networks: Vec<IpNet>,
    /// Extra certificate authorities to trust (`[verify] ca_bundle`), DER.
    pub extra_roots: Vec<Vec<u8>>,
}

impl NetPolicy {
    /// Whether `ip` may be contacted; the reason when not. Metadata addresses are refused
    /// first: an allowed network that contains one does not unblock it.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), &'static str> {
        match special::refused(ip) {
            None => Ok(()),
            Some(Refused::Metadata) => Err(Refused::Metadata.text()),
            Some(Refused::Loopback) if self.allow_insecure_loopback => Ok(()),
            Some(_) if self.allowed_networks.iter().any(|n| n.contains(&ip)) => Ok(()),
            Some(why) => Err(why.text()),
        }
    }

    /// Parses and checks an Instance URL the way a person typed it. The error is a sentence about
    /// the field, ready for the form.
    pub fn check_url(&self, raw: &str) -> Result<Url, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("Enter the provider's address, e.g. https://gitlab.example.com.".into());
        }
        let url = Url::parse(raw).map_err(|e| {
            format!("`{raw}` is not a URL ({e}). Enter the full address with https://, e.g. https://gitlab.example.com.")
        })?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err("The address contains a user name or password. Remove them: credentials go in the ID and Secret fields only.".into());
        }
        let Some(host) = url.host() else {
            return Err(format!("`{raw}` has no host name."));
        };
        if url.query().is_some() || url.fragment().is_some() {
            return Err(
                "The address must not contain `?` or `#`: enter just the provider's base URL."
                    .into(),
            );
        }
        let ip = match host {
            url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
            url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
            url::Host::Domain(d) if d.eq_ignore_ascii_case("localhost") => {
                Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
            }
            url::Host::Domain(_) => None,
        };
        let loopback = ip.is_some_and(|ip| ip.is_loopback());
        match url.scheme() {
            "https" => {}
            "http" if loopback && self.allow_insecure_loopback => {}
            "http" if loopback => {
                return Err("Plain http is refused. For a test server on this machine, set `allow_insecure_loopback = true` under `[verify]` in docsite.toml.".into());
            }
            "http" => {
                return Err(format!(
                    "`{raw}` uses plain http, which would send the secret unencrypted. Use https://."
                ));
            }
            other => return Err(format!("`{other}:` is not a web address. Use https://.")),
        }
        if let Some(ip) = ip {
            if let Err(why) = self.check_ip(ip) {
                return Err(format!(
                    "{ip} is {why}; the verifier does not contact it. If this really is your provider, allow its network under `[verify] allow_networks` in docsite.toml."
                ));
            }
        }
        Ok(url)
    }
}

/// A duration for messages: "15 s", "300 ms".
fn seconds_text(millis: u64) -> String {
    if millis.is_multiple_of(1000) {
        format!("{} s", millis / 1000)
    } else {
        format!("{millis} ms")
    }
}

/// What went wrong talking to the provider, below HTTP.
#[derive(Debug, thiserror::Error)]
pub enum NetFailure {
    /// The name resolves only to addresses the verifier may not contact. What it resolved to
    /// is not said: the answer of an internal DNS is not the form's to reveal.
    #[error(
        "{host} resolves only to addresses the verifier does not contact (private, loopback, link-local, metadata or reserved)"
    )]
    Blocked {
        /// The host name.
        host: String,
    },
    /// The name does not resolve.
    #[error("the name {host} could not be resolved: {message}")]
    Dns {
        /// The host name.
        host: String,
        /// The resolver's words.
        message: String,
    },
    /// Nothing listens there.
    #[error("{host} refused the connection")]
    Refused {
        /// The host.
        host: String,
    },
    /// The TLS handshake failed.
    #[error("the TLS connection to {host} failed: {message}")]
    Tls {
        /// The host.
        host: String,
        /// What rustls said.
        message: String,
    },
    /// No answer in time.
    #[error("{host} did not answer within {}", seconds_text(*millis))]
    Timeout {
        /// The host.
        host: String,
        /// The limit, in milliseconds.
        millis: u64,
    },
    /// The answer was larger than the limit.
    #[error("{host} sent more than {limit} bytes; the verifier stops reading there")]
    TooLarge {
        /// The host.
        host: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// Any other transport failure: a reset connection, a broken body.
    #[error("the connection to {host} failed: {message}")]
    Transport {
        /// The host.
        host: String,
        /// What the HTTP stack said.
        message: String,
    },
}

impl NetFailure {
    /// What the person should do.
    pub fn diagnosis(&self) -> Diagnosis {
        let detail = format!("A network problem, not an OAuth one: {self}.");
        match self {
            NetFailure::Blocked { .. } => Diagnosis::field(
                Field::InstanceUrl,
                detail,
                "Check the Instance URL. If the provider really is on an internal network, allow it under `[verify] allow_networks` in docsite.toml.",
            ),
            NetFailure::Dns { host, .. } => Diagnosis::field(
                Field::InstanceUrl,
                detail,
                format!(
                    "Check the spelling of `{host}` in the Instance URL, and that this server can resolve it (VPN, DNS)."
                ),
            ),
            NetFailure::Refused { host } => Diagnosis::field(
                Field::InstanceUrl,
                detail,
                format!(
                    "Check the Instance URL's host and port, and that {host} is reachable from the machine running docsite (firewall, proxy)."
                ),
            ),
            NetFailure::Tls { host, .. } => Diagnosis::field(
                Field::InstanceUrl,
                detail,
                format!(
                    "{host}'s certificate is not trusted here. A self-managed instance often uses an internal certificate authority: give its CA certificate to docsite with `ca_bundle = \"ca.pem\"` under `[verify]` in docsite.toml (or add it to this machine's trust store), and check that the Instance URL names the right host."
                ),
            ),
            NetFailure::Timeout { host, .. } => Diagnosis::field(
                Field::InstanceUrl,
                detail,
                format!(
                    "Check that {host} is reachable from the machine running docsite, then verify again."
                ),
            ),
            NetFailure::TooLarge { .. } | NetFailure::Transport { .. } => Diagnosis::general(
                detail,
                "Verify again; if it keeps failing, check any proxy between this server and the provider.",
            ),
        }
    }
}

/// A response as the verifier keeps it: status, the few headers diagnoses read, and a capped body.
#[derive(Debug, Clone)]
pub struct Raw {
    /// The HTTP status.
    pub status: u16,
    /// The Content-Type, lowercased, without parameters.
    pub content_type: String,
    /// GitHub's and Bitbucket's granted-scopes header.
    pub oauth_scopes: Option<String>,
    /// The body, at most the cap.
    pub body: Vec<u8>,
}

impl Raw {
    /// The body as JSON, when it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// Whether the body looks like an HTML page (sign-in pages, proxies' error pages).
    pub fn is_html(&self) -> bool {
        self.content_type.contains("html")
            || self
                .body
                .iter()
                .skip_while(|b| b.is_ascii_whitespace())
                .take(1)
                .any(|&b| b == b'<')
    }

    /// The start of the body as text, for messages: one line, at most 200 characters.
    pub fn excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            return "an empty body".into();
        }
        let cut: String = line.chars().take(200).collect();
        if cut.len() < line.len() {
            format!("`{cut}…`")
        } else {
            format!("`{cut}`")
        }
    }

    /// A string field of a JSON object body.
    pub fn field(&self, key: &str) -> Option<String> {
        self.json()?.get(key)?.as_str().map(str::to_string)
    }
}

/// The verifier's HTTP client.
#[derive(Clone, Debug)]
pub struct Http {
    client: reqwest::Client,
    max_body: usize,
    timeout: Duration,
}

/// Resolves names, then refuses the answer if every address is one the policy forbids.
struct GuardedResolver {
    policy: Arc<NetPolicy>,
}

#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to addresses the verifier does not contact")]
struct BlockedAddress {
    host: String,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let any = !found.is_empty();
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| policy.check_ip(a.ip()).is_ok())
                .collect();
            if allowed.is_empty() && any {
                return Err(Box::new(BlockedAddress { host }) as _);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

impl Http {
    /// A client that follows `policy`, never follows redirects, and gives up after `timeout`.
    pub fn new(policy: Arc<NetPolicy>, timeout: Duration) -> Result<Http, String> {
        let roots = policy
            .extra_roots
            .iter()
            .map(|der| rustls::pki_types::CertificateDer::from(der.clone()))
            .collect();
        let client = crate::http::client_builder_with_roots(roots)?
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(timeout)
            .dns_resolver(Arc::new(GuardedResolver { policy }))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Http {
            client,
            max_body: 1 << 20,
            timeout,
        })
    }

    /// The underlying client, to build requests on.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends a request and reads at most the body cap.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<Raw, NetFailure> {
        let request = request.build().map_err(|e| NetFailure::Transport {
            host: String::new(),
            message: e.to_string(),
        })?;
        let host = request.url().host_str().unwrap_or_default().to_string();
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(|e| self.classify(&host, &e))?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header("content-type")
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let oauth_scopes = header("x-oauth-scopes");
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.classify(&host, &e))?
        {
            if body.len() + chunk.len() > self.max_body {
                return Err(NetFailure::TooLarge {
                    host,
                    limit: self.max_body,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Raw {
            status,
            content_type,
            oauth_scopes,
            body,
        })
    }

    fn classify(&self, host: &str, e: &reqwest::Error) -> NetFailure {
        let host = host.to_string();
        if e.is_timeout() {
            return NetFailure::Timeout {
                host,
                millis: self.timeout.as_millis() as u64,
            };
        }
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
        let mut words = Vec::new();
        while let Some(err) = source {
            if err.is::<BlockedAddress>() {
                return NetFailure::Blocked { host };
            }
            if let Some(tls) = err.downcast_ref::<rustls::Error>() {
                return NetFailure::Tls {
                    host,
                    message: tls.to_string(),
                };
            }
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                // reqwest wraps rustls' error in more than one io::Error.
                let mut inner = io.get_ref();
                while let Some(nested) = inner.and_then(|i| i.downcast_ref::<std::io::Error>()) {
                    inner = nested.get_ref();
                }
                if let Some(inner) = inner {
                    if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
                        return NetFailure::Tls {
                            host,
                            message: tls.to_string(),
                        };
                    }
                    if inner.is::<BlockedAddress>() {
                        return NetFailure::Blocked { host };
                    }
                }
                if io.kind() == std::io::ErrorKind::ConnectionRefused {
                    return NetFailure::Refused { host };
                }
            }
            words.push(err.to_string());
            source = err.source();
        }
        let message = words.last().cloned().unwrap_or_else(|| e.to_string());
        // Some layers of the HTTP stack wrap the rustls error as text only.
        if let Some(tls) = words.iter().find(|w| {
            w.contains("peer certificate")
                || w.contains("certificate verify")
                || w.contains("tls handshake")
        }) {
            return NetFailure::Tls {
                host,
                message: tls.clone(),
            };
        }
        if words
            .iter()
            .any(|w| w.contains("dns error") || w.contains("lookup"))
        {
            return NetFailure::Dns { host, message };
        }
        NetFailure::Transport { host, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(loopback: bool) -> NetPolicy {
        NetPolicy {
            allow_insecure_loopback: loopback,
            ..NetPolicy::default()
        }
    }

    #[test]
    fn instance_urls_are_checked() {
        let p = policy(false);
        assert!(p.check_url("https://gitlab.example.com").is_ok());
        assert!(p.check_url("").unwrap_err().contains("Enter"));
        assert!(
            p.check_url("gitlab.example.com")
                .unwrap_err()
                .contains("not a URL")
        );
        assert!(
            p.check_url("http://gitlab.example.com")
                .unwrap_err()
                .contains("plain http")
        );
        assert!(
            p.check_url("https://bob:pw@gitlab.example.com")
                .unwrap_err()
                .contains("password")
        );
        assert!(
            p.check_url("https://10.1.2.3")
                .unwrap_err()
                .contains("private")
        );
        assert!(
            p.check_url("https://169.254.169.254/latest")
                .unwrap_err()
                .contains("metadata")
        );
        assert!(
            p.check_url("https://[::ffff:10.0.0.1]")
                .unwrap_err()
                .contains("private")
        );
        assert!(
            p.check_url("https://[fe80::1]")
                .unwrap_err()
                .contains("link-local")
        );
        assert!(
            p.check_url("http://127.0.0.1:9000")
                .unwrap_err()
                .contains("allow_insecure_loopback")
        );
        assert!(
            p.check_url("ftp://example.com")
                .unwrap_err()
                .contains("not a web address")
        );
        assert!(p.check_url("https://example.com/?x=1").is_err());
    }

    #[test]
    fn loopback_needs_the_setting_and_networks_can_be_allowed() {
        assert!(policy(true).check_url("http://127.0.0.1:9000").is_ok());
        assert!(
            policy(true)
                .check_url("http://localhost:9000/gitlab")
                .is_ok()
        );
        let mut p = policy(false);
        p.allowed_networks.push("10.0.0.0/8".parse().unwrap());
        assert!(p.check_url("https://10.1.2.3").is_ok());
        assert!(p.check_url("https://192.168.1.1").is_err());
    }

    /// An allowed range that happens to hold a metadata address does not unblock it.
    #[test]
    fn metadata_stays_refused_inside_allowed_networks() {
        let mut p = policy(true);
        for n in [
            "169.254.0.0/16",
            "100.64.0.0/10",
            "fd00::/8",
            "0.0.0.0/0",
            "::/0",
        ] {
            p.allowed_networks.push(n.parse().unwrap());
        }
        for ip in [
            "169.254.169.254",
            "100.100.100.200",
            "fd00:ec2::254",
            "::ffff:169.254.169.254",
        ] {
            assert_eq!(
                p.check_ip(ip.parse().unwrap()),
                Err("a cloud metadata address"),
                "{ip}"
            );
        }
        assert!(p.check_ip("169.254.1.1".parse().unwrap()).is_ok());
    }

    #[test]
    fn ipv4_inside_ipv6_is_judged_as_ipv4() {
        let p = policy(false);
        for url in [
            "https://[::127.0.0.1]",
            "https://[::ffff:127.0.0.1]",
            "https://[64:ff9b::10.0.0.1]",
            "https://[2002:c0a8:0101::1]",
            "https://[fec0::1]",
            "https://192.0.0.8",
            "https://198.18.0.1",
            "https://240.0.0.1",
        ] {
            assert!(p.check_url(url).is_err(), "{url} allowed");
        }
        // The loopback test setting admits loopback as written, not wrapped in IPv6.
        let p = policy(true);
        assert!(p.check_url("http://[::1]:9000").is_ok());
        assert!(p.check_url("https://[::127.0.0.1]:9000").is_err());
        assert!(p.check_url("https://[::ffff:127.0.0.1]:9000").is_err());
    }

    /// The resolver's answer stays internal: the message names the host only.
    #[tokio::test]
    async fn a_blocked_name_is_reported_without_its_addresses() {
        let http = Http::new(Arc::new(policy(false)), Duration::from_secs(5)).unwrap();
        let failure = http
            .send(http.client().get("https://localhost:9/"))
            .await
            .unwrap_err();
        assert!(matches!(failure, NetFailure::Blocked { .. }), "{failure:?}");
        let text = failure.to_string();
        assert!(text.contains("localhost"), "{text}");
        assert!(
            !text.contains("127.0.0.1") && !text.contains("::1"),
            "{text}"
        );
    }
}
