//! The page graph: every page's URL, the section tree and its order, navigation (sidebar,
//! breadcrumbs, previous/next), and link resolution.
//!
//! Built once from [`Content`]; read by rendering, the checker and the preview server. Nothing
//! here renders HTML or touches the disk.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rayon::prelude::*;

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
    /// For a page without `description`: the text of its first paragraph, cut near 160
    /// characters, its meta description. Made while the source is loaded (a build frees it
    /// before rendering).
    pub summary: Option<String>,
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
    /// Each section's navigation file, resolved (`None`: folder order).
    navs: Vec<Option<SectionNav>>,
    /// Each page's place in a navigation file, when one orders it.
    nav_places: Vec<Option<NavPlace>>,
}

/// A section's navigation file with its links resolved to pages and sections.
#[derive(Debug, Clone)]
pub struct SectionNav {
    /// The top-level entries.
    pub entries: Vec<NavEntry>,
    /// Every entry that holds others, by id: its parent's id, title and URL (empty for a
    /// group without a link), for breadcrumbs and for which groups a page opens.
    groups: Vec<(Option<usize>, NavLink)>,
    /// Titles of the groups expanded by default.
    expanded: HashSet<String>,
}

/// One resolved entry of a navigation file.
#[derive(Debug, Clone)]
pub struct NavEntry {
    /// The sidebar label.
    pub title: String,
    /// What it links to.
    pub target: NavTarget,
    /// The URL of a [`NavTarget::Link`] (empty for the others).
    pub url: String,
    /// Entries nested under it.
    pub children: Vec<NavEntry>,
    /// Its id in [`SectionNav`]'s groups, when it holds other entries.
    group: Option<usize>,
}

/// What a navigation entry stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NavTarget {
    /// A page or a section of the navigation file's own section.
    Item(Item),
    /// A page elsewhere on the site, or another site: a link, not part of the reading order.
    Link,
    /// A title holding other entries.
    Group,
    /// A line between entries.
    Divider,
}

