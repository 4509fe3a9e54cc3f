//! What a change invalidates: the dependency rules of the preview server's incremental
//! rebuilds, in one place.
//!
//! The rules, from a changed path to the documents rendered again:
//!
//! | change | re-read | re-rendered |
//! |---|---|---|
//! | a page's body, `template`, `extra`, `search`, `verify` | that page | that page |
//! | a page's `title`, `sidebar_label`, `weight`, `hide`, `description`, `date`, `updated` | that page; navigation worked out again in memory | that page, every page whose navigation changed (sidebar window, previous/next, breadcrumbs, section listing), the site-wide documents |
//! | a page's `slug`, `aliases`, `draft`; a new, deleted or renamed page, asset or folder | everything | everything |
//! | a template (added, changed, removed) | the theme | pages whose template reaches it through `extends`/`include`/`import` (every page when the sidebar template does), the site-wide documents |
//! | `docsite.toml` | everything | everything |
//! | a section's navigation file (`[nav] file`, `_nav.md`), saved, added or removed | everything | everything |
//! | a file in `static/` changed in place | that file | nothing, or every page for a theme file (`docsite.css`…: page links carry its hash) |
//! | a content asset changed in place | that file | the pages that reference it |
//! | a Markdown file a page includes (`<Include>`, at any depth), or a component template (`templates/components/Name.html`) changed in place | that file; the theme for a template | the pages whose bodies were made from it (their Markdown is rendered again) |
//! | a component template that is new, gone, or used by no page | everything | everything (it changes what names mean) |
//! | anything else under the root | nothing | nothing |
//!
//! "Site-wide documents" are the generated section listings, the 404 page, the sitemap and the
//! alias redirects: cheap, so rendered again whenever navigation or templates change rather
//! than tracked.
//!
//! Navigation is compared rather than predicted: every page's navigation (the sidebar window it
//! shows, previous/next, breadcrumbs, its listing) is fingerprinted before and after the graph
//! is worked out again, and the pages whose fingerprint moved are the ones to render. That is
//! exact by construction and costs milliseconds where rendering every page costs a second.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::check::LinkGraph;
use crate::frontmatter::Frontmatter;
use crate::markdown::Rendered;
use crate::render::{SIDEBAR_TEMPLATE, page_template};
use crate::site::{Item, Site};

/// How far a change of a page's frontmatter reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reach {
    /// The page itself.
    Page,
    /// Other pages' navigation and the site-wide documents; no URL moves.
    Navigation,
    /// URLs or the set of pages: the site is loaded again.
    Site,
}

/// How far the change from `old` to `new` frontmatter reaches.
pub fn frontmatter_reach(old: &Frontmatter, new: &Frontmatter) -> Reach {
    // Taken apart in full, so that a new key cannot be added without deciding its reach.
    let Frontmatter {
        title,
        description,
        slug,
        weight,
        draft,
        sidebar_label,
        hide,
        aliases,
        template: _,
        date,
        updated,
        search: _,
        verify: _,
        extra: _,
        warnings: _,
    } = new;
    if *slug != old.slug || *draft != old.draft || *aliases != old.aliases {
        return Reach::Site;
    }
    // Listings show descriptions; the sitemap shows dates.
    if *title != old.title
        || *sidebar_label != old.sidebar_label
        || *weight != old.weight
        || *hide != old.hide
        || *description != old.description
        || *date != old.date
        || *updated != old.updated
    {
        return Reach::Navigation;
    }
    Reach::Page
}

/// What one changed path means to a loaded site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A known page's file changed in place (content-relative path).
    Page(String),
    /// A known content asset changed in place (index into [`Site::assets`]).
    Asset(usize),
    /// A known file under `static/` changed in place (relative path).
    Static(String),
    /// A template was added, changed or removed (its name, as templates refer to it).
    Template(String),
    /// What exists or how everything renders changed: `docsite.toml`, a page, asset or folder
    /// that is new or gone, a name that is not UTF-8, the root itself.
    Everything,
    /// A Markdown file under a `_`-named folder or name, which pages may include
    /// (content-relative path).
    Partial(String),
    /// Nothing the site is made from (a note beside `docsite.toml`, a `_draft.txt`).
    Unrelated,
}

