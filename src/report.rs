//! Rendering problems: the one place that turns [`Error`]s into text for people and JSON for tools.

use std::fmt::Write as _;

use serde::Serialize;

use crate::error::{Error, Severity};

/// Whether to colour human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    /// ANSI colours.
    Always,
    /// Plain text.
    Never,
}

impl Color {
    /// Colour only on a terminal, and never when `NO_COLOR` is set.
    pub fn detect(is_terminal: bool) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        if is_terminal && !no_color {
            Color::Always
        } else {
            Color::Never
        }
    }

    fn paint(self, code: &str, text: &str) -> String {
        match self {
            Color::Always => format!("\x1b[{code}m{text}\x1b[0m"),
            Color::Never => text.to_string(),
        }
    }
}

/// Renders one problem rustc-style: a headline, `--> path:line:col`, the source line, a caret
/// under the spot, and a hint.
pub fn human(error: &Error, color: Color) -> String {
    let (label, code) = match error.severity {
        Severity::Error => ("error", "1;31"),
        Severity::Warning => ("warning", "1;33"),
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}{} {}",
        color.paint(code, &format!("{label}[{}]", error.kind.code())),
        color.paint("1", ":"),
        color.paint("1", &error.kind.to_string())
    );
    let loc = &error.location;
    let gutter = if loc.line > 0 {
        loc.line.to_string().len()
    } else {
        1
    };
    let pad = " ".repeat(gutter);
    let _ = writeln!(out, "{pad}{} {loc}", color.paint("1;34", "-->"));
    if let Some(src) = &loc.source_line {
        let bar = color.paint("1;34", "|");
        let shown: String = src.chars().take(200).collect();
        let _ = writeln!(out, "{pad} {bar}");
        let _ = writeln!(
            out,
            "{} {bar} {}",
            color.paint("1;34", &loc.line.to_string()),
            shown.replace('\t', " ")
        );
        if loc.column > 0 {
            let indent = " ".repeat(loc.column - 1);
            let width = loc
                .len
                .clamp(1, 200usize.saturating_sub(loc.column - 1).max(1));
            let _ = writeln!(
                out,
                "{pad} {bar} {indent}{}",
                color.paint(code, &"^".repeat(width))
            );
        }
    }
    if let Some(hint) = error.kind.hint() {
        let mut lines = hint.lines();
        if let Some(first) = lines.next() {
            let _ = writeln!(out, "{pad} {} {first}", color.paint("1;36", "= help:"));
        }
        for l in lines {
            let _ = writeln!(out, "{pad}           {l}");
        }
    }
    out
}

/// Renders every problem for people, grouped by file and in line order, a blank line between
/// each.
pub fn human_all(errors: &[Error], color: Color) -> String {
    let mut sorted: Vec<&Error> = errors.iter().collect();
    sorted.sort_by(|a, b| {
        a.location
            .path
            .cmp(&b.location.path)
            .then_with(|| a.location.line.cmp(&b.location.line))
            .then_with(|| a.location.column.cmp(&b.location.column))
    });
    sorted
        .into_iter()
        .map(|e| human(e, color))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One line saying how many errors and warnings there are, in how many files.
pub fn summary(errors: &[Error], files_read: usize) -> String {
    let n_err = errors.iter().filter(|e| e.is_error()).count();
    let n_warn = errors.len() - n_err;
    let files: std::collections::HashSet<_> = errors.iter().map(|e| &e.location.path).collect();
    // A problem may sit in a file not counted as read (a template).
    let files_read = files_read.max(files.len());
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let place = if files.is_empty() {
        format!("in {files_read} file{} read", plural(files_read))
    } else {
        format!(
            "in {} of {files_read} file{} read",
            files.len(),
            plural(files_read)
        )
    };
    format!(
        "{n_err} error{}, {n_warn} warning{} {place}",
        plural(n_err),
        plural(n_warn)
    )
}

/// Renders problems as GitHub Actions workflow commands, one per line.
pub fn github(errors: &[Error]) -> String {
    // Workflow command values escape `%`, CR and LF; properties also `:` and `,`.
    fn data(s: &str) -> String {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    }
    fn prop(s: &str) -> String {
        data(s).replace(':', "%3A").replace(',', "%2C")
    }
    let mut out = String::new();
    for e in errors {
        let level = match e.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let loc = &e.location;
        let mut props = format!("file={}", prop(&loc.path.display().to_string()));
        if loc.line > 0 {
            props.push_str(&format!(",line={}", loc.line));
            if loc.column > 0 {
                props.push_str(&format!(",col={}", loc.column));
            }
        }
        props.push_str(&format!(",title={}", prop(e.kind.code())));
        let mut message = e.kind.to_string();
        if let Some(h) = e.kind.hint() {
            message.push_str(" (");
            message.push_str(&h);
            message.push(')');
        }
        let _ = writeln!(out, "::{level} {props}::{}", data(&message));
    }
    out
}

/// The machine-readable form of one problem. The field set is stable; see `docs/guide/commands`.
#[derive(Debug, Serialize)]
pub struct JsonFinding<'a> {
    /// Stable code, e.g. `broken-link`.
    pub code: &'static str,
    /// `error` or `warning`.
    pub severity: Severity,
    /// File path, relative to the site root.
    pub file: String,
    /// 1-based line, or 0 for the whole file.
    pub line: usize,
    /// 1-based column, or 0.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// What to do, if known.
    pub hint: Option<String>,
    /// The source line, if known.
    pub source: Option<&'a str>,
}

