//! The `docsite` command: parses arguments and calls the library.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use docsite::report::{self, Color};

#[derive(Parser)]
#[command(
    name = "docsite",
    version,
    about = "Markdown guides in, a fast, accessible docs site out."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the site into the output folder (default: ROOT/public).
    Build {
        /// The site root (holds content/, optional docsite.toml).
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Output folder.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Base URL the site is published at, e.g. https://example.org/handbook/.
        #[arg(long)]
        base_url: Option<String>,
        /// Include pages marked `draft: true`.
        #[arg(long)]
        drafts: bool,
        /// How to print problems.
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
    },
    /// Check the site (links, anchors, images, frontmatter, ...) without writing anything.
    ///
    /// Exit code 0 when there are no errors, 1 when there are, 2 when the site could not be
    /// loaded at all.
    Check {
        /// The site root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Include pages marked `draft: true`.
        #[arg(long)]
        drafts: bool,
        /// Also check links to other sites (results are cached for a day).
        #[arg(long)]
        external: bool,
        /// How to print findings.
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
    },
    /// Preview the site: build it into memory, serve it, rebuild and reload on every save.
    Serve {
        /// The site root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Port to listen on.
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// Open the site in the default browser once it is served.
        #[arg(long)]
        open: bool,
        #[command(flatten)]
        tls: TlsArgs,
    },
    /// Verify an OAuth application's setup from the terminal: runs the real sign-in against the
    /// provider and calls its API. The secret is read from an environment variable or a prompt,
    /// never from the command line. Exit code 0 when verified, 1 when not, 2 on bad input.
    Verify {
        /// The provider: azure-devops, azure-devops-entra, github, gitlab, bitbucket or oidc.
        #[arg(long)]
        provider: String,
        /// The provider's address (its default when omitted; the issuer URL for oidc).
        #[arg(long)]
        instance_url: Option<String>,
        /// The application's client ID.
        #[arg(long)]
        client_id: String,
        /// The environment variable holding the secret; without it, a prompt asks (no echo).
        #[arg(long, default_value = "DOCSITE_CLIENT_SECRET")]
        secret_env: String,
        /// The Microsoft Entra tenant (azure-devops-entra).
        #[arg(long)]
        tenant: Option<String>,
        /// Scopes to request, space separated (the provider's defaults when omitted).
        #[arg(long)]
        scopes: Option<String>,
        /// The local port for the callback: register http(s)://localhost:PORT/oauth/callback.
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// The site root whose docsite.toml holds the `[verify]` settings.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Do not open a browser; just print the URL.
        #[arg(long)]
        no_open: bool,
        #[command(flatten)]
        tls: TlsArgs,
    },
    /// Serve a built site for production, with the setup-verification endpoint.
    Host {
        /// The built site, e.g. `public`.
        dir: PathBuf,
        /// The site root whose docsite.toml holds the `[verify]` settings.
        #[arg(long)]
        root: Option<PathBuf>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Port to listen on.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        #[command(flatten)]
        tls: TlsArgs,
    },
    /// Create a new site that builds at once.
    Init {
        /// The folder to create it in.
        dir: PathBuf,
    },
}

