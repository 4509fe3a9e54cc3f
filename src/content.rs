//! Loading the site's sources: every Markdown page (with its frontmatter), every section folder,
//! every asset beside the pages.
//!
//! This module reads files and knows nothing of URLs, Markdown or templates. It collects every
//! problem in every file rather than stopping at the first.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Error, ErrorKind, Location};
use crate::frontmatter::{self, Frontmatter};

/// A page's source file.
#[derive(Debug, Clone)]
pub struct Source {
    /// Path relative to the content folder, with `/` separators (e.g. `docs/a.md`).
    pub rel: String,
    /// Path for messages: relative to the site root (e.g. `content/docs/a.md`).
    pub display: PathBuf,
    /// The file's text: BOM removed, CRLF turned into LF.
    pub text: String,
    /// Byte offset where the Markdown body starts.
    pub body_offset: usize,
}

impl Source {
    /// The Markdown body.
    pub fn body(&self) -> &str {
        // Empty once a build freed the text to render.
        self.text.get(self.body_offset..).unwrap_or("")
    }
}

/// One Markdown file: a page, or a section's `_index.md`.
#[derive(Debug, Clone)]
pub struct Page {
    /// Where it came from.
    pub source: Source,
    /// Its frontmatter.
    pub meta: Frontmatter,
    /// Set when the file could not be loaded: it stands in the graph (so links to it are not
    /// reported as broken too) but is not rendered. The build fails on the load error anyway.
    pub failed: bool,
}

/// A folder under `content/`.
#[derive(Debug, Clone)]
pub struct Section {
    /// Path relative to the content folder (`""` for the root), `/` separators, no trailing slash.
    pub rel: String,
    /// Index into [`Content::pages`] of its `_index.md`, if it has one.
    pub index: Option<usize>,
    /// Its parent section (`None` for the root).
    pub parent: Option<usize>,
    /// Pages directly inside (indexes into [`Content::pages`]), excluding `_index.md`.
    pub pages: Vec<usize>,
    /// Sections directly inside.
    pub children: Vec<usize>,
    /// Its navigation file (`[nav] file`), if it has one.
    pub nav: Option<crate::nav::NavSource>,
}

/// A file beside the pages that is published as it is (an image, a download).
#[derive(Debug, Clone)]
pub struct Asset {
    /// Path relative to the content folder, `/` separators.
    pub rel: String,
    /// Where to read it.
    pub path: PathBuf,
}

/// Everything under `content/`.
#[derive(Debug, Clone, Default)]
pub struct Content {
    /// Every page, in a stable order (sorted by path).
    pub pages: Vec<Page>,
    /// Every folder; index 0 is the content folder itself.
    pub sections: Vec<Section>,
    /// Every other file.
    pub assets: Vec<Asset>,
}

/// Whether a file or folder name is left out of the site (`_x`, `.x`), `_index.md` excepted.
pub fn is_hidden_name(name: &str) -> bool {
    (name.starts_with('_') || name.starts_with('.')) && name != "_index.md"
}

/// The error for a walked entry that is a symlink leading outside `real_root` (the site root,
/// canonical), reported at `display`; `None` for anything else. A link that does not resolve is
/// left to the walk, which reports it.
pub fn link_outside(entry: &walkdir::DirEntry, real_root: &Path, display: &Path) -> Option<Error> {
    if !entry.path_is_symlink() {
        return None;
    }
    let real = std::fs::canonicalize(entry.path()).ok()?;
    if real.starts_with(real_root) {
        return None;
    }
    let target = std::fs::read_link(entry.path())
        .map_or_else(|_| real.display().to_string(), |t| t.display().to_string());
    Some(Error::new(
        ErrorKind::SymlinkOutside { target },
        Location::file(display),
    ))
}

