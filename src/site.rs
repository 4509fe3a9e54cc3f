//! The page graph: every page's URL, the section tree and its order, navigation (sidebar,
//! breadcrumbs, previous/next), and link resolution.
//!
//! Built once from [`Content`]; read by rendering, the checker and the preview server. Nothing
//! here renders HTML or touches the disk.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::config::Config;
use crate::content::{Asset, Content, Page};
use crate::error::{Error, ErrorKind, Location};
use crate::markdown::{RefKind, Resolve, Resolved};

/// An entry of a section's listing: a page or a subsection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Item {
    /// An index into [`Site::pages`].
    Page(usize),
    /// An index into [`Site::sections`].
    Section(usize),
}

/// A section of the graph.
#[derive(Debug, Clone)]
pub struct SectionNode {
    /// Content-relative folder (`""` for the root).
    pub rel: String,
    /// Site-relative URL path (`""` for the home page, else ends with `/`).
    pub url: String,
    /// Title: from `_index.md`, or made from the folder name.
    pub title: String,
    /// Sidebar label.
    pub label: String,
    /// Order among siblings.
    pub weight: Option<i64>,
    /// Its `_index.md`, as an index into [`Site::pages`].
    pub index: Option<usize>,
    /// Parent section.
    pub parent: Option<usize>,
    /// Listed children (hidden pages left out), in navigation order.
    pub items: Vec<Item>,
    /// Whether `hide: true` was set on its `_index.md`.
    pub hidden: bool,
}

/// A page of the graph.
#[derive(Debug, Clone)]
pub struct PageNode {
    /// The loaded page.
    pub page: Page,
    /// Site-relative URL path (`docs/a/`; `""` for the home page).
    pub url: String,
    /// The section it is in (for an `_index.md`, the section it indexes).
    pub section: usize,
    /// Whether it is a section's `_index.md`.
    pub is_index: bool,
}

/// The whole site as a graph.
#[derive(Debug)]
pub struct Site {
    /// The configuration.
    pub config: Config,
    /// `base_url`'s path, starting and ending with `/`.
    pub base_path: String,
    /// Every page.
    pub pages: Vec<PageNode>,
    /// Every section; 0 is the root (the home page).
    pub sections: Vec<SectionNode>,
    /// Every asset, with its site-relative URL path (same as its content path).
    pub assets: Vec<Asset>,
    /// Files under `static/`, relative, `/` separators.
    pub static_files: HashSet<String>,
    /// Pages in reading order (previous/next).
    pub reading_order: Vec<usize>,
    /// Each page's position in `reading_order`, and in its section's `items`: looked up once
    /// per page, so kept rather than searched (a search would make a build quadratic).
    positions: Vec<(Option<usize>, usize)>,
    page_by_rel: HashMap<String, usize>,
    page_by_url: HashMap<String, usize>,
    section_by_rel: HashMap<String, usize>,
    asset_by_rel: HashMap<String, usize>,
    urls: HashSet<String>,
    content_prefix: String,
    /// The folder tree as loaded (which pages and folders each folder holds, hidden ones too),
    /// kept so that navigation can be worked out again without reading the disk.
    structure: Vec<crate::content::Section>,
}

/// A link for templates: title and URL.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq, Hash)]
pub struct NavLink {
    /// Text.
    pub title: String,
    /// URL, with the base path.
    pub url: String,
}

/// A sidebar entry, as the sidebar template sees it.
#[derive(Debug, Clone, serde::Serialize, Hash)]
pub struct NavNode {
    /// Text.
    pub title: String,
    /// URL, with the base path.
    pub url: String,
    /// Whether it is a section.
    pub is_section: bool,
    /// Whether its children are shown.
    pub expanded: bool,
    /// Whether the current page is inside it.
    pub active_trail: bool,
    /// Children shown (only for expanded sections).
    pub children: Vec<NavNode>,
    /// A link to the full listing, when only a window of the children is shown.
    pub more: Option<NavLink>,
}

