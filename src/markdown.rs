//! Markdown to HTML: CommonMark plus GFM (tables, strikethrough, task lists, footnotes, alerts),
//! heading ids and anchors, build-time highlighting, and link and image rewriting.
//!
//! This module knows nothing of the page graph: turning a link target into a URL is asked of a
//! [`Resolve`] implementation (the `site` module's). Markdown is never evaluated as template
//! code; `{{ x }}` in a page prints as written.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use pulldown_cmark::{
    BlockQuoteKind, CodeBlockKind, CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag,
    TagEnd,
};
use pulldown_cmark_escape::{escape_href, escape_html};

use crate::config::MarkdownOptions;
use crate::error::{Error, ErrorKind, Location};
use crate::highlight::Highlighter;

/// Whether a reference is a link or an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// `[text](target)`.
    Link,
    /// `![alt](target)`.
    Image,
}

/// What a link target turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// An internal target, rewritten to this URL.
    Url(String),
    /// Left as written: another site, a `mailto:`, a bare `#fragment`.
    External,
    /// A file matches only when case is ignored (works on a laptop, breaks on a server).
    CaseMismatch {
        /// The target as it should be written.
        actual: String,
    },
    /// Internal, but nothing is there; maybe something close is.
    Missing {
        /// The closest existing target.
        suggestion: Option<String>,
    },
}

/// Turns link targets as written in a page into URLs.
pub trait Resolve: Sync {
    /// Resolves `target`, written in the page at content-relative path `from`.
    fn resolve(&self, from: &str, target: &str, kind: RefKind) -> Resolved;
}

/// Publishes images: given an image's resolved URL, its HTML (the `assets` pipeline's
/// responsive `<img>`), or why the image cannot be published.
pub trait Images: Sync {
    /// Whether the image at this resolved URL is one the pipeline publishes.
    fn knows(&self, url: &str) -> bool;
    /// The HTML for the image at `url` with its alt text and title; `first` for the page's
    /// first image (not lazy-loaded), `in_link` when it sits inside a link already (no link
    /// of its own). `None` when the pipeline does not know the image.
    fn image(
        &self,
        url: &str,
        alt: &str,
        title: &str,
        first: bool,
        in_link: bool,
    ) -> Option<Result<String, crate::assets::Problem>>;
}

/// A heading of the page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Heading {
    /// 1 to 6.
    pub level: u8,
    /// Its id, unique within the page.
    pub id: String,
    /// Its text, without markup.
    pub title: String,
    /// Byte offset in the page's source text.
    #[serde(skip)]
    pub offset: usize,
    /// Whether the id was written explicitly (`{#id}`).
    #[serde(skip)]
    pub explicit: bool,
}

/// A link or image of the page, as written and as resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Link or image.
    pub kind: RefKind,
    /// The target as written.
    pub target: String,
    /// What it resolved to.
    pub resolved: Resolved,
    /// Byte offset in the page's source text.
    pub offset: usize,
    /// For images: the alt text.
    pub alt: Option<String>,
}

/// Something found in raw HTML: an `id` attribute or a capitalised tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawHtmlItem {
    /// The id value or the tag name.
    pub name: String,
    /// Byte offset in the page's source text.
    pub offset: usize,
}

/// A rendered page body.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// The HTML.
    pub html: String,
    /// Every heading, in order.
    pub headings: Vec<Heading>,
    /// Every link and image.
    pub references: Vec<Reference>,
    /// Problems found while rendering (broken links, missing images).
    pub errors: Vec<Error>,
    /// `id="..."` attributes in raw HTML.
    pub html_ids: Vec<RawHtmlItem>,
    /// Capitalised tags in raw HTML (`<HintBlock>`), which browsers render as nothing.
    pub components: Vec<RawHtmlItem>,
    /// `src` and `href` values in raw HTML.
    pub raw_urls: Vec<RawHtmlItem>,
    /// The page's prose split at its h2/h3 headings, for the search index: the opening first
    /// (anchor empty), then one entry per heading.
    pub search: std::sync::Arc<Vec<SearchSection>>,
    /// What the body was made from besides the page's own file, at any depth: the
    /// content-relative paths of included files and the component templates used
    /// (`components/Name.html`). Sorted, no duplicates.
    pub uses: Vec<String>,
}

/// A stretch of a page's text under one heading, as search indexes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchSection {
    /// The heading's text (empty for the page's opening).
    pub heading: String,
    /// The heading's id (empty for the page's opening).
    pub anchor: String,
    /// The text: words separated by single spaces. Markup, anchor links, copy buttons and
    /// image alt text are not text.
    pub text: String,
}

/// What rendering a page needs besides its text.
pub struct Renderer<'a> {
    /// Markdown options from the config.
    pub options: &'a MarkdownOptions,
    /// The highlighter, or `None` when highlighting is off.
    pub highlighter: Option<&'a Highlighter>,
    /// Link resolution.
    pub resolver: &'a dyn Resolve,
    /// The image pipeline, or `None` to publish images as written.
    pub images: Option<&'a dyn Images>,
    /// The site's side of components (templates, aliases, include targets), or `None` for the
    /// built-ins alone with no includes.
    pub components: Option<&'a dyn Components>,
}

/// A file an `<Include>` names, found.
#[derive(Debug, Clone)]
pub struct IncludeSource {
    /// Its content-relative path (its links resolve from here).
    pub rel: String,
    /// Its path for messages.
    pub display: std::path::PathBuf,
    /// Its whole text.
    pub text: std::sync::Arc<str>,
    /// Where its body starts (after any frontmatter).
    pub body_offset: usize,
    /// Whether it is a published page (which reports its own problems).
    pub is_page: bool,
}

/// What an `<Include>`'s target turned out to be.
#[derive(Debug, Clone)]
pub enum IncludeLookup {
    /// A Markdown page or file.
    Found(IncludeSource),
    /// Nothing is there; maybe something close is.
    Missing {
        /// The closest existing target.
        suggestion: Option<String>,
    },
    /// A file that is not Markdown.
    NotMarkdown,
}

/// The site's side of components: its own component templates, its `[components]` aliases and
/// the files includes name.
pub trait Components: Sync {
    /// Whether the site has `templates/components/<name>.html`.
    fn has_template(&self, name: &str) -> bool;
    /// The built-in that `[components]` maps `name` to.
    fn alias(&self, name: &str) -> Option<&str>;
    /// Every name the site knows besides the built-ins (templates and aliases), for suggestions.
    fn names(&self) -> Vec<String>;
    /// Renders the site's template for component `name` in page `page` (content-relative
    /// path), with its attributes and its rendered children.
    fn render_template(
        &self,
        name: &str,
        attrs: serde_json::Map<String, serde_json::Value>,
        body: &str,
        page: &str,
    ) -> Result<String, Error>;
    /// Finds the target of an include in the source at `from`: a page URL (`url`) or a
    /// Markdown file's path (`path`).
    fn include(&self, from: &str, url: Option<&str>, path: Option<&str>) -> IncludeLookup;
}

