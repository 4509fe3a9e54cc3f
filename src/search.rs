//! The search index, built with the site and served as static files, so search works on any
//! static host. It is split so a query downloads only what it needs, in as few requests as
//! possible (a browser spends about as long on a request as on 200 KB of response):
//!
//! - `search/meta.json`: the format version, how many sections a chunk holds, the stop words and
//!   the list of term shards that exist;
//! - `search/t/x<hex of a prefix>.txt`: the terms starting with that prefix, one line each, sorted
//!   — `term stem postings`, the postings best first: its title and heading ones, and at most
//!   [`MAX_POSTINGS`] more. A small site has
//!   one shard (prefix ``); a prefix whose terms pass [`SHARD_BYTES`] is split by one more
//!   character, and its own shard then keeps the term equal to it and a summary of its most common
//!   longer terms. The browser fetches the shard of the longest listed prefix of each query word;
//! - `search/s/<n>.json`: [`CHUNK`] sections each (all of them, on a site of at most
//!   [`ONE_CHUNK_SECTIONS`]) — page title, URL, heading, anchor, the start of
//!   the text — for the results and their excerpts.
//!
//! Terms are normalized (lowercase, accents removed, CJK characters one by one) the same way
//! `search.js` normalizes a query, and stemmed with Snowball's English stemmer here, so the
//! browser can group a word with its inflections without shipping a stemmer.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rust_stemmers::{Algorithm, Stemmer};
use serde::Serialize;
use smallvec::SmallVec;
use unicode_normalization::UnicodeNormalization;

use crate::error::Error;
use crate::markdown::{Rendered, SearchSection};
use crate::output::Sink;
use crate::site::Site;

/// Sections per metadata chunk: small enough that ten results cost little to fetch.
pub const CHUNK: usize = 16;
/// A site with at most this many sections has them all in one chunk, which the browser fetches
/// with the shard when search opens: every query is then answered without the network.
pub const ONE_CHUNK_SECTIONS: usize = 256;

/// Sections per chunk for a site of `sections`.
fn chunk_size(sections: usize) -> usize {
    if sections <= ONE_CHUNK_SECTIONS {
        sections.max(1)
    } else {
        CHUNK
    }
}
/// Body-only postings kept per term, best first: a term on every page of a 10,000-page site must
/// not make its shard megabytes.
pub const MAX_POSTINGS: usize = 300;
/// Title and heading postings kept per term besides those: every one, up to this many. Ranking
/// by title needs the page's own title posting even for a word in hundreds of titles (on the
/// 10,000-page corpus, 716 titles have "backing" and 3,631 headings "advanced"); a cap of 300
/// for all put the page first for 62% of its title queries.
pub const MAX_FIELD_POSTINGS: usize = 4000;

/// How many of `list`'s postings to keep: the title and heading ones (up to
/// [`MAX_FIELD_POSTINGS`]) and [`MAX_POSTINGS`] more. They sort first, so this is a prefix of
/// the list sorted best first.
fn keep(list: &[(u32, u32)]) -> usize {
    let fields = list.iter().filter(|p| p.1 >= field::HEADING).count();
    MAX_POSTINGS + fields.min(MAX_FIELD_POSTINGS)
}

/// Cuts `list` to its best [`keep`] postings.
fn prune(list: &mut List) {
    let n = keep(list);
    if list.len() > n {
        list.select_nth_unstable_by(n, best_first);
        list.truncate(n);
    }
}
/// Characters of section text kept for excerpts: about two lines of a result. Matches further
/// into a section show its start instead, which keeps a small site's whole index under 50 KB.
const TEXT_CHARS: usize = 150;
/// Words too common to tell sections apart; not indexed, and dropped from queries by
/// `search.js` (the list travels in `meta.json`).
pub const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "its", "of", "on", "or", "so", "that", "the", "their", "then", "there", "these", "this", "to",
    "was", "will", "with", "you", "your",
];
/// The index format, checked by `search.js`.
pub const VERSION: u32 = 3;

/// Whether `w` is a stop word: one `match`, which compiles to a length switch and a compare,
/// because this runs for every word of the site.
fn is_stop(w: &str) -> bool {
    matches!(
        w,
        "a" | "an"
            | "and"
            | "are"
            | "as"
            | "at"
            | "be"
            | "but"
            | "by"
            | "for"
            | "if"
            | "in"
            | "into"
            | "is"
            | "it"
            | "its"
            | "of"
            | "on"
            | "or"
            | "so"
            | "that"
            | "the"
            | "their"
            | "then"
            | "there"
            | "these"
            | "this"
            | "to"
            | "was"
            | "will"
            | "with"
            | "you"
            | "your"
    )
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
    let bytes = text.as_bytes();
    let mut word = String::new();
    let flush = |word: &mut String, f: &mut dyn FnMut(&str)| {
        if !word.is_empty() {
            f(word);
            word.clear();
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        // A run of ASCII letters and digits is passed as a slice of the text when it is
        // already lowercase: the fast path for almost every word.
        if b.is_ascii_alphanumeric() && word.is_empty() {
            let start = i;
            let mut upper = false;
            while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                upper |= bytes[i].is_ascii_uppercase();
                i += 1;
            }
            // The word may go on with a non-ASCII letter (`café`): then the slow path decides.
            let ends_here = i == bytes.len() || bytes[i] < 0x80;
            if ends_here && !upper {
                f(&text[start..i]);
                continue;
            }
            word.push_str(&text[start..i]);
            word.make_ascii_lowercase();
            if ends_here {
                flush(&mut word, f);
            }
            continue;
        }
        if b < 0x80 {
            if b.is_ascii_alphanumeric() {
                word.push(b.to_ascii_lowercase() as char);
            } else {
                flush(&mut word, f);
            }
            i += 1;
            continue;
        }
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        i += c.len_utf8();
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

/// Whether a page's search section is worth a row: a heading, or an opening with text.
fn kept(s: &SearchSection) -> bool {
    !(s.heading.is_empty() && s.text.is_empty())
}

#[derive(Serialize)]
struct Meta<'a> {
    version: u32,
    chunk: usize,
    sections: usize,
    pages: &'a str,
    stop: &'a [&'a str],
    shards: &'a [String],
}

