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
    let ids: Vec<HashSet<&str>> = bodies.par_iter().map(page_ids).collect();
    let mut findings: Vec<Error> = (0..site.pages.len())
        .into_par_iter()
        .flat_map_iter(|p| check_page(site, p, &bodies[p], &ids))
        .collect();
    findings.extend(orphans_and_unused(site, bodies));
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

/// Ids a link can target on a page: headings, raw HTML ids, footnotes.
fn page_ids(body: &Rendered) -> HashSet<&str> {
    body.headings
        .iter()
        .map(|h| h.id.as_str())
        .chain(body.html_ids.iter().map(|i| i.name.as_str()))
        .collect()
}

fn check_page(site: &Site, p: usize, body: &Rendered, ids: &[HashSet<&str>]) -> Vec<Error> {
    let node = &site.pages[p];
    if node.page.failed {
        return Vec::new();
    }
    let src = &node.page.source;
    let at = |offset: usize, len: usize| Location::at_offset(&src.display, &src.text, offset, len);
    let mut out = Vec::new();

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
        let fragment = percent_decode(&r.target[hash + 1..]);
        if fragment.is_empty() || fragment == "top" {
            continue;
        }
        let target_ids = if hash == 0 {
            Some(&ids[p])
        } else {
            match &r.resolved {
                Resolved::Url(url) => {
                    let path = url.split(['#', '?']).next().unwrap_or("");
                    let rel = path.strip_prefix(site.base_path.as_str()).unwrap_or(path);
                    match site.page_at(rel) {
                        Some(t) => Some(&ids[t]),
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
            if !target_ids.contains(fragment.as_str()) {
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
                        suggestion: closest(&fragment, target_ids.iter().copied())
                            .map(str::to_string),
                        fragment,
                    },
                    loc,
                ));
            }
        }
    }
    out
}

/// Pages nothing reaches, and assets nothing uses.
fn orphans_and_unused(site: &Site, bodies: &[Rendered]) -> Vec<Error> {
    let mut linked: HashSet<usize> = HashSet::new();
    let mut used: HashSet<&str> = HashSet::new();
    let base = site.base_path.as_str();
    for (p, body) in bodies.iter().enumerate() {
        for r in &body.references {
            let Resolved::Url(url) = &r.resolved else {
                continue;
            };
            let path = url.split(['#', '?']).next().unwrap_or("");
            let rel = path.strip_prefix(base).unwrap_or(path);
            match site.page_at(rel) {
                Some(t) if t != p => {
                    linked.insert(t);
                }
                Some(_) => {}
                None => {
                    if let Some(a) = site.asset_at(rel) {
                        used.insert(site.assets[a].rel.as_str());
                    }
                }
            }
        }
        for item in &body.raw_urls {
            if let Resolved::Url(url) = site.resolve_raw(&site.pages[p].page.source.rel, &item.name)
            {
                let rel = url.strip_prefix(base).unwrap_or(&url);
                let rel = rel.split(['#', '?']).next().unwrap_or("");
                if let Some(a) = site.asset_at(rel) {
                    used.insert(site.assets[a].rel.as_str());
                }
            }
        }
    }
    let listed: HashSet<usize> = site.reading_order.iter().copied().collect();
    let mut out = Vec::new();
    for (p, node) in site.pages.iter().enumerate() {
        let is_home = node.is_index && node.section == 0;
        if !is_home && !node.page.failed && !listed.contains(&p) && !linked.contains(&p) {
            out.push(
                Error::new(
                    ErrorKind::OrphanPage,
                    Location::file(&node.page.source.display),
                )
                .warning(),
            );
        }
    }
    let prefix = site.content_prefix();
    for a in &site.assets {
        if !used.contains(a.rel.as_str()) {
            out.push(
                Error::new(
                    ErrorKind::UnusedAsset,
                    Location::file(format!("{prefix}{}", a.rel)),
                )
                .warning(),
            );
        }
    }
    out
}

/// Every link to another site (`http`/`https`), once per URL, with every place it appears.
pub fn external_links(loaded: &Loaded) -> Vec<external::Link> {
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
            if !(target.starts_with("http://") || target.starts_with("https://")) {
                continue;
            }
            let url = target.split('#').next().unwrap_or(target).to_string();
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

fn percent_decode(s: &str) -> String {
    crate::site::percent_decode(s)
}
