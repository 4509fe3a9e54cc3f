//! `docsite serve`: the live preview. The site is built into memory (nothing is written to the
//! output folder) and served by axum on loopback; a watcher rebuilds it on every save, the
//! browser reloads itself, and each page shows its own problems.
//!
//! Order matters for "no 404 while reloading": the new pages replace the old ones first, then
//! the reload message goes out. A rebuild that fails keeps serving the last good pages and shows
//! the errors over them.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use notify::EventKind;
use notify_debouncer_full::{DebounceEventResult, new_debouncer};
use serde::Serialize;
use tokio::sync::{broadcast, mpsc};

use crate::build::{self, LoadOptions};
use crate::deps;
use crate::error::{Error, ErrorKind, Location};
use crate::output::{Memory, Stored};
use crate::theme::Theme;

/// The script every served HTML page gets.
const LIVE_JS: &str = include_str!("live.js");

/// What to serve and where.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The site root.
    pub root: PathBuf,
    /// Address to bind (loopback by default).
    pub host: String,
    /// Port (0: any free port).
    pub port: u16,
    /// Serve https (for providers that accept only https callback URLs).
    pub tls: Option<crate::listen::Tls>,
}

/// Background image workers: one per core of the machines docsite is measured on. They run
/// at a lower priority, so a rebuild still gets a core when it needs one.
const IMAGE_WORKERS: usize = 2;

/// How often, at most, the terminal hears how background image work goes.
const IMAGE_PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// A batch of at least this many changed paths is a burst (a checkout, a script; an editor's
/// save is one path, and never waits)...
const BURST: usize = 2;
/// ... whose rebuild waits until no change came for this long...
const BURST_QUIET: Duration = Duration::from_millis(40);
/// ... or at most this long.
const BURST_WAIT_MAX: Duration = Duration::from_secs(2);

/// How long the site must stay unchanged before the preview rebuilds its search index.
const SEARCH_QUIET: Duration = Duration::from_millis(400);

/// One built version of the site.
#[derive(Debug, Default)]
struct Snapshot {
    files: HashMap<String, Stored>,
    /// Page URL → its source file, for the per-page panel (shared between snapshots).
    sources: Arc<HashMap<String, PathBuf>>,
    problems: Vec<Error>,
    /// The last rebuild failed: `files` are from the last good one.
    failed: bool,
    generation: u64,
}

struct Shared {
    snapshot: RwLock<Arc<Snapshot>>,
    events: broadcast::Sender<String>,
    /// A file the snapshot points at is gone (the image cache deleted under the preview):
    /// the site is built again, which makes it anew.
    stale: tokio::sync::Notify,
}

/// A site built into memory.
struct Built {
    files: HashMap<String, Stored>,
    sources: Arc<HashMap<String, PathBuf>>,
    problems: Vec<Error>,
}

/// What a rebuild produced.
enum Outcome {
    /// The whole site again (or the problems that stopped it).
    Full(Result<Built, Vec<Error>>),
    /// Only these documents (output path, HTML) and files (path, bytes) changed, and these
    /// files are no longer published; `urls` are the pages to reload (`None`: every page).
    Pages {
        docs: Vec<(String, String)>,
        files: Vec<(String, Stored)>,
        removed: Vec<String>,
        urls: Option<Vec<String>>,
        problems: Vec<Error>,
    },
    /// The changed page cannot render: keep the last good pages.
    Failed(Vec<Error>),
    /// Nothing the site is made from changed (an editor's temporary file, a note beside
    /// `docsite.toml`): no rebuild, no reload.
    Nothing,
}

/// Problems that stop pages from rendering; findings (a broken link) do not.
fn blocking(problems: &[Error]) -> bool {
    problems.iter().any(|e| {
        e.is_error()
            && matches!(
                e.kind.code(),
                "io" | "encoding" | "frontmatter" | "config" | "template" | "duplicate-url"
            )
    })
}

/// What the rebuild task keeps between rebuilds: the last good loaded site (with its
/// highlighter and cache), so that an edit to one page's body re-renders that page alone.
struct Workspace {
    root: PathBuf,
    loaded: Option<build::Loaded>,
    /// Makes the images' outputs while the pages are served with their sources.
    images: crate::assets::background::Background,
}