impl Site {
    /// Builds the graph. Duplicate URLs are returned as problems; the graph is complete anyway,
    /// so that later stages can report their own problems too.
    pub fn new(
        config: Config,
        content: Content,
        static_files: HashSet<String>,
        content_prefix: &str,
    ) -> (Site, Vec<Error>) {
        let base_path = config.base_path();
        let mut errors = Vec::new();
        let sections: Vec<SectionNode> = content
            .sections
            .iter()
            .map(|s| {
                let index = s.index.map(|i| &content.pages[i]);
                let title = index.map_or_else(|| title_from_dir(&s.rel), |p| p.meta.title.clone());
                SectionNode {
                    url: if s.rel.is_empty() {
                        String::new()
                    } else {
                        format!("{}/", s.rel)
                    },
                    rel: s.rel.clone(),
                    label: index
                        .and_then(|p| p.meta.sidebar_label.clone())
                        .unwrap_or_else(|| title.clone()),
                    title,
                    weight: index.and_then(|p| p.meta.weight),
                    index: s.index,
                    parent: s.parent,
                    items: Vec::new(),
                    hidden: index.is_some_and(|p| p.meta.hide),
                }
            })
            .collect();

        let mut section_of_page = vec![0usize; content.pages.len()];
        for (sid, s) in content.sections.iter().enumerate() {
            for &p in &s.pages {
                section_of_page[p] = sid;
            }
            if let Some(i) = s.index {
                section_of_page[i] = sid;
            }
        }
        let mut pages: Vec<PageNode> = content
            .pages
            .into_iter()
            .enumerate()
            .map(|(i, page)| {
                let section = section_of_page[i];
                let is_index = content.sections[section].index == Some(i);
                let url = if is_index {
                    sections[section].url.clone()
                } else {
                    let (dir, file) = page
                        .source
                        .rel
                        .rsplit_once('/')
                        .unwrap_or(("", &page.source.rel));
                    let stem = file.strip_suffix(".md").unwrap_or(file);
                    let last = page
                        .meta
                        .slug
                        .as_deref()
                        .map(|s| s.trim_matches('/'))
                        .filter(|s| !s.is_empty())
                        .unwrap_or(stem);
                    if dir.is_empty() {
                        format!("{last}/")
                    } else {
                        format!("{dir}/{last}/")
                    }
                };
                PageNode {
                    page,
                    url,
                    section,
                    is_index,
                }
            })
            .collect();

        // Duplicate URLs: two pages, or a page and a section without an index.
        let mut owner: HashMap<&str, &Path> = HashMap::new();
        for p in &pages {
            if let Some(other) = owner.insert(&p.url, &p.page.source.display) {
                errors.push(Error::new(
                    ErrorKind::DuplicateUrl {
                        url: format!("{base_path}{}", p.url),
                        other: other.display().to_string(),
                    },
                    Location::file(&p.page.source.display),
                ));
            }
        }
        for s in &sections {
            if s.index.is_none() {
                if let Some(other) = owner.get(s.url.as_str()) {
                    errors.push(Error::new(
                        ErrorKind::DuplicateUrl {
                            url: format!("{base_path}{}", s.url),
                            other: format!("the folder {}{}", content_prefix, s.rel),
                        },
                        Location::file(*other),
                    ));
                }
            }
        }
        drop(owner);

        let page_by_rel = pages
            .iter()
            .enumerate()
            .map(|(i, p)| (p.page.source.rel.clone(), i))
            .collect();
        let page_by_url = pages
            .iter()
            .enumerate()
            .map(|(i, p)| (p.url.clone(), i))
            .collect();
        let section_by_rel = sections
            .iter()
            .enumerate()
            .map(|(i, s)| (s.rel.clone(), i))
            .collect();
        let asset_by_rel = content
            .assets
            .iter()
            .enumerate()
            .map(|(i, a)| (a.rel.clone(), i))
            .collect();
        let mut urls: HashSet<String> = pages.iter().map(|p| p.url.clone()).collect();
        urls.extend(sections.iter().map(|s| s.url.clone()));
        for p in &mut pages {
            for alias in &p.page.meta.aliases {
                urls.insert(normalize_url_path(alias));
            }
        }
        let mut site = Site {
            config,
            base_path,
            pages,
            sections,
            assets: content.assets,
            static_files,
            reading_order: Vec::new(),
            positions: Vec::new(),
            page_by_rel,
            page_by_url,
            section_by_rel,
            asset_by_rel,
            urls,
            content_prefix: content_prefix.to_string(),
            structure: content.sections,
        };
        site.arrange();
        (site, errors)
    }

