//! The site's side of components: its own component templates
//! (`templates/components/<Name>.html`, rendered with Tera), its `[components]` aliases, and
//! the files `<Include>` names (pages, and Markdown files in `_`-named folders, which are not
//! published). [`crate::markdown`] asks through [`Components`]; the syntax is in
//! [`crate::component`].

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use crate::error::Error;
use crate::markdown::{Components, IncludeLookup, IncludeSource, RefKind, Resolve, Resolved};
use crate::site::Site;
use crate::theme::Theme;

/// Where a site's component templates live, under `templates/`.
pub const TEMPLATE_DIR: &str = "components/";

/// Components of one site, for one load: include targets read from disk are kept for the
/// pages that include them after the first.
pub struct SiteComponents<'a> {
    site: &'a Site,
    theme: Option<&'a Theme>,
    content_dir: PathBuf,
    templates: HashSet<String>,
    /// Markdown files outside the page graph, by content-relative path; `None` when unreadable.
    files: Mutex<HashMap<String, Option<Text>>>,
}

/// A file's whole text and where its body starts (after any frontmatter).
type Text = (Arc<str>, usize);

impl<'a> SiteComponents<'a> {
    /// The components of `site`, whose root is `root`, with `theme`'s templates (none when the
    /// theme failed to load).
    pub fn new(site: &'a Site, theme: Option<&'a Theme>, root: &std::path::Path) -> Self {
        let templates = match theme {
            Some(theme) => theme
                .template_sources()
                .filter_map(|(name, _)| {
                    name.strip_prefix(TEMPLATE_DIR)?
                        .strip_suffix(".html")
                        .map(str::to_string)
                })
                .collect(),
            // The theme failed to load (its errors are reported): the names still resolve to
            // the site's templates, so a page is not blamed for the template's problem.
            None => std::fs::read_dir(root.join(&site.config.folders.templates).join(TEMPLATE_DIR))
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| {
                    e.file_name()
                        .to_str()?
                        .strip_suffix(".html")
                        .map(str::to_string)
                })
                .collect(),
        };
        SiteComponents {
            site,
            theme,
            content_dir: root.join(&site.config.folders.content),
            templates,
            files: Mutex::new(HashMap::new()),
        }
    }

    fn page_source(&self, p: usize) -> IncludeLookup {
        let s = &self.site.pages[p].page.source;
        IncludeLookup::Found(IncludeSource {
            rel: s.rel.clone(),
            display: s.display.clone(),
            text: Arc::from(s.text.as_str()),
            body_offset: s.body_offset,
            is_page: true,
        })
    }

    /// A Markdown file that is not a page (in a `_` folder, or a draft), read once per load.
    fn file(&self, rel: &str) -> Option<Text> {
        let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        files
            .entry(rel.to_string())
            .or_insert_with(|| {
                let path = self.content_dir.join(rel);
                let bytes = std::fs::read(&path).ok()?;
                let text = crate::content::decode(bytes, &path).ok()?;
                let body_offset =
                    crate::frontmatter::split(&text, &path).map_or(0, |s| s.body_offset);
                Some((Arc::from(text), body_offset))
            })
            .clone()
    }

    fn display(&self, rel: &str) -> PathBuf {
        PathBuf::from(format!("{}{rel}", self.site.content_prefix()))
    }
}

impl Components for SiteComponents<'_> {
    fn has_template(&self, name: &str) -> bool {
        self.templates.contains(name)
    }

    fn alias(&self, name: &str) -> Option<&str> {
        self.site.config.components.get(name).map(String::as_str)
    }

    fn names(&self) -> Vec<String> {
        self.templates
            .iter()
            .chain(self.site.config.components.keys())
            .cloned()
            .collect()
    }

    fn render_template(
        &self,
        name: &str,
        attrs: Map<String, Value>,
        body: &str,
        page: &str,
    ) -> Result<String, Error> {
        let Some(theme) = self.theme else {
            return Ok(body.to_string());
        };
        let site = self.site;
        let cfg = &site.config;
        let mut ctx = tera::Context::new();
        ctx.insert("attrs", &attrs);
        ctx.insert_value("body", tera::Value::safe_string(body));
        let mut page_ctx = Map::new();
        if let Some(p) = site.page_index(page) {
            let node = &site.pages[p];
            let meta = &node.page.meta;
            page_ctx.insert("title".into(), Value::String(meta.title.clone()));
            page_ctx.insert("url".into(), Value::String(site.url(&node.url)));
            page_ctx.insert("path".into(), Value::String(page.to_string()));
            page_ctx.insert(
                "description".into(),
                meta.description.clone().map_or(Value::Null, Value::String),
            );
            page_ctx.insert("extra".into(), Value::Object(meta.extra.clone()));
        }
        ctx.insert("page", &page_ctx);
        let config: Map<String, Value> = [
            ("title", cfg.title.clone()),
            ("description", cfg.description.clone()),
            ("base_url", cfg.base_url()),
            ("base_path", site.base_path.clone()),
            ("language", cfg.language.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::String(v)))
        .collect();
        ctx.insert("config", &config);
        theme.render(&format!("{TEMPLATE_DIR}{name}.html"), &ctx)
    }

    fn include(&self, from: &str, url: Option<&str>, path: Option<&str>) -> IncludeLookup {
        let site = self.site;
        if let Some(url) = url {
            return match site.resolve(from, url, RefKind::Link) {
                Resolved::Url(u) => {
                    let path = u.split(['#', '?']).next().unwrap_or("");
                    let rel = path.strip_prefix(site.base_path.as_str()).unwrap_or(path);
                    match site.page_at(rel) {
                        Some(p) => self.page_source(p),
                        None => IncludeLookup::NotMarkdown,
                    }
                }
                Resolved::External => IncludeLookup::NotMarkdown,
                Resolved::CaseMismatch { actual } => IncludeLookup::Missing {
                    suggestion: Some(actual),
                },
                Resolved::Missing { suggestion } => IncludeLookup::Missing { suggestion },
            };
        }
        let Some(rel) = path.and_then(|p| site.content_path(from, p)) else {
            return IncludeLookup::Missing { suggestion: None };
        };
        if !rel.ends_with(".md") {
            let exists = site.asset_at(&rel).is_some() || self.content_dir.join(&rel).is_file();
            return if exists {
                IncludeLookup::NotMarkdown
            } else {
                IncludeLookup::Missing { suggestion: None }
            };
        }
        if let Some(p) = site.page_index(&rel) {
            return self.page_source(p);
        }
        match self.file(&rel) {
            Some((text, body_offset)) => IncludeLookup::Found(IncludeSource {
                display: self.display(&rel),
                rel,
                text,
                body_offset,
                is_page: false,
            }),
            None => IncludeLookup::Missing { suggestion: None },
        }
    }
}
