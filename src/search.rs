//! The search index, built with the site and served as static files, so search works on any
//! static host. It is split so a query downloads only what it needs:
//!
//! - `search/meta.json`: the format version, how many sections a chunk holds, and the list of
//!   term shards that exist (so the browser never asks for one that does not);
//! - `search/t/<hex of the term's first two characters>.json`: the terms starting with those
//!   characters, each with its stem and its postings (section, score), best first, at most
//!   [`MAX_POSTINGS`];
//! - `search/s/<n>.json`: [`CHUNK`] sections each — page title, URL, heading, anchor, text — for
//!   the results and their excerpts.
//!
//! Terms are normalized (lowercase, accents removed, CJK characters one by one) the same way
//! `search.js` normalizes a query, and stemmed with Snowball's English stemmer here, so the
//! browser can group a word with its inflections without shipping a stemmer.

use std::collections::{BTreeMap, HashMap};

use rust_stemmers::{Algorithm, Stemmer};
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use crate::error::Error;
use crate::markdown::Rendered;
use crate::output::Sink;
use crate::site::Site;

/// Sections per metadata chunk: small enough that ten results cost little to fetch.
pub const CHUNK: usize = 16;
/// Postings kept per term, best first: a term on every page of a 10,000-page site must not make
/// its shard megabytes.
pub const MAX_POSTINGS: usize = 300;
/// Characters of section text kept for excerpts.
const TEXT_CHARS: usize = 240;
/// Words too common to tell sections apart; not indexed, and dropped from queries by
/// `search.js` (the list travels in `meta.json`).
pub const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "its", "of", "on", "or", "so", "that", "the", "their", "then", "there", "these", "this", "to",
    "was", "will", "with", "you", "your",
];
/// The index format, checked by `search.js`.
pub const VERSION: u32 = 1;

/// Whether `w` is a stop word (the list is sorted; most words are longer than any of them).
fn is_stop(w: &str) -> bool {
    w.len() <= 5 && STOP_WORDS.binary_search(&w).is_ok()
}

/// A map with a fast, non-cryptographic hasher: the keys are the site's own words.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// One searchable section: a page's text up to its first h2, or an h2/h3 and what follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The page's title.
    pub title: String,
    /// The page's URL (with the base path).
    pub url: String,
    /// The heading's text (empty for the page's opening).
    pub heading: String,
    /// The heading's id (empty for the page's opening).
    pub anchor: String,
    /// The section's text.
    pub text: String,
}

/// The index as files: relative path → JSON.
pub type Files = Vec<(String, String)>;

/// Whether `c` is written without spaces between words (each is its own term).
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xAC00..=0xD7AF)
}

/// The terms of `text`: lowercase, accents removed from Latin letters, split at anything not a
/// letter or digit; CJK characters are terms on their own.
pub fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    each_term(text, &mut |t| out.push(t.to_string()));
    out
}

/// Calls `f` with each term of `text` (see [`terms`]), reusing one buffer: indexing a large
/// site must not allocate a string per word.
pub fn each_term(text: &str, f: &mut dyn FnMut(&str)) {
    let mut word = String::new();
    let flush = |word: &mut String, f: &mut dyn FnMut(&str)| {
        if !word.is_empty() {
            f(word);
            word.clear();
        }
    };
    for c in text.chars() {
        // ASCII needs no folding: the fast path for almost all text.
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                word.push(c.to_ascii_lowercase());
            } else {
                flush(&mut word, f);
            }
            continue;
        }
        // Accents are folded for Latin letters only: decomposing kana or Hangul changes words.
        if (c as u32) < 0x250 {
            for p in std::iter::once(c).nfkd() {
                if unicode_normalization::char::is_combining_mark(p) {
                    continue;
                }
                if p.is_alphanumeric() {
                    word.extend(p.to_lowercase());
                } else {
                    flush(&mut word, f);
                }
            }
            continue;
        }
        if is_cjk(c) {
            flush(&mut word, f);
            let mut buf = [0u8; 4];
            f(c.encode_utf8(&mut buf));
        } else if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        } else {
            flush(&mut word, f);
        }
    }
    flush(&mut word, f);
}