/// Where the index's files go, one at a time, from any thread: (relative path, JSON).
type Emit<'a> = &'a (dyn Fn(String, String) -> Result<(), Error> + Sync);

/// One row of the index: what a result shows.
struct Row<'a> {
    title: &'a str,
    url: std::borrow::Cow<'a, str>,
    heading: &'a str,
    anchor: &'a str,
    text: &'a str,
}

/// A page's searchable text, detached from the site: the preview server builds a new index from
/// these without holding the site while it works.
#[derive(Debug, Clone)]
pub struct Source {
    /// The page's title.
    pub title: String,
    /// The page's URL (with the base path).
    pub url: String,
    /// Its sections, as the Markdown renderer set them aside.
    pub sections: Arc<Vec<SearchSection>>,
}

/// The pages to index: every page that is not hidden, not `search: false` and did not fail.
pub fn sources(site: &Site, bodies: &[Rendered]) -> Vec<Source> {
    (0..site.pages.len())
        .filter(|&p| {
            let node = &site.pages[p];
            node.page.meta.search && !node.page.meta.hide && !node.page.failed
        })
        .map(|p| {
            let node = &site.pages[p];
            Source {
                title: node.page.meta.title.clone(),
                url: site.url(&node.url),
                sections: bodies[p].search.clone(),
            }
        })
        .collect()
}

/// Builds the index files for every page that is not hidden and not `search: false`, from the
/// text the Markdown renderer set aside ([`Rendered::search`]).
pub fn build(site: &Site, bodies: &[Rendered]) -> Files {
    let sources = sources(site, bodies);
    collect(|emit| generate(&sources, emit, &AtomicBool::new(false)))
}

/// Builds the index of `sources`; `None` when `cancel` was set before it was done (a newer
/// version of the site is on its way, and this index would be stale).
pub fn build_from(sources: &[Source], cancel: &AtomicBool) -> Option<Files> {
    let files = collect(|emit| generate(sources, emit, cancel));
    (!cancel.load(Ordering::Relaxed)).then_some(files)
}

/// Writes the index into `sink`, each file as soon as it is made: the whole index of a large
/// site is never in memory at once.
pub fn write(site: &Site, bodies: &[Rendered], sink: &impl Sink) -> Vec<Error> {
    let sources = sources(site, bodies);
    generate(
        &sources,
        &|path, json| sink.write(&path, json.as_bytes()),
        &AtomicBool::new(false),
    )
}

/// Runs `make` with an emitter that keeps the files, and returns them sorted by path.
fn collect(make: impl FnOnce(Emit) -> Vec<Error>) -> Files {
    let files = std::sync::Mutex::new(Files::new());
    make(&|path, json| {
        files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((path, json));
        Ok(())
    });
    let mut files = files
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    files.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    files
}

fn generate(sources: &[Source], emit: Emit, cancel: &AtomicBool) -> Vec<Error> {
    use rayon::prelude::*;
    let cancelled = || cancel.load(Ordering::Relaxed);
    // Every indexed section as (page, its place in the page's list), in page order: a
    // section's id is its place here.
    let rows: Vec<(u32, u32)> = sources
        .iter()
        .enumerate()
        .flat_map(|(p, source)| {
            source
                .sections
                .iter()
                .enumerate()
                .filter(|(_, s)| kept(s))
                .map(move |(k, _)| (p as u32, k as u32))
        })
        .collect();
    let row = |i: usize| {
        let (p, k) = rows[i];
        let source = &sources[p as usize];
        let s = &source.sections[k as usize];
        Row {
            title: &source.title,
            url: source.url.as_str().into(),
            heading: &s.heading,
            anchor: &s.anchor,
            text: &s.text,
        }
    };
    let first = |i: usize| i == 0 || rows[i - 1].0 != rows[i].0;
    let pages = page_runs(&rows, |a, b| a.0 == b.0);
    let avg = average_bytes((0..rows.len()).map(|i| row(i).text.len()));
    let (postings, mut errors) = rayon::join(
        || {
            // A few long runs rather than rayon's many small ones: every merge re-interns the
            // smaller side's terms, and a large site has hundreds of thousands.
            let parts = (rayon::current_num_threads() * 2).max(1);
            let per = rows.len().div_ceil(parts).max(1);
            (0..rows.len())
                .collect::<Vec<usize>>()
                .par_chunks(per)
                .map(|run| {
                    let mut acc = Postings::default();
                    for &i in run {
                        if i % 256 == 0 && cancelled() {
                            break;
                        }
                        let r = row(i);
                        let title = first(i).then_some(r.title);
                        acc.add(i as u32, title, r.heading, r.text, avg);
                    }
                    acc
                })
                .reduce(Postings::default, Postings::merge)
        },
        || chunk_files(rows.len(), &row, emit, cancel),
    );
    if !cancelled() {
        errors.extend(term_files(postings, rows.len(), &pages, emit, cancel));
    }
    errors
}

