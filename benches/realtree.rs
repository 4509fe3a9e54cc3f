//! Real-scale image benchmark: a docs tree the size of a real product's, first contact.
//!
//! ```text
//! cargo bench --bench realtree                      # the tree in target/bench-realtree/
//! cargo bench --bench realtree -- --tree DIR        # elsewhere (generated once, then reused)
//! ```
//!
//! The tree: 200 pages in 20 sections showing 1,200 screenshot-like images saved as lossy WebP
//! (quality 82), as a team that already converted its screenshots has them: flat UI panels,
//! glyph-like text runs, tables, terminals and gradient buttons (`tests/common/images.rs`),
//! one in ten a photo; sizes from 800x500 to 5120x3200 (16.4 Mpx), median about 1.6 Mpx. It is
//! generated once into the tree folder (a `.complete` marker says it is whole) so that runs
//! compare the same bytes.
//!
//! Measured, all on `target/release/docsite` as a child process (peak RSS by `wait4`):
//!
//! 1. a first build with an empty cache: wall, CPU, peak RSS, the outputs encoded;
//! 2. three warm builds (cache kept): median wall;
//! 3. every full-size output against its own source: total bytes and the largest ratio;
//! 4. CPU per encoded output against Debian's `cwebp` (same settings: `-q 80 -m 2 -resize W H`
//!    for each resized copy the pipeline makes, from its defaults) over every tenth image, in a
//!    site of those images alone;
//! 5. `docsite serve` with an empty cache: time to the first page, then until every page's
//!    images are on their WebP outputs (every `<img src>` under `/assets/`).
//!
//! Without `--bench` (under `cargo test --all-targets`) a smoke run on a tree of 12 small
//! images. Exits 1 if a step fails; with `--strict`, 2 if a target is missed.

#[path = "../tests/common/images.rs"]
mod testimages;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Sizes of the tree's images, repeated in this order: median 1.6 Mpx, a few large ones.
const SIZES: &[(u32, u32)] = &[
    (1280, 800),
    (1440, 900),
    (1600, 1000),
    (1200, 750),
    (1920, 1080),
    (800, 500),
    (1600, 1000),
    (1920, 1200),
    (1366, 768),
    (2880, 1800),
    (1440, 900),
    (1024, 640),
    (1600, 900),
    (1920, 1080),
    (2560, 1440),
    (1280, 800),
    (1680, 1050),
    (1440, 900),
    (3840, 2160),
    (1536, 960),
];

struct Tree {
    root: PathBuf,
    /// Site-relative path and byte size of every image.
    images: Vec<(String, u64, u32)>,
}