/// The shard a term belongs to: the hex of its first two characters' UTF-8.
pub fn shard(term: &str) -> String {
    let prefix: String = term.chars().take(2).collect();
    prefix.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Text of an HTML fragment: tags dropped, the few entities the renderer writes decoded, runs of
/// whitespace collapsed. Anchor links' `#` and the copy button's label are not text.
fn text_of(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        out.push(' ');
        rest = &rest[lt..];
        let end = rest.find('>').map_or(rest.len(), |e| e + 1);
        let tag = &rest[..end];
        rest = &rest[end..];
        // Skip the content of elements that are not prose.
        for skip in ["<button", "<a class=\"anchor\"", "<script", "<style"] {
            if tag.starts_with(skip) {
                let close = match skip {
                    "<button" => "</button>",
                    "<script" => "</script>",
                    "<style" => "</style>",
                    _ => "</a>",
                };
                let e = rest.find(close).map_or(rest.len(), |e| e + close.len());
                rest = &rest[e..];
            }
        }
    }
    out.push_str(rest);
    if !out.contains('&') {
        return out.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    let decoded = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The sections of one rendered page.
pub fn sections(title: &str, url: &str, body: &Rendered) -> Vec<Section> {
    let html = &body.html;
    // Section starts: every h2/h3 with an id. Headings come in document order, so each search
    // starts where the last one matched: a page with 500,000 headings must not be scanned
    // 500,000 times.
    let mut starts: Vec<(usize, String, String)> = Vec::new();
    let mut from = 0;
    for h in body
        .headings
        .iter()
        .filter(|h| h.level == 2 || h.level == 3)
    {
        let needle = format!("<h{} id=\"{}\"", h.level, h.id);
        if let Some(at) = html[from..].find(&needle).map(|i| i + from) {
            starts.push((at, h.title.clone(), h.id.clone()));
            from = at + needle.len();
        }
    }
    let mut out = Vec::new();
    let mut push = |heading: String, anchor: String, fragment: &str| {
        let mut text = text_of(fragment);
        // The heading's own text leads its fragment; it is indexed as the heading.
        if let Some(rest) = text.strip_prefix(heading.as_str()) {
            text = rest.trim_start().to_string();
        }
        if heading.is_empty() && text.is_empty() {
            return;
        }
        out.push(Section {
            title: title.to_string(),
            url: url.to_string(),
            heading,
            anchor,
            text,
        });
    };
    let first = starts.first().map_or(html.len(), |s| s.0);
    push(String::new(), String::new(), &html[..first]);
    for (i, (at, heading, anchor)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(html.len(), |s| s.0);
        push(heading.clone(), anchor.clone(), &html[*at..end]);
    }
    out
}

#[derive(Serialize)]
struct Meta<'a> {
    version: u32,
    chunk: usize,
    sections: usize,
    stop: &'a [&'a str],
    shards: &'a [String],
}

/// Builds the index files for every page that is not hidden and not `search: false`.
/// Pages are read in parallel, a slice at a time, so memory holds one slice's words, not the
/// site's.
pub fn build(site: &Site, bodies: &[Rendered]) -> Files {
    use rayon::prelude::*;
    let pages: Vec<usize> = (0..site.pages.len())
        .filter(|&p| {
            let node = &site.pages[p];
            node.page.meta.search && !node.page.meta.hide && !node.page.failed
        })
        .collect();
    let mut rows: Vec<Section> = Vec::new();
    let mut postings = Postings::default();
    for slice in pages.chunks(512) {
        let done: Vec<Vec<Weighed>> = slice
            .par_iter()
            .map(|&p| {
                let node = &site.pages[p];
                sections(&node.page.meta.title, &site.url(&node.url), &bodies[p])
                    .into_iter()
                    .map(|mut s| {
                        let weights = weigh(&s);
                        s.text = excerpt(&s.text).to_string();
                        (s, weights)
                    })
                    .collect()
            })
            .collect();
        for (s, weights) in done.into_iter().flatten() {
            postings.add(rows.len() as u32, weights);
            rows.push(s);
        }
    }
    files(&rows, postings)
}

/// A section and its terms' weights.
type Weighed = (Section, Vec<(String, f32)>);

/// term → (section, weight), filled one section at a time.
#[derive(Default)]
struct Postings(FastMap<String, Vec<(u32, f32)>>);

