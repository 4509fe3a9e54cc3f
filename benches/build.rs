//! Build benchmark: times `docsite build` on generated corpora.
//!
//! ```text
//! cargo bench --bench build -- [--pages N]... [--runs R] [--warmup W] [--seed S] [--keep DIR] [--strict] [--cold] [--components] [--long-tail [--before BIN]]
//!
//! `--components` adds a `<Callout>` and an `<Include>` of a shared file to every page.
//! `--cold` deletes the site's `.docsite-cache` before every run, so every run highlights every
//! code block again (a first build); without it, runs after the warm-up reuse the cache.
//!
//! `--long-tail` compares, to tmpfs only, the corpus above with the same corpus whose code
//! blocks cycle through languages the own scanners do not know (`corpus::LONG_TAIL_LANGS`,
//! highlighted by the grammar set), alternating one run of each so that a busy machine slows
//! both alike, and prints the ratio of their medians (wall and CPU). `--before BIN` adds a
//! third build in each round: BIN (today's binary, built from main) on the standard corpus,
//! and the ratios are then taken against it.
//! ```
//!
//! For each page count (default 1,000 and 10,000) it generates a reproducible corpus (see
//! `corpus/mod.rs`) under /dev/shm, then runs the release binary, building (a) to a folder on
//! tmpfs and (b) to `target/bench-out/` on disk, W warm-up runs (default 1) then R timed runs
//! (default 5) each, and prints median / min wall time, the build's own reported time, CPU time
//! and the child's peak RSS.
//!
//! Peak RSS is the kernel's `ru_maxrss` of that one child, read by reaping it with `wait4(2)`
//! (declared here with `extern "C"`; std already links the C library, so no crate is needed).
//! That is exact, unlike polling `/proc/PID/status` (which misses the last milliseconds of a
//! short run) and needs no GNU `time`. On a platform other than 64-bit Linux, RSS shows as n/a.
//!
//! Exits 1 if a build fails (its messages are printed) or the corpus's links are not rendered
//! as expected; with `--strict`, exits 2 if a target is missed. `--keep DIR` writes the corpora
//! and tmpfs outputs under DIR instead of a fresh /dev/shm folder and leaves them (and the disk
//! outputs) in place afterwards.

mod corpus;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Targets for builds to tmpfs: (pages, max wall ms, max RSS MB).
const TARGETS: &[(usize, f64, Option<f64>)] = &[(1000, 200.0, None), (10000, 1500.0, Some(300.0))];

struct Args {
    pages: Vec<usize>,
    runs: usize,
    warmup: usize,
    seed: u64,
    keep: Option<PathBuf>,
    strict: bool,
    /// Delete the site's cache folder before every run: measures first builds.
    cold: bool,
    /// Compare the standard corpus with its long-tail variant, alternating runs.
    long_tail: bool,
    /// With `long_tail`, also time this binary on the standard corpus.
    before: Option<PathBuf>,
    /// Add a component and an include to every page.
    components: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        pages: Vec::new(),
        runs: 5,
        warmup: 1,
        seed: 0x00D0_C517_E5EE_D001,
        keep: None,
        strict: false,
        cold: false,
        long_tail: false,
        before: None,
        components: false,
    };
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it,
    // and then a small smoke run proves the harness works without spending minutes.
    let benching = std::env::args().any(|a| a == "--bench");
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            // `cargo bench` passes `--bench` to every bench target.
            "--bench" => {}
            "--pages" | "-n" => {
                let v = value("--pages")?;
                for p in v.split(',') {
                    let n: usize = p
                        .trim()
                        .replace('_', "")
                        .parse()
                        .map_err(|_| format!("bad page count {p:?}"))?;
                    if n < 2 {
                        return Err("--pages must be at least 2".into());
                    }
                    a.pages.push(n);
                }
            }
            "--runs" => a.runs = value("--runs")?.parse().map_err(|_| "bad --runs")?,
            "--warmup" => a.warmup = value("--warmup")?.parse().map_err(|_| "bad --warmup")?,
            "--seed" => a.seed = value("--seed")?.parse().map_err(|_| "bad --seed")?,
            "--keep" => a.keep = Some(PathBuf::from(value("--keep")?)),
            "--cold" => a.cold = true,
            "--long-tail" => a.long_tail = true,
            "--components" => a.components = true,
            "--before" => a.before = Some(PathBuf::from(value("--before")?)),
            "--strict" => a.strict = true,
            "-h" | "--help" => {
                println!(
                    "cargo bench --bench build -- [--pages N[,N]]... [--runs R] [--warmup W] [--seed S] [--keep DIR] [--strict] [--cold] [--components] [--long-tail [--before BIN]]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    if a.pages.is_empty() {
        a.pages = if benching {
            vec![1000, 10000]
        } else {
            vec![50]
        };
    }
    if !benching {
        a.runs = 1;
        a.warmup = 0;
    }
    if a.runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    Ok(a)
}