/// The mean of `lengths` (at least 1): a section's text length is weighed against it.
fn average_bytes(lengths: impl Iterator<Item = usize>) -> f32 {
    let (sum, n) = lengths.fold((0usize, 0usize), |(s, n), l| (s + l, n + 1));
    (sum as f32 / n.max(1) as f32).max(1.0)
}

/// How many sections each page has, in order, written so the browser can tell a section's page
/// before it fetches any row (it keeps at most two of a page among the first results): one
/// base-36 digit per page, a run of 35 or more as `z` followed by the rest.
fn page_runs<T>(rows: &[T], same: impl Fn(&T, &T) -> bool) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = String::new();
    let mut i = 0;
    while i < rows.len() {
        let mut j = i + 1;
        while j < rows.len() && same(&rows[i], &rows[j]) {
            j += 1;
        }
        let mut n = j - i;
        while n >= 35 {
            out.push('z');
            n -= 35;
        }
        out.push(DIGITS[n] as char);
        i = j;
    }
    out
}

/// One term's postings: (section, [`Field`]s packed in a `u32`). Most terms of a large site
/// occur once (identifiers, numbers), so one posting is stored inline.
type List = SmallVec<[(u32, u32); 1]>;

/// Where a term occurs in a section, packed in a posting's `u32` so that a larger number is a
/// better match (the order that keeps a term's best postings, see [`keep`]): a title posting (only on
/// a page's first section) above a heading, the shorter field above the longer, then the body's
/// level. While a section's text is being read, the low bits count the term instead.
mod field {
    /// The term is in the page's title (this posting is the page's, on its first section).
    pub(super) const TITLE: u32 = 1 << 31;
    /// The term is in the section's heading.
    pub(super) const HEADING: u32 = 1 << 30;
    /// Bits 27–29: 7 less (the field's terms - 1), so a shorter title or heading sorts first.
    pub(super) const FIT_SHIFT: u32 = 27;
    /// Bits 16–19: the body's level, 0 (not in the body) to 9.
    pub(super) const LEVEL_SHIFT: u32 = 16;
    /// Bits 0–2: the term's place among its field's terms (stop words skipped), at most 7.
    pub(super) const POS_MASK: u32 = 7;

    /// A title or heading posting for the term at `pos` in a field of `len` terms.
    pub(super) fn place(pos: usize, len: usize) -> u32 {
        let fit = 7 - (len.clamp(1, 8) as u32 - 1);
        (fit << FIT_SHIFT) | pos.min(7) as u32
    }

    /// (place, length) of a title or heading posting, as [`place`] took them (clamped).
    pub(super) fn unplace(v: u32) -> (u32, u32) {
        (v & POS_MASK, 8 - ((v >> FIT_SHIFT) & 7))
    }

    /// The body's level of a posting.
    pub(super) fn level(v: u32) -> u32 {
        (v >> LEVEL_SHIFT) & 15
    }
}

/// BM25's term-frequency saturation: the k1 and b of the usual formula. A body word's weight is
/// `tf * (K1 + 1) / (tf + K1 * (1 - B + B * len / avg))`, which approaches `K1 + 1` however often
/// it repeats, so a long page does not win by repetition; it is stored as a level 1–9.
const K1: f32 = 1.2;
/// See [`K1`].
const B: f32 = 0.75;

/// The level 1–9 of a word found `tf` times in a text of `ratio` times the mean length.
fn body_level(tf: u32, ratio: f32) -> u32 {
    let tf = tf as f32;
    let saturated = tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * ratio));
    ((saturated / (K1 + 1.0) * 9.0).round() as u32).clamp(1, 9)
}

/// term → its postings (section, weight), terms interned so a word seen again costs a lookup,
/// not an allocation. Terms of up to 16 bytes (nearly all) are keyed by their bytes packed in a
/// `u128`: hashing and comparing them never follows a pointer, and they sort as numbers.
#[derive(Default)]
struct Postings {
    short: FastMap<u128, u32>,
    long: FastMap<Box<str>, u32>,
    lists: Vec<List>,
    /// Terms the section being added has in its text (scratch, reused).
    touched: Vec<u32>,
}

/// A term's bytes, big-endian and zero-padded, when it has at most 16. Terms never contain a
/// zero byte (they are letters and digits), so this is one-to-one and orders like the strings.
fn pack(term: &str) -> Option<u128> {
    let bytes = term.as_bytes();
    let mut buf = [0u8; 16];
    buf.get_mut(..bytes.len())?.copy_from_slice(bytes);
    Some(u128::from_be_bytes(buf))
}

/// The first 16 bytes of a longer term, packed: its place among the packed terms.
fn pack_prefix(term: &str) -> u128 {
    let mut buf = [0u8; 16];
    buf.copy_from_slice(&term.as_bytes()[..16]);
    u128::from_be_bytes(buf)
}

/// A packed term's bytes.
fn unpack(key: &u128) -> ([u8; 16], usize) {
    let buf = key.to_be_bytes();
    let len = buf.iter().position(|&b| b == 0).unwrap_or(16);
    (buf, len)
}

