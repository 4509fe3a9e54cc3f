//! Fuzzing on the stable toolchain: mutated inputs through docsite's parsers, every panic a
//! finding.
//!
//! ```text
//! cargo bench --bench fuzz                                   # every target, 60 s each
//! cargo bench --bench fuzz -- --target page --execs 10000000 --jobs 2
//! cargo bench --bench fuzz -- --seconds 600 --seed 42
//! ```
//!
//! cargo-fuzz needs a nightly toolchain, which a fresh machine of this project's kind does not
//! have; so this harness mutates real inputs itself (byte flips, deletions, duplications,
//! splices between seeds, and tokens from a dictionary of what the parsers look for: link and
//! image syntax, percent escapes, frontmatter fences, HTML, components, multi-byte and
//! right-to-left letters) and runs each through the library under `catch_unwind`.
//!
//! Targets:
//! - `page`: one page of the bundled site, its Markdown and frontmatter, through the whole
//!   pipeline (frontmatter, Markdown, highlighting, link resolution and checking, navigation,
//!   templates) with its links resolved in the real site, as the preview redoes a saved page;
//!   seeds are every page of `content/` and `tests/fixtures/`;
//! - `config`: `docsite.toml`, seeds from the fixtures and the README's examples;
//! - `links`: link targets resolved from a page of the site, percent-decoded and slugified.
//!
//! A panic's input is saved under `target/fuzz-crashes/` and the run exits 1. Without `--bench`
//! (under `cargo test --all-targets`) a smoke run: a few seconds per target, fixed seeds.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use docsite::build::{self, LoadOptions, Reloaded};

/// What the parsers look for: inserted whole, so a mutation reaches deep syntax quickly.
const DICTIONARY: &[&str] = &[
    "[",
    "]",
    "(",
    ")",
    "](",
    "![",
    "](#",
    "](../",
    "](/",
    "](./",
    "](%",
    "%",
    "%a",
    "%aé",
    "%2F",
    "%00",
    "%%",
    "#",
    "##",
    "\n# ",
    "\n## ",
    "{#",
    "}",
    "{",
    "{{",
    "}}",
    "{%",
    "%}",
    "<",
    ">",
    "</",
    "/>",
    "<img src=",
    "<a href=",
    "<!--",
    "-->",
    "<script>",
    "<Callout type=\"tip\">",
    "</Callout>",
    "<Tabs>",
    "<Tab label='x'>",
    "</Tab>",
    "</Tabs>",
    "<Include path=\"a.md\" />",
    "<Details summary=x>",
    "```",
    "```rust\n",
    "```sql\n",
    "~~~",
    "`",
    "\n---\n",
    "---\n",
    ":",
    ": ",
    "- ",
    "* ",
    "1. ",
    "> ",
    "> [!NOTE]\n",
    "|",
    "| --- |",
    "[^1]",
    "[^1]: ",
    "\\",
    "&",
    "&amp;",
    "&#x0;",
    "\"",
    "'",
    "\n",
    "\r\n",
    "\r",
    "\t",
    "    ",
    "\u{0}",
    "\u{feff}",
    "é",
    "\u{301}",
    "\u{202e}",
    "\u{200b}",
    "日本語",
    "👩‍👩‍👧",
    "title:",
    "description:",
    "slug:",
    "weight:",
    "draft: true",
    "aliases:",
    "hide:",
    "verify:",
    "image:",
    "date: 2026-13-45",
    "updated:",
    "tags: [",
    "+++",
    "http://",
    "https://",
    "mailto:",
    "javascript:",
    "data:",
    "?",
    "=",
    "..",
    "./",
    "//",
    ".md",
    ".png",
    ".webp",
    "index.md",
    "_index.md",
];

/// How often a run prints its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(60);

struct Input {
    name: String,
    bytes: Vec<u8>,
}

