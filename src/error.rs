//! The one error type of the library: what went wrong, where, and what to do about it.
//!
//! Every problem a build or a check can find is an [`Error`]: an [`ErrorKind`] (typed, with the
//! facts of the problem) plus a [`Location`] (file, line, column and the source line itself).
//! Nothing here prints; [`crate::report`] renders errors for humans and for machines.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// How serious a problem is: errors fail a build, warnings are reported and the build goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Reported; the build still succeeds.
    Warning,
    /// The build fails.
    Error,
}

/// Where a problem is: a file and, when known, a position in it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// The file, as the user would type it (relative to the site root when inside it).
    pub path: PathBuf,
    /// 1-based line; 0 when the problem concerns the whole file.
    pub line: usize,
    /// 1-based column in characters; 0 when unknown.
    pub column: usize,
    /// How many characters the caret should underline (at least one when shown).
    pub len: usize,
    /// The text of the source line, for the excerpt under the message.
    pub source_line: Option<String>,
}

impl Location {
    /// A location naming a whole file.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Location {
            path: path.into(),
            ..Location::default()
        }
    }

    /// A location at a byte offset of `text`, the full contents of `path`.
    pub fn at_offset(path: impl Into<PathBuf>, text: &str, offset: usize, len: usize) -> Self {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        let line = text[..line_start].bytes().filter(|&b| b == b'\n').count() + 1;
        let column = text[line_start..offset].chars().count() + 1;
        let source_line = &text[line_start..line_end];
        let len_chars = text[offset..line_end.max(offset)]
            .char_indices()
            .take_while(|(i, _)| *i < len)
            .count();
        Location {
            path: path.into(),
            line,
            column,
            len: len_chars.max(1),
            source_line: Some(source_line.trim_end_matches('\r').to_string()),
        }
    }

    /// A location at a 1-based line (and optional 1-based column) of `text`.
    pub fn at_line(path: impl Into<PathBuf>, text: &str, line: usize, column: usize) -> Self {
        let source_line = text
            .lines()
            .nth(line.saturating_sub(1))
            .map(|l| l.to_string());
        let len = source_line.as_deref().map_or(1, |l| {
            l.chars().count().saturating_sub(column.saturating_sub(1))
        });
        Location {
            path: path.into(),
            line,
            column: column.max(1),
            len: len.max(1),
            source_line,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.column > 0 {
                write!(f, ":{}", self.column)?;
            }
        }
        Ok(())
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// What went wrong. Each variant carries the facts a message and a hint are made of.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ErrorKind {
    /// A file or folder could not be read or written.
    #[error("{action} failed: {message}")]
    Io {
        /// What was being done ("reading", "writing", ...).
        action: &'static str,
        /// The operating system's message.
        message: String,
    },
    /// A symlink points back at one of its own parents.
    #[error("symlink loop: this link points back to `{target}`")]
    SymlinkLoop {
        /// The ancestor the link loops back to.
        target: String,
    },
    /// A symlink in content/ or static/ that leads outside the site: following it would publish
    /// whatever it points at (`/proc/self/environ`, a home folder).
    #[error("symlink leads outside the site, to `{target}`: refused, not read")]
    SymlinkOutside {
        /// Where the link points, as written in it.
        target: String,
    },
    /// A source file is not UTF-8.
    #[error("file is not valid UTF-8: invalid byte at offset {offset}")]
    InvalidUtf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// Frontmatter opened with `---` or `+++` and never closed.
    #[error("frontmatter is never closed: no closing `{delimiter}` line")]
    UnclosedFrontmatter {
        /// The opening delimiter.
        delimiter: &'static str,
    },
    /// The YAML or TOML of a frontmatter block does not parse.
    #[error("invalid {format} in frontmatter: {message}")]
    FrontmatterSyntax {
        /// "YAML" or "TOML".
        format: &'static str,
        /// The parser's own words.
        message: String,
    },
    /// A page has no `title`.
    #[error("missing required frontmatter key `title`")]
    MissingTitle,
    /// A page's title is empty or only spaces.
    #[error("the title is empty")]
    EmptyTitle,
    /// A frontmatter or config value has the wrong type.
    #[error("`{key}` must be {expected}, found {found}")]
    WrongType {
        /// The key.
        key: String,
        /// What it must be ("a string").
        expected: &'static str,
        /// What it is ("an integer").
        found: &'static str,
    },
    /// A key that is probably a misspelling of a known one.
    #[error("unknown key `{key}`")]
    UnknownKey {
        /// The key as written.
        key: String,
        /// The closest valid key, if one is close.
        suggestion: Option<String>,
        /// Where valid keys are documented ("frontmatter", "docsite.toml").
        context: &'static str,
    },
    /// A key of `docsite.toml` (or a finding code in `[check.severity]`) that does not exist.
    #[error("unknown setting `{key}`")]
    UnknownSetting {
        /// The key as written (with its table: `markdown.highlite`).
        key: String,
        /// The closest valid key, if one is close.
        suggestion: Option<String>,
        /// Where valid keys are documented ("configuration", "finding codes").
        context: &'static str,
    },
    /// A `verify:` frontmatter table that cannot be used.
    #[error("invalid `verify` settings: {message}")]
    InvalidVerify {
        /// What is wrong.
        message: String,
    },
    /// A config value that parses but makes no sense.
    #[error("invalid value for `{key}`: {message}")]
    InvalidValue {
        /// The key.
        key: String,
        /// Why it is invalid.
        message: String,
    },
    /// `docsite.toml` does not parse.
    #[error("invalid TOML: {message}")]
    ConfigSyntax {
        /// The parser's own words.
        message: String,
    },
    /// Two sources would be written to the same URL.
    #[error("two pages have the URL `{url}`: this file and `{other}`")]
    DuplicateUrl {
        /// The URL both claim.
        url: String,
        /// The other file.
        other: String,
    },
    /// A link to a page or file that does not exist.
    #[error("broken link: `{target}` does not exist")]
    BrokenLink {
        /// The link as written.
        target: String,
        /// The closest existing target, if any.
        suggestion: Option<String>,
    },
    /// An image whose file does not exist.
    #[error("missing image: `{target}` does not exist")]
    MissingImage {
        /// The image path as written.
        target: String,
        /// The closest existing file, if any.
        suggestion: Option<String>,
    },
    /// An image file that cannot be used: not what its name says, empty, truncated or corrupt.
    #[error("image `{target}` cannot be used: {detail}")]
    BadImage {
        /// The image path as written.
        target: String,
        /// What is wrong with its bytes.
        detail: String,
    },
    /// An image in a format that is not published (TIFF, HEIC...).
    #[error("image `{target}` is {format}, which docsite does not publish")]
    UnsupportedImage {
        /// The image path as written.
        target: String,
        /// The format its bytes are in.
        format: String,
    },
    /// An image over the configured pixel limit, refused before decoding.
    #[error("image `{target}` is {width} x {height} pixels, over the limit of {limit} pixels")]
    ImageTooLarge {
        /// The image path as written.
        target: String,
        /// Width from its header.
        width: u32,
        /// Height from its header.
        height: u32,
        /// `[images] max_pixels`.
        limit: u64,
    },
    /// An image path that leads outside the site (`../../etc/passwd`, or a symlink out).
    #[error("image `{target}` is outside the site: refused, not read")]
    ImageOutsideSite {
        /// The image path as written.
        target: String,
    },
    /// A template does not parse or fails to render.
    #[error("template error in `{template}`: {message}")]
    Template {
        /// The template's name.
        template: String,
        /// Tera's message.
        message: String,
    },
    /// A `#fragment` that is no id on the target page.
    #[error("broken anchor: `{target}` has no element with id `{fragment}`")]
    BrokenAnchor {
        /// The link as written.
        target: String,
        /// The fragment.
        fragment: String,
        /// The closest existing id.
        suggestion: Option<String>,
    },
    /// An image path that only matches a file when case is ignored.
    #[error("image path differs in case from the file: `{target}` vs `{actual}`")]
    ImageCaseMismatch {
        /// The path as written.
        target: String,
        /// The file's real path.
        actual: String,
    },
    /// Two elements of one page with the same explicit id.
    #[error("duplicate id `{id}` on this page")]
    DuplicateId {
        /// The id.
        id: String,
    },
    /// An image without alt text.
    #[error("image `{target}` has no alt text")]
    MissingAlt {
        /// The image path.
        target: String,
    },
    /// A heading level skipped (h2 to h4).
    #[error("heading level skips from h{from} to h{to}")]
    HeadingSkip {
        /// The previous level.
        from: u8,
        /// This heading's level.
        to: u8,
    },
    /// An h1 in the body: the title is already the page's h1.
    #[error("second h1: the page title is already the h1")]
    MultipleH1,
    /// A capitalised HTML-like tag, which browsers render as nothing.
    #[error("unknown component `<{name}>`: browsers render it as nothing")]
    UnknownComponent {
        /// The tag name.
        name: String,
        /// The closest known component, if one is close.
        suggestion: Option<String>,
    },
    /// A component tag that does not parse.
    #[error("component syntax: {message}")]
    ComponentSyntax {
        /// What is wrong, in words.
        message: String,
    },
    /// A `{…}` attribute holding an expression rather than a literal.
    #[error(
        "attribute `{attribute}` holds the expression `{{{expression}}}`, which would need JavaScript"
    )]
    NonLiteralAttribute {
        /// The attribute.
        attribute: String,
        /// The expression, without its braces.
        expression: String,
    },
    /// `<Name>` without `</Name>`.
    #[error("`<{name}>` is never closed")]
    UnclosedComponent {
        /// The component.
        name: String,
    },
    /// `</Name>` where another component is open, or none.
    #[error("closing tag `</{found}>` {}", match expected { Some(e) => format!("where `</{e}>` was expected"), None => "closes nothing".into() })]
    MismatchedClosingTag {
        /// The closing tag's name.
        found: String,
        /// The component open at that point.
        expected: Option<String>,
    },
    /// An attribute a built-in component does not take.
    #[error("`<{component}>` has no attribute `{attribute}`")]
    UnknownAttribute {
        /// The component.
        component: String,
        /// The attribute as written.
        attribute: String,
        /// The closest valid attribute, if one is close.
        suggestion: Option<String>,
        /// Every valid attribute.
        valid: String,
    },
    /// A built-in component without an attribute it needs, or with a wrong value.
    #[error("`<{component}>`: {message}")]
    InvalidAttribute {
        /// The component.
        component: String,
        /// What is wrong.
        message: String,
    },
    /// An include that includes itself, directly or through others.
    #[error("include cycle: {chain}")]
    IncludeCycle {
        /// The files in order, ending with the one included again.
        chain: String,
    },
    /// An include of a file that is not Markdown.
    #[error("`{target}` is not a Markdown page or file, so it cannot be included")]
    IncludeNotMarkdown {
        /// The target as written.
        target: String,
    },
    /// Includes nested deeper than the limit.
    #[error("includes are nested more than {limit} deep")]
    IncludeTooDeep {
        /// The limit.
        limit: usize,
    },
    /// A code fence's language one edit from one docsite highlights (`sqll`): a typo, so the
    /// block would be plain.
    #[error("code block language `{name}` is not known, so the block is not highlighted")]
    UnknownLanguage {
        /// The language as written after the fence.
        name: String,
        /// The known language it is one edit from.
        suggestion: String,
    },
    /// A page nothing links to and navigation does not list.
    #[error("orphan page: not in navigation and no page links here")]
    OrphanPage,
    /// A published page its section's navigation file does not list.
    #[error("not in navigation: `{nav}` does not list this page")]
    NotInNav {
        /// The navigation file that orders the page's section.
        nav: String,
    },
    /// A page listed twice in one navigation file.
    #[error("`{target}` is listed twice in this navigation file (first at line {first_line})")]
    DuplicateNavEntry {
        /// The entry's link as written.
        target: String,
        /// The line of the first entry for the same page.
        first_line: usize,
    },
    /// A page with neither a `description` nor a first paragraph to take one from.
    #[error(
        "no description: no `description` in the frontmatter and no paragraph to take one from"
    )]
    MissingDescription,
    /// A file under `content/` nothing references.
    #[error("unused asset: no page references this file")]
    UnusedAsset,
    /// A link to another site that does not work.
    #[error("external link `{url}`: {detail}")]
    ExternalLink {
        /// The URL.
        url: String,
        /// What happened.
        detail: String,
    },
    /// A page names a template that does not exist.
    #[error("unknown template `{name}`")]
    UnknownTemplate {
        /// The name as written in the frontmatter.
        name: String,
    },
    /// The output folder would overwrite or sit inside the sources.
    #[error("refusing to write the site to `{out}`: {why}")]
    UnsafeOutput {
        /// The output folder.
        out: String,
        /// Why it is refused.
        why: &'static str,
    },
    /// `docsite init` into a folder that already has a site.
    #[error("`{path}` already exists")]
    AlreadyExists {
        /// The file that is in the way.
        path: String,
    },
}