impl Postings {
    fn add(&mut self, section: u32, weights: Vec<(String, f32)>) {
        for (term, w) in weights {
            match self.0.get_mut(term.as_str()) {
                Some(list) => list.push((section, w)),
                None => {
                    self.0.insert(term, vec![(section, w)]);
                }
            }
        }
    }
}

/// A section's terms and their weights. A word in the page title or the heading counts fully; in
/// the text it is diluted by the text's length, so a short section about a thing beats a long
/// one that mentions it.
fn weigh(s: &Section) -> Vec<(String, f32)> {
    let mut local: FastMap<String, f32> = FastMap::default();
    let mut add = |text: &str, weight: f32, dilute: bool| {
        let n = if dilute {
            let mut count = 0usize;
            each_term(text, &mut |_| count += 1);
            (count.max(1) as f32).sqrt()
        } else {
            1.0
        };
        each_term(text, &mut |w| {
            if is_stop(w) {
                return;
            }
            match local.get_mut(w) {
                Some(v) => *v += weight / n,
                None => {
                    local.insert(w.to_string(), weight / n);
                }
            }
        });
    };
    add(&s.title, 3.0, false);
    add(&s.heading, 4.0, false);
    add(&s.text, 1.0, true);
    local.into_iter().collect()
}

/// The first [`TEXT_CHARS`] characters, what excerpts are made from.
fn excerpt(text: &str) -> &str {
    let cut = text
        .char_indices()
        .nth(TEXT_CHARS)
        .map_or(text.len(), |(i, _)| i);
    &text[..cut]
}

/// The index files for these sections.
pub fn index(all: &[Section]) -> Files {
    let mut postings = Postings::default();
    let rows: Vec<Section> = all
        .iter()
        .enumerate()
        .map(|(i, s)| {
            postings.add(i as u32, weigh(s));
            Section {
                text: excerpt(&s.text).to_string(),
                ..s.clone()
            }
        })
        .collect();
    files(&rows, postings)
}

fn files(all: &[Section], postings: Postings) -> Files {
    let stemmer = Stemmer::create(Algorithm::English);
    let postings = postings.0;
    // A term's entry is its postings, or `[stem, postings]` when the stem differs from the term.
    let mut shards: BTreeMap<String, BTreeMap<String, serde_json::Value>> = BTreeMap::new();
    for (term, mut list) in postings {
        list.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        list.truncate(MAX_POSTINGS);
        let top = list.first().map_or(1.0, |l| l.1).max(f32::MIN_POSITIVE);
        let flat = encode(&list, top);
        let stem = stemmer.stem(&term).into_owned();
        let entry = if stem == term {
            serde_json::json!(flat)
        } else {
            serde_json::json!([stem, flat])
        };
        shards.entry(shard(&term)).or_default().insert(term, entry);
    }
    let mut files: Files = Vec::new();
    let names: Vec<String> = shards.keys().cloned().collect();
    for (name, terms) in shards {
        let json = serde_json::to_string(&terms).unwrap_or_default();
        files.push((format!("search/t/{name}.json"), json));
    }
    // A chunk: `{"p": [[title, url], ...], "s": [[page, heading, anchor, text], ...]}`, pages
    // listed once per chunk.
    for (n, chunk) in all.chunks(CHUNK).enumerate() {
        let mut pages: Vec<[&str; 2]> = Vec::new();
        let rows: Vec<serde_json::Value> = chunk
            .iter()
            .map(|s| {
                let page = match pages.iter().position(|p| p[1] == s.url) {
                    Some(i) => i,
                    None => {
                        pages.push([s.title.as_str(), s.url.as_str()]);
                        pages.len() - 1
                    }
                };
                serde_json::json!([page, s.heading, s.anchor, s.text])
            })
            .collect();
        files.push((
            format!("search/s/{n}.json"),
            serde_json::json!({ "p": pages, "s": rows }).to_string(),
        ));
    }
    let meta = Meta {
        version: VERSION,
        chunk: CHUNK,
        sections: all.len(),
        stop: STOP_WORDS,
        shards: &names,
    };
    files.push((
        "search/meta.json".into(),
        serde_json::to_string(&meta).unwrap_or_default(),
    ));
    files
}