    /// Works out the order of navigation: each section's title, label, weight and visibility
    /// (from its `_index.md`), its listing, the reading order and each page's place in both.
    /// Reads only the pages' frontmatter and the folder tree.
    fn arrange(&mut self) {
        for s in &mut self.sections {
            if let Some(i) = s.index {
                let meta = &self.pages[i].page.meta;
                s.title = meta.title.clone();
                s.label = meta
                    .sidebar_label
                    .clone()
                    .unwrap_or_else(|| meta.title.clone());
                s.weight = meta.weight;
                s.hidden = meta.hide;
            }
        }
        let pages = &self.pages;
        let sections = &mut self.sections;
        // Section listings, in navigation order.
        let sort_key = |w: Option<i64>, t: &str| (w.is_none(), w.unwrap_or(0), t.to_lowercase());
        for (sid, s) in self.structure.iter().enumerate() {
            let mut items: Vec<(Item, (bool, i64, String))> = Vec::new();
            for &p in &s.pages {
                let m = &pages[p].page.meta;
                if !m.hide {
                    items.push((Item::Page(p), sort_key(m.weight, &m.title)));
                }
            }
            for &c in &s.children {
                let c_node = &sections[c];
                if !c_node.hidden {
                    items.push((Item::Section(c), sort_key(c_node.weight, &c_node.title)));
                }
            }
            items.sort_by(|a, b| a.1.cmp(&b.1));
            sections[sid].items = items.into_iter().map(|(i, _)| i).collect();
        }

        let mut reading_order = Vec::new();
        let mut stack: Vec<Item> = sections[0].items.iter().rev().copied().collect();
        while let Some(item) = stack.pop() {
            match item {
                Item::Page(p) => reading_order.push(p),
                Item::Section(s) => {
                    if let Some(i) = sections[s].index {
                        reading_order.push(i);
                    }
                    stack.extend(sections[s].items.iter().rev().copied());
                }
            }
        }

        let mut positions = vec![(None, 0); pages.len()];
        for (i, &p) in reading_order.iter().enumerate() {
            positions[p].0 = Some(i);
        }
        for s in sections.iter() {
            for (i, item) in s.items.iter().enumerate() {
                if let Item::Page(p) = *item {
                    positions[p].1 = i;
                }
            }
        }
        self.reading_order = reading_order;
        self.positions = positions;
    }

    /// Works navigation out again from the same pages, after a change of titles, weights,
    /// labels or visibility (which reorder navigation but move no URL). Page, section and asset
    /// indexes, URLs and lookup tables stay as they are: no disk, no Markdown, no maps rebuilt.
    pub fn renavigate(&mut self) {
        self.arrange();
    }

    /// The page loaded from a content-relative path (`docs/a.md`), if any.
    pub fn page_index(&self, rel: &str) -> Option<usize> {
        self.page_by_rel.get(rel).copied()
    }

    /// The section of a content-relative folder (`docs`; `""` for the root), if any.
    pub fn section_at(&self, rel: &str) -> Option<usize> {
        self.section_by_rel.get(rel).copied()
    }

    /// The page at a site-relative URL path (`docs/a/`), if any.
    pub fn page_at(&self, url: &str) -> Option<usize> {
        self.page_by_url.get(url).copied()
    }