/// What the changed `path` means to `site`, whose root is `root`.
pub fn classify(site: &Site, root: &Path, path: &Path) -> Change {
    let folders = &site.config.folders;
    let under = |dir: &Path| -> Option<Option<String>> {
        let rel = path.strip_prefix(root.join(dir)).ok()?;
        if rel.as_os_str().is_empty() {
            // The folder itself came or went.
            return Some(None);
        }
        Some(rel.to_str().map(|r| r.replace('\\', "/")))
    };
    if let Some(rel) = under(&folders.content) {
        let Some(rel) = rel else {
            return Change::Everything;
        };
        // A navigation file orders the sidebar, the reading order and breadcrumbs of every
        // page under its folder: the site is loaded again (it moves no URL, but resolving its
        // links needs the whole graph, and a save is rare).
        let (dir, name) = rel.rsplit_once('/').unwrap_or(("", rel.as_str()));
        if name == site.config.nav.file && site.section_at(dir).is_some() {
            return Change::Everything;
        }
        if rel
            .split('/')
            .any(|c| c != "_index.md" && crate::content::is_hidden_name(c))
        {
            // Not published, but an include may show it.
            return if rel.ends_with(".md") {
                Change::Partial(rel)
            } else {
                Change::Unrelated
            };
        }
        if std::fs::symlink_metadata(path).is_err() {
            // Gone: it matters only if the site had it (an editor's temporary file never was).
            let known = site.page_index(&rel).is_some()
                || site.asset_at(&rel).is_some()
                || site.section_at(&rel).is_some();
            return if known {
                Change::Everything
            } else {
                Change::Unrelated
            };
        }
        if path.is_file() {
            if rel.ends_with(".md") {
                if site.page_index(&rel).is_some() {
                    return Change::Page(rel);
                }
            } else if let Some(a) = site.asset_at(&rel) {
                // An image changed in place too: serve encodes it alone and renders the pages
                // showing it again (its outputs are named by its content).
                return Change::Asset(a);
            }
        }
        return Change::Everything;
    }
    if let Some(rel) = under(&folders.templates) {
        return match rel {
            Some(name) if name.ends_with(".html") || name.ends_with(".xml") => {
                Change::Template(name)
            }
            // Theme::load reads nothing else; a folder of templates that came or went may
            // hold any of them.
            Some(_) if path.is_file() => Change::Unrelated,
            _ => Change::Everything,
        };
    }
    if let Some(rel) = under(&folders.r#static) {
        return match rel {
            Some(rel) if crate::assets::is_image(&rel) => Change::Everything,
            Some(rel) if path.is_file() && site.static_files.contains(&rel) => Change::Static(rel),
            // A file that is new or gone changes how site-absolute links resolve.
            _ => Change::Everything,
        };
    }
    match path.strip_prefix(root) {
        Ok(rel) if rel == Path::new(crate::config::CONFIG_FILE) => Change::Everything,
        Ok(rel) if !rel.as_os_str().is_empty() => Change::Unrelated,
        // The root itself, or something outside it.
        _ => Change::Everything,
    }
}

/// What a batch of changes asks for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Load and render the whole site again.
    pub everything: bool,
    /// Page files to read again (content-relative).
    pub pages: Vec<String>,
    /// Templates that changed (load the theme again).
    pub templates: HashSet<String>,
    /// Files under `static/` to publish again.
    pub statics: Vec<String>,
    /// Content assets to publish again.
    pub assets: Vec<usize>,
    /// Unpublished Markdown files (in `_` folders) that changed: includes may show them.
    pub partials: Vec<String>,
}

impl Plan {
    /// Whether nothing the site is made from changed.
    pub fn is_empty(&self) -> bool {
        !self.everything
            && self.pages.is_empty()
            && self.templates.is_empty()
            && self.statics.is_empty()
            && self.assets.is_empty()
            && self.partials.is_empty()
    }
}

/// The plan for a batch of changed paths.
pub fn plan(site: &Site, root: &Path, changed: &[PathBuf]) -> Plan {
    let mut plan = Plan::default();
    for path in changed {
        match classify(site, root, path) {
            Change::Page(rel) => plan.pages.push(rel),
            Change::Asset(a) => plan.assets.push(a),
            Change::Static(rel) => plan.statics.push(rel),
            Change::Template(name) => {
                plan.templates.insert(name);
            }
            Change::Partial(rel) => plan.partials.push(rel),
            Change::Everything => plan.everything = true,
            Change::Unrelated => {}
        }
    }
    plan.pages.sort();
    plan.pages.dedup();
    plan.statics.sort();
    plan.statics.dedup();
    plan.assets.sort_unstable();
    plan.assets.dedup();
    plan
}