/// Generates the tree once (`count` images, `pages` pages), or reuses a complete one.
fn tree(root: &Path, count: usize, pages: usize, scale: u32) -> std::io::Result<Tree> {
    let marker = root.join(".complete");
    let content = root.join("content");
    let list = |content: &Path| -> std::io::Result<Vec<(String, u64, u32)>> {
        let mut images = Vec::new();
        for i in 0..count {
            let rel = image_rel(i, count, pages);
            let meta = std::fs::metadata(content.join(&rel))?;
            images.push((rel, meta.len(), SIZES[i % SIZES.len()].0 / scale));
        }
        Ok(images)
    };
    if marker.exists() {
        return Ok(Tree {
            root: root.to_path_buf(),
            images: list(&content)?,
        });
    }
    let _ = std::fs::remove_dir_all(root);
    std::fs::create_dir_all(&content)?;
    std::fs::write(
        root.join("docsite.toml"),
        "title = \"Real-scale tree\"\n[check.severity]\n\"orphan-page\" = \"off\"\n",
    )?;
    eprintln!("generating {count} images once into {} ...", root.display());
    let start = Instant::now();
    let made: Vec<std::io::Result<()>> = {
        use rayon::prelude::*;
        (0..count)
            .into_par_iter()
            .map(|i| {
                let (mut w, mut h) = SIZES[i % SIZES.len()];
                if i % 300 == 299 {
                    // The largest screenshots: a 5K display's, 16.4 Mpx.
                    (w, h) = (5120, 3200);
                }
                let (w, h) = (w / scale, h / scale);
                let img = if i % 10 == 7 {
                    testimages::photo(w, h, i as u64)
                } else {
                    airy(testimages::screenshot(w, h, i as u64), i)
                };
                let encoder = webp::Encoder::from_rgb(img.as_raw(), w, h);
                let bytes = encoder.encode(82.0);
                let path = content.join(image_rel(i, count, pages));
                std::fs::create_dir_all(path.parent().unwrap_or(&content))?;
                std::fs::write(path, &*bytes)
            })
            .collect()
    };
    for r in made {
        r?;
    }
    for s in 0..20 {
        let dir = content.join(format!("section-{s:02}"));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(
            dir.join("_index.md"),
            format!("---\ntitle: Section {s}\nweight: {s}\n---\nGuides of section {s}.\n"),
        )?;
    }
    let per_page = count.div_ceil(pages);
    for p in 0..pages {
        let mut text = format!(
            "---\ntitle: Guide {p}\nweight: {p}\n---\nThis guide walks through step {p} of the \
             setup, with a screenshot of each screen.\n\n"
        );
        for i in (p * per_page..(p + 1) * per_page).filter(|&i| i < count) {
            let name = image_rel(i, count, pages);
            let name = name.rsplit('/').next().unwrap_or(&name);
            text.push_str(&format!(
                "## Step {i}\n\nOpen the settings and select the option shown below; the \
                 values must match the ones you registered.\n\n![Step {i} of the setup](./{name})\n\n"
            ));
        }
        std::fs::write(content.join(page_rel(p)), text)?;
    }
    std::fs::write(&marker, b"")?;
    eprintln!("generated in {:.0} s", start.elapsed().as_secs_f64());
    Ok(Tree {
        root: root.to_path_buf(),
        images: list(&content)?,
    })
}

/// Real screenshots are mostly empty space: the generated one is clearer on its right side
/// but for a few bordered cards, bringing its bytes per pixel near a real tree's (a product
/// tree of 1,219 screenshots: 69 MB for 2.6 gigapixels).
fn airy(mut img: image::RgbImage, seed: usize) -> image::RgbImage {
    let (w, h) = img.dimensions();
    let bg = *img.get_pixel(w - 1, h - 1);
    let border = image::Rgb([208, 215, 222]);
    let (x0, y0, y1) = (w * 2 / 5, h / 8, h * 15 / 16);
    for y in y0..y1 {
        for x in x0..w {
            img.put_pixel(x, y, bg);
        }
    }
    for card in 0..(2 + seed % 3) as u32 {
        // (Clamped: the smoke run's images are a few dozen pixels.)
        let top = (y0 + 20 + card * (y1 - y0) / 4).min(h - 1);
        let bottom = (top + (y1 - y0) / 6).min(h - 1);
        let (left, right) = ((x0 + 24).min(w), w.saturating_sub(24).max(x0 + 24).min(w));
        for x in left..right {
            img.put_pixel(x, top, border);
            img.put_pixel(x, bottom, border);
        }
        for y in top..bottom {
            img.put_pixel(left, y, border);
            img.put_pixel(right.saturating_sub(1), y, border);
        }
    }
    img
}

fn page_rel(p: usize) -> String {
    format!("section-{:02}/guide-{p:03}.md", p % 20)
}

fn image_rel(i: usize, count: usize, pages: usize) -> String {
    let per_page = count.div_ceil(pages.max(1)).max(1);
    let p = (i / per_page).min(pages.saturating_sub(1));
    format!("section-{:02}/shot-{i:04}.webp", p % 20)
}

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
#[path = "rusage/mod.rs"]
mod sys;

struct Run {
    wall: f64,
    cpu: f64,
    rss_mb: f64,
    stderr: String,
}