impl ErrorKind {
    /// A stable, short code for the kind of problem (used in JSON and for configuring severities).
    pub fn code(&self) -> &'static str {
        match self {
            ErrorKind::Io { .. } | ErrorKind::SymlinkLoop { .. } => "io",
            ErrorKind::SymlinkOutside { .. } => "symlink-outside-site",
            ErrorKind::InvalidUtf8 { .. } => "encoding",
            ErrorKind::UnclosedFrontmatter { .. }
            | ErrorKind::FrontmatterSyntax { .. }
            | ErrorKind::MissingTitle
            | ErrorKind::EmptyTitle
            | ErrorKind::WrongType { .. }
            | ErrorKind::InvalidVerify { .. } => "frontmatter",
            ErrorKind::UnknownKey { .. } => "unknown-key",
            ErrorKind::InvalidValue { .. }
            | ErrorKind::ConfigSyntax { .. }
            | ErrorKind::UnknownSetting { .. } => "config",
            ErrorKind::DuplicateUrl { .. } => "duplicate-url",
            ErrorKind::BrokenLink { .. } => "broken-link",
            ErrorKind::MissingImage { .. } => "missing-image",
            ErrorKind::BadImage { .. } => "bad-image",
            ErrorKind::UnsupportedImage { .. } => "unsupported-image",
            ErrorKind::ImageTooLarge { .. } => "image-too-large",
            ErrorKind::ImageOutsideSite { .. } => "image-outside-site",
            ErrorKind::Template { .. } | ErrorKind::UnknownTemplate { .. } => "template",
            ErrorKind::BrokenAnchor { .. } => "broken-anchor",
            ErrorKind::ImageCaseMismatch { .. } => "image-case-mismatch",
            ErrorKind::DuplicateId { .. } => "duplicate-id",
            ErrorKind::MissingAlt { .. } => "missing-alt",
            ErrorKind::HeadingSkip { .. } => "heading-skip",
            ErrorKind::MultipleH1 => "multiple-h1",
            ErrorKind::UnknownComponent { .. } => "unknown-component",
            ErrorKind::UnknownLanguage { .. } => "unknown-language",
            ErrorKind::ComponentSyntax { .. }
            | ErrorKind::NonLiteralAttribute { .. }
            | ErrorKind::UnclosedComponent { .. }
            | ErrorKind::MismatchedClosingTag { .. }
            | ErrorKind::UnknownAttribute { .. }
            | ErrorKind::InvalidAttribute { .. } => "component",
            ErrorKind::IncludeCycle { .. }
            | ErrorKind::IncludeNotMarkdown { .. }
            | ErrorKind::IncludeTooDeep { .. } => "include",
            ErrorKind::OrphanPage => "orphan-page",
            ErrorKind::NotInNav { .. } => "not-in-nav",
            ErrorKind::DuplicateNavEntry { .. } => "duplicate-nav-entry",
            ErrorKind::MissingDescription => "missing-description",
            ErrorKind::UnusedAsset => "unused-asset",
            ErrorKind::ExternalLink { .. } => "external-link",
            ErrorKind::UnsafeOutput { .. } | ErrorKind::AlreadyExists { .. } => "usage",
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            ErrorKind::Io { .. } => "check that the file exists and is readable".into(),
            ErrorKind::SymlinkLoop { .. } => "remove the link or point it somewhere else".into(),
            ErrorKind::SymlinkOutside { .. } => {
                "copy the file into the site instead of linking to it, or point the link inside the site".into()
            }
            ErrorKind::InvalidUtf8 { .. } => {
                "save the file as UTF-8 (most editors: \"Save with encoding\")".into()
            }
            ErrorKind::UnclosedFrontmatter { delimiter } => {
                format!("add a line with just `{delimiter}` after the last frontmatter key")
            }
            ErrorKind::FrontmatterSyntax { format, .. } => {
                format!("fix the {format} syntax; quote values that contain `:` or `#`")
            }
            ErrorKind::MissingTitle => {
                "start the file with frontmatter:\n---\ntitle: My page\n---".into()
            }
            ErrorKind::EmptyTitle => "give the page a title with some text in it".into(),
            ErrorKind::WrongType { key, expected, .. } => format!("make `{key}` {expected}"),
            ErrorKind::UnknownKey {
                suggestion: Some(s),
                ..
            } => format!("did you mean `{s}`?"),
            ErrorKind::UnknownKey { context, .. } => {
                format!("see the {context} reference for the valid keys")
            }
            ErrorKind::UnknownSetting {
                suggestion: Some(s),
                ..
            } => format!("did you mean `{s}`?"),
            ErrorKind::UnknownSetting { context, .. } => {
                format!("see the {context} reference for the valid keys")
            }
            ErrorKind::InvalidValue { .. } | ErrorKind::ConfigSyntax { .. } => {
                "see the configuration reference for valid values".into()
            }
            ErrorKind::InvalidVerify { .. } => "`verify` takes `provider` and optionally `instance_url`, `display_name`, `tenant`, `scopes` and `section` (a heading id)".into(),
            ErrorKind::DuplicateUrl { .. } => {
                "rename one of the files or give one a different `slug`".into()
            }
            ErrorKind::BrokenLink {
                suggestion: Some(s),
                ..
            }
            | ErrorKind::MissingImage {
                suggestion: Some(s),
                ..
            } => format!("did you mean `{s}`?"),
            ErrorKind::BrokenLink { .. } => {
                "link to an existing page's `.md` file, relative to this file".into()
            }
            ErrorKind::MissingImage { .. } => {
                "add the file, or fix the path (relative to this page, or starting with `/` from the site root)".into()
            }
            ErrorKind::BadImage { .. } => {
                "re-export the image as PNG, JPEG, GIF or WebP, and check its name matches its format".into()
            }
            ErrorKind::UnsupportedImage { .. } => {
                "convert it to PNG (screenshots) or JPEG (photos); docsite makes the WebP".into()
            }
            ErrorKind::ImageTooLarge { limit, .. } => format!(
                "scale the image down, or raise `[images] max_pixels` (now {limit}) in docsite.toml"
            ),
            ErrorKind::ImageOutsideSite { .. } => {
                "copy the image into content/ or static/ and link to it there".into()
            }
            ErrorKind::Template { .. } => {
                "fix the template, or delete it to use the built-in one".into()
            }
            ErrorKind::BrokenAnchor {
                suggestion: Some(s),
                ..
            } => format!("did you mean `#{s}`?"),
            ErrorKind::BrokenAnchor { .. } => {
                "link to a heading's id (shown by its # link) or to an element's id".into()
            }
            ErrorKind::ImageCaseMismatch { actual, .. } => {
                format!("write the path as `{actual}`: it works on a laptop, not on a case-sensitive server")
            }
            ErrorKind::DuplicateId { .. } => "give each heading or element its own id".into(),
            ErrorKind::MissingAlt { .. } => {
                "describe the image in the brackets: ![What the screenshot shows](path)".into()
            }
            ErrorKind::HeadingSkip { from, .. } => {
                format!("use h{} here, or add the missing level", from + 1)
            }
            ErrorKind::MultipleH1 => "use `##` for sections; the title comes from frontmatter".into(),
            ErrorKind::UnknownComponent { suggestion: Some(s), .. } => format!(
                "did you mean `<{s}>`? Otherwise add `templates/components/NAME.html`, or map the name to a built-in under `[components]` in docsite.toml"
            ),
            ErrorKind::UnknownComponent { suggestion: None, .. } => {
                "add `templates/components/NAME.html`, map the name to a built-in (Callout, Include, Tabs, Tab, Details) under `[components]` in docsite.toml, or use plain Markdown".into()
            }
            ErrorKind::ComponentSyntax { .. } => {
                "write tags as `<Name attr=\"value\">` … `</Name>` or `<Name attr=\"value\" />`, each on a line of its own".into()
            }
            ErrorKind::NonLiteralAttribute { .. } => {
                "use a quoted string, or a literal in braces: {3}, {true}, {[\"a\", \"b\"]}, {{key: \"value\"}}".into()
            }
            ErrorKind::UnclosedComponent { name } => {
                format!("add `</{name}>` after its content, or write it self-closing: `<{name} … />`")
            }
            ErrorKind::MismatchedClosingTag { expected: Some(e), .. } => {
                format!("close `<{e}>` first: components nest, they do not overlap")
            }
            ErrorKind::MismatchedClosingTag { expected: None, .. } => {
                "remove it, or add the opening tag".into()
            }
            ErrorKind::UnknownAttribute { suggestion: Some(s), .. } => format!("did you mean `{s}`?"),
            ErrorKind::UnknownAttribute { valid, .. } => format!("valid attributes: {valid}"),
            ErrorKind::InvalidAttribute { .. } => {
                "see \"Components\" in the user guide for what each built-in takes".into()
            }
            ErrorKind::IncludeCycle { .. } => {
                "remove one of these includes: a file cannot include itself".into()
            }
            ErrorKind::IncludeNotMarkdown { .. } => {
                "include a `.md` file or a page's URL; link to other files instead".into()
            }
            ErrorKind::IncludeTooDeep { .. } => {
                "include the innermost file directly instead of through a chain".into()
            }
            ErrorKind::UnknownLanguage { suggestion, .. } => format!(
                "did you mean `{suggestion}`? Write the language after the fence as ```{suggestion}"
            ),
            ErrorKind::OrphanPage => "link to it from another page, or remove `hide: true`".into(),
            ErrorKind::NotInNav { .. } => {
                "add an entry for it to the navigation file, or set `hide: true` on the page".into()
            }
            ErrorKind::DuplicateNavEntry { .. } => {
                "keep one entry per page: the first one sets its place in the reading order".into()
            }
            ErrorKind::MissingDescription => {
                "add `description:` to the frontmatter, or open the page with a paragraph".into()
            }
            ErrorKind::UnusedAsset => "reference it from a page, or delete it".into(),
            ErrorKind::ExternalLink { .. } => {
                "fix or remove the link; if the page moved, link to its new address".into()
            }
            ErrorKind::UnknownTemplate { .. } => {
                "use one of the built-in templates (page.html, section.html, index.html) or add the file under templates/".into()
            }
            ErrorKind::UnsafeOutput { .. } => {
                "choose an output folder outside content/, for example `public`".into()
            }
            ErrorKind::AlreadyExists { .. } => "choose a new, empty folder".into(),
        })
    }
}

