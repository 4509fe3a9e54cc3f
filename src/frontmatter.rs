//! Frontmatter: the YAML (`---`) or TOML (`+++`) block at the top of a page.
//!
//! gray_matter's engines parse the block; this module finds the block itself (so that errors can
//! point at the file's real line, which gray_matter's trimming would lose) and turns the parsed
//! data into a typed [`Frontmatter`], reporting wrong types and likely typos of known keys.

use std::path::Path;

use gray_matter::Pod;
use gray_matter::engine::Engine;
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Location, closest};

/// The keys docsite understands; anything else goes to `page.extra`.
pub const KNOWN_KEYS: &[&str] = &[
    "title",
    "description",
    "slug",
    "weight",
    "draft",
    "sidebar_label",
    "hide",
    "aliases",
    "template",
    "date",
    "updated",
    "search",
    "verify",
];

/// A page's typed frontmatter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frontmatter {
    /// The page title (required, not empty).
    pub title: String,
    /// One-sentence summary; the meta description.
    pub description: Option<String>,
    /// Replaces the last segment of the page's URL.
    pub slug: Option<String>,
    /// Order among siblings; lower first.
    pub weight: Option<i64>,
    /// Left out of the build unless `--drafts`.
    pub draft: bool,
    /// A shorter title for the sidebar.
    pub sidebar_label: Option<String>,
    /// Built, but not listed in navigation.
    pub hide: bool,
    /// Old URLs that redirect here.
    pub aliases: Vec<String>,
    /// A template other than the default for the page's kind.
    pub template: Option<String>,
    /// Publication date, as written.
    pub date: Option<String>,
    /// Last update, as written.
    pub updated: Option<String>,
    /// Whether the page is in the search index.
    pub search: bool,
    /// The page's setup-verification form, if it has one.
    pub verify: Option<VerifySpec>,
    /// Every other key, for templates.
    pub extra: Map<String, Value>,
    /// Problems that do not stop the page: keys one typo away from a known key (`titel`),
    /// which are kept in `extra` too since unknown keys are often deliberate.
    pub warnings: Vec<Error>,
}

/// `verify:` in frontmatter: which provider the guide sets up, and the form's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct VerifySpec {
    /// The provider id, e.g. `azure-devops`.
    pub provider: String,
    /// The Instance URL the form starts with, instead of the provider's default.
    pub instance_url: Option<String>,
    /// The Display name the form starts with.
    pub display_name: Option<String>,
    /// The Entra tenant the form starts with.
    pub tenant: Option<String>,
    /// The scopes to request, instead of the provider's defaults.
    pub scopes: Option<Vec<String>>,
    /// The id of the heading whose section ends with the form (else a `<!-- docsite:verify -->`
    /// marker places it, else the end of the page).
    pub section: Option<String>,
}

const VERIFY_KEYS: &[&str] = &[
    "provider",
    "instance_url",
    "display_name",
    "tenant",
    "scopes",
    "section",
];