/// Runs the binary to completion: wall, CPU (user + sys) and peak RSS of that child alone.
fn run(bin: &Path, args: &[&str]) -> Result<Run, String> {
    let start = Instant::now();
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    let mut pipe = child.stderr.take().ok_or("no stderr")?;
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = pipe.read_to_string(&mut s);
        s
    });
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    let (ok, cpu, rss_mb) = {
        let (ok, ru) = sys::wait(child.id()).map_err(|e| e.to_string())?;
        let tv = |t: &sys::Timeval| t.sec as f64 + t.usec as f64 / 1e6;
        (ok, tv(&ru.utime) + tv(&ru.stime), ru.maxrss as f64 / 1024.0)
    };
    #[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
    let (ok, cpu, rss_mb) = (child.wait().map_err(|e| e.to_string())?.success(), 0.0, 0.0);
    let wall = start.elapsed().as_secs_f64();
    let stderr = reader.join().unwrap_or_default();
    if !ok {
        return Err(format!(
            "{} {}: failed\n{stderr}",
            bin.display(),
            args.join(" ")
        ));
    }
    Ok(Run {
        wall,
        cpu,
        rss_mb,
        stderr,
    })
}

/// CPU seconds of this process's reaped children.
fn children_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    let get = |i: usize| f.get(i - 3).copied().unwrap_or(0.0) / 100.0;
    get(16) + get(17)
}

/// The number of outputs a build encoded, from its summary line (`N outputs encoded`).
fn outputs_encoded(stderr: &str) -> Option<u64> {
    let at = stderr.find(" outputs encoded")?;
    stderr[..at].rsplit([' ', '(']).next()?.parse().ok()
}

/// A plain HTTP/1.1 GET on loopback: (status, body).
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((status, body))
}

/// Whether every image of a served page is on its pipeline outputs.
fn on_outputs(html: &str) -> bool {
    html.split("<img src=\"")
        .skip(1)
        .all(|rest| rest.starts_with("/assets/"))
}

struct Serve {
    first_page: f64,
    all_webp: Option<f64>,
    rss_mb: f64,
}

