//! `docsite host PUBLIC_DIR`: a production server for a built site plus the setup-verification
//! endpoint, without the preview's watcher or reload script.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use axum::Router;
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

/// Whether the URL path `path` names something `docsite host` may serve from `real_dir` (the
/// folder, canonical): no segment starting with `.` (dotfiles, `.git/`, `..`), and a real path,
/// after every symlink, inside the folder. A path that does not exist passes: it is a 404 anyway.
fn servable(real_dir: &Path, path: &str) -> bool {
    let decoded = crate::site::percent_decode(path);
    let rel = decoded.trim_start_matches('/');
    if rel
        .split(['/', '\\'])
        .any(|segment| segment.starts_with('.') || segment.contains('\0'))
    {
        return false;
    }
    let Ok(real) = std::fs::canonicalize(real_dir.join(rel)) else {
        return true;
    };
    if !real.starts_with(real_dir) {
        return false;
    }
    // A folder is served as its index.html, which may itself be a link out.
    match std::fs::canonicalize(real.join("index.html")) {
        Ok(index) if real.is_dir() => index.starts_with(real_dir),
        _ => true,
    }
}

/// Answers 404 for what [`servable`] refuses, before the file service sees it.
async fn only_inside(
    axum::extract::State(real_dir): axum::extract::State<std::sync::Arc<PathBuf>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if servable(&real_dir, request.uri().path()) {
        next.run(request).await
    } else {
        (axum::http::StatusCode::NOT_FOUND, "not found\n").into_response()
    }
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
        let routes = crate::verify::server::for_site(&verify, &root, options.tls.is_some())
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
        let real_dir = std::fs::canonicalize(&options.dir)
            .map_err(|e| Error::io("hosting", &options.dir, &e))?;
        let app = Router::new().merge(routes).fallback_service(files).layer(
            axum::middleware::from_fn_with_state(std::sync::Arc::new(real_dir), only_inside),
        );
        let scripts = crate::headers::theme_scripts(options.config_root.as_deref());
        let app = crate::headers::Policy::new(&scripts, options.tls.is_some()).layer(app);
        ready(local, bound.scheme());
        listen::run(bound, app, listen::Names::new(&verify.public_url)).await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn dotfiles_and_links_out_are_not_served() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "s").unwrap();
        let site = tempfile::tempdir().unwrap();
        let dir = site.path();
        std::fs::write(dir.join("index.html"), "<p>hi</p>").unwrap();
        std::fs::write(dir.join(".env"), "KEY=1").unwrap();
        std::fs::create_dir(dir.join(".git")).unwrap();
        std::fs::write(dir.join(".git/config"), "x").unwrap();
        std::fs::create_dir(dir.join("docs")).unwrap();
        std::fs::write(dir.join("docs/page.html"), "p").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.txt"), dir.join("leak.txt"))
            .unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.join("out")).unwrap();
        std::os::unix::fs::symlink(dir.join("docs/page.html"), dir.join("alias.html")).unwrap();
        let real = std::fs::canonicalize(dir).unwrap();
        for ok in [
            "/",
            "/index.html",
            "/docs/page.html",
            "/docs/",
            "/alias.html",
            "/missing.html",
        ] {
            assert!(servable(&real, ok), "{ok} refused");
        }
        for bad in [
            "/.env",
            "/%2eenv",
            "/.git/config",
            "/docs/../.env",
            "/leak.txt",
            "/out/secret.txt",
            "/out/",
        ] {
            assert!(!servable(&real, bad), "{bad} served");
        }
    }
}
