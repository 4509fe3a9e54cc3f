//! The validator: findings beyond what loading and rendering already report (broken links and
//! missing images come from `markdown` as it resolves them). Runs inside `docsite build`,
//! `docsite check` and, later, the preview server.
//!
//! Precision matters as much as recall: every rule here has a fixture of valid forms that must
//! produce nothing.

pub mod external;

use std::collections::{BTreeMap, HashSet};

use rayon::prelude::*;

use crate::build::Loaded;
use crate::config::{CheckOptions, Level};
use crate::error::{Error, ErrorKind, Location, Severity, closest};
use crate::markdown::{RefKind, Rendered, Resolved};
use crate::site::Site;

/// Every finding of the site, beyond load and render problems.
pub fn check(loaded: &Loaded) -> Vec<Error> {
    let site = &loaded.site;
    let bodies = &loaded.bodies;
    let mut findings: Vec<Error> = (0..site.pages.len())
        .into_par_iter()
        .flat_map_iter(|p| check_page(site, p, bodies))
        .collect();
    findings.extend(loaded.links.findings(site));
    findings
}

/// Applies `[check] severity`: changes severities and drops findings turned off.
pub fn apply_severities(options: &CheckOptions, problems: &mut Vec<Error>) {
    if options.severity.is_empty() {
        return;
    }
    problems.retain_mut(|e| match options.severity.get(e.kind.code()) {
        Some(Level::Off) => false,
        Some(Level::Error) => {
            e.severity = Severity::Error;
            true
        }
        Some(Level::Warning) => {
            e.severity = Severity::Warning;
            true
        }
        None => true,
    });
}

/// Ids a link can target on a page: headings, raw HTML ids, footnotes. A page has few, so a
/// scan beats building a set per page.
fn page_ids(body: &Rendered) -> impl Iterator<Item = &str> + Clone {
    body.headings
        .iter()
        .map(|h| h.id.as_str())
        .chain(body.html_ids.iter().map(|i| i.name.as_str()))
}

/// The findings located in page `p`.
pub fn check_page(site: &Site, p: usize, bodies: &[Rendered]) -> Vec<Error> {
    let body = &bodies[p];
    let node = &site.pages[p];
    if node.page.failed {
        return Vec::new();
    }
    let src = &node.page.source;
    let at = |offset: usize, len: usize| Location::at_offset(&src.display, &src.text, offset, len);
    let mut out = Vec::new();

    // The verification form's section must be a heading on the page, or the build fails.
    if let Some(section) = node
        .page
        .meta
        .verify
        .as_ref()
        .and_then(|v| v.section.as_ref())
    {
        if !body.headings.iter().any(|h| &h.id == section) {
            let offset = src.text.find("section:").unwrap_or(0);
            let ids: Vec<&str> = body.headings.iter().map(|h| h.id.as_str()).collect();
            let hint = crate::error::closest(section, ids.iter().copied())
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            out.push(Error::new(
                ErrorKind::InvalidVerify {
                    message: format!("`verify.section` is `{section}`, but no heading on the page has that id{hint}"),
                },
                at(offset, "section:".len()),
            ));
        }
    }

    // Off unless configured: the first paragraph stands in for a missing description, so only
    // pages with no prose at all (listings, stubs) have none, and most of those are deliberate.
    let wants_description = site
        .config
        .check
        .severity
        .get("missing-description")
        .is_some_and(|l| *l != Level::Off);
    if wants_description && node.page.meta.description.is_none() && node.summary.is_none() {
        out.push(Error::new(ErrorKind::MissingDescription, Location::file(&src.display)).warning());
    }

    if let Some(nav) = site.missing_from_nav(p) {
        out.push(
            Error::new(
                ErrorKind::NotInNav {
                    nav: nav.display().to_string(),
                },
                Location::file(&src.display),
            )
            .warning(),
        );
    }

    // Headings: a body h1 doubles the title; levels must not skip.
    let mut prev = 1u8;
    for h in &body.headings {
        if h.level == 1 {
            out.push(Error::new(ErrorKind::MultipleH1, at(h.offset, 1)).warning());
        } else if h.level > prev + 1 {
            out.push(
                Error::new(
                    ErrorKind::HeadingSkip {
                        from: prev,
                        to: h.level,
                    },
                    at(h.offset, h.level as usize),
                )
                .warning(),
            );
        }
        prev = h.level;
    }

    // Explicit ids (heading attributes, raw HTML) that collide with any other id; reported at
    // the second occurrence.
    let auto: HashSet<&str> = body
        .headings
        .iter()
        .filter(|h| !h.explicit)
        .map(|h| h.id.as_str())
        .collect();
    let mut seen: HashSet<&str> = HashSet::new();
    let explicit = body
        .headings
        .iter()
        .filter(|h| h.explicit)
        .map(|h| (h.id.as_str(), h.offset))
        .chain(body.html_ids.iter().map(|i| (i.name.as_str(), i.offset)));
    let mut explicit: Vec<(&str, usize)> = explicit.collect();
    explicit.sort_by_key(|&(_, offset)| offset);
    for (id, offset) in explicit {
        if !seen.insert(id) || auto.contains(id) {
            out.push(Error::new(
                ErrorKind::DuplicateId { id: id.to_string() },
                at(offset, 1),
            ));
        }
    }

    for c in &body.components {
        out.push(Error::new(
            ErrorKind::UnknownComponent {
                name: c.name.clone(),
                suggestion: None,
            },
            at(c.offset, c.name.len() + 1),
        ));
    }

    for r in &body.references {
        if r.kind == RefKind::Image {
            if r.alt.as_deref().is_some_and(|a| a.trim().is_empty()) {
                out.push(Error::new(
                    ErrorKind::MissingAlt {
                        target: r.target.clone(),
                    },
                    at(r.offset, 2),
                ));
            }
            continue;
        }
        // Fragments: on this page, or on the page the link resolved to.
        let Some(hash) = r.target.find('#') else {
            continue;
        };
        let fragment = crate::site::percent_decode(&r.target[hash + 1..]);
        if fragment.is_empty() || fragment == "top" {
            continue;
        }
        let target_ids = if hash == 0 {
            Some(page_ids(body))
        } else {
            match &r.resolved {
                Resolved::Url(url) => {
                    let path = url.split(['#', '?']).next().unwrap_or("");
                    let rel = path.strip_prefix(site.base_path.as_str()).unwrap_or(path);
                    match site.page_at(rel) {
                        // A page that failed to load has unknown ids: its own error says so.
                        Some(t) if site.pages[t].page.failed => continue,
                        Some(t) => Some(page_ids(&bodies[t])),
                        None if rel.is_empty() || rel.ends_with('/') => None,
                        // A file: only HTML has ids.
                        None => {
                            out.push(Error::new(
                                ErrorKind::BrokenAnchor {
                                    target: r.target.clone(),
                                    fragment: fragment.clone(),
                                    suggestion: None,
                                },
                                at(r.offset, 1),
                            ));
                            continue;
                        }
                    }
                }
                _ => None,
            }
        };
        if let Some(target_ids) = target_ids {
            if !target_ids.clone().any(|id| id == fragment) {
                let mut loc = at(r.offset, 1);
                if let Some(i) = src
                    .text
                    .get(r.offset..)
                    .and_then(|t| t.find(&r.target[hash..]))
                {
                    loc = at(r.offset + i, r.target.len() - hash);
                }
                out.push(Error::new(
                    ErrorKind::BrokenAnchor {
                        target: r.target.clone(),
                        suggestion: closest(&fragment, target_ids).map(str::to_string),
                        fragment,
                    },
                    loc,
                ));
            }
        }
    }
    out
}