/// `docsite serve` with an empty cache: the first page, then every page on WebP outputs.
fn serve(bin: &Path, root: &Path, pages: usize, limit: Duration) -> Result<Serve, String> {
    let _ = std::fs::remove_dir_all(root.join(".docsite-cache"));
    let start = Instant::now();
    let mut child = Command::new(bin)
        .args(["serve", "--port", "0", "--root"])
        .arg(root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let pid = child.id();
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
        while let Some(Ok(line)) = lines.next() {
            if let Some(port) = line
                .split("http://127.0.0.1:")
                .nth(1)
                .and_then(|r| r.split('/').next())
                .and_then(|p| p.parse::<u16>().ok())
            {
                let _ = tx.send(port);
            }
        }
    });
    let result = (|| {
        let port = rx
            .recv_timeout(Duration::from_secs(60))
            .map_err(|_| "serve printed no address within 60 s".to_string())?;
        let first = format!("/{}", page_rel(0).trim_end_matches(".md"));
        let first = format!("{first}/");
        loop {
            if let Some((200, _)) = get(port, &first) {
                break;
            }
            if start.elapsed() > Duration::from_secs(60) {
                return Err("no first page within 60 s".to_string());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let first_page = start.elapsed().as_secs_f64();
        let urls: Vec<String> = (0..pages)
            .map(|p| format!("/{}/", page_rel(p).trim_end_matches(".md")))
            .collect();
        let mut waiting: Vec<&String> = urls.iter().collect();
        let mut all_webp = None;
        while start.elapsed() < limit {
            waiting.retain(|u| !matches!(get(port, u), Some((200, html)) if on_outputs(&html)));
            if waiting.is_empty() {
                all_webp = Some(start.elapsed().as_secs_f64() - first_page);
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let rss_mb = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0);
        Ok(Serve {
            first_page,
            all_webp,
            rss_mb,
        })
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let benching = args.iter().any(|a| a == "--bench");
    let strict = args.iter().any(|a| a == "--strict");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    // The benchmark measures the release binary; the smoke run (under `cargo test`) the one
    // cargo built for it.
    let bin = std::env::var_os("DOCSITE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            if benching {
                target.join("release").join("docsite")
            } else {
                PathBuf::from(env!("CARGO_BIN_EXE_docsite"))
            }
        });
    let tree_dir = args
        .iter()
        .position(|a| a == "--tree")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            target.join(if benching {
                "bench-realtree"
            } else {
                "bench-realtree-smoke"
            })
        });
    let (count, pages, scale) = if benching { (1200, 200, 1) } else { (12, 4, 8) };
    if !bin.exists() {
        eprintln!(
            "{} is missing: build it first (cargo build --release), or set DOCSITE_BIN",
            bin.display()
        );
        // The smoke run under `cargo test` has no release binary to measure: nothing to do.
        return if benching {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        };
    }
    let tree = match tree(&tree_dir, count, pages, scale) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("generating the tree: {e}");
            return ExitCode::from(1);
        }
    };
    let root = tree.root.clone();
    let out = root.join("public");
    let root_s = root.to_string_lossy().into_owned();
    let out_s = out.to_string_lossy().into_owned();
    let source_bytes: u64 = tree.images.iter().map(|(_, b, _)| b).sum();
    println!(
        "tree: {} pages, {} images, {:.1} MB of lossy WebP sources ({})",
        pages,
        tree.images.len(),
        source_bytes as f64 / 1e6,
        root.display()
    );
    let mut missed = Vec::new();
    let build_args = ["build", "--root", root_s.as_str(), "--out", out_s.as_str()];

    // 1. First build.
    let _ = std::fs::remove_dir_all(root.join(".docsite-cache"));
    let cold = match run(&bin, &build_args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let encoded = outputs_encoded(&cold.stderr).unwrap_or(0);
    println!(
        "first build: {:.1} s wall, {:.1} s CPU, {:.0} MB peak RSS; {} outputs encoded ({:.0} ms CPU each)",
        cold.wall,
        cold.cpu,
        cold.rss_mb,
        encoded,
        cold.cpu * 1000.0 / encoded.max(1) as f64
    );
    if cold.wall > 60.0 {
        missed.push(format!("first build {:.1} s > 60 s", cold.wall));
    }
    if cold.rss_mb > 600.0 {
        missed.push(format!("first build {:.0} MB > 600 MB", cold.rss_mb));
    }

    // 2. Warm builds.
    let mut warm = Vec::new();
    for _ in 0..3 {
        match run(&bin, &build_args) {
            Ok(r) => warm.push(r.wall),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(1);
            }
        }
    }
    let warm = median(warm);
    println!("warm build: {:.0} ms (median of 3)", warm * 1000.0);
    if warm > 1.5 {
        missed.push(format!("warm build {warm:.2} s > 1.5 s"));
    }

    // 3. Full sizes against their sources.
    let mut full_total = 0u64;
    let mut worst: (f64, String) = (0.0, String::new());
    let mut copies = 0u64;
    if let Ok(entries) = std::fs::read_dir(out.join("assets")) {
        let sizes: std::collections::HashMap<String, u64> = tree
            .images
            .iter()
            .map(|(rel, b, _)| {
                let stem = rel.rsplit('/').next().unwrap_or(rel);
                (stem.trim_end_matches(".webp").to_string(), *b)
            })
            .collect();
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let len = e.metadata().map_or(0, |m| m.len());
            let Some((stem, rest)) = name.split_once('.') else {
                continue;
            };
            if rest.contains("w.webp") {
                copies += len;
                continue;
            }
            if let Some(src) = sizes.get(stem) {
                full_total += len;
                let ratio = len as f64 / *src as f64;
                if ratio > worst.0 {
                    worst = (ratio, name.clone());
                }
            }
        }
    }
    println!(
        "full sizes: {:.1} MB from {:.1} MB of sources ({:.1}%), largest ratio {:.3} ({}); resized copies {:.1} MB",
        full_total as f64 / 1e6,
        source_bytes as f64 / 1e6,
        full_total as f64 * 100.0 / source_bytes.max(1) as f64,
        worst.0,
        worst.1,
        copies as f64 / 1e6
    );
    if full_total > source_bytes || worst.0 > 1.0 {
        missed.push("a full size is larger than its source".into());
    }

    // 4. CPU per output against cwebp, over every tenth image in a site of its own.
    let sample_dir = tree_dir.with_file_name(format!(
        "{}-sample",
        tree_dir
            .file_name()
            .map_or("tree".into(), |n| n.to_string_lossy())
    ));
    let _ = std::fs::remove_dir_all(&sample_dir);
    let sample: Vec<&(String, u64, u32)> = tree.images.iter().step_by(10).collect();
    let sample_ok = (|| -> std::io::Result<()> {
        std::fs::create_dir_all(sample_dir.join("content/img"))?;
        std::fs::write(sample_dir.join("docsite.toml"), "title = \"Sample\"\n")?;
        let mut page = String::from("---\ntitle: Sample\n---\n");
        for (rel, _, _) in &sample {
            let name = rel.rsplit('/').next().unwrap_or(rel);
            std::fs::copy(
                root.join("content").join(rel),
                sample_dir.join("content/img").join(name),
            )?;
            page.push_str(&format!("![{name}](img/{name})\n\n"));
        }
        std::fs::write(sample_dir.join("content/index.md"), page)
    })();
    if let Err(e) = sample_ok {
        eprintln!("sample site: {e}");
        return ExitCode::from(1);
    }
    let sample_s = sample_dir.to_string_lossy().into_owned();
    let sample_out = sample_dir.join("public").to_string_lossy().into_owned();
    let ours = match run(&bin, &["build", "--root", &sample_s, "--out", &sample_out]) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let ours_outputs = outputs_encoded(&ours.stderr).unwrap_or(0);
    let cwebp_ok = Command::new("cwebp").arg("-version").output().is_ok();
    if ours_outputs == 0 {
        println!("CPU per output: no resized copy to compare (images narrower than 480 px)");
    } else if cwebp_ok {
        let before = children_cpu();
        let mut outputs = 0u64;
        let scratch = sample_dir.join("cwebp.webp");
        // The pipeline's own defaults: which copies it makes, and with what effort.
        let defaults = docsite::config::ImageOptions::default();
        let copy_method = defaults.copy_method.to_string();
        let quality = defaults.quality.to_string();
        for (rel, _, width) in &sample {
            for w in docsite::assets::copy_widths(*width, &defaults) {
                let status = Command::new("cwebp")
                    .args([
                        "-quiet",
                        "-q",
                        &quality,
                        "-m",
                        &copy_method,
                        "-resize",
                        &w.to_string(),
                        "0",
                    ])
                    .arg(root.join("content").join(rel))
                    .arg("-o")
                    .arg(&scratch)
                    .status();
                if status.is_ok_and(|s| s.success()) {
                    outputs += 1;
                }
            }
        }
        let theirs = children_cpu() - before;
        let ours_each = ours.cpu * 1000.0 / ours_outputs.max(1) as f64;
        let theirs_each = theirs * 1000.0 / outputs.max(1) as f64;
        println!(
            "CPU per output over {} images: docsite {:.1} ms ({} outputs, {:.1} s, whole build), cwebp {:.1} ms ({} outputs, {:.1} s): {:.2}x",
            sample.len(),
            ours_each,
            ours_outputs,
            ours.cpu,
            theirs_each,
            outputs,
            theirs,
            ours_each / theirs_each.max(1e-9)
        );
        if ours_each > theirs_each * 1.1 {
            missed.push(format!(
                "CPU per output {ours_each:.1} ms > 1.1 x cwebp's {theirs_each:.1} ms"
            ));
        }
    } else {
        println!("cwebp not installed (apt-get install webp): comparison skipped");
    }
    let _ = std::fs::remove_dir_all(&sample_dir);

    // 5. The preview with an empty cache.
    match serve(
        &bin,
        &root,
        pages,
        Duration::from_secs(if benching { 300 } else { 60 }),
    ) {
        Ok(s) => {
            println!(
                "serve, empty cache: first page {:.2} s after start; every page on WebP outputs {} later; peak RSS {:.0} MB",
                s.first_page,
                s.all_webp
                    .map_or("not within the limit".to_string(), |t| format!("{t:.1} s")),
                s.rss_mb
            );
            if s.first_page > 2.0 {
                missed.push(format!("serve's first page {:.2} s > 2 s", s.first_page));
            }
            if s.all_webp.is_none_or(|t| t > 60.0) {
                missed.push("serve: not every page on WebP within 60 s".into());
            }
        }
        Err(e) => {
            eprintln!("serve: {e}");
            return ExitCode::from(1);
        }
    }
    if missed.is_empty() {
        println!("all targets met");
        ExitCode::SUCCESS
    } else {
        println!("missed: {}", missed.join("; "));
        if strict {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        }
    }
}