/// Renders problems as a JSON array.
pub fn json(errors: &[Error]) -> String {
    let findings: Vec<JsonFinding<'_>> = errors
        .iter()
        .map(|e| JsonFinding {
            code: e.kind.code(),
            severity: e.severity,
            file: e.location.path.display().to_string(),
            line: e.location.line,
            column: e.location.column,
            message: e.kind.to_string(),
            hint: e.kind.hint(),
            source: e.location.source_line.as_deref(),
        })
        .collect();
    serde_json::to_string_pretty(&findings).unwrap_or_else(|_| "[]".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorKind, Location};

    /// A clean site says how much was checked, not "in 0 files".
    #[test]
    fn summary_counts_the_files_read() {
        assert_eq!(summary(&[], 23), "0 errors, 0 warnings in 23 files read");
        let e = Error::new(
            ErrorKind::UnknownKey {
                key: "titel".into(),
                suggestion: None,
                context: "frontmatter",
            },
            Location::file("content/a.md"),
        );
        assert_eq!(
            summary(std::slice::from_ref(&e), 23),
            "1 error, 0 warnings in 1 of 23 files read"
        );
        assert_eq!(summary(&[e], 0), "1 error, 0 warnings in 1 of 1 file read");
    }

    #[test]
    fn human_output_has_location_excerpt_caret_and_hint() {
        let text = "---\ntitel: Hello\n---\n";
        let e = Error::new(
            ErrorKind::UnknownKey {
                key: "titel".into(),
                suggestion: Some("title".into()),
                context: "frontmatter",
            },
            Location::at_offset("content/a.md", text, 4, 5),
        );
        let out = human(&e, Color::Never);
        assert_eq!(
            out,
            "error[frontmatter]: unknown key `titel`\n --> content/a.md:2:1\n  |\n2 | titel: Hello\n  | ^^^^^\n  = help: did you mean `title`?\n"
        );
    }

    #[test]
    fn github_annotations_escape_their_values() {
        let e = Error::new(
            ErrorKind::MissingTitle,
            Location::at_line("content/a,b.md", "x", 1, 1),
        );
        let out = github(&[e]);
        assert!(
            out.starts_with(
                "::error file=content/a%2Cb.md,line=1,col=1,title=frontmatter::missing"
            ),
            "{out}"
        );
        assert!(out.contains("%0A"), "multi-line hints are escaped: {out}");
    }

    #[test]
    fn json_is_an_array_with_stable_fields() {
        let e = Error::new(ErrorKind::MissingTitle, Location::file("content/x.md"));
        let v: serde_json::Value = serde_json::from_str(&json(&[e])).unwrap();
        assert_eq!(v[0]["code"], "frontmatter");
        assert_eq!(v[0]["severity"], "error");
        assert_eq!(v[0]["file"], "content/x.md");
    }
}
