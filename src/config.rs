//! `docsite.toml`: the site's settings. Optional; every key has a default.
//!
//! Unknown keys are errors that name the key, its line and the closest valid key: a misspelt
//! setting that is silently ignored is worse than no setting at all.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, ErrorKind, Location, closest};

/// The file name of the configuration, at the site root.
pub const CONFIG_FILE: &str = "docsite.toml";

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The site's name, shown in the header and in every `<title>`.
    pub title: String,
    /// The site's description, the meta description of pages that have none.
    pub description: String,
    /// Where the site is published, e.g. `https://example.org/handbook/`, or `/`.
    pub base_url: String,
    /// The `lang` of every page.
    pub language: String,
    /// Where sources and outputs live, relative to the site root.
    pub folders: Folders,
    /// How Markdown is rendered.
    pub markdown: MarkdownOptions,
    /// Options of the built-in theme.
    pub theme: ThemeOptions,
    /// Options of the checker.
    pub check: CheckOptions,
    /// Options of the setup verifier.
    pub verify: VerifyConfig,
    /// How images are turned into responsive WebP.
    pub images: ImageOptions,
    /// Hand-ordered navigation files.
    pub nav: NavOptions,
    /// How links to the rest of the website are treated.
    pub links: LinkOptions,
    /// `[components]`: component names mapped to a built-in (`HintBlock = "Callout"`).
    pub components: std::collections::BTreeMap<String, String>,
}

/// The built-in components, the names `[components]` may map to.
pub const BUILTIN_COMPONENTS: &[&str] = &["Callout", "Include", "Tabs", "Tab", "Details"];

impl Default for Config {
    fn default() -> Self {
        Config {
            title: "docsite".into(),
            description: String::new(),
            base_url: "/".into(),
            language: "en".into(),
            folders: Folders::default(),
            markdown: MarkdownOptions::default(),
            theme: ThemeOptions::default(),
            check: CheckOptions::default(),
            verify: VerifyConfig::default(),
            images: ImageOptions::default(),
            nav: NavOptions::default(),
            links: LinkOptions::default(),
            components: Default::default(),
        }
    }
}

/// `[nav]`: the file a section's sidebar order is read from (see the `nav` module).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NavOptions {
    /// The navigation file's name, looked for in every section folder. It starts with `_` by
    /// default so that it is never published as a page.
    pub file: String,
}

impl Default for NavOptions {
    fn default() -> Self {
        NavOptions {
            file: "_nav.md".into(),
        }
    }
}

/// `[links]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkOptions {
    /// Site-absolute path prefixes served by another part of the same website (`/blog/`,
    /// `/pricing`): links under them are neither checked against the pages nor given the base
    /// path.
    pub outside: Vec<String>,
}

impl LinkOptions {
    /// Whether a site-absolute path (`/blog/post?x#y`) belongs to another part of the website.
    /// A prefix ending with `/` takes everything under it (and the folder without its slash);
    /// any other prefix takes that path and what is under it, not `/pricingx`.
    pub fn is_outside(&self, target: &str) -> bool {
        if !target.starts_with('/') || target.starts_with("//") {
            return false;
        }
        let path = target.split(['#', '?']).next().unwrap_or(target);
        self.outside.iter().any(|prefix| {
            let bare = prefix.trim_end_matches('/');
            match path.strip_prefix(bare) {
                Some(rest) => !bare.is_empty() && (rest.is_empty() || rest.starts_with('/')),
                None => false,
            }
        })
    }
}

/// `[folders]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Folders {
    /// Markdown pages and their assets.
    pub content: PathBuf,
    /// Template overrides.
    pub templates: PathBuf,
    /// Files copied as they are.
    pub r#static: PathBuf,
    /// Where `docsite build` writes the site.
    pub output: PathBuf,
    /// Cache of derived files; safe to delete.
    pub cache: PathBuf,
}

impl Default for Folders {
    fn default() -> Self {
        Folders {
            content: "content".into(),
            templates: "templates".into(),
            r#static: "static".into(),
            output: "public".into(),
            cache: ".docsite-cache".into(),
        }
    }
}

