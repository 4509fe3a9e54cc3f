//! Build-time syntax highlighting of fenced code: spans with `hl-` classes, styled by the theme's
//! CSS, so readers download no highlighter.

use syntect::html::{ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::{SyntaxReference, SyntaxSet};
use syntect::util::LinesWithEndings;

/// Fence names that syntect's bundled grammars know under another name.
const ALIASES: &[(&str, &str)] = &[
    ("sh", "bash"),
    ("shell", "bash"),
    ("console", "bash"),
    ("zsh", "bash"),
    ("rs", "rust"),
    ("yml", "yaml"),
    ("js", "javascript"),
    ("jsx", "javascript"),
    ("ts", "javascript"),
    ("typescript", "javascript"),
    ("py", "python"),
    ("rb", "ruby"),
    ("dockerfile", "bash"),
    ("jsonc", "json"),
    ("htm", "html"),
    ("golang", "go"),
    ("c++", "cpp"),
];

/// The loaded grammars. Loading costs a few milliseconds, so one is made per build (or per
/// preview server) and shared by every page.
pub struct Highlighter {
    syntaxes: SyntaxSet,
}

impl std::fmt::Debug for Highlighter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Highlighter")
    }
}

impl Default for Highlighter {
    fn default() -> Self {
        Self::new()
    }
}

impl Highlighter {
    /// Loads the bundled grammars.
    pub fn new() -> Self {
        Highlighter {
            syntaxes: SyntaxSet::load_defaults_newlines(),
        }
    }

    fn find(&self, lang: &str) -> Option<&SyntaxReference> {
        let lang = lang.trim().to_ascii_lowercase();
        if lang.is_empty() || lang == "text" || lang == "plain" || lang == "txt" {
            return None;
        }
        let name = ALIASES
            .iter()
            .find(|(alias, _)| *alias == lang)
            .map_or(lang.as_str(), |(_, real)| real);
        self.syntaxes
            .find_syntax_by_token(name)
            .or_else(|| self.syntaxes.find_syntax_by_extension(name))
    }

    /// Highlights `code` as `lang`, returning HTML for the inside of a `<code>` element, or
    /// `None` when the language is unknown (the caller then escapes the code as plain text).
    pub fn highlight(&self, lang: &str, code: &str) -> Option<String> {
        let syntax = self.find(lang)?;
        let mut generator = ClassedHTMLGenerator::new_with_class_style(
            syntax,
            &self.syntaxes,
            ClassStyle::SpacedPrefixed { prefix: "hl-" },
        );
        for line in LinesWithEndings::from(code) {
            // A grammar failure leaves this block plain rather than failing the page.
            generator
                .parse_html_for_line_which_includes_newline(line)
                .ok()?;
        }
        Some(generator.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_language_gets_classes_unknown_gets_none() {
        let h = Highlighter::new();
        let html = h.highlight("rs", "fn main() {}\n").unwrap();
        assert!(html.contains("hl-"), "{html}");
        assert!(h.highlight("no-such-lang", "x").is_none());
        assert!(h.highlight("", "x").is_none());
    }

    #[test]
    fn code_is_escaped() {
        let h = Highlighter::new();
        let html = h.highlight("html", "<script>alert(1)</script>\n").unwrap();
        assert!(!html.contains("<script>"));
    }
}
