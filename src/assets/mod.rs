//! The image pipeline: every image a page shows becomes responsive WebP named by content hash.
//!
//! Three steps, so that checking and rendering never wait for an encoder:
//!
//! 1. [`ImageSet::plan`] reads each image's bytes and header (never its pixels): format, size
//!    (EXIF orientation applied), the cache key (blake3 of the bytes, the settings and
//!    [`PIPELINE_VERSION`]) and so every output's name. Bad input is found here: wrong format
//!    for the name, empty or unreadable headers, unsupported formats, decompression bombs,
//!    symlinks leading out of the site.
//! 2. Markdown asks the set for an image's HTML ([`markdown::Images`]) while it renders:
//!    `srcset`, `sizes`, `width`, `height`, lazy loading, a link to the full size.
//! 3. [`ImageSet::process`] makes the outputs the pages use, in parallel, unless the cache
//!    already has them; [`ImageSet::write`] puts them into the site's [`Sink`].
//!
//! The cache (`.docsite-cache/images/`) is content-addressed, written by atomic renames (two
//! builds at once are safe), and pruned of entries unused for `[images] cache_days`.

pub mod background;
mod cache;
mod encode;

use std::collections::{HashMap, HashSet};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use image::{ImageDecoder, ImageFormat, ImageReader};
use pulldown_cmark_escape::{escape_href, escape_html};
use rayon::prelude::*;

use crate::config::ImageOptions;
use crate::error::{Error, ErrorKind, Location};
use crate::markdown::{self, RefKind, Reference, Rendered, Resolved};
use crate::output::Sink;
use crate::site::Site;

pub use cache::Cache;
use cache::cache_name;
pub use encode::decode;

/// Bumped whenever the pipeline's output for the same input and settings changes, so that old
/// cache entries are not reused.
pub const PIPELINE_VERSION: u32 = 7;

/// File extensions that name images (lowercase).
const IMAGE_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "webp", "svg", "tif", "tiff", "heic", "heif", "avif", "bmp",
];

/// An image's format, from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// GIF (still or animated).
    Gif,
    /// WebP.
    Webp,
    /// SVG (copied as it is).
    Svg,
}

impl Format {
    fn image_format(self) -> Option<ImageFormat> {
        match self {
            Format::Png => Some(ImageFormat::Png),
            Format::Jpeg => Some(ImageFormat::Jpeg),
            Format::Gif => Some(ImageFormat::Gif),
            Format::Webp => Some(ImageFormat::WebP),
            Format::Svg => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Png => "PNG",
            Format::Jpeg => "JPEG",
            Format::Gif => "GIF",
            Format::Webp => "WebP",
            Format::Svg => "SVG",
        }
    }
}

/// Why an image cannot be published; becomes an [`ErrorKind`] at each page that uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Not what its name says, empty, truncated or corrupt.
    Bad(String),
    /// A format that is not published (named).
    Unsupported(String),
    /// Over `[images] max_pixels`.
    TooLarge {
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
        /// The limit.
        limit: u64,
    },
    /// Outside the site (a symlink out, or a path climbing above the root).
    Outside,
    /// The file changed after it was planned: plan it again.
    Changed,
}

impl Problem {
    /// The error for a reference to the image written as `target`.
    pub fn kind(&self, target: &str) -> ErrorKind {
        let target = target.to_string();
        match self {
            Problem::Bad(detail) => ErrorKind::BadImage {
                target,
                detail: detail.clone(),
            },
            Problem::Unsupported(format) => ErrorKind::UnsupportedImage {
                target,
                format: format.clone(),
            },
            Problem::TooLarge {
                width,
                height,
                limit,
            } => ErrorKind::ImageTooLarge {
                target,
                width: *width,
                height: *height,
                limit: *limit,
            },
            Problem::Outside => ErrorKind::ImageOutsideSite { target },
            Problem::Changed => ErrorKind::BadImage {
                target,
                detail: "it changed while it was processed (build again)".into(),
            },
        }
    }
}

/// One file the pipeline publishes for an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Output path, site-relative (`assets/shot.0123456789abcdef.webp`).
    pub rel: String,
    /// Pixel width.
    pub width: u32,
    /// Pixel height.
    pub height: u32,
    /// `None` for the full size, else the target width of a resized copy.
    pub resized: Option<u32>,
}

/// An image as planned: everything but its pixels.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Site-relative path of the source (a content asset or a `static/` file).
    pub rel: String,
    /// Where the source is read.
    pub path: PathBuf,
    /// The source's path for messages.
    pub display: PathBuf,
    /// Its format.
    pub format: Format,
    /// Width as shown (EXIF orientation applied).
    pub width: u32,
    /// Height as shown.
    pub height: u32,
    /// Size of the source in bytes.
    pub size: u64,
    /// Cache key: blake3 of the settings, the pipeline version and the source bytes (hex).
    pub key: String,
    /// The full size first, then resized copies by increasing width.
    pub outputs: Vec<Output>,
    /// Copied as it is (SVG, an animated GIF kept as GIF): no encoding, no cache.
    pub verbatim: bool,
    /// An animated GIF: one output, published as animated WebP once
    /// [`ImageSet::settle_animations`] found that smaller, else as it is.
    pub animated: bool,
}

/// What the pipeline did in a build.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageStats {
    /// Images published.
    pub images: usize,
    /// Images decoded and encoded in this build.
    pub encoded: usize,
    /// Images whose outputs all came from the cache (or were copied as they are).
    pub cached: usize,
    /// Bytes of the sources.
    pub bytes_before: u64,
    /// Bytes of the full-size outputs.
    pub bytes_after: u64,
    /// Time spent on image work (planning, processing, writing), in milliseconds.
    pub millis: u64,
    /// libwebp encoder runs (a sample, a trial that lost, and each output count one).
    pub encoder_runs: u64,
    /// Outputs that came out of the encoder (not copied from a source or the cache).
    pub outputs_encoded: u64,
}

impl std::fmt::Display for ImageStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "images: {} ({} encoded, {} from cache), {} → {} KB in {} ms",
            self.images,
            self.encoded,
            self.cached,
            self.bytes_before / 1024,
            self.bytes_after / 1024,
            self.millis
        )?;
        if self.outputs_encoded > 0 {
            write!(
                f,
                "; {} outputs encoded ({} encoder runs)",
                self.outputs_encoded, self.encoder_runs
            )?;
        }
        Ok(())
    }
}