/// An interned term leaving the index: its packed bytes (the first 16 of a longer term, which
/// then comes as a string too), so sorting by `(key, long)` sorts by the term.
type Term = (u128, Option<Box<str>>);

impl Postings {
    fn id(&mut self, term: &str) -> u32 {
        if let Some(key) = pack(term) {
            return self.short_id(key);
        }
        let next = self.lists.len() as u32;
        let id = match self.long.get(term) {
            Some(&id) => id,
            None => {
                self.long.insert(term.into(), next);
                next
            }
        };
        self.listed(id)
    }

    /// The id of a packed term (a merge has them packed already).
    fn short_id(&mut self, key: u128) -> u32 {
        let next = self.lists.len() as u32;
        let id = *self.short.entry(key).or_insert(next);
        self.listed(id)
    }

    /// `id`, with a list made for it when it is new (the next one).
    fn listed(&mut self, id: u32) -> u32 {
        if id as usize == self.lists.len() {
            self.lists.push(List::new());
        }
        id
    }

    /// Counts `term` once more in `section`'s text; returns the term's id when that was its
    /// first time in the section. Sections are added one after another, so the list's last
    /// entry is the only one that can be this section's.
    fn count(&mut self, term: &str, section: u32) -> Option<u32> {
        let id = self.id(term);
        let list = &mut self.lists[id as usize];
        match list.last_mut() {
            Some(last) if last.0 == section => {
                last.1 = (last.1 + 1).min(u32::from(u16::MAX));
                None
            }
            _ => {
                Self::push(list, (section, 1));
                Some(id)
            }
        }
    }

    /// Appends a posting. Only the best [`keep`] survive, and the best of a part are among
    /// the best of the whole (the order is total), so a long list can be cut as it grows:
    /// memory stays bounded by the number of distinct terms.
    /// A list that keeps many title and heading postings stays long after a cut, so it is cut
    /// once every 1,024 postings, not at every one.
    fn push(list: &mut List, posting: (u32, u32)) {
        if list.len() >= 4 * MAX_POSTINGS && list.len().is_multiple_of(1024) {
            prune(list);
        }
        list.push(posting);
    }

    /// Marks the terms of a title or heading (`flag`) in `section`: the first place of each.
    /// A title posting stays apart from the section's own, as the page's.
    fn mark(&mut self, section: u32, text: &str, flag: u32) {
        let mut words: SmallVec<[u32; 8]> = SmallVec::new();
        each_term(text, &mut |w| {
            if !is_stop(w) {
                words.push(self.id(w));
            }
        });
        for (pos, &id) in words.iter().enumerate() {
            let bits = flag | field::place(pos, words.len());
            let list = &mut self.lists[id as usize];
            match list.last_mut() {
                Some(last)
                    if last.0 == section
                        && (flag == field::HEADING) == (last.1 & field::TITLE == 0) =>
                {
                    if last.1 & flag == 0 {
                        last.1 |= bits;
                    }
                }
                _ => Self::push(list, (section, bits)),
            }
        }
    }

    /// Indexes one section: its text's words by how often they occur against its length
    /// ([`body_level`]), its heading's, and the page's title when this is the page's first
    /// section (`title`). `avg` is the mean text length in bytes.
    fn add(&mut self, section: u32, title: Option<&str>, heading: &str, text: &str, avg: f32) {
        let mut touched = std::mem::take(&mut self.touched);
        touched.clear();
        each_term(text, &mut |w| {
            if !is_stop(w) {
                touched.extend(self.count(w, section));
            }
        });
        let ratio = text.len() as f32 / avg;
        for &id in &touched {
            if let Some(last) = self.lists[id as usize].last_mut() {
                last.1 = body_level(last.1, ratio) << field::LEVEL_SHIFT;
            }
        }
        self.touched = touched;
        self.mark(section, heading, field::HEADING);
        if let Some(title) = title {
            self.mark(section, title, field::TITLE);
        }
    }

    /// Both sets of postings in one; their sections must not overlap.
    fn merge(self, other: Postings) -> Postings {
        let (mut into, from) = if self.lists.len() >= other.lists.len() {
            (self, other)
        } else {
            (other, self)
        };
        let mut lists: Vec<Option<List>> = from.lists.into_iter().map(Some).collect();
        let mut add = |into: &mut Postings, id: u32, from_id: u32| {
            let Some(list) = lists[from_id as usize].take() else {
                return;
            };
            let into_list = &mut into.lists[id as usize];
            into_list.extend(list);
            if into_list.len() >= 4 * MAX_POSTINGS {
                prune(into_list);
            }
        };
        for (key, from_id) in from.short {
            let id = into.short_id(key);
            add(&mut into, id, from_id);
        }
        for (term, from_id) in from.long {
            let id = into.id(&term);
            add(&mut into, id, from_id);
        }
        into
    }

    /// Each term with its postings.
    fn into_terms(self) -> Vec<(Term, List)> {
        let mut lists: Vec<Option<List>> = self.lists.into_iter().map(Some).collect();
        let mut out = Vec::with_capacity(lists.len());
        for (key, id) in self.short {
            out.extend(lists[id as usize].take().map(|l| ((key, None), l)));
        }
        for (term, id) in self.long {
            let key = pack_prefix(&term);
            out.extend(lists[id as usize].take().map(|l| ((key, Some(term)), l)));
        }
        out
    }
}

/// Postings order: the better match first (see [`field`]), then the lower section id, a total
/// order.
fn best_first(a: &(u32, u32), b: &(u32, u32)) -> std::cmp::Ordering {
    b.1.cmp(&a.1).then(a.0.cmp(&b.0))
}

