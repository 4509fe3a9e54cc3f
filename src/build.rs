//! `docsite build`: sources in, a complete site out, or every problem reported and nothing
//! changed.
//!
//! The stages run in order — config, theme, content, graph, Markdown, templates, output — and
//! each collects every problem it finds before the build stops, so a writer sees them all at
//! once. Loading, Markdown and rendering run in parallel (rayon).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::assets::{ImageSet, Progress};
use crate::config::Config;
use crate::content;
use crate::deps::{Reach, frontmatter_reach, nav_dependents, nav_prints};
use crate::error::{Error, Errors};
use crate::highlight::{self, Highlighter};
use crate::markdown::{self, Rendered};
use crate::output::{self, Staging};
use crate::render::{Document, Renderer};
use crate::site::Site;
use crate::site_components::SiteComponents;
use crate::theme::{self, Theme};

/// What to build and how.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The site root (holds `docsite.toml`, `content/`...).
    pub root: PathBuf,
    /// Where to write; default `[folders] output` under the root.
    pub out: Option<PathBuf>,
    /// Replaces `base_url` from the config.
    pub base_url: Option<String>,
    /// Include pages marked `draft: true`.
    pub drafts: bool,
    /// Told how image work goes (the binary draws a bar on a terminal, log lines elsewhere).
    pub progress: Progress,
}

/// What a successful build did.
#[derive(Debug)]
pub struct BuildSummary {
    /// Pages rendered (including generated section pages).
    pub pages: usize,
    /// Files copied (content assets and static files).
    pub assets: usize,
    /// Problems that did not fail the build.
    pub warnings: Vec<Error>,
    /// What the image pipeline did.
    pub images: crate::assets::ImageStats,
    /// Wall time.
    pub elapsed: Duration,
    /// Where the site now is.
    pub out: PathBuf,
}

impl std::fmt::Display for BuildSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "built {} pages, {} assets, {} warnings in {} ms → {}",
            self.pages,
            self.assets,
            self.warnings.len(),
            self.elapsed.as_millis(),
            self.out.display()
        )?;
        if self.images.images > 0 {
            write!(f, "\n{}", self.images)?;
        }
        Ok(())
    }
}

/// A loaded site: the graph, each page's rendered Markdown, and every problem found so far.
#[derive(Debug)]
pub struct Loaded {
    /// The site root.
    pub root: PathBuf,
    /// The page graph.
    pub site: Site,
    /// The theme; `None` when a template failed to load (its errors are in `problems`).
    pub theme: Option<Theme>,
    /// Rendered Markdown, by page index.
    pub bodies: Vec<Rendered>,
    /// Every problem found while loading, errors and warnings.
    pub problems: Vec<Error>,
    /// How it was loaded.
    pub options: LoadOptions,
    /// Who links to what (for re-checking after a change).
    pub links: crate::check::LinkGraph,
    /// The highlighter the load used (with its cache), kept for re-rendering pages.
    pub highlighter: Option<Highlighter>,
    /// Every image, planned, and (unless only checking) processed.
    pub images: ImageSet,
}

/// What [`Loaded::reload_page`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reloaded {
    /// These pages (the changed one and those linking to it) were re-rendered and re-checked.
    Pages(Vec<usize>),
    /// The page's title, place in navigation, description or dates changed: navigation was
    /// worked out again in memory and the page re-checked as for `Pages`. These pages (the
    /// changed one first) show different navigation now and must be rendered again, with the
    /// site-wide documents (listings, sitemap, 404); see [`crate::deps`].
    Navigation(Vec<usize>),
    /// The change reaches beyond what can be redone in memory (the page's URL or redirects, a
    /// draft, or the file is not a known page): load the whole site again.
    Site,
}