/// Every image of a site, planned, and what processing them did.
#[derive(Debug)]
pub struct ImageSet {
    base_path: String,
    options: ImageOptions,
    cache: Cache,
    root: PathBuf,
    plans: HashMap<String, Result<Planned, Problem>>,
    /// Images whose outputs are ready (in the cache, or copied as they are).
    ready: HashSet<String>,
    /// Time spent planning (reading and hashing sources, reading headers).
    plan_time: Duration,
    /// Animated GIFs encoded while settling (counted as encoded by the next process).
    settled: HashSet<String>,
    /// What the last [`ImageSet::process`] did.
    pub stats: ImageStats,
    /// Preview mode ([`ImageSet::defer`]): an image not ready yet shows its source file.
    deferred: bool,
}

/// Told how image work goes: called with (images done, images in all), from worker threads.
/// The library draws nothing itself; the command line turns this into a bar or log lines.
#[derive(Clone, Default)]
pub struct Progress(Option<std::sync::Arc<dyn Fn(usize, usize) + Send + Sync>>);

impl Progress {
    /// Reports to `f`.
    pub fn new(f: impl Fn(usize, usize) + Send + Sync + 'static) -> Progress {
        Progress(Some(std::sync::Arc::new(f)))
    }

    /// Passes one report on.
    pub fn report(&self, done: usize, total: usize) {
        if let Some(f) = &self.0 {
            f(done, total);
        }
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Progress(reported)"
        } else {
            "Progress(none)"
        })
    }
}

/// One image for a background worker to make ([`background::Background`]).
#[derive(Debug, Clone)]
pub struct Job {
    /// The image as planned.
    pub planned: Planned,
    /// The settings its key was made with.
    pub options: ImageOptions,
    /// Where its outputs go.
    pub cache: Cache,
}

impl Job {
    /// Makes the image's outputs (settling an animated GIF first): the plan as published.
    pub fn run(mut self) -> Result<(Planned, u32), Problem> {
        if self.planned.animated && self.planned.verbatim {
            settle_one(&mut self.planned, &self.options, &self.cache)?;
        }
        let done = process_one(&self.planned, &self.options, &self.cache)?;
        Ok((self.planned, done.encodes))
    }
}

/// Whether a file name is an image's.
pub fn is_image(rel: &str) -> bool {
    extension(rel).is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.as_str()))
}

fn extension(rel: &str) -> Option<String> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())
}

impl ImageSet {
    /// Plans every image of the site: content assets and `static/` files with an image
    /// extension. Reads each file and its header, in parallel; decodes nothing.
    pub fn plan(site: &Site, root: &Path) -> ImageSet {
        let options = site.config.images.clone();
        let cache = Cache::new(&root.join(&site.config.folders.cache));
        let static_dir = root.join(&site.config.folders.r#static);
        let content_dir = root.join(&site.config.folders.content);
        let mut sources: Vec<(String, PathBuf)> = site
            .assets
            .iter()
            .filter(|a| is_image(&a.rel))
            .map(|a| (a.rel.clone(), content_dir.join(&a.rel)))
            .collect();
        sources.extend(
            site.static_files
                .iter()
                .filter(|r| is_image(r))
                .map(|r| (r.clone(), static_dir.join(r))),
        );
        let start = Instant::now();
        let real_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let plans = if options.enabled {
            sources
                .par_iter()
                .map(|(rel, path)| {
                    let display = path.strip_prefix(root).unwrap_or(path).to_path_buf();
                    (
                        rel.clone(),
                        plan_one(rel, path, &display, &real_root, &options),
                    )
                })
                .collect()
        } else {
            HashMap::new()
        };
        ImageSet {
            base_path: site.base_path.clone(),
            options,
            cache,
            root: root.to_path_buf(),
            plans,
            ready: HashSet::new(),
            plan_time: start.elapsed(),
            settled: HashSet::new(),
            stats: ImageStats::default(),
            deferred: false,
        }
    }

    /// Preview mode: nothing is decoded or encoded now. Every image whose outputs the cache
    /// already has is ready (a `stat` per output); an animated GIF is settled only if the
    /// cache knows its outcome. Any other image shows its source file, with the source's width
    /// and height, until a [`Job`] from [`ImageSet::pending`] made it and
    /// [`ImageSet::finish`] took the result.
    pub fn defer(&mut self) {
        self.deferred = true;
        let cache = &self.cache;
        let ready: Vec<(String, Option<Planned>)> = self
            .plans
            .par_iter()
            .filter_map(|(rel, p)| {
                let p = p.as_ref().ok()?;
                if p.animated && p.verbatim {
                    let mut settled = p.clone();
                    if cache.hit(&cache_name(&p.key, None)) {
                        settled.verbatim = false;
                        as_webp(&mut settled);
                        return Some((rel.clone(), Some(settled)));
                    }
                    return cache
                        .hit(&format!("{}.gif-kept", p.key))
                        .then(|| (rel.clone(), None));
                }
                cached(p, cache).then(|| (rel.clone(), None))
            })
            .collect();
        for (rel, settled) in ready {
            if let Some(p) = settled {
                self.plans.insert(rel.clone(), Ok(p));
            }
            self.ready.insert(rel);
        }
    }

    /// Whether the set is in preview mode ([`ImageSet::defer`]).
    pub fn is_deferred(&self) -> bool {
        self.deferred
    }

    /// The work left for the images the pages show (`used`: site-relative paths), biggest
    /// first so that two workers do not end waiting on one large image.
    pub fn pending<'a>(&self, used: impl IntoIterator<Item = &'a str>) -> Vec<Job> {
        let mut jobs: Vec<Job> = used
            .into_iter()
            .filter(|rel| !self.ready.contains(*rel))
            .filter_map(|rel| self.plans.get(rel)?.as_ref().ok())
            .map(|p| Job {
                planned: p.clone(),
                options: self.options.clone(),
                cache: self.cache.clone(),
            })
            .collect();
        jobs.sort_by_key(|j| std::cmp::Reverse(j.planned.width as u64 * j.planned.height as u64));
        jobs.dedup_by(|a, b| a.planned.rel == b.planned.rel);
        jobs
    }