impl Workspace {
    /// Builds the whole site again, as for a change that reaches everything.
    fn everything(&mut self) -> Outcome {
        let _pause = self.images.pause();
        Outcome::Full(self.full())
    }

    fn rebuild(&mut self, changed: &[PathBuf]) -> Outcome {
        // A save goes first: no new image starts encoding until it is served.
        let _pause = self.images.pause();
        let outcome = match self.incremental(changed) {
            Some(outcome) => outcome,
            None => Outcome::Full(self.full()),
        };
        if let (Some(loaded), Outcome::Pages { .. }) = (&self.loaded, &outcome) {
            // Images that a changed page now shows, or that changed themselves, and that the
            // pipeline has not made yet.
            let jobs = if changed
                .iter()
                .any(|p| crate::assets::is_image(&p.to_string_lossy()))
            {
                loaded.pending_images(None)
            } else {
                let content = self.root.join(&loaded.site.config.folders.content);
                let pages: Vec<usize> = changed
                    .iter()
                    .filter_map(|path| {
                        let rel = path.strip_prefix(&content).ok()?;
                        loaded
                            .site
                            .page_index(&rel.to_string_lossy().replace('\\', "/"))
                    })
                    .collect();
                loaded.pending_images(Some(&pages))
            };
            self.images.add(jobs);
        }
        outcome
    }

    /// Publishes what the background workers made: the pages showing those images are
    /// rendered again with their outputs.
    fn images_made(&mut self) -> Outcome {
        let done = self.images.take();
        if done.is_empty() {
            return Outcome::Nothing;
        }
        let Some(loaded) = self.loaded.as_mut() else {
            // The last rebuild failed: the next good one submits its images again.
            return Outcome::Nothing;
        };
        let Some(made) = loaded.images_made(done) else {
            return Outcome::Full(self.full());
        };
        if made.pages.is_empty() && made.files.is_empty() {
            return Outcome::Nothing;
        }
        let mut files = Vec::with_capacity(made.files.len());
        for (out, from) in made.files {
            match Stored::file(&from) {
                Ok(stored) => files.push((out, stored)),
                // The cache was deleted under us: start over, which encodes it again.
                Err(_) => return Outcome::Full(self.full()),
            }
        }
        let Some(loaded) = self.loaded.as_mut() else {
            return Outcome::Nothing;
        };
        if blocking(&loaded.problems) {
            return Outcome::Failed(loaded.problems.clone());
        }
        match build::render_pages(loaded, &made.pages, made.site_wide) {
            Ok(docs) => {
                let urls = docs
                    .iter()
                    .filter_map(|(path, _)| path.strip_suffix("index.html"))
                    .map(|dir| format!("/{dir}"))
                    .collect();
                Outcome::Pages {
                    docs,
                    files,
                    removed: made.removed,
                    urls: Some(urls),
                    problems: loaded.problems.clone(),
                }
            }
            Err(e) => {
                self.loaded = None;
                Outcome::Failed(e.0)
            }
        }
    }