impl Loaded {
    /// Re-reads one page (content-relative path `rel`) after its file changed, re-renders its
    /// Markdown, and re-checks it and every page that links to it; site-wide findings (orphans,
    /// unused assets) are recomputed. `problems` is updated in place. The cost depends on the
    /// page and its links, not on the size of the site (but for the site-wide pass, one scan of
    /// every page's references).
    pub fn reload_page(&mut self, rel: &str) -> Reloaded {
        let Some(p) = self.site.page_index(rel) else {
            return Reloaded::Site;
        };
        let content_dir = self.root.join(&self.site.config.folders.content);
        let display = self.site.pages[p].page.source.display.clone();
        let mut load_errors = Vec::new();
        let mut reach = Reach::Page;
        let mut before = None;
        match content::load_page(rel, &content_dir.join(rel), &display, self.options.drafts) {
            Ok(Some(page)) => {
                let old = &self.site.pages[p].page;
                reach = frontmatter_reach(&old.meta, &page.meta);
                if old.failed || reach == Reach::Site {
                    return Reloaded::Site;
                }
                if reach == Reach::Navigation {
                    // Navigation reads titles from the pages: fingerprint it before the change.
                    before = Some(nav_prints(&self.site));
                }
                load_errors.extend(page.meta.warnings.iter().cloned());
                self.site.replace_page(p, page);
            }
            Ok(None) => return Reloaded::Site,
            Err(errors) => {
                // Keep the last good text in the graph; report what is wrong now.
                load_errors = errors;
            }
        }
        let mut relisted = Vec::new();
        let mut moved = Vec::new();
        if let Some(before) = before {
            self.site.renavigate();
            moved = nav_dependents(&before, &nav_prints(&self.site));
            // Hidden or shown pages: their orphan-page findings may change.
            relisted = self.links.relist(&self.site);
        }
        if !load_errors.iter().any(Error::is_error) {
            let components = SiteComponents::new(&self.site, self.theme.as_ref(), &self.root);
            let md = markdown::Renderer {
                options: &self.site.config.markdown,
                highlighter: self.highlighter.as_ref(),
                resolver: &self.site,
                images: Some(&self.images),
                components: Some(&components),
            };
            let s = &self.site.pages[p].page.source;
            self.bodies[p] = md.render(&s.text, s.body_offset, &s.rel, &s.display);
            let (refs, errors) = crate::assets::frontmatter_refs(&self.site, &self.images, p);
            self.bodies[p].references.extend(refs);
            self.bodies[p].errors.extend(errors);
            self.images.fill_frontmatter(&mut self.site, p);
            // An image the site did not show before has no outputs yet: only a whole build
            // makes them (the cache keeps that cheap).
            let new_image = self.bodies[p].references.iter().any(|r| {
                matches!(&r.resolved, markdown::Resolved::Url(u)
                    if r.kind == markdown::RefKind::Image
                        && self.images.rel_of_url(u).is_some_and(|rel| !self.images.is_ready(rel)))
            });
            // (The preview shows its source meanwhile and makes it in the background.)
            if new_image && !self.options.skip_highlight && !self.images.is_deferred() {
                return Reloaded::Site;
            }
        }

        // Pages whose links point at this one: their anchors may have come or gone.
        let (mut touched_pages, touched_assets) = self.links.update(&self.site, p, &self.bodies[p]);
        touched_pages.extend(relisted);
        touched_pages.sort_unstable();
        touched_pages.dedup();
        let mut affected: Vec<usize> = vec![p];
        let mut linking: Vec<usize> = self.links.linking_to(p).collect();
        linking.sort_unstable();
        affected.extend(linking);
        let paths: HashSet<PathBuf> = affected
            .iter()
            .map(|&q| self.site.pages[q].page.source.display.clone())
            .collect();
        let site_wide: HashSet<PathBuf> = touched_pages
            .iter()
            .map(|&q| self.site.pages[q].page.source.display.clone())
            .chain(touched_assets.iter().map(|&a| {
                PathBuf::from(format!(
                    "{}{}",
                    self.site.content_prefix(),
                    self.site.assets[a].rel
                ))
            }))
            .collect();
        self.problems.retain(|e| match e.kind.code() {
            "orphan-page" | "unused-asset" => !site_wide.contains(&e.location.path),
            // A graph-level problem: only a whole reload can change it.
            "duplicate-url" => true,
            _ => !paths.contains(&e.location.path),
        });
        let mut fresh = load_errors;
        for &q in &affected {
            fresh.extend(self.bodies[q].errors.iter().cloned());
            fresh.extend(crate::check::check_page(&self.site, q, &self.bodies));
        }
        fresh.extend(
            touched_pages
                .iter()
                .filter_map(|&q| self.links.orphan(&self.site, q)),
        );
        fresh.extend(
            touched_assets
                .iter()
                .filter_map(|&a| self.links.unused(&self.site, a)),
        );
        crate::check::apply_severities(&self.site.config.check, &mut fresh);
        self.problems.extend(fresh);
        if reach == Reach::Navigation {
            let mut render = vec![p];
            render.extend(moved.into_iter().filter(|&q| q != p));
            return Reloaded::Navigation(render);
        }
        Reloaded::Pages(affected)
    }