    /// Takes a background job's result for the images planned with `key` (one job makes the
    /// outputs of every image with the same bytes): their site-relative paths, none when every
    /// such image was planned again since (its file changed), as the result is of bytes no page
    /// shows.
    pub fn finish(&mut self, key: &str, result: Result<Planned, Problem>) -> Vec<String> {
        let mut rels: Vec<String> = self
            .plans
            .iter()
            .filter(|(_, p)| p.as_ref().is_ok_and(|p| p.key == key))
            .map(|(rel, _)| rel.clone())
            .collect();
        rels.sort();
        match result {
            Ok(done) => {
                for rel in &rels {
                    if let Some(Ok(p)) = self.plans.get_mut(rel) {
                        if p.animated && p.verbatim && !done.verbatim {
                            p.verbatim = false;
                            as_webp(p);
                        }
                    }
                    self.ready.insert(rel.clone());
                }
            }
            Err(Problem::Changed) => return Vec::new(),
            Err(problem) => {
                for rel in &rels {
                    self.plans.insert(rel.clone(), Err(problem.clone()));
                }
            }
        }
        rels
    }

    /// The plan of the image at a site-relative path.
    pub fn get(&self, rel: &str) -> Option<&Result<Planned, Problem>> {
        self.plans.get(rel)
    }

