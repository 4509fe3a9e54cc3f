//! Build-time syntax highlighting of fenced code: tree-sitter grammars, spans with `hl-` classes
//! styled by the theme's CSS, so readers download no highlighter.
//!
//! tree-sitter was chosen by measurement (10,000 different 10–20 line blocks on this 2-core
//! machine): ~2.3 s of CPU against ~9–11 s for syntect, with a third of syntect's HTML. Even so,
//! highlighting is the largest cost of a build, so results are kept in a content-addressed cache
//! (see [`Cache`]) and an unchanged block is never highlighted twice.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use tree_sitter_highlight::{HighlightConfiguration, HtmlRenderer};

/// Capture names we style; tree-sitter maps each query capture to the longest matching one.
const NAMES: &[&str] = &[
    "attribute",
    "boolean",
    "comment",
    "constant",
    "constant.builtin",
    "constructor",
    "embedded",
    "escape",
    "function",
    "function.builtin",
    "function.macro",
    "keyword",
    "label",
    "module",
    "number",
    "operator",
    "property",
    "punctuation",
    "punctuation.bracket",
    "punctuation.delimiter",
    "punctuation.special",
    "string",
    "string.special",
    "tag",
    "type",
    "type.builtin",
    "variable",
    "variable.builtin",
    "variable.parameter",
];

/// Languages, by the name used in injections, with the fence names that select them.
const LANGUAGES: &[(&str, &[&str])] = &[
    ("rust", &["rust", "rs"]),
    (
        "bash",
        &["bash", "sh", "shell", "console", "zsh", "shell-session"],
    ),
    ("json", &["json", "jsonc", "json5"]),
    ("toml", &["toml"]),
    ("yaml", &["yaml", "yml"]),
    ("javascript", &["javascript", "js", "jsx", "mjs", "cjs"]),
    ("typescript", &["typescript", "ts", "tsx"]),
    ("python", &["python", "py"]),
    ("html", &["html", "htm", "xhtml", "svg", "xml"]),
    ("css", &["css"]),
    ("go", &["go", "golang"]),
];

/// Bump whenever output for the same input changes, so cached HTML is not reused.
const VERSION: &str = "docsite-highlight-2";

fn make_config(name: &str) -> Option<HighlightConfiguration> {
    let js_highlights;
    let ts_highlights;
    let (language, highlights, injections, locals): (tree_sitter::Language, &str, &str, &str) =
        match name {
            "rust" => (
                tree_sitter_rust::LANGUAGE.into(),
                tree_sitter_rust::HIGHLIGHTS_QUERY,
                // Macro-body injections cost a fifth of a cold build and add little: token
                // trees are highlighted by the main query already.
                "",
                "",
            ),
            "bash" => (
                tree_sitter_bash::LANGUAGE.into(),
                tree_sitter_bash::HIGHLIGHT_QUERY,
                "",
                "",
            ),
            "json" => (
                tree_sitter_json::LANGUAGE.into(),
                tree_sitter_json::HIGHLIGHTS_QUERY,
                "",
                "",
            ),
            "toml" => (
                tree_sitter_toml_ng::LANGUAGE.into(),
                tree_sitter_toml_ng::HIGHLIGHTS_QUERY,
                "",
                "",
            ),
            "yaml" => (
                tree_sitter_yaml::LANGUAGE.into(),
                tree_sitter_yaml::HIGHLIGHTS_QUERY,
                "",
                "",
            ),
            "javascript" => {
                js_highlights = format!(
                    "{}\n{}",
                    tree_sitter_javascript::HIGHLIGHT_QUERY,
                    tree_sitter_javascript::JSX_HIGHLIGHT_QUERY
                );
                (
                    tree_sitter_javascript::LANGUAGE.into(),
                    js_highlights.as_str(),
                    // Injections (template tags) and locals are dropped for speed, as for Rust.
                    "",
                    "",
                )
            }
            "typescript" => {
                // The TypeScript queries extend the JavaScript ones.
                ts_highlights = format!(
                    "{}\n{}",
                    tree_sitter_typescript::HIGHLIGHTS_QUERY,
                    tree_sitter_javascript::HIGHLIGHT_QUERY
                );
                (
                    tree_sitter_typescript::LANGUAGE_TSX.into(),
                    ts_highlights.as_str(),
                    "",
                    tree_sitter_typescript::LOCALS_QUERY,
                )
            }
            "python" => (
                tree_sitter_python::LANGUAGE.into(),
                tree_sitter_python::HIGHLIGHTS_QUERY,
                "",
                "",
            ),
            "html" => (
                tree_sitter_html::LANGUAGE.into(),
                tree_sitter_html::HIGHLIGHTS_QUERY,
                tree_sitter_html::INJECTIONS_QUERY,
                "",
            ),
            "css" => (
                tree_sitter_css::LANGUAGE.into(),
                tree_sitter_css::HIGHLIGHTS_QUERY,
                "",
                "",
            ),
            "go" => (
                tree_sitter_go::LANGUAGE.into(),
                tree_sitter_go::HIGHLIGHTS_QUERY,
                "",
                "",
            ),
            _ => return None,
        };
    let mut config =
        HighlightConfiguration::new(language, name, highlights, injections, locals).ok()?;
    config.configure(NAMES);
    Some(config)
}

