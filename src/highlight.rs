//! Build-time syntax highlighting of fenced code: spans with `hl-` classes styled by the theme's
//! CSS, so readers download no highlighter.
//!
//! The own scanners come first and are lexical: one for C-like and scripting languages driven by
//! a table per language (`languages`), and small scanners for shells, YAML, TOML, markup, CSS
//! and SQL (`scan`). Every other language a grammar of bat's set knows is highlighted through
//! it (`grammars`), with the same classes; it costs ~50 times the CPU per block (see
//! benches/highlighters), so the languages docs use most stay with the own scanners.
//! This was chosen by measurement on 10,000 different 10–20 line blocks on this 2-core machine:
//! tree-sitter grammars took ~2.3 s of CPU (two thirds of it in parsing alone, so no cheaper
//! query could fix it), syntect 9–11 s; the scanners take under 0.2 s and write half of
//! tree-sitter's HTML (no spans for punctuation, which the theme does not colour). What a lexer
//! cannot know (a parameter from a local variable, a type from a value in Go) is left unstyled.
//! Results are also kept in a content-addressed cache (see [`Cache`]).

mod grammars;
mod languages;
mod scan;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use languages::LANGUAGES;
use scan::{Out, Scanner};

/// Bump whenever output for the same input changes, so cached HTML is not reused.
const VERSION: &str = "docsite-highlight-4";

/// Highlights fenced code, with results cached in an optional [`Cache`].
pub struct Highlighter {
    cache: Option<Cache>,
    grammars: grammars::Grammars,
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
            cache,
            grammars: grammars::Grammars::default(),
        }
    }

    fn language_index(name: &str) -> Option<usize> {
        let name = name.trim();
        LANGUAGES.iter().position(|l| {
            l.name.eq_ignore_ascii_case(name)
                || l.fences.iter().any(|f| f.eq_ignore_ascii_case(name))
        })
    }

    /// Highlights `code` as `lang`, returning HTML for the inside of a `<code>` element, or
    /// `None` when the language is unknown (the caller then escapes the code as plain text).
    ///
    /// The own scanners are tried first; a language they do not know goes to the grammar set.
    pub fn highlight(&self, lang: &str, code: &str) -> Option<Cow<'_, str>> {
        let index = Self::language_index(lang);
        let (name, token) = match index {
            Some(i) => (LANGUAGES.get(i)?.name, None),
            None => {
                let token = grammars::token(lang)?;
                (token, Some(token))
            }
        };
        let key = self.cache.as_ref().map(|_| {
            let mut h = blake3::Hasher::new();
            h.update(VERSION.as_bytes());
            h.update(&[0]);
            // Grammar names are kept apart from the own scanners' (`sql` could be either).
            h.update(if token.is_some() { b"g:" } else { b"s:" });
            h.update(name.as_bytes());
            h.update(&[0]);
            h.update(code.as_bytes());
            *h.finalize().as_bytes()
        });
        if let (Some(cache), Some(key)) = (&self.cache, &key) {
            if let Some(html) = cache.get(key) {
                return Some(Cow::Borrowed(html));
            }
        }
        let mut html = String::with_capacity(code.len() * 2);
        let out = &mut Out { html: &mut html };
        match (index, token) {
            (Some(i), _) => scan_into(i, code, out),
            (None, Some(token)) => {
                if !self.grammars.highlight(token, code, out) {
                    return None;
                }
            }
            (None, None) => return None,
        }
        if let (Some(cache), Some(key)) = (&self.cache, key) {
            cache.put(key, &html);
        }
        Some(Cow::Owned(html))
    }

    /// Writes the cache back (new results in, results no longer used out).
    pub fn save_cache(&self) -> std::io::Result<()> {
        match &self.cache {
            Some(c) => c.save(),
            None => Ok(()),
        }
    }
}

/// Fence names that mean "no language" (or one no highlighter has): never taken for typos.
const PLAIN: &[&str] = &[
    "ascii",
    "log",
    "math",
    "mermaid",
    "none",
    "nohighlight",
    "output",
    "plain",
    "plaintext",
    "raw",
    "text",
    "txt",
];