    /// The site-relative path of an image from its resolved URL (base path, `?query`,
    /// `#fragment` removed), when the set knows it.
    pub fn rel_of_url<'u>(&self, url: &'u str) -> Option<&'u str> {
        let path = url.strip_prefix(self.base_path.as_str())?;
        let path = path.split(['?', '#']).next().unwrap_or(path);
        self.plans.contains_key(path).then_some(path)
    }

    /// The images the pages show, by site-relative path, with every reference to each:
    /// (page index, byte offset, target as written).
    pub fn used_by(&self, bodies: &[Rendered]) -> HashMap<String, Vec<(usize, usize, String)>> {
        let mut used: HashMap<String, Vec<(usize, usize, String)>> = HashMap::new();
        for (p, body) in bodies.iter().enumerate() {
            for r in &body.references {
                if r.kind != RefKind::Image {
                    continue;
                }
                if let Resolved::Url(url) = &r.resolved {
                    if let Some(rel) = self.rel_of_url(url) {
                        used.entry(rel.to_string()).or_default().push((
                            p,
                            r.offset,
                            r.target.clone(),
                        ));
                    }
                }
            }
        }
        used
    }

    /// Makes the outputs of the given images (those not already in the cache), in parallel.
    /// Returns the images that failed (their plan was fine, their pixels were not). Reports
    /// progress to `progress` (called with done and total) when given.
    pub fn process<'a>(
        &mut self,
        rels: impl IntoIterator<Item = &'a str>,
        progress: &Progress,
    ) -> HashMap<String, Problem> {
        let start = Instant::now();
        let mut todo: Vec<&Planned> = rels
            .into_iter()
            .filter_map(|r| self.plans.get(r).and_then(|p| p.as_ref().ok()))
            .collect();
        // Biggest first, so that two threads do not end waiting on one large image.
        todo.sort_by_key(|p| std::cmp::Reverse(p.width as u64 * p.height as u64));
        let total = todo.len();
        let done = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<(String, Result<Processed, Problem>)> = todo
            .par_iter()
            .map(|p| {
                let r = process_one(p, &self.options, &self.cache);
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress.report(n, total);
                (p.rel.clone(), r)
            })
            .collect();
        let mut stats = ImageStats::default();
        let mut failed = HashMap::new();
        for (rel, r) in results {
            match r {
                Ok(done) => {
                    stats.images += 1;
                    if done.encoded || self.settled.remove(&rel) {
                        stats.encoded += 1;
                    } else {
                        stats.cached += 1;
                    }
                    stats.bytes_before += done.before;
                    stats.bytes_after += done.after;
                    stats.encoder_runs += u64::from(done.encodes);
                    stats.outputs_encoded += u64::from(done.made);
                    self.ready.insert(rel);
                }
                Err(problem) => {
                    self.ready.remove(&rel);
                    failed.insert(rel, problem);
                }
            }
        }
        if self.options.cache_days > 0 {
            self.cache
                .prune(Duration::from_secs(self.options.cache_days * 24 * 3600));
        }
        stats.millis = (self.plan_time + start.elapsed()).as_millis() as u64;
        self.stats = stats;
        failed
    }

    /// Plans and processes one image again after its file changed (for the preview server): only
    /// this image is read, and encoded unless the cache has it. Its output names change with
    /// its content, so pages showing it need rendering again.
    pub fn refresh(&mut self, rel: &str, path: &Path) -> Result<&Planned, Problem> {
        let display = path.strip_prefix(&self.root).unwrap_or(path).to_path_buf();
        let real_root =
            std::fs::canonicalize(&self.root).unwrap_or_else(|_| self.root.to_path_buf());
        let (options, cache) = (&self.options, &self.cache);
        let deferred = self.deferred;
        let mut ready = true;
        let result = plan_one(rel, path, &display, &real_root, options).and_then(|mut p| {
            if deferred {
                // Made in the background: the page shows the source until then.
                ready = cached(&p, cache) && !p.animated;
                return Ok(p);
            }
            if p.animated {
                settle_one(&mut p, options, cache)?;
            }
            process_one(&p, options, cache)?;
            Ok(p)
        });
        match result {
            Ok(planned) => {
                if ready {
                    self.ready.insert(rel.to_string());
                } else {
                    self.ready.remove(rel);
                }
                self.plans.insert(rel.to_string(), Ok(planned));
            }
            Err(problem) => {
                // Not ready: a page showing it is reloaded whole, which reports the problem.
                self.ready.remove(rel);
                self.plans.insert(rel.to_string(), Err(problem.clone()));
                return Err(problem);
            }
        }
        match self.plans.get(rel) {
            Some(Ok(p)) => Ok(p),
            _ => Err(Problem::Bad("changed while it was processed".into())),
        }
    }

    /// Decides, for every animated GIF, whether it is published as animated WebP (smaller,
    /// and plays the same) or as it is. The output's name (its extension) follows from the
    /// decision: returns the images that are now published as WebP, whose pages' HTML named
    /// the GIF, and those that could not be decoded. The decision is cached like an output,
    /// so a warm build only looks it up.
    pub fn settle_animations(&mut self) -> (Vec<String>, HashMap<String, Problem>) {
        let start = Instant::now();
        let mut todo: Vec<&mut Planned> = self
            .plans
            .values_mut()
            .filter_map(|p| p.as_mut().ok())
            .filter(|p| p.animated && p.verbatim)
            .collect();
        let (options, cache) = (&self.options, &self.cache);
        let results: Vec<(String, Result<bool, Problem>, bool)> = todo
            .par_iter_mut()
            .map(|p| {
                let r = settle_one(p, options, cache);
                (p.rel.clone(), r, !p.verbatim)
            })
            .collect();
        let mut renamed = Vec::new();
        let mut failed = HashMap::new();
        for (rel, result, as_webp) in results {
            match result {
                Ok(encoded) => {
                    if encoded {
                        self.settled.insert(rel.clone());
                    }
                    if as_webp {
                        renamed.push(rel);
                    }
                }
                Err(problem) => {
                    self.plans.insert(rel.clone(), Err(problem.clone()));
                    failed.insert(rel, problem);
                }
            }
        }
        self.plan_time += start.elapsed();
        (renamed, failed)
    }

    /// The content images published only through the pipeline: shown by the pages, ready, and
    /// not linked to as files (`[download](shot.png)`, a raw `href`), so their originals need
    /// not be published beside the WebP.
    pub fn replaced_originals(&self, site: &Site, bodies: &[Rendered]) -> HashSet<String> {
        let mut linked: HashSet<&str> = HashSet::new();
        for (p, body) in bodies.iter().enumerate() {
            for r in body.references.iter().filter(|r| r.kind == RefKind::Link) {
                if let Resolved::Url(url) = &r.resolved {
                    linked.extend(
                        self.rel_of_url(url)
                            .and_then(|r| self.plans.get_key_value(r))
                            .map(|(k, _)| k.as_str()),
                    );
                }
            }
            let Some(page) = site.pages.get(p) else {
                continue;
            };
            for item in &body.raw_urls {
                if let Resolved::Url(url) = site.resolve_raw(&page.page.source.rel, &item.name) {
                    linked.extend(
                        self.rel_of_url(&url)
                            .and_then(|r| self.plans.get_key_value(r))
                            .map(|(k, _)| k.as_str()),
                    );
                }
            }
        }
        site.assets
            .iter()
            .map(|a| a.rel.as_str())
            .filter(|rel| self.ready.contains(*rel) && !linked.contains(rel))
            .map(str::to_string)
            .collect()
    }

    /// The published files of a ready image: (site-relative output path, file to copy).
    pub fn files_of(&self, rel: &str) -> Vec<(String, PathBuf)> {
        let Some(Ok(p)) = self.plans.get(rel).filter(|_| self.ready.contains(rel)) else {
            return Vec::new();
        };
        p.outputs
            .iter()
            .map(|o| {
                let from = if p.verbatim {
                    p.path.clone()
                } else {
                    self.cache.path(&cache_name(&p.key, o.resized))
                };
                (o.rel.clone(), from)
            })
            .collect()
    }

    /// Whether every image the pages show has its outputs ready.
    pub fn is_ready(&self, rel: &str) -> bool {
        self.ready.contains(rel)
    }

    /// Writes the outputs of every processed image into `sink`; returns the number of files.
    pub fn write(&self, sink: &impl Sink) -> Result<usize, Vec<Error>> {
        let files: Vec<(String, PathBuf, PathBuf)> = self
            .ready
            .iter()
            .filter_map(|rel| self.plans.get(rel).and_then(|p| p.as_ref().ok()))
            .flat_map(|p| {
                self.files_of(&p.rel)
                    .into_iter()
                    .map(|(rel, from)| (rel, from, p.display.clone()))
            })
            .collect();
        let errors: Vec<Error> = files
            .par_iter()
            .filter_map(|(rel, from, display)| sink.copy(rel, from, display).err())
            .collect();
        if errors.is_empty() {
            Ok(files.len())
        } else {
            Err(errors)
        }
    }

    /// The `<img>` of an image whose outputs are not made yet (preview only): the source file
    /// as it is, with its own width and height, so the layout does not move when the outputs
    /// replace it.
    fn source_html(&self, p: &Planned, alt: &str, title: &str, first: bool) -> String {
        let mut img = String::from("<img src=\"");
        let _ = escape_href(&mut img, &format!("{}{}", self.base_path, p.rel));
        img.push('"');
        img_rest(&mut img, p, alt, title, first);
        img
    }

    /// The `<img>` (in a link to the full size) for a planned image.
    pub fn html(&self, p: &Planned, alt: &str, title: &str, first: bool, in_link: bool) -> String {
        let url = |o: &Output| format!("{}{}", self.base_path, o.rel);
        let full = &p.outputs[0];
        let mut img = String::from("<img src=\"");
        let _ = escape_href(&mut img, &url(full));
        img.push('"');
        if p.outputs.len() > 1 {
            img.push_str(" srcset=\"");
            for (i, o) in p.outputs[1..].iter().chain([full]).enumerate() {
                if i > 0 {
                    img.push_str(", ");
                }
                let _ = escape_href(&mut img, &url(o));
                img.push_str(&format!(" {}w", o.width));
            }
            img.push_str("\" sizes=\"");
            let _ = escape_html(&mut img, &self.options.sizes);
            img.push('"');
        }
        img_rest(&mut img, p, alt, title, first);
        // A link to the full size is for images shown smaller; SVGs scale and animations
        // have one size.
        if in_link || p.verbatim || p.animated {
            return img;
        }
        let mut html = String::from("<a class=\"image-link\" href=\"");
        let _ = escape_href(&mut html, &url(full));
        html.push_str("\">");
        html.push_str(&img);
        html.push_str("</a>");
        html
    }
}