    /// The content folder as written in links from the site root (`content/`).
    pub fn content_prefix(&self) -> &str {
        &self.content_prefix
    }

    /// Resolves a URL found in raw HTML (`src`, `href`), which is not rewritten.
    pub fn resolve_raw(&self, from: &str, target: &str) -> Resolved {
        self.resolve(from, target, RefKind::Link)
    }

    /// The content-relative path a file path written in `from` names: from the content folder
    /// with a leading `/`, else relative to `from`'s folder. `None` when it climbs out.
    pub fn content_path(&self, from: &str, path: &str) -> Option<String> {
        let path = percent_decode(path);
        match path.strip_prefix('/') {
            Some(abs) => normalize(abs),
            None => {
                let dir = from.rsplit_once('/').map_or("", |(d, _)| d);
                normalize(&format!("{dir}/{path}"))
            }
        }
        .filter(|p| !p.is_empty())
    }

    /// The asset at a content-relative path, if any.
    pub fn asset_at(&self, rel: &str) -> Option<usize> {
        self.asset_by_rel.get(rel).copied()
    }

    /// A site-relative URL path with the base path in front.
    pub fn url(&self, rel: &str) -> String {
        format!("{}{}", self.base_path, rel)
    }

    /// The absolute URL of a site-relative path (`base_url` + path).
    pub fn permalink(&self, rel: &str) -> String {
        format!("{}{}", self.config.base_url(), rel)
    }

    /// The title shown for an item in listings.
    pub fn item_link(&self, item: Item) -> NavLink {
        match item {
            Item::Page(p) => NavLink {
                title: self.pages[p].page.meta.title.clone(),
                url: self.url(&self.pages[p].url),
            },
            Item::Section(s) => NavLink {
                title: self.sections[s].title.clone(),
                url: self.url(&self.sections[s].url),
            },
        }
    }

    /// Ancestors of a section, from the root down, including itself.
    pub fn trail(&self, section: usize) -> Vec<usize> {
        let mut trail = vec![section];
        let mut s = section;
        while let Some(p) = self.sections[s].parent {
            trail.push(p);
            s = p;
        }
        trail.reverse();
        trail
    }

    /// Breadcrumbs of a page: its ancestor sections, home first, not including the page.
    pub fn breadcrumbs(&self, page: usize) -> Vec<NavLink> {
        let node = &self.pages[page];
        let mut trail = self.trail(node.section);
        if node.is_index {
            trail.pop();
        }
        trail
            .into_iter()
            .map(|s| NavLink {
                title: if s == 0 {
                    "Home".to_string()
                } else {
                    self.sections[s].title.clone()
                },
                url: self.url(&self.sections[s].url),
            })
            .collect()
    }

    /// The sidebar window for a page: `(section, chunk)`. Pages in the same window share one
    /// rendered sidebar.
    pub fn sidebar_key(&self, page: usize) -> (usize, usize) {
        let node = &self.pages[page];
        let size = self.config.theme.sidebar_page_size.max(1);
        if node.is_index {
            return (node.section, 0);
        }
        (node.section, self.positions[page].1 / size)
    }

    /// The sidebar tree for a window: top-level entries, with the sections on the way to the
    /// window's section expanded. Its size is bounded by `sidebar_page_size` per level, whatever
    /// the size of the site.
    pub fn sidebar(&self, section: usize, chunk: usize) -> Vec<NavNode> {
        let trail = self.trail(section);
        let size = self.config.theme.sidebar_page_size.max(1);
        self.nav_level(0, &trail, section, chunk, size)
    }