/// The first [`TEXT_CHARS`] characters, what excerpts are made from, ending at a word's end
/// when one is near.
fn excerpt(text: &str) -> &str {
    let Some((cut, _)) = text.char_indices().nth(TEXT_CHARS) else {
        return text;
    };
    let head = &text[..cut];
    match head.rfind(char::is_whitespace) {
        Some(space) if cut - space < 24 => head[..space].trim_end(),
        _ => head,
    }
}

/// The index files for these sections.
pub fn index(all: &[Section]) -> Files {
    let mut postings = Postings::default();
    let avg = average_bytes(all.iter().map(|s| s.text.len()));
    for (i, s) in all.iter().enumerate() {
        let first = i == 0 || all[i - 1].url != s.url;
        postings.add(
            i as u32,
            first.then_some(&*s.title),
            &s.heading,
            &s.text,
            avg,
        );
    }
    let pages = page_runs(all, |a, b| a.url == b.url);
    let row = |i: usize| {
        let s = &all[i];
        Row {
            title: &s.title,
            url: s.url.as_str().into(),
            heading: &s.heading,
            anchor: &s.anchor,
            text: &s.text,
        }
    };
    let cancel = AtomicBool::new(false);
    collect(|emit| {
        let mut errors = chunk_files(all.len(), &row, emit, &cancel);
        errors.extend(term_files(postings, all.len(), &pages, emit, &cancel));
        errors
    })
}

/// The term shards (`search/t/x<hex>.txt`) and then `search/meta.json`, which lists them.
fn term_files(
    postings: Postings,
    sections: usize,
    pages: &str,
    emit: Emit,
    cancel: &AtomicBool,
) -> Vec<Error> {
    use rayon::prelude::*;
    let mut terms = postings.into_terms();
    // Sorted, the terms sharing a prefix are neighbours: a shard is a range.
    terms.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let lines: Vec<Line> = terms
        .into_par_iter()
        .map_init(
            || Stemmer::create(Algorithm::English),
            |stemmer, (term, mut list)| Line::new(stemmer, term, &mut list),
        )
        .collect();
    if cancel.load(Ordering::Relaxed) {
        return Vec::new();
    }
    let plan = plan_shards(&lines);
    let mut errors: Vec<Error> = plan
        .par_iter()
        .filter_map(|shard| {
            if cancel.load(Ordering::Relaxed) {
                return None;
            }
            let text = shard.text(&lines);
            emit(format!("search/t/x{}.txt", hex(&shard.prefix)), text).err()
        })
        .collect();
    let mut names: Vec<String> = plan.iter().map(|s| hex(&s.prefix)).collect();
    names.sort_unstable();
    let meta = Meta {
        version: VERSION,
        chunk: chunk_size(sections),
        sections,
        pages,
        stop: STOP_WORDS,
        shards: &names,
    };
    let json = serde_json::to_string(&meta).unwrap_or_default();
    errors.extend(emit("search/meta.json".into(), json).err());
    errors
}

/// One term's line in its shard: `term stem postings`. The stem is empty when it is the term,
/// a number when it is the term's first characters (the usual case: `configured` → `8`), and
/// itself otherwise; terms and stems are letters and digits, so a space never needs escaping.
struct Line {
    /// `term stem postings`.
    text: String,
    /// The term's length: it starts the line.
    term_len: usize,
    /// How many postings it has: how common the term is.
    postings: usize,
}

impl Line {
    fn new(stemmer: &Stemmer, (key, long): Term, list: &mut List) -> Line {
        let (buf, len) = unpack(&key);
        let term = match &long {
            Some(t) => &**t,
            // Packed from a `&str`, so valid UTF-8.
            None => std::str::from_utf8(&buf[..len]).unwrap_or_default(),
        };
        list.sort_unstable_by(best_first);
        list.truncate(keep(list));
        // The English stemmer only changes words of letters.
        let stem = if term.bytes().all(|b| b.is_ascii_lowercase()) {
            stemmer.stem(term)
        } else {
            std::borrow::Cow::Borrowed(term)
        };
        let mut text = String::with_capacity(term.len() + 4 + list.len() * 4);
        text.push_str(term);
        text.push(' ');
        if *stem != *term {
            if term.starts_with(&*stem) {
                text.push_str(&stem.len().to_string());
            } else {
                text.push_str(&stem);
            }
        }
        text.push(' ');
        encode_into(&mut text, list);
        Line {
            term_len: term.len(),
            text,
            postings: list.len(),
        }
    }

    fn term(&self) -> &str {
        &self.text[..self.term_len]
    }

    /// The line with at most `n` postings (they are best first).
    fn cut(&self, n: usize) -> &str {
        let bytes = self.text.as_bytes();
        // Past the term and the stem: neither holds a space or a capital letter.
        let mut i = self.term_len + 1;
        i += bytes[i..].iter().position(|&b| b == b' ').unwrap_or(0) + 1;
        let mut seen = 0;
        while i < bytes.len() {
            let b = bytes[i];
            i += 1;
            if b.is_ascii_uppercase() {
                // A title or heading posting carries one more character: its place.
                if b > b'I' {
                    i += 1;
                }
                seen += 1;
                if seen == n {
                    return &self.text[..i.min(bytes.len())];
                }
            }
        }
        &self.text
    }
}