impl markdown::Images for ImageSet {
    fn knows(&self, url: &str) -> bool {
        self.rel_of_url(url).is_some()
    }

    fn image(
        &self,
        url: &str,
        alt: &str,
        title: &str,
        first: bool,
        in_link: bool,
    ) -> Option<Result<String, Problem>> {
        let rel = self.rel_of_url(url)?;
        Some(match self.plans.get(rel)? {
            Ok(p) if self.deferred && !self.ready.contains(rel) => {
                Ok(self.source_html(p, alt, title, first))
            }
            Ok(p) => Ok(self.html(p, alt, title, first, in_link)),
            Err(problem) => Err(problem.clone()),
        })
    }
}

/// The attributes after `src` (and `srcset`) of a tag for `p`: its size, alt text and title, and
/// lazy loading but for a page's first image.
fn img_rest(img: &mut String, p: &Planned, alt: &str, title: &str, first: bool) {
    img.push_str(&format!(
        " width=\"{}\" height=\"{}\" alt=\"",
        p.width, p.height
    ));
    let _ = escape_html(&mut *img, alt);
    img.push('"');
    if !title.is_empty() {
        img.push_str(" title=\"");
        let _ = escape_html(&mut *img, title);
        img.push('"');
    }
    if !first {
        img.push_str(" loading=\"lazy\"");
    }
    img.push_str(" decoding=\"async\">");
}

/// Frontmatter keys whose value is an image the pipeline publishes.
pub const FRONTMATTER_KEYS: &[&str] = &["feature_image", "image"];

/// The images named in page `p`'s frontmatter (`feature_image: shot.png`), resolved like
/// Markdown images: as references (so the checker counts the files as used and processing makes
/// them) and problems at the key's line.
pub fn frontmatter_refs(site: &Site, images: &ImageSet, p: usize) -> (Vec<Reference>, Vec<Error>) {
    use crate::markdown::Resolve;
    let mut refs = Vec::new();
    let mut errors = Vec::new();
    let page = &site.pages[p].page;
    let s = &page.source;
    for key in FRONTMATTER_KEYS {
        let Some(serde_json::Value::String(target)) = page.meta.extra.get(*key) else {
            continue;
        };
        let head = &s.text[..s.body_offset.min(s.text.len())];
        let offset = head
            .find(key)
            .and_then(|k| head[k..].find(target.as_str()).map(|t| k + t))
            .unwrap_or(0);
        let at = || Location::at_offset(&s.display, &s.text, offset, target.len());
        let resolved = site.resolve(&s.rel, target, RefKind::Image);
        match &resolved {
            Resolved::Url(url) => {
                if let Some(Err(problem)) = images.rel_of_url(url).and_then(|r| images.get(r)) {
                    errors.push(Error::new(problem.kind(target), at()));
                }
            }
            Resolved::External => {}
            Resolved::CaseMismatch { actual } => errors.push(Error::new(
                ErrorKind::ImageCaseMismatch {
                    target: target.clone(),
                    actual: actual.clone(),
                },
                at(),
            )),
            Resolved::Missing { suggestion } => errors.push(Error::new(
                ErrorKind::MissingImage {
                    target: target.clone(),
                    suggestion: suggestion.clone(),
                },
                at(),
            )),
        }
        refs.push(Reference {
            kind: RefKind::Image,
            target: target.clone(),
            resolved,
            offset,
            alt: None,
        });
    }
    (refs, errors)
}

impl ImageSet {
    /// Replaces each frontmatter image field of page `p` with its published full-size URL and
    /// adds `<key>_srcset`, `<key>_width` and `<key>_height` beside it, for templates.
    pub fn fill_frontmatter(&self, site: &mut Site, p: usize) {
        use crate::markdown::Resolve;
        for key in FRONTMATTER_KEYS {
            let page = &site.pages[p].page;
            let Some(serde_json::Value::String(target)) = page.meta.extra.get(*key) else {
                continue;
            };
            let Resolved::Url(url) = site.resolve(&page.source.rel, target, RefKind::Image) else {
                continue;
            };
            let Some(rel) = self.rel_of_url(&url) else {
                continue;
            };
            let Some(Ok(planned)) = self.plans.get(rel).filter(|_| self.ready.contains(rel)) else {
                continue;
            };
            let url = |o: &Output| format!("{}{}", self.base_path, o.rel);
            let srcset: Vec<String> = planned.outputs[1..]
                .iter()
                .chain(&planned.outputs[..1])
                .map(|o| format!("{} {}w", url(o), o.width))
                .collect();
            let extra = &mut site.pages[p].page.meta.extra;
            extra.insert(key.to_string(), url(&planned.outputs[0]).into());
            extra.insert(format!("{key}_srcset"), srcset.join(", ").into());
            extra.insert(format!("{key}_width"), planned.width.into());
            extra.insert(format!("{key}_height"), planned.height.into());
        }
    }
}

/// Reports the images that failed processing at every reference to them.
pub fn report_failed(
    site: &Site,
    used: &HashMap<String, Vec<(usize, usize, String)>>,
    failed: &HashMap<String, Problem>,
) -> Vec<Error> {
    let mut errors = Vec::new();
    for (rel, problem) in failed {
        for (p, offset, target) in used.get(rel).into_iter().flatten() {
            let s = &site.pages[*p].page.source;
            errors.push(Error::new(
                problem.kind(target),
                markdown::target_location(&s.display, &s.text, *offset, target),
            ));
        }
    }
    errors
}

/// The settings that change the bytes of an output, for the cache key.
fn settings_fingerprint(o: &ImageOptions) -> String {
    format!(
        "v{PIPELINE_VERSION} q{} m{} cm{} lq{} pc{} lr{}",
        o.quality, o.method, o.copy_method, o.lossless_quality, o.photo_colors, o.lossy_ratio
    )
}