    /// Whether any problem fails a build.
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Error::is_error)
    }

    /// How many of the site's files were read: its pages, the files beside them (images read
    /// as far as their headers) and `docsite.toml` when there is one.
    pub fn files_read(&self) -> usize {
        let config = usize::from(self.root.join(crate::config::CONFIG_FILE).is_file());
        self.site.pages.len() + self.site.assets.len() + config
    }
}

/// What to load.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Replaces `base_url` from the config.
    pub base_url: Option<String>,
    /// Include pages marked `draft: true`.
    pub drafts: bool,
    /// Leave code unhighlighted and images unencoded: checking needs neither, and they are
    /// most of the cost of a first build. (Images are still read and their headers checked.)
    pub skip_highlight: bool,
    /// Encode no image now (the preview): pages show an image's source until a background
    /// worker made its outputs (see [`crate::assets::ImageSet::defer`]).
    pub defer_images: bool,
    /// Told how image work goes.
    pub progress: Progress,
}

/// Loads the site at `root` (config, theme, content, graph, Markdown) without writing anything.
/// Problems in pages and templates are collected into [`Loaded::problems`]; `Err` only when the
/// site cannot be loaded at all (a broken `docsite.toml`, no content folder).
pub fn load(root: &Path, opts: &LoadOptions) -> Result<Loaded, Errors> {
    load_inner(root, opts, true)
}