/// Loads every page, section and asset under `content_dir`, and each folder's navigation file
/// (named `nav_file`, which is never a page). `root` is the site root, for messages. Drafts are
/// skipped unless `drafts` is set.
///
/// Returns what could be loaded together with every problem found, so that the later stages can
/// report their problems too; a page that failed to load is kept as a placeholder.
pub fn load(
    root: &Path,
    content_dir: &Path,
    drafts: bool,
    nav_file: &str,
) -> (Content, Vec<Error>) {
    let mut errors = Vec::new();
    let mut md_files: Vec<(String, PathBuf)> = Vec::new();
    let mut content = Content {
        sections: vec![Section {
            rel: String::new(),
            index: None,
            parent: None,
            pages: Vec::new(),
            children: Vec::new(),
            nav: None,
        }],
        ..Content::default()
    };
    let display = |p: &Path| p.strip_prefix(root).unwrap_or(p).to_path_buf();

    if !content_dir.is_dir() {
        return (
            content,
            vec![Error::new(
                ErrorKind::Io {
                    action: "reading the content folder",
                    message: "no such folder".into(),
                },
                Location::file(display(content_dir)),
            )],
        );
    }

    let real_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let mut walker = walkdir::WalkDir::new(content_dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_hidden_name(&e.file_name().to_string_lossy()));
    let mut section_of_dir: std::collections::HashMap<String, usize> =
        [(String::new(), 0)].into_iter().collect();
    while let Some(entry) = walker.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().map(display).unwrap_or_default();
                if let Some(ancestor) = e.loop_ancestor() {
                    errors.push(Error::new(
                        ErrorKind::SymlinkLoop {
                            target: display(ancestor).display().to_string(),
                        },
                        Location::file(path),
                    ));
                } else {
                    let message = e
                        .io_error()
                        .map_or_else(|| e.to_string(), |io| io.to_string());
                    errors.push(Error::new(
                        ErrorKind::Io {
                            action: "reading",
                            message,
                        },
                        Location::file(path),
                    ));
                }
                continue;
            }
        };
        if entry.depth() == 0 {
            continue;
        }
        if let Some(e) = link_outside(&entry, &real_root, &display(entry.path())) {
            errors.push(e);
            if entry.file_type().is_dir() {
                walker.skip_current_dir();
            }
            continue;
        }
        let Some(rel) = rel_path(entry.path(), content_dir) else {
            errors.push(Error::new(
                ErrorKind::Io {
                    action: "reading",
                    message: "the file name is not valid UTF-8; rename it".into(),
                },
                Location::file(display(entry.path())),
            ));
            continue;
        };
        let parent_rel = rel.rsplit_once('/').map_or("", |(p, _)| p).to_string();
        let parent = section_of_dir.get(&parent_rel).copied().unwrap_or(0);
        if entry.file_type().is_dir() {
            let id = content.sections.len();
            content.sections.push(Section {
                rel: rel.clone(),
                index: None,
                parent: Some(parent),
                pages: Vec::new(),
                children: Vec::new(),
                nav: None,
            });
            content.sections[parent].children.push(id);
            section_of_dir.insert(rel, id);
        } else if rel.ends_with(".md") {
            if entry.file_name().to_str() != Some(nav_file) {
                md_files.push((rel, entry.path().to_path_buf()));
            }
        } else {
            content.assets.push(Asset {
                rel,
                path: entry.path().to_path_buf(),
            });
        }
    }

    // Navigation files: looked up folder by folder, since `_`-names are not walked.
    for section in &mut content.sections {
        let path = content_dir.join(&section.rel).join(nav_file);
        if !path.is_file() {
            continue;
        }
        let shown = display(&path);
        match std::fs::read(&path) {
            Ok(bytes) => match decode(bytes, &shown) {
                Ok(text) => {
                    section.nav = Some(crate::nav::NavSource {
                        display: shown,
                        text,
                    })
                }
                Err(e) => errors.push(e),
            },
            Err(e) => errors.push(Error::io("reading", &shown, &e)),
        }
    }

    let loaded: Vec<Result<Option<Page>, Vec<Error>>> = md_files
        .par_iter()
        .map(|(rel, path)| load_page(rel, path, &display(path), drafts))
        .collect();
    for ((rel, path), result) in md_files.iter().zip(loaded) {
        let page = match result {
            Ok(Some(page)) => {
                errors.extend(page.meta.warnings.iter().cloned());
                Some(page)
            }
            Ok(None) => None,
            Err(mut e) => {
                errors.append(&mut e);
                let stem = rel
                    .rsplit('/')
                    .next()
                    .unwrap_or(rel)
                    .trim_end_matches(".md");
                Some(Page {
                    source: Source {
                        rel: rel.clone(),
                        display: display(path),
                        text: String::new(),
                        body_offset: 0,
                    },
                    meta: Frontmatter {
                        title: stem.to_string(),
                        ..Frontmatter::default()
                    },
                    failed: true,
                })
            }
        };
        if let Some(page) = page {
            let (dir, name) = rel.rsplit_once('/').unwrap_or(("", rel.as_str()));
            let section = section_of_dir.get(dir).copied().unwrap_or(0);
            let id = content.pages.len();
            if name == "_index.md" {
                content.sections[section].index = Some(id);
            } else {
                content.sections[section].pages.push(id);
            }
            content.pages.push(page);
        }
    }
    (content, errors)
}

