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
    },
    /// Create a new site that builds at once.
    Init {
        /// The folder to create it in.
        dir: PathBuf,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Human,
    Json,
    Github,
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
                progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
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
                eprintln!("{}", report::summary(&loaded.problems));
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
        } => {
            let options = docsite::serve::ServeOptions { root, host, port };
            let result = docsite::serve::serve(&options, |addr| {
                eprintln!("serving on http://{addr}/ (Ctrl-C to stop)");
                if open {
                    open_browser(&format!("http://{addr}/"));
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