/// `--tls` and its certificate options.
#[derive(clap::Args)]
struct TlsArgs {
    /// Serve https on localhost (some providers accept only https callback URLs). Uses a
    /// self-signed certificate kept in `.docsite-cache/tls/` unless --tls-cert/--tls-key are given.
    #[arg(long)]
    tls: bool,
    /// A PEM certificate chain to serve instead of the self-signed one (implies --tls).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

impl TlsArgs {
    fn into_tls(self, cache: PathBuf) -> Option<docsite::listen::Tls> {
        match (self.tls_cert, self.tls_key) {
            (Some(cert), Some(key)) => Some(docsite::listen::Tls::Files { cert, key }),
            _ if self.tls => Some(docsite::listen::Tls::SelfSigned { dir: cache }),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Human,
    Json,
    Github,
}

/// Image progress on stderr: on a terminal, a bar once the work has taken a second; anywhere
/// else (a CI log, a file) one plain line every five seconds, so a long first build shows it is
/// alive.
fn image_progress(terminal: bool) -> docsite::assets::Progress {
    use std::sync::Mutex;
    use std::time::{Duration, Instant};
    let start = Instant::now();
    if terminal {
        let bar = indicatif::ProgressBar::hidden();
        bar.set_style(
            indicatif::ProgressStyle::with_template("images {bar:30} {pos}/{len} {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let shown = std::sync::atomic::AtomicBool::new(false);
        return docsite::assets::Progress::new(move |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            if start.elapsed() > Duration::from_secs(1)
                && !shown.swap(true, std::sync::atomic::Ordering::Relaxed)
            {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
            if done == total {
                bar.finish_and_clear();
            }
        });
    }
    let last = Mutex::new(start);
    docsite::assets::Progress::new(move |done, total| {
        let Ok(mut last) = last.lock() else { return };
        if last.elapsed() >= Duration::from_secs(5) {
            *last = Instant::now();
            eprintln!(
                "images: {done}/{total} encoded, {} s",
                start.elapsed().as_secs()
            );
        }
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = Color::detect(std::io::stderr().is_terminal());
    match cli.command {
        Command::Build {
            root,
            out,
            base_url,
            drafts,
            format,
        } => {
            let opts = docsite::BuildOptions {
                root,
                out,
                base_url,
                drafts,
                progress: image_progress(std::io::stderr().is_terminal()),
            };
            let (problems, ok) = match docsite::build(&opts) {
                Ok(summary) => {
                    print_problems(&summary.warnings, format, color);
                    eprintln!("{summary}");
                    return ExitCode::SUCCESS;
                }
                Err(errors) => (errors.0, false),
            };
            print_problems(&problems, format, color);
            let n = problems.iter().filter(|e| e.is_error()).count();
            eprintln!("build failed: {n} error(s); the output folder was not changed");
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Command::Check {
            root,
            drafts,
            external,
            format,
        } => match docsite::build::load(
            &root,
            &docsite::build::LoadOptions {
                drafts,
                skip_highlight: true,
                ..Default::default()
            },
        ) {
            Ok(mut loaded) => {
                if external {
                    let links = docsite::check::external_links(&loaded);
                    let options = docsite::check::external::Options {
                        cache_dir: Some(root.join(&loaded.site.config.folders.cache)),
                        ..Default::default()
                    };
                    let found = docsite::check::external::check(&links, &options);
                    loaded.problems.extend(found);
                    docsite::check::apply_severities(
                        &loaded.site.config.check,
                        &mut loaded.problems,
                    );
                }
                print_problems(&loaded.problems, format, color);
                eprintln!("{}", report::summary(&loaded.problems, loaded.files_read()));
                if loaded.has_errors() {
                    ExitCode::FAILURE
                } else {
                    ExitCode::SUCCESS
                }
            }
            Err(errors) => {
                print_problems(&errors.0, format, color);
                eprintln!("the site could not be loaded");
                ExitCode::from(2)
            }
        },
        Command::Serve {
            root,
            host,
            port,
            open,
            tls,
        } => {
            let tls = tls.into_tls(root.join(".docsite-cache"));
            let scheme = if tls.is_some() { "https" } else { "http" };
            let options = docsite::serve::ServeOptions {
                root,
                host,
                port,
                tls,
            };
            let result = docsite::serve::serve(&options, |addr| {
                let url = if scheme == "https" && addr.ip().is_loopback() {
                    format!("https://localhost:{}/", addr.port())
                } else {
                    format!("{scheme}://{addr}/")
                };
                eprintln!("serving on {url} (Ctrl-C to stop)");
                if open {
                    open_browser(&url);
                }
            });
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprint!("{}", report::human(&e, color));
                    ExitCode::FAILURE
                }
            }
        }
        Command::Host {
            dir,
            root,
            host,
            port,
            tls,
        } => {
            let cache = root
                .clone()
                .unwrap_or_else(|| PathBuf::from("."))
                .join(".docsite-cache");
            let options = docsite::host::HostOptions {
                dir,
                config_root: root,
                host,
                port,
                tls: tls.into_tls(cache),
            };
            let result = docsite::host::host(&options, |addr, scheme| {
                eprintln!("hosting on {scheme}://{addr}/ (Ctrl-C to stop)");
            });
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprint!("{}", report::human(&e, color));
                    ExitCode::FAILURE
                }
            }
        }
        Command::Verify {
            provider,
            instance_url,
            client_id,
            secret_env,
            tenant,
            scopes,
            port,
            root,
            no_open,
            tls,
        } => {
            let secret = match std::env::var(&secret_env) {
                Ok(s) if !s.is_empty() => s,
                _ if std::io::stdin().is_terminal() => {
                    match rpassword::prompt_password("Client secret (not echoed): ") {
                        Ok(s) => s,
                        Err(e) => {
                            eprintln!("error: could not read the secret: {e}");
                            return ExitCode::from(2);
                        }
                    }
                }
                _ => {
                    eprintln!(
                        "error: no secret: set the environment variable {secret_env}, or run in a terminal to be asked"
                    );
                    return ExitCode::from(2);
                }
            };
            let config = match docsite::config::Config::load(&root) {
                Ok(c) => c.verify,
                Err(errors) => {
                    for e in &errors {
                        eprint!("{}", report::human(e, color));
                    }
                    return ExitCode::from(2);
                }
            };
            let options = docsite::verify::cli::CliOptions {
                provider,
                instance_url,
                client_id,
                secret: docsite::verify::secret::Secret::new(secret),
                tenant,
                scopes,
                port,
                tls: tls.into_tls(root.join(".docsite-cache")),
                config,
                root,
            };
            let result = docsite::verify::cli::run(options, |start, callback| {
                eprintln!("callback URL (register exactly this): {callback}");
                eprintln!("open this link to sign in at the provider: {start}");
                if !no_open {
                    open_browser(start);
                }
            });
            match result {
                Ok(report) => {
                    print!("{}", docsite::verify::cli::to_text(&report));
                    if report.verdict == docsite::verify::report::Verdict::Verified {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                }
                Err(e) => {
                    eprint!("{}", report::human(&e, color));
                    ExitCode::from(2)
                }
            }
        }
        Command::Init { dir } => match docsite::init::init(&dir) {
            Ok(files) => {
                for f in files {
                    eprintln!("created {}", dir.join(f).display());
                }
                eprintln!("next: docsite build --root {}", dir.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprint!("{}", report::human(&e, color));
                ExitCode::FAILURE
            }
        },
    }
}

/// Opens `url` with the system's opener; a failure is only a warning.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let spawned = std::process::Command::new(opener)
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if spawned.is_err() {
        eprintln!("could not open a browser ({opener} failed); open {url} yourself");
    }
}

fn print_problems(problems: &[docsite::Error], format: Format, color: Color) {
    if problems.is_empty() && !matches!(format, Format::Json) {
        return;
    }
    match format {
        Format::Human => eprintln!("{}", report::human_all(problems, color)),
        Format::Json => println!("{}", report::json(problems)),
        Format::Github => print!("{}", report::github(problems)),
    }
}