/// Reads `verify:`; the error is a sentence for [`ErrorKind::InvalidVerify`].
fn verify_spec(value: Pod) -> Result<VerifySpec, String> {
    let Pod::Hash(map) = value else {
        return Err("`verify` must be a table, e.g. `verify: { provider: github }`".into());
    };
    let mut spec = VerifySpec::default();
    let mut keys: Vec<_> = map.into_iter().collect();
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    for (key, value) in keys {
        let text = |v: Pod| match v {
            Pod::String(s) => Ok(s),
            _ => Err(format!("`verify.{key}` must be a string")),
        };
        match key.as_str() {
            "provider" => spec.provider = text(value)?,
            "instance_url" => spec.instance_url = Some(text(value)?),
            "display_name" => spec.display_name = Some(text(value)?),
            "tenant" => spec.tenant = Some(text(value)?),
            "section" => spec.section = Some(text(value)?),
            "scopes" => {
                spec.scopes = Some(match value {
                    Pod::String(s) => s.split_whitespace().map(str::to_string).collect(),
                    Pod::Array(items) => items
                        .into_iter()
                        .map(|i| match i {
                            Pod::String(s) => Ok(s),
                            _ => Err("`verify.scopes` must be a list of strings".to_string()),
                        })
                        .collect::<Result<_, _>>()?,
                    _ => return Err("`verify.scopes` must be a list of strings".into()),
                })
            }
            other => {
                let hint = closest(other, VERIFY_KEYS.iter().copied())
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(format!("`verify.{other}` is not a verify setting{hint}"));
            }
        }
    }
    if spec.provider.is_empty() {
        return Err("`verify` needs a `provider`".into());
    }
    if crate::verify::providers::find(&spec.provider).is_none() {
        let known = crate::verify::providers::ids();
        let hint = closest(&spec.provider, known.iter().copied())
            .map(|s| format!("did you mean `{s}`? "))
            .unwrap_or_default();
        return Err(format!(
            "unknown provider `{}`: {hint}known providers are {}",
            spec.provider,
            known.join(", ")
        ));
    }
    Ok(spec)
}

/// A file split into its frontmatter block and its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split<'a> {
    /// The block's text, without delimiters (empty when there is none).
    pub matter: &'a str,
    /// 1-based line of the block's first line.
    pub matter_line: usize,
    /// `---` (YAML) or `+++` (TOML); `None` when the file has no frontmatter.
    pub delimiter: Option<&'static str>,
    /// Byte offset where the Markdown body starts.
    pub body_offset: usize,
}

/// Finds the frontmatter block. `text` has had its BOM removed and its line endings normalised.
pub fn split<'a>(text: &'a str, path: &Path) -> Result<Split<'a>, Error> {
    let first_end = text.find('\n').unwrap_or(text.len());
    let first = text[..first_end].trim_end();
    let delimiter = match first {
        "---" => "---",
        "+++" => "+++",
        _ => {
            return Ok(Split {
                matter: "",
                matter_line: 1,
                delimiter: None,
                body_offset: 0,
            });
        }
    };
    let start = (first_end + 1).min(text.len());
    let mut pos = start;
    while pos < text.len() {
        let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
        if text[pos..end].trim_end() == delimiter {
            return Ok(Split {
                matter: &text[start..pos],
                matter_line: 2,
                delimiter: Some(delimiter),
                body_offset: (end + 1).min(text.len()),
            });
        }
        pos = end + 1;
    }
    Err(Error::new(
        ErrorKind::UnclosedFrontmatter { delimiter },
        Location::at_line(path, text, 1, 1),
    ))
}

/// Parses the block found by [`split`] as YAML or TOML, untyped (for files other than pages
/// that have frontmatter, such as navigation files). No block is an empty table.
pub fn parse_untyped(text: &str, split: &Split<'_>, path: &Path) -> Result<Pod, Error> {
    Ok(match split.delimiter {
        None => Pod::Hash(Default::default()),
        Some("+++") => gray_matter::engine::TOML::parse(split.matter)
            .map_err(|e| syntax_error("TOML", &e.to_string(), text, split, path))?,
        Some(_) => gray_matter::engine::YAML::parse(split.matter)
            .map_err(|e| syntax_error("YAML", &e.to_string(), text, split, path))?,
    })
}