    /// Redoes only what the changes reach, by the rules in [`crate::deps`]; `None` when they
    /// ask for the whole site. Whatever fails here drops the loaded site, so the next change
    /// loads everything again rather than build on a half-applied one.
    fn incremental(&mut self, changed: &[PathBuf]) -> Option<Outcome> {
        let loaded = self.loaded.as_mut()?;
        let plan = deps::plan(&loaded.site, &self.root, changed);
        if plan.everything {
            return None;
        }
        if plan.is_empty() {
            return Some(Outcome::Nothing);
        }
        let folders = loaded.site.config.folders.clone();
        let mut render: BTreeSet<usize> = BTreeSet::new();
        let mut site_wide = false;
        let mut files: Vec<(String, Stored)> = Vec::new();

        if !plan.templates.is_empty() {
            match Theme::load(&self.root, &self.root.join(&folders.templates)) {
                Ok(theme) => {
                    let graph = deps::TemplateGraph::new(theme.template_sources());
                    render.extend(deps::template_dependents(
                        &loaded.site,
                        &graph,
                        &plan.templates,
                    ));
                    site_wide = true;
                    loaded.theme = Some(theme);
                }
                Err(errors) => {
                    self.loaded = None;
                    return Some(Outcome::Failed(errors));
                }
            }
        }
        // Includes and component templates are rendered into the bodies that use them.
        let Some(includers) = deps::body_dependents(&loaded.site, &loaded.bodies, &plan) else {
            self.loaded = None;
            return None;
        };
        if includers.is_empty()
            && plan.pages.is_empty()
            && plan.templates.is_empty()
            && plan.statics.is_empty()
            && plan.assets.is_empty()
        {
            // Only unpublished files that no page includes.
            return Some(Outcome::Nothing);
        }
        // An image's outputs are named by its content: only it is encoded again, and the pages
        // showing it are rendered again with the new names.
        let mut pages = plan.pages.clone();
        pages.extend(includers);
        for &a in &plan.assets {
            let rel = &loaded.site.assets[a].rel;
            if loaded.images.get(rel).is_some() {
                let path = self.root.join(&folders.content).join(rel);
                // A problem with it is reported at the pages' references to it.
                let _ = loaded.images.refresh(&rel.clone(), &path);
                pages.extend(
                    deps::asset_dependents(&loaded.links, a)
                        .into_iter()
                        .map(|p| loaded.site.pages[p].page.source.rel.clone()),
                );
            }
        }
        pages.sort_unstable();
        pages.dedup();
        for rel in &pages {
            match loaded.reload_page(rel) {
                build::Reloaded::Pages(p) => render.extend(p.first()),
                build::Reloaded::Navigation(p) => {
                    render.extend(p);
                    site_wide = true;
                }
                build::Reloaded::Site => {
                    self.loaded = None;
                    return None;
                }
            }
        }
        let on_disk = |dir: &Path, rel: &str| Stored::file(&self.root.join(dir).join(rel)).ok();
        for rel in &plan.statics {
            // Gone again since the event: whatever it is now, the whole site says it best.
            let stored = on_disk(&folders.r#static, rel)?;
            files.push((rel.clone(), stored));
            if deps::static_reaches_pages(rel) {
                render.extend(0..loaded.site.pages.len());
                site_wide = true;
            }
        }
        let replaced = if plan.assets.is_empty() {
            Default::default()
        } else {
            loaded
                .images
                .replaced_originals(&loaded.site, &loaded.bodies)
        };
        for &a in &plan.assets {
            let rel = loaded.site.assets[a].rel.clone();
            for (out, from) in loaded.images.files_of(&rel) {
                files.push((out, Stored::file(&from).ok()?));
            }
            if !replaced.contains(&rel) {
                let stored = on_disk(&folders.content, &rel)?;
                files.push((rel, stored));
            }
            render.extend(deps::asset_dependents(&loaded.links, a));
        }
        if blocking(&loaded.problems) {
            return Some(Outcome::Failed(loaded.problems.clone()));
        }
        let pages: Vec<usize> = render.into_iter().collect();
        match build::render_pages(loaded, &pages, site_wide) {
            Ok(docs) => {
                // Browsers reload when their page is listed; a static file may show anywhere.
                let urls = plan.statics.is_empty().then(|| {
                    docs.iter()
                        .filter_map(|(path, _)| path.strip_suffix("index.html"))
                        .map(|dir| format!("/{dir}"))
                        .collect()
                });
                Some(Outcome::Pages {
                    docs,
                    files,
                    removed: Vec::new(),
                    urls,
                    problems: loaded.problems.clone(),
                })
            }
            Err(e) => {
                self.loaded = None;
                Some(Outcome::Failed(e.0))
            }
        }
    }

    /// Builds the whole site into memory: the files, or the problems that stopped it.
    fn full(&mut self) -> Result<Built, Vec<Error>> {
        self.loaded = None;
        let options = LoadOptions {
            // The preview is served at the root of its own origin.
            base_url: Some("/".into()),
            defer_images: true,
            ..Default::default()
        };
        let mut loaded = build::load(&self.root, &options).map_err(|e| e.0)?;
        if loaded.theme.is_none() || blocking(&loaded.problems) {
            return Err(loaded.problems);
        }
        let memory = Memory::default();
        build::write_site(&mut loaded, &memory, build::Bodies::Keep).map_err(|e| e.0)?;
        let sources = Arc::new(
            loaded
                .site
                .pages
                .iter()
                .map(|p| (loaded.site.url(&p.url), p.page.source.display.clone()))
                .collect(),
        );
        let built = Built {
            files: memory.into_files(),
            sources,
            problems: loaded.problems.clone(),
        };
        self.images.replace(loaded.pending_images(None));
        self.loaded = Some(loaded);
        Ok(built)
    }
}

/// Runs the preview server until the process is stopped. `ready` is called with the bound
/// address once the first build is served.
pub fn serve(options: &ServeOptions, ready: impl FnOnce(SocketAddr)) -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the server", Path::new("."), &e))?;
    runtime.block_on(run(options.clone(), ready))
}