/// The format of an image's bytes, or why they cannot be published.
fn sniff(bytes: &[u8], ext: &str) -> Result<Format, Problem> {
    if bytes.is_empty() {
        return Err(Problem::Bad("the file is empty".into()));
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let brand = &bytes[8..12];
        let name = match brand {
            b"heic" | b"heix" | b"hevc" | b"heim" | b"heis" | b"mif1" | b"msf1" => "HEIC",
            b"avif" | b"avis" => "AVIF",
            _ => "an ISO media file (MP4/HEIF)",
        };
        return Err(Problem::Unsupported(name.into()));
    }
    if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        return Err(Problem::Unsupported("TIFF".into()));
    }
    if bytes.starts_with(b"BM") && ext == "bmp" {
        return Err(Problem::Unsupported("BMP".into()));
    }
    let found = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Format::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(Format::Gif)
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(Format::Webp)
    } else if ext == "svg" && looks_like_svg(bytes) {
        Some(Format::Svg)
    } else {
        None
    };
    let named = match ext {
        "png" => Some(Format::Png),
        "jpg" | "jpeg" => Some(Format::Jpeg),
        "gif" => Some(Format::Gif),
        "webp" => Some(Format::Webp),
        "svg" => Some(Format::Svg),
        _ => None,
    };
    match (found, named) {
        (Some(f), Some(n)) if f == n => Ok(f),
        (Some(f), Some(n)) => Err(Problem::Bad(format!(
            "it is named like a {} but its bytes are a {} (rename it to .{})",
            n.name(),
            f.name(),
            f.name().to_ascii_lowercase()
        ))),
        (None, Some(n)) => Err(Problem::Bad(format!(
            "it is named like a {} but its bytes are not one",
            n.name()
        ))),
        (_, None) => Err(Problem::Unsupported(ext.to_ascii_uppercase())),
    }
}

fn looks_like_svg(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    String::from_utf8_lossy(head).contains("<svg")
}

/// An SVG's size: `width`/`height` in pixels, else its `viewBox`.
fn svg_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(16384)]);
    let start = text.find("<svg")?;
    let tag = &text[start..start + text[start..].find('>')?];
    let attr = |name: &str| -> Option<String> {
        let i = tag.find(&format!(" {name}="))? + name.len() + 2;
        let quote = tag[i..].chars().next()?;
        let rest = &tag[i + 1..];
        Some(rest[..rest.find(quote)?].to_string())
    };
    let px = |v: String| -> Option<u32> {
        let v = v.trim().trim_end_matches("px");
        v.parse::<f64>()
            .ok()
            .filter(|n| *n > 0.0)
            .map(|n| n.round() as u32)
    };
    if let (Some(w), Some(h)) = (attr("width").and_then(px), attr("height").and_then(px)) {
        return Some((w, h));
    }
    let vb = attr("viewBox")?;
    let nums: Vec<f64> = vb
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    match nums[..] {
        [_, _, w, h] if w > 0.0 && h > 0.0 => Some((w.round() as u32, h.round() as u32)),
        _ => None,
    }
}

/// A GIF with more than one frame (counted by its image descriptors' graphic control blocks).
fn gif_is_animated(bytes: &[u8]) -> bool {
    bytes
        .windows(3)
        .filter(|w| *w == [0x21, 0xF9, 0x04])
        .take(2)
        .count()
        > 1
}

/// A name that is safe in a URL: letters, digits, `-` and `_`.
fn safe_stem(rel: &str) -> String {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let s: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() { "image".into() } else { s }
}

/// Plans one image: reads it (unless it leads out of the site) and its header.
pub fn plan_one(
    rel: &str,
    path: &Path,
    display: &Path,
    real_root: &Path,
    options: &ImageOptions,
) -> Result<Planned, Problem> {
    // A symlink out of the site is refused before a byte of its target is read.
    match std::fs::canonicalize(path) {
        Ok(real) if !real.starts_with(real_root) => return Err(Problem::Outside),
        Ok(_) => {}
        Err(e) => return Err(Problem::Bad(format!("cannot be read: {e}"))),
    }
    let bytes = std::fs::read(path).map_err(|e| Problem::Bad(format!("cannot be read: {e}")))?;
    let ext = extension(rel).unwrap_or_default();
    let format = sniff(&bytes, &ext)?;
    let key = key_of(&bytes, options);
    let stem = safe_stem(rel);
    let short = &key[..16];

    let animated = format == Format::Gif && gif_is_animated(&bytes);
    // An animated WebP is published as it is: a resized copy would keep one frame.
    let animated_webp = format == Format::Webp && encode::webp_is_animated(&bytes);
    let (width, height, verbatim, out_ext) = match format {
        Format::Svg => {
            let (w, h) = svg_size(&bytes).ok_or_else(|| {
                Problem::Bad("the SVG has no width and height or viewBox to size it by".into())
            })?;
            (w, h, true, "svg")
        }
        Format::Gif if animated => {
            let (w, h) = header_size(&bytes, format, options)?;
            (w, h, true, "gif")
        }
        Format::Webp if animated_webp => {
            let (w, h) = header_size(&bytes, format, options)?;
            (w, h, true, "webp")
        }
        _ => {
            let (w, h) = header_size(&bytes, format, options)?;
            (w, h, false, "webp")
        }
    };
    let mut outputs = vec![Output {
        rel: format!("assets/{stem}.{short}.{out_ext}"),
        width,
        height,
        resized: None,
    }];
    if !verbatim {
        for w in copy_widths(width, options) {
            outputs.push(Output {
                rel: format!("assets/{stem}.{short}-{w}w.webp"),
                width: w,
                height: scaled_height(width, height, w),
                resized: Some(w),
            });
        }
    }
    Ok(Planned {
        rel: rel.to_string(),
        path: path.to_path_buf(),
        display: display.to_path_buf(),
        format,
        width,
        height,
        size: bytes.len() as u64,
        key,
        outputs,
        verbatim,
        animated,
    })
}

/// A resized copy is made only up to this share of the source's width. A wider one (1440 of a
/// 1600-pixel screenshot) would save a browser less than a third of the pixels, and on the
/// real-scale benchmark such copies were a quarter of all copy pixels, so a quarter of a cold
/// build's encoding; the browser takes the full size instead.
pub const COPY_MAX_SHARE: f64 = 0.8;

/// The widths of the resized copies made of an image `width` pixels wide, narrowest first.
pub fn copy_widths(width: u32, options: &ImageOptions) -> Vec<u32> {
    let mut widths: Vec<u32> = options
        .widths
        .iter()
        .copied()
        .filter(|&w| w > 0 && w as f64 <= width as f64 * COPY_MAX_SHARE)
        .collect();
    widths.sort_unstable();
    widths.dedup();
    widths
}