/// Parses the block found by [`split`] into typed frontmatter, collecting every problem.
pub fn parse(text: &str, split: &Split<'_>, path: &Path) -> Result<Frontmatter, Vec<Error>> {
    let pod = parse_untyped(text, split, path).map_err(|e| vec![e])?;
    let map = match pod {
        Pod::Hash(map) => map,
        // An empty block parses to null: same as no keys at all.
        Pod::Null => Default::default(),
        other => {
            return Err(vec![Error::new(
                ErrorKind::FrontmatterSyntax {
                    format: if split.delimiter == Some("+++") {
                        "TOML"
                    } else {
                        "YAML"
                    },
                    message: format!("expected `key: value` pairs, found {}", pod_type(&other)),
                },
                Location::at_line(path, text, split.matter_line, 1),
            )]);
        }
    };

    let mut fm = Frontmatter {
        search: true,
        ..Frontmatter::default()
    };
    let mut errors = Vec::new();
    let key_loc = |key: &str| key_location(text, split, path, key);
    let mut keys: Vec<_> = map.into_iter().collect();
    // HashMap order is random; report in a stable order.
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    let mut title = None;
    for (key, value) in keys {
        let wrong = |expected: &'static str, value: &Pod| {
            Error::new(
                ErrorKind::WrongType {
                    key: key.clone(),
                    expected,
                    found: pod_type(value),
                },
                key_loc(&key),
            )
        };
        match key.as_str() {
            "title" => match value {
                Pod::String(s) => title = Some(s),
                ref v => errors.push(wrong("a string", v)),
            },
            "description" | "slug" | "sidebar_label" | "template" | "date" | "updated" => {
                let s = match value {
                    Pod::String(s) => s,
                    ref v => {
                        errors.push(wrong("a string", v));
                        continue;
                    }
                };
                match key.as_str() {
                    "description" => fm.description = Some(s),
                    "slug" => fm.slug = Some(s),
                    "sidebar_label" => fm.sidebar_label = Some(s),
                    "template" => fm.template = Some(s),
                    "date" => fm.date = Some(s),
                    _ => fm.updated = Some(s),
                }
            }
            "weight" => match value {
                Pod::Integer(i) => fm.weight = Some(i),
                ref v => errors.push(wrong("an integer", v)),
            },
            "draft" | "hide" | "search" => match value {
                Pod::Boolean(b) => match key.as_str() {
                    "draft" => fm.draft = b,
                    "hide" => fm.hide = b,
                    _ => fm.search = b,
                },
                ref v => errors.push(wrong("true or false", v)),
            },
            "aliases" => match value {
                Pod::Array(items) => {
                    for item in items {
                        match item {
                            Pod::String(s) => fm.aliases.push(s),
                            ref v => {
                                errors.push(wrong("a list of strings", v));
                                break;
                            }
                        }
                    }
                }
                Pod::String(s) => fm.aliases.push(s),
                ref v => errors.push(wrong("a list of strings", v)),
            },
            "verify" => match verify_spec(value) {
                Ok(spec) => fm.verify = Some(spec),
                Err(message) => errors.push(Error::new(
                    ErrorKind::InvalidVerify { message },
                    key_loc(&key),
                )),
            },
            _ => {
                if let Some(suggestion) = closest(&key, KNOWN_KEYS.iter().copied()) {
                    fm.warnings.push(
                        Error::new(
                            ErrorKind::UnknownKey {
                                suggestion: Some(suggestion.to_string()),
                                key: key.clone(),
                                context: "frontmatter",
                            },
                            key_loc(&key),
                        )
                        .warning(),
                    );
                }
                fm.extra.insert(key, pod_to_json(value));
            }
        }
    }
    match title {
        Some(t) if t.trim().is_empty() => {
            errors.push(Error::new(ErrorKind::EmptyTitle, key_loc("title")));
        }
        Some(t) => fm.title = t.trim().to_string(),
        None if errors.is_empty() || !errors.iter().any(|e| e.kind.code() == "frontmatter") => {
            errors.push(Error::new(
                ErrorKind::MissingTitle,
                Location::at_line(path, text, 1, 1),
            ));
        }
        None => {}
    }
    if errors.is_empty() {
        Ok(fm)
    } else {
        // The page fails: its near-miss keys are likely why, so they are reported with it.
        errors.append(&mut fm.warnings);
        Err(errors)
    }
}