async fn run(options: ServeOptions, ready: impl FnOnce(SocketAddr)) -> Result<(), Error> {
    let root = options.root.clone();
    let start = Instant::now();
    let images_ready = Arc::new(tokio::sync::Notify::new());
    let workspace = Arc::new(std::sync::Mutex::new(Workspace {
        root: root.clone(),
        loaded: None,
        images: crate::assets::background::Background::start(IMAGE_WORKERS, {
            let images_ready = images_ready.clone();
            move || images_ready.notify_one()
        }),
    }));
    let first = {
        let workspace = workspace.clone();
        tokio::task::spawn_blocking(move || match workspace.lock() {
            Ok(mut w) => w.full(),
            Err(_) => Err(Vec::new()),
        })
        .await
        .unwrap_or_else(|_| Err(Vec::new()))
    };
    let mut snapshot = Snapshot::default();
    if let Err(problems) = &first {
        print_errors(problems);
    }
    apply(&mut snapshot, first);
    let waiting = workspace
        .lock()
        .map(|w| w.images.status().total)
        .unwrap_or(0);
    eprintln!(
        "built in {} ms{}{}",
        start.elapsed().as_millis(),
        if snapshot.failed {
            " with errors: fix them and save, the page updates itself"
        } else {
            ""
        },
        if waiting > 0 {
            format!(
                "; {waiting} image(s) show their source until encoded in the background (the page \
                 reloads as they are)"
            )
        } else {
            String::new()
        }
    );
    let (sender, _) = broadcast::channel(64);
    let shared = Arc::new(Shared {
        snapshot: RwLock::new(Arc::new(snapshot)),
        events: sender,
        stale: tokio::sync::Notify::new(),
    });

    let bound = crate::listen::bind(&options.host, options.port, options.tls.as_ref()).await?;
    let local = bound.local;
    // The verifier's settings are read once: they are about the server, not the pages.
    let verify_config = crate::config::Config::load(&root)
        .map(|c| c.verify)
        .unwrap_or_default();
    let verify = crate::verify::server::for_site(&verify_config, &root, options.tls.is_some())
        .map_err(|message| {
            Error::new(
                ErrorKind::InvalidValue {
                    key: "verify".into(),
                    message,
                },
                Location::file(crate::config::CONFIG_FILE),
            )
        })?;

    let (tx, rx) = mpsc::unbounded_channel::<Vec<PathBuf>>();
    let watcher = watch(&root, tx.clone())?;
    tokio::spawn(rebuild_loop(
        root.clone(),
        workspace,
        shared.clone(),
        (watcher, tx, rx),
        images_ready,
    ));

    let app = Router::new()
        .route("/__docsite/events", get(events))
        .route("/__docsite/status", get(status))
        .fallback(get(page))
        .with_state(shared)
        .merge(verify);
    let mut scripts = crate::headers::theme_scripts(Some(&root));
    scripts.push(LIVE_JS.to_string());
    let app = crate::headers::Policy::new(&scripts, options.tls.is_some()).layer(app);
    ready(local);
    let names = crate::listen::Names::new(&verify_config.public_url);
    crate::listen::run(bound, app, names).await
}

fn apply(snapshot: &mut Snapshot, result: Result<Built, Vec<Error>>) {
    snapshot.generation += 1;
    match result {
        Ok(built) => {
            snapshot.files = built.files;
            snapshot.sources = built.sources;
            snapshot.problems = built.problems;
            snapshot.failed = false;
        }
        Err(problems) => {
            snapshot.problems = problems;
            snapshot.failed = true;
        }
    }
}

/// Files whose changes mean nothing to the site: editors' swap and backup files, VCS data.
fn ignored(path: &Path, root: &Path) -> bool {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    rel.components().any(|c| {
        let c = c.as_os_str().to_string_lossy();
        c == ".git"
            || c == ".docsite-cache"
            || c == "public"
            || c == "target"
            || c == "node_modules"
    }) || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with('~')
        || name == "4913"
        || name.starts_with(".#")
}

