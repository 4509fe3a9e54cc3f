//! Navigation files: a section's hand-ordered sidebar, written in Markdown (`[nav] file`,
//! `_nav.md` by default), read into a tree of entries.
//!
//! Both forms people already write are read, and may be mixed:
//! - headings: `## [Title](url)` is an entry, `## Title` a group holding the deeper headings
//!   (and lists) that follow, `---` a divider;
//! - nested lists, as in mdBook's `SUMMARY.md`: `- [Title](path.md)`, nested lists nest; an
//!   item without a link (or with an empty one, mdBook's draft) is a group.
//!
//! The shallowest heading level in the file is the top level, so `#`, `##` or `###` files read
//! the same; a leading `# Title` without a link (mdBook's `# Summary`) is the file's title and
//! no entry. This module knows nothing of URLs: [`crate::site`] resolves the links.

use std::path::{Path, PathBuf};

use gray_matter::Pod;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use crate::error::{Error, ErrorKind, Location};
use crate::frontmatter;

/// The frontmatter keys of a navigation file.
const KEYS: &[&str] = &["expanded"];

/// A navigation file as read from `content/`, not yet parsed.
#[derive(Debug, Clone)]
pub struct NavSource {
    /// Path for messages (`content/docs/_nav.md`).
    pub display: PathBuf,
    /// The text: BOM removed, CRLF turned into LF.
    pub text: String,
}

/// One entry of a navigation file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The sidebar label (the link's text, or the group's title).
    pub title: String,
    /// The link as written; `None` for a group or a divider.
    pub link: Option<String>,
    /// A `---` line between entries.
    pub divider: bool,
    /// Byte offset of the link (or of the title, for a group) in the file, for messages.
    pub offset: usize,
    /// Its length in bytes.
    pub len: usize,
    /// Entries nested under it.
    pub children: Vec<Entry>,
}

/// A parsed navigation file.
#[derive(Debug, Clone)]
pub struct NavFile {
    /// Where it came from.
    pub source: NavSource,
    /// The top-level entries, in order.
    pub entries: Vec<Entry>,
    /// Titles of the groups shown expanded by default (frontmatter `expanded: [...]`).
    pub expanded: Vec<String>,
    /// Problems that do not stop the file (unknown frontmatter keys).
    pub warnings: Vec<Error>,
}

impl NavFile {
    /// The location of an entry's link (or title) in the file.
    pub fn location(&self, entry: &Entry) -> Location {
        Location::at_offset(
            &self.source.display,
            &self.source.text,
            entry.offset,
            entry.len,
        )
    }
}

/// A block of the file, flattened: its depth is worked out once the whole file is read.
#[derive(Debug)]
enum Block {
    /// A heading of this level.
    Heading(u8, Entry),
    /// A list item (or a paragraph holding a link) nested this deep in lists, under the last
    /// heading.
    Item(usize, Entry),
    /// `---`.
    Divider(usize),
}

/// What is being read: the title text and first link of a heading, list item or paragraph.
#[derive(Debug, Default)]
struct Open {
    text: String,
    link_text: String,
    link: Option<(String, usize, usize)>,
    in_link: bool,
    start: usize,
}

