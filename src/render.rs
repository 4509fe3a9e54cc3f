//! Turning the page graph into HTML documents: the template context of each page, shared
//! sidebars, section listings, the 404 page, alias redirects and the sitemap.
//!
//! The cost of rendering one page does not depend on the size of the site: the sidebar is
//! rendered once per window and shared, and listings appear only on section pages.

use std::collections::HashMap;

use pulldown_cmark_escape::escape_html;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Location};
use crate::markdown::{Heading, Rendered};
use crate::site::{Item, NavLink, Site};
use crate::theme::Theme;

/// What the templates see as `site`.
#[derive(Debug, Serialize)]
pub struct SiteContext {
    /// Site title.
    pub title: String,
    /// Site description.
    pub description: String,
    /// Absolute base URL, ending with `/`.
    pub base_url: String,
    /// Path part of the base URL.
    pub base_path: String,
    /// Page language.
    pub language: String,
    /// Footer text.
    pub footer: String,
    /// "Edit this page" prefix.
    pub edit_url: String,
    /// Whether `base_url` names a host (`https://example.org/`): only then are permalinks
    /// absolute URLs, and a relative canonical or `og:url` is invalid, so they are left out.
    pub absolute: bool,
}

/// A child in a section listing.
#[derive(Debug, Serialize)]
struct ListItem {
    title: String,
    url: String,
    description: Option<String>,
    is_section: bool,
}

#[derive(Debug, Serialize)]
struct PageContext<'a> {
    title: &'a str,
    description: Option<&'a str>,
    url: String,
    permalink: String,
    content: &'a str,
    toc: Vec<&'a Heading>,
    extra: &'a Map<String, Value>,
    date: Option<&'a str>,
    updated: Option<&'a str>,
    kind: &'static str,
    pages: Vec<ListItem>,
    edit_url: Option<String>,
    source_path: &'a str,
}

/// The template every sidebar window is rendered with (so every page depends on it).
pub const SIDEBAR_TEMPLATE: &str = "partials/sidebar.html";

/// One document to write: its path in the output and its bytes.
pub type Document = (String, String);

/// Renders documents of one site with one theme.
pub struct Renderer<'a> {
    site: &'a Site,
    theme: &'a Theme,
    sidebars: HashMap<(usize, usize), Sidebar>,
    /// Room a page needs beyond its body, to size its buffer: the longest sidebar and the
    /// templates' text.
    page_room: usize,
}

/// A sidebar window's HTML and where each link in it ends.
struct Sidebar {
    html: String,
    /// The first `href="URL"` of each URL (as written, escaped): the byte after its closing
    /// quote. A page finds its own link here instead of searching the whole sidebar.
    links: HashMap<String, usize>,
}

impl Sidebar {
    fn new(html: String) -> Sidebar {
        const HREF: &str = "href=\"";
        let mut links = HashMap::new();
        for (i, _) in html.match_indices(HREF) {
            let start = i + HREF.len();
            // An escaped URL has no quote, so the first one closes it.
            if let Some(len) = html[start..].find('"') {
                links
                    .entry(html[start..start + len].to_string())
                    .or_insert(start + len + 1);
            }
        }
        Sidebar { html, links }
    }
}