fn watch(root: &Path, tx: mpsc::UnboundedSender<Vec<PathBuf>>) -> Result<Watcher, Error> {
    let root_owned = root.to_path_buf();
    let mut debouncer = new_debouncer(
        // Editors' atomic saves land within microseconds; 10 ms merges them and a burst of
        // changes while keeping the reload prompt.
        Duration::from_millis(10),
        None,
        move |result: DebounceEventResult| {
            let Ok(events) = result else { return };
            let mut paths: Vec<PathBuf> = events
                .iter()
                // Our own reads raise access events: counting them would rebuild forever.
                .filter(|e| {
                    matches!(
                        e.event.kind,
                        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
                    ) && !matches!(
                        e.event.kind,
                        EventKind::Modify(notify::event::ModifyKind::Metadata(_))
                    )
                })
                .flat_map(|e| e.event.paths.iter().cloned())
                .filter(|p| !ignored(p, &root_owned))
                .collect();
            paths.sort();
            paths.dedup();
            if !paths.is_empty() {
                let _ = tx.send(paths);
            }
        },
    )
    .map_err(|e| watch_error(root, &e))?;
    debouncer
        .watch(root, notify::RecursiveMode::Recursive)
        .map_err(|e| watch_error(root, &e))?;
    Ok(debouncer)
}

fn watch_error(root: &Path, e: &notify::Error) -> Error {
    Error::new(
        ErrorKind::Io {
            action: "watching for changes",
            message: e.to_string(),
        },
        Location::file(root),
    )
}

/// The file watcher, the sender it reports to (to watch again), and the receiving end.
type Watch = (
    Watcher,
    mpsc::UnboundedSender<Vec<PathBuf>>,
    mpsc::UnboundedReceiver<Vec<PathBuf>>,
);

type Watcher = notify_debouncer_full::Debouncer<
    notify::RecommendedWatcher,
    notify_debouncer_full::RecommendedCache,
>;

/// Prints the problems that stopped a build, one excerpt each, so the terminal names the file
/// as the browser's overlay does.
fn print_errors(problems: &[Error]) {
    use std::io::IsTerminal;
    let color = crate::report::Color::detect(std::io::stderr().is_terminal());
    let errors: Vec<&Error> = problems.iter().filter(|e| e.is_error()).collect();
    for e in errors.iter().take(5) {
        eprint!("{}", crate::report::human(e, color));
    }
    if errors.len() > 5 {
        eprintln!(
            "… and {} more (all of them in the browser)",
            errors.len() - 5
        );
    }
}

/// Once the site root itself is gone its watch is gone too: wait for the folder to come back,
/// then watch it again. Polls, since there is nothing left to watch.
async fn rewatch(
    root: &Path,
    watcher: &mut Option<Watcher>,
    tx: &mpsc::UnboundedSender<Vec<PathBuf>>,
) {
    *watcher = None;
    eprintln!(
        "{} is gone: serving the last good pages until it is back",
        root.display()
    );
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if !root.is_dir() {
            continue;
        }
        match watch(root, tx.clone()) {
            Ok(w) => {
                *watcher = Some(w);
                eprintln!("{} is back", root.display());
                // Whatever was restored before the watch began counts as changed.
                let _ = tx.send(vec![root.to_path_buf()]);
                return;
            }
            Err(e) => eprint!("{}", crate::report::human(&e, crate::report::Color::Never)),
        }
    }
}