/// The grammars (compiled lazily, one language at a time, the first time a page uses it), a
/// pool of parsers for the worker threads, and an optional cache of earlier results.
pub struct Highlighter {
    configs: Vec<OnceLock<Option<HighlightConfiguration>>>,
    parsers: Mutex<Vec<tree_sitter_highlight::Highlighter>>,
    attributes: Vec<String>,
    cache: Option<Cache>,
}

impl std::fmt::Debug for Highlighter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Highlighter")
    }
}

impl Default for Highlighter {
    fn default() -> Self {
        Self::new(None)
    }
}

impl Highlighter {
    /// A highlighter, with results cached in `cache` when given.
    pub fn new(cache: Option<Cache>) -> Self {
        Highlighter {
            configs: LANGUAGES.iter().map(|_| OnceLock::new()).collect(),
            parsers: Mutex::new(Vec::new()),
            attributes: NAMES
                .iter()
                .map(|n| {
                    let classes: Vec<String> = n.split('.').map(|p| format!("hl-{p}")).collect();
                    format!("class=\"{}\"", classes.join(" "))
                })
                .collect(),
            cache,
        }
    }

    fn language_index(name: &str) -> Option<usize> {
        let name = name.trim().to_ascii_lowercase();
        LANGUAGES
            .iter()
            .position(|(lang, fences)| *lang == name || fences.contains(&name.as_str()))
    }

    fn config(&self, index: usize) -> Option<&HighlightConfiguration> {
        self.configs[index]
            .get_or_init(|| make_config(LANGUAGES[index].0))
            .as_ref()
    }

    /// Highlights `code` as `lang`, returning HTML for the inside of a `<code>` element, or
    /// `None` when the language is unknown (the caller then escapes the code as plain text).
    pub fn highlight(&self, lang: &str, code: &str) -> Option<String> {
        let index = Self::language_index(lang)?;
        let key = self.cache.as_ref().map(|_| {
            let mut h = blake3::Hasher::new();
            h.update(VERSION.as_bytes());
            h.update(&[0]);
            h.update(LANGUAGES[index].0.as_bytes());
            h.update(&[0]);
            h.update(code.as_bytes());
            *h.finalize().as_bytes()
        });
        if let (Some(cache), Some(key)) = (&self.cache, &key) {
            if let Some(html) = cache.get(key) {
                return Some(html);
            }
        }
        let html = self.highlight_uncached(index, code)?;
        if let (Some(cache), Some(key)) = (&self.cache, key) {
            cache.put(key, &html);
        }
        Some(html)
    }