/// Bytes a shard aims to stay under. A browser here spends about as long on one request as on
/// 200 KB more of a response, so few, fuller shards win; but a query of several words fetches
/// a shard each, within the first query's budget of 300 KB.
const SHARD_BYTES: usize = 48 * 1024;
/// Postings per word in a split shard's summary of its longer words: enough for results while
/// the reader is still typing.
const SUMMARY_POSTINGS: usize = 40;
/// Bytes of a split shard's summary.
const SUMMARY_BYTES: usize = SHARD_BYTES / 2;
/// Prefixes longer than this are not split further: a shard of one long prefix that is still
/// big is rare and still correct.
const MAX_PREFIX_CHARS: usize = 8;

/// One shard: the terms starting with `prefix`, `lines[range]`. A split shard (`summary`) holds
/// the term equal to its prefix, if any, and the most common of the longer terms (which also
/// have shards of their own), so a query still being typed gets results from one fetch.
struct ShardPlan {
    prefix: String,
    range: std::ops::Range<usize>,
    summary: bool,
}

impl ShardPlan {
    fn text(&self, lines: &[Line]) -> String {
        let all = &lines[self.range.clone()];
        let mut out = String::new();
        if !self.summary {
            out.reserve(all.iter().map(|l| l.text.len() + 1).sum());
            for l in all {
                out.push_str(&l.text);
                out.push('\n');
            }
            return out;
        }
        let exact = all
            .first()
            .filter(|l| l.term() == self.prefix)
            .map(|l| l.text.as_str());
        let mut common: Vec<&Line> = all.iter().filter(|l| l.term() != self.prefix).collect();
        common.sort_unstable_by(|a, b| b.postings.cmp(&a.postings).then(a.term().cmp(b.term())));
        let mut budget = SUMMARY_BYTES.saturating_sub(exact.map_or(0, str::len));
        let mut kept: Vec<&str> = Vec::new();
        for l in common {
            let line = l.cut(SUMMARY_POSTINGS);
            if line.len() + 1 > budget {
                break;
            }
            budget -= line.len() + 1;
            kept.push(line);
        }
        kept.sort_unstable();
        for line in exact.into_iter().chain(kept) {
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}

/// Splits the sorted lines into shards by prefix, one character more wherever a shard would
/// pass [`SHARD_BYTES`]: a small site gets one shard, a large one a shard per busy prefix.
fn plan_shards(lines: &[Line]) -> Vec<ShardPlan> {
    // bytes[i] is the size of lines[..i], so any range's size is one subtraction.
    let mut bytes = Vec::with_capacity(lines.len() + 1);
    bytes.push(0usize);
    for l in lines {
        bytes.push(bytes.last().copied().unwrap_or(0) + l.text.len() + 1);
    }
    let mut out = Vec::new();
    let mut todo = vec![(String::new(), 0..lines.len())];
    while let Some((prefix, range)) = todo.pop() {
        let chars = prefix.chars().count();
        if bytes[range.end] - bytes[range.start] <= SHARD_BYTES || chars >= MAX_PREFIX_CHARS {
            out.push(ShardPlan {
                prefix,
                range,
                summary: false,
            });
            continue;
        }
        // The term equal to the prefix sorts first and stays in the split shard.
        let mut start = range.start;
        if lines.get(start).is_some_and(|l| l.term() == prefix) {
            start += 1;
        }
        let mut i = start;
        while i < range.end {
            let head = first_chars(lines[i].term(), chars + 1);
            let mut j = i + 1;
            while j < range.end && lines[j].term().starts_with(head) {
                j += 1;
            }
            todo.push((head.to_string(), i..j));
            i = j;
        }
        // The root has no term of its own and a query never lands on it.
        if !prefix.is_empty() {
            out.push(ShardPlan {
                prefix,
                range,
                summary: true,
            });
        }
    }
    out
}

/// The first `n` characters of a term.
fn first_chars(term: &str, n: usize) -> &str {
    &term[..term.char_indices().nth(n).map_or(term.len(), |(i, _)| i)]
}

/// The hex of a prefix's UTF-8: a shard's file name, safe on any host whatever the script.
pub fn hex(prefix: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(prefix.len() * 2);
    for b in prefix.bytes() {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
}

/// The section chunks (`search/s/<n>.json`), [`chunk_size`] rows each:
/// `{"p": [[title, url], ...], "s": [[page, heading, anchor, excerpt], ...]}`, pages listed
/// once per chunk.
fn chunk_files<'a>(
    count: usize,
    row: &(dyn Fn(usize) -> Row<'a> + Sync),
    emit: Emit,
    cancel: &AtomicBool,
) -> Vec<Error> {
    use rayon::prelude::*;
    #[derive(Serialize)]
    struct Chunk<'a> {
        p: Vec<(&'a str, &'a str)>,
        s: Vec<(usize, &'a str, &'a str, &'a str)>,
    }
    let per = chunk_size(count);
    (0..count.div_ceil(per))
        .into_par_iter()
        .filter_map(|n| {
            if cancel.load(Ordering::Relaxed) {
                return None;
            }
            let rows: Vec<Row> = (n * per..count.min((n + 1) * per)).map(row).collect();
            let mut c = Chunk {
                p: Vec::new(),
                s: Vec::with_capacity(rows.len()),
            };
            for r in &rows {
                let page = match c.p.iter().position(|p| p.1 == r.url) {
                    Some(i) => i,
                    None => {
                        c.p.push((r.title, &r.url));
                        c.p.len() - 1
                    }
                };
                c.s.push((page, r.heading, r.anchor, excerpt(r.text)));
            }
            let json = serde_json::to_string(&c).unwrap_or_default();
            emit(format!("search/s/{n}.json"), json).err()
        })
        .collect()
}

/// Appends postings as one string, self-delimiting: each is the section id in base 36
/// (lowercase), then
/// - `A`–`I`: a body-only match, its level 1–9;
/// - `J`–`S` and a place: a heading match and the body's level 0–9;
/// - `T` and a place: a title match, the page's (on its first section);
///
/// where a place is one character, `'0'` + 8 x the term's place in the field (0–7) + the
/// field's terms less one (0–7). Plain JSON arrays were twice the size.
fn encode_into(out: &mut String, list: &[(u32, u32)]) {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut digits = [0u8; 8];
    for &(id, v) in list {
        let mut n = id;
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = DIGITS[(n % 36) as usize];
            n /= 36;
            if n == 0 {
                break;
            }
        }
        out.extend(digits[at..].iter().map(|&d| d as char));
        let level = field::level(v).min(9) as u8;
        let head = if v & field::TITLE != 0 {
            b'T'
        } else if v & field::HEADING != 0 {
            b'J' + level
        } else {
            out.push((b'A' + level.max(1) - 1) as char);
            continue;
        };
        let (pos, len) = field::unplace(v);
        out.push(head as char);
        out.push((b'0' + (pos * 8 + len - 1) as u8) as char);
    }
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
        // ASCII runs that go on with a Latin letter take the slow path, lowercased either way.
        assert_eq!(
            terms("naïve NAÏVE ÜberX abcé ABC"),
            ["naive", "naive", "uberx", "abce", "abc"]
        );
        assert_eq!(hex("co"), "636f");
        assert_eq!(hex("é"), "c3a9");
    }

    /// A section of the page `title` (its URL made from the title).
    fn section(title: &str, heading: &str, text: &str) -> Section {
        Section {
            title: title.into(),
            url: format!("/{}/", title.to_lowercase()),
            heading: heading.into(),
            anchor: heading.to_lowercase(),
            text: text.into(),
        }
    }

    #[test]
    fn stop_words_are_the_published_list() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(STOP_WORDS.iter().all(|w| is_stop(w)));
        assert!(is_stop("the") && !is_stop("theme") && !is_stop(""));
    }