impl Open {
    fn entry(self) -> Entry {
        let title = collapse(
            if self.link.is_some() && !self.link_text.trim().is_empty() {
                &self.link_text
            } else {
                &self.text
            },
        );
        let (link, offset, len) = match self.link {
            Some((dest, offset, len)) if !dest.trim().is_empty() => (Some(dest), offset, len),
            _ => (None, self.start, title.len().max(1)),
        };
        Entry {
            title,
            link,
            divider: false,
            offset,
            len,
            children: Vec::new(),
        }
    }
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses a navigation file. Errors (bad frontmatter) stop it; unknown frontmatter keys are
/// warnings kept in [`NavFile::warnings`].
pub fn parse(source: NavSource) -> Result<NavFile, Vec<Error>> {
    let text = source.text.as_str();
    let display = source.display.as_path();
    let split = frontmatter::split(text, display).map_err(|e| vec![e])?;
    let (expanded, warnings) = read_frontmatter(text, &split, display)?;
    let blocks = blocks(text, split.body_offset);
    let entries = nest(blocks);
    Ok(NavFile {
        entries,
        expanded,
        warnings,
        source,
    })
}

fn read_frontmatter(
    text: &str,
    split: &frontmatter::Split<'_>,
    display: &Path,
) -> Result<(Vec<String>, Vec<Error>), Vec<Error>> {
    let pod = frontmatter::parse_untyped(text, split, display).map_err(|e| vec![e])?;
    let map = match pod {
        Pod::Hash(map) => map,
        Pod::Null => Default::default(),
        other => {
            return Err(vec![Error::new(
                ErrorKind::FrontmatterSyntax {
                    format: "YAML",
                    message: format!(
                        "expected `key: value` pairs, found {}",
                        frontmatter::pod_type(&other)
                    ),
                },
                Location::at_line(display, text, split.matter_line, 1),
            )]);
        }
    };
    let mut keys: Vec<_> = map.into_iter().collect();
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expanded = Vec::new();
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    for (key, value) in keys {
        let at = frontmatter::key_location(text, split, display, &key);
        if key == "expanded" {
            let wrong = |v: &Pod| {
                Error::new(
                    ErrorKind::WrongType {
                        key: "expanded".into(),
                        expected: "a list of group titles",
                        found: frontmatter::pod_type(v),
                    },
                    at.clone(),
                )
            };
            match value {
                Pod::String(s) => expanded.push(s),
                Pod::Array(items) => {
                    for item in items {
                        match item {
                            Pod::String(s) => expanded.push(s),
                            ref v => {
                                errors.push(wrong(v));
                                break;
                            }
                        }
                    }
                }
                ref v => errors.push(wrong(v)),
            }
        } else {
            warnings.push(
                Error::new(
                    ErrorKind::UnknownKey {
                        suggestion: crate::error::closest(&key, KEYS.iter().copied())
                            .map(str::to_string),
                        key,
                        context: "navigation file",
                    },
                    at,
                )
                .warning(),
            );
        }
    }
    if errors.is_empty() {
        Ok((expanded, warnings))
    } else {
        Err(errors)
    }
}

/// The file's headings, list items, link paragraphs and dividers, in order.
fn blocks(text: &str, body_offset: usize) -> Vec<Block> {
    let body = text.get(body_offset..).unwrap_or("");
    let mut out = Vec::new();
    let mut open: Option<Open> = None;
    let mut heading: Option<u8> = None;
    let mut lists = 0usize;
    // A paragraph directly in a list item is the item's text (tight lists have none).
    let mut paragraph_is_entry = false;
    let mut quote = 0usize;
    let finish_item = |open: &mut Option<Open>, out: &mut Vec<Block>, lists: usize| {
        if let Some(o) = open.take() {
            let entry = o.entry();
            if !entry.title.is_empty() || entry.link.is_some() {
                out.push(Block::Item(lists, entry));
            }
        }
    };
    for (event, range) in
        Parser::new_ext(body, Options::ENABLE_HEADING_ATTRIBUTES).into_offset_iter()
    {
        let at = body_offset + range.start;
        match event {
            Event::Start(Tag::BlockQuote(_)) => quote += 1,
            Event::End(TagEnd::BlockQuote(_)) => quote = quote.saturating_sub(1),
            _ if quote > 0 => {}
            Event::Start(Tag::Heading { level, .. }) => {
                heading = Some(level as u8);
                open = Some(Open {
                    start: at,
                    ..Open::default()
                });
            }
            Event::End(TagEnd::Heading(_)) => {
                if let (Some(level), Some(o)) = (heading.take(), open.take()) {
                    out.push(Block::Heading(level, o.entry()));
                }
            }
            Event::Start(Tag::List(_)) => {
                // A nested list ends its item's own text.
                finish_item(&mut open, &mut out, lists);
                lists += 1;
            }
            Event::End(TagEnd::List(_)) => lists = lists.saturating_sub(1),
            Event::Start(Tag::Item) => {
                open = Some(Open {
                    start: at,
                    ..Open::default()
                });
                paragraph_is_entry = false;
            }
            Event::End(TagEnd::Item) => finish_item(&mut open, &mut out, lists),
            Event::Start(Tag::Paragraph) if lists == 0 => {
                open = Some(Open {
                    start: at,
                    ..Open::default()
                });
                paragraph_is_entry = true;
            }
            Event::End(TagEnd::Paragraph) if paragraph_is_entry && lists == 0 => {
                // Prose between entries is a note to the file's readers, not an entry: only a
                // paragraph holding a link is one (mdBook's prefix chapters).
                if let Some(o) = open.take() {
                    if o.link.is_some() {
                        out.push(Block::Item(1, o.entry()));
                    }
                }
                paragraph_is_entry = false;
            }
            Event::Rule => out.push(Block::Divider(at)),
            Event::Start(Tag::Link { dest_url, .. }) => {
                if let Some(o) = open.as_mut() {
                    if o.link.is_none() {
                        let written = &text[at..body_offset + range.end];
                        let offset = written
                            .rfind(&*dest_url)
                            .filter(|_| !dest_url.is_empty())
                            .map_or(at, |i| at + i);
                        let len = if dest_url.is_empty() {
                            range.len()
                        } else {
                            dest_url.len()
                        };
                        o.link = Some((dest_url.to_string(), offset, len));
                        o.in_link = true;
                    }
                }
            }
            Event::End(TagEnd::Link) => {
                if let Some(o) = open.as_mut() {
                    o.in_link = false;
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(o) = open.as_mut() {
                    o.text.push_str(&t);
                    if o.in_link {
                        o.link_text.push_str(&t);
                    }
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(o) = open.as_mut() {
                    o.text.push(' ');
                }
            }
            _ => {}
        }
    }
    out
}

/// Builds the tree: each block goes under the nearest block before it that is shallower.
fn nest(blocks: Vec<Block>) -> Vec<Entry> {
    let top = blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading(l, _) => Some(*l),
            _ => None,
        })
        .min()
        .unwrap_or(1);
    // mdBook's `# Summary`: a lone first h1 without a link names the file.
    let skip_title = matches!(blocks.first(), Some(Block::Heading(1, e)) if e.link.is_none())
        && blocks
            .iter()
            .filter(|b| matches!(b, Block::Heading(1, _)))
            .count()
            == 1
        && blocks.len() > 1;
    let top = if skip_title {
        blocks
            .iter()
            .skip(1)
            .filter_map(|b| match b {
                Block::Heading(l, _) => Some(*l),
                _ => None,
            })
            .min()
            .unwrap_or(2)
    } else {
        top
    };
    let mut roots: Vec<Entry> = Vec::new();
    // The open entries, by depth: `path[i]` is the index of the open entry at depth i + 1
    // among its parent's children.
    let mut path: Vec<(usize, usize)> = Vec::new();
    let mut heading_depth = 0usize;
    for (i, block) in blocks.into_iter().enumerate() {
        let (depth, entry) = match block {
            Block::Heading(..) if i == 0 && skip_title => continue,
            Block::Heading(level, entry) => {
                let depth = usize::from(level.saturating_sub(top)) + 1;
                heading_depth = depth;
                (depth, entry)
            }
            Block::Item(lists, entry) => (heading_depth + lists, entry),
            Block::Divider(offset) => {
                // A rule ends every group: it stands between top-level entries.
                path.clear();
                heading_depth = 0;
                roots.push(Entry {
                    title: String::new(),
                    link: None,
                    divider: true,
                    offset,
                    len: 3,
                    children: Vec::new(),
                });
                continue;
            }
        };
        while path.last().is_some_and(|&(d, _)| d >= depth) {
            path.pop();
        }
        let siblings = children_at(&mut roots, &path);
        siblings.push(entry);
        let index = siblings.len() - 1;
        path.push((depth, index));
    }
    roots
}

/// The children list of the entry at `path` (the roots when `path` is empty).
fn children_at<'a>(roots: &'a mut Vec<Entry>, path: &[(usize, usize)]) -> &'a mut Vec<Entry> {
    let mut list = roots;
    for &(_, i) in path {
        // `path` only ever holds indexes of entries that were pushed; the check keeps it so.
        if i >= list.len() {
            break;
        }
        list = &mut list[i].children;
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nav(text: &str) -> NavFile {
        parse(NavSource {
            display: "content/docs/_nav.md".into(),
            text: text.into(),
        })
        .unwrap()
    }

    /// The tree as `title(link)[children]` lines, indented by depth.
    fn outline(entries: &[Entry]) -> String {
        fn walk(entries: &[Entry], depth: usize, out: &mut String) {
            for e in entries {
                out.push_str(&"  ".repeat(depth));
                if e.divider {
                    out.push_str("---\n");
                    continue;
                }
                out.push_str(&e.title);
                if let Some(l) = &e.link {
                    out.push_str(&format!(" -> {l}"));
                }
                out.push('\n');
                walk(&e.children, depth + 1, out);
            }
        }
        let mut out = String::new();
        walk(entries, 0, &mut out);
        out
    }

    #[test]
    fn heading_form_nests_by_level_with_dividers() {
        let n = nav(concat!(
            "---\nexpanded: [Self-host]\n---\n",
            "## [Why Acme](/introduction/what-is-acme)\n\n",
            "## Self-host\n\n",
            "### [Install](/get-started/self-host)\n\n",
            "#### [Docker](docker.md)\n\n",
            "### [Upgrade](upgrade.md)\n\n",
            "---\n\n",
            "## [API](/api/)\n",
        ));
        assert_eq!(
            outline(&n.entries),
            "Why Acme -> /introduction/what-is-acme\nSelf-host\n  Install -> /get-started/self-host\n    Docker -> docker.md\n  Upgrade -> upgrade.md\n---\nAPI -> /api/\n"
        );
        assert_eq!(n.expanded, ["Self-host"]);
        let docker = &n.entries[1].children[0].children[0];
        let loc = n.location(docker);
        assert_eq!(
            (loc.line, loc.column, loc.len),
            (10, 15, 9),
            "at the link's target"
        );
    }

    #[test]
    fn list_form_as_in_mdbook() {
        let n = nav(concat!(
            "# Summary\n\n",
            "[Introduction](intro.md)\n\n",
            "- [Guide](guide/index.md)\n",
            "  - [Install `cli`](guide/install.md)\n",
            "  - [Draft]()\n",
            "- Reference\n",
            "  - [Options](ref/options.md)\n\n",
            "# Appendix\n\n",
            "- [FAQ](faq.md)\n",
        ));
        assert_eq!(
            outline(&n.entries),
            "Summary\n  Introduction -> intro.md\n  Guide -> guide/index.md\n    Install cli -> guide/install.md\n    Draft\n  Reference\n    Options -> ref/options.md\nAppendix\n  FAQ -> faq.md\n"
        );
        let lone = nav("# Summary\n\n- [A](a.md)\n- [B](b.md)\n");
        assert_eq!(
            outline(&lone.entries),
            "A -> a.md\nB -> b.md\n",
            "a lone # Summary is the title"
        );
    }

    #[test]
    fn lists_under_headings_and_loose_lists() {
        let n = nav(
            "## Start\n\n- [A](a.md)\n\n- [B](b.md)\n\n  - [C](c.md)\n\n## [D](d.md)\n\nSome prose.\n",
        );
        assert_eq!(
            outline(&n.entries),
            "Start\n  A -> a.md\n  B -> b.md\n    C -> c.md\nD -> d.md\n"
        );
    }

    #[test]
    fn unknown_frontmatter_keys_warn_and_bad_types_fail() {
        let n = nav("---\nexpand: [A]\n---\n- [A](a.md)\n");
        assert_eq!(n.warnings.len(), 1);
        assert_eq!(n.warnings[0].kind.code(), "unknown-key");
        assert!(!n.warnings[0].is_error());
        assert_eq!(n.warnings[0].location.line, 2);
        assert_eq!(
            n.warnings[0].kind.hint().as_deref(),
            Some("did you mean `expanded`?")
        );
        let errs = parse(NavSource {
            display: "n.md".into(),
            text: "---\nexpanded: 3\n---\n".into(),
        })
        .unwrap_err();
        assert_eq!(
            (errs[0].kind.code(), errs[0].location.line),
            ("frontmatter", 2)
        );
        assert!(
            parse(NavSource {
                display: "n.md".into(),
                text: "---\nexpanded: [a\n".into(),
            })
            .is_err(),
            "unclosed frontmatter"
        );
    }

    #[test]
    fn odd_input_gives_entries_not_panics() {
        for text in [
            "",
            "---\n",
            "## \n",
            "- \n",
            "[x](",
            "### [é](é.md)\n# [a](b)\n",
            "> ## [quoted](q.md)\n",
        ] {
            let _ = parse(NavSource {
                display: "n.md".into(),
                text: text.into(),
            });
        }
        assert!(nav("> - [quoted](q.md)\n").entries.is_empty());
    }
}