fn scaled_height(width: u32, height: u32, w: u32) -> u32 {
    ((height as u64 * w as u64 + width as u64 / 2) / width as u64).max(1) as u32
}

/// Width and height as shown, from the header alone; refuses images over the pixel limit.
fn header_size(
    bytes: &[u8],
    format: Format,
    options: &ImageOptions,
) -> Result<(u32, u32), Problem> {
    let Some(f) = format.image_format() else {
        return Err(Problem::Bad("not a raster image".into()));
    };
    if format == Format::Png && bytes.len() >= 24 {
        // The IHDR sizes come first: a bomb is refused even when the rest is not there.
        let be =
            |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let (w, h) = (be(16), be(20));
        if w as u64 * h as u64 > options.max_pixels {
            return Err(Problem::TooLarge {
                width: w,
                height: h,
                limit: options.max_pixels,
            });
        }
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), f);
    reader.no_limits();
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| Problem::Bad(format!("its header cannot be read ({e})")))?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(Problem::Bad("it has no pixels".into()));
    }
    if w as u64 * h as u64 > options.max_pixels {
        return Err(Problem::TooLarge {
            width: w,
            height: h,
            limit: options.max_pixels,
        });
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    Ok(if swaps_sides(orientation) {
        (h, w)
    } else {
        (w, h)
    })
}

fn swaps_sides(o: image::metadata::Orientation) -> bool {
    use image::metadata::Orientation as O;
    matches!(
        o,
        O::Rotate90 | O::Rotate270 | O::Rotate90FlipH | O::Rotate270FlipH
    )
}

/// What processing one image did.
#[derive(Debug, Clone, Copy)]
struct Processed {
    encoded: bool,
    before: u64,
    after: u64,
    /// libwebp encoder runs.
    encodes: u32,
    /// Outputs made by the encoder.
    made: u32,
}

/// Whether the cache has every output of a planned image (a verbatim one needs none).
fn cached(p: &Planned, cache: &Cache) -> bool {
    p.verbatim
        || p.outputs
            .iter()
            .all(|o| cache.hit(&cache_name(&p.key, o.resized)))
}

/// Renames a settled animated GIF's output to the WebP it is published as.
fn as_webp(p: &mut Planned) {
    if let Some(full) = p.outputs.first_mut() {
        if let Some(stem) = full.rel.strip_suffix(".gif") {
            full.rel = format!("{stem}.webp");
        }
    }
}

/// The cache key of an image's bytes under these settings.
fn key_of(bytes: &[u8], options: &ImageOptions) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(settings_fingerprint(options).as_bytes());
    hasher.update(bytes);
    hasher.finalize().to_hex().to_string()
}

/// Makes the outputs of one image that the cache does not have yet. Decodes at most once.
fn process_one(p: &Planned, options: &ImageOptions, cache: &Cache) -> Result<Processed, Problem> {
    if p.verbatim {
        return Ok(Processed {
            encoded: false,
            before: p.size,
            after: p.size,
            encodes: 0,
            made: 0,
        });
    }
    let names: Vec<String> = p
        .outputs
        .iter()
        .map(|o| cache_name(&p.key, o.resized))
        .collect();
    let all_cached = names.iter().all(|n| cache.hit(n));
    if all_cached {
        let after = std::fs::metadata(cache.path(&names[0])).map_or(0, |m| m.len());
        return Ok(Processed {
            encoded: false,
            before: p.size,
            after,
            encodes: 0,
            made: 0,
        });
    }
    let bytes = std::fs::read(&p.path).map_err(|e| Problem::Bad(format!("cannot be read: {e}")))?;
    // Outputs are stored under the key of the bytes that were planned: a file replaced since
    // (a save while the preview encodes) must not put its pixels under the old name.
    if key_of(&bytes, options) != p.key {
        return Err(Problem::Changed);
    }
    let encoded = encode::encode_all(&bytes, p, options)?;
    drop(bytes);
    let mut after = 0;
    for (name, data) in names.iter().zip(&encoded.outputs) {
        if after == 0 {
            after = data.len() as u64;
        }
        cache
            .store(name, data)
            .map_err(|e| Problem::Bad(format!("its output cannot be cached: {e}")))?;
    }
    Ok(Processed {
        encoded: true,
        before: p.size,
        after,
        encodes: encoded.encodes,
        made: encoded.made,
    })
}

/// Settles one animated GIF (see [`ImageSet::settle_animations`]): true when it was encoded
/// now rather than found in the cache. When published as animated WebP, that is in the cache.
fn settle_one(p: &mut Planned, o: &ImageOptions, cache: &Cache) -> Result<bool, Problem> {
    let webp = cache_name(&p.key, None);
    // An empty entry records that the GIF stays a GIF, so warm builds do not try again.
    let kept = format!("{}.gif-kept", p.key);
    let mut encoded = false;
    let webp_out = if cache.hit(&webp) {
        true
    } else if cache.hit(&kept) {
        false
    } else {
        encoded = true;
        let bytes =
            std::fs::read(&p.path).map_err(|e| Problem::Bad(format!("cannot be read: {e}")))?;
        let store = |name: &str, data: &[u8]| {
            cache
                .store(name, data)
                .map_err(|e| Problem::Bad(format!("its output cannot be cached: {e}")))
        };
        match encode::encode_animation(&bytes, o)? {
            Some(data) => store(&webp, &data).map(|()| true)?,
            None => store(&kept, b"").map(|()| false)?,
        }
    };
    if webp_out {
        p.verbatim = false;
        as_webp(p);
    }
    Ok(encoded)
}

/// Attributes the pipeline writes itself: an author's value for these is replaced.
const OWN_ATTRIBUTES: &[&str] = &["src", "srcset", "sizes", "alt", "title"];