/// Who links to what, kept so that a change to one page re-checks only what it touches.
#[derive(Debug, Clone, Default)]
pub struct LinkGraph {
    /// For each page: the other pages and the assets it links to (each once).
    outgoing: Vec<(Vec<usize>, Vec<usize>)>,
    /// For each page: the pages that link to it.
    incoming: Vec<HashSet<usize>>,
    /// For each asset: how many pages use it.
    asset_uses: Vec<usize>,
    /// Pages listed in navigation.
    listed: HashSet<usize>,
}

impl LinkGraph {
    /// The graph of a loaded site.
    pub fn new(site: &Site, bodies: &[Rendered]) -> LinkGraph {
        let outgoing: Vec<(Vec<usize>, Vec<usize>)> = (0..bodies.len())
            .into_par_iter()
            .map(|p| targets(site, p, &bodies[p]))
            .collect();
        let mut graph = LinkGraph {
            outgoing: vec![Default::default(); bodies.len()],
            incoming: vec![HashSet::new(); bodies.len()],
            asset_uses: vec![0; site.assets.len()],
            listed: site.listed_pages().collect(),
        };
        for (p, t) in outgoing.into_iter().enumerate() {
            graph.set(p, t);
        }
        graph
    }

    fn set(&mut self, p: usize, new: (Vec<usize>, Vec<usize>)) {
        let (old_pages, old_assets) = std::mem::take(&mut self.outgoing[p]);
        for q in old_pages {
            self.incoming[q].remove(&p);
        }
        for a in old_assets {
            self.asset_uses[a] = self.asset_uses[a].saturating_sub(1);
        }
        for &q in &new.0 {
            self.incoming[q].insert(p);
        }
        for &a in &new.1 {
            self.asset_uses[a] += 1;
        }
        self.outgoing[p] = new;
    }

    /// Re-reads page `p`'s links. Returns the pages and assets whose site-wide findings may
    /// have changed.
    pub fn update(&mut self, site: &Site, p: usize, body: &Rendered) -> (Vec<usize>, Vec<usize>) {
        let new = targets(site, p, body);
        let old = self.outgoing[p].clone();
        let mut pages: Vec<usize> = old.0.iter().chain(&new.0).copied().collect();
        let mut assets: Vec<usize> = old.1.iter().chain(&new.1).copied().collect();
        pages.push(p);
        pages.sort_unstable();
        pages.dedup();
        assets.sort_unstable();
        assets.dedup();
        self.set(p, new);
        (pages, assets)
    }