/// Where a page stands in the navigation file that orders it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NavPlace {
    /// The section whose navigation file orders the page.
    section: usize,
    /// The group the page's first entry is in, if any.
    parent: Option<usize>,
    /// The group its first entry is itself (it holds other entries), if any.
    own: Option<usize>,
    /// Whether the file lists it at all.
    listed: bool,
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
    /// A title holding other entries, without a page of its own (navigation files only).
    pub is_group: bool,
    /// A line between entries (navigation files only).
    pub is_divider: bool,
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
            .into_par_iter()
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
                    summary: summary_of(&page),
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
            navs: Vec::new(),
            nav_places: Vec::new(),
        };
        site.navs = (0..site.sections.len())
            .map(|s| site.resolve_nav(s, &mut errors))
            .collect();
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

        let sections = &self.sections;
        // Reading order: depth first through the listings; a section with a navigation file
        // is read in the file's order instead of its folders'.
        let mut reading_order = Vec::new();
        let mut read = vec![false; pages.len()];
        // A file may list its own section, or one section twice: each is read once.
        let mut walked = vec![false; sections.len()];
        let mut stack: Vec<Step<'_>> = vec![Step::Items(&sections[0].items)];
        if let Some(nav) = &self.navs[0] {
            stack = vec![Step::Entries(&nav.entries)];
        }
        while let Some(step) = stack.pop() {
            let mut push = |p: usize| {
                if !std::mem::replace(&mut read[p], true) {
                    reading_order.push(p);
                }
            };
            match step {
                Step::Items(items) => {
                    for &item in items.iter().rev() {
                        stack.push(Step::Item(item));
                    }
                }
                Step::Entries(entries) => {
                    for e in entries.iter().rev() {
                        stack.push(Step::Entries(&e.children));
                        if let NavTarget::Item(item) = e.target {
                            stack.push(Step::Item(item));
                        }
                    }
                }
                Step::Item(Item::Page(p)) => push(p),
                Step::Item(Item::Section(s)) => {
                    if let Some(i) = sections[s].index {
                        push(i);
                    }
                    if std::mem::replace(&mut walked[s], true) {
                        continue;
                    }
                    match &self.navs[s] {
                        Some(nav) => stack.push(Step::Entries(&nav.entries)),
                        // Under a navigation file, the file lists the folder's pages.
                        None if self.governor(s).is_some() => {}
                        None => stack.push(Step::Items(&sections[s].items)),
                    }
                }
            }
        }

        // Each page's place in the navigation file that orders it.
        let mut nav_places: Vec<Option<NavPlace>> = vec![None; pages.len()];
        for (sid, nav) in self.navs.iter().enumerate() {
            let Some(nav) = nav else { continue };
            let mut stack: Vec<(&NavEntry, Option<usize>)> =
                nav.entries.iter().rev().map(|e| (e, None)).collect();
            while let Some((e, parent)) = stack.pop() {
                let page = match e.target {
                    NavTarget::Item(Item::Page(p)) => Some(p),
                    NavTarget::Item(Item::Section(t)) => sections[t].index,
                    _ => None,
                };
                if let Some(p) = page {
                    nav_places[p].get_or_insert(NavPlace {
                        section: sid,
                        parent,
                        own: e.group,
                        listed: true,
                    });
                }
                stack.extend(e.children.iter().rev().map(|c| (c, e.group.or(parent))));
            }
        }
        for (p, node) in pages.iter().enumerate() {
            if nav_places[p].is_some() {
                continue;
            }
            // A section's own page stands in its parent's listing, not in its own file.
            let governor = if node.is_index {
                sections[node.section]
                    .parent
                    .and_then(|parent| self.governor(parent))
            } else {
                self.governor(node.section)
            };
            if let Some(section) = governor {
                nav_places[p] = Some(NavPlace {
                    section,
                    parent: None,
                    own: None,
                    listed: false,
                });
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
        self.nav_places = nav_places;
    }

    /// Works navigation out again from the same pages, after a change of titles, weights,
    /// labels or visibility (which reorder navigation but move no URL). Page, section and asset
    /// indexes, URLs and lookup tables stay as they are: no disk, no Markdown, no maps rebuilt.
    pub fn renavigate(&mut self) {
        self.arrange();
    }

    /// Puts a newly loaded version of page `p` in place of the old one (same URL).
    pub fn replace_page(&mut self, p: usize, page: Page) {
        self.pages[p].summary = summary_of(&page);
        self.pages[p].page = page;
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
        let place = self.nav_places[page].filter(|p| p.listed);
        let mut trail = match place {
            Some(place) => self.trail(place.section),
            None => self.trail(node.section),
        };
        if node.is_index && place.is_none() {
            trail.pop();
        }
        let groups = match (place, place.and_then(|p| self.navs[p.section].as_ref())) {
            (Some(place), Some(nav)) => {
                let mut chain = group_chain(nav, place.parent);
                chain.reverse();
                chain.into_iter().map(|g| nav.groups[g].1.clone()).collect()
            }
            _ => Vec::new(),
        };
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
            .chain(groups)
            .collect()
    }

    /// The sidebar window for a page: `(section, chunk)`. Pages in the same window share one
    /// rendered sidebar.
    pub fn sidebar_key(&self, page: usize) -> (usize, usize) {
        let node = &self.pages[page];
        let size = self.config.theme.sidebar_page_size.max(1);
        if let Some(place) = self.nav_places[page] {
            // One window per group of the file: the pages of a group share their sidebar.
            return (
                place.section,
                place.own.or(place.parent).map_or(0, |g| g + 1),
            );
        }
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
        if let Some(nav) = &self.navs[sid] {
            // A hand-written file: shown whole (its size is the author's), with the groups
            // on the way to the current page open.
            let chain = if sid == current {
                group_chain(nav, chunk.checked_sub(1))
            } else {
                Vec::new()
            };
            return self.nav_nodes(sid, &nav.entries, trail, &chain);
        }
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
                        is_group: false,
                        is_divider: false,
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
                            is_group: false,
                            is_divider: false,
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

/// The meta description a page without one gets from its first paragraph.
fn summary_of(page: &Page) -> Option<String> {
    if page.meta.description.is_some() || page.failed {
        return None;
    }
    crate::summary::description(page.source.body())
}

/// A step of the reading-order walk.
enum Step<'a> {
    Items(&'a [Item]),
    Item(Item),
    Entries(&'a [NavEntry]),
}

/// The group `from` and the groups it is in, innermost first.
fn group_chain(nav: &SectionNav, from: Option<usize>) -> Vec<usize> {
    let mut chain = Vec::new();
    let mut at = from;
    while let Some(g) = at {
        // Ids only ever point at earlier groups, so this ends; the bound keeps it so.
        if chain.len() > nav.groups.len() {
            break;
        }
        chain.push(g);
        at = nav.groups.get(g).and_then(|(parent, _)| *parent);
    }
    chain
}

impl Site {
    /// The section, `section` itself or its nearest ancestor, whose navigation file orders
    /// the pages of `section`.
    fn governor(&self, section: usize) -> Option<usize> {
        let mut at = Some(section);
        while let Some(s) = at {
            if self.navs.get(s).is_some_and(Option::is_some) {
                return Some(s);
            }
            at = self.sections[s].parent;
        }
        None
    }

    /// Whether page `p` is published but missing from the navigation file that orders its
    /// section: that file's path, when it is.
    pub fn missing_from_nav(&self, p: usize) -> Option<&Path> {
        let place = self.nav_places[p].filter(|place| !place.listed)?;
        let node = &self.pages[p];
        if node.page.meta.hide || node.page.failed {
            return None;
        }
        self.structure[place.section]
            .nav
            .as_ref()
            .map(|n| n.display.as_path())
    }

    /// Whether a navigation file orders page `p` (its sidebar window and breadcrumbs follow the
    /// file).
    pub fn orders_by_nav_file(&self, p: usize) -> bool {
        self.nav_places[p].is_some()
    }

    /// The pages navigation lists, and those left out of a navigation file (already reported
    /// as `not-in-nav`, so no orphans).
    pub fn listed_pages(&self) -> impl Iterator<Item = usize> + '_ {
        self.reading_order
            .iter()
            .copied()
            .chain((0..self.pages.len()).filter(|&p| self.missing_from_nav(p).is_some()))
    }

    /// What a section page lists: its navigation file's entries (the first pages and sections
    /// of each branch), or its folder's listing.
    pub fn listing_items(&self, section: usize) -> Vec<Item> {
        let Some(nav) = &self.navs[section] else {
            return self.sections[section].items.clone();
        };
        let own = self.sections[section].index;
        let mut out = Vec::new();
        let mut stack: Vec<&NavEntry> = nav.entries.iter().rev().collect();
        while let Some(e) = stack.pop() {
            match e.target {
                NavTarget::Item(Item::Page(p)) if Some(p) == own => {
                    stack.extend(e.children.iter().rev())
                }
                NavTarget::Item(item) => out.push(item),
                _ => stack.extend(e.children.iter().rev()),
            }
        }
        out.dedup();
        out
    }

    /// The sidebar nodes of navigation entries of section `sid`'s file.
    fn nav_nodes(
        &self,
        sid: usize,
        entries: &[NavEntry],
        trail: &[usize],
        chain: &[usize],
    ) -> Vec<NavNode> {
        let Some(nav) = &self.navs[sid] else {
            return Vec::new();
        };
        entries
            .iter()
            .map(|e| {
                let mut children = self.nav_nodes(sid, &e.children, trail, chain);
                let (url, is_section) = match e.target {
                    NavTarget::Item(item) => {
                        if let (Item::Section(t), true) = (item, item != Item::Section(sid)) {
                            if let Some(inner) = &self.navs[t] {
                                children.extend(self.nav_nodes(t, &inner.entries, trail, &[]));
                            }
                        }
                        (self.item_link(item).url, matches!(item, Item::Section(_)))
                    }
                    NavTarget::Link => (e.url.clone(), false),
                    NavTarget::Group | NavTarget::Divider => (String::new(), false),
                };
                let on_trail = matches!(e.target, NavTarget::Item(Item::Section(t)) if t != sid && trail.contains(&t));
                let active = on_trail
                    || e.group.is_some_and(|g| chain.contains(&g))
                    || children.iter().any(|c| c.active_trail);
                NavNode {
                    title: e.title.clone(),
                    url,
                    is_section,
                    expanded: !children.is_empty()
                        && (active || nav.expanded.contains(&e.title)),
                    active_trail: active,
                    children,
                    more: None,
                    is_group: e.target == NavTarget::Group,
                    is_divider: e.target == NavTarget::Divider,
                }
            })
            .collect()
    }

    /// Reads section `s`'s navigation file, if it has one, and resolves its links: a link to
    /// no page is `broken-link` at the file's line, a second entry for a page a warning.
    fn resolve_nav(&self, s: usize, errors: &mut Vec<Error>) -> Option<SectionNav> {
        let source = self.structure[s].nav.clone()?;
        let file = match crate::nav::parse(source) {
            Ok(file) => file,
            Err(e) => {
                errors.extend(e);
                return None;
            }
        };
        errors.extend(file.warnings.iter().cloned());
        let mut nav = SectionNav {
            entries: Vec::new(),
            groups: Vec::new(),
            expanded: file.expanded.iter().cloned().collect(),
        };
        let mut seen: HashMap<Item, usize> = HashMap::new();
        let mut resolve = |e: &crate::nav::Entry, nav: &mut SectionNav, parent: Option<usize>| {
            let (target, url) = if e.divider {
                (NavTarget::Divider, String::new())
            } else if let Some(link) = &e.link {
                match self.nav_target(s, link) {
                    Ok((NavTarget::Item(item), _)) => {
                        let line = file.location(e).line;
                        if let Some(&first_line) = seen.get(&item) {
                            errors.push(
                                Error::new(
                                    ErrorKind::DuplicateNavEntry {
                                        target: link.clone(),
                                        first_line,
                                    },
                                    file.location(e),
                                )
                                .warning(),
                            );
                        } else {
                            seen.insert(item, line);
                        }
                        (NavTarget::Item(item), String::new())
                    }
                    Ok(other) => other,
                    Err(suggestion) => {
                        errors.push(Error::new(
                            ErrorKind::BrokenLink {
                                target: link.clone(),
                                suggestion,
                            },
                            file.location(e),
                        ));
                        (NavTarget::Link, String::new())
                    }
                }
            } else {
                (NavTarget::Group, String::new())
            };
            let group = (!e.children.is_empty() || target == NavTarget::Group).then(|| {
                let link = NavLink {
                    title: e.title.clone(),
                    url: match target {
                        NavTarget::Item(item) => self.item_link(item).url,
                        _ => url.clone(),
                    },
                };
                nav.groups.push((parent, link));
                nav.groups.len() - 1
            });
            NavEntry {
                title: e.title.clone(),
                target,
                url,
                children: Vec::new(),
                group,
            }
        };
        // Depth first, keeping the file's order, so that group ids grow down the file.
        fn walk(
            entries: &[crate::nav::Entry],
            parent: Option<usize>,
            nav: &mut SectionNav,
            resolve: &mut dyn FnMut(&crate::nav::Entry, &mut SectionNav, Option<usize>) -> NavEntry,
        ) -> Vec<NavEntry> {
            entries
                .iter()
                .map(|e| {
                    let mut entry = resolve(e, nav, parent);
                    entry.children = walk(&e.children, entry.group.or(parent), nav, resolve);
                    entry
                })
                .collect()
        }
        nav.entries = walk(&file.entries, None, &mut nav, &mut resolve);
        Some(nav)
    }

    /// What a navigation link of section `s` points at: a page or section of `s` (a `.md` path
    /// relative to the file, a URL relative to the section's URL, or a site-absolute URL), or
    /// a link elsewhere with the URL it is shown with. `Err` with a suggestion when it is none
    /// of those.
    fn nav_target(&self, s: usize, link: &str) -> Result<(NavTarget, String), Option<String>> {
        let link = link.trim();
        if has_scheme(link) || link.starts_with("//") || self.config.links.is_outside(link) {
            return Ok((NavTarget::Link, link.to_string()));
        }
        let path = link.split(['#', '?']).next().unwrap_or(link);
        let path = percent_decode(path);
        let section_url = self.sections[s].url.as_str();
        let mut candidates: Vec<String> = Vec::new();
        if path.ends_with(".md") {
            let nav_rel = format!("{}{}", section_url, self.config.nav.file);
            if let Resolved::Url(u) = self.resolve_path(&nav_rel, &path, RefKind::Link) {
                let u = u.strip_prefix(self.base_path.as_str()).unwrap_or(&u);
                candidates.push(normalize_url_path(u));
            }
        } else if let Some(abs) = path.strip_prefix('/') {
            // `/introduction/what-is` in the file of `/docs/`: the section's URL first.
            candidates.push(normalize_url_path(&format!("{section_url}{abs}")));
            let abs = abs
                .strip_prefix(self.base_path.trim_start_matches('/'))
                .filter(|_| self.base_path != "/")
                .unwrap_or(abs);
            candidates.push(normalize_url_path(abs));
        } else {
            candidates.push(normalize_url_path(&normalize_clamped(&format!(
                "{section_url}{path}"
            ))));
        }
        for url in candidates {
            let item = match self.page_by_url.get(&url) {
                Some(&p) if self.pages[p].is_index && self.pages[p].section != s => {
                    Item::Section(self.pages[p].section)
                }
                Some(&p) => Item::Page(p),
                None => match self.section_by_rel.get(url.trim_end_matches('/')) {
                    Some(&t) if t != 0 || url.is_empty() => Item::Section(t),
                    _ => continue,
                },
            };
            // The file orders its own section: pages elsewhere are plain links.
            let section = match item {
                Item::Page(p) => self.pages[p].section,
                Item::Section(t) => t,
            };
            return Ok(if self.trail(section).contains(&s) {
                (NavTarget::Item(item), String::new())
            } else {
                (NavTarget::Link, self.url(&url))
            });
        }
        Err(self.suggest(&path, RefKind::Link))
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
        // Another part of the same website: kept as written, checked only by `--external`.
        if self.config.links.is_outside(target) {
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