    fn nav_level(
        &self,
        sid: usize,
        trail: &[usize],
        current: usize,
        chunk: usize,
        size: usize,
    ) -> Vec<NavNode> {
        let items = &self.sections[sid].items;
        let (start, end) = if items.len() <= size {
            (0, items.len())
        } else if sid == current {
            let start = (chunk * size).min(items.len().saturating_sub(1));
            (start, (start + size).min(items.len()))
        } else {
            // An ancestor: the window around the child on the trail.
            let pos = items
                .iter()
                .position(|i| matches!(i, Item::Section(s) if trail.contains(s)))
                .unwrap_or(0);
            let start = pos / size * size;
            (start, (start + size).min(items.len()))
        };
        items[start..end]
            .iter()
            .map(|&item| {
                let link = self.item_link(item);
                match item {
                    Item::Page(p) => NavNode {
                        title: self.pages[p]
                            .page
                            .meta
                            .sidebar_label
                            .clone()
                            .unwrap_or(link.title),
                        url: link.url,
                        is_section: false,
                        expanded: false,
                        active_trail: false,
                        children: Vec::new(),
                        more: None,
                    },
                    Item::Section(s) => {
                        let on_trail = trail.contains(&s);
                        let children = if on_trail {
                            self.nav_level(s, trail, current, chunk, size)
                        } else {
                            Vec::new()
                        };
                        let total = self.sections[s].items.len();
                        NavNode {
                            title: self.sections[s].label.clone(),
                            url: link.url.clone(),
                            is_section: true,
                            expanded: on_trail,
                            active_trail: on_trail,
                            more: (on_trail && total > size).then(|| NavLink {
                                title: format!("All {total} pages in {}", self.sections[s].title),
                                url: link.url,
                            }),
                            children,
                        }
                    }
                }
            })
            .collect()
    }

    /// The pages before and after `page` in reading order (what [`Site::prev_next`] links).
    pub fn neighbours(&self, page: usize) -> (Option<usize>, Option<usize>) {
        let Some(pos) = self.positions[page].0 else {
            return (None, None);
        };
        (
            pos.checked_sub(1).map(|i| self.reading_order[i]),
            self.reading_order.get(pos + 1).copied(),
        )
    }

    /// Previous and next pages in reading order.
    pub fn prev_next(&self, page: usize) -> (Option<NavLink>, Option<NavLink>) {
        let Some(pos) = self.positions[page].0 else {
            return (None, None);
        };
        let link = |p: usize| self.item_link(Item::Page(p));
        (
            pos.checked_sub(1).map(|i| link(self.reading_order[i])),
            self.reading_order.get(pos + 1).map(|&p| link(p)),
        )
    }

    /// Resolves a content-relative path (after `..` handling) to a site-relative URL, if a page,
    /// section or asset lives there.
    fn resolve_content_path(&self, rel: &str) -> Option<String> {
        if let Some(&p) = self.page_by_rel.get(rel) {
            return Some(self.pages[p].url.clone());
        }
        let dir = rel.trim_end_matches('/');
        if let Some(&s) = self.section_by_rel.get(dir) {
            return Some(self.sections[s].url.clone());
        }
        if let Some(dir) = rel
            .strip_suffix("/_index.md")
            .or_else(|| (rel == "_index.md").then_some(""))
        {
            if let Some(&s) = self.section_by_rel.get(dir) {
                return Some(self.sections[s].url.clone());
            }
        }
        self.asset_by_rel.get(rel).map(|_| rel.to_string())
    }

    fn suggest(&self, wanted: &str, kind: RefKind) -> Option<String> {
        let name = wanted.rsplit('/').next().unwrap_or(wanted);
        let candidates: Box<dyn Iterator<Item = &str>> = match kind {
            RefKind::Link if wanted.ends_with(".md") => {
                Box::new(self.page_by_rel.keys().map(String::as_str))
            }
            RefKind::Link => Box::new(self.urls.iter().map(String::as_str)),
            RefKind::Image => Box::new(self.asset_by_rel.keys().map(String::as_str)),
        };
        let mut best: Option<(usize, &str)> = None;
        for c in candidates {
            let c_name = c.trim_end_matches('/').rsplit('/').next().unwrap_or(c);
            let d = strsim::levenshtein(&c_name.to_lowercase(), &name.to_lowercase());
            if best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, c));
            }
        }
        let (d, c) = best?;
        if d > name.chars().count().max(4) / 2 {
            return None;
        }
        Some(match kind {
            RefKind::Link if !wanted.ends_with(".md") => self.url(c),
            _ => format!("/{}{}", self.content_prefix, c),
        })
    }
}

