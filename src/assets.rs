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

use std::collections::{HashMap, HashSet};
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use pulldown_cmark_escape::{escape_href, escape_html};
use rayon::prelude::*;

use crate::config::ImageOptions;
use crate::error::{Error, ErrorKind, Location};
use crate::markdown::{self, RefKind, Reference, Rendered, Resolved};
use crate::output::Sink;
use crate::site::Site;

/// Bumped whenever the pipeline's output for the same input and settings changes, so that old
/// cache entries are not reused.
pub const PIPELINE_VERSION: u32 = 4;

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
    /// Copied as it is (SVG, animated GIF): no encoding, no cache.
    pub verbatim: bool,
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
        )
    }
}

/// The content-addressed store of encoded outputs.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

/// Entries used less than this long ago are not touched again (saves a write per hit).
const TOUCH_AFTER: Duration = Duration::from_secs(24 * 3600);

impl Cache {
    /// The cache under the site's cache folder (`.docsite-cache/images`).
    pub fn new(cache_root: &Path) -> Cache {
        Cache {
            dir: cache_root.join("images"),
        }
    }

    /// Where an entry lives.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Whether an entry exists; marks it as used for pruning.
    fn hit(&self, name: &str) -> bool {
        let path = self.path(name);
        let Ok(meta) = std::fs::metadata(&path) else {
            return false;
        };
        let stale = meta
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_none_or(|age| age > TOUCH_AFTER);
        if stale {
            // Only for pruning: a failure here costs a re-encode some day, nothing more.
            if let Ok(f) = std::fs::File::options().write(true).open(&path) {
                let _ = f.set_modified(SystemTime::now());
            }
        }
        true
    }

    /// Stores an entry atomically: a reader (or another build) sees all of it or nothing.
    fn store(&self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        tmp.write_all(bytes)?;
        tmp.persist(self.path(name)).map_err(|e| e.error)?;
        Ok(())
    }