    /// The pages that reference asset `a` (one scan of every page's references).
    pub fn using_asset(&self, a: usize) -> Vec<usize> {
        (0..self.outgoing.len())
            .filter(|&p| self.outgoing[p].1.contains(&a))
            .collect()
    }

    /// Takes the listed pages from `site` again after its navigation was worked out anew (a
    /// page or section hidden or shown). Returns the pages whose listing changed: their
    /// orphan-page finding may have too.
    pub fn relist(&mut self, site: &Site) -> Vec<usize> {
        let listed: HashSet<usize> = site.listed_pages().collect();
        let mut changed: Vec<usize> = listed.symmetric_difference(&self.listed).copied().collect();
        changed.sort_unstable();
        self.listed = listed;
        changed
    }

    /// The pages that link to `p`.
    pub fn linking_to(&self, p: usize) -> impl Iterator<Item = usize> + '_ {
        self.incoming[p].iter().copied()
    }

    /// The orphan-page finding of page `p`, if it is one.
    pub fn orphan(&self, site: &Site, p: usize) -> Option<Error> {
        let node = &site.pages[p];
        let is_home = node.is_index && node.section == 0;
        (!is_home && !node.page.failed && !self.listed.contains(&p) && self.incoming[p].is_empty())
            .then(|| {
                Error::new(
                    ErrorKind::OrphanPage,
                    Location::file(&node.page.source.display),
                )
                .warning()
            })
    }

    /// The unused-asset finding of asset `a`, if it is one.
    pub fn unused(&self, site: &Site, a: usize) -> Option<Error> {
        (self.asset_uses[a] == 0).then(|| {
            Error::new(
                ErrorKind::UnusedAsset,
                Location::file(format!("{}{}", site.content_prefix(), site.assets[a].rel)),
            )
            .warning()
        })
    }

    /// Every site-wide finding: orphan pages and unused assets.
    pub fn findings(&self, site: &Site) -> Vec<Error> {
        (0..site.pages.len())
            .filter_map(|p| self.orphan(site, p))
            .chain((0..site.assets.len()).filter_map(|a| self.unused(site, a)))
            .collect()
    }
}

/// The other pages and the assets page `p` links to, each once.
fn targets(site: &Site, p: usize, body: &Rendered) -> (Vec<usize>, Vec<usize>) {
    let base = site.base_path.as_str();
    let mut pages = Vec::new();
    let mut assets = Vec::new();
    let mut add = |url: &str| {
        let path = url.split(['#', '?']).next().unwrap_or("");
        let rel = path.strip_prefix(base).unwrap_or(path);
        match site.page_at(rel) {
            Some(t) if t != p => pages.push(t),
            Some(_) => {}
            None => {
                if let Some(a) = site.asset_at(rel) {
                    assets.push(a);
                }
            }
        }
    };
    for r in &body.references {
        if let Resolved::Url(url) = &r.resolved {
            add(url);
        }
    }
    for item in &body.raw_urls {
        if let Resolved::Url(url) = site.resolve_raw(&site.pages[p].page.source.rel, &item.name) {
            add(&url);
        }
    }
    pages.sort_unstable();
    pages.dedup();
    assets.sort_unstable();
    assets.dedup();
    (pages, assets)
}

/// Every link to another site (`http`/`https`), once per URL, with every place it appears.
/// Links to the rest of the website (`[links] outside`) are among them, made absolute with
/// `base_url`'s origin, when `base_url` has one.
pub fn external_links(loaded: &Loaded) -> Vec<external::Link> {
    let config = &loaded.site.config;
    let origin = url::Url::parse(&config.base_url)
        .ok()
        .filter(|_| config.has_absolute_base_url())
        .map(|u| u.origin().ascii_serialization());
    let mut by_url: BTreeMap<String, Vec<Location>> = BTreeMap::new();
    for (p, body) in loaded.bodies.iter().enumerate() {
        let src = &loaded.site.pages[p].page.source;
        let refs = body
            .references
            .iter()
            .filter(|r| r.resolved == Resolved::External)
            .map(|r| (r.target.as_str(), r.offset))
            .chain(body.raw_urls.iter().map(|u| (u.name.as_str(), u.offset)));
        for (target, offset) in refs {
            let url = if target.starts_with("http://") || target.starts_with("https://") {
                target.split('#').next().unwrap_or(target).to_string()
            } else if let Some(origin) = origin.as_ref().filter(|_| config.links.is_outside(target))
            {
                format!("{origin}{}", target.split('#').next().unwrap_or(target))
            } else {
                continue;
            };
            let mut loc = Location::at_offset(&src.display, &src.text, offset, 1);
            if let Some(i) = src.text.get(offset..).and_then(|t| t.find(target)) {
                loc = Location::at_offset(&src.display, &src.text, offset + i, target.len());
            }
            by_url.entry(url).or_default().push(loc);
        }
    }
    by_url
        .into_iter()
        .map(|(url, locations)| external::Link { url, locations })
        .collect()
}