/// The pages whose bodies were made from what `plan` changed: a file they include (at any
/// depth) or a component template they use, both rendered into the body, so these pages'
/// Markdown must be rendered again (content-relative paths). `None` when a component template
/// changed that no page uses: it may be new or gone, which changes what a name resolves to,
/// so everything is loaded again.
pub fn body_dependents(site: &Site, bodies: &[Rendered], plan: &Plan) -> Option<Vec<String>> {
    let templates: Vec<String> = plan
        .templates
        .iter()
        .filter(|t| t.starts_with(crate::site_components::TEMPLATE_DIR))
        .cloned()
        .collect();
    let changed: HashSet<&str> = plan
        .partials
        .iter()
        .chain(&plan.pages)
        .chain(&templates)
        .map(String::as_str)
        .collect();
    if changed.is_empty() {
        return Some(Vec::new());
    }
    let uses = |b: &Rendered, name: &str| b.uses.binary_search_by(|u| u.as_str().cmp(name)).is_ok();
    if templates.iter().any(|t| !bodies.iter().any(|b| uses(b, t))) {
        return None;
    }
    Some(
        bodies
            .iter()
            .enumerate()
            .filter(|(_, b)| b.uses.iter().any(|u| changed.contains(u.as_str())))
            .map(|(p, _)| site.pages[p].page.source.rel.clone())
            .collect(),
    )
}

/// Which templates each template reads: itself and, transitively, every template it
/// `extends`, `include`s or `import`s.
#[derive(Debug, Default, Clone)]
pub struct TemplateGraph {
    reads: HashMap<String, HashSet<String>>,
}

impl TemplateGraph {
    /// The graph of a theme's templates (name, text).
    pub fn new<'a>(templates: impl IntoIterator<Item = (&'a str, &'a str)>) -> TemplateGraph {
        let direct: HashMap<String, Vec<String>> = templates
            .into_iter()
            .map(|(name, text)| (name.to_string(), referenced(text)))
            .collect();
        let reads = direct
            .keys()
            .map(|name| {
                let mut seen: HashSet<String> = HashSet::new();
                let mut stack = vec![name.clone()];
                // Cycles are Tera's error to report; `seen` only keeps this walk finite.
                while let Some(t) = stack.pop() {
                    if seen.insert(t.clone()) {
                        stack.extend(direct.get(&t).into_iter().flatten().cloned());
                    }
                }
                (name.clone(), seen)
            })
            .collect();
        TemplateGraph { reads }
    }

    /// Whether rendering `template` reads any of `changed`.
    pub fn reaches(&self, template: &str, changed: &HashSet<String>) -> bool {
        changed.contains(template)
            || self
                .reads
                .get(template)
                .is_some_and(|r| r.iter().any(|t| changed.contains(t)))
    }
}

/// The templates a template's tags name: every quoted string in an `extends`, `include` or
/// `import` tag (so `include ["a.html", "b.html"] ignore missing` names both). Reading more than
/// Tera would is safe: it can only render a page that did not need it.
fn referenced(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{%") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("%}") else { break };
        let tag = after[..end].trim_start_matches(['-', '+']).trim_start();
        if ["extends", "include", "import"]
            .iter()
            .any(|k| tag.starts_with(k))
        {
            let mut quoted = tag;
            while let Some(q) = quoted.find(['"', '\'']) {
                let mark = &quoted[q..q + 1];
                let Some(len) = quoted[q + 1..].find(mark) else {
                    break;
                };
                out.push(quoted[q + 1..q + 1 + len].to_string());
                quoted = &quoted[q + 2 + len..];
            }
        }
        rest = &after[end + 2..];
    }
    out
}

/// The pages to render again after `changed` templates changed: those whose template reads one
/// of them; every page when the sidebar template does (every page shows a sidebar).
pub fn template_dependents(
    site: &Site,
    graph: &TemplateGraph,
    changed: &HashSet<String>,
) -> Vec<usize> {
    let every = graph.reaches(SIDEBAR_TEMPLATE, changed);
    (0..site.pages.len())
        .filter(|&p| every || graph.reaches(page_template(site, p).1, changed))
        .collect()
}

