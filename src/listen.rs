//! Binding docsite's HTTP servers (`serve`, `host`, the `verify` command's callback listener):
//! plain TCP or TLS, with errors that say what to do, and the client address available to
//! handlers (the verifier rate-limits by it).
//!
//! Every server run here answers only for the names in [`Names`]: a DNS-rebinding page
//! reaches a loopback server under a name the attacker controls, and that name is what the
//! `Host` header then carries.
//!
//! TLS exists because some providers accept only `https` callback URLs: `--tls` serves
//! `https://localhost` with a self-signed certificate kept in the cache folder, or with the
//! certificate and key the person supplies.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::serve::{ListenerExt, TapIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::error::{Error, ErrorKind, Location};

/// Where a server's TLS certificate comes from.
#[derive(Debug, Clone)]
pub enum Tls {
    /// A self-signed certificate for localhost, generated once and kept in this folder.
    SelfSigned {
        /// The folder (the site's cache folder).
        dir: PathBuf,
    },
    /// PEM files the person supplies.
    Files {
        /// The certificate chain.
        cert: PathBuf,
        /// The private key.
        key: PathBuf,
    },
}

/// A bound listener, plain or TLS.
pub struct Bound {
    tcp: TcpListener,
    tls: Option<TlsAcceptor>,
    /// The address it is bound to.
    pub local: SocketAddr,
}

impl Bound {
    /// The scheme people reach it with.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }
}

/// The host names a server answers for: `localhost`, any IP literal, and the host of the
/// configured public URL. Exact names only; a name that merely starts like an address
/// (`127.evil.example`) is a DNS name someone else controls.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// The host of `[verify] public_url`, lowercased.
    public: Option<String>,
}

impl Names {
    /// The names for a server whose public URL is `public_url` (empty or not a URL: none).
    pub fn new(public_url: &str) -> Names {
        let public = url::Url::parse(public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
        Names { public }
    }

    /// Whether a request whose `Host` (or HTTP/2 authority) is `host` is for this server.
    pub fn allows(&self, host: &str) -> bool {
        let Some(name) = host_name(host) else {
            return false;
        };
        ip_literal(name).is_some()
            || name.eq_ignore_ascii_case("localhost")
            || self
                .public
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case(name))
    }
}

/// The name part of a `Host` value (`name`, `name:port`, `[v6]`, `[v6]:port`); `None` when it
/// is not an authority or carries user information.
fn host_name(host: &str) -> Option<&str> {
    let authority: axum::http::uri::Authority = host.parse().ok()?;
    if authority.as_str().contains('@') || authority.as_str() != host {
        return None;
    }
    let port_len = authority.port().map_or(0, |p| p.as_str().len() + 1);
    host.get(..host.len() - port_len)
}

/// The address a host name is the literal of: dotted IPv4 exactly as `Ipv4Addr` reads it (no
/// shorthand like `127.1`), or IPv6 in brackets.
fn ip_literal(name: &str) -> Option<IpAddr> {
    match name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        Some(v6) => v6.parse::<Ipv6Addr>().ok().map(IpAddr::V6),
        None => name.parse::<Ipv4Addr>().ok().map(IpAddr::V4),
    }
}

/// Whether `name` (a URL's host, brackets and all) is `localhost` or a loopback address.
pub fn is_loopback_name(name: &str) -> bool {
    name.eq_ignore_ascii_case("localhost") || ip_literal(name).is_some_and(|ip| ip.is_loopback())
}

/// Refuses, with 421 Misdirected Request, every request whose host is not one of `names`.
async fn guard(
    axum::extract::State(names): axum::extract::State<Arc<Names>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let host = request
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    if host.is_some_and(|h| names.allows(h)) {
        return next.run(request).await;
    }
    (
        axum::http::StatusCode::MISDIRECTED_REQUEST,
        "This server answers only for localhost, IP addresses and the host of `[verify] public_url`. Open it at one of those, or set public_url to the name you use.\n",
    )
        .into_response()
}

fn io_error(action: &'static str, at: &str, message: String) -> Error {
    Error::new(ErrorKind::Io { action, message }, Location::file(at))
}