/// Postings as one string, self-delimiting: each is the section id in base 36 (lowercase)
/// followed by its score 1–9 as a capital `A`–`I`. Plain JSON arrays were twice the size.
fn encode(list: &[(u32, f32)], top: f32) -> String {
    let mut out = String::with_capacity(list.len() * 3);
    for &(id, score) in list {
        let mut digits = Vec::new();
        let mut n = id;
        loop {
            digits.push(std::char::from_digit(n % 36, 36).unwrap_or('0'));
            n /= 36;
            if n == 0 {
                break;
            }
        }
        out.extend(digits.iter().rev());
        let level = ((score / top) * 9.0).round().clamp(1.0, 9.0) as u8;
        out.push((b'A' + level - 1) as char);
    }
    out
}

/// Writes the index into `sink`.
pub fn write(site: &Site, bodies: &[Rendered], sink: &impl Sink) -> Vec<Error> {
    build(site, bodies)
        .into_iter()
        .filter_map(|(path, json)| sink.write(&path, json.as_bytes()).err())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_fold_case_and_accents_and_split_cjk() {
        assert_eq!(
            terms("Café CONFIG_file v2.1"),
            ["cafe", "config", "file", "v2", "1"]
        );
        assert_eq!(
            terms("検索エンジン ok"),
            ["検", "索", "エ", "ン", "ジ", "ン", "ok"]
        );
        assert_eq!(terms("עברית 🎉 x"), ["עברית", "x"]);
        assert_eq!(shard("co"), "636f");
        assert_eq!(shard("é"), "c3a9");
    }

    #[test]
    fn html_text_skips_anchors_and_buttons() {
        let html = "<h2 id=\"a\">Step <a class=\"anchor\" href=\"#a\">#</a></h2><p>Use &lt;b&gt; &amp; go</p><pre><button>Copy</button><code>x</code></pre>";
        assert_eq!(text_of(html), "Step Use <b> & go x");
    }

    fn section(title: &str, heading: &str, text: &str) -> Section {
        Section {
            title: title.into(),
            url: "/x/".into(),
            heading: heading.into(),
            anchor: heading.to_lowercase(),
            text: text.into(),
        }
    }

    #[test]
    fn stop_words_are_sorted_for_binary_search() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(is_stop("the") && !is_stop("theme"));
    }

    #[test]
    fn postings_encode_compactly() {
        assert_eq!(encode(&[(1, 9.0), (36, 4.5), (0, 0.1)], 9.0), "1I10E0A");
    }

    #[test]
    fn postings_prefer_titles_and_headings_and_are_capped() {
        let mut all = vec![
            section(
                "Other",
                "",
                "verify verify verify in a long body of many other words here",
            ),
            section("Verify setup", "", "short"),
        ];
        for i in 0..(MAX_POSTINGS + 50) {
            all.push(section(&format!("P{i}"), "", "common word"));
        }
        let files = index(&all);
        let shard: BTreeMap<String, serde_json::Value> = serde_json::from_str(
            &files
                .iter()
                .find(|(p, _)| p == "search/t/7665.json")
                .unwrap()
                .1,
        )
        .unwrap();
        assert_eq!(shard["verify"][0], "verifi");
        assert!(
            shard["verify"][1].as_str().unwrap().starts_with("1I"),
            "the title match ranks first"
        );
        let common: BTreeMap<String, serde_json::Value> = serde_json::from_str(
            &files
                .iter()
                .find(|(p, _)| p == "search/t/636f.json")
                .unwrap()
                .1,
        )
        .unwrap();
        let postings = common["common"]
            .as_str()
            .expect("a term whose stem is itself is its postings alone");
        assert_eq!(
            postings.chars().filter(char::is_ascii_uppercase).count(),
            MAX_POSTINGS
        );
        let all_terms = files
            .iter()
            .filter(|(p, _)| p.starts_with("search/t/"))
            .count();
        assert!(all_terms > 0);
        assert!(
            !files.iter().any(|(p, _)| p == "search/t/7468.json"),
            "stop words like `the` are not indexed"
        );
        let meta = &files
            .iter()
            .find(|(p, _)| p == "search/meta.json")
            .unwrap()
            .1;
        assert!(meta.contains("\"chunk\":16"));
    }
}