impl<'a> Renderer<'a> {
    /// Prepares rendering: puts `site` and `assets` into the templates' global context and
    /// renders every sidebar window once.
    pub fn new(
        site: &'a Site,
        theme: &'a mut Theme,
        assets: &HashMap<&'static str, String>,
    ) -> Result<Renderer<'a>, Vec<Error>> {
        Self::for_pages(site, theme, assets, None, true)
    }

    /// Like [`Renderer::new`], but with only the sidebar windows that `pages` need (all when
    /// `None`), plus those of the site-wide documents when `site_wide` is set (generated
    /// section pages, 404): re-rendering one page after an edit must not cost a whole site's
    /// sidebars.
    pub fn for_pages(
        site: &'a Site,
        theme: &'a mut Theme,
        assets: &HashMap<&'static str, String>,
        pages: Option<&[usize]>,
        site_wide: bool,
    ) -> Result<Renderer<'a>, Vec<Error>> {
        let cfg = &site.config;
        let ctx = SiteContext {
            title: cfg.title.clone(),
            description: cfg.description.clone(),
            base_url: cfg.base_url(),
            base_path: site.base_path.clone(),
            language: cfg.language.clone(),
            footer: cfg.theme.footer.clone(),
            edit_url: cfg.theme.edit_url.clone(),
            absolute: cfg.has_absolute_base_url(),
        };
        theme.tera.global_context().insert("site", &ctx);
        theme.tera.global_context().insert("assets", assets);
        let theme: &'a Theme = theme;

        let mut keys: Vec<(usize, usize)> = match pages {
            Some(pages) => pages.iter().map(|&p| site.sidebar_key(p)).collect(),
            None => (0..site.pages.len()).map(|p| site.sidebar_key(p)).collect(),
        };
        if site_wide {
            keys.extend((0..site.sections.len()).map(|s| (s, 0)));
        }
        keys.sort_unstable();
        keys.dedup();
        type Window = ((usize, usize), String);
        let rendered: Vec<Result<Window, Error>> = keys
            .par_iter()
            .map(|&(s, c)| {
                let mut ctx = tera::Context::new();
                ctx.insert("nav", &site.sidebar(s, c));
                theme.render(SIDEBAR_TEMPLATE, &ctx).map(|h| ((s, c), h))
            })
            .collect();
        let mut sidebars = HashMap::new();
        let mut errors = Vec::new();
        for r in rendered {
            match r {
                Ok((k, h)) => {
                    sidebars.insert(k, Sidebar::new(h));
                }
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            errors.truncate(1);
            return Err(errors);
        }
        let sidebar_len = sidebars.values().map(|s| s.html.len()).max().unwrap_or(0);
        let page_room = sidebar_len + theme.text_len();
        Ok(Renderer {
            site,
            theme,
            sidebars,
            page_room,
        })
    }

    /// The sidebar of a window with `url` marked as the current page.
    fn sidebar(&self, key: (usize, usize), url: &str) -> String {
        let Some(Sidebar { html, links }) = self.sidebars.get(&key) else {
            return String::new();
        };
        let mut escaped = String::with_capacity(url.len());
        let _ = escape_html(&mut escaped, url);
        match links.get(&escaped) {
            Some(&end) => {
                let mut out = String::with_capacity(html.len() + 24);
                out.push_str(&html[..end]);
                out.push_str(" aria-current=\"page\"");
                out.push_str(&html[end..]);
                out
            }
            None => html.clone(),
        }
    }

    fn listing(&self, section: usize) -> Vec<ListItem> {
        self.site
            .listing_items(section)
            .into_iter()
            .map(|item| {
                let NavLink { title, url } = self.site.item_link(item);
                let (description, is_section) = match item {
                    Item::Page(p) => (self.site.pages[p].page.meta.description.clone(), false),
                    Item::Section(s) => (
                        self.site.sections[s]
                            .index
                            .and_then(|i| self.site.pages[i].page.meta.description.clone()),
                        true,
                    ),
                };
                ListItem {
                    title,
                    url,
                    description,
                    is_section,
                }
            })
            .collect()
    }

    /// The page's HTML with its setup-verification form in place.
    fn verify_form(
        &self,
        spec: &crate::frontmatter::VerifySpec,
        url: &str,
        html: &str,
        node: &crate::site::PageNode,
    ) -> Result<String, Error> {
        let at_page = |message: String| {
            Error::new(
                ErrorKind::InvalidVerify { message },
                Location::file(&node.page.source.display),
            )
        };
        let form = crate::verify::form::context(spec, url)
            .ok_or_else(|| at_page(format!("unknown provider `{}`", spec.provider)))?;
        let (at, level) =
            crate::verify::form::locate(html, spec.section.as_deref()).map_err(at_page)?;
        let mut ctx = tera::Context::new();
        ctx.insert("verify", &form);
        ctx.insert("level", &level);
        let form = self.theme.render("partials/verify.html", &ctx)?;
        Ok(crate::verify::form::insert(html, at, &form))
    }

    /// Renders page `p` with its rendered Markdown.
    pub fn page(&self, p: usize, body: &Rendered) -> Result<Document, Error> {
        self.page_with(p, &body.html, &body.headings)
    }

    /// [`Renderer::page`] from the parts of its body a page shows: its HTML and its headings.
    pub fn page_with(
        &self,
        p: usize,
        body_html: &str,
        headings: &[Heading],
    ) -> Result<Document, Error> {
        let mut html = Vec::new();
        let path = self.page_into(p, body_html, headings, &mut html)?;
        // Tera writes only UTF-8; were that ever not so, the page would still be written.
        let html = String::from_utf8(html)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        Ok((path, html))
    }

    /// Renders page `p` into `out` (emptied first) and returns its output path: a build reuses
    /// one buffer for many pages, so a page costs no allocation and no growing copies of its
    /// HTML.
    pub fn page_into(
        &self,
        p: usize,
        body_html: &str,
        headings: &[Heading],
        out: &mut Vec<u8>,
    ) -> Result<String, Error> {
        let node = &self.site.pages[p];
        let meta = &node.page.meta;
        let (kind, template) = page_template(self.site, p);
        if !self.theme.has(template) {
            return Err(Error::new(
                ErrorKind::UnknownTemplate {
                    name: template.to_string(),
                },
                Location::file(&node.page.source.display),
            ));
        }
        let edit_url = (!self.site.config.theme.edit_url.is_empty()).then(|| {
            format!(
                "{}{}",
                self.site.config.theme.edit_url, node.page.source.rel
            )
        });
        let url = self.site.url(&node.url);
        let with_form;
        let content = match &meta.verify {
            Some(spec) => {
                with_form = self.verify_form(spec, &url, body_html, node)?;
                with_form.as_str()
            }
            None => body_html,
        };
        // Pages without a description get their opening's text, as search engines want one.
        let description = meta.description.as_deref().or(node.summary.as_deref());
        let page = PageContext {
            title: &meta.title,
            description,
            url,
            permalink: self.site.permalink(&node.url),
            content,
            toc: headings
                .iter()
                .filter(|h| h.level == 2 || h.level == 3)
                .collect(),
            extra: &meta.extra,
            date: meta.date.as_deref(),
            updated: meta.updated.as_deref(),
            kind,
            pages: if node.is_index {
                self.listing(node.section)
            } else {
                Vec::new()
            },
            edit_url,
            source_path: &node.page.source.rel,
        };
        let (prev, next) = self.site.prev_next(p);
        let mut ctx = tera::Context::new();
        ctx.insert("page", &page);
        ctx.insert("breadcrumbs", &self.site.breadcrumbs(p));
        ctx.insert("prev", &prev);
        ctx.insert("next", &next);
        ctx.insert(
            "sidebar",
            &self.sidebar(self.site.sidebar_key(p), &page.url),
        );
        out.clear();
        // The body and the sidebar are most of a page: room for them and the template's text
        // is room for the whole page.
        out.reserve(body_html.len() + self.page_room);
        self.theme.render_to(template, &ctx, out).map_err(|mut e| {
            if e.location.path.as_os_str().is_empty() {
                e.location.path = node.page.source.display.clone();
            }
            e
        })?;
        Ok(output_path(&node.url))
    }

    /// Renders the listing page of a section that has no `_index.md`.
    pub fn generated_section(&self, s: usize) -> Result<Document, Error> {
        let section = &self.site.sections[s];
        let empty = Map::new();
        let url = self.site.url(&section.url);
        let page = PageContext {
            title: &section.title,
            description: None,
            permalink: self.site.permalink(&section.url),
            url: url.clone(),
            content: "",
            toc: Vec::new(),
            extra: &empty,
            date: None,
            updated: None,
            kind: if s == 0 { "home" } else { "section" },
            pages: self.listing(s),
            edit_url: None,
            source_path: "",
        };
        let trail = self.site.trail(s);
        let crumbs: Vec<NavLink> = trail[..trail.len() - 1]
            .iter()
            .map(|&a| NavLink {
                title: if a == 0 {
                    "Home".into()
                } else {
                    self.site.sections[a].title.clone()
                },
                url: self.site.url(&self.site.sections[a].url),
            })
            .collect();
        let mut ctx = tera::Context::new();
        ctx.insert("page", &page);
        ctx.insert("breadcrumbs", &crumbs);
        ctx.insert("prev", &Option::<NavLink>::None);
        ctx.insert("next", &Option::<NavLink>::None);
        ctx.insert("sidebar", &self.sidebar((s, 0), &url));
        let template = generated_template(s);
        Ok((
            output_path(&section.url),
            self.theme.render(template, &ctx)?,
        ))
    }

    /// The 404 page.
    pub fn not_found(&self) -> Result<Document, Error> {
        let empty = Map::new();
        let page = PageContext {
            title: "Page not found",
            description: None,
            url: self.site.url("404.html"),
            permalink: self.site.permalink("404.html"),
            content: "",
            toc: Vec::new(),
            extra: &empty,
            date: None,
            updated: None,
            kind: "page",
            pages: Vec::new(),
            edit_url: None,
            source_path: "",
        };
        let mut ctx = tera::Context::new();
        ctx.insert("page", &page);
        ctx.insert("breadcrumbs", &Vec::<NavLink>::new());
        ctx.insert("prev", &Option::<NavLink>::None);
        ctx.insert("next", &Option::<NavLink>::None);
        ctx.insert("sidebar", &self.sidebar((0, 0), ""));
        Ok(("404.html".into(), self.theme.render("404.html", &ctx)?))
    }

    /// Redirect pages for every alias.
    pub fn redirects(&self) -> Result<Vec<Document>, Error> {
        let mut docs = Vec::new();
        for node in &self.site.pages {
            for alias in &node.page.meta.aliases {
                let rel = alias.trim_matches('/');
                let path = if rel.ends_with(".html") {
                    rel.to_string()
                } else {
                    output_path(&format!("{rel}/"))
                };
                let mut ctx = tera::Context::new();
                ctx.insert("target", &self.site.url(&node.url));
                if self.site.config.has_absolute_base_url() {
                    ctx.insert("canonical", &self.site.permalink(&node.url));
                }
                docs.push((path, self.theme.render("redirect.html", &ctx)?));
            }
        }
        Ok(docs)
    }

    /// `sitemap.xml`: every listed page with its absolute URL.
    pub fn sitemap(&self) -> Document {
        let mut xml = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
        );
        for node in &self.site.pages {
            if node.page.meta.hide {
                continue;
            }
            xml.push_str("  <url><loc>");
            let _ = escape_html(&mut xml, &self.site.permalink(&node.url));
            xml.push_str("</loc>");
            if let Some(d) = node
                .page
                .meta
                .updated
                .as_ref()
                .or(node.page.meta.date.as_ref())
            {
                xml.push_str("<lastmod>");
                let _ = escape_html(&mut xml, d);
                xml.push_str("</lastmod>");
            }
            xml.push_str("</url>\n");
        }
        xml.push_str("</urlset>\n");
        ("sitemap.xml".into(), xml)
    }
}