    fn highlight_uncached(&self, index: usize, code: &str) -> Option<String> {
        let config = self.config(index)?;
        let mut parser = self
            .parsers
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_default();
        let result = (|| {
            let events = parser
                .highlight(config, code.as_bytes(), None, None, |injected| {
                    Self::language_index(injected).and_then(|i| self.config(i))
                })
                .ok()?;
            let mut renderer = HtmlRenderer::new();
            renderer
                .render(events, code.as_bytes(), &|h, out: &mut Vec<u8>| {
                    if let Some(attr) = self.attributes.get(h.0) {
                        out.extend_from_slice(attr.as_bytes());
                    }
                })
                .ok()?;
            // The renderer reopens spans at each line start, leaving empty ones behind.
            let html = String::from_utf8(renderer.html).ok()?;
            Some(strip_empty_spans(&html))
        })();
        if let Ok(mut pool) = self.parsers.lock() {
            pool.push(parser);
        }
        result
    }

    /// Writes the cache back (new results in, results no longer used out).
    pub fn save_cache(&self) -> std::io::Result<()> {
        match &self.cache {
            Some(c) => c.save(),
            None => Ok(()),
        }
    }
}

fn strip_empty_spans(html: &str) -> String {
    let mut out = html.to_string();
    loop {
        let Some(start) = find_empty_span(&out) else {
            return out;
        };
        let end = out[start..].find("</span>").map(|i| start + i + 7);
        match end {
            Some(end) => out.replace_range(start..end, ""),
            None => return out,
        }
    }
}

fn find_empty_span(html: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = html[from..].find("<span ") {
        let start = from + i;
        let close = html[start..].find('>')? + start;
        if html[close + 1..].starts_with("</span>") {
            return Some(start);
        }
        from = close;
    }
    None
}

/// Highlighted HTML from earlier builds, by a hash of the language and the code.
///
/// One file in the cache folder: it is read whole at the start of a build and rewritten (to a
/// temporary file, then renamed, so two builds at once never see half a file) only when something
/// changed. Entries no build used are dropped on the next write. A damaged file is ignored.
#[derive(Debug)]
pub struct Cache {
    path: PathBuf,
    /// The whole file, validated as UTF-8 once; entries are ranges of it.
    data: String,
    entries: HashMap<[u8; 32], std::ops::Range<usize>>,
    used: Mutex<HashSet<[u8; 32]>>,
    fresh: Mutex<HashMap<[u8; 32], String>>,
}

const MAGIC: &[u8] = b"docsite-highlight-cache-2\n";

impl Cache {
    /// Opens the cache file in `dir` (which need not exist yet).
    pub fn open(dir: &Path) -> Cache {
        let path = dir.join("highlight.cache");
        let (data, entries) = std::fs::read(&path)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|data| parse_cache(&data).map(|e| (data, e)))
            .unwrap_or_default();
        Cache {
            path,
            data,
            entries,
            used: Mutex::new(HashSet::new()),
            fresh: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, key: &[u8; 32]) -> Option<String> {
        let range = self.entries.get(key)?;
        if let Ok(mut used) = self.used.lock() {
            used.insert(*key);
        }
        self.data.get(range.clone()).map(str::to_string)
    }

    fn put(&self, key: [u8; 32], html: &str) {
        if let Ok(mut fresh) = self.fresh.lock() {
            fresh.insert(key, html.to_string());
        }
    }

    /// How many results came from the cache and how many were computed.
    pub fn stats(&self) -> (usize, usize) {
        let used = self.used.lock().map_or(0, |u| u.len());
        let fresh = self.fresh.lock().map_or(0, |f| f.len());
        (used, fresh)
    }