/// `[markdown]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarkdownOptions {
    /// Highlight fenced code at build time.
    pub highlight: bool,
    /// Curly quotes and dashes.
    pub smart_punctuation: bool,
    /// Open links to other sites in a new tab.
    pub external_links_new_tab: bool,
}

impl Default for MarkdownOptions {
    fn default() -> Self {
        MarkdownOptions {
            highlight: true,
            smart_punctuation: false,
            external_links_new_tab: false,
        }
    }
}

/// `[theme]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThemeOptions {
    /// How many entries of one section the sidebar shows at once; bigger sections show the
    /// window around the current page and a link to the section's full list. Keeps every page's
    /// size independent of the size of the site.
    pub sidebar_page_size: usize,
    /// Prefix of "Edit this page" links; the page's path under `content/` is appended.
    pub edit_url: String,
    /// Footer text.
    pub footer: String,
}

impl Default for ThemeOptions {
    fn default() -> Self {
        ThemeOptions {
            sidebar_page_size: 50,
            edit_url: String::new(),
            footer: String::new(),
        }
    }
}

/// `[images]`: the WebP pipeline (see the `assets` module).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ImageOptions {
    /// Process images at all; `false` publishes them as they are.
    pub enabled: bool,
    /// Widths of the resized copies offered in `srcset` (none wider than 80% of the source).
    pub widths: Vec<u32>,
    /// Quality of lossy WebP (photos, resized copies, screenshots where lossy is much smaller).
    pub quality: f32,
    /// libwebp's effort (0 fastest to 6 smallest) for lossless and lossy encoding.
    pub method: i32,
    /// libwebp's effort for the resized copies. Lower than `method` by default: from 3 up,
    /// libwebp spends a third more CPU on rate-distortion choices that made copies of
    /// screenshots only about 1% smaller.
    pub copy_method: i32,
    /// libwebp's lossless effort (its `-q` in lossless mode).
    pub lossless_quality: f32,
    /// An image with more distinct colours than this is a photo and is encoded lossy.
    pub photo_colors: u32,
    /// A lossy full-size screenshot is used when it is under this fraction of the lossless one.
    pub lossy_ratio: f32,
    /// Images with more pixels than this are refused before decoding (decompression bombs).
    pub max_pixels: u64,
    /// The `sizes` attribute: how wide the image is shown, for the browser's `srcset` choice.
    pub sizes: String,
    /// Cache entries no build has used for this many days are deleted.
    pub cache_days: u64,
}

impl Default for ImageOptions {
    fn default() -> Self {
        ImageOptions {
            enabled: true,
            widths: vec![480, 960, 1440],
            quality: 80.0,
            method: 4,
            copy_method: 2,
            lossless_quality: 75.0,
            photo_colors: 65_536,
            lossy_ratio: 0.5,
            max_pixels: 100_000_000,
            sizes: "(min-width: 50rem) 45rem, 100vw".into(),
            cache_days: 30,
        }
    }
}

/// `[check]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CheckOptions {
    /// Severity per finding code, e.g. `{ "missing-alt" = "warning", "orphan-page" = "off" }`.
    pub severity: std::collections::BTreeMap<String, Level>,
}

/// `[verify]`: what the setup verifier may contact and how many flows it keeps.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerifyConfig {
    /// Allow providers on loopback addresses, over plain http too. For testing only.
    pub allow_insecure_loopback: bool,
    /// Private networks (CIDR, e.g. `10.20.0.0/16`) a self-managed provider may be on.
    pub allow_networks: Vec<String>,
    /// Seconds a verification waits for the provider's callback.
    pub flow_seconds: u64,
    /// How many verifications may wait at once.
    pub max_pending: usize,
    /// How many verifications one client address may start per minute.
    pub starts_per_minute: u32,
    /// The address people reach the server at, when a proxy is in front, e.g. `https://docs.example.com`.
    pub public_url: String,
    /// A PEM file of extra certificate authorities to trust (a self-managed provider's private CA),
    /// relative to the site root.
    pub ca_bundle: String,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        VerifyConfig {
            allow_insecure_loopback: false,
            allow_networks: Vec::new(),
            flow_seconds: 600,
            max_pending: 10_000,
            starts_per_minute: 30,
            public_url: String::new(),
            ca_bundle: String::new(),
        }
    }
}