/// One finished build.
struct Run {
    wall: Duration,
    cpu: Duration,
    /// Peak resident set of the child, KiB.
    max_rss_kib: Option<u64>,
    ok: bool,
    stderr: String,
}

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
#[path = "rusage/mod.rs"]
mod sys;

fn run_build(bin: &Path, root: &Path, out: &Path) -> std::io::Result<Run> {
    let start = Instant::now();
    let mut child = Command::new(bin)
        .args(["build", "--root"])
        .arg(root)
        .arg("--out")
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut pipe = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = pipe.read_to_string(&mut s);
        s
    });
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    let (ok, cpu, max_rss_kib) = {
        let (ok, ru) = sys::wait(child.id())?;
        let tv = |t: &sys::Timeval| Duration::new(t.sec as u64, (t.usec * 1000) as u32);
        (ok, tv(&ru.utime) + tv(&ru.stime), Some(ru.maxrss as u64))
    };
    #[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
    let (ok, cpu, max_rss_kib) = (child.wait()?.success(), Duration::ZERO, None);
    let wall = start.elapsed();
    let stderr = reader.join().unwrap_or_default();
    Ok(Run {
        wall,
        cpu,
        max_rss_kib,
        ok,
        stderr,
    })
}

/// The number of pages in the summary line (`built N pages, ...`).
fn reported_pages(stderr: &str) -> Option<usize> {
    let line = stderr.lines().rev().find(|l| l.starts_with("built "))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The build's own time from the summary line (`... in X ms ...`).
fn reported_ms(stderr: &str) -> Option<f64> {
    let line = stderr.lines().rev().find(|l| l.starts_with("built "))?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let i = words.iter().position(|w| *w == "ms")?;
    words.get(i.checked_sub(1)?)?.parse().ok()
}

/// The HTML file a content page is written to.
fn page_html(out: &Path, rel: &str) -> Option<PathBuf> {
    let stem = rel.trim_end_matches(".md");
    [
        out.join(stem).join("index.html"),
        out.join(format!("{stem}.html")),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// Checks that the output has every page and that fragment links point at real heading ids.
fn check_output(out: &Path, c: &corpus::Corpus) -> Result<(), String> {
    for i in [0, c.pages / 2, c.pages - 1] {
        let rel = corpus::page_rel(i);
        if page_html(out, &rel).is_none() {
            return Err(format!("no HTML for {rel} under {}", out.display()));
        }
    }
    let step = (c.fragment_links.len() / 200).max(1);
    for (from, to, id) in c.fragment_links.iter().step_by(step) {
        let to_rel = corpus::page_rel(*to);
        let html = page_html(out, &to_rel).ok_or(format!("no HTML for {to_rel}"))?;
        let text = std::fs::read_to_string(&html).map_err(|e| e.to_string())?;
        if !text.contains(&format!("id=\"{id}\"")) {
            return Err(format!(
                "{} links to {to_rel}#{id}, but {} has no such id",
                corpus::page_rel(*from),
                html.display()
            ));
        }
        let from_html = page_html(out, &corpus::page_rel(*from)).ok_or("no HTML for a page")?;
        let from_text = std::fs::read_to_string(&from_html).map_err(|e| e.to_string())?;
        if !from_text.contains(&format!("#{id}\"")) {
            return Err(format!("{} lost its link to #{id}", from_html.display()));
        }
    }
    Ok(())
}

struct Row {
    pages: usize,
    dest: &'static str,
    wall_med: f64,
    wall_min: f64,
    reported_med: Option<f64>,
    cpu_med: f64,
    rss_mb: Option<f64>,
    target: String,
    missed: bool,
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn bench_one(
    bin: &Path,
    root: &Path,
    out: &Path,
    args: &Args,
    c: &corpus::Corpus,
    dest: &'static str,
) -> Result<Row, String> {
    let expect_min = c.pages + corpus::SECTIONS;
    let mut runs = Vec::new();
    for k in 0..args.warmup + args.runs {
        if dest == "disk" {
            // Flush the previous run's writes so each run starts from the same state.
            let _ = Command::new("sync").status();
        }
        if args.cold {
            let _ = std::fs::remove_dir_all(root.join(".docsite-cache"));
        }
        let r = run_build(bin, root, out).map_err(|e| format!("running {}: {e}", bin.display()))?;
        if !r.ok {
            return Err(format!(
                "build of {} pages to {} failed:\n{}",
                c.pages,
                out.display(),
                r.stderr
            ));
        }
        match reported_pages(&r.stderr) {
            Some(p) if p >= expect_min => {}
            other => {
                return Err(format!(
                    "expected at least {expect_min} pages built, summary says {other:?}:\n{}",
                    r.stderr
                ));
            }
        }
        if k == 0 {
            check_output(out, c)?;
        }
        if k >= args.warmup {
            runs.push(r);
        }
    }
    let wall: Vec<f64> = runs.iter().map(|r| ms(r.wall)).collect();
    let reported: Vec<f64> = runs.iter().filter_map(|r| reported_ms(&r.stderr)).collect();
    let rss = runs
        .iter()
        .filter_map(|r| r.max_rss_kib)
        .max()
        .map(|k| k as f64 / 1024.0);
    let wall_med = median(wall.clone());
    let (target, missed) = match TARGETS.iter().find(|t| t.0 == c.pages && dest == "tmpfs") {
        Some(&(_, max_ms, max_mb)) => {
            let mut missed = wall_med > max_ms;
            let mut s = format!("≤{max_ms:.0} ms");
            if let Some(mb) = max_mb {
                s += &format!(", ≤{mb:.0} MB");
                missed |= rss.is_some_and(|r| r > mb);
            }
            (
                format!("{s}: {}", if missed { "MISSED" } else { "ok" }),
                missed,
            )
        }
        None => ("-".into(), false),
    };
    Ok(Row {
        pages: c.pages,
        dest,
        wall_med,
        wall_min: wall.iter().copied().fold(f64::INFINITY, f64::min),
        reported_med: (reported.len() == runs.len()).then(|| median(reported)),
        cpu_med: median(runs.iter().map(|r| ms(r.cpu)).collect()),
        rss_mb: rss,
        target,
        missed,
    })
}

/// `--long-tail`: one run of each build in turn, `warmup + runs` times, to tmpfs. Returns the
/// rows of `--before` on the standard corpus (if given), then of this binary on the standard
/// and on the long-tail corpus.
fn bench_alternating(bin: &Path, base: &Path, n: usize, args: &Args) -> Result<Vec<Row>, String> {
    let mut corpora = Vec::new();
    for (name, long_tail) in [("standard", false), ("long-tail", true)] {
        let root = base.join(format!("pages-{n}-{name}"));
        let c = corpus::generate_with(&root, n, args.seed, long_tail)
            .map_err(|e| format!("generating {n} pages in {}: {e}", root.display()))?;
        corpora.push((root, c));
    }
    // (binary, corpus, output folder)
    let mut builds: Vec<(&Path, usize, PathBuf)> = Vec::new();
    if let Some(before) = &args.before {
        builds.push((before, 0, base.join(format!("out-{n}-before"))));
    }
    builds.push((bin, 0, base.join(format!("out-{n}-standard"))));
    builds.push((bin, 1, base.join(format!("out-{n}-long-tail"))));
    let one = Args {
        pages: vec![n],
        runs: 1,
        warmup: 0,
        seed: args.seed,
        keep: None,
        strict: false,
        cold: args.cold,
        long_tail: true,
        before: None,
        components: false,
    };
    let mut rows: Vec<Vec<Row>> = builds.iter().map(|_| Vec::new()).collect();
    for k in 0..args.warmup + args.runs {
        for (i, (b, c, out)) in builds.iter().enumerate() {
            let (root, corpus) = &corpora[*c];
            let row = bench_one(b, root, out, &one, corpus, "tmpfs")?;
            if k >= args.warmup {
                rows[i].push(row);
            }
        }
    }
    let merge = |rows: &[Row]| Row {
        pages: n,
        dest: "tmpfs",
        wall_med: median(rows.iter().map(|r| r.wall_med).collect()),
        wall_min: rows
            .iter()
            .map(|r| r.wall_min)
            .fold(f64::INFINITY, f64::min),
        reported_med: rows
            .iter()
            .map(|r| r.reported_med)
            .collect::<Option<Vec<f64>>>()
            .map(median),
        cpu_med: median(rows.iter().map(|r| r.cpu_med).collect()),
        rss_mb: rows.iter().filter_map(|r| r.rss_mb).reduce(f64::max),
        target: "-".into(),
        missed: false,
    };
    if args.keep.is_none() {
        for (root, _) in &corpora {
            let _ = std::fs::remove_dir_all(root);
        }
        for (_, _, out) in &builds {
            let _ = std::fs::remove_dir_all(out);
        }
    }
    Ok(rows.iter().map(|r| merge(r)).collect())
}

fn print_table(rows: &[Row], runs: usize) {
    println!();
    println!(
        "{:>7}  {:<6} {:>11} {:>10} {:>13} {:>11} {:>13}  target (tmpfs)",
        "pages", "output", "median ms", "min ms", "reported ms", "cpu ms", "peak RSS MB",
    );
    for r in rows {
        println!(
            "{:>7}  {:<6} {:>11.1} {:>10.1} {:>13} {:>11.0} {:>13}  {}",
            r.pages,
            r.dest,
            r.wall_med,
            r.wall_min,
            r.reported_med.map_or("n/a".into(), |v| format!("{v:.0}")),
            r.cpu_med,
            r.rss_mb.map_or("n/a".into(), |v| format!("{v:.1}")),
            r.target
        );
    }
    println!(
        "({runs} timed runs each after warm-up; wall = spawn to exit; reported = the build's own summary; \
         cpu = user+sys; peak RSS = max ru_maxrss over the runs, via wait4)"
    );
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_docsite"));
    // target/<profile>/docsite → target/bench-out (follows CARGO_TARGET_DIR).
    let target_dir = bin.parent().and_then(Path::parent).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
        Path::to_path_buf,
    );
    let shm = Path::new("/dev/shm");
    let disk_base = target_dir.join("bench-out");
    let (base, cleanup) = match &args.keep {
        Some(dir) => (dir.clone(), false),
        None => {
            let tmp = if shm.is_dir() {
                shm.to_path_buf()
            } else {
                std::env::temp_dir()
            };
            (
                tmp.join(format!("docsite-bench-{}", std::process::id())),
                true,
            )
        }
    };
    if !shm.is_dir() {
        eprintln!(
            "note: no /dev/shm; the \"tmpfs\" output is under {}",
            base.display()
        );
    }
    eprintln!("binary: {}", bin.display());
    eprintln!(
        "corpora and tmpfs outputs: {}; disk outputs: {}",
        base.display(),
        disk_base.display()
    );

    let mut rows = Vec::new();
    let mut failure = None;
    if args.long_tail {
        for &n in &args.pages {
            match bench_alternating(&bin, &base, n, &args) {
                Ok(found) => {
                    let names: &[&str] = if args.before.is_some() {
                        &["before, standard", "after, standard", "after, long-tail"]
                    } else {
                        &["standard", "long-tail"]
                    };
                    let (Some(first), Some(last)) = (found.first(), found.last()) else {
                        continue;
                    };
                    for (name, r) in names.iter().zip(&found) {
                        println!(
                            "{n} pages{} {name}: median {:.0} ms wall (min {:.0}), {:.0} ms cpu, peak RSS {}",
                            if args.cold { " cold" } else { "" },
                            r.wall_med,
                            r.wall_min,
                            r.cpu_med,
                            r.rss_mb.map_or("n/a".into(), |v| format!("{v:.0} MB")),
                        );
                    }
                    println!(
                        "long-tail / {}: {:.2}× wall, {:.2}× cpu",
                        names[0],
                        last.wall_med / first.wall_med,
                        last.cpu_med / first.cpu_med,
                    );
                    rows.extend(found);
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
    }
    'outer: for &n in args.pages.iter().filter(|_| !args.long_tail) {
        let root = base.join(format!("pages-{n}"));
        let t = Instant::now();
        let generated = corpus::generate(&root, n, args.seed).and_then(|mut c| {
            if args.components {
                c.bytes += corpus::add_components(&root, n)?;
            }
            Ok(c)
        });
        let c = match generated {
            Ok(c) => c,
            Err(e) => {
                failure = Some(format!("generating {n} pages in {}: {e}", root.display()));
                break;
            }
        };
        eprintln!(
            "generated {n} pages ({:.1} MB, {} fragment links) in {:.0} ms",
            c.bytes as f64 / 1e6,
            c.fragment_links.len(),
            ms(t.elapsed())
        );
        let outs = [
            ("tmpfs", base.join(format!("out-{n}"))),
            ("disk", disk_base.join(format!("pages-{n}"))),
        ];
        for (dest, out) in outs {
            if let Err(e) = std::fs::create_dir_all(out.parent().unwrap()) {
                failure = Some(format!("creating {}: {e}", out.display()));
                break 'outer;
            }
            match bench_one(&bin, &root, &out, &args, &c, dest) {
                Ok(row) => {
                    eprintln!(
                        "  {n} pages → {dest}: median {:.1} ms, peak RSS {}",
                        row.wall_med,
                        row.rss_mb.map_or("n/a".into(), |v| format!("{v:.1} MB"))
                    );
                    rows.push(row);
                }
                Err(e) => {
                    failure = Some(e);
                    break 'outer;
                }
            }
            if cleanup {
                let _ = std::fs::remove_dir_all(&out);
            }
        }
        if cleanup && failure.is_none() {
            let _ = std::fs::remove_dir_all(&root);
        }
    }
    if cleanup && failure.is_none() {
        let _ = std::fs::remove_dir_all(&base);
    } else if failure.is_some() {
        eprintln!("kept for inspection: {}", base.display());
    }
    print_table(&rows, args.runs);
    if let Some(e) = failure {
        eprintln!("error: {e}");
        return ExitCode::from(1);
    }
    if args.strict && rows.iter().any(|r| r.missed) {
        eprintln!("error: a target was missed (--strict)");
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}