/// Whether a changed file in `static/` shows in every page: the theme's files are linked with a
/// hash of their bytes (`docsite.css?v=…`). Other files are published as they are.
pub fn static_reaches_pages(rel: &str) -> bool {
    crate::theme::BUILTIN_STATIC
        .iter()
        .any(|(name, _)| *name == rel)
}

/// The pages to render again after content asset `a` changed in place: the pages that
/// reference it. Today their HTML does not depend on the asset's bytes, so this only makes
/// their browsers reload. Hook for the image pipeline: when pages embed an image's variants
/// (sizes, dimensions), regenerate the variants of `a` here first; these pages are the ones
/// that show them.
pub fn asset_dependents(links: &LinkGraph, a: usize) -> Vec<usize> {
    links.using_asset(a)
}

/// Every page's navigation, fingerprinted: what a page's document shows of other pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NavPrints(Vec<u64>);

/// The navigation fingerprints of every page of `site`: the sidebar window it shows,
/// previous/next, breadcrumbs and (for a section page) its listing. URLs do not move when only
/// navigation changes, so neighbours and breadcrumbs are fingerprinted by index and title
/// rather than by the links made from them (a tenth of the cost on 10,000 pages).
pub fn nav_prints(site: &Site) -> NavPrints {
    let mut keys: Vec<(usize, usize)> =
        (0..site.pages.len()).map(|p| site.sidebar_key(p)).collect();
    keys.sort_unstable();
    keys.dedup();
    let windows: HashMap<(usize, usize), u64> = keys
        .par_iter()
        .map(|&(s, c)| {
            let mut h = DefaultHasher::new();
            site.sidebar(s, c).hash(&mut h);
            ((s, c), h.finish())
        })
        .collect();
    // A section's breadcrumbs are the titles of the sections on its trail ("Home" for the root).
    let trails: Vec<u64> = (0..site.sections.len())
        .map(|s| {
            let mut h = DefaultHasher::new();
            for a in site.trail(s).into_iter().filter(|&a| a != 0) {
                (a, &site.sections[a].title).hash(&mut h);
            }
            h.finish()
        })
        .collect();
    let title = |p: Option<usize>| p.map(|p| (p, site.pages[p].page.meta.title.as_str()));
    NavPrints(
        (0..site.pages.len())
            .into_par_iter()
            .map(|p| {
                let node = &site.pages[p];
                let mut h = DefaultHasher::new();
                windows.get(&site.sidebar_key(p)).hash(&mut h);
                let (prev, next) = site.neighbours(p);
                (title(prev), title(next)).hash(&mut h);
                if site.orders_by_nav_file(p) {
                    // Breadcrumbs that name the file's groups: few pages, hashed in full.
                    site.breadcrumbs(p).hash(&mut h);
                } else {
                    let crumbs = match (node.is_index, site.sections[node.section].parent) {
                        (true, Some(parent)) => trails[parent],
                        (true, None) => 0,
                        (false, _) => trails[node.section],
                    };
                    crumbs.hash(&mut h);
                }
                if node.is_index {
                    for item in site.listing_items(node.section) {
                        let description = match item {
                            Item::Page(q) => site.pages[q].page.meta.description.as_deref(),
                            Item::Section(s) => site.sections[s]
                                .index
                                .and_then(|i| site.pages[i].page.meta.description.as_deref()),
                        };
                        let link = site.item_link(item);
                        (link.title, link.url, description).hash(&mut h);
                        matches!(item, Item::Section(_)).hash(&mut h);
                    }
                }
                h.finish()
            })
            .collect(),
    )
}

