//! Image pipeline benchmark.
//!
//! ```text
//! cargo bench --bench images
//! ```
//!
//! Generates (deterministically, see `tests/common/images.rs`: seeded xorshift, flat UI colours
//! with glyph-like text runs, tables, a terminal and a gradient for screenshots; smooth light
//! plus noise for photos) 30 screenshots (800x500 to 2400x1500, light and dark) and 5 photos
//! (1600x1067) as PNG in a throwaway site, then measures, in process with the library:
//!
//! 1. first builds alternating one rayon thread and two, three times each (cache deleted
//!    before each): wall time, CPU time (`/proc/self/stat`), bytes of every output (full sizes
//!    and resized copies); the speedup is the median of the three pairs;
//! 2. Debian's `cwebp` with the same settings and the same choices, when it is installed:
//!    screenshots both `-lossless -q 75 -m 4` and `-q 80 -m 4`, the lossy one kept when under
//!    half the lossless one; photos `-q 80 -m 4`; each resized copy `-q 80 -m 4 -resize W H`,
//!    and for screenshots also `-lossless -q 75 -m 4 -resize W H`, the smaller kept; its bytes
//!    and the children's CPU time; then the PSNR of both: full sizes against the source,
//!    copies against the exact area average of the source;
//! 3. a warm build of a site with 100 unchanged images: the build's own image time;
//! 4. a site of 1,000 images where one changed: how many are encoded.
//!
//! Without `--bench` (as under `cargo test --all-targets`) a small smoke run of the same steps.
//! Exits 1 if a step fails; with `--strict`, 2 if a target is missed.

#[path = "../tests/common/images.rs"]
mod testimages;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use docsite::BuildOptions;
use docsite::config::ImageOptions;

/// CPU seconds of this process and of its reaped children, from `/proc/self/stat`.
fn cpu() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the `(comm)`: state is field 3; utime 14, stime 15, cutime 16, cstime 17.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    let tick = 100.0;
    let get = |i: usize| f.get(i - 3).copied().unwrap_or(0.0) / tick;
    (get(14) + get(15), get(16) + get(17))
}

struct Image {
    rel: String,
    photo: bool,
    width: u32,
    height: u32,
}

fn write_site(root: &Path, images: &[(String, Vec<u8>)], widths: &str) {
    let content = root.join("content");
    std::fs::create_dir_all(content.join("img")).unwrap();
    std::fs::write(
        root.join("docsite.toml"),
        format!("title = \"Bench\"\n[images]\nwidths = [{widths}]\n"),
    )
    .unwrap();
    let mut page = String::from("---\ntitle: Images\n---\n");
    for (rel, bytes) in images {
        std::fs::write(content.join(rel), bytes).unwrap();
        page.push_str(&format!("![{rel}](./{rel})\n\n"));
    }
    std::fs::write(content.join("_index.md"), page).unwrap();
}