/// A configured severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Fails the build.
    Error,
    /// Reported only.
    Warning,
    /// Not reported.
    Off,
}

/// Every valid key, by table, for unknown-key detection.
const SCHEMA: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "title",
            "description",
            "base_url",
            "language",
            "folders",
            "markdown",
            "theme",
            "check",
            "verify",
            "images",
            "nav",
            "links",
            "components",
        ],
    ),
    ("check", &["severity"]),
    ("nav", &["file"]),
    ("links", &["outside"]),
    (
        "folders",
        &["content", "templates", "static", "output", "cache"],
    ),
    (
        "markdown",
        &["highlight", "smart_punctuation", "external_links_new_tab"],
    ),
    ("theme", &["sidebar_page_size", "edit_url", "footer"]),
    (
        "verify",
        &[
            "allow_insecure_loopback",
            "allow_networks",
            "flow_seconds",
            "max_pending",
            "starts_per_minute",
            "public_url",
            "ca_bundle",
        ],
    ),
    (
        "images",
        &[
            "enabled",
            "widths",
            "quality",
            "method",
            "copy_method",
            "lossless_quality",
            "photo_colors",
            "lossy_ratio",
            "max_pixels",
            "sizes",
            "cache_days",
        ],
    ),
];

impl Config {
    /// Loads `docsite.toml` from `root`, or the defaults when there is none.
    pub fn load(root: &Path) -> Result<Config, Vec<Error>> {
        let path = root.join(CONFIG_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let text = String::from_utf8(bytes).map_err(|e| {
                    vec![Error::new(
                        ErrorKind::InvalidUtf8 {
                            offset: e.utf8_error().valid_up_to(),
                        },
                        Location::file(CONFIG_FILE),
                    )]
                })?;
                Config::parse(&text, Path::new(CONFIG_FILE))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(vec![Error::io("reading", Path::new(CONFIG_FILE), &e)]),
        }
    }

    /// Parses the text of a configuration file; `path` is used in error locations.
    pub fn parse(text: &str, path: &Path) -> Result<Config, Vec<Error>> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let doc = toml::de::DeTable::parse(text).map_err(|e| vec![toml_error(&e, text, path)])?;
        let mut errors = Vec::new();
        check_keys(doc.get_ref(), "", text, path, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        let config: Config = toml::from_str(text).map_err(|e| vec![toml_error(&e, text, path)])?;
        config.validate(text, path)?;
        Ok(config)
    }