/// The pages whose navigation differs between two fingerprints of the same pages (every page
/// when the pages themselves differ).
pub fn nav_dependents(old: &NavPrints, new: &NavPrints) -> Vec<usize> {
    if old.0.len() != new.0.len() {
        return (0..new.0.len()).collect();
    }
    (0..new.0.len()).filter(|&p| old.0[p] != new.0[p]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(files: &[(&str, &str)]) -> (tempfile::TempDir, crate::build::Loaded) {
        let dir = tempfile::tempdir().unwrap();
        for (rel, text) in files {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let loaded = crate::build::load(dir.path(), &Default::default()).unwrap();
        (dir, loaded)
    }

    fn fm(yaml: &str) -> Frontmatter {
        let text = format!("---\n{yaml}\n---\n");
        let split = crate::frontmatter::split(&text, Path::new("a.md")).unwrap();
        crate::frontmatter::parse(&text, &split, Path::new("a.md")).unwrap()
    }

    #[test]
    fn frontmatter_keys_reach_as_far_as_they_show() {
        let base = fm("title: A");
        assert_eq!(frontmatter_reach(&base, &fm("title: A")), Reach::Page);
        for page in [
            "title: A\ntemplate: x.html",
            "title: A\nsearch: false",
            "title: A\nkind: x",
        ] {
            assert_eq!(frontmatter_reach(&base, &fm(page)), Reach::Page, "{page}");
        }
        for nav in [
            "title: B",
            "title: A\nweight: 3",
            "title: A\nsidebar_label: a",
            "title: A\nhide: true",
            "title: A\ndescription: d",
            "title: A\ndate: 2026-01-01",
            "title: A\nupdated: 2026-01-01",
        ] {
            assert_eq!(
                frontmatter_reach(&base, &fm(nav)),
                Reach::Navigation,
                "{nav}"
            );
        }
        for graph in [
            "title: A\nslug: b",
            "title: A\ndraft: true",
            "title: A\naliases: [/old/]",
        ] {
            assert_eq!(frontmatter_reach(&base, &fm(graph)), Reach::Site, "{graph}");
        }
    }

    #[test]
    fn includes_and_component_templates_re_render_the_pages_made_from_them() {
        let (dir, loaded) = site(&[
            (
                "content/a.md",
                "---\ntitle: A\n---\n<Include path=\"_parts/one.md\" />\n",
            ),
            ("content/b.md", "---\ntitle: B\n---\n<Card>\nx\n</Card>\n"),
            (
                "content/c.md",
                "---\ntitle: C\n---\n<Include url=\"/a/\" />\n",
            ),
            ("content/d.md", "---\ntitle: D\n---\nPlain.\n"),
            ("content/_parts/one.md", "One.\n"),
            ("templates/components/Card.html", "<div>{{ body }}</div>"),
            ("templates/components/Unused.html", "<b></b>"),
        ]);
        assert!(!loaded.has_errors(), "{:?}", loaded.problems);
        let root = dir.path();
        let plan_of = |rels: &[&str]| {
            let paths: Vec<PathBuf> = rels.iter().map(|r| root.join(r)).collect();
            plan(&loaded.site, root, &paths)
        };
        let deps = |rels: &[&str]| body_dependents(&loaded.site, &loaded.bodies, &plan_of(rels));
        // A partial: the page including it, and the page including that page.
        let p = plan_of(&["content/_parts/one.md"]);
        assert_eq!(p.partials, ["_parts/one.md"]);
        assert_eq!(deps(&["content/_parts/one.md"]).unwrap(), ["a.md", "c.md"]);
        // A page others include.
        assert_eq!(deps(&["content/a.md"]).unwrap(), ["c.md"]);
        assert_eq!(deps(&["templates/components/Card.html"]).unwrap(), ["b.md"]);
        assert_eq!(deps(&["content/d.md"]).unwrap(), Vec::<String>::new());
        // A template no page uses may be new: names may mean something else now.
        assert_eq!(deps(&["templates/components/Unused.html"]), None);
        assert_eq!(
            deps(&["content/_parts/nobody.md"]).unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn changed_paths_are_classified() {
        let (dir, loaded) = site(&[
            ("content/a.md", "---\ntitle: A\n---\n![x](img.png)\n"),
            ("content/img.png", "png"),
            ("content/data.csv", "a,b"),
            ("content/_draft.md", "x"),
            ("static/docsite.css", "body{}"),
            ("static/robots.txt", "x"),
            ("templates/page.html", "{% extends \"base.html\" %}"),
            ("templates/notes.txt", "x"),
            ("notes.txt", "x"),
        ]);
        let root = dir.path();
        let c = |rel: &str| classify(&loaded.site, root, &root.join(rel));
        assert_eq!(c("content/a.md"), Change::Page("a.md".into()));
        assert!(
            matches!(c("content/img.png"), Change::Asset(_)),
            "an image changed in place is one asset: serve encodes it alone"
        );
        assert!(matches!(c("content/data.csv"), Change::Asset(_)));
        assert_eq!(c("content/_draft.md"), Change::Partial("_draft.md".into()));
        assert_eq!(
            c("content/_nav.md"),
            Change::Everything,
            "a navigation file orders every page under its folder"
        );
        assert_eq!(
            c("content/nowhere/_nav.md"),
            Change::Partial("nowhere/_nav.md".into()),
            "no such section: only an include could show it"
        );
        std::fs::write(root.join("content/new.md"), "x").unwrap();
        assert_eq!(c("content/new.md"), Change::Everything, "a new page");
        assert_eq!(
            c("content/a.md.tmp1234"),
            Change::Unrelated,
            "an editor's temporary file, gone again"
        );
        std::fs::remove_file(root.join("content/img.png")).unwrap();
        assert_eq!(c("content/img.png"), Change::Everything, "a deleted asset");
        assert_eq!(c("content"), Change::Everything, "the folder itself");
        assert_eq!(c("static/robots.txt"), Change::Static("robots.txt".into()));
        assert_eq!(c("static/new.txt"), Change::Everything);
        assert_eq!(
            c("templates/page.html"),
            Change::Template("page.html".into())
        );
        assert_eq!(
            c("templates/gone.html"),
            Change::Template("gone.html".into()),
            "a removed override falls back to the built-in one"
        );
        assert_eq!(c("templates/notes.txt"), Change::Unrelated);
        assert_eq!(c("templates"), Change::Everything);
        assert_eq!(c("docsite.toml"), Change::Everything);
        assert_eq!(c("notes.txt"), Change::Unrelated);
        assert_eq!(classify(&loaded.site, root, root), Change::Everything);
        assert_eq!(
            classify(&loaded.site, root, Path::new("/elsewhere/x.md")),
            Change::Everything
        );
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let bad = root.join(std::ffi::OsStr::from_bytes(b"content/\xff.md"));
            assert_eq!(classify(&loaded.site, root, &bad), Change::Everything);
        }
        let p = plan(
            &loaded.site,
            root,
            &[
                root.join("content/a.md"),
                root.join("content/a.md"),
                root.join("notes.txt"),
            ],
        );
        assert_eq!(p.pages, vec!["a.md".to_string()]);
        assert!(!p.everything);
    }

    #[test]
    fn templates_reach_through_extends_include_and_import() {
        let graph = TemplateGraph::new([
            ("base.html", "{%- include \"partials/head.html\" -%}<body>"),
            (
                "page.html",
                "{% extends 'base.html' %}{% include \"partials/footer.html\" %}",
            ),
            (
                "section.html",
                "{% extends \"base.html\" %}{% import \"macros.html\" as m %}",
            ),
            (
                "index.html",
                "{% include [\"a.html\", \"b.html\"] ignore missing %}",
            ),
            ("loop.html", "{% include \"loop.html\" %}"),
            ("partials/head.html", "<head>"),
            ("partials/footer.html", "{{ x }}"),
        ]);
        let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<HashSet<_>>();
        assert!(graph.reaches("page.html", &set(&["partials/head.html"])));
        assert!(graph.reaches("section.html", &set(&["partials/head.html"])));
        assert!(graph.reaches("page.html", &set(&["partials/footer.html"])));
        assert!(!graph.reaches("section.html", &set(&["partials/footer.html"])));
        assert!(graph.reaches("section.html", &set(&["macros.html"])));
        assert!(graph.reaches("index.html", &set(&["b.html"])));
        assert!(!graph.reaches("index.html", &set(&["base.html"])));
        assert!(graph.reaches("loop.html", &set(&["loop.html"])));
        assert!(
            graph.reaches("custom.html", &set(&["custom.html"])),
            "a template that is gone still reaches the pages naming it"
        );
    }

    #[test]
    fn a_template_change_reaches_the_pages_using_it() {
        let (_dir, loaded) = site(&[
            ("content/_index.md", "---\ntitle: Home\n---\n"),
            ("content/a.md", "---\ntitle: A\n---\n"),
            ("content/b.md", "---\ntitle: B\ntemplate: wide.html\n---\n"),
            ("content/docs/_index.md", "---\ntitle: Docs\n---\n"),
            ("templates/wide.html", "{% extends \"page.html\" %}"),
        ]);
        let s = &loaded.site;
        let theme = loaded.theme.as_ref().unwrap();
        let graph = TemplateGraph::new(theme.template_sources());
        let names = |pages: Vec<usize>| {
            let mut v: Vec<String> = pages
                .into_iter()
                .map(|p| s.pages[p].page.source.rel.clone())
                .collect();
            v.sort();
            v
        };
        let set = |n: &str| HashSet::from([n.to_string()]);
        assert_eq!(
            names(template_dependents(s, &graph, &set("wide.html"))),
            ["b.md"]
        );
        assert_eq!(
            names(template_dependents(s, &graph, &set("page.html"))),
            ["a.md", "b.md"]
        );
        assert_eq!(
            names(template_dependents(s, &graph, &set("section.html"))),
            ["docs/_index.md"]
        );
        assert_eq!(
            names(template_dependents(s, &graph, &set("index.html"))),
            ["_index.md"]
        );
        assert_eq!(
            template_dependents(s, &graph, &set("base.html")).len(),
            4,
            "every template extends base.html"
        );
        assert_eq!(
            template_dependents(s, &graph, &set(SIDEBAR_TEMPLATE)).len(),
            4,
            "every page shows a sidebar"
        );
    }

    #[test]
    fn theme_files_in_static_reach_every_page() {
        assert!(static_reaches_pages("docsite.css"));
        assert!(static_reaches_pages("favicon.svg"));
        assert!(!static_reaches_pages("img/logo.png"));
    }

    /// Renames in navigation reach the pages that show them, and no others.
    #[test]
    fn navigation_changes_reach_the_pages_that_show_them() {
        let mut files = vec![
            (
                "content/_index.md".to_string(),
                "---\ntitle: Home\n---\n".to_string(),
            ),
            (
                "content/docs/_index.md".to_string(),
                "---\ntitle: Docs\n---\n".to_string(),
            ),
            (
                "content/other/o.md".to_string(),
                "---\ntitle: O\n---\n".to_string(),
            ),
        ];
        // 12 pages in docs/, windows of 5: p00-p04, p05-p09, p10-p11.
        for i in 0..12 {
            files.push((
                format!("content/docs/p{i:02}.md"),
                format!("---\ntitle: P{i:02}\nweight: {i}\n---\n"),
            ));
        }
        files.push((
            "docsite.toml".to_string(),
            "[theme]\nsidebar_page_size = 5\n".to_string(),
        ));
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let (_dir, mut loaded) = site(&refs);
        let rels = |site: &Site, pages: Vec<usize>| {
            let mut v: Vec<String> = pages
                .into_iter()
                .map(|p| site.pages[p].page.source.rel.clone())
                .collect();
            v.sort();
            v
        };
        let mut change = |rel: &str, edit: &dyn Fn(&mut Frontmatter)| {
            let before = nav_prints(&loaded.site);
            let p = loaded.site.page_index(rel).unwrap();
            edit(&mut loaded.site.pages[p].page.meta);
            loaded.site.renavigate();
            let after = nav_prints(&loaded.site);
            rels(&loaded.site, nav_dependents(&before, &after))
        };

        // A retitled page: its window's pages, its neighbours, its section's listing.
        let got = change("docs/p06.md", &|m| m.title = "Six".into());
        assert_eq!(
            got,
            [
                "docs/_index.md",
                "docs/p05.md",
                "docs/p06.md",
                "docs/p07.md",
                "docs/p08.md",
                "docs/p09.md",
            ]
        );
        // A sidebar label shows only in the sidebar.
        let got = change("docs/p11.md", &|m| m.sidebar_label = Some("Eleven".into()));
        assert_eq!(got, ["docs/p10.md", "docs/p11.md"]);
        // A weight that moves a page to the front shifts every window after it.
        // (and the previous page of the first page after the section).
        let got = change("docs/p11.md", &|m| m.weight = Some(-1));
        assert_eq!(got.len(), 14, "{got:?}");
        assert!(got.contains(&"other/o.md".to_string()), "{got:?}");
        assert!(!got.contains(&"_index.md".to_string()), "{got:?}");
        // A retitled section: its children's breadcrumbs, the top-level sidebar everywhere.
        let got = change("docs/_index.md", &|m| m.title = "Guides".into());
        assert_eq!(got.len(), 15, "every page shows the top level: {got:?}");
        // A description shows only in its section's listing.
        let got = change("docs/p03.md", &|m| m.description = Some("d".into()));
        assert_eq!(got, ["docs/_index.md"]);
        // A page hidden: its window, its neighbours, the listing.
        let got = change("other/o.md", &|m| m.hide = true);
        assert!(got.contains(&"other/o.md".to_string()), "{got:?}");
        assert!(!got.contains(&"docs/p00.md".to_string()), "{got:?}");
    }
}