/// [`load`], writing the highlight cache back only if `save_cache` (a build writes it while it
/// writes the pages instead).
fn load_inner(root: &Path, opts: &LoadOptions, save_cache: bool) -> Result<Loaded, Errors> {
    let drafts = opts.drafts;
    let mut config = Config::load(root).map_err(Errors)?;
    if let Some(b) = opts.base_url.as_deref() {
        config.base_url = b.to_string();
        if let Err(message) = crate::config::base_path(b) {
            return Err(Error::new(
                crate::error::ErrorKind::InvalidValue {
                    key: "--base-url".into(),
                    message,
                },
                crate::error::Location::file("command line"),
            )
            .into());
        }
    }
    let content_dir = root.join(&config.folders.content);
    if !content_dir.is_dir() {
        return Err(Error::new(
            crate::error::ErrorKind::Io {
                action: "reading the content folder",
                message: "no such folder (create it, or set `[folders] content`)".into(),
            },
            crate::error::Location::file(content_dir.strip_prefix(root).unwrap_or(&content_dir)),
        )
        .into());
    }
    let mut problems = Vec::new();
    // The highlight cache is read while the sources are: both are I/O-bound.
    let cache_dir = root.join(&config.folders.cache);
    let want_cache = config.markdown.highlight && !opts.skip_highlight;
    let (cache, (theme, static_files, (content, content_errors))) = std::thread::scope(|s| {
        let cache = s.spawn(|| want_cache.then(|| highlight::Cache::open(&cache_dir)));
        // The templates are compiled, and the built-in CSS and JS minified (once per process),
        // while the sources are read, rather than before or after on the only busy core.
        let templates_dir = root.join(&config.folders.templates);
        let theme = s.spawn(move || Theme::load(root, &templates_dir));
        if !opts.skip_highlight {
            s.spawn(theme::builtin_static);
        }
        let mut static_errors = Vec::new();
        let static_files = list_static(
            root,
            &root.join(&config.folders.r#static),
            &mut static_errors,
        );
        let loaded = content::load(root, &content_dir, drafts, &config.nav.file);
        problems.extend(static_errors);
        let theme = theme
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (cache.join().ok().flatten(), (theme, static_files, loaded))
    });
    let theme = match theme {
        Ok(t) => Some(t),
        Err(e) => {
            problems.extend(e);
            None
        }
    };
    problems.extend(content_errors);
    let content_prefix = format!(
        "{}/",
        config.folders.content.to_string_lossy().trim_matches('/')
    );
    let (site, site_errors) = Site::new(config, content, static_files, &content_prefix);
    problems.extend(site_errors);

    let highlighter =
        (site.config.markdown.highlight && !opts.skip_highlight).then(|| Highlighter::new(cache));
    let mut images = ImageSet::plan(&site, root);
    if opts.defer_images {
        images.defer();
    }
    let components = SiteComponents::new(&site, theme.as_ref(), root);
    let md = markdown::Renderer {
        options: &site.config.markdown,
        highlighter: highlighter.as_ref(),
        resolver: &site,
        images: Some(&images),
        components: Some(&components),
    };
    let bodies: Vec<Rendered> = site
        .pages
        .par_iter()
        .map(|p| {
            let s = &p.page.source;
            if p.page.failed {
                return Rendered::default();
            }
            md.render(&s.text, s.body_offset, &s.rel, &s.display)
        })
        .collect();
    let mut bodies = bodies;
    for (p, b) in bodies.iter_mut().enumerate() {
        let (refs, errors) = crate::assets::frontmatter_refs(&site, &images, p);
        b.references.extend(refs);
        b.errors.extend(errors);
        problems.extend(b.errors.iter().cloned());
    }
    if let Some(h) = highlighter.as_ref().filter(|_| save_cache) {
        // Only a cache: a build that cannot write it is slower next time, not wrong.
        let _ = h.save_cache();
    }
    let mut loaded = Loaded {
        root: root.to_path_buf(),
        site,
        theme,
        bodies,
        problems,
        options: opts.clone(),
        links: Default::default(),
        highlighter,
        images,
    };
    loaded.links = crate::check::LinkGraph::new(&loaded.site, &loaded.bodies);
    let findings = crate::check::check(&loaded);
    loaded.problems.extend(findings);
    crate::check::apply_severities(&loaded.site.config.check, &mut loaded.problems);
    // Fail fast: a site with errors is reported as `docsite check` reports it, before a single
    // image is decoded (a first build of a large tree spends minutes there).
    if !opts.skip_highlight && !opts.defer_images && !loaded.has_errors() {
        loaded.process_images(&opts.progress);
    }
    if opts.defer_images {
        for p in 0..loaded.site.pages.len() {
            loaded.images.fill_frontmatter(&mut loaded.site, p);
        }
    }
    Ok(loaded)
}

/// What the preview must do after background image work finished ([`Loaded::images_made`]).
#[derive(Debug, Default)]
pub struct ImagesMade {
    /// Pages to render again (they show the images' outputs now).
    pub pages: Vec<usize>,
    /// Navigation changed too (a page's file changed meanwhile): render the site-wide documents.
    pub site_wide: bool,
    /// Outputs to publish: (site-relative path, file in the cache).
    pub files: Vec<(String, PathBuf)>,
    /// Source files no longer published (the pages show their outputs instead).
    pub removed: Vec<String>,
}

impl Loaded {
    /// The background work the images of `pages` (every page when `None`) still need, in
    /// preview mode.
    pub fn pending_images(&self, pages: Option<&[usize]>) -> Vec<crate::assets::Job> {
        let bodies: Vec<&Rendered> = match pages {
            None => self.bodies.iter().collect(),
            Some(pages) => pages.iter().filter_map(|&p| self.bodies.get(p)).collect(),
        };
        let used: HashSet<&str> = bodies
            .iter()
            .flat_map(|b| &b.references)
            .filter(|r| r.kind == markdown::RefKind::Image)
            .filter_map(|r| match &r.resolved {
                markdown::Resolved::Url(u) => self.images.rel_of_url(u),
                _ => None,
            })
            .collect();
        self.images.pending(used)
    }

    /// Takes finished background image work: marks the images ready and says which pages show
    /// them now. `None` when a page showing one changed beyond what can be redone in memory
    /// (load the whole site again).
    pub fn images_made(
        &mut self,
        done: Vec<crate::assets::background::Done>,
    ) -> Option<ImagesMade> {
        let before = self.images.replaced_originals(&self.site, &self.bodies);
        let rels: HashSet<String> = done
            .into_iter()
            .flat_map(|d| self.images.finish(&d.key, d.result))
            .collect();
        let mut made = ImagesMade::default();
        if rels.is_empty() {
            return Some(made);
        }
        let showing: Vec<String> = self
            .pages_showing(&rels.iter().map(String::as_str).collect())
            .into_iter()
            .map(|p| self.site.pages[p].page.source.rel.clone())
            .collect();
        let mut pages = std::collections::BTreeSet::new();
        for rel in &showing {
            match self.reload_page(rel) {
                Reloaded::Pages(p) => pages.extend(p.first().copied()),
                Reloaded::Navigation(p) => {
                    pages.extend(p);
                    made.site_wide = true;
                }
                Reloaded::Site => return None,
            }
        }
        made.pages = pages.into_iter().collect();
        for rel in &rels {
            made.files.extend(self.images.files_of(rel));
        }
        let after = self.images.replaced_originals(&self.site, &self.bodies);
        made.removed = after.difference(&before).cloned().collect();
        made.removed.sort();
        Some(made)
    }

    /// The pages whose references show one of these images (site-relative paths).
    fn pages_showing(&self, rels: &HashSet<&str>) -> Vec<usize> {
        self.bodies
            .iter()
            .enumerate()
            .filter(|(_, b)| {
                b.references.iter().any(|r| match &r.resolved {
                    markdown::Resolved::Url(u) if r.kind == markdown::RefKind::Image => self
                        .images
                        .rel_of_url(u)
                        .is_some_and(|rel| rels.contains(rel)),
                    _ => false,
                })
            })
            .map(|(p, _)| p)
            .collect()
    }

    /// Makes the outputs of every image the pages show (settling animated GIFs first), and
    /// reports the images that could not be made at every reference to them.
    fn process_images(&mut self, progress: &Progress) {
        let (renamed, unsettled) = self.images.settle_animations();
        if !renamed.is_empty() {
            // These pages named the GIF; it is published as WebP.
            let renamed: HashSet<&str> = renamed.iter().map(String::as_str).collect();
            let pages = self.pages_showing(&renamed);
            let components = SiteComponents::new(&self.site, self.theme.as_ref(), &self.root);
            let md = markdown::Renderer {
                options: &self.site.config.markdown,
                highlighter: self.highlighter.as_ref(),
                resolver: &self.site,
                images: Some(&self.images),
                components: Some(&components),
            };
            for p in pages {
                let s = &self.site.pages[p].page.source;
                self.bodies[p].html = md.render(&s.text, s.body_offset, &s.rel, &s.display).html;
            }
        }
        let used = self.images.used_by(&self.bodies);
        let mut failed = self
            .images
            .process(used.keys().map(String::as_str), progress);
        // A GIF that failed to settle is as failed as one that failed to encode.
        failed.extend(unsettled);
        let mut errors = crate::assets::report_failed(&self.site, &used, &failed);
        crate::check::apply_severities(&self.site.config.check, &mut errors);
        self.problems.extend(errors);
        for p in 0..self.site.pages.len() {
            self.images.fill_frontmatter(&mut self.site, p);
        }
    }
}

/// Builds the site described by `opts`.
pub fn build(opts: &BuildOptions) -> Result<BuildSummary, Errors> {
    let start = Instant::now();
    let root = &opts.root;
    let mut loaded = load_inner(
        root,
        &LoadOptions {
            base_url: opts.base_url.clone(),
            drafts: opts.drafts,
            skip_highlight: false,
            defer_images: false,
            progress: opts.progress.clone(),
        },
        false,
    )?;
    if loaded.has_errors() {
        return Err(Errors(loaded.problems));
    }
    let folders = &loaded.site.config.folders;
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| root.join(&folders.output));
    let content_dir = root.join(&folders.content);
    let static_dir = root.join(&folders.r#static);
    let templates_dir = root.join(&folders.templates);
    output::check_output_dir(
        root,
        &out,
        &[
            (&content_dir, "it is inside content/ (or contains it)"),
            (&static_dir, "it is inside static/ (or contains it)"),
            (&templates_dir, "it is inside templates/ (or contains it)"),
        ],
    )?;

    let staging = Staging::new(&out)?;
    // What only loading, checking or a later re-render needs is freed before the pages are
    // rendered, the build's peak of memory: the sources' text (the size of `content/`) and
    // who links to what.
    for node in &mut loaded.site.pages {
        node.page.source.text = String::new();
    }
    loaded.links = Default::default();
    // A first build adds every code block to the highlight cache: writing it is a serial tail
    // (tens of ms for 10,000 pages) that overlaps with writing the pages instead of preceding it.
    // The highlighter (the whole cache file, or every new result) is dropped as soon as it is
    // saved, at once when nothing changed.
    let highlighter = loaded.highlighter.take();
    let (pages, assets) = std::thread::scope(|s| {
        let saving = s.spawn(move || {
            if let Some(h) = highlighter {
                // Only a cache: a build that cannot write it is slower next time, not wrong.
                let _ = h.save_cache();
            }
        });
        let written = write_site(&mut loaded, &staging, Bodies::Release);
        let _ = saving.join();
        written
    })?;
    staging.commit()?;
    let summary = BuildSummary {
        pages,
        assets,
        images: loaded.images.stats.clone(),
        warnings: std::mem::take(&mut loaded.problems),
        elapsed: start.elapsed(),
        out,
    };
    // Freeing a loaded site is one `free` per heading, link and search section: 50-90 ms of
    // one core for 10,000 pages, after everything else is done. The caller does not wait for
    // it, and a process that exits first (`docsite build`) leaves it to the kernel, which
    // takes back the whole address space at once anyway. Without a thread, it is freed here.
    let _ = std::thread::Builder::new()
        .name("docsite-free".into())
        .spawn(move || drop(loaded));
    Ok(summary)
}

/// The theme's files by name, as published: borrowed, the built-in file (which the build
/// writes); owned, the site's own from `static/` (copied with the other static files).
pub type ThemeFiles = Vec<(&'static str, Cow<'static, [u8]>)>;

/// The theme's files as published (the site's own `static/` copy wins over the built-in one)
/// and their cache-busted URLs for templates (`css`, `js`, `favicon`).
pub fn theme_files(site: &Site, root: &Path) -> (ThemeFiles, HashMap<&'static str, String>) {
    let static_dir = root.join(&site.config.folders.r#static);
    let mut files: ThemeFiles = Vec::new();
    let mut urls: HashMap<&'static str, String> = HashMap::new();
    for (name, bytes) in theme::builtin_static() {
        let bytes = match overriding(site, &static_dir, name) {
            Some(own) => Cow::Owned(own),
            None => Cow::Borrowed(bytes.as_slice()),
        };
        let key = match *name {
            "docsite.css" => "css",
            "docsite.js" => "js",
            "verify.js" => "verify_js",
            "search.js" => "search_js",
            "tabs.js" => "tabs_js",
            _ => "favicon",
        };
        urls.insert(
            key,
            format!("{}{}?v={}", site.base_path, name, theme::short_hash(&bytes)),
        );
        files.push((name, bytes));
    }
    (files, urls)
}

/// The site's own version of the built-in theme file `name` from `static/`, if it has one that
/// differs from the built-in source. A copy identical to the source (a site made from this
/// repository, or by copying the theme to edit it later) publishes the minified built-in.
fn overriding(site: &Site, static_dir: &Path, name: &str) -> Option<Vec<u8>> {
    if !site.static_files.contains(name) {
        return None;
    }
    let own = std::fs::read(static_dir.join(name)).ok()?;
    let same = theme::BUILTIN_STATIC
        .iter()
        .any(|(n, source)| *n == name && *source == own.as_slice());
    (!same).then_some(own)
}

/// Re-renders the documents of the given pages (after [`Loaded::reload_page`] or a theme
/// change): their output paths and HTML; with `site_wide`, also the generated section listings,
/// the 404 page, the sitemap and the redirects.
pub fn render_pages(
    loaded: &mut Loaded,
    pages: &[usize],
    site_wide: bool,
) -> Result<Vec<Document>, Errors> {
    let (_, asset_urls) = theme_files(&loaded.site, &loaded.root);
    let Some(theme) = loaded.theme.as_mut() else {
        return Err(Errors(loaded.problems.clone()));
    };
    let renderer = Renderer::for_pages(&loaded.site, theme, &asset_urls, Some(pages), site_wide)
        .map_err(Errors)?;
    let bodies = &loaded.bodies;
    let results: Vec<Result<Document, Error>> = pages
        .par_iter()
        .map(|&p| renderer.page(p, &bodies[p]))
        .collect();
    let mut docs = Vec::with_capacity(pages.len());
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(d) => docs.push(d),
            Err(e) => errors.push(e),
        }
    }
    if site_wide {
        for doc in site_wide_documents(&renderer, &loaded.site) {
            match doc {
                Ok(d) => docs.push(d),
                Err(e) => errors.push(e),
            }
        }
    }
    if !errors.is_empty() {
        dedup_errors(&mut errors);
        return Err(Errors(errors));
    }
    Ok(docs)
}