    fn validate(&self, text: &str, path: &Path) -> Result<(), Vec<Error>> {
        let mut errors = Vec::new();
        let at_key = |key: &str| {
            let line = text
                .lines()
                .position(|l| l.trim_start().starts_with(key))
                .map_or(0, |i| i + 1);
            Location::at_line(path, text, line, 1)
        };
        if let Err(message) = base_path(&self.base_url) {
            errors.push(Error::new(
                ErrorKind::InvalidValue {
                    key: "base_url".into(),
                    message,
                },
                at_key("base_url"),
            ));
        }
        if self.theme.sidebar_page_size == 0 {
            errors.push(Error::new(
                ErrorKind::InvalidValue {
                    key: "theme.sidebar_page_size".into(),
                    message: "must be at least 1".into(),
                },
                at_key("sidebar_page_size"),
            ));
        }
        for code in self.check.severity.keys() {
            if !crate::error::CODES.contains(&code.as_str()) {
                errors.push(Error::new(
                    ErrorKind::UnknownSetting {
                        key: format!("check.severity.{code}"),
                        suggestion: closest(code, crate::error::CODES.iter().copied())
                            .map(str::to_string),
                        context: "finding codes",
                    },
                    at_key(code),
                ));
            }
        }
        for prefix in &self.links.outside {
            if !prefix.starts_with('/')
                || prefix.starts_with("//")
                || prefix.trim_matches('/').is_empty()
            {
                errors.push(Error::new(
                    ErrorKind::InvalidValue {
                        key: "links.outside".into(),
                        message: format!(
                            "`{prefix}` must be a site-absolute path such as `/blog/`"
                        ),
                    },
                    at_key("outside"),
                ));
            }
        }
        let nav = &self.nav.file;
        if !nav.ends_with(".md") || nav.contains(['/', '\\']) || nav == "_index.md" {
            errors.push(Error::new(
                ErrorKind::InvalidValue {
                    key: "nav.file".into(),
                    message: format!(
                        "`{nav}` must be a Markdown file name such as `_nav.md`, without folders"
                    ),
                },
                at_key("file"),
            ));
        }
        for (name, builtin) in &self.components {
            if !BUILTIN_COMPONENTS.contains(&builtin.as_str()) {
                let near = closest(builtin, BUILTIN_COMPONENTS.iter().copied())
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                errors.push(Error::new(
                    ErrorKind::InvalidValue {
                        key: format!("components.{name}"),
                        message: format!(
                            "`{builtin}` is not a built-in component{near}; the built-ins are {}",
                            BUILTIN_COMPONENTS.join(", ")
                        ),
                    },
                    at_key(name),
                ));
            }
        }
        for (key, value) in [
            ("method", self.images.method),
            ("copy_method", self.images.copy_method),
        ] {
            if !(0..=6).contains(&value) {
                errors.push(Error::new(
                    ErrorKind::InvalidValue {
                        key: format!("images.{key}"),
                        message: "must be from 0 (fastest) to 6 (smallest)".into(),
                    },
                    at_key(key),
                ));
            }
        }
        if self.title.trim().is_empty() {
            errors.push(Error::new(
                ErrorKind::InvalidValue {
                    key: "title".into(),
                    message: "must not be empty".into(),
                },
                at_key("title"),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The path part of `base_url`, always starting and ending with `/`.
    pub fn base_path(&self) -> String {
        base_path(&self.base_url).unwrap_or_else(|_| "/".into())
    }

    /// Whether `base_url` names a host, so that permalinks are absolute URLs.
    pub fn has_absolute_base_url(&self) -> bool {
        self.base_url.starts_with("https://") || self.base_url.starts_with("http://")
    }

    /// `base_url` with a trailing slash.
    pub fn base_url(&self) -> String {
        if self.base_url.ends_with('/') {
            self.base_url.clone()
        } else {
            format!("{}/", self.base_url)
        }
    }
}

/// The path part of a base URL (`https://example.org/handbook` → `/handbook/`).
pub fn base_path(base_url: &str) -> Result<String, String> {
    let rest = if let Some(rest) = base_url
        .strip_prefix("https://")
        .or_else(|| base_url.strip_prefix("http://"))
    {
        match rest.find('/') {
            Some(i) => &rest[i..],
            None => "/",
        }
    } else if base_url.starts_with('/') {
        base_url
    } else {
        return Err(format!(
            "`{base_url}` is neither an http(s) URL nor a path starting with `/`"
        ));
    };
    if rest.contains(['?', '#', ' ', '"', '<', '>']) {
        return Err(format!(
            "`{base_url}` may not contain a query, a fragment, spaces or quotes"
        ));
    }
    let mut p = rest.to_string();
    if !p.ends_with('/') {
        p.push('/');
    }
    Ok(p)
}

fn check_keys(
    table: &toml::de::DeTable<'_>,
    prefix: &str,
    text: &str,
    path: &Path,
    errors: &mut Vec<Error>,
) {
    let Some((_, known)) = SCHEMA.iter().find(|(t, _)| *t == prefix) else {
        return;
    };
    for (key, value) in table {
        let name: &str = key.get_ref();
        let span = key.span();
        if !known.contains(&name) {
            let full = if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix}.{name}")
            };
            errors.push(Error::new(
                ErrorKind::UnknownSetting {
                    key: full,
                    suggestion: closest(name, known.iter().copied()).map(str::to_string),
                    context: "configuration",
                },
                Location::at_offset(path, text, span.start, span.len()),
            ));
        } else if let toml::de::DeValue::Table(t) = value.get_ref() {
            if prefix.is_empty() {
                check_keys(t, name, text, path, errors);
            }
        }
    }
}

fn toml_error(e: &toml::de::Error, text: &str, path: &Path) -> Error {
    let loc = match e.span() {
        Some(span) => Location::at_offset(path, text, span.start, span.len()),
        None => Location::file(path),
    };
    let message = e.message().trim().to_string();
    Error::new(ErrorKind::ConfigSyntax { message }, loc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, Vec<Error>> {
        Config::parse(text, Path::new("docsite.toml"))
    }

    #[test]
    fn empty_config_is_all_defaults() {
        let c = parse("").unwrap();
        assert_eq!(c.title, "docsite");
        assert_eq!(c.base_path(), "/");
        assert_eq!(c.theme.sidebar_page_size, 50);
    }

    #[test]
    fn unknown_key_names_line_and_closest_key() {
        let errs = parse("title = \"x\"\n\n[markdown]\nhighlite = false\n").unwrap_err();
        assert_eq!(errs.len(), 1);
        let e = &errs[0];
        assert_eq!(e.location.line, 4);
        assert_eq!(
            e.kind,
            ErrorKind::UnknownSetting {
                key: "markdown.highlite".into(),
                suggestion: Some("highlight".into()),
                context: "configuration"
            }
        );
        assert_eq!(
            e.kind.code(),
            "config",
            "a settings mistake is no frontmatter problem"
        );
    }

    #[test]
    fn outside_prefixes_take_their_paths_only() {
        let c = parse("[links]\noutside = [\"/blog/\", \"/pricing\"]\n").unwrap();
        for inside in [
            "/blog/",
            "/blog",
            "/blog/post#x",
            "/pricing",
            "/pricing/",
            "/pricing?p=1",
        ] {
            assert!(c.links.is_outside(inside), "{inside}");
        }
        for not in [
            "/blogs/x",
            "/pricingx",
            "blog/x",
            "//blog/x",
            "/docs/",
            "https://x/blog/",
        ] {
            assert!(!c.links.is_outside(not), "{not}");
        }
    }

    #[test]
    fn bad_outside_prefix_and_nav_file_are_config_errors() {
        let errs =
            parse("[links]\noutside = [\"blog\"]\n[nav]\nfile = \"a/nav.md\"\n").unwrap_err();
        let codes: Vec<(&str, usize)> = errs
            .iter()
            .map(|e| (e.kind.code(), e.location.line))
            .collect();
        assert_eq!(codes, [("config", 2), ("config", 4)]);
        assert_eq!(parse("").unwrap().nav.file, "_nav.md");
    }

    #[test]
    fn encoder_effort_is_checked() {
        let errs = parse("title = \"x\"\n[images]\ncopy_method = 9\n").unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].location.line, 3);
        assert!(
            matches!(&errs[0].kind, ErrorKind::InvalidValue { key, .. } if key == "images.copy_method"),
            "{:?}",
            errs[0].kind
        );
        assert_eq!(parse("title = \"x\"\n").unwrap().images.copy_method, 2);
    }

    #[test]
    fn wrong_type_is_reported_at_its_line() {
        let errs = parse("title = \"x\"\n[theme]\nsidebar_page_size = \"many\"\n").unwrap_err();
        assert_eq!(errs[0].location.line, 3);
        assert_eq!(errs[0].kind.code(), "config");
    }

    #[test]
    fn syntax_error_has_a_line() {
        let errs = parse("title = \"x\n").unwrap_err();
        assert_eq!(errs[0].location.line, 1);
    }

    #[test]
    fn base_path_from_base_url() {
        assert_eq!(base_path("https://example.org").unwrap(), "/");
        assert_eq!(
            base_path("https://example.org/handbook").unwrap(),
            "/handbook/"
        );
        assert_eq!(base_path("/docs/").unwrap(), "/docs/");
        assert!(base_path("example.org").is_err());
    }
}
