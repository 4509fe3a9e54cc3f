//! The theme: Tera templates and the CSS/JS/icon they link, built into the binary and
//! overridable file by file from the site's `templates/` and `static/` folders.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::error::{Error, ErrorKind, Location};

/// The built-in templates, by name.
pub const BUILTIN_TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("page.html", include_str!("../templates/page.html")),
    ("section.html", include_str!("../templates/section.html")),
    ("index.html", include_str!("../templates/index.html")),
    ("404.html", include_str!("../templates/404.html")),
    ("redirect.html", include_str!("../templates/redirect.html")),
    (
        "partials/sidebar.html",
        include_str!("../templates/partials/sidebar.html"),
    ),
    (
        "partials/breadcrumbs.html",
        include_str!("../templates/partials/breadcrumbs.html"),
    ),
    (
        "partials/page-footer.html",
        include_str!("../templates/partials/page-footer.html"),
    ),
    (
        "partials/listing.html",
        include_str!("../templates/partials/listing.html"),
    ),
    (
        "partials/verify.html",
        include_str!("../templates/partials/verify.html"),
    ),
];

/// The built-in theme files published at the site root, by name.
pub const BUILTIN_STATIC: &[(&str, &[u8])] = &[
    ("docsite.css", include_bytes!("../static/docsite.css")),
    ("docsite.js", include_bytes!("../static/docsite.js")),
    ("favicon.svg", include_bytes!("../static/favicon.svg")),
    ("verify.js", include_bytes!("../static/verify.js")),
    ("search.js", include_bytes!("../static/search.js")),
    ("tabs.js", include_bytes!("../static/tabs.js")),
];

/// The built-in theme files as published: the CSS and JS minified, which keeps what a page
/// downloads of the theme under the 40 KB budget (README, "Theme quality"). Worked out once per
/// process: the inputs are constants, and a preview server would otherwise redo it per edit.
pub fn builtin_static() -> &'static [(&'static str, Vec<u8>)] {
    static PUBLISHED: OnceLock<Vec<(&'static str, Vec<u8>)>> = OnceLock::new();
    PUBLISHED.get_or_init(|| {
        BUILTIN_STATIC
            .iter()
            .map(|(name, bytes)| (*name, minify(name, bytes)))
            .collect()
    })
}

/// `bytes` minified when `name` is a stylesheet or a script; anything else, or text the
/// minifier cannot read, as it is (a file that is only larger still works).
pub fn minify(name: &str, bytes: &[u8]) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return bytes.to_vec();
    };
    let out = if name.ends_with(".css") {
        minifier::css::minify(text)
            .ok()
            .map(|m| without_last_semicolons(&m.to_string()))
    } else if name.ends_with(".js") {
        minifier::js::minify(text)
            .ok()
            .map(|m| without_last_semicolons(&m.to_string()))
    } else {
        None
    };
    out.map_or_else(|| bytes.to_vec(), String::into_bytes)
}

/// Loaded templates plus the URLs of the theme's assets.
pub struct Theme {
    /// The template engine with every template loaded.
    pub tera: tera::Tera,
    /// Where each template came from, for messages.
    origins: Vec<(String, PathBuf)>,
    /// Each template's text, for excerpts in messages.
    sources: Vec<(String, String)>,
}

impl std::fmt::Debug for Theme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Theme").finish_non_exhaustive()
    }
}

impl Theme {
    /// Every template's name and text (the site's own file where it replaces a built-in one).
    pub fn template_sources(&self) -> impl Iterator<Item = (&str, &str)> {
        self.sources.iter().map(|(n, t)| (n.as_str(), t.as_str()))
    }