/// Mutates a copy of one seed: one to eight operations.
fn mutate(rng: &mut fastrand::Rng, seeds: &[Input], dictionary: &[&str]) -> Vec<u8> {
    let mut data = seeds[rng.usize(..seeds.len())].bytes.clone();
    for _ in 0..rng.usize(1..=8) {
        let at = rng.usize(..=data.len());
        match rng.u8(..7) {
            0 if !data.is_empty() => {
                let i = rng.usize(..data.len());
                data[i] ^= 1 << rng.u8(..8);
            }
            1 if !data.is_empty() => {
                let len = rng.usize(1..=32.min(data.len() - at.min(data.len() - 1)));
                let from = at.min(data.len() - len);
                data.drain(from..from + len);
            }
            2 if !data.is_empty() => {
                let from = rng.usize(..data.len());
                let len = rng.usize(1..=64.min(data.len() - from));
                let piece = data[from..from + len].to_vec();
                data.splice(at..at, piece);
            }
            3 => {
                let other = &seeds[rng.usize(..seeds.len())].bytes;
                if !other.is_empty() {
                    let from = rng.usize(..other.len());
                    let len = rng.usize(1..=256.min(other.len() - from));
                    data.splice(at..at, other[from..from + len].iter().copied());
                }
            }
            4 => {
                let c = char::from_u32(rng.u32(..0x11_0000)).unwrap_or('\u{fffd}');
                let mut buf = [0; 4];
                data.splice(at..at, c.encode_utf8(&mut buf).bytes());
            }
            _ => {
                let token = dictionary[rng.usize(..dictionary.len())];
                data.splice(at..at, token.bytes());
            }
        }
    }
    data
}

/// Every file under `dir` whose name ends with one of `exts`.
fn files(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "node_modules") {
                files(&path, exts, out);
            }
        } else if exts.iter().any(|e| path.to_string_lossy().ends_with(e)) {
            out.push(path);
        }
    }
}