    /// Deletes entries no build has used for `max_age`; returns how many.
    pub fn prune(&self, max_age: Duration) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let old = entry
                .metadata()
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|m| m.elapsed().ok())
                .is_some_and(|age| age > max_age);
            if old && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        removed
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
    /// What the last [`ImageSet::process`] did.
    pub stats: ImageStats,
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
            stats: ImageStats::default(),
        }
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
        progress: Option<&(dyn Fn(usize, usize) + Sync)>,
    ) -> HashMap<String, Problem> {
        let start = Instant::now();
        let todo: Vec<&Planned> = rels
            .into_iter()
            .filter_map(|r| self.plans.get(r).and_then(|p| p.as_ref().ok()))
            .collect();
        let total = todo.len();
        let done = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<(String, Result<Processed, Problem>)> = todo
            .par_iter()
            .map(|p| {
                let r = process_one(p, &self.options, &self.cache);
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if let Some(f) = progress {
                    f(n, total);
                }
                (p.rel.clone(), r)
            })
            .collect();
        let mut stats = ImageStats::default();
        let mut failed = HashMap::new();
        for (rel, r) in results {
            match r {
                Ok(done) => {
                    stats.images += 1;
                    if done.encoded {
                        stats.encoded += 1;
                    } else {
                        stats.cached += 1;
                    }
                    stats.bytes_before += done.before;
                    stats.bytes_after += done.after;
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
        let plan = plan_one(rel, path, &display, &real_root, &self.options);
        self.plans.insert(rel.to_string(), plan.clone());
        let planned = plan?;
        process_one(&planned, &self.options, &self.cache)?;
        self.ready.insert(rel.to_string());
        match self.plans.get(rel) {
            Some(Ok(p)) => Ok(p),
            _ => Err(Problem::Bad("changed while it was processed".into())),
        }
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
                p.outputs.iter().map(move |o| {
                    let from = if p.verbatim {
                        p.path.clone()
                    } else {
                        self.cache.path(&cache_name(&p.key, o.resized))
                    };
                    (o.rel.clone(), from, p.display.clone())
                })
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
        img.push_str(&format!(
            " width=\"{}\" height=\"{}\" alt=\"",
            p.width, p.height
        ));
        let _ = escape_html(&mut img, alt);
        img.push('"');
        if !title.is_empty() {
            img.push_str(" title=\"");
            let _ = escape_html(&mut img, title);
            img.push('"');
        }
        if !first {
            img.push_str(" loading=\"lazy\"");
        }
        img.push_str(" decoding=\"async\">");
        if in_link || p.verbatim {
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
            Ok(p) => Ok(self.html(p, alt, title, first, in_link)),
            Err(problem) => Err(problem.clone()),
        })
    }
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

/// The cache entry of an output.
fn cache_name(key: &str, resized: Option<u32>) -> String {
    match resized {
        None => format!("{key}.webp"),
        Some(w) => format!("{key}-{w}.webp"),
    }
}

/// The settings that change the bytes of an output, for the cache key.
fn settings_fingerprint(o: &ImageOptions) -> String {
    format!(
        "v{PIPELINE_VERSION} q{} m{} lq{} pc{} lr{}",
        o.quality, o.method, o.lossless_quality, o.photo_colors, o.lossy_ratio
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
    let mut hasher = blake3::Hasher::new();
    hasher.update(settings_fingerprint(options).as_bytes());
    hasher.update(&bytes);
    let key = hasher.finalize().to_hex().to_string();
    let stem = safe_stem(rel);
    let short = &key[..16];

    let (width, height, verbatim, out_ext) = match format {
        Format::Svg => {
            let (w, h) = svg_size(&bytes).ok_or_else(|| {
                Problem::Bad("the SVG has no width and height or viewBox to size it by".into())
            })?;
            (w, h, true, "svg")
        }
        Format::Gif if gif_is_animated(&bytes) => {
            let (w, h) = header_size(&bytes, format, options)?;
            (w, h, true, "gif")
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
        let mut widths: Vec<u32> = options
            .widths
            .iter()
            .copied()
            .filter(|&w| w > 0 && w < width)
            .collect();
        widths.sort_unstable();
        widths.dedup();
        for w in widths {
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
    })
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
}

/// Makes the outputs of one image that the cache does not have yet. Decodes at most once.
fn process_one(p: &Planned, options: &ImageOptions, cache: &Cache) -> Result<Processed, Problem> {
    if p.verbatim {
        return Ok(Processed {
            encoded: false,
            before: p.size,
            after: p.size,
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
        });
    }
    let bytes = std::fs::read(&p.path).map_err(|e| Problem::Bad(format!("cannot be read: {e}")))?;
    let encoded = encode_all(&bytes, p, options)?;
    let mut after = 0;
    for (name, data) in names.iter().zip(&encoded) {
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
    })
}

/// Pixels ready for the encoder: RGB when fully opaque, else RGBA.
struct Pixels {
    data: Vec<u8>,
    width: u32,
    height: u32,
    alpha: bool,
}

/// Decodes an image with the pixel limit enforced and EXIF orientation applied.
pub fn decode(bytes: &[u8], format: Format, max_pixels: u64) -> Result<DynamicImage, Problem> {
    let Some(f) = format.image_format() else {
        return Err(Problem::Bad("not a raster image".into()));
    };
    let mut decoder = ImageReader::with_format(Cursor::new(bytes), f)
        .into_decoder()
        .map_err(|e| Problem::Bad(format!("it cannot be decoded ({e})")))?;
    let (w, h) = decoder.dimensions();
    if w as u64 * h as u64 > max_pixels {
        return Err(Problem::TooLarge {
            width: w,
            height: h,
            limit: max_pixels,
        });
    }
    let mut limits = Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(16).max(64 << 20));
    decoder
        .set_limits(limits)
        .map_err(|e| Problem::Bad(format!("it cannot be decoded ({e})")))?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder)
        .map_err(|e| Problem::Bad(format!("it is truncated or corrupt ({e})")))?;
    img.apply_orientation(orientation);
    Ok(img)
}

fn pixels(img: &DynamicImage) -> Pixels {
    let (width, height) = (img.width(), img.height());
    if img.color().has_alpha() {
        let rgba = img.to_rgba8();
        if rgba.pixels().any(|p| p.0[3] != 255) {
            return Pixels {
                data: rgba.into_raw(),
                width,
                height,
                alpha: true,
            };
        }
    }
    Pixels {
        data: img.to_rgb8().into_raw(),
        width,
        height,
        alpha: false,
    }
}

/// Whether an image has more distinct colours than `limit` (a photo rather than a screenshot).
/// A bitmap over all 2^24 RGB values: one pass, no hashing.
fn many_colors(px: &Pixels, limit: u32) -> bool {
    let step = if px.alpha { 4 } else { 3 };
    let mut seen = vec![0u64; 1 << 18];
    let mut count = 0u32;
    for c in px.data.chunks_exact(step) {
        let v = (c[0] as usize) << 16 | (c[1] as usize) << 8 | c[2] as usize;
        let (word, bit) = (v >> 6, 1u64 << (v & 63));
        if seen[word] & bit == 0 {
            seen[word] |= bit;
            count += 1;
            if count > limit {
                return true;
            }
        }
    }
    false
}

/// Encodes with libwebp, single-threaded (images are what run in parallel).
pub fn encode_webp(
    data: &[u8],
    width: u32,
    height: u32,
    alpha: bool,
    lossless: bool,
    quality: f32,
    method: i32,
) -> Result<Vec<u8>, Problem> {
    let layout = if alpha {
        webp::PixelLayout::Rgba
    } else {
        webp::PixelLayout::Rgb
    };
    let needed = width as usize * height as usize * if alpha { 4 } else { 3 };
    if data.len() < needed || width == 0 || height == 0 || width > 16383 || height > 16383 {
        return Err(Problem::Bad(format!(
            "{width} x {height} cannot be encoded as WebP (at most 16383 x 16383)"
        )));
    }
    let encoder = webp::Encoder::new(data, layout, width, height);
    let mut config =
        webp::WebPConfig::new().map_err(|_| Problem::Bad("libwebp failed to start".into()))?;
    config.lossless = i32::from(lossless);
    config.quality = quality;
    config.method = method;
    config.alpha_compression = i32::from(!lossless);
    config.thread_level = 0;
    let mem = encoder
        .encode_advanced(&config)
        .map_err(|e| Problem::Bad(format!("libwebp could not encode it ({e:?})")))?;
    Ok(mem.to_vec())
}

/// Resizes by area averaging (alpha premultiplied while filtering).
fn resize(px: &Pixels, width: u32, height: u32) -> Result<Vec<u8>, Problem> {
    use fast_image_resize::{
        FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer, images::Image, images::ImageRef,
    };
    let pt = if px.alpha {
        PixelType::U8x4
    } else {
        PixelType::U8x3
    };
    let fail = |e: &dyn std::fmt::Display| Problem::Bad(format!("it cannot be resized ({e})"));
    let src = ImageRef::new(px.width, px.height, &px.data, pt).map_err(|e| fail(&e))?;
    let mut dst = Image::new(width, height, pt);
    // Area averaging (as libwebp's own rescaler does): Lanczos3's sharper edges cost ~5% more
    // bytes in the copies and are not visible at these sizes.
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Box));
    Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| fail(&e))?;
    Ok(dst.into_vec())
}