    /// Loads the built-in templates, replaced by any file of the same name under
    /// `templates_dir` (which may not exist). `root` is the site root, for messages.
    pub fn load(root: &Path, templates_dir: &Path) -> Result<Theme, Vec<Error>> {
        let mut sources: Vec<(String, String)> = BUILTIN_TEMPLATES
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        let mut origins: Vec<(String, PathBuf)> = BUILTIN_TEMPLATES
            .iter()
            .map(|(n, _)| {
                (
                    n.to_string(),
                    PathBuf::from(format!("(built-in theme)/{n}")),
                )
            })
            .collect();
        let mut errors = Vec::new();
        if templates_dir.is_dir() {
            for entry in walkdir::WalkDir::new(templates_dir).sort_by_file_name() {
                let entry = match entry {
                    Ok(e) => e,
                    Err(e) => {
                        errors.push(Error::new(
                            ErrorKind::Io {
                                action: "reading templates",
                                message: e.to_string(),
                            },
                            Location::file(e.path().unwrap_or(templates_dir)),
                        ));
                        continue;
                    }
                };
                if !entry.file_type().is_file() {
                    continue;
                }
                let path = entry.path();
                let Some(name) = path
                    .strip_prefix(templates_dir)
                    .ok()
                    .and_then(|p| p.to_str())
                    .map(|p| p.replace('\\', "/"))
                else {
                    continue;
                };
                if !(name.ends_with(".html") || name.ends_with(".xml")) {
                    continue;
                }
                let display = path.strip_prefix(root).unwrap_or(path).to_path_buf();
                let text = match std::fs::read(path) {
                    Ok(b) => match crate::content::decode(b, &display) {
                        Ok(t) => t,
                        Err(e) => {
                            errors.push(e);
                            continue;
                        }
                    },
                    Err(e) => {
                        errors.push(Error::io("reading", &display, &e));
                        continue;
                    }
                };
                match sources.iter().position(|(n, _)| *n == name) {
                    Some(i) => {
                        sources[i].1 = text;
                        origins[i].1 = display;
                    }
                    None => {
                        sources.push((name.clone(), text));
                        origins.push((name, display));
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut tera = tera::Tera::new();
        tera.autoescape_on(vec![".html", ".xml"]);
        tera.register_filter("safe", safe);
        if let Err(e) =
            tera.add_raw_templates(sources.iter().map(|(n, t)| (n.as_str(), t.as_str())))
        {
            let theme = Theme {
                tera: tera::Tera::new(),
                origins,
                sources,
            };
            return Err(vec![theme.error(&e, None)]);
        }
        Ok(Theme {
            tera,
            origins,
            sources,
        })
    }

    /// Whether a template of that name exists.
    pub fn has(&self, name: &str) -> bool {
        self.tera.contains_template(name)
    }

    /// Renders a template.
    pub fn render(&self, name: &str, ctx: &tera::Context) -> Result<String, Error> {
        self.tera
            .render(name, ctx)
            .map_err(|e| self.error(&e, Some(name)))
    }

    /// Renders a template at the end of `out`.
    pub fn render_to(
        &self,
        name: &str,
        ctx: &tera::Context,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        self.tera
            .render_to(name, ctx, out)
            .map_err(|e| self.error(&e, Some(name)))
    }

    /// The length of every template's text together: more than any document prints of them.
    pub fn text_len(&self) -> usize {
        self.sources.iter().map(|(_, t)| t.len()).sum()
    }

    /// A Tera error as one of ours, located in the template file when Tera says where.
    fn error(&self, e: &tera::Error, name: Option<&str>) -> Error {
        let sources = &self.sources;
        let origin = |n: &str| {
            self.origins
                .iter()
                .find(|(o, _)| o == n)
                .map_or_else(|| PathBuf::from(n), |(_, p)| p.clone())
        };
        match e.kind() {
            tera::ErrorKind::SyntaxError(r) | tera::ErrorKind::RenderingError(r) => {
                let file = if r.filename().is_empty() {
                    name.unwrap_or("")
                } else {
                    r.filename()
                };
                let span = r.span();
                let source = sources
                    .iter()
                    .find(|(n, _)| n == file)
                    .map_or("", |(_, t)| t.as_str());
                let path = origin(file);
                let mut loc = Location::at_line(&path, source, span.start_line, span.start_col + 1);
                if span.end_line == span.start_line && span.end_col > span.start_col {
                    loc.len = span.end_col - span.start_col;
                }
                Error::new(
                    ErrorKind::Template {
                        template: file.to_string(),
                        message: r.message().to_string(),
                    },
                    loc,
                )
            }
            other => {
                // Checks made after parsing (inheritance, blocks) come as one message holding
                // rendered reports; their first `--> name:line:col` says where.
                let text = other.to_string();
                let located = text.lines().find_map(|l| {
                    let rest = l.trim_start().strip_prefix("--> ")?;
                    let mut parts = rest.rsplitn(3, ':');
                    let col: usize = parts.next()?.parse().ok()?;
                    let line: usize = parts.next()?.parse().ok()?;
                    Some((parts.next()?.to_string(), line, col))
                });
                let message = text
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim_start_matches("error: ")
                    .to_string();
                let (file, loc) = match located {
                    Some((file, line, col)) => {
                        let source = sources
                            .iter()
                            .find(|(n, _)| *n == file)
                            .map_or("", |(_, t)| t.as_str());
                        let loc = Location::at_line(origin(&file), source, line, col);
                        (file, loc)
                    }
                    None => {
                        let file = name.unwrap_or("").to_string();
                        let loc = Location::file(origin(&file));
                        (file, loc)
                    }
                };
                Error::new(
                    ErrorKind::Template {
                        template: file,
                        message,
                    },
                    loc,
                )
            }
        }
    }
}

/// Tera's `safe` filter without its copy: the built-in one copies the string to mark it, and
/// every page passes its body and its sidebar through it. A string is marked as it is; anything
/// else is printed and marked, as the built-in filter does.
fn safe(value: tera::Value, _: tera::Kwargs, _: &tera::State) -> tera::Value {
    if value.is_string() {
        value.mark_safe()
    } else {
        tera::Value::safe_string(&value.to_string())
    }
}

/// A short content hash for cache-busting URLs.
pub fn short_hash(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex()[..10].to_string()
}

/// Minified CSS or JS without a `;` right before a `}`, which the minifiers keep: a block's last
/// declaration or statement needs none (in JS, `}` ends a statement as a line break does). About
/// 400 bytes of the built-in theme's, toward its budget. Quoted strings (and JS template
/// literals) are copied as they are; the built-in scripts have no regular expression with a
/// quote in it, which this does not tell from a string (a test checks that).
fn without_last_semicolons(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut quote = None;
    let mut chars = css.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == '\\' {
                    out.extend(chars.next());
                } else if c == q {
                    quote = None;
                }
            }
            None => {
                if c == '"' || c == '\'' || c == '`' {
                    quote = Some(c);
                } else if c == ';' && chars.peek() == Some(&'}') {
                    continue;
                }
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_theme_loads() {
        let dir = tempfile::tempdir().unwrap();
        let theme = Theme::load(dir.path(), &dir.path().join("templates")).unwrap();
        for (name, _) in BUILTIN_TEMPLATES {
            assert!(theme.has(name), "{name}");
        }
    }

    #[test]
    fn builtin_css_and_js_are_published_minified() {
        for (name, published) in builtin_static() {
            let source = BUILTIN_STATIC.iter().find(|(n, _)| n == name).unwrap().1;
            if name.ends_with(".css") || name.ends_with(".js") {
                assert!(
                    published.len() * 10 < source.len() * 9,
                    "{name}: {} of {} bytes",
                    published.len(),
                    source.len()
                );
                // The key the inline script in base.html shares with docsite.js.
                let text = std::str::from_utf8(published).unwrap();
                // Every `;` before a `}` is gone, and nothing else: no string or regular
                // expression of the built-in files holds ";}".
                let source = std::str::from_utf8(source).unwrap();
                let plain = if name.ends_with(".css") {
                    minifier::css::minify(source).unwrap().to_string()
                } else {
                    minifier::js::minify(source).unwrap().to_string()
                };
                assert_eq!(text, plain.replace(";}", "}"), "{name}");
                if *name == "docsite.js" {
                    assert!(text.contains("\"docsite-theme\""), "{text}");
                }
            } else {
                assert_eq!(published.as_slice(), source, "{name} is published as it is");
            }
        }
        assert_eq!(minify("x.css", b"\xff{"), b"\xff{", "not UTF-8: as it is");
        assert_eq!(
            without_last_semicolons(r#"a{b:c;d:e;}f::after{content:";}";}g{h:'\';}'}"#),
            r#"a{b:c;d:e}f::after{content:";}"}g{h:'\';}'}"#
        );
    }

    #[test]
    fn safe_filter_prints_what_the_built_in_one_prints() {
        let template = "{{ x | safe }}|{{ x }}|{{ x | safe | upper }}|{{ x | safe | length }}";
        let engines: Vec<tera::Tera> = [false, true]
            .into_iter()
            .map(|ours| {
                let mut tera = tera::Tera::new();
                tera.autoescape_on(vec![".html"]);
                if ours {
                    tera.register_filter("safe", safe);
                }
                tera.add_raw_template("t.html", template).unwrap();
                tera
            })
            .collect();
        let values = [
            serde_json::json!("<b>&amp;</b>"),
            serde_json::json!(5),
            serde_json::json!(2.5),
            serde_json::json!(true),
            serde_json::json!(null),
            serde_json::json!(["<a>", 1]),
            serde_json::json!({"k": "<v>"}),
        ];
        for value in values {
            let mut ctx = tera::Context::new();
            ctx.insert("x", &value);
            let out: Vec<_> = engines
                .iter()
                .map(|t| t.render("t.html", &ctx).map_err(|e| e.to_string()))
                .collect();
            assert_eq!(out[0], out[1], "{value}");
        }
    }

    #[test]
    fn override_syntax_error_points_at_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("templates");
        std::fs::create_dir_all(&t).unwrap();
        std::fs::write(t.join("page.html"), "<p>ok</p>\n{% if %}\n").unwrap();
        let errs = Theme::load(dir.path(), &t).unwrap_err();
        assert_eq!(errs[0].kind.code(), "template");
        assert_eq!(errs[0].location.path, Path::new("templates/page.html"));
        assert_eq!(errs[0].location.line, 2);
    }
}