impl Renderer<'_> {
    /// Renders the body of a page. `text` is the whole source file and `body_offset` where the
    /// body starts in it (so that problems point at the file's real line); `from` is the page's
    /// content-relative path and `display` its path for messages.
    pub fn render(&self, text: &str, body_offset: usize, from: &str, display: &Path) -> Rendered {
        let mut page = Shared {
            search: vec![SearchSection::default()],
            chain: vec![from.to_string()],
            ..Shared::default()
        };
        let mut html = self.render_source(&mut page, text, body_offset, from, display);
        // Every page's body is kept until the site is written: growth slack would be a third of
        // a large site's memory.
        html.shrink_to_fit();
        for section in &mut page.search {
            section.text.shrink_to_fit();
        }
        page.uses.sort();
        page.uses.dedup();
        Rendered {
            html,
            headings: page.headings,
            references: page.references,
            errors: page.errors,
            html_ids: page.html_ids,
            components: page.components,
            raw_urls: page.raw_urls,
            search: std::sync::Arc::new(page.search),
            uses: page.uses,
        }
    }

    /// Renders one source (the page, or a file it includes) into HTML, recording headings,
    /// references and problems in `page`. `from` is the source's content-relative path.
    fn render_source(
        &self,
        page: &mut Shared,
        text: &str,
        body_offset: usize,
        from: &str,
        display: &Path,
    ) -> String {
        let Some(body) = text.get(body_offset..) else {
            return String::new();
        };
        let scan = crate::component::scan(text, body_offset);
        if let Some(scan) = &scan {
            for p in &scan.problems {
                page.errors.push(Error::new(
                    p.kind.clone(),
                    Location::at_offset(display, text, p.offset, p.len),
                ));
            }
        }
        let source = SourceRef {
            text,
            from,
            display,
            scan: scan.as_ref(),
        };
        let body = scan.as_ref().map_or(body, |s| s.text.as_str());
        let mut opts = Options::ENABLE_TABLES
            | Options::ENABLE_FOOTNOTES
            | Options::ENABLE_STRIKETHROUGH
            | Options::ENABLE_TASKLISTS
            | Options::ENABLE_HEADING_ATTRIBUTES
            | Options::ENABLE_GFM;
        if self.options.smart_punctuation {
            opts |= Options::ENABLE_SMART_PUNCTUATION;
        }
        let mut state = State {
            // About one event per 17 bytes of Markdown here: sized once, the list is not
            // copied as it grows, and each page's list fits where the last one was freed.
            out: Vec::with_capacity(body.len() / 12 + 16),
            page: std::mem::take(page),
            heading: None,
            code: None,
            link_is_raw: false,
            image_alt: None,
            pending_image: None,
            suppress: false,
            link_depth: 0,
            raw_links: 0,
            frames: Vec::new(),
        };
        // Explicit ids claim their names first, so an automatic id never takes one. Only a page
        // that can have one pays for the extra pass.
        let explicit: Vec<String> = (if body.contains("{#") {
            Some(body)
        } else {
            None
        })
        .into_iter()
        .flat_map(|body| Parser::new_ext(body, opts))
        .filter_map(|e| match e {
            Event::Start(Tag::Heading { id: Some(id), .. }) => Some(id.to_string()),
            _ => None,
        })
        .collect();
        state.page.ids.extend(explicit.iter().cloned());

        for (event, range) in Parser::new_ext(body, opts).into_offset_iter() {
            let offset = match source.scan {
                Some(scan) => scan.source_offset(range.start),
                None => body_offset + range.start,
            };
            match event {
                Event::Start(Tag::Heading {
                    level,
                    id,
                    classes,
                    attrs,
                }) => {
                    state.heading = Some(HeadingState {
                        offset,
                        level,
                        id: id.map(|s| s.to_string()),
                        classes: classes.iter().map(|c| c.to_string()).collect(),
                        attrs: attrs
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.as_ref().map(|v| v.to_string())))
                            .collect(),
                        events: Vec::new(),
                        text: String::new(),
                    });
                }
                Event::End(TagEnd::Heading(_)) => state.finish_heading(),
                Event::Start(Tag::CodeBlock(kind)) => {
                    let lang = match kind {
                        CodeBlockKind::Fenced(info) => {
                            info.split([' ', ',', '{']).next().unwrap_or("").to_string()
                        }
                        CodeBlockKind::Indented => String::new(),
                    };
                    if let Some(known) = crate::highlight::near_miss(&lang) {
                        // At the name after the fence, on the fence's line.
                        let line = text.get(offset..).and_then(|t| t.lines().next());
                        let at = line.and_then(|l| l.find(lang.as_str())).unwrap_or(0);
                        state.page.errors.push(
                            Error::new(
                                ErrorKind::UnknownLanguage {
                                    name: lang.clone(),
                                    suggestion: known.to_string(),
                                },
                                Location::at_offset(display, text, offset + at, lang.len()),
                            )
                            .warning(),
                        );
                    }
                    state.code = Some((lang, String::new()));
                }
                Event::End(TagEnd::CodeBlock) => {
                    if let Some((lang, code)) = state.code.take() {
                        let html = self.code_block(&lang, &code);
                        state.push(Event::Html(html.into()));
                    }
                }
                Event::Text(t) if state.code.is_some() => {
                    // An indented code block holding a tag: it is text, as written.
                    let t = match source.scan {
                        Some(scan) if t.contains(crate::component::MARKER) => {
                            CowStr::from(restore_tags(&t, scan, text))
                        }
                        _ => t,
                    };
                    state.search_text(&t);
                    if let Some((_, code)) = state.code.as_mut() {
                        code.push_str(&t);
                    }
                }
                Event::Start(Tag::BlockQuote(Some(kind))) => {
                    let (class, title) = callout(kind);
                    state.push(Event::Html(
                        format!(
                            "<div class=\"callout callout-{class}\" role=\"note\"><p class=\"callout-title\">{title}</p>\n"
                        )
                        .into(),
                    ));
                }
                Event::End(TagEnd::BlockQuote(Some(_))) => {
                    state.push(Event::Html("</div>\n".into()))
                }
                Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }) => {
                    let url = self.reference(
                        &mut state,
                        RefKind::Link,
                        link_type,
                        &dest_url,
                        from,
                        text,
                        offset,
                        display,
                    );
                    let external = matches!(
                        link_type,
                        LinkType::Inline
                            | LinkType::Reference
                            | LinkType::Collapsed
                            | LinkType::Shortcut
                            | LinkType::Autolink
                    ) && is_external(&url);
                    state.link_depth += 1;
                    if self.options.external_links_new_tab && external {
                        let mut tag = String::from("<a href=\"");
                        let _ = escape_href(&mut tag, &url);
                        tag.push('"');
                        if !title.is_empty() {
                            tag.push_str(" title=\"");
                            let _ = escape_html(&mut tag, &title);
                            tag.push('"');
                        }
                        tag.push_str(" target=\"_blank\" rel=\"noopener\">");
                        state.link_is_raw = true;
                        state.push(Event::Html(tag.into()));
                    } else {
                        state.push(Event::Start(Tag::Link {
                            link_type,
                            dest_url: url.into(),
                            title,
                            id,
                        }));
                    }
                }
                Event::End(TagEnd::Link) if state.link_is_raw => {
                    state.link_is_raw = false;
                    state.link_depth = state.link_depth.saturating_sub(1);
                    state.push(Event::Html("</a>".into()));
                }
                Event::End(TagEnd::Link) => {
                    state.link_depth = state.link_depth.saturating_sub(1);
                    state.push(Event::End(TagEnd::Link));
                }
                Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                }) => {
                    let url = self.reference(
                        &mut state,
                        RefKind::Image,
                        link_type,
                        &dest_url,
                        from,
                        text,
                        offset,
                        display,
                    );
                    match self.images {
                        Some(images) if images.knows(&url) => {
                            // Its alt text is collected, not rendered: the pipeline writes the tag.
                            state.pending_image = Some(PendingImage {
                                url,
                                title: title.to_string(),
                                dest: dest_url.to_string(),
                                offset,
                            });
                            state.suppress = true;
                        }
                        _ => state.push(Event::Start(Tag::Image {
                            link_type,
                            dest_url: url.into(),
                            title,
                            id,
                        })),
                    }
                    state.image_alt = Some(String::new());
                }
                Event::End(TagEnd::Image) => {
                    let alt = state.image_alt.take();
                    if let (Some(alt), Some(r)) = (alt.as_ref(), state.page.references.last_mut()) {
                        r.alt = Some(alt.clone());
                    }
                    let first = state.page.images_seen == 0;
                    state.page.images_seen += 1;
                    match state.pending_image.take() {
                        Some(img) => {
                            state.suppress = false;
                            let alt = alt.unwrap_or_default();
                            let html = self.images.and_then(|i| {
                                i.image(&img.url, &alt, &img.title, first, state.link_depth > 0)
                            });
                            let html = match html {
                                Some(Ok(html)) => html,
                                other => {
                                    if let Some(Err(problem)) = other {
                                        state.page.errors.push(Error::new(
                                            problem.kind(&img.dest),
                                            target_location(display, text, img.offset, &img.dest),
                                        ));
                                    }
                                    plain_img(&img.url, &alt, &img.title)
                                }
                            };
                            state.push(Event::Html(html.into()));
                        }
                        None => state.push(Event::End(TagEnd::Image)),
                    }
                }
                Event::Html(ref raw) | Event::InlineHtml(ref raw)
                    if source.scan.is_some() && raw.contains(crate::component::MARKER) =>
                {
                    let mut rest: &str = raw;
                    while let Some(i) = rest.find(crate::component::MARKER) {
                        if i > 0 {
                            state.push(Event::Html(rest[..i].to_string().into()));
                        }
                        let marker = source.scan.and_then(|s| s.marker_at(&rest[i..]));
                        match (marker, source.scan) {
                            (Some((n, len)), Some(scan)) => {
                                self.component(&mut state, source, &scan.tags[n]);
                                rest = &rest[i + len..];
                            }
                            _ => {
                                state.push(Event::Html(crate::component::MARKER.into()));
                                rest = &rest[i + crate::component::MARKER.len()..];
                            }
                        }
                    }
                    if !rest.trim().is_empty() {
                        state.push(Event::Html(rest.to_string().into()));
                    }
                }
                Event::Html(ref raw) | Event::InlineHtml(ref raw) => {
                    scan_raw_html(
                        raw,
                        offset,
                        &mut state.page.html_ids,
                        &mut state.page.components,
                        &mut state.page.raw_urls,
                    );
                    state.raw_text(raw);
                    let rewritten = self.raw_images(raw, from, text, offset, display, &mut state);
                    state.raw_links = (state.raw_links + raw_link_balance(raw)).max(0);
                    match rewritten {
                        Some(html) => state.push(Event::Html(html.into())),
                        None => state.push(event),
                    }
                }
                Event::FootnoteReference(label) => {
                    let n = state.footnote_number(&label);
                    let id = footnote_id(&label);
                    // Only the first reference carries the back-link target: ids are unique.
                    let first = state.page.footnote_refs.insert(id.clone());
                    let anchor = if first {
                        state.page.html_ids.push(RawHtmlItem {
                            name: format!("fnref-{id}"),
                            offset,
                        });
                        format!(" id=\"fnref-{id}\"")
                    } else {
                        String::new()
                    };
                    state.push(Event::Html(
                        format!(
                            "<sup class=\"footnote-reference\"><a href=\"#fn-{id}\"{anchor}>{n}</a></sup>"
                        )
                        .into(),
                    ));
                }
                Event::Start(Tag::FootnoteDefinition(label)) => {
                    let n = state.footnote_number(&label);
                    let id = footnote_id(&label);
                    state.page.html_ids.push(RawHtmlItem {
                        name: format!("fn-{id}"),
                        offset,
                    });
                    state.push(Event::Html(
                        format!(
                            "<div class=\"footnote-definition\" id=\"fn-{id}\"><sup class=\"footnote-definition-label\"><a href=\"#fnref-{id}\" aria-label=\"Back to reference {n}\">{n}</a></sup>\n"
                        )
                        .into(),
                    ));
                }
                Event::End(TagEnd::FootnoteDefinition) => {
                    state.push(Event::Html("</div>\n".into()))
                }
                Event::TaskListMarker(done) => {
                    // A bare checkbox has no accessible name; say what it stands for.
                    state.push(Event::Html(
                        if done {
                            "<input type=\"checkbox\" disabled checked aria-label=\"Done\"> "
                        } else {
                            "<input type=\"checkbox\" disabled aria-label=\"Not done\"> "
                        }
                        .into(),
                    ));
                }
                Event::Text(t) => {
                    state.text(&t);
                    state.push(Event::Text(t));
                }
                Event::Code(t) => {
                    state.text(&t);
                    state.push(Event::Code(t));
                }
                other => state.push(other),
            }
        }
        let mut html = String::with_capacity(body.len() * 3 / 2);
        pulldown_cmark::html::push_html(&mut html, state.out.into_iter());
        *page = state.page;
        html
    }

    /// Renders one component tag at its marker: the opening or closing HTML of a built-in, a
    /// site template (at its closing tag, with the children rendered), or an include.
    fn component(&self, state: &mut State<'_>, source: SourceRef<'_>, tag: &crate::component::Tag) {
        use crate::component::TagKind;
        if tag.kind == TagKind::Close {
            self.close(state);
            return;
        }
        let at_tag =
            || Location::at_offset(source.display, source.text, tag.offset, tag.name.len() + 1);
        let kind = match self.components {
            Some(c) if c.has_template(&tag.name) => Kind::Template,
            _ => match crate::config::BUILTIN_COMPONENTS
                .iter()
                .find(|b| **b == tag.name)
                .or_else(|| {
                    let alias = self.components?.alias(&tag.name)?;
                    crate::config::BUILTIN_COMPONENTS
                        .iter()
                        .find(|b| **b == alias)
                }) {
                Some(builtin) => Kind::Builtin(builtin),
                None => Kind::Unknown,
            },
        };
        let frame = match kind {
            Kind::Unknown => {
                let mut known: Vec<String> = crate::config::BUILTIN_COMPONENTS
                    .iter()
                    .map(|b| b.to_string())
                    .collect();
                if let Some(c) = self.components {
                    known.extend(c.names());
                }
                let suggestion = crate::error::closest(&tag.name, known.iter().map(String::as_str))
                    .map(str::to_string);
                state.page.errors.push(Error::new(
                    ErrorKind::UnknownComponent {
                        name: tag.name.clone(),
                        suggestion,
                    },
                    at_tag(),
                ));
                Frame::Close("")
            }
            Kind::Template => {
                state
                    .page
                    .uses
                    .push(format!("components/{}.html", tag.name));
                Frame::Template {
                    name: tag.name.clone(),
                    attrs: tag.attr_map(),
                    start: state.out.len(),
                }
            }
            Kind::Builtin(builtin) => self.builtin(state, source, tag, builtin),
        };
        state.frames.push(frame);
        if tag.kind == TagKind::SelfClosing {
            self.close(state);
        }
    }

    /// Opens built-in `builtin` (the tag may use an alias's name) and says how to close it.
    fn builtin(
        &self,
        state: &mut State<'_>,
        source: SourceRef<'_>,
        tag: &crate::component::Tag,
        builtin: &str,
    ) -> Frame {
        let valid: &[&str] = match builtin {
            "Callout" => &["type", "title"],
            "Include" => &["url", "path"],
            "Tabs" => &["label"],
            "Tab" => &["label"],
            _ => &["summary", "open"],
        };
        for a in &tag.attrs {
            if !valid.contains(&a.name.as_str()) {
                state.page.errors.push(Error::new(
                    ErrorKind::UnknownAttribute {
                        component: tag.name.clone(),
                        attribute: a.name.clone(),
                        suggestion: crate::error::closest(&a.name, valid.iter().copied())
                            .map(str::to_string),
                        valid: valid.join(", "),
                    },
                    Location::at_offset(source.display, source.text, a.offset, a.name.len()),
                ));
            }
        }
        let text_of = |name: &str| tag.attr(name).map(attr_text);
        let invalid = |state: &mut State<'_>, message: String| {
            state.page.errors.push(Error::new(
                ErrorKind::InvalidAttribute {
                    component: tag.name.clone(),
                    message,
                },
                Location::at_offset(source.display, source.text, tag.offset, tag.name.len() + 1),
            ));
        };
        match builtin {
            "Callout" => {
                let kind = text_of("type").unwrap_or_else(|| "note".into());
                let class = match kind.to_ascii_lowercase().as_str() {
                    "note" | "info" => "note",
                    "tip" => "tip",
                    "important" => "important",
                    "warning" => "warning",
                    "caution" | "danger" => "caution",
                    _ => {
                        invalid(
                            state,
                            format!(
                                "`type` is `{kind}`; it is one of note, tip, info, important, warning, caution, danger"
                            ),
                        );
                        "note"
                    }
                };
                let mut html = format!(
                    "<div class=\"callout callout-{class}\" role=\"note\"><p class=\"callout-title\">"
                );
                match text_of("title") {
                    Some(title) => {
                        let _ = escape_html(&mut html, &title);
                    }
                    None => {
                        let mut chars = class.chars();
                        html.extend(chars.next().map(|c| c.to_ascii_uppercase()));
                        html.push_str(chars.as_str());
                    }
                }
                html.push_str("</p>\n");
                state.push(Event::Html(html.into()));
                Frame::Close("</div>\n")
            }
            "Details" => {
                let summary = text_of("summary").unwrap_or_else(|| "Details".into());
                let open = tag
                    .attr("open")
                    .is_some_and(|v| v != &serde_json::Value::Bool(false));
                let mut html = String::from("<details class=\"details\"");
                if open {
                    html.push_str(" open");
                }
                html.push_str("><summary>");
                let _ = escape_html(&mut html, &summary);
                html.push_str("</summary>\n");
                state.push(Event::Html(html.into()));
                Frame::Close("</details>\n")
            }
            "Tabs" => {
                state.page.tab_groups += 1;
                let start = state.out.len();
                state.push(Event::Html("".into()));
                Frame::Tabs {
                    start,
                    labels: Vec::new(),
                    group: state.page.tab_groups,
                    label: text_of("label"),
                    offset: tag.offset,
                }
            }
            "Tab" => {
                let label = text_of("label").unwrap_or_default();
                if label.trim().is_empty() {
                    invalid(state, "a tab needs a `label`".into());
                }
                let Some((group, i)) = state.frames.iter_mut().rev().find_map(|f| match f {
                    Frame::Tabs { labels, group, .. } => {
                        labels.push(label.clone());
                        Some((*group, labels.len() - 1))
                    }
                    _ => None,
                }) else {
                    invalid(state, "`<Tab>` belongs inside `<Tabs>`".into());
                    return Frame::Close("");
                };
                let hidden = if i > 0 { " hidden" } else { "" };
                state.push(Event::Html(
                    format!(
                        "<div class=\"tab-panel\" role=\"tabpanel\" id=\"tab-{group}-{i}-panel\" aria-labelledby=\"tab-{group}-{i}\" tabindex=\"0\"{hidden}>\n"
                    )
                    .into(),
                ));
                Frame::Close("</div>\n")
            }
            _ => {
                self.include(state, source, tag, text_of("url"), text_of("path"));
                Frame::Close("")
            }
        }
    }

    /// Closes the innermost open component.
    fn close(&self, state: &mut State<'_>) {
        let Some(frame) = state.frames.pop() else {
            return;
        };
        match frame {
            Frame::Close(html) => {
                if !html.is_empty() {
                    state.push(Event::Html(html.into()));
                }
            }
            Frame::Tabs {
                start,
                labels,
                group,
                label,
                offset,
            } => {
                let mut html =
                    String::from("<div class=\"tabs\"><div class=\"tab-list\" role=\"tablist\"");
                if let Some(label) = label {
                    html.push_str(" aria-label=\"");
                    let _ = escape_html(&mut html, &label);
                    html.push('"');
                }
                html.push('>');
                for (i, l) in labels.iter().enumerate() {
                    let selected = i == 0;
                    html.push_str(&format!(
                        "<button type=\"button\" role=\"tab\" id=\"tab-{group}-{i}\" aria-controls=\"tab-{group}-{i}-panel\" aria-selected=\"{selected}\"{}>",
                        if selected { "" } else { " tabindex=\"-1\"" }
                    ));
                    let _ = escape_html(&mut html, l);
                    html.push_str("</button>");
                    for id in [format!("tab-{group}-{i}"), format!("tab-{group}-{i}-panel")] {
                        state.page.html_ids.push(RawHtmlItem { name: id, offset });
                    }
                }
                html.push_str("</div>\n");
                if let Some(slot) = state.out.get_mut(start) {
                    *slot = Event::Html(html.into());
                }
                state.push(Event::Html("</div>\n".into()));
            }
            Frame::Template { name, attrs, start } => {
                let children = state.out.split_off(start.min(state.out.len()));
                let mut body = String::new();
                pulldown_cmark::html::push_html(&mut body, children.into_iter());
                let page = state.page.chain.first().cloned().unwrap_or_default();
                let result = match self.components {
                    Some(c) => c.render_template(&name, attrs, &body, &page),
                    None => Ok(body),
                };
                match result {
                    Ok(html) => state.push(Event::Html(html.into())),
                    Err(e) => state.page.errors.push(e),
                }
            }
        }
    }

    /// Renders the target of an include in place.
    fn include(
        &self,
        state: &mut State<'_>,
        source: SourceRef<'_>,
        tag: &crate::component::Tag,
        url: Option<String>,
        path: Option<String>,
    ) {
        let at_tag =
            Location::at_offset(source.display, source.text, tag.offset, tag.name.len() + 1);
        let written = match (&url, &path) {
            (Some(u), None) => u.clone(),
            (None, Some(p)) => p.clone(),
            _ => {
                state.page.errors.push(Error::new(
                    ErrorKind::InvalidAttribute {
                        component: tag.name.clone(),
                        message: "give it either `url` (a page's URL) or `path` (a .md file)"
                            .into(),
                    },
                    at_tag,
                ));
                return;
            }
        };
        let target_at = || target_location(source.display, source.text, tag.offset, &written);
        if state.page.chain.len() > MAX_INCLUDE_DEPTH {
            state.page.errors.push(Error::new(
                ErrorKind::IncludeTooDeep {
                    limit: MAX_INCLUDE_DEPTH,
                },
                at_tag,
            ));
            return;
        }
        let lookup = match self.components {
            Some(c) => c.include(source.from, url.as_deref(), path.as_deref()),
            None => IncludeLookup::Missing { suggestion: None },
        };
        let found = match lookup {
            IncludeLookup::Found(found) => found,
            IncludeLookup::Missing { suggestion } => {
                state.page.errors.push(Error::new(
                    ErrorKind::BrokenLink {
                        target: written.clone(),
                        suggestion,
                    },
                    target_at(),
                ));
                return;
            }
            IncludeLookup::NotMarkdown => {
                state.page.errors.push(Error::new(
                    ErrorKind::IncludeNotMarkdown {
                        target: written.clone(),
                    },
                    target_at(),
                ));
                return;
            }
        };
        if state.page.chain.contains(&found.rel) {
            let mut chain = state.page.chain.clone();
            chain.push(found.rel.clone());
            state.page.errors.push(Error::new(
                ErrorKind::IncludeCycle {
                    chain: chain.join(" → "),
                },
                at_tag,
            ));
            return;
        }
        state.page.uses.push(found.rel.clone());
        let page = &mut state.page;
        let counts = (
            page.headings.len(),
            page.references.len(),
            page.html_ids.len(),
            page.components.len(),
            page.raw_urls.len(),
            page.errors.len(),
        );
        page.chain.push(found.rel.clone());
        let html = self.render_source(
            page,
            &found.text,
            found.body_offset,
            &found.rel,
            &found.display,
        );
        page.chain.pop();
        // What the included file holds is checked where the page shows it: at the tag.
        for h in &mut page.headings[counts.0..] {
            h.offset = tag.offset;
        }
        for r in &mut page.references[counts.1..] {
            r.offset = tag.offset;
        }
        for i in &mut page.html_ids[counts.2..] {
            i.offset = tag.offset;
        }
        for i in &mut page.components[counts.3..] {
            i.offset = tag.offset;
        }
        for i in &mut page.raw_urls[counts.4..] {
            i.offset = tag.offset;
        }
        if found.is_page {
            // A published page reports its own problems; its includers would repeat them.
            page.errors.truncate(counts.5);
        }
        state.push(Event::Html(html.into()));
    }

    #[allow(clippy::too_many_arguments)]
    fn reference(
        &self,
        state: &mut State<'_>,
        kind: RefKind,
        link_type: LinkType,
        dest: &str,
        from: &str,
        text: &str,
        offset: usize,
        display: &Path,
    ) -> String {
        if matches!(link_type, LinkType::Email) {
            return dest.to_string();
        }
        let resolved = self.resolver.resolve(from, dest, kind);
        let url = match &resolved {
            Resolved::Url(u) => u.clone(),
            Resolved::External => dest.to_string(),
            Resolved::CaseMismatch { actual } => {
                let loc = target_location(display, text, offset, dest);
                let target = dest.to_string();
                state.page.errors.push(Error::new(
                    match kind {
                        RefKind::Image => ErrorKind::ImageCaseMismatch {
                            target,
                            actual: actual.clone(),
                        },
                        RefKind::Link => ErrorKind::BrokenLink {
                            target,
                            suggestion: Some(actual.clone()),
                        },
                    },
                    loc,
                ));
                dest.to_string()
            }
            Resolved::Missing { suggestion } => {
                let target = dest.to_string();
                let loc = target_location(display, text, offset, dest);
                let kind = match kind {
                    // Refused before any lookup on disk: the path leaves the site.
                    RefKind::Image if crate::assets::escapes_root(from, dest) => {
                        ErrorKind::ImageOutsideSite { target }
                    }
                    RefKind::Link => ErrorKind::BrokenLink {
                        target,
                        suggestion: suggestion.clone(),
                    },
                    RefKind::Image => ErrorKind::MissingImage {
                        target,
                        suggestion: suggestion.clone(),
                    },
                };
                state.page.errors.push(Error::new(kind, loc));
                dest.to_string()
            }
        };
        state.page.references.push(Reference {
            kind,
            target: dest.to_string(),
            resolved,
            offset,
            alt: None,
        });
        url
    }

    /// Raw HTML with each `<img src>` of an image the pipeline publishes replaced by the
    /// pipeline's tag (its alt and title kept); `None` when nothing changed.
    fn raw_images(
        &self,
        raw: &str,
        from: &str,
        text: &str,
        offset: usize,
        display: &Path,
        state: &mut State<'_>,
    ) -> Option<String> {
        let images = self.images?;
        if !raw.contains("<img") {
            return None;
        }
        let mut out = String::with_capacity(raw.len() * 2);
        let mut last = 0;
        for (i, _) in raw.match_indices("<img") {
            if i < last {
                continue;
            }
            let Some(end) = raw[i..].find('>').map(|e| i + e + 1) else {
                break;
            };
            let tag = &raw[i..end];
            let attr = |name: &str| attribute_values(tag, name).into_iter().next().map(|v| v.0);
            let Some(src) = attr("src") else {
                continue;
            };
            let Resolved::Url(url) = self.resolver.resolve(from, &src, RefKind::Image) else {
                continue;
            };
            let first = state.page.images_seen == 0;
            let alt = attr("alt").unwrap_or_default();
            let title = attr("title").unwrap_or_default();
            let in_link = state.link_depth > 0 || state.raw_links + raw_link_balance(&raw[..i]) > 0;
            match images.image(&url, &alt, &title, first, in_link) {
                Some(Ok(html)) => {
                    state.page.images_seen += 1;
                    out.push_str(&raw[last..i]);
                    out.push_str(&crate::assets::keep_raw_attributes(&html, tag));
                    last = end;
                    // Recorded as an image like a Markdown one (the pipeline makes its
                    // outputs); its `src` is no longer a link to the original file.
                    let at = attribute_values(tag, "src")
                        .first()
                        .map(|(_, p)| offset + i + p);
                    state.page.raw_urls.retain(|u| Some(u.offset) != at);
                    state.page.references.push(Reference {
                        kind: RefKind::Image,
                        target: src.clone(),
                        resolved: Resolved::Url(url.clone()),
                        offset: offset + i,
                        alt: None,
                    });
                }
                Some(Err(problem)) => state.page.errors.push(Error::new(
                    problem.kind(&src),
                    target_location(display, text, offset + i, &src),
                )),
                None => {}
            }
        }
        if last == 0 {
            return None;
        }
        out.push_str(&raw[last..]);
        Some(out)
    }

    fn code_block(&self, lang: &str, code: &str) -> String {
        let mut html = String::with_capacity(code.len() * 2 + 200);
        html.push_str(
            "<div class=\"code-block\"><button type=\"button\" class=\"copy\" aria-label=\"Copy code\">Copy</button><pre class=\"code\"",
        );
        if !lang.is_empty() {
            html.push_str(" data-lang=\"");
            let _ = escape_html(&mut html, lang);
            html.push('"');
        }
        html.push_str(" tabindex=\"0\"><code>");
        match self.highlighter.and_then(|h| h.highlight(lang, code)) {
            Some(highlighted) => html.push_str(&highlighted),
            None => {
                let _ = escape_html(&mut html, code);
            }
        }
        html.push_str("</code></pre></div>\n");
        html
    }
}

