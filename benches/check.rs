//! The checker's speed: a full internal check of a generated corpus (`docsite check`, as a
//! process), and re-checking one changed page in a loaded site (the preview server's path).
//!
//! cargo bench --bench check -- [--pages N] [--edits E]
//!
//! Without `--bench` (as under `cargo test --all-targets`) it does a small smoke run.

#[allow(dead_code)]
mod corpus;

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use docsite::build::{LoadOptions, Reloaded, load};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let benching = args.iter().any(|a| a == "--bench");
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<usize>().ok())
    };
    let pages = value("--pages").unwrap_or(if benching { 10_000 } else { 200 });
    let edits = value("--edits").unwrap_or(if benching { 200 } else { 5 });
    let runs = if benching { 5 } else { 1 };

    // tmpfs when there is one: this measures the checker, not the disk.
    let base = if Path::new("/dev/shm").is_dir() {
        Path::new("/dev/shm").to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let dir = match tempfile::Builder::new()
        .prefix("docsite-check-bench-")
        .tempdir_in(base)
    {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let root = dir.path();
    if let Err(e) = corpus::generate(root, pages, 0x00D0_C517_E5EE_D001) {
        eprintln!("error generating the corpus: {e}");
        return ExitCode::FAILURE;
    }
    println!("corpus: {pages} pages in {}", root.display());

    // Full check, as a writer or CI runs it.
    let bin = env!("CARGO_BIN_EXE_docsite");
    let mut walls = Vec::new();
    for _ in 0..runs + 1 {
        let t = Instant::now();
        let out = Command::new(bin)
            .arg("check")
            .arg("--root")
            .arg(root)
            .output();
        let wall = t.elapsed();
        match out {
            Ok(o) if o.status.success() => walls.push(wall),
            Ok(o) => {
                eprintln!(
                    "docsite check failed:\n{}",
                    String::from_utf8_lossy(&o.stderr)
                );
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("error running {bin}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    walls.remove(0); // warm-up
    walls.sort();
    println!(
        "docsite check, {pages} pages: median {:.0} ms, min {:.0} ms (target ≤ 1000 ms)",
        ms(walls[walls.len() / 2]),
        ms(walls[0])
    );

    // One page edited again and again in a loaded site.
    let options = LoadOptions {
        skip_highlight: true,
        ..Default::default()
    };
    let mut loaded = match load(root, &options) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("load failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let rel = "section-03/page-00003.md";
    let path = root.join("content").join(rel);
    let original = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("reading {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    };
    let mut times = Vec::new();
    for i in 0..edits {
        let edited = format!(
            "{original}\n\n## Edit {i}\n\nA new paragraph with a [link](../section-00/page-00000.md).\n"
        );
        if std::fs::write(&path, edited).is_err() {
            return ExitCode::FAILURE;
        }
        let t = Instant::now();
        let r = loaded.reload_page(rel);
        times.push(t.elapsed());
        if r == Reloaded::Site {
            eprintln!("an edit of the body asked for a full reload");
            return ExitCode::FAILURE;
        }
    }
    times.sort();
    let pct = |p: usize| ms(times[(times.len() - 1) * p / 100]);
    println!(
        "re-check one changed page ({edits} edits): p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms (target ≤ 10 ms)",
        pct(50),
        pct(95),
        ms(*times.last().unwrap_or(&Duration::ZERO))
    );
    ExitCode::SUCCESS
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
