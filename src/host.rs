//! `docsite host PUBLIC_DIR`: a production server for a built site plus the setup-verification
//! endpoint, without the preview's watcher or reload script.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::http::{HeaderValue, header};
use tower_http::services::{ServeDir, ServeFile};

use crate::config::{CONFIG_FILE, Config};
use crate::error::{Error, ErrorKind, Location};
use crate::listen::{self, Tls};

/// How to host a built site.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// The built site (what `docsite build` wrote).
    pub dir: PathBuf,
    /// The site root whose `docsite.toml` has the `[verify]` settings (none: the defaults).
    pub config_root: Option<PathBuf>,
    /// Address to bind.
    pub host: String,
    /// Port (0: any free port).
    pub port: u16,
    /// Serve https.
    pub tls: Option<Tls>,
}

/// Runs the server until the process stops; `ready` gets the bound address.
pub fn host(options: &HostOptions, ready: impl FnOnce(SocketAddr, &str)) -> Result<(), Error> {
    if !options.dir.join("index.html").is_file() {
        return Err(Error::new(
            ErrorKind::Io {
                action: "hosting",
                message: "no index.html here: run `docsite build` first, and pass the folder it wrote (e.g. `public`)".into(),
            },
            Location::file(options.dir.display().to_string()),
        ));
    }
    let verify = match &options.config_root {
        Some(root) => Config::load(root).map_err(|mut e| e.remove(0))?.verify,
        None => Default::default(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the server", Path::new("."), &e))?;
    runtime.block_on(async {
        let bound = listen::bind(&options.host, options.port, options.tls.as_ref()).await?;
        let local = bound.local;
        let root = options
            .config_root
            .clone()
            .unwrap_or_else(|| PathBuf::from("."));
        let routes = crate::verify::server::for_site(&verify, &root, local, options.tls.is_some())
            .map_err(|message| {
                Error::new(
                    ErrorKind::InvalidValue {
                        key: "verify".into(),
                        message,
                    },
                    Location::file(CONFIG_FILE),
                )
            })?;
        let files = ServeDir::new(&options.dir)
            .append_index_html_on_directories(true)
            .not_found_service(ServeFile::new(options.dir.join("404.html")));
        let app = Router::new().merge(routes).fallback_service(files).layer(
            axum::middleware::map_response(|mut response: axum::response::Response| async move {
                response
                    .headers_mut()
                    .entry(header::X_CONTENT_TYPE_OPTIONS)
                    .or_insert(HeaderValue::from_static("nosniff"));
                response
            }),
        );
        ready(local, bound.scheme());
        listen::run(bound, app).await
    })
}