/// The line of a top-level key in the block, or the block's first line.
pub fn key_location(text: &str, split: &Split<'_>, path: &Path, key: &str) -> Location {
    for (i, line) in split.matter.lines().enumerate() {
        if let Some(rest) = line.strip_prefix(key) {
            let rest = rest.trim_start();
            let rest = rest
                .strip_prefix('"')
                .or_else(|| rest.strip_prefix('\''))
                .unwrap_or(rest);
            if rest.starts_with(':') || rest.starts_with('=') {
                let mut loc = Location::at_line(path, text, split.matter_line + i, 1);
                loc.len = key.chars().count();
                return loc;
            }
        }
    }
    Location::at_line(path, text, split.matter_line.saturating_sub(1).max(1), 1)
}

/// A parser error placed at the file's real line: the engines report lines within the block.
fn syntax_error(
    format: &'static str,
    message: &str,
    text: &str,
    split: &Split<'_>,
    path: &Path,
) -> Error {
    let (line, col) = line_col_in_message(message).unwrap_or((1, 1));
    let mut message = message.trim().to_string();
    // The engines' messages embed positions within the block, which would contradict ours.
    for marker in [" at byte ", " at line "] {
        if let Some(i) = message.find(marker) {
            message.truncate(i);
        }
    }
    if let Some(rest) = message.strip_prefix("Deserialize error: ") {
        message = rest.to_string();
    }
    if let Some(rest) = message.strip_prefix("TOML parse error") {
        message = rest
            .lines()
            .last()
            .unwrap_or("")
            .trim_start_matches([' ', ':', ','])
            .to_string();
    }
    Error::new(
        ErrorKind::FrontmatterSyntax { format, message },
        Location::at_line(path, text, split.matter_line + line - 1, col),
    )
}