/// How deep includes may nest.
pub const MAX_INCLUDE_DEPTH: usize = 16;

/// How a component name resolved.
enum Kind {
    Template,
    Builtin(&'static str),
    Unknown,
}

/// An open component: what its closing tag does.
enum Frame {
    /// Pushes this HTML.
    Close(&'static str),
    /// Writes the tab list into the slot at `start`, once every tab's label is known.
    Tabs {
        start: usize,
        labels: Vec<String>,
        group: usize,
        label: Option<String>,
        offset: usize,
    },
    /// Renders the site's template with the children since `start` as its body.
    Template {
        name: String,
        attrs: serde_json::Map<String, serde_json::Value>,
        start: usize,
    },
}

/// An attribute's value as text: strings as they are, other literals as JSON.
fn attr_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Code text with the markers of `scan` put back as the tags they replaced.
fn restore_tags(code: &str, scan: &crate::component::Scan, text: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(i) = rest.find(crate::component::MARKER) {
        out.push_str(&rest[..i]);
        match scan.marker_at(&rest[i..]) {
            Some((n, len)) => {
                let t = &scan.tags[n];
                out.push_str(text.get(t.offset..t.offset + t.len).unwrap_or(""));
                rest = &rest[i + len..];
            }
            None => {
                out.push_str(crate::component::MARKER);
                rest = &rest[i + crate::component::MARKER.len()..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The location of a link's target: the target text itself when it can be found after the
/// link's start, else the start of the link.
pub(crate) fn target_location(display: &Path, text: &str, offset: usize, dest: &str) -> Location {
    let window_end = (offset + 4096).min(text.len());
    let window_end = (0..=window_end)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(offset);
    match text
        .get(offset..window_end)
        .and_then(|w| if dest.is_empty() { None } else { w.find(dest) })
    {
        Some(i) => Location::at_offset(display, text, offset + i, dest.len()),
        None => Location::at_offset(display, text, offset, 1),
    }
}

/// An image as pulldown-cmark would write it, for images the pipeline does not publish.
fn plain_img(url: &str, alt: &str, title: &str) -> String {
    let mut html = String::from("<img src=\"");
    let _ = escape_href(&mut html, url);
    html.push_str("\" alt=\"");
    let _ = escape_html(&mut html, alt);
    html.push('"');
    if !title.is_empty() {
        html.push_str(" title=\"");
        let _ = escape_html(&mut html, title);
        html.push('"');
    }
    html.push_str(" />");
    html
}

fn is_external(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://") || url.starts_with("//")
}

fn callout(kind: BlockQuoteKind) -> (&'static str, &'static str) {
    match kind {
        BlockQuoteKind::Note => ("note", "Note"),
        BlockQuoteKind::Tip => ("tip", "Tip"),
        BlockQuoteKind::Important => ("important", "Important"),
        BlockQuoteKind::Warning => ("warning", "Warning"),
        BlockQuoteKind::Caution => ("caution", "Caution"),
    }
}

struct HeadingState<'a> {
    offset: usize,
    level: HeadingLevel,
    id: Option<String>,
    classes: Vec<String>,
    attrs: Vec<(String, Option<String>)>,
    events: Vec<Event<'a>>,
    text: String,
}

struct PendingImage {
    url: String,
    title: String,
    dest: String,
    offset: usize,
}

struct State<'a> {
    out: Vec<Event<'a>>,
    /// What the page and the files it includes record together.
    page: Shared,
    heading: Option<HeadingState<'a>>,
    code: Option<(String, String)>,
    link_is_raw: bool,
    image_alt: Option<String>,
    /// An image the pipeline will write, between its start and end events.
    pending_image: Option<PendingImage>,
    /// Events inside such an image are its alt text, not output.
    suppress: bool,
    link_depth: usize,
    /// Links opened in raw HTML (`<a href>`) and not yet closed.
    raw_links: isize,
    /// Components open at this point of the source, innermost last.
    frames: Vec<Frame>,
}

/// What a page's rendering records across the files it includes.
#[derive(Default)]
struct Shared {
    ids: HashSet<String>,
    suffixes: HashMap<String, usize>,
    headings: Vec<Heading>,
    references: Vec<Reference>,
    errors: Vec<Error>,
    footnotes: HashMap<String, usize>,
    footnote_refs: HashSet<String>,
    images_seen: usize,
    html_ids: Vec<RawHtmlItem>,
    components: Vec<RawHtmlItem>,
    raw_urls: Vec<RawHtmlItem>,
    search: Vec<SearchSection>,
    /// Files included and component templates used, at any depth.
    uses: Vec<String>,
    /// The sources being rendered, the page first: an include of one of them is a cycle.
    chain: Vec<String>,
    /// Tab groups so far, for unique ids.
    tab_groups: usize,
}

/// The source being rendered, for locating what is found in it.
#[derive(Clone, Copy)]
struct SourceRef<'s> {
    text: &'s str,
    from: &'s str,
    display: &'s Path,
    scan: Option<&'s crate::component::Scan>,
}

impl<'a> State<'a> {
    /// Prose text: it belongs to the heading being read, or the image's alt text, or else the
    /// current search section.
    fn text(&mut self, t: &str) {
        if let Some(h) = self.heading.as_mut() {
            h.text.push_str(t);
        }
        if let Some(alt) = self.image_alt.as_mut() {
            alt.push_str(t);
            return;
        }
        if self.heading.is_none() {
            self.search_text(t);
        }
    }

    /// The text between the tags of raw HTML (`<details><summary>Why</summary>`), for search.
    /// Comments, scripts, styles and entities are not text.
    fn raw_text(&mut self, raw: &str) {
        if self.heading.is_some() || raw.contains("<script") || raw.contains("<style") {
            return;
        }
        let mut rest = raw;
        while !rest.is_empty() {
            let lt = rest.find('<').unwrap_or(rest.len());
            let text = &rest[..lt];
            if !text.trim().is_empty() {
                let plain: String = text
                    .split('&')
                    .enumerate()
                    .map(|(i, part)| match (i, part.find(';')) {
                        (0, _) | (_, None) => part,
                        (_, Some(semi)) => &part[semi + 1..],
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                self.search_text(&plain);
            }
            rest = &rest[lt..];
            let close = if rest.starts_with("<!--") { "-->" } else { ">" };
            rest = rest.find(close).map_or("", |e| &rest[e + close.len()..]);
        }
    }

    /// Appends `t` to the current search section, whitespace collapsed. Every event starts a
    /// new word, as an element boundary does in the HTML.
    fn search_text(&mut self, t: &str) {
        let Some(section) = self.page.search.last_mut() else {
            return;
        };
        for word in t.split_whitespace() {
            if !section.text.is_empty() {
                section.text.push(' ');
            }
            section.text.push_str(word);
        }
    }

    fn push(&mut self, e: Event<'a>) {
        if self.suppress {
            return;
        }
        match self.heading.as_mut() {
            Some(h) => h.events.push(e),
            None => self.out.push(e),
        }
    }

    /// Footnotes are numbered in order of first mention, reference or definition.
    fn footnote_number(&mut self, label: &str) -> usize {
        let next = self.page.footnotes.len() + 1;
        *self.page.footnotes.entry(label.to_string()).or_insert(next)
    }

    fn finish_heading(&mut self) {
        let Some(h) = self.heading.take() else {
            return;
        };
        let level = h.level as u8;
        let title = h.text.trim().to_string();
        let explicit = h.id.is_some();
        let id = match h.id {
            Some(id) => id,
            None => {
                let base = slugify(&title);
                let mut id = base.clone();
                if self.page.ids.contains(&id) {
                    // Counting per base keeps a page with thousands of equal headings linear.
                    let n = self.page.suffixes.entry(base.clone()).or_insert(0);
                    while self.page.ids.contains(&id) {
                        *n += 1;
                        id = format!("{base}-{n}");
                    }
                }
                self.page.ids.insert(id.clone());
                id
            }
        };
        let mut inner = String::new();
        pulldown_cmark::html::push_html(&mut inner, h.events.into_iter());
        let mut html = format!("<h{level} id=\"");
        let _ = escape_html(&mut html, &id);
        html.push('"');
        if !h.classes.is_empty() {
            html.push_str(" class=\"");
            let _ = escape_html(&mut html, &h.classes.join(" "));
            html.push('"');
        }
        for (k, v) in &h.attrs {
            html.push(' ');
            let _ = escape_html(&mut html, k);
            if let Some(v) = v {
                html.push_str("=\"");
                let _ = escape_html(&mut html, v);
                html.push('"');
            }
        }
        html.push('>');
        html.push_str(&inner);
        if level >= 2 {
            html.push_str(" <a class=\"anchor\" href=\"#");
            let _ = escape_href(&mut html, &id);
            html.push_str("\" aria-label=\"Link to this section\">#</a>");
        }
        html.push_str("</h");
        html.push(char::from(b'0' + level));
        html.push_str(">\n");
        self.out.push(Event::Html(CowStr::from(html)));
        // h2 and h3 start a search section; other headings are text of the current one.
        if level == 2 || level == 3 {
            self.page.search.push(SearchSection {
                heading: title.clone(),
                anchor: id.clone(),
                text: String::new(),
            });
        } else {
            self.search_text(&title);
        }
        self.page.headings.push(Heading {
            level,
            id,
            title,
            offset: h.offset,
            explicit,
        });
    }
}

/// Links opened (`<a ...>`) minus links closed (`</a>`) in a piece of raw HTML.
fn raw_link_balance(raw: &str) -> isize {
    let mut balance = 0;
    for (i, _) in raw.match_indices('<') {
        let rest = &raw.as_bytes()[i + 1..];
        match rest {
            [b'a' | b'A', c, ..] if c.is_ascii_whitespace() || *c == b'>' => balance += 1,
            [b'/', b'a' | b'A', c, ..] if c.is_ascii_whitespace() || *c == b'>' => balance -= 1,
            _ => {}
        }
    }
    balance
}

/// Finds `id` attributes and capitalised tags in a piece of raw HTML.
fn scan_raw_html(
    raw: &str,
    offset: usize,
    ids: &mut Vec<RawHtmlItem>,
    components: &mut Vec<RawHtmlItem>,
    urls: &mut Vec<RawHtmlItem>,
) {
    for (i, _) in raw.match_indices('<') {
        let name: String = raw[i + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
            .collect();
        if name.starts_with(|c: char| c.is_ascii_uppercase()) {
            components.push(RawHtmlItem {
                name,
                offset: offset + i,
            });
        }
    }
    for (value, i) in attribute_values(raw, "id") {
        ids.push(RawHtmlItem {
            name: value,
            offset: offset + i,
        });
    }
    for attr in ["src", "href"] {
        for (value, i) in attribute_values(raw, attr) {
            urls.push(RawHtmlItem {
                name: value,
                offset: offset + i,
            });
        }
    }
}

/// Values of attribute `name` in raw HTML, with their byte positions.
fn attribute_values(raw: &str, name: &str) -> Vec<(String, usize)> {
    let bytes = raw.as_bytes();
    let pattern = format!("{name}=");
    let mut out = Vec::new();
    for (i, _) in raw.match_indices(&pattern) {
        // Only a whole attribute name: `data-id=` or `grid=` are not ids.
        let before = if i == 0 { b' ' } else { bytes[i - 1] };
        if !before.is_ascii_whitespace() {
            continue;
        }
        let rest = &raw[i + pattern.len()..];
        let (quote, rest) = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => (Some(q), &rest[1..]),
            _ => (None, rest),
        };
        let value: String = match quote {
            Some(q) => rest.chars().take_while(|&c| c != q).collect(),
            None => rest
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '>')
                .collect(),
        };
        if !value.is_empty() {
            out.push((value, i));
        }
    }
    out
}

/// Footnote ids get a prefix so that `[^1]` can never collide with a heading id.
fn footnote_id(label: &str) -> String {
    let mut id = String::new();
    let _ = escape_html(&mut id, &slugify(label));
    id
}

/// A GitHub-style heading id: lowercase, letters, digits, `-` and `_` kept, spaces to `-`,
/// everything else dropped. Non-ASCII letters are kept as they are.
pub fn slugify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.trim().chars() {
        if c.is_ascii() {
            // Most headings are ASCII: the same rules without Unicode's case tables.
            match c {
                'A'..='Z' => out.push(c.to_ascii_lowercase()),
                'a'..='z' | '0'..='9' | '-' | '_' => out.push(c),
                ' ' => out.push('-'),
                _ => {}
            }
        } else if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        }
    }
    if out.is_empty() {
        out.push_str("section");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoLinks;
    impl Resolve for NoLinks {
        fn resolve(&self, _from: &str, target: &str, _kind: RefKind) -> Resolved {
            if target.contains("missing") {
                Resolved::Missing {
                    suggestion: Some("./found.md".into()),
                }
            } else if let Some((path, frag)) = target.split_once(".md") {
                Resolved::Url(format!("/{}/{frag}", path.trim_start_matches("./")))
            } else {
                Resolved::External
            }
        }
    }

    fn render(md: &str) -> Rendered {
        let options = MarkdownOptions::default();
        let r = Renderer {
            options: &options,
            highlighter: None,
            resolver: &NoLinks,
            images: None,
            components: None,
        };
        r.render(md, 0, "a.md", Path::new("content/a.md"))
    }

    #[test]
    fn github_slugs() {
        assert_eq!(slugify("Step 1 - Setting up"), "step-1---setting-up");
        assert_eq!(slugify("What's new? (v2.0)"), "whats-new-v20");
        assert_eq!(slugify("Über café"), "über-café");
        assert_eq!(slugify("!!!"), "section");
    }

    #[test]
    fn ascii_slugs_follow_the_unicode_rules() {
        // The rules as first written, for every character alone and between two others.
        let rules = |text: &str| {
            let mut out = String::new();
            for c in text.trim().chars() {
                if c.is_alphanumeric() || c == '-' || c == '_' {
                    out.extend(c.to_lowercase());
                } else if c == ' ' {
                    out.push('-');
                }
            }
            if out.is_empty() {
                out.push_str("section");
            }
            out
        };
        for c in (0..0x3000).filter_map(char::from_u32) {
            for text in [c.to_string(), format!("A {c}b"), format!("x{c}{c} Y")] {
                assert_eq!(slugify(&text), rules(&text), "{text:?}");
            }
        }
    }

    #[test]
    fn heading_ids_are_unique_and_explicit_ids_win() {
        let r = render("## Intro\n\n## Intro\n\n## Other {#intro-1}\n");
        let ids: Vec<_> = r.headings.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["intro", "intro-2", "intro-1"]);
        assert!(
            r.html
                .contains("<h2 id=\"intro\">Intro <a class=\"anchor\" href=\"#intro\"")
        );
    }

    #[test]
    fn alerts_become_callouts() {
        let r = render("> [!WARNING]\n> Careful.\n");
        assert!(
            r.html
                .contains("<div class=\"callout callout-warning\" role=\"note\">"),
            "{}",
            r.html
        );
        assert!(r.html.contains("Careful."));
    }

    #[test]
    fn template_syntax_is_printed_as_written() {
        let r = render("Use {{DB_NAME}} and {% raw %}.\n");
        assert!(r.html.contains("{{DB_NAME}}"));
        assert!(r.html.contains("{% raw %}"));
    }

    #[test]
    fn md_links_are_rewritten_and_broken_ones_reported_at_their_line() {
        let r = render("See [x](./github.md#step-2).\n\nAnd [y](./missing.md).\n");
        assert!(r.html.contains("href=\"/github/#step-2\""), "{}", r.html);
        assert_eq!(r.errors.len(), 1);
        assert_eq!(r.errors[0].location.line, 3);
        assert_eq!(r.errors[0].location.column, 9);
    }

    #[test]
    fn code_blocks_get_copy_button_and_escaping() {
        let r = render("```html\n<b>x</b>\n```\n");
        assert!(r.html.contains("class=\"copy\""));
        assert!(r.html.contains("&lt;b&gt;"));
    }

    #[test]
    fn search_sections_split_at_h2_and_h3_and_keep_prose_only() {
        let r = render(
            "Intro *with* `code`.\n\n![alt words](x.png)\n\n## Step one\n\nBody <kbd>Ctrl</kbd> &amp; more.\n\n<details><summary>Why</summary>Because &amp; so</details>\n\n#### Minor\n\n```sh\nrun it\n```\n\n### Step two {#two}\n\nEnd.\n",
        );
        let got: Vec<(&str, &str, &str)> = r
            .search
            .iter()
            .map(|s| (s.heading.as_str(), s.anchor.as_str(), s.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("", "", "Intro with code ."),
                (
                    "Step one",
                    "step-one",
                    "Body Ctrl & more. Why Because so Minor run it"
                ),
                ("Step two", "two", "End."),
            ]
        );
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let md = "> ".repeat(10_000) + "x\n";
        let r = render(&md);
        assert!(r.html.contains('x'));
        let md = (0..10_000)
            .map(|i| format!("{}- x\n", "  ".repeat(i)))
            .collect::<String>();
        let r = render(&md);
        assert!(r.html.contains("<li>"));
    }
}