/// Every output of an image, in the order of [`Planned::outputs`].
fn encode_all(bytes: &[u8], p: &Planned, o: &ImageOptions) -> Result<Vec<Vec<u8>>, Problem> {
    let img = decode(bytes, p.format, o.max_pixels)?;
    let px = pixels(&img);
    drop(img);
    let lossy =
        |data: &[u8], w: u32, h: u32| encode_webp(data, w, h, px.alpha, false, o.quality, o.method);
    let mut candidates: Vec<Vec<u8>> = Vec::new();
    if many_colors(&px, o.photo_colors) {
        candidates.push(lossy(&px.data, px.width, px.height)?);
    } else {
        // Screenshots: lossless keeps text crisp; lossy only when it is much smaller.
        let lossless = encode_webp(
            &px.data,
            px.width,
            px.height,
            px.alpha,
            true,
            o.lossless_quality,
            o.method,
        )?;
        let lossy = lossy(&px.data, px.width, px.height)?;
        if (lossy.len() as f64) < lossless.len() as f64 * o.lossy_ratio as f64 {
            candidates.push(lossy);
        } else {
            candidates.push(lossless);
        }
    }
    if p.format == Format::Webp {
        // A WebP source that is already smaller is published as it is.
        candidates.push(bytes.to_vec());
    }
    let full = candidates
        .into_iter()
        .min_by_key(Vec::len)
        .unwrap_or_default();
    let mut out = vec![full];
    for output in &p.outputs[1..] {
        let small = resize(&px, output.width, output.height)?;
        // Shrinking blurs text edges into many colours: lossy wins for screenshots too.
        out.push(lossy(&small, output.width, output.height)?);
    }
    Ok(out)
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
    fn names_are_safe() {
        assert_eq!(safe_stem("docs/My shot (1).png"), "My-shot--1-");
        assert_eq!(scaled_height(1000, 500, 480), 240);
    }
}