impl Resolve for Site {
    fn resolve(&self, from: &str, target: &str, kind: RefKind) -> Resolved {
        let resolved = self.resolve_path(from, target, kind);
        if kind != RefKind::Image || matches!(resolved, Resolved::Url(_) | Resolved::External) {
            return resolved;
        }
        // Writers commit the screenshot and name the WebP the pipeline makes from it.
        let (path, suffix) = match target.find(['#', '?']) {
            Some(i) => (&target[..i], &target[i..]),
            None => (target, ""),
        };
        if let Some(stem) = path.strip_suffix(".webp") {
            for ext in ["png", "jpg", "jpeg"] {
                let source = format!("{stem}.{ext}{suffix}");
                if let found @ Resolved::Url(_) = self.resolve_path(from, &source, kind) {
                    return found;
                }
            }
        }
        resolved
    }
}

impl Site {
    fn resolve_path(&self, from: &str, target: &str, kind: RefKind) -> Resolved {
        let target = target.trim();
        if target.is_empty() || target.starts_with('#') || target.starts_with("//") {
            return Resolved::External;
        }
        if has_scheme(target) {
            return Resolved::External;
        }
        let (path, suffix) = match target.find(['#', '?']) {
            Some(i) => (&target[..i], &target[i..]),
            None => (target, ""),
        };
        let decoded = percent_decode(path);
        let path = decoded.as_str();
        let found = if let Some(abs) = path.strip_prefix('/') {
            // Site-absolute: static/ first, then the site root (so `/content/...` works), then
            // the published URL space.
            if self.static_files.contains(abs.trim_end_matches('/')) {
                Some(abs.to_string())
            } else if let Some(in_content) = abs.strip_prefix(self.content_prefix.as_str()) {
                normalize(in_content).and_then(|p| self.resolve_content_path(&p))
            } else {
                let url = normalize_url_path(abs);
                (self.urls.contains(&url) || self.asset_by_rel.contains_key(abs)).then(|| {
                    if self.asset_by_rel.contains_key(abs) {
                        abs.to_string()
                    } else {
                        url
                    }
                })
            }
        } else {
            let dir = from.rsplit_once('/').map_or("", |(d, _)| d);
            let joined = if dir.is_empty() {
                path.to_string()
            } else {
                format!("{dir}/{path}")
            };
            normalize(&joined)
                .and_then(|p| self.resolve_content_path(&p))
                .or_else(|| {
                    // Relative to the page's URL, as a browser would read it.
                    let page_url = self
                        .page_by_rel
                        .get(from)
                        .map_or("", |&p| self.pages[p].url.as_str());
                    let joined = format!("{page_url}{path}");
                    Some(normalize_clamped(&joined)).and_then(|p| {
                        let url = normalize_url_path(&p);
                        self.urls.contains(&url).then_some(url)
                    })
                })
        };
        match found {
            Some(rel) => {
                if kind == RefKind::Image
                    && !self.asset_by_rel.contains_key(&rel)
                    && !self.static_files.contains(&rel)
                {
                    return Resolved::Missing {
                        suggestion: self.suggest(path, kind),
                    };
                }
                Resolved::Url(format!("{}{}{}", self.base_path, rel, suffix))
            }
            None => {
                if let Some(actual) = self.case_variant(from, path) {
                    return Resolved::CaseMismatch { actual };
                }
                Resolved::Missing {
                    suggestion: self.suggest(path, kind),
                }
            }
        }
    }
}