/// Binds `host:port`; a taken port says to choose another.
pub async fn bind(host: &str, port: u16, tls: Option<&Tls>) -> Result<Bound, Error> {
    let addr = format!("{host}:{port}");
    let tcp = TcpListener::bind(&addr).await.map_err(|e| {
        let message = if e.kind() == std::io::ErrorKind::AddrInUse {
            format!("port {port} is in use: choose another with --port")
        } else {
            e.to_string()
        };
        io_error("listening", &addr, message)
    })?;
    let local = tcp
        .local_addr()
        .map_err(|e| io_error("listening", &addr, e.to_string()))?;
    let tls = match tls {
        None => None,
        Some(tls) => Some(acceptor(tls)?),
    };
    Ok(Bound { tcp, tls, local })
}

fn acceptor(tls: &Tls) -> Result<TlsAcceptor, Error> {
    let (cert_path, key_path) = match tls {
        Tls::Files { cert, key } => (cert.clone(), key.clone()),
        Tls::SelfSigned { dir } => self_signed(dir)?,
    };
    let read_err = |path: &Path, what: &str, e: String| {
        io_error(
            "reading the TLS certificate",
            &path.display().to_string(),
            format!("{e}: expected a PEM {what}"),
        )
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .map_err(|e| read_err(&cert_path, "certificate", e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| read_err(&cert_path, "certificate", e.to_string()))?;
    if certs.is_empty() {
        return Err(read_err(
            &cert_path,
            "certificate",
            "no certificate found".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .map_err(|e| read_err(&key_path, "private key", e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| {
            io_error(
                "loading the TLS certificate",
                &cert_path.display().to_string(),
                format!("{e}: the key must belong to the certificate"),
            )
        })?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The self-signed localhost certificate in `dir`, made on first use. The key file is readable by
/// its owner only.
fn self_signed(dir: &Path) -> Result<(PathBuf, PathBuf), Error> {
    let cert = dir.join("tls").join("localhost.pem");
    let key = dir.join("tls").join("localhost-key.pem");
    if cert.is_file() && key.is_file() {
        return Ok((cert, key));
    }
    let at = dir.display().to_string();
    let made = rcgen::generate_simple_self_signed(vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ])
    .map_err(|e| io_error("making a TLS certificate", &at, e.to_string()))?;
    let tls_dir = dir.join("tls");
    std::fs::create_dir_all(&tls_dir)
        .map_err(|e| io_error("making a TLS certificate", &at, e.to_string()))?;
    let write = |path: &Path, text: String, private: bool| -> Result<(), Error> {
        let mut tmp = tempfile::NamedTempFile::new_in(&tls_dir)
            .map_err(|e| io_error("writing the TLS certificate", &at, e.to_string()))?;
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o600));
        }
        #[cfg(not(unix))]
        let _ = private;
        std::io::Write::write_all(&mut tmp, text.as_bytes())
            .map_err(|e| io_error("writing the TLS certificate", &at, e.to_string()))?;
        tmp.persist(path)
            .map_err(|e| io_error("writing the TLS certificate", &at, e.to_string()))?;
        Ok(())
    };
    write(&key, made.signing_key.serialize_pem(), true)?;
    write(&cert, made.cert.pem(), false)?;
    Ok((cert, key))
}

/// TLS connections, handshaken off the accept loop so one slow client cannot stall the others.
struct TlsListener {
    incoming: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            if let Some(next) = self.incoming.recv().await {
                return next;
            }
            // The accept task ended; wait instead of spinning (the server is shutting down).
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// Turns off Nagle's algorithm on a connection. hyper writes a response's head and its body
/// separately; with Nagle on, the body's small last segment waits for the ACK of the head, which
/// the browser delays by up to 40 ms: a small file (a search chunk, a stylesheet) often
/// took that long over loopback.
fn no_delay(tcp: &mut TcpStream) {
    // Failing only costs latency, and the connection is still good.
    let _ = tcp.set_nodelay(true);
}

/// The plain-HTTP listener `run` serves from.
fn plain(tcp: TcpListener) -> TapIo<TcpListener, fn(&mut TcpStream)> {
    tcp.tap_io(no_delay as fn(&mut TcpStream))
}

/// Serves `app` on `bound` until the process stops, answering only for `names`.
pub async fn run(bound: Bound, app: Router, names: Names) -> Result<(), Error> {
    let at = bound.local.to_string();
    let app = app.layer(axum::middleware::from_fn_with_state(Arc::new(names), guard));
    let service = |app: Router| app.into_make_service_with_connect_info::<SocketAddr>();
    let result = match bound.tls {
        None => axum::serve(plain(bound.tcp), service(app)).await,
        Some(acceptor) => {
            let (tx, rx) = mpsc::channel(64);
            let tcp = bound.tcp;
            tokio::spawn(async move {
                loop {
                    let Ok((mut stream, peer)) = tcp.accept().await else {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    };
                    no_delay(&mut stream);
                    let acceptor = acceptor.clone();
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        let handshake =
                            tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream));
                        if let Ok(Ok(tls)) = handshake.await {
                            let _ = tx.send((tls, peer)).await;
                        }
                    });
                }
            });
            let listener = TlsListener {
                incoming: rx,
                local: bound.local,
            };
            axum::serve(listener.tap_io(|_| {}), service(app)).await
        }
    };
    result.map_err(|e| io_error("serving", &at, e.to_string()))
}