fn seeds_of(paths: &[PathBuf]) -> Vec<Input> {
    paths
        .iter()
        .filter_map(|p| {
            Some(Input {
                name: p.display().to_string(),
                bytes: std::fs::read(p).ok()?,
            })
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// One fuzz target: runs inputs until told to stop.
trait Target {
    /// Runs one input; a panic in it is the finding.
    fn run(&mut self, input: &[u8]);
    /// Puts the target back in a known state after a panic.
    fn reset(&mut self);
}

/// `page`: a copy of the bundled site on a RAM disk, one page rewritten per input.
struct PageTarget {
    root: PathBuf,
    rel: String,
    original: Vec<u8>,
    loaded: Option<build::Loaded>,
}

impl PageTarget {
    fn new(repo: &Path, scratch: &Path) -> PageTarget {
        let root = scratch.join("site");
        let _ = std::fs::remove_dir_all(&root);
        for part in ["content", "templates", "static"] {
            if repo.join(part).is_dir() {
                copy_dir(&repo.join(part), &root.join(part)).expect("copying the bundled site");
            }
        }
        if let Ok(toml) = std::fs::read(repo.join("docsite.toml")) {
            std::fs::write(root.join("docsite.toml"), toml).expect("writing docsite.toml");
        }
        let rel = "docs/guide/writing-pages.md".to_string();
        let original = std::fs::read(root.join("content").join(&rel)).expect("the fuzzed page");
        let mut target = PageTarget {
            root,
            rel,
            original,
            loaded: None,
        };
        target.reset();
        target
    }

    fn options() -> LoadOptions {
        LoadOptions {
            // Images are read and checked, never encoded: encoding is not what is fuzzed here.
            defer_images: true,
            ..Default::default()
        }
    }

    fn page_path(&self) -> PathBuf {
        self.root.join("content").join(&self.rel)
    }
}

impl Target for PageTarget {
    fn run(&mut self, input: &[u8]) {
        std::fs::write(self.page_path(), input).expect("writing the page");
        let Some(loaded) = self.loaded.as_mut() else {
            self.reset();
            return;
        };
        match loaded.reload_page(&self.rel) {
            Reloaded::Pages(pages) => {
                let _ = build::render_pages(loaded, &pages, false);
            }
            Reloaded::Navigation(pages) => {
                let _ = build::render_pages(loaded, &pages, true);
            }
            Reloaded::Site => {
                // The whole site with this page in it, then back to the original.
                if let Ok(mut whole) = build::load(&self.root, &Self::options()) {
                    let pages: Vec<usize> = (0..whole.site.pages.len()).collect();
                    let _ = build::render_pages(&mut whole, &pages, true);
                }
                self.reset();
            }
        }
    }

    fn reset(&mut self) {
        std::fs::write(self.page_path(), &self.original).expect("restoring the page");
        self.loaded = Some(build::load(&self.root, &Self::options()).expect("the bundled site"));
    }
}

/// `config`: `docsite.toml` parsed and validated.
struct ConfigTarget;

impl Target for ConfigTarget {
    fn run(&mut self, input: &[u8]) {
        let text = String::from_utf8_lossy(input);
        let _ = docsite::config::Config::parse(&text, Path::new("docsite.toml"));
    }
    fn reset(&mut self) {}
}

/// `links`: a link target resolved from a page of the loaded site.
struct LinksTarget {
    loaded: build::Loaded,
}

impl Target for LinksTarget {
    fn run(&mut self, input: &[u8]) {
        let text = String::from_utf8_lossy(input);
        let (from, target) = text
            .split_once('\n')
            .unwrap_or(("docs/guide/index.md", &text));
        let site = &self.loaded.site;
        let _ = site.resolve_raw(from, target);
        let _ = site.resolve_raw("docs/guide/writing-pages.md", target);
        let _ = docsite::site::percent_decode(target);
        let _ = docsite::markdown::slugify(target);
        let _ = site.page_at(target);
    }
    fn reset(&mut self) {}
}

struct Run {
    name: &'static str,
    execs: u64,
    seconds: f64,
    crashes: Vec<PathBuf>,
}

/// Runs `make`'s target on `jobs` threads until `execs` inputs or `limit` elapsed.
fn fuzz(
    name: &'static str,
    make: &(dyn Fn(usize) -> Box<dyn Target> + Sync),
    seeds: &[Input],
    dictionary: &[&str],
    (execs, limit, seed, jobs): (u64, Duration, u64, usize),
    crash_dir: &Path,
    last_panic: &Arc<Mutex<String>>,
) -> Run {
    let start = Instant::now();
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let crashes = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for job in 0..jobs {
            let (done, stop, crashes) = (&done, &stop, &crashes);
            scope.spawn(move || {
                let mut target = make(job);
                let mut rng = fastrand::Rng::with_seed(seed.wrapping_add(job as u64 * 7919));
                let mut said = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    // A long run says how far it got, so stopping it early loses nothing.
                    if job == 0 && said.elapsed() >= PROGRESS_EVERY {
                        said = Instant::now();
                        println!(
                            "{name}: {} inputs, {:.0} s, {} panic(s)",
                            done.load(Ordering::Relaxed),
                            start.elapsed().as_secs_f64(),
                            crashes.lock().map_or(0, |c| c.len())
                        );
                    }
                    let input = mutate(&mut rng, seeds, dictionary);
                    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| target.run(&input)));
                    if outcome.is_err() {
                        let message = last_panic.lock().map(|m| m.clone()).unwrap_or_default();
                        let hash = blake3::hash(&input).to_hex();
                        let path = crash_dir.join(format!("{name}-{}.txt", &hash[..16]));
                        let _ = std::fs::create_dir_all(crash_dir);
                        let _ = std::fs::write(&path, &input);
                        eprintln!(
                            "{name}: panic ({message}); input saved to {}",
                            path.display()
                        );
                        if let Ok(mut c) = crashes.lock() {
                            c.push(path);
                        }
                        target.reset();
                    }
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if n >= execs || start.elapsed() >= limit {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    Run {
        name,
        execs: done.load(Ordering::Relaxed),
        seconds: start.elapsed().as_secs_f64(),
        crashes: crashes.into_inner().unwrap_or_default(),
    }
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bench = args.iter().any(|a| a == "--bench");
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let only = value("--target");
    let execs: u64 = value("--execs")
        .and_then(|v| v.parse().ok())
        .unwrap_or(u64::MAX);
    let seconds: f64 = value("--seconds")
        .and_then(|v| v.parse().ok())
        .unwrap_or(if bench { 60.0 } else { 4.0 });
    let seed: u64 = value("--seed").and_then(|v| v.parse().ok()).unwrap_or(1);
    let jobs: usize = value("--jobs")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);

    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("target"));
    let crash_dir = target_dir.join("fuzz-crashes");
    // A RAM disk when there is one: the page target writes a file per input.
    let shm = Path::new("/dev/shm");
    let scratch = tempfile::Builder::new()
        .prefix("docsite-fuzz-")
        .tempdir_in(if shm.is_dir() { shm } else { Path::new(".") })
        .or_else(|_| tempfile::tempdir())
        .expect("a scratch folder");

    // Panics are findings: their message is kept for the report instead of printed.
    let last_panic = Arc::new(Mutex::new(String::new()));
    {
        let last_panic = last_panic.clone();
        std::panic::set_hook(Box::new(move |info| {
            if let Ok(mut m) = last_panic.lock() {
                *m = info.to_string();
            }
        }));
    }

    let mut pages = Vec::new();
    files(&repo.join("content"), &[".md"], &mut pages);
    files(&repo.join("tests/fixtures"), &[".md"], &mut pages);
    let page_seeds = seeds_of(&pages);
    let mut tomls = Vec::new();
    files(&repo.join("tests/fixtures"), &[".toml"], &mut tomls);
    tomls.push(repo.join("docsite.toml"));
    let mut config_seeds = seeds_of(&tomls);
    // The TOML examples of the README and the user guide, each a seed.
    let mut docs = vec![repo.join("README.md")];
    files(&repo.join("content"), &[".md"], &mut docs);
    for doc in &docs {
        let Ok(text) = std::fs::read_to_string(doc) else {
            continue;
        };
        for block in text.split("```toml\n").skip(1) {
            let body = block.split("```").next().unwrap_or("");
            config_seeds.push(Input {
                name: doc.display().to_string(),
                bytes: format!("title = \"Fuzz\"\n{body}").into_bytes(),
            });
        }
    }
    let mut link_seeds = Vec::new();
    for page in &page_seeds {
        let text = String::from_utf8_lossy(&page.bytes);
        for piece in text.split("](").skip(1) {
            let target = piece.split(')').next().unwrap_or("");
            link_seeds.push(Input {
                name: page.name.clone(),
                bytes: format!("docs/guide/index.md\n{target}").into_bytes(),
            });
        }
    }
    let config_dictionary: Vec<&str> = DICTIONARY
        .iter()
        .copied()
        .chain([
            "[images]\n",
            "[check.severity]\n",
            "[verify]\n",
            "[markdown]\n",
            "[theme]\n",
            "[folders]\n",
            "[search]\n",
            "widths = [",
            "method = ",
            "copy_method = 9",
            "base_url = ",
            "\"off\"",
            "= 1e999",
            "= -1",
            "= [[]]",
            "= {}",
            "\"\"\"",
            "'''",
        ])
        .collect();

    println!(
        "seeds: {} pages, {} configs, {} links; {} s per target{}, seed {seed}, {jobs} job(s)",
        page_seeds.len(),
        config_seeds.len(),
        link_seeds.len(),
        seconds,
        if execs == u64::MAX {
            String::new()
        } else {
            format!(" or {execs} inputs")
        }
    );
    let limit = Duration::from_secs_f64(seconds);
    let settings = (execs, limit, seed, jobs);
    let scratch_path = scratch.path().to_path_buf();
    let mut runs = Vec::new();
    let wanted = |name: &str| only.as_deref().is_none_or(|o| o == name);
    if wanted("page") {
        let make = |job: usize| -> Box<dyn Target> {
            Box::new(PageTarget::new(
                &repo,
                &scratch_path.join(format!("page-{job}")),
            ))
        };
        runs.push(fuzz(
            "page",
            &make,
            &page_seeds,
            DICTIONARY,
            settings,
            &crash_dir,
            &last_panic,
        ));
    }
    if wanted("config") {
        let make = |_: usize| -> Box<dyn Target> { Box::new(ConfigTarget) };
        runs.push(fuzz(
            "config",
            &make,
            &config_seeds,
            &config_dictionary,
            settings,
            &crash_dir,
            &last_panic,
        ));
    }
    if wanted("links") {
        let make = |job: usize| -> Box<dyn Target> {
            let site = PageTarget::new(&repo, &scratch_path.join(format!("links-{job}")));
            Box::new(LinksTarget {
                loaded: site.loaded.expect("the bundled site"),
            })
        };
        runs.push(fuzz(
            "links",
            &make,
            &link_seeds,
            DICTIONARY,
            settings,
            &crash_dir,
            &last_panic,
        ));
    }
    let _ = std::panic::take_hook();

    let mut failed = false;
    for run in &runs {
        println!(
            "{:<7} {:>10} inputs in {:>7.1} s ({:>8.0}/s), {} panic(s)",
            run.name,
            run.execs,
            run.seconds,
            run.execs as f64 / run.seconds.max(1e-9),
            run.crashes.len()
        );
        failed |= !run.crashes.is_empty();
    }
    let total: u64 = runs.iter().map(|r| r.execs).sum();
    println!("total: {total} inputs");
    if failed {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    }
}