/// The documents that are not pages: generated section listings, 404, sitemap, redirects.
fn site_wide_documents(renderer: &Renderer<'_>, site: &Site) -> Vec<Result<Document, Error>> {
    let mut docs: Vec<Result<Document, Error>> = site
        .sections
        .iter()
        .enumerate()
        .filter(|(_, s)| s.index.is_none())
        .map(|(i, _)| renderer.generated_section(i))
        .collect();
    docs.push(renderer.not_found());
    docs.push(Ok(renderer.sitemap()));
    match renderer.redirects() {
        Ok(redirects) => docs.extend(redirects.into_iter().map(Ok)),
        Err(e) => docs.push(Err(e)),
    }
    docs
}

/// A broken template fails every page that uses it: say so once.
fn dedup_errors(errors: &mut Vec<Error>) {
    let mut seen = HashSet::new();
    errors.retain(|e| seen.insert((e.location.path.clone(), e.location.line, e.kind.clone())));
}

/// The search index of a loaded site, as files (what `write_site` writes under `search/`).
pub fn search_index(loaded: &Loaded) -> crate::search::Files {
    crate::search::build(&loaded.site, &loaded.bodies)
}

/// What [`write_site`] leaves of the pages' bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bodies {
    /// Keep them: the preview server re-renders pages from them later.
    Keep,
    /// Free each page's HTML once its page is written: a one-off build of a large site must not
    /// hold every body and every search posting at once.
    Release,
}