#[cfg(test)]
mod tests {
    use axum::serve::Listener;

    use super::*;

    /// Without it, a small file's body waited for the browser's delayed ACK of the response
    /// head: often 40 ms for a search chunk over loopback (benches/search.mjs).
    #[tokio::test]
    async fn accepted_connections_have_nagle_off() {
        let bound = bind("127.0.0.1", 0, None).await.unwrap();
        let local = bound.local;
        let mut listener = plain(bound.tcp);
        let (accepted, client) = tokio::join!(listener.accept(), TcpStream::connect(local));
        client.unwrap();
        assert!(accepted.0.nodelay().unwrap());
    }

    #[test]
    fn only_exact_names_are_this_server() {
        let names = Names::new("https://Docs.Example.com/guide/");
        for ok in [
            "localhost",
            "LocalHost:4000",
            "127.0.0.1",
            "127.0.0.1:8080",
            "[::1]",
            "[::1]:8080",
            "10.1.2.3",
            "docs.example.com",
            "docs.example.com:443",
        ] {
            assert!(names.allows(ok), "{ok} refused");
        }
        for bad in [
            "127.evil.example",
            "127.0.0.1.evil.example",
            "127.1",
            "localhost.evil.example",
            "evil.example",
            "[127.0.0.1]",
            "user@localhost",
            "docs.example.com.evil.example",
            "",
            "localhost/x",
        ] {
            assert!(!names.allows(bad), "{bad} allowed");
        }
        assert!(!Names::new("").allows("docs.example.com"));
    }

    #[test]
    fn loopback_names_are_parsed_not_prefixed() {
        assert!(is_loopback_name("localhost"));
        assert!(is_loopback_name("127.0.0.2"));
        assert!(is_loopback_name("[::1]"));
        assert!(!is_loopback_name("127.evil.example"));
        assert!(!is_loopback_name("10.0.0.1"));
    }

    /// Every route goes through the guard, the fallback included.
    #[tokio::test]
    async fn other_hosts_are_refused_on_every_route() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let bound = bind("127.0.0.1", 0, None).await.unwrap();
        let local = bound.local;
        let app = Router::new()
            .route("/x", axum::routing::get(|| async { "x" }))
            .fallback(|| async { "page" });
        tokio::spawn(run(bound, app, Names::new("https://docs.example.com")));
        let status = |host: &'static str, path: &'static str| async move {
            let mut s = TcpStream::connect(local).await.unwrap();
            let head = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
            s.write_all(head.as_bytes()).await.unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out.split(' ').nth(1).unwrap_or_default().to_string()
        };
        for path in ["/x", "/anything"] {
            assert_eq!(status("127.evil.example", path).await, "421");
            assert_eq!(status("evil.example:80", path).await, "421");
            assert_eq!(status("127.0.0.1", path).await, "200");
            assert_eq!(status("docs.example.com", path).await, "200");
        }
    }
}