fn rel_path(path: &Path, base: &Path) -> Option<String> {
    let rel = path.strip_prefix(base).ok()?;
    let mut out = String::new();
    for c in rel.components() {
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(c.as_os_str().to_str()?);
    }
    Some(out)
}

/// Reads and parses one Markdown file. `Ok(None)` for a draft left out of the build.
pub fn load_page(
    rel: &str,
    path: &Path,
    display: &Path,
    drafts: bool,
) -> Result<Option<Page>, Vec<Error>> {
    let bytes = std::fs::read(path).map_err(|e| vec![Error::io("reading", display, &e)])?;
    let text = decode(bytes, display).map_err(|e| vec![e])?;
    let split = frontmatter::split(&text, display).map_err(|e| vec![e])?;
    let body_offset = split.body_offset;
    let meta = frontmatter::parse(&text, &split, display)?;
    if meta.draft && !drafts {
        return Ok(None);
    }
    Ok(Some(Page {
        source: Source {
            rel: rel.to_string(),
            display: display.to_path_buf(),
            text,
            body_offset,
        },
        meta,
        failed: false,
    }))
}

/// Checks UTF-8 (naming the first bad byte), drops a BOM and turns CRLF into LF.
pub fn decode(bytes: Vec<u8>, display: &Path) -> Result<String, Error> {
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let good = String::from_utf8_lossy(&bytes[..offset]);
            let mut loc = Location::at_offset(display, &good, good.len(), 1);
            loc.source_line = None;
            return Err(Error::new(ErrorKind::InvalidUtf8 { offset }, loc));
        }
    };
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    };
    Ok(if text.contains('\r') {
        text.replace("\r\n", "\n")
    } else {
        text
    })
}

#[cfg(test)]
mod tests {

    /// A link to a file outside the site (the review linked `/proc/self/environ`) was followed and
    /// published; a link inside the site is fine.
    #[cfg(unix)]
    #[test]
    fn links_out_of_the_site_are_errors_at_their_path() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "s").unwrap();
        std::fs::create_dir(outside.path().join("dir")).unwrap();
        std::fs::write(outside.path().join("dir/page.md"), "---\ntitle: X\n---\n").unwrap();
        let site = tempfile::tempdir().unwrap();
        let root = site.path();
        let content = root.join("content");
        std::fs::create_dir_all(&content).unwrap();
        std::fs::write(root.join("shared.txt"), "ok").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.txt"), content.join("env.txt"))
            .unwrap();
        std::os::unix::fs::symlink(outside.path().join("dir"), content.join("linked")).unwrap();
        std::os::unix::fs::symlink(root.join("shared.txt"), content.join("inside.txt")).unwrap();
        let (loaded, errors) = load(root, &content, false, "_nav.md");
        let outside_at: Vec<String> = errors
            .iter()
            .filter(|e| matches!(e.kind, ErrorKind::SymlinkOutside { .. }))
            .map(|e| e.location.to_string())
            .collect();
        assert_eq!(outside_at.len(), 2, "{errors:?}");
        assert!(
            outside_at.iter().any(|l| l.contains("content/env.txt")),
            "{outside_at:?}"
        );
        assert!(
            outside_at.iter().any(|l| l.contains("content/linked")),
            "{outside_at:?}"
        );
        let rels: Vec<&str> = loaded.assets.iter().map(|a| a.rel.as_str()).collect();
        assert_eq!(rels, vec!["inside.txt"]);
        assert!(loaded.pages.is_empty());
    }

    use super::*;

    #[test]
    fn decode_reports_offset_of_bad_byte() {
        let e = decode(b"ok\nbad \xff here".to_vec(), Path::new("a.md")).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidUtf8 { offset: 7 });
        assert_eq!(e.location.line, 2);
    }

    #[test]
    fn decode_drops_bom_and_crlf() {
        let t = decode(
            b"\xef\xbb\xbf---\r\ntitle: x\r\n---\r\n".to_vec(),
            Path::new("a"),
        )
        .unwrap();
        assert_eq!(t, "---\ntitle: x\n---\n");
    }

    #[test]
    fn hidden_names() {
        assert!(is_hidden_name("_draft.md"));
        assert!(is_hidden_name(".git"));
        assert!(!is_hidden_name("_index.md"));
        assert!(!is_hidden_name("page.md"));
    }
}