/// The language a fence's `lang` is one edit from (`sqll` → `sql`), when `lang` is not one
/// docsite highlights itself: a likely typo, worth a warning. Unknown names further from every
/// known one are taken as deliberate and left alone.
pub fn near_miss(lang: &str) -> Option<&'static str> {
    let lang = lang.trim();
    // Short names are one edit from too many others (`cc`, `ml`) to mean a typo.
    if lang.len() < 3 || lang.len() > 40 {
        return None;
    }
    let lower = lang.to_lowercase();
    if PLAIN.contains(&lower.as_str())
        || Highlighter::language_index(lang).is_some()
        || grammars::token(lang).is_some()
    {
        return None;
    }
    LANGUAGES
        .iter()
        .flat_map(|l| l.fences.iter().copied())
        .chain(grammars::names())
        .filter(|known| known.len() >= 3)
        .find(|known| strsim::damerau_levenshtein(&lower, known) == 1)
}

/// Highlights `code` in the language at `index` of [`LANGUAGES`].
fn scan_into(index: usize, code: &str, out: &mut Out<'_>) {
    let Some(language) = LANGUAGES.get(index) else {
        scan::escape(out.html, code);
        return;
    };
    match language.scanner {
        Scanner::Code(table) => scan::code(table, code, out),
        Scanner::Shell => scan::shell(code, languages::SHELL_KEYWORDS, out),
        Scanner::Yaml => scan::yaml(code, out),
        Scanner::Toml => scan::toml(code, out),
        Scanner::Css => scan::css(code, out),
        Scanner::Sql(backslash) => scan::sql(code, languages::SQL_WORDS, backslash, out),
        Scanner::Markup => scan::markup(code, out, &|lang, body, out| {
            match Highlighter::language_index(lang) {
                // Markup inside markup is not embedded, so this cannot recurse without end.
                Some(i) if !matches!(LANGUAGES[i].scanner, Scanner::Markup) => {
                    scan_into(i, body, out);
                    true
                }
                _ => false,
            }
        }),
    }
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

    fn get(&self, key: &[u8; 32]) -> Option<&str> {
        let range = self.entries.get(key)?;
        if let Ok(mut used) = self.used.lock() {
            used.insert(*key);
        }
        self.data.get(range.clone())
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
        // Read under the locks rather than copied out: after a first build the new results are
        // as large as all the highlighted code together.
        let used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = self.fresh.lock().unwrap_or_else(|e| e.into_inner());
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

    /// The text of highlighted HTML: spans removed, entities decoded.
    fn text_of(html: &str) -> String {
        let mut out = String::new();
        let mut rest = html;
        while let Some(i) = rest.find('<') {
            out.push_str(&rest[..i]);
            rest = &rest[i + rest[i..].find('>').unwrap() + 1..];
        }
        out.push_str(rest);
        out.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }

    fn spans(html: &str) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let mut rest = html;
        while let Some(i) = rest.find("<span class=\"") {
            rest = &rest[i + 13..];
            let q = rest.find('"').unwrap();
            let class = rest[..q].to_string();
            let body_start = rest.find('>').unwrap() + 1;
            let body_end = rest.find("</span>").unwrap();
            found.push((class, text_of(&rest[body_start..body_end])));
            rest = &rest[body_end..];
        }
        found
    }

    fn has(html: &str, class: &str, text: &str) -> bool {
        spans(html).iter().any(|(c, t)| c == class && t == text)
    }

    #[track_caller]
    fn check(lang: &str, code: &str, expected: &[(&str, &str)]) {
        let html = Highlighter::default()
            .highlight(lang, code)
            .unwrap()
            .into_owned();
        assert_eq!(text_of(&html), code, "{html}");
        for (class, text) in expected {
            assert!(
                has(&html, &format!("hl-{class}").replace(' ', " hl-"), text),
                "{lang}: no {class} span {text:?} in {html}"
            );
        }
    }

    #[test]
    fn rust_tokens() {
        check(
            "rust",
            "#[derive(Debug)]\n/// Doc.\npub fn parse<'a>(s: &'a str) -> Result<u8, Error> {\n    let c = 'x'; /* a /* nested */ comment */\n    println!(\"{}\\n\", s.len());\n    self.field = r#\"raw \"q\"\"#;\n    Ok(0x1F + 1.5e-3 as u8)\n}\n",
            &[
                ("attribute", "#[derive(Debug)]"),
                ("comment", "/// Doc."),
                ("keyword", "pub"),
                ("keyword", "fn"),
                ("function", "parse"),
                ("label", "'a"),
                ("type builtin", "str"),
                ("type", "Result"),
                ("type builtin", "u8"),
                ("string", "'x'"),
                ("comment", "/* a /* nested */ comment */"),
                ("function macro", "println!"),
                ("string", "\"{}"),
                ("escape", "\\n"),
                ("function", "len"),
                ("variable builtin", "self"),
                ("property", "field"),
                ("string", "r#\"raw \"q\"\"#"),
                ("number", "0x1F"),
                ("number", "1.5e-3"),
            ],
        );
    }

    #[test]
    fn script_and_data_languages() {
        check(
            "python",
            "@cache\ndef run(self, n=3):\n    \"\"\"Doc.\"\"\"\n    return print(f'{n}') or None  # done\n",
            &[
                ("function", "@cache"),
                ("keyword", "def"),
                ("function", "run"),
                ("variable builtin", "self"),
                ("number", "3"),
                ("string", "\"\"\"Doc.\"\"\""),
                ("function builtin", "print"),
                ("string", "f'{n}'"),
                ("constant builtin", "None"),
                ("comment", "# done"),
            ],
        );
        check(
            "js",
            "const re = /a[/]b/g; // c\nclass A extends B { x = `t ${y}`; }\nf({ key: 1 }, this.k);\n",
            &[
                ("keyword", "const"),
                ("string special", "/a[/]b/g"),
                ("comment", "// c"),
                ("type", "A"),
                ("string", "`t ${y}`"),
                ("function", "f"),
                ("property", "key"),
                ("variable builtin", "this"),
                ("property", "k"),
            ],
        );
        check(
            "go",
            "func main() {\n\tvar s string = `raw`\n\tfmt.Println(len(s), nil)\n}\n",
            &[
                ("function", "main"),
                ("type builtin", "string"),
                ("string", "`raw`"),
                ("function", "Println"),
                ("function builtin", "len"),
                ("constant builtin", "nil"),
            ],
        );
        check(
            "bash",
            "#!/bin/sh\nNAME=\"$(date +%s)\" ./run.sh --flag 2>&1 | grep 'x' # c\nfor f in *.md; do echo \"$f\" ${HOME}; done\n",
            &[
                ("comment", "#!/bin/sh"),
                ("property", "NAME"),
                ("string", "\""),
                ("function", "date"),
                ("function", "./run.sh"),
                ("function", "grep"),
                ("string", "'x'"),
                ("comment", "# c"),
                ("keyword", "for"),
                ("property", "f"),
                ("keyword", "in"),
                ("keyword", "do"),
                ("function", "echo"),
                ("property", "$f"),
                ("property", "${HOME}"),
                ("keyword", "done"),
            ],
        );
        check(
            "yaml",
            "# c\nkey: value\nlist:\n  - \"q\" # note\n  - n: 12\n    on: true\nflow: [a, 1]\ntext: |\n  a: b\nend: ~\n",
            &[
                ("comment", "# c"),
                ("property", "key"),
                ("string", "value"),
                ("string", "\"q\""),
                ("comment", "# note"),
                ("property", "n"),
                ("number", "12"),
                ("constant builtin", "true"),
                ("string", "a"),
                ("number", "1"),
                ("string", "a: b"),
                ("property", "end"),
                ("constant builtin", "~"),
            ],
        );
        check(
            "toml",
            "[package.meta]\nname = \"x\" # c\na.b = [1.5, 2]\nwhen = 1979-05-27T07:32:00Z\nok = true\n",
            &[
                ("type", "package.meta"),
                ("property", "name"),
                ("string", "\"x\""),
                ("comment", "# c"),
                ("property", "a"),
                ("property", "b"),
                ("number", "1.5"),
                ("number", "1979-05-27T07:32:00Z"),
                ("constant builtin", "true"),
            ],
        );
        check(
            "json",
            "{\"a\": [\"s\\u00e9\", 1, true, null]}\n",
            &[
                ("property", "\"a\""),
                ("string", "\"s"),
                ("escape", "\\u00e9"),
                ("number", "1"),
                ("constant builtin", "true"),
            ],
        );
    }

    #[test]
    fn sql_tokens() {
        check(
            "sql",
            "-- Top accounts\nSELECT a.id, COUNT(*) AS n, \"order\", `group`, sum\nFROM accounts a\nWHERE a.name = 'O''Brien' AND a.created_at >= NOW() - INTERVAL '7 days'\n  AND a.score > 1.5e3 OR a.id IN ($1, :id, @v) /* a /* nested */ one */\nGROUP BY 1 order by n desc limit 10;\n",
            &[
                ("comment", "-- Top accounts"),
                ("keyword", "SELECT"),
                ("function builtin", "COUNT"),
                ("keyword", "AS"),
                ("keyword", "FROM"),
                ("keyword", "WHERE"),
                ("string", "'O''Brien'"),
                ("keyword", "AND"),
                ("function builtin", "NOW"),
                ("type builtin", "INTERVAL"),
                ("string", "'7 days'"),
                ("number", "1.5e3"),
                ("keyword", "IN"),
                ("variable builtin", "$1"),
                ("variable builtin", ":id"),
                ("variable builtin", "@v"),
                ("comment", "/* a /* nested */ one */"),
                ("keyword", "order"),
                ("keyword", "desc"),
                ("number", "10"),
            ],
        );
        let html = Highlighter::default()
            .highlight("sql", "SELECT \"order\", `group`, t.select, sum FROM t;\n")
            .unwrap()
            .into_owned();
        // Quoted identifiers, qualified names and a builtin function's name not called are
        // names, whatever they spell.
        for name in ["order", "group", "select", "sum"] {
            assert!(!has(&html, "hl-keyword", name), "{name}: {html}");
            assert!(
                !has(&html, "hl-function hl-builtin", name),
                "{name}: {html}"
            );
        }
        check(
            "postgresql",
            "CREATE TABLE users (\n  id bigserial PRIMARY KEY,\n  email varchar(255) NOT NULL UNIQUE,\n  meta jsonb DEFAULT '{}'::jsonb\n);\nCREATE FUNCTION touch() RETURNS trigger AS $$\nBEGIN NEW.at := now(); RETURN NEW; END;\n$$ LANGUAGE plpgsql;\nSELECT E'a\\n', x::my_type, 0x1F, my_fn(2);\n",
            &[
                ("keyword", "CREATE"),
                ("keyword", "TABLE"),
                ("type builtin", "bigserial"),
                ("keyword", "PRIMARY"),
                ("type builtin", "varchar"),
                ("number", "255"),
                ("constant builtin", "NULL"),
                ("string", "'{}'"),
                ("type builtin", "jsonb"),
                ("function", "touch"),
                ("string", "$$\nBEGIN NEW.at := now(); RETURN NEW; END;\n$$"),
                ("string", "E'a"),
                ("escape", "\\n"),
                ("type", "my_type"),
                ("number", "0x1F"),
                ("function", "my_fn"),
            ],
        );
        check(
            "mysql",
            "INSERT INTO t (a) VALUES ('it\\'s') ON DUPLICATE KEY UPDATE a = 1abc;\n",
            &[
                ("keyword", "INSERT"),
                ("string", "'it"),
                ("escape", "\\'"),
                ("keyword", "DUPLICATE"),
            ],
        );
    }

    #[test]
    fn markup_and_css() {
        check(
            "html",
            "<!DOCTYPE html>\n<!-- c -->\n<a href=\"/x\" hidden>&amp;</a>\n<script>let x = 1;</script>\n<style>p { color: red; }</style>\n",
            &[
                ("constant", "<!DOCTYPE html>"),
                ("comment", "<!-- c -->"),
                ("tag", "a"),
                ("attribute", "href"),
                ("string", "\"/x\""),
                ("attribute", "hidden"),
                ("escape", "&amp;"),
                ("tag", "script"),
                ("keyword", "let"),
                ("number", "1"),
                ("property", "color"),
            ],
        );
        check(
            "css",
            "@media (min-width: 40em) {\n  a.nav:hover, #id > p { margin: 0 auto !important; color: #fff; width: calc(100% - 2px); }\n}\n/* c */\n",
            &[
                ("keyword", "@media"),
                ("tag", "a"),
                ("property", ".nav"),
                ("attribute", ":hover"),
                ("property", "#id"),
                ("tag", "p"),
                ("property", "margin"),
                ("number", "0"),
                ("keyword", "!important"),
                ("number", "#fff"),
                ("function", "calc"),
                ("number", "100%"),
                ("comment", "/* c */"),
            ],
        );
    }

    #[test]
    fn any_input_keeps_its_text() {
        // Every prefix of tricky input, in every language: unterminated strings, comments and
        // tags, multi-byte characters at token edges, lone quotes. Nothing may be lost or panic.
        let tricky = "x = \"é\\\"\n'ü' /* r#\"\n` ${ <a b='c\n#[x  $( {a: [1, \"\n<!-- <script>\u{1F600}'a\\";
        let h = Highlighter::default();
        let mut cut: Vec<usize> = tricky.char_indices().map(|(i, _)| i).collect();
        cut.push(tricky.len());
        for lang in languages::LANGUAGES {
            for &end in &cut {
                let code = &tricky[..end];
                let html = h.highlight(lang.name, code).unwrap();
                assert_eq!(text_of(&html), code, "{}: {html}", lang.name);
            }
        }
    }

    #[test]
    fn near_misses_are_named_others_are_not() {
        assert_eq!(near_miss("sqll"), Some("sql"));
        assert_eq!(near_miss("SLQ"), Some("sql"));
        assert_eq!(near_miss("pyhton"), Some("python"));
        assert_eq!(near_miss("javaa"), Some("java"));
        for fine in [
            "sql", "SQL", "java", "nginx", "text", "txt", "", "x", "mermaid",
        ] {
            assert_eq!(near_miss(fine), None, "{fine}");
        }
        // Far from everything: deliberate, stays plain without a word.
        assert_eq!(near_miss("my-own-dsl"), None);
    }

    #[test]
    fn long_tail_languages_use_the_theme_classes() {
        let h = Highlighter::default();
        let html = h
            .highlight(
                "java",
                "// c\npublic class A { int n = 42; String s = \"x\"; }\n",
            )
            .unwrap();
        assert_eq!(
            text_of(&html),
            "// c\npublic class A { int n = 42; String s = \"x\"; }\n"
        );
        // Neighbouring tokens of one class share a span (`public class`).
        let within = |html: &str, class: &str, text: &str| {
            spans(html)
                .iter()
                .any(|(c, t)| c == class && t.contains(text))
        };
        assert!(within(&html, "hl-comment", "// c"), "{html}");
        assert!(within(&html, "hl-keyword", "public"), "{html}");
        assert!(within(&html, "hl-number", "42"), "{html}");
        assert!(within(&html, "hl-string", "\"x\""), "{html}");
        // Only classes the theme styles.
        for (class, _) in spans(&html) {
            assert!(class.starts_with("hl-"), "{class}");
        }
        let nginx = h.highlight("nginx", "server { listen 80; } # c\n").unwrap();
        assert!(within(&nginx, "hl-comment", "# c"), "{nginx}");
        assert!(h.highlight("no-such-lang", "x").is_none());
    }

    #[test]
    fn long_tail_results_are_cached_apart_from_own_ones() {
        let dir = tempfile::tempdir().unwrap();
        let h = Highlighter::new(Some(Cache::open(dir.path())));
        let a = h.highlight("ruby", "def a; end\n").unwrap().into_owned();
        h.save_cache().unwrap();
        let h = Highlighter::new(Some(Cache::open(dir.path())));
        assert_eq!(h.highlight("ruby", "def a; end\n").unwrap(), a);
        assert_eq!(h.cache.as_ref().unwrap().stats(), (1, 0));
        // A warm build never loads the grammar set.
        assert!(h.grammars.is_unloaded());
    }

    #[test]
    fn sql_word_tables_are_sorted_lowercase_and_short() {
        for (words, _) in languages::SQL_WORDS {
            assert!(words.windows(2).all(|w| w[0] < w[1]), "{words:?}");
            assert!(
                words
                    .iter()
                    .all(|w| w.len() <= scan::SQL_MAX_WORD && *w == w.to_lowercase()),
                "{words:?}"
            );
        }
    }

    #[test]
    fn word_tables_are_sorted_and_short() {
        let mut tables = vec![languages::SHELL_KEYWORDS];
        for lang in languages::LANGUAGES {
            if let scan::Scanner::Code(code) = lang.scanner {
                tables.extend(code.words.iter().map(|(words, _)| *words));
            }
        }
        for words in tables {
            assert!(words.windows(2).all(|w| w[0] < w[1]), "{words:?}");
            assert!(words.iter().all(|w| w.len() <= scan::MAX_WORD), "{words:?}");
        }
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