/// A problem with its location and severity: the unit every part of docsite reports in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Where.
    pub location: Location,
    /// How serious it is.
    pub severity: Severity,
}

impl Error {
    /// An error-level problem at `location`.
    pub fn new(kind: ErrorKind, location: Location) -> Self {
        Error {
            kind,
            location,
            severity: Severity::Error,
        }
    }

    /// An I/O failure on `path`.
    pub fn io(action: &'static str, path: &Path, err: &std::io::Error) -> Self {
        Error::new(
            ErrorKind::Io {
                action,
                message: err.to_string(),
            },
            Location::file(path),
        )
    }

    /// Downgrades the problem to a warning.
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    /// Whether this problem fails a build.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.kind)
    }
}

impl std::error::Error for Error {}

/// Many problems at once: a build reports every problem it found, not just the first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Errors(pub Vec<Error>);

impl Errors {
    /// Whether any of them fails the build.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Error::is_error)
    }
}

impl From<Error> for Errors {
    fn from(e: Error) -> Self {
        Errors(vec![e])
    }
}

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.iter().filter(|e| e.is_error()).count();
        write!(f, "{n} error(s)")
    }
}

impl std::error::Error for Errors {}

/// Every code a problem can have, for configuring severities.
pub const CODES: &[&str] = &[
    "io",
    "encoding",
    "frontmatter",
    "unknown-key",
    "config",
    "duplicate-url",
    "broken-link",
    "broken-anchor",
    "missing-image",
    "image-case-mismatch",
    "bad-image",
    "unsupported-image",
    "image-too-large",
    "image-outside-site",
    "symlink-outside-site",
    "duplicate-id",
    "missing-alt",
    "heading-skip",
    "multiple-h1",
    "unknown-component",
    "unknown-language",
    "component",
    "include",
    "orphan-page",
    "not-in-nav",
    "duplicate-nav-entry",
    "missing-description",
    "unused-asset",
    "external-link",
    "template",
    "usage",
];

/// The closest candidate to `word` by edit distance, if it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let max = (word.chars().count() * 2 / 5).clamp(1, 4);
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|&(d, c)| d <= max && c != word)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_from_offset_counts_lines_and_chars() {
        let text = "one\ntwo é three\nfour";
        let off = text.find("three").unwrap();
        let loc = Location::at_offset("a.md", text, off, 5);
        assert_eq!((loc.line, loc.column, loc.len), (2, 7, 5));
        assert_eq!(loc.source_line.as_deref(), Some("two é three"));
        assert_eq!(loc.to_string(), "a.md:2:7");
    }

    #[test]
    fn location_offset_past_end_is_clamped() {
        let loc = Location::at_offset("a.md", "abc", 99, 1);
        assert_eq!((loc.line, loc.column), (1, 4));
    }

    #[test]
    fn closest_finds_typos_only() {
        let keys = ["title", "description", "weight"];
        assert_eq!(closest("titel", keys), Some("title"));
        assert_eq!(closest("wieght", keys), Some("weight"));
        assert_eq!(closest("author", keys), None);
    }
}