    #[test]
    fn postings_encode_compactly() {
        let mut out = String::new();
        let level = |l: u32| l << field::LEVEL_SHIFT;
        encode_into(
            &mut out,
            &[
                (1, level(9)),
                (36, level(4)),
                (0, level(0)),
                (5, field::TITLE | field::place(1, 3)),
                (7, field::HEADING | level(3) | field::place(0, 1)),
                (8, field::HEADING | field::place(7, 12)),
            ],
        );
        // Title: place 1 of 3 is '0' + 8 + 2; heading: 0 of 1 is '0'; 7 of 12 (as 8) is '0' + 63.
        assert_eq!(out, "1I10D0A5T:7M08Jo");
    }

    #[test]
    fn body_levels_saturate_and_weigh_length() {
        assert_eq!(body_level(1, 1.0), 4);
        assert!(body_level(3, 1.0) > body_level(1, 1.0));
        // Repetition saturates: 50 times is not much more than 10.
        assert!(body_level(50, 1.0) - body_level(10, 1.0) <= 1);
        assert_eq!(body_level(1000, 1.0), 9);
        // The same count in a text ten times as long weighs less.
        assert!(body_level(2, 10.0) < body_level(2, 1.0));
    }

    #[test]
    fn page_runs_count_each_pages_sections() {
        let rows = [1, 1, 2, 3, 3, 3];
        assert_eq!(page_runs(&rows, |a, b| a == b), "213");
        let long: Vec<u32> = (0..40).map(|_| 7).chain([8]).collect();
        assert_eq!(page_runs(&long, |a, b| a == b), "z51");
        assert_eq!(page_runs::<u32>(&[], |a, b| a == b), "");
    }

    #[test]
    fn titles_are_on_a_pages_first_section_and_headings_on_their_own() {
        let all = vec![
            section("Deploy with Docker", "", "Short page."),
            section("Deploy with Docker", "Docker in Docker", "Nested docker."),
            section("Tutorial", "", &"docker deploy ".repeat(40)),
        ];
        let files = index(&all);
        let (_, postings) = lookup(&files, "docker").unwrap();
        // The title's (place 1 of 2: '0' + 8 + 1), the heading's first place (0 of 2) with the
        // body's level, then the tutorial's body.
        assert!(postings.starts_with("0T9"), "{postings}");
        assert!(
            (b'J'..=b'S').any(|h| postings.contains(&format!("1{}1", h as char))),
            "{postings}"
        );
        assert!(
            postings.ends_with('I') || postings.ends_with('H'),
            "{postings}"
        );
        assert_eq!(
            postings.matches('T').count(),
            1,
            "one title posting: {postings}"
        );
        let meta = &files
            .iter()
            .find(|(p, _)| p == "search/meta.json")
            .unwrap()
            .1;
        assert!(meta.contains("\"pages\":\"21\""), "{meta}");
        assert!(meta.contains("\"version\":3"), "{meta}");
    }