async fn rebuild_loop(
    root: PathBuf,
    workspace: Arc<std::sync::Mutex<Workspace>>,
    shared: Arc<Shared>,
    (watcher, tx, mut rx): Watch,
    images_ready: Arc<tokio::sync::Notify>,
) {
    let mut last_progress = Instant::now();
    let mut watcher = Some(watcher);
    // Without the pool, the index is refreshed only by full rebuilds.
    let search_pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .thread_name(|_| "docsite-search".into())
        .build()
        .ok()
        .map(Arc::new);
    let mut refreshing: Option<Arc<AtomicBool>> = None;
    loop {
        // An empty list: background image work finished a batch.
        let (mut changed, stale) = tokio::select! {
            biased;
            changed = rx.recv() => match changed {
                Some(changed) => (changed, false),
                None => break,
            },
            () = shared.stale.notified() => (Vec::new(), true),
            () = images_ready.notified() => (Vec::new(), false),
        };
        if let Some(cancel) = refreshing.take() {
            cancel.store(true, Ordering::Relaxed);
        }
        // A burst (a checkout touching hundreds of files) becomes one rebuild: what waits is
        // taken now, and while a burst is still arriving, the rebuild waits for its end.
        while let Ok(more) = rx.try_recv() {
            changed.extend(more);
        }
        // An image waits too: its outputs take seconds to make anyway, and it is how a
        // checkout of screenshots begins.
        if changed.len() >= BURST
            || changed
                .iter()
                .any(|p| crate::assets::is_image(&p.to_string_lossy()))
        {
            let until = Instant::now() + BURST_WAIT_MAX;
            loop {
                tokio::time::sleep(BURST_QUIET).await;
                let before = changed.len();
                while let Ok(more) = rx.try_recv() {
                    changed.extend(more);
                }
                if changed.len() == before || Instant::now() > until {
                    break;
                }
            }
        }
        changed.sort();
        changed.dedup();
        let images_only = changed.is_empty() && !stale;
        let start = Instant::now();
        let (outcome, status) = {
            let workspace = workspace.clone();
            let changed = changed.clone();
            tokio::task::spawn_blocking(move || match workspace.lock() {
                Ok(mut w) => {
                    let outcome = if stale {
                        w.everything()
                    } else if changed.is_empty() {
                        w.images_made()
                    } else {
                        w.rebuild(&changed)
                    };
                    (outcome, Some((w.images.status(), w.images.idle())))
                }
                Err(_) => (Outcome::Failed(Vec::new()), None),
            })
            .await
            .unwrap_or_else(|_| (Outcome::Failed(Vec::new()), None))
        };
        if let Some((status, idle)) = status.filter(|(s, _)| s.total > 0) {
            let finished = idle && status.done == status.total;
            if images_only && (finished || last_progress.elapsed() >= IMAGE_PROGRESS_EVERY) {
                last_progress = Instant::now();
                let secs = status.since.map_or(0, |t| t.elapsed().as_secs());
                if finished {
                    eprintln!(
                        "images: all {} encoded in the background, {secs} s",
                        status.total
                    );
                } else {
                    eprintln!(
                        "images: {}/{} encoded in the background, {secs} s",
                        status.done, status.total
                    );
                }
            }
        }
        if matches!(outcome, Outcome::Nothing) {
            continue;
        }
        if let Outcome::Failed(problems) | Outcome::Full(Err(problems)) = &outcome {
            print_errors(problems);
        }
        let css_only = !images_only
            && changed
                .iter()
                .all(|p| p.extension().is_some_and(|e| e == "css"));
        let (generation, failed, problems, pages, rendered) = {
            let mut guard = match shared.snapshot.write() {
                Ok(g) => g,
                Err(e) => e.into_inner(),
            };
            let mut next = Snapshot {
                files: guard.files.clone(),
                sources: guard.sources.clone(),
                generation: guard.generation,
                ..Snapshot::default()
            };
            let (pages, rendered) = match outcome {
                Outcome::Full(result) => {
                    let pages = result
                        .as_ref()
                        .ok()
                        .map(|b| changed_pages(&guard.files, &b.files));
                    apply(&mut next, result);
                    (pages.flatten(), None)
                }
                Outcome::Pages {
                    docs,
                    files,
                    removed,
                    urls,
                    problems,
                } => {
                    next.generation += 1;
                    let n = Some(docs.len());
                    for (path, html) in docs {
                        next.files.insert(path, html.into_bytes().into());
                    }
                    next.files.extend(files);
                    for path in removed {
                        next.files.remove(&path);
                    }
                    next.problems = problems;
                    (urls, n)
                }
                Outcome::Failed(problems) => {
                    apply(&mut next, Err(problems));
                    (None, None)
                }
                Outcome::Nothing => (None, None),
            };
            let out = (
                next.generation,
                next.failed,
                next.problems.len(),
                pages,
                rendered,
            );
            *guard = Arc::new(next);
            out
        };
        // The new pages are in place: only now may browsers reload.
        let kind = if failed {
            "failed"
        } else if css_only {
            "css"
        } else {
            "reload"
        };
        let pages_json = match &pages {
            Some(urls) => serde_json::to_string(urls).unwrap_or_else(|_| "null".into()),
            None => "null".into(),
        };
        let _ = shared.events.send(format!(
            "{{\"type\":\"{kind}\",\"generation\":{generation},\"pages\":{pages_json}}}"
        ));
        // Image batches have the progress line above instead of a line each.
        let quiet = images_only && !failed;
        let names: Vec<String> = changed
            .iter()
            .take(3)
            .map(|p| p.strip_prefix(&root).unwrap_or(p).display().to_string())
            .collect();
        let more = if changed.len() > 3 {
            format!(" and {} more", changed.len() - 3)
        } else {
            String::new()
        };
        if !quiet {
            eprintln!(
                "{}{more}: {} in {} ms{}",
                names.join(", "),
                match (failed, rendered) {
                    (true, _) => "build failed".to_string(),
                    (false, Some(n)) => format!("{n} page(s) re-rendered"),
                    (false, None) => "site rebuilt".to_string(),
                },
                start.elapsed().as_millis(),
                if problems > 0 {
                    format!(", {problems} problem(s)")
                } else {
                    String::new()
                }
            );
        }
        // Re-rendered pages may have new text: refresh the search index after the reload went
        // out, and only when no further change waits. It runs off the workspace lock, on a
        // one-thread pool (a rebuild keeps a core), and is cancelled by the next change: on a
        // large site it takes far longer than a rebuild, which must never wait for it.
        if rendered.is_some() && !failed && !images_only && rx.is_empty() {
            let sources = workspace.lock().ok().and_then(|w| {
                w.loaded
                    .as_ref()
                    .map(|l| crate::search::sources(&l.site, &l.bodies))
            });
            if let (Some(sources), Some(pool)) = (sources, search_pool.clone()) {
                let cancel = Arc::new(AtomicBool::new(false));
                refreshing = Some(cancel.clone());
                let shared = shared.clone();
                tokio::spawn(async move {
                    // Only once the writer pauses: while saves keep coming, each would cancel
                    // it anyway, and meanwhile it would take a core from their rebuilds.
                    tokio::time::sleep(SEARCH_QUIET).await;
                    if cancel.load(Ordering::Relaxed) {
                        return;
                    }
                    let index = tokio::task::spawn_blocking({
                        let cancel = cancel.clone();
                        move || pool.install(|| crate::search::build_from(&sources, &cancel))
                    })
                    .await
                    .ok()
                    .flatten();
                    let Some(index) = index else { return };
                    let mut guard = match shared.snapshot.write() {
                        Ok(g) => g,
                        Err(e) => e.into_inner(),
                    };
                    // A newer version went out meanwhile: this index is of an older one.
                    if cancel.load(Ordering::Relaxed) || guard.generation != generation {
                        return;
                    }
                    let mut files = guard.files.clone();
                    for (path, json) in index {
                        files.insert(path, json.into_bytes().into());
                    }
                    *guard = Arc::new(Snapshot {
                        files,
                        sources: guard.sources.clone(),
                        problems: guard.problems.clone(),
                        failed: guard.failed,
                        generation: guard.generation,
                    });
                });
            }
        }
        if !root.is_dir() {
            rewatch(&root, &mut watcher, &tx).await;
        }
    }
}