/// One attribute of a raw HTML tag: its lowercased name and its text as written.
fn tag_attributes(tag: &str) -> Vec<(String, &str)> {
    let inner = tag
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim_end_matches('/');
    // Skip the element name.
    let mut rest = inner.trim_start_matches(|c: char| !c.is_whitespace());
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            break;
        }
        let name_len = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        let name = rest[..name_len].to_ascii_lowercase();
        let mut end = name_len;
        let after = rest[name_len..].trim_start();
        if let Some(value) = after.strip_prefix('=') {
            let value = value.trim_start();
            let value_start = rest.len() - value.len();
            let value_len = match value.chars().next() {
                Some(q @ ('"' | '\'')) => value[1..].find(q).map_or(value.len(), |e| e + 2),
                _ => value.find(char::is_whitespace).unwrap_or(value.len()),
            };
            end = value_start + value_len;
        }
        out.push((name, &rest[..end]));
        rest = &rest[end..];
    }
    out
}

/// The pipeline's `<img>` (possibly in a link) with the other attributes of the author's raw
/// `<img>` tag kept: `class`, `style`, `id`, `data-*`... An author's `width`, `height`,
/// `loading` or `decoding` wins over ours (a `width` alone drops our `height` too, so the
/// image keeps its shape).
pub fn keep_raw_attributes(generated: &str, raw_tag: &str) -> String {
    let theirs = tag_attributes(raw_tag);
    let has = |n: &str| theirs.iter().any(|(name, _)| name == n);
    let sized = has("width") || has("height");
    let Some(start) = generated.find("<img ") else {
        return generated.to_string();
    };
    let end = generated[start..]
        .find('>')
        .map_or(generated.len(), |e| start + e);
    let ours = tag_attributes(&generated[start..=end.min(generated.len() - 1)]);
    let mut img = String::from("<img");
    for (name, text) in &ours {
        let replaced = has(name) && !OWN_ATTRIBUTES.contains(&name.as_str());
        let resized = sized && (name == "width" || name == "height");
        if !replaced && !resized {
            img.push(' ');
            img.push_str(text);
        }
    }
    for (name, text) in &theirs {
        if !OWN_ATTRIBUTES.contains(&name.as_str()) {
            img.push(' ');
            img.push_str(text);
        }
    }
    img.push('>');
    format!(
        "{}{}{}",
        &generated[..start],
        img,
        &generated[(end + 1).min(generated.len())..]
    )
}

/// Whether an image path written in `from` climbs above the site root (`../../../etc/passwd`).
pub fn escapes_root(from: &str, target: &str) -> bool {
    if target.contains("://") || target.starts_with("//") || target.starts_with("data:") {
        return false;
    }
    let path = target.split(['?', '#']).next().unwrap_or(target);
    let joined = match path.strip_prefix('/') {
        Some(abs) => abs.to_string(),
        None => match from.rsplit_once('/') {
            // Content pages sit one folder below the root (`content/`).
            Some((dir, _)) => format!("content/{dir}/{path}"),
            None => format!("content/{path}"),
        },
    };
    let mut depth: i64 = 0;
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_names_the_problem() {
        assert_eq!(
            sniff(b"", "png"),
            Err(Problem::Bad("the file is empty".into()))
        );
        assert!(
            matches!(sniff(b"\xFF\xD8\xFF\xE0....", "png"), Err(Problem::Bad(m)) if m.contains("JPEG"))
        );
        assert!(matches!(sniff(b"hello world", "png"), Err(Problem::Bad(_))));
        assert_eq!(
            sniff(b"II*\0aaaaaaaaaaa", "tiff"),
            Err(Problem::Unsupported("TIFF".into()))
        );
        assert_eq!(
            sniff(b"\0\0\0\x18ftypheic\0\0\0\0", "heic"),
            Err(Problem::Unsupported("HEIC".into()))
        );
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n", "png"), Ok(Format::Png));
    }

    #[test]
    fn svg_sizes() {
        assert_eq!(svg_size(b"<svg viewBox=\"0 0 120 40\">"), Some((120, 40)));
        assert_eq!(
            svg_size(b"<svg width=\"30px\" height='20' viewBox=\"0 0 120 40\">"),
            Some((30, 20))
        );
        assert_eq!(svg_size(b"<svg>"), None);
    }

    #[test]
    fn escaping_paths() {
        assert!(escapes_root("docs/a.md", "../../../etc/passwd"));
        assert!(!escapes_root("docs/a.md", "../img/x.png"));
        assert!(escapes_root("a.md", "/../x.png"));
        assert!(!escapes_root("a.md", "https://example.org/x.png"));
    }

    #[test]
    fn raw_attributes_are_kept_and_ours_give_way() {
        let ours = "<a class=\"image-link\" href=\"/x.webp\"><img src=\"/x.webp\" width=\"10\" height=\"5\" alt=\"A\" loading=\"lazy\" decoding=\"async\"></a>";
        let kept = keep_raw_attributes(
            ours,
            "<img src='x.png' alt=\"B\" class=\"wide\" style=\"a: b\" data-zoom loading=eager/>",
        );
        assert_eq!(
            kept,
            "<a class=\"image-link\" href=\"/x.webp\"><img src=\"/x.webp\" width=\"10\" height=\"5\" alt=\"A\" decoding=\"async\" class=\"wide\" style=\"a: b\" data-zoom loading=eager></a>"
        );
        let sized = keep_raw_attributes(ours, "<img src=x.png width=\"4\">");
        assert!(
            sized.contains("width=\"4\"") && !sized.contains("height="),
            "{sized}"
        );
    }

    #[test]
    fn copies_save_at_least_a_fifth_of_the_width() {
        let o = ImageOptions {
            widths: vec![1440, 480, 960, 960, 0],
            ..ImageOptions::default()
        };
        assert_eq!(copy_widths(1920, &o), vec![480, 960, 1440]);
        assert_eq!(copy_widths(1800, &o), vec![480, 960, 1440], "exactly 80%");
        assert_eq!(copy_widths(1600, &o), vec![480, 960], "1440 is 90% of 1600");
        assert_eq!(copy_widths(1024, &o), vec![480]);
        assert_eq!(copy_widths(500, &o), Vec::<u32>::new());
    }

    #[test]
    fn names_are_safe() {
        assert_eq!(safe_stem("docs/My shot (1).png"), "My-shot--1-");
        assert_eq!(scaled_height(1000, 500, 480), 240);
    }
}