impl Site {
    /// An asset whose path equals `path` (relative to `from`, or from the root) but for case.
    fn case_variant(&self, from: &str, path: &str) -> Option<String> {
        let rel = match path.strip_prefix('/') {
            Some(abs) => normalize(abs.strip_prefix(self.content_prefix.as_str())?)?,
            None => {
                let dir = from.rsplit_once('/').map_or("", |(d, _)| d);
                normalize(&if dir.is_empty() {
                    path.to_string()
                } else {
                    format!("{dir}/{path}")
                })?
            }
        };
        self.asset_by_rel
            .keys()
            .find(|k| k.eq_ignore_ascii_case(&rel) && **k != rel)
            .map(|k| {
                let name = k.rsplit('/').next().unwrap_or(k);
                let written = path.rsplit_once('/').map_or("", |(d, _)| d);
                if written.is_empty() {
                    name.to_string()
                } else {
                    format!("{written}/{name}")
                }
            })
    }
}

/// Whether a link target starts with a URL scheme (`https:`, `mailto:`, `tel:`...).
fn has_scheme(target: &str) -> bool {
    match target.find(':') {
        Some(i) if i > 0 => {
            let scheme = &target[..i];
            scheme
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                && !target[..i].contains('/')
        }
        _ => false,
    }
}

/// Resolves `.` and `..` segments; `None` when the path climbs above its root.
fn normalize(path: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            s => out.push(s),
        }
    }
    let mut s = out.join("/");
    if path.ends_with('/') && !s.is_empty() {
        s.push('/');
    }
    Some(s)
}

/// Resolves `.` and `..` the way a browser does: `..` at the root stays at the root.
fn normalize_clamped(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let mut s = out.join("/");
    if path.ends_with('/') && !s.is_empty() {
        s.push('/');
    }
    s
}

/// A URL path as the graph stores it: no leading slash, a trailing slash, `index.html` dropped.
fn normalize_url_path(p: &str) -> String {
    let p = p.trim_start_matches('/');
    let p = p
        .strip_suffix("index.html")
        .unwrap_or(p)
        .trim_end_matches('/');
    if p.is_empty() {
        String::new()
    } else {
        format!("{p}/")
    }
}

/// Decodes `%XX` escapes; invalid or non-UTF-8 sequences are kept as written.
pub fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    match percent_encoding::percent_decode_str(s).decode_utf8() {
        Ok(decoded) => decoded.into_owned(),
        Err(_) => s.to_string(),
    }
}

/// A section title from its folder name: `vcs-integration` → `Vcs integration`.
fn title_from_dir(rel: &str) -> String {
    let name = rel
        .rsplit('/')
        .next()
        .unwrap_or(rel)
        .replace(['-', '_'], " ");
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => "Home".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_paths() {
        assert_eq!(normalize("a/./b/../c.md").as_deref(), Some("a/c.md"));
        assert_eq!(normalize("../x"), None);
        assert_eq!(normalize("a/b/").as_deref(), Some("a/b/"));
    }

    #[test]
    fn url_paths() {
        assert_eq!(normalize_url_path("/docs/a"), "docs/a/");
        assert_eq!(normalize_url_path("/docs/a/index.html"), "docs/a/");
        assert_eq!(normalize_url_path("/"), "");
    }

    #[test]
    fn schemes() {
        assert!(has_scheme("https://x"));
        assert!(has_scheme("mailto:a@b"));
        assert!(has_scheme("tel:+1"));
        assert!(!has_scheme("./a.md"));
        assert!(!has_scheme("a/b:c"));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("my%20page.md"), "my page.md");
        assert_eq!(percent_decode("100%"), "100%");
        // A multi-byte character right after `%` is text, not a broken escape (this panicked:
        // the escape's two bytes were sliced out of the middle of `é`).
        assert_eq!(percent_decode("%aé.md"), "%aé.md");
        assert_eq!(percent_decode("%é"), "%é");
        assert_eq!(percent_decode("%C3%A9%zz"), "é%zz");
        assert_eq!(
            percent_decode("%FF.md"),
            "%FF.md",
            "not UTF-8: kept as written"
        );
    }

    #[test]
    fn dir_titles() {
        assert_eq!(title_from_dir("docs/vcs-integration"), "Vcs integration");
    }
}