/// Extracts `line N column M` (yaml-rust2) or `line N, column M` (toml) from a parser message.
fn line_col_in_message(message: &str) -> Option<(usize, usize)> {
    let i = message.find("line ")?;
    let rest = &message[i + 5..];
    let line: usize = rest
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    let col = rest
        .find("column ")
        .and_then(|j| {
            rest[j + 7..]
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(1);
    Some((line.max(1), col))
}

/// How a value's type is named in messages ("a string").
pub fn pod_type(p: &Pod) -> &'static str {
    match p {
        Pod::Null => "nothing",
        Pod::String(_) => "a string",
        Pod::Integer(_) => "an integer",
        Pod::Float(_) => "a number",
        Pod::Boolean(_) => "a boolean",
        Pod::Array(_) => "a list",
        Pod::Hash(_) => "a table",
    }
}

fn pod_to_json(p: Pod) -> Value {
    match p {
        Pod::Null => Value::Null,
        Pod::String(s) => Value::String(s),
        Pod::Integer(i) => Value::from(i),
        Pod::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        Pod::Boolean(b) => Value::Bool(b),
        Pod::Array(a) => Value::Array(a.into_iter().map(pod_to_json).collect()),
        Pod::Hash(h) => {
            let mut entries: Vec<_> = h.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, pod_to_json(v)))
                    .collect(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fm(text: &str) -> Result<Frontmatter, Vec<Error>> {
        let path = Path::new("content/a.md");
        let s = split(text, path).map_err(|e| vec![e])?;
        parse(text, &s, path)
    }

    #[test]
    fn yaml_and_toml_blocks() {
        let a = fm("---\ntitle: Hello\nweight: 3\ncolor: red\n---\nbody").unwrap();
        assert_eq!(a.title, "Hello");
        assert_eq!(a.weight, Some(3));
        assert_eq!(a.extra["color"], "red");
        let b = fm("+++\ntitle = \"Hi\"\ndraft = true\n+++\nbody").unwrap();
        assert_eq!(b.title, "Hi");
        assert!(b.draft);
    }

    #[test]
    fn body_offset_points_after_the_block() {
        let text = "---\ntitle: x\n---\n# Body";
        let s = split(text, Path::new("a.md")).unwrap();
        assert_eq!(&text[s.body_offset..], "# Body");
    }

    #[test]
    fn unclosed_block_is_an_error_at_line_one() {
        let errs = fm("---\ntitle: x\nbody").unwrap_err();
        assert_eq!(
            errs[0].kind,
            ErrorKind::UnclosedFrontmatter { delimiter: "---" }
        );
        assert_eq!(errs[0].location.line, 1);
    }

    #[test]
    fn yaml_syntax_error_is_at_the_files_line() {
        let errs = fm("---\ntitle: x\nweight: [1, 2\n---\n").unwrap_err();
        assert_eq!(errs[0].kind.code(), "frontmatter");
        assert!(errs[0].location.line >= 3, "{:?}", errs[0]);
    }

    #[test]
    fn toml_syntax_error_is_at_the_files_line() {
        let errs = fm("+++\ntitle = \"x\"\nweight = = 3\n+++\n").unwrap_err();
        assert_eq!(errs[0].location.line, 3, "{:?}", errs[0]);
    }

    #[test]
    fn wrong_type_is_an_error_and_a_near_miss_key_a_warning_with_lines() {
        let errs = fm("---\ntitle: x\ntitel: y\nweight: heavy\n---\n").unwrap_err();
        assert_eq!(errs.len(), 2);
        assert!(matches!(&errs[0].kind, ErrorKind::WrongType { key, .. } if key == "weight"));
        assert_eq!((errs[0].location.line, errs[0].is_error()), (4, true));
        assert!(
            matches!(&errs[1].kind, ErrorKind::UnknownKey { suggestion: Some(s), .. } if s == "title")
        );
        assert_eq!((errs[1].location.line, errs[1].is_error()), (3, false));
    }

    #[test]
    fn near_miss_key_is_a_warning_and_kept_for_templates() {
        let a = fm("---\ntitle: x\nupdated_at: 2026-01-01\n---\n").unwrap();
        assert_eq!(a.warnings.len(), 1);
        let w = &a.warnings[0];
        assert_eq!(w.kind.code(), "unknown-key");
        assert!(!w.is_error());
        assert_eq!(w.location.line, 3);
        assert_eq!(w.kind.hint().as_deref(), Some("did you mean `updated`?"));
        assert!(a.extra.contains_key("updated_at"));
        assert!(
            fm("---\ntitle: x\nauthor: me\n---\n")
                .unwrap()
                .warnings
                .is_empty()
        );
    }

    #[test]
    fn missing_and_empty_titles() {
        assert_eq!(
            fm("no frontmatter").unwrap_err()[0].kind,
            ErrorKind::MissingTitle
        );
        assert_eq!(fm("").unwrap_err()[0].kind, ErrorKind::MissingTitle);
        assert_eq!(
            fm("---\ntitle: '  '\n---\n").unwrap_err()[0].kind,
            ErrorKind::EmptyTitle
        );
    }

    #[test]
    fn verify_table_is_kept() {
        let a = fm("---\ntitle: x\nverify:\n  provider: github\n---\n").unwrap();
        assert_eq!(a.verify.unwrap().provider, "github");
        let e = fm("---\ntitle: x\nverify:\n  provider: gitlabb\n---\n").unwrap_err();
        assert!(
            e[0].to_string().contains("did you mean `gitlab`"),
            "{}",
            e[0]
        );
        let e =
            fm("---\ntitle: x\nverify:\n  provider: gitlab\n  scopse: [api]\n---\n").unwrap_err();
        assert!(
            e[0].to_string().contains("did you mean `scopes`"),
            "{}",
            e[0]
        );
        let a = fm(
            "---\ntitle: x\nverify:\n  provider: gitlab\n  scopes: [api]\n  section: step-3\n---\n",
        )
        .unwrap();
        let v = a.verify.unwrap();
        assert_eq!(v.scopes.unwrap(), ["api"]);
        assert_eq!(v.section.as_deref(), Some("step-3"));
    }
}