    /// The line of `term` in the shard the browser would fetch for it: the longest listed
    /// prefix, as `search.js` picks it.
    fn lookup<'a>(files: &'a Files, term: &str) -> Option<(&'a str, &'a str)> {
        let meta: serde_json::Value =
            serde_json::from_str(&files.iter().find(|(p, _)| p == "search/meta.json")?.1).unwrap();
        let shards: Vec<&str> = meta["shards"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let chars = term.chars().count();
        let name = (0..=chars)
            .rev()
            .map(|n| hex(first_chars(term, n)))
            .find(|h| shards.contains(&h.as_str()))?;
        let text = &files
            .iter()
            .find(|(p, _)| *p == format!("search/t/x{name}.txt"))
            .expect("a listed shard exists")
            .1;
        text.lines().find_map(|l| {
            let mut parts = l.splitn(3, ' ');
            (parts.next()? == term).then(|| (parts.next().unwrap(), parts.next().unwrap()))
        })
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
        let (stem, postings) = lookup(&files, "verify").unwrap();
        assert_eq!(stem, "verifi", "a stem that is not a prefix is written out");
        assert!(
            postings.starts_with("1T1"),
            "the title match ranks first: {postings}"
        );
        assert_eq!(
            lookup(&files, "words").unwrap().0,
            "4",
            "a prefix stem is a length"
        );
        let (stem, postings) = lookup(&files, "common").unwrap();
        assert_eq!(stem, "", "a term that is its own stem");
        assert_eq!(
            postings.chars().filter(char::is_ascii_uppercase).count(),
            MAX_POSTINGS,
            "body-only postings are one capital each"
        );
        assert!(
            lookup(&files, "the").is_none(),
            "stop words are not indexed"
        );
        let shards = files.iter().filter(|(p, _)| p.starts_with("search/t/"));
        assert_eq!(shards.count(), 1, "a small site has one shard");
        let meta = &files
            .iter()
            .find(|(p, _)| p == "search/meta.json")
            .unwrap()
            .1;
        assert!(meta.contains("\"chunk\":16"), "{meta}");
        let small = index(&all[..3]);
        assert!(small.iter().any(|(p, _)| p == "search/s/0.json"));
        assert!(!small.iter().any(|(p, _)| p == "search/s/1.json"));
    }

    #[test]
    fn a_large_vocabulary_is_split_and_every_term_is_where_the_browser_looks() {
        // 30,000 distinct words, each on 40 sections: far more than one shard holds.
        let mut all = Vec::new();
        for s in 0..40 {
            let text: Vec<String> = (0..30_000)
                .map(|w| format!("w{}x{w}", ["ca", "co", "de", "ze"][w % 4]))
                .collect();
            all.push(section(&format!("S{s}"), "", &text.join(" ")));
        }
        all.push(section("Extra", "", "co con conf"));
        let files = index(&all);
        let shards: Vec<&(String, String)> = files
            .iter()
            .filter(|(p, _)| p.starts_with("search/t/"))
            .collect();
        assert!(shards.len() > 10, "{} shards", shards.len());
        for w in (0..30_000).step_by(7) {
            let term = format!("w{}x{w}", ["ca", "co", "de", "ze"][w % 4]);
            assert!(lookup(&files, &term).is_some(), "{term} not found");
        }
        // Split shards keep their own term and are not leaves: "w" is split, and a query "w"
        // still lands on a shard that lists common longer words.
        for (path, text) in &shards {
            let lines = text.lines().count();
            assert!(lines > 0, "{path} is empty");
            assert!(
                text.len() <= SHARD_BYTES + 400,
                "{path} is {} bytes",
                text.len()
            );
            let mut sorted: Vec<&str> = text.lines().collect();
            sorted.sort_unstable();
            assert_eq!(sorted, text.lines().collect::<Vec<_>>(), "{path} is sorted");
        }
        assert!(lookup(&files, "con").is_some() && lookup(&files, "co").is_some());
    }

    #[test]
    fn excerpts_end_at_a_word_when_one_is_near() {
        let long = "word ".repeat(100);
        let e = excerpt(&long);
        assert!(
            e.ends_with("word") && e.chars().count() <= TEXT_CHARS,
            "{e:?}"
        );
        let unbroken = "x".repeat(400);
        assert_eq!(excerpt(&unbroken).chars().count(), TEXT_CHARS);
        assert_eq!(excerpt("short"), "short");
        let accents = "é".repeat(400);
        assert_eq!(excerpt(&accents).chars().count(), TEXT_CHARS);
    }

    #[test]
    fn terms_longer_than_sixteen_bytes_are_kept_and_sorted() {
        let words = [
            "abcdefghijklmnop",
            "abcdefghijklmnopq",
            "abcdefghijklmnopqrst",
            "abcdefghijklmno",
            "жжжжжжжжжж",
            "жжжжжжжж",
            "zz",
        ];
        let all: Vec<Section> = words
            .iter()
            .enumerate()
            .map(|(i, w)| section(&format!("P{i}"), "", &format!("{w} {w}")))
            .collect();
        let files = index(&all);
        for w in words {
            assert!(lookup(&files, w).is_some(), "{w}");
        }
        let shard = &files.iter().find(|(p, _)| p == "search/t/x.txt").unwrap().1;
        let terms: Vec<&str> = shard
            .lines()
            .map(|l| l.split(' ').next().unwrap())
            .collect();
        let mut sorted = terms.clone();
        sorted.sort_unstable();
        assert_eq!(terms, sorted);
        assert!(words.iter().all(|w| terms.contains(w)));
    }
}