    fn save(&self) -> std::io::Result<()> {
        let used = self.used.lock().map(|u| u.clone()).unwrap_or_default();
        let fresh = self.fresh.lock().map(|f| f.clone()).unwrap_or_default();
        if fresh.is_empty() && used.len() == self.entries.len() {
            return Ok(());
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        {
            let mut w = std::io::BufWriter::new(tmp.as_file_mut());
            w.write_all(MAGIC)?;
            let kept = self
                .entries
                .iter()
                .filter(|(k, _)| used.contains(*k))
                .filter_map(|(k, r)| Some((k, self.data.get(r.clone())?)));
            for (key, html) in kept.chain(fresh.iter().map(|(k, h)| (k, h.as_str()))) {
                // Hex keys and decimal lengths keep the whole file UTF-8, so it is validated
                // once when read and entries are slices of it.
                writeln!(w, "{} {}", blake3::Hash::from(*key).to_hex(), html.len())?;
                w.write_all(html.as_bytes())?;
            }
            w.flush()?;
        }
        tmp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// The entries of a cache file: after the magic line, each entry is `HEXKEY LEN\n` followed by
/// LEN bytes of HTML.
fn parse_cache(data: &str) -> Option<HashMap<[u8; 32], std::ops::Range<usize>>> {
    let mut pos = MAGIC.len();
    if data.as_bytes().get(..pos)? != MAGIC {
        return None;
    }
    let mut entries = HashMap::new();
    while pos < data.len() {
        let line_end = pos + data.get(pos..)?.find('\n')?;
        let (hex, len) = data.get(pos..line_end)?.split_once(' ')?;
        let key = *blake3::Hash::from_hex(hex).ok()?.as_bytes();
        let start = line_end + 1;
        let end = start.checked_add(len.parse().ok()?)?;
        data.get(start..end)?;
        entries.insert(key, start..end);
        pos = end;
    }
    Some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_language_gets_classes_unknown_gets_none() {
        let h = Highlighter::default();
        let html = h.highlight("rs", "fn main() {}\n").unwrap();
        assert!(
            html.contains("<span class=\"hl-keyword\">fn</span>"),
            "{html}"
        );
        assert!(h.highlight("no-such-lang", "x").is_none());
        assert!(h.highlight("", "x").is_none());
        for lang in [
            "sh", "toml", "yaml", "json", "ts", "python", "go", "css", "html", "js",
        ] {
            assert!(h.highlight(lang, "x = 1\n").is_some(), "{lang}");
        }
    }

    #[test]
    fn code_is_escaped() {
        let h = Highlighter::default();
        let html = h.highlight("html", "<script>alert(1)</script>\n").unwrap();
        assert!(!html.contains("<script>"), "{html}");
        let plain = h.highlight("bash", "echo '<b>'\n").unwrap();
        assert!(plain.contains("&lt;b&gt;"), "{plain}");
    }

    #[test]
    fn no_empty_spans() {
        let h = Highlighter::default();
        let html = h
            .highlight("rust", "/// doc\n/// more\nfn a() {}\n")
            .unwrap();
        assert!(!html.contains("\"></span>"), "{html}");
    }

    #[test]
    fn cache_round_trip_reuses_and_prunes() {
        let dir = tempfile::tempdir().unwrap();
        let h = Highlighter::new(Some(Cache::open(dir.path())));
        let a = h.highlight("rust", "fn a() {}\n").unwrap();
        h.highlight("rust", "fn b() {}\n").unwrap();
        h.save_cache().unwrap();

        let h = Highlighter::new(Some(Cache::open(dir.path())));
        assert_eq!(h.highlight("rust", "fn a() {}\n").unwrap(), a);
        assert_eq!(h.cache.as_ref().unwrap().stats(), (1, 0));
        h.save_cache().unwrap();
        // `fn b` was not used by the second build: pruned.
        let c = Cache::open(dir.path());
        assert_eq!(c.entries.len(), 1);
    }

    #[test]
    fn damaged_cache_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("highlight.cache"),
            b"docsite-highlight-cache-2\nxx 12\n",
        )
        .unwrap();
        let h = Highlighter::new(Some(Cache::open(dir.path())));
        assert!(h.highlight("rust", "fn a() {}\n").is_some());
    }
}