fn build(root: &Path, threads: usize) -> Result<docsite::BuildSummary, String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| e.to_string())?;
    pool.install(|| {
        docsite::build(&BuildOptions {
            root: root.to_path_buf(),
            ..Default::default()
        })
    })
    .map_err(|e| {
        e.0.iter()
            .map(|e| format!("{}: {}", e.location, e.kind))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

fn cwebp(args: &[&str], input: &Path, out: &Path) -> Option<u64> {
    let ok = Command::new("cwebp")
        .args(args)
        .arg(input)
        .arg("-o")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?
        .success();
    ok.then(|| std::fs::metadata(out).map(|m| m.len()).unwrap_or(0))
}

/// What cwebp made of the set.
struct Reference {
    /// Bytes of the full sizes.
    full: u64,
    /// Bytes of the resized copies.
    resized: u64,
    /// CPU seconds of the cwebp processes.
    cpu: f64,
}

/// cwebp over the same images at the same settings. With `keep`, its outputs stay there, named
/// like ours (`<stem>.webp`, `<stem>-<w>w.webp`), for comparing pixels.
fn cwebp_reference(
    root: &Path,
    images: &[Image],
    widths: &[u32],
    keep: Option<&Path>,
) -> Option<Reference> {
    Command::new("cwebp")
        .arg("-version")
        .stdout(Stdio::null())
        .status()
        .ok()?;
    let tmp = root.join("cwebp-out.webp");
    let out_dir = keep.unwrap_or(root);
    let stem = |img: &Image| {
        let name = img.rel.rsplit('/').next().unwrap_or(&img.rel);
        name.rsplit_once('.').map_or(name, |(s, _)| s).to_string()
    };
    let (_, before) = cpu();
    let (mut full, mut resized) = (0, 0);
    for img in images {
        let src = root.join("content").join(&img.rel);
        let lossy_out = out_dir.join(format!("{}.lossy.webp", stem(img)));
        let lossy = cwebp(&["-q", "80", "-m", "4"], &src, &lossy_out)?;
        let kept = out_dir.join(format!("{}.webp", stem(img)));
        full += if img.photo {
            let _ = std::fs::rename(&lossy_out, &kept);
            lossy
        } else {
            let lossless = cwebp(&["-lossless", "-q", "75", "-m", "4"], &src, &tmp)?;
            if (lossy as f64) < lossless as f64 * 0.5 {
                let _ = std::fs::rename(&lossy_out, &kept);
                lossy
            } else {
                let _ = std::fs::rename(&tmp, &kept);
                lossless
            }
        };
        let _ = std::fs::remove_file(&lossy_out);
        let copy_method = ImageOptions::default().copy_method.to_string();
        let options = ImageOptions {
            widths: widths.to_vec(),
            ..ImageOptions::default()
        };
        for w in docsite::assets::copy_widths(img.width, &options) {
            let h = ((img.height as u64 * w as u64 + img.width as u64 / 2) / img.width as u64)
                .to_string();
            let out = out_dir.join(format!("{}-{w}w.webp", stem(img)));
            let w = w.to_string();
            let lossy = cwebp(
                &["-q", "80", "-m", &copy_method, "-resize", &w, &h],
                &src,
                &out,
            )?;
            // The same rule as ours: a screenshot's copy is lossless when that is smaller.
            resized += if img.photo {
                lossy
            } else {
                let lossless = cwebp(
                    &[
                        "-lossless",
                        "-q",
                        "75",
                        "-m",
                        &copy_method,
                        "-resize",
                        &w,
                        &h,
                    ],
                    &src,
                    &tmp,
                )?;
                if lossless <= lossy {
                    let _ = std::fs::rename(&tmp, &out);
                    lossless
                } else {
                    lossy
                }
            };
        }
    }
    let (_, after) = cpu();
    Some(Reference {
        full,
        resized,
        cpu: after - before,
    })
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Bytes of the full sizes and of the resized copies (`-<w>w.webp`) in a folder.
fn split_bytes(dir: &Path) -> (u64, u64) {
    let (mut full, mut resized) = (0, 0);
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let len = e.metadata().map_or(0, |m| m.len());
        if e.file_name().to_string_lossy().ends_with("w.webp") {
            resized += len;
        } else {
            full += len;
        }
    }
    (full, resized)
}

/// Pooled squared error over many images, for a PSNR.
#[derive(Clone, Copy, Default)]
struct Psnr {
    sum: f64,
    n: f64,
    worst: f64,
}

impl Psnr {
    fn add(&mut self, a: &image::RgbImage, b: &image::RgbImage) {
        let sum: f64 = a
            .as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
            .sum();
        let n = a.as_raw().len() as f64;
        let db = to_db(sum / n);
        if self.n == 0.0 || db < self.worst {
            self.worst = db;
        }
        self.sum += sum;
        self.n += n;
    }

    fn db(&self) -> f64 {
        to_db(self.sum / self.n.max(1.0))
    }
}

fn to_db(mse: f64) -> f64 {
    if mse == 0.0 {
        99.0
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

/// The exact area average of `src` at `w` x `h`: the reference both resizers approximate.
fn area_downscale(src: &image::RgbImage, w: u32, h: u32) -> image::RgbImage {
    let (sw, sh) = (src.width() as f64, src.height() as f64);
    let (fx, fy) = (sw / w as f64, sh / h as f64);
    // Source pixels covering [a, b) along one axis, with their weights.
    let spans = |n: u32, f: f64, limit: u32| -> Vec<Vec<(u32, f64)>> {
        (0..n)
            .map(|i| {
                let (a, b) = (i as f64 * f, (i + 1) as f64 * f);
                let mut v = Vec::new();
                let mut s = a.floor() as u32;
                while (s as f64) < b && s < limit {
                    let wgt = (b.min(s as f64 + 1.0) - a.max(s as f64)) / f;
                    if wgt > 0.0 {
                        v.push((s, wgt));
                    }
                    s += 1;
                }
                v
            })
            .collect()
    };
    let xs = spans(w, fx, src.width());
    let ys = spans(h, fy, src.height());
    image::RgbImage::from_fn(w, h, |x, y| {
        let mut acc = [0f64; 3];
        for &(sy, wy) in &ys[y as usize] {
            for &(sx, wx) in &xs[x as usize] {
                let p = src.get_pixel(sx, sy).0;
                for c in 0..3 {
                    acc[c] += p[c] as f64 * wx * wy;
                }
            }
        }
        image::Rgb(acc.map(|v| v.round().clamp(0.0, 255.0) as u8))
    })
}

/// PSNR of our outputs and cwebp's: full sizes against the source, resized copies against
/// the exact area average of the source.
#[derive(Default)]
struct Quality {
    shots: Psnr,
    photos: Psnr,
    resized: Psnr,
    cwebp_shots: Psnr,
    cwebp_photos: Psnr,
    cwebp_resized: Psnr,
}

fn quality(root: &Path, images: &[Image], ours: &Path, theirs: &Path) -> Quality {
    let load = |p: &Path| image::open(p).ok().map(|i| i.to_rgb8());
    let names: Vec<String> = std::fs::read_dir(ours)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let mut q = Quality::default();
    for img in images {
        let name = img.rel.rsplit('/').next().unwrap_or(&img.rel);
        let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
        let Some(src) = load(&root.join("content").join(&img.rel)) else {
            continue;
        };
        let ours_of = |suffix: &str| {
            names
                .iter()
                .find(|n| n.starts_with(&format!("{stem}.")) && n.ends_with(suffix))
                .and_then(|n| load(&ours.join(n)))
        };
        let full = names
            .iter()
            .find(|n| n.starts_with(&format!("{stem}.")) && !n.ends_with("w.webp"))
            .and_then(|n| load(&ours.join(n)));
        if let (Some(a), Some(b)) = (full, load(&theirs.join(format!("{stem}.webp")))) {
            if img.photo {
                q.photos.add(&src, &a);
                q.cwebp_photos.add(&src, &b);
            } else {
                q.shots.add(&src, &a);
                q.cwebp_shots.add(&src, &b);
            }
        }
        for o in std::fs::read_dir(theirs).into_iter().flatten().flatten() {
            let n = o.file_name().to_string_lossy().into_owned();
            let Some(w) = n
                .strip_prefix(&format!("{stem}-"))
                .and_then(|r| r.strip_suffix("w.webp"))
            else {
                continue;
            };
            if let (Some(a), Some(b)) = (ours_of(&format!("-{w}w.webp")), load(&o.path())) {
                if a.dimensions() == b.dimensions() {
                    let reference = area_downscale(&src, a.width(), a.height());
                    q.resized.add(&reference, &a);
                    q.cwebp_resized.add(&reference, &b);
                }
            }
        }
    }
    q
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let benching = args.iter().any(|a| a == "--bench");
    let strict = args.iter().any(|a| a == "--strict");
    let (shots, photos, scale, warm_n, many_n) = if benching {
        (30u64, 5u64, 1u32, 100usize, 1000usize)
    } else {
        (3, 1, 8, 10, 20)
    };
    let widths = [480u32, 960, 1440];
    let widths_toml = "480, 960, 1440";
    let tmp = match tempfile::Builder::new().prefix("docsite-images-").tempdir() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("temporary folder: {e}");
            return ExitCode::from(1);
        }
    };
    let mut missed = Vec::new();

    // 1. The set: 30 screenshots and 5 photos.
    let root = tmp.path().join("set");
    let mut files = Vec::new();
    let mut images = Vec::new();
    for i in 0..shots {
        let (w, h) = testimages::screenshot_size(i);
        let (w, h) = (w / scale, h / scale);
        files.push((
            format!("img/shot-{i:02}.png"),
            testimages::png(&testimages::screenshot(w, h, i)),
        ));
        images.push(Image {
            rel: format!("img/shot-{i:02}.png"),
            photo: false,
            width: w,
            height: h,
        });
    }
    for i in 0..photos {
        let (w, h) = (1600 / scale, 1067 / scale);
        files.push((
            format!("img/photo-{i}.png"),
            testimages::png(&testimages::photo(w, h, 100 + i)),
        ));
        images.push(Image {
            rel: format!("img/photo-{i}.png"),
            photo: true,
            width: w,
            height: h,
        });
    }
    let png_bytes: u64 = files.iter().map(|(_, b)| b.len() as u64).sum();
    write_site(&root, &files, widths_toml);
    let cache = root.join(".docsite-cache");
    // Alternating 1 and 2 threads, several times: the machine is shared, one pair is noise.
    let rounds = if benching { 3 } else { 1 };
    let mut walls: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut cpus: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..rounds {
        for (slot, threads) in [1, 2].into_iter().enumerate() {
            let _ = std::fs::remove_dir_all(&cache);
            let (c0, _) = cpu();
            let start = Instant::now();
            let summary = match build(&root, threads) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("build failed:\n{e}");
                    return ExitCode::from(1);
                }
            };
            let wall = start.elapsed().as_secs_f64();
            let (c1, _) = cpu();
            println!(
                "first build, {threads} thread(s): {:.2} s wall, {:.2} s CPU; {}",
                wall,
                c1 - c0,
                summary.images
            );
            walls[slot].push(wall);
            cpus[slot].push(c1 - c0);
        }
    }
    let our_cpu = median(&cpus[0]);
    let speedups: Vec<f64> = walls[0].iter().zip(&walls[1]).map(|(a, b)| a / b).collect();
    let speedup = median(&speedups);
    let (our_full, our_resized) = split_bytes(&root.join("public/assets"));
    let our_bytes = our_full + our_resized;
    println!(
        "{} screenshots + {} photos: PNG {:.2} MB → WebP {:.2} MB (full sizes {:.2} MB, resized copies {:.2} MB)",
        shots,
        photos,
        png_bytes as f64 / 1e6,
        our_bytes as f64 / 1e6,
        our_full as f64 / 1e6,
        our_resized as f64 / 1e6,
    );
    println!(
        "2 threads vs 1: {:.2}x faster (median of {} alternating pairs; pairs {}), 1-thread CPU {:.2} s",
        speedup,
        speedups.len(),
        speedups
            .iter()
            .map(|s| format!("{s:.2}x"))
            .collect::<Vec<_>>()
            .join(", "),
        our_cpu
    );
    if benching && speedup < 1.8 {
        missed.push(format!("2 threads {speedup:.2}x faster (target ≥ 1.8x)"));
    }

    // 2. cwebp at the same settings.
    let theirs = root.join("cwebp");
    let _ = std::fs::create_dir_all(&theirs);
    match cwebp_reference(&root, &images, &widths, Some(&theirs)) {
        Some(r) => {
            let bytes = r.full + r.resized;
            let (rb, rc) = (our_bytes as f64 / bytes as f64, our_cpu / r.cpu.max(1e-9));
            println!(
                "cwebp, same settings: {:.2} MB (full sizes {:.2} MB, resized copies {:.2} MB), {:.2} s CPU → ours {:.3}x bytes (full {:.3}x, resized {:.3}x), {:.2}x CPU",
                bytes as f64 / 1e6,
                r.full as f64 / 1e6,
                r.resized as f64 / 1e6,
                r.cpu,
                rb,
                our_full as f64 / r.full as f64,
                our_resized as f64 / r.resized as f64,
                rc
            );
            let q = quality(&root, &images, &root.join("public/assets"), &theirs);
            for (what, ours, cw) in [
                ("full-size screenshots", q.shots, q.cwebp_shots),
                ("full-size photos", q.photos, q.cwebp_photos),
                ("resized copies", q.resized, q.cwebp_resized),
            ] {
                println!(
                    "PSNR, {what}: ours {:.2} dB (worst {:.2}), cwebp {:.2} dB (worst {:.2})",
                    ours.db(),
                    ours.worst,
                    cw.db(),
                    cw.worst
                );
            }
            if benching && rb > 1.0 {
                missed.push(format!("bytes {rb:.3}x of cwebp (target ≤ 1.00x)"));
            }
            if benching && rc > 1.0 {
                missed.push(format!("CPU {rc:.2}x of cwebp (target ≤ 1.0x)"));
            }
            if benching && q.resized.db() + 0.05 < q.cwebp_resized.db() {
                missed.push("resized copies below cwebp's PSNR".into());
            }
        }
        None => println!("cwebp not installed (apt-get install -y webp): comparison skipped"),
    }

    // 3. A warm build with many unchanged images.
    let warm = tmp.path().join("warm");
    let files: Vec<(String, Vec<u8>)> = (0..warm_n as u64)
        .map(|i| {
            let img = testimages::screenshot(800 / scale, 500 / scale, 1000 + i);
            (format!("img/w{i:03}.png"), testimages::png(&img))
        })
        .collect();
    write_site(&warm, &files, widths_toml);
    if let Err(e) = build(&warm, 2) {
        eprintln!("build failed:\n{e}");
        return ExitCode::from(1);
    }
    let mut warm_ms = Vec::new();
    for _ in 0..5 {
        match build(&warm, 2) {
            Ok(s) if s.images.encoded == 0 => warm_ms.push(s.images.millis),
            Ok(s) => {
                eprintln!("a warm build encoded {} images", s.images.encoded);
                return ExitCode::from(1);
            }
            Err(e) => {
                eprintln!("build failed:\n{e}");
                return ExitCode::from(1);
            }
        }
    }
    warm_ms.sort_unstable();
    let median = warm_ms[warm_ms.len() / 2];
    println!(
        "warm build, {warm_n} unchanged images: {median} ms of image work (median of 5), 0 encoded"
    );
    if benching && median > 50 {
        missed.push(format!("warm image work {median} ms (target ≤ 50 ms)"));
    }

    // 4. Many images, one changed.
    let many = tmp.path().join("many");
    let files: Vec<(String, Vec<u8>)> = (0..many_n as u64)
        .map(|i| {
            let img = testimages::screenshot(240, 150, 5000 + i);
            (format!("img/m{i:04}.png"), testimages::png(&img))
        })
        .collect();
    write_site(&many, &files, "120");
    let first = build(&many, 2);
    let changed_rel = PathBuf::from("content/img/m0007.png");
    let _ = std::fs::write(
        many.join(&changed_rel),
        testimages::png(&testimages::screenshot(240, 150, 424242)),
    );
    let start = Instant::now();
    match (first, build(&many, 2)) {
        (Ok(_), Ok(s)) => {
            println!(
                "{many_n} images, one changed: {} encoded, {} from cache, build {} ms",
                s.images.encoded,
                s.images.cached,
                start.elapsed().as_millis()
            );
            if s.images.encoded != 1 {
                eprintln!("expected exactly one image to be encoded");
                return ExitCode::from(1);
            }
        }
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("build failed:\n{e}");
            return ExitCode::from(1);
        }
    }

    for m in &missed {
        println!("MISSED: {m}");
    }
    if strict && !missed.is_empty() {
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}