/// Renders every document of a loaded site and writes it, with every asset, into `staging`
/// (a folder being built, or the preview server's memory). Returns the number of pages and of
/// copied files.
pub fn write_site(
    loaded: &mut Loaded,
    staging: &impl output::Sink,
    bodies_after: Bodies,
) -> Result<(usize, usize), Errors> {
    let site = &loaded.site;
    let root = &loaded.root;
    let static_dir = root.join(&site.config.folders.r#static);
    let (theme_files, asset_urls) = theme_files(site, root);

    let Some(theme) = loaded.theme.as_mut() else {
        // Unreachable in practice: a theme that failed to load is an error in `problems`.
        return Err(Errors(loaded.problems.clone()));
    };
    let renderer = Renderer::new(site, theme, &asset_urls).map_err(Errors)?;
    let owned: Vec<String> = match bodies_after {
        Bodies::Keep => Vec::new(),
        Bodies::Release => loaded
            .bodies
            .iter_mut()
            .map(|b| std::mem::take(&mut b.html))
            .collect(),
    };
    let bodies = &loaded.bodies;
    // Each worker renders its pages into one buffer, reused from page to page.
    let write_page = |buf: &mut Vec<u8>, p: usize, body_html: &str| {
        let path = renderer.page_into(p, body_html, &bodies[p].headings, buf)?;
        staging.write(&path, buf)
    };

    // The search index is built beside the pages: both only read the loaded site.
    let (page_results, search_errors) = rayon::join(
        || match bodies_after {
            Bodies::Keep => (0..site.pages.len())
                .into_par_iter()
                .map_init(Vec::new, |buf, p| write_page(buf, p, &bodies[p].html))
                .collect::<Vec<Result<(), Error>>>(),
            Bodies::Release => owned
                .into_par_iter()
                .enumerate()
                .map_init(Vec::new, |buf, (p, html)| write_page(buf, p, &html))
                .collect(),
        },
        || crate::search::write(site, bodies, staging),
    );
    let mut errors: Vec<Error> = page_results.into_iter().filter_map(Result::err).collect();
    errors.extend(search_errors);

    let extra = site_wide_documents(&renderer, site);
    let generated = site.sections.iter().filter(|s| s.index.is_none()).count();
    for doc in extra {
        match doc.and_then(|(path, html)| staging.write(&path, html.as_bytes())) {
            Ok(()) => {}
            Err(e) => errors.push(e),
        }
    }

    // Copies: built-in theme files not overridden, static/, content assets.
    // A theme file in static/ identical to the built-in one is published as the built-in (see
    // `overriding`), not copied.
    let theme_written: HashSet<&str> = theme_files
        .iter()
        .filter(|(_, bytes)| matches!(bytes, Cow::Borrowed(_)))
        .map(|(name, _)| *name)
        .collect();
    for (name, bytes) in &theme_files {
        if theme_written.contains(name) {
            if let Err(e) = staging.write(name, bytes) {
                errors.push(e);
            }
        }
    }
    let content_dir = root.join(&site.config.folders.content);
    // An image the pages only show is published as the pipeline's WebP, not also as itself.
    let replaced = loaded.images.replaced_originals(site, bodies);
    let copies: Vec<(String, PathBuf)> = site
        .static_files
        .iter()
        .filter(|rel| !theme_written.contains(rel.as_str()))
        .map(|rel| (rel.clone(), static_dir.join(rel)))
        .chain(
            site.assets
                .iter()
                .filter(|a| !replaced.contains(&a.rel))
                .map(|a| (a.rel.clone(), content_dir.join(&a.rel))),
        )
        .collect();
    let copy_errors: Vec<Error> = copies
        .par_iter()
        .filter_map(|(rel, from)| {
            let display = from.strip_prefix(root).unwrap_or(from);
            staging.copy(rel, from, display).err()
        })
        .collect();
    errors.extend(copy_errors);
    let image_start = Instant::now();
    if let Err(e) = loaded.images.write(staging) {
        errors.extend(e);
    }
    loaded.images.stats.millis += image_start.elapsed().as_millis() as u64;
    if !errors.is_empty() {
        dedup_errors(&mut errors);
        return Err(Errors(errors));
    }
    Ok((site.pages.len() + generated, copies.len()))
}

/// Every file under `static/`, as `/`-separated relative paths.
fn list_static(root: &Path, dir: &Path, errors: &mut Vec<Error>) -> HashSet<String> {
    let mut files = HashSet::new();
    if !dir.is_dir() {
        return files;
    }
    let real_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let mut walker = walkdir::WalkDir::new(dir).follow_links(true).into_iter();
    while let Some(entry) = walker.next() {
        if let Ok(e) = &entry {
            let display = e.path().strip_prefix(root).unwrap_or(e.path());
            if let Some(outside) = content::link_outside(e, &real_root, display) {
                errors.push(outside);
                if e.file_type().is_dir() {
                    walker.skip_current_dir();
                }
                continue;
            }
        }
        match entry {
            Ok(e) if e.file_type().is_file() => {
                if let Some(rel) = e
                    .path()
                    .strip_prefix(dir)
                    .ok()
                    .and_then(|p| p.to_str())
                    .map(|p| p.replace('\\', "/"))
                {
                    files.insert(rel);
                }
            }
            Ok(_) => {}
            Err(e) => {
                let path = e.path().unwrap_or(dir);
                errors.push(Error::new(
                    crate::error::ErrorKind::Io {
                        action: "reading static files",
                        message: e.to_string(),
                    },
                    crate::error::Location::file(path.strip_prefix(root).unwrap_or(path)),
                ));
            }
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn static_links_out_of_the_site_are_errors_at_their_path() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("environ"), "SECRET=1").unwrap();
        let site = tempfile::tempdir().unwrap();
        let dir = site.path().join("static");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ok.css"), "a{}").unwrap();
        std::os::unix::fs::symlink(outside.path().join("environ"), dir.join("env.txt")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.join("outdir")).unwrap();
        let mut errors = Vec::new();
        let files = list_static(site.path(), &dir, &mut errors);
        assert_eq!(files, HashSet::from(["ok.css".to_string()]));
        let at: Vec<String> = errors.iter().map(|e| e.location.to_string()).collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors
                .iter()
                .all(|e| e.kind.code() == "symlink-outside-site")
        );
        assert!(at.iter().any(|l| l.contains("static/env.txt")), "{at:?}");
    }
}