/// URLs of the pages whose HTML differs between two builds; `None` when anything else
/// (a stylesheet, an image) changed too, so every page should reload.
fn changed_pages(
    old: &HashMap<String, Stored>,
    new: &HashMap<String, Stored>,
) -> Option<Vec<String>> {
    let mut urls = Vec::new();
    let keys = old
        .keys()
        .chain(new.keys().filter(|k| !old.contains_key(*k)));
    for key in keys {
        if old.get(key) == new.get(key) {
            continue;
        }
        let page = key.strip_suffix("index.html")?;
        urls.push(format!("/{page}"));
    }
    Some(urls)
}

async fn events(
    State(shared): State<Arc<Shared>>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, std::convert::Infallible>>> {
    let rx = shared.events.subscribe();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(msg) => return Some((Ok(Event::default().data(msg)), rx)),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[derive(Serialize)]
struct Finding {
    code: &'static str,
    message: String,
    file: String,
    line: usize,
    column: usize,
    hint: Option<String>,
    source: Option<String>,
}

impl From<&Error> for Finding {
    fn from(e: &Error) -> Self {
        Finding {
            code: e.kind.code(),
            message: e.kind.to_string(),
            file: e.location.path.display().to_string(),
            line: e.location.line,
            column: e.location.column,
            hint: e.kind.hint(),
            source: e.location.source_line.clone(),
        }
    }
}

#[derive(Serialize)]
struct Status {
    generation: u64,
    failed: bool,
    errors: Vec<Finding>,
    findings: Vec<Finding>,
    total: usize,
}

async fn status(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let snap = match shared.snapshot.read() {
        Ok(g) => g.clone(),
        Err(e) => e.into_inner().clone(),
    };
    let page = q.get("page").map(String::as_str).unwrap_or("/");
    let source = snap.sources.get(page);
    let status = Status {
        generation: snap.generation,
        failed: snap.failed,
        errors: if snap.failed {
            snap.problems
                .iter()
                .filter(|e| e.is_error())
                .map(Finding::from)
                .collect()
        } else {
            Vec::new()
        },
        findings: snap
            .problems
            .iter()
            .filter(|e| Some(&e.location.path) == source)
            .map(Finding::from)
            .collect(),
        total: snap.problems.len(),
    };
    let mut r = axum::Json(status).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn page(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    // Pages and indexes are in memory; files published as they are (images above all) are read
    // from disk when asked for, so the preview's memory does not grow with them.
    let snap = match shared.snapshot.read() {
        Ok(g) => g.clone(),
        Err(e) => e.into_inner().clone(),
    };
    let path = crate::site::percent_decode(uri.path());
    let rel = path.trim_start_matches('/');
    // Lookups go to the in-memory map, so `..` can never reach the disk; refuse it anyway.
    if rel.split('/').any(|s| s == "..") || rel.contains('\0') {
        return not_found(&snap);
    }
    let key = if rel.is_empty() || rel.ends_with('/') {
        format!("{rel}index.html")
    } else {
        rel.to_string()
    };
    match snap.files.get(&key) {
        Some(stored) => match body_of(stored).await {
            Some(bytes) => file_response(&key, bytes, StatusCode::OK),
            None => {
                shared.stale.notify_one();
                not_found(&snap)
            }
        },
        None if snap.files.contains_key(&format!("{rel}/index.html")) => {
            Redirect::permanent(&format!("/{rel}/")).into_response()
        }
        None => not_found(&snap),
    }
}

/// A stored file's bytes: shared ones as they are, a file on disk read now (`None` when it is
/// gone).
async fn body_of(stored: &Stored) -> Option<Vec<u8>> {
    match stored {
        Stored::Bytes(bytes) => Some(bytes.to_vec()),
        Stored::File { path, .. } => tokio::fs::read(path).await.ok(),
    }
}

fn not_found(snap: &Snapshot) -> Response {
    match snap.files.get("404.html") {
        Some(Stored::Bytes(bytes)) => {
            file_response("404.html", bytes.to_vec(), StatusCode::NOT_FOUND)
        }
        _ => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

fn file_response(name: &str, bytes: Vec<u8>, status: StatusCode) -> Response {
    let mime = mime_type(name);
    let body = if mime.starts_with("text/html") {
        inject(&bytes)
    } else {
        bytes
    };
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The live script, before `</body>`.
fn inject(html: &[u8]) -> Vec<u8> {
    let script = format!("<script>{LIVE_JS}</script>");
    let text = String::from_utf8_lossy(html);
    match text.rfind("</body>") {
        Some(i) => format!("{}{script}{}", &text[..i], &text[i..]).into_bytes(),
        None => format!("{text}{script}").into_bytes(),
    }
}

fn mime_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "pdf" => "application/pdf",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editor_and_vcs_files_are_ignored() {
        let root = Path::new("/site");
        for p in [
            "/site/content/.a.md.swp",
            "/site/content/a.md~",
            "/site/content/4913",
            "/site/.git/index",
            "/site/.docsite-cache/highlight.cache",
            "/site/public/index.html",
        ] {
            assert!(ignored(Path::new(p), root), "{p}");
        }
        assert!(!ignored(Path::new("/site/content/a.md"), root));
    }

    #[test]
    fn script_goes_before_the_closing_body() {
        let out = String::from_utf8(inject(b"<html><body><p>x</p></body></html>")).unwrap();
        assert!(out.contains("docsite live preview"));
        assert!(out.ends_with("</body></html>"));
    }
}