/// The kind of page `p` (`home`, `section`, `page`) and the template it is rendered with: its
/// own `template`, else the kind's default. The preview server's dependency rules use it too.
pub fn page_template(site: &Site, p: usize) -> (&'static str, &str) {
    let node = &site.pages[p];
    let (kind, default_template) = if node.is_index && node.section == 0 {
        ("home", "index.html")
    } else if node.is_index {
        ("section", "section.html")
    } else {
        ("page", "page.html")
    };
    (
        kind,
        node.page
            .meta
            .template
            .as_deref()
            .unwrap_or(default_template),
    )
}

/// The template of a generated section listing (a folder without `_index.md`).
pub fn generated_template(section: usize) -> &'static str {
    if section == 0 {
        "index.html"
    } else {
        "section.html"
    }
}

/// The output file of a site-relative URL path: pretty URLs, `a/b/` → `a/b/index.html`.
pub fn output_path(url: &str) -> String {
    format!("{url}index.html")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidebar_links_end_where_the_first_href_of_each_url_ends() {
        let html = concat!(
            r#"<a href="/a/">A</a><a data-href="/b/">B</a><a href="/b/">B</a>"#,
            r#"<a href="/a/">again</a><a href="/q?x=1&amp;y=2">Q</a><a href="/open"#,
        );
        let sidebar = Sidebar::new(html.to_string());
        // What a search for `href="URL"` finds first, quote included.
        for url in ["/a/", "/b/", "/q?x=1&amp;y=2"] {
            let needle = format!("href=\"{url}\"");
            let end = html.find(&needle).unwrap() + needle.len();
            assert_eq!(sidebar.links.get(url), Some(&end), "{url}");
        }
        assert_eq!(sidebar.links.len(), 3, "an unclosed href is no link");
    }
}
