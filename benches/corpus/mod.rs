//! A reproducible synthetic docs corpus for the build benchmark.
//!
//! `generate(dir, n, seed)` writes `dir/content/` with `n` pages spread over [`SECTIONS`]
//! sections (`section-00` … `section-19`, each with an `_index.md` and one small PNG), every
//! page about 4 KB of Markdown: frontmatter, 4–6 h2/h3 headings, paragraphs, a bullet and a
//! numbered list, one fenced code block in a rotating language, a GFM table, three relative
//! links to other pages (some with `#fragment`s naming a heading that exists there) and one
//! image. Everything comes from one seeded PRNG, so the same `(n, seed)` gives the same bytes.
//!
//! Kept in `benches/corpus/mod.rs` (not `benches/corpus.rs`) so Cargo does not take it for a
//! bench target of its own. Std only.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

/// Sections in every corpus.
pub const SECTIONS: usize = 20;

/// Bytes of Markdown a page aims at (frontmatter included).
const PAGE_BYTES: usize = 4096;

/// Languages of the fenced code blocks, one per page in turn.
const LANGS: [&str; 7] = [
    "rust",
    "bash",
    "yaml",
    "json",
    "python",
    "javascript",
    "toml",
];

/// Languages the own scanners do not know, for the long-tail variant (`--long-tail`): one block
/// per page in turn, each a head line, body lines and a tail line from [`LONG_TAIL`]'s templates.
pub const LONG_TAIL_LANGS: [&str; 12] = [
    "java",
    "c",
    "cpp",
    "csharp",
    "ruby",
    "php",
    "kotlin",
    "swift",
    "lua",
    "haskell",
    "dockerfile",
    "nginx",
];

/// Per long-tail language: head, body and tail templates. `{i}` is an identifier, `{n}` a
/// number, `{w}` a word, `{I}` a capitalized word.
#[rustfmt::skip]
const LONG_TAIL: [(&str, &str, &str); 12] = [
    ("public final class {I} {", "    private static final int {i} = {w}.size({n}); // {w}", "}"),
    ("int {i}(const char *s) {", "    long {i} = strtol(\"{w}\", NULL, {n}); /* {w} */", "}"),
    ("template <typename T> auto {i}(std::vector<T>& v) {", "    auto {i} = std::make_unique<{I}>({n}, \"{w}\");", "}"),
    ("public async Task<int> {I}() {", "    var {i} = await _{w}.GetAsync(\"{w}\", {n});", "}"),
    ("def {i}(opts = {})", "  @{i} = {I}.new(:{w}, {n}) # {w}", "end"),
    ("<?php function {i}(array $opts): int {", "    ${i} = $opts['{w}'] ?? {n}; // {w}", "}"),
    ("fun {i}(client: {I}): Int {", "    val {i} = client.{w}(\"{w}\", {n})", "}"),
    ("func {i}(_ client: {I}) -> Int {", "    let {i} = client.{w}(\"{w}\", retries: {n})", "}"),
    ("local function {i}(opts)", "  local {i} = opts.{w} or {n} -- {w}", "end"),
    ("{i} :: Int -> IO ()", "{i} x = print (x + {n}) -- {w}", "main = pure ()"),
    ("FROM debian:bookworm-slim", "RUN apt-get install -y {w} && echo {n} # {w}", "CMD [\"/usr/bin/{w}\"]"),
    ("server {", "    location /{w}/ { proxy_pass http://127.0.0.1:{n}; } # {w}", "}"),
];

#[rustfmt::skip]
const WORDS: &[&str] = &[
    "access", "account", "adapter", "address", "agent", "alias", "allocation", "anchor", "archive",
    "artifact", "audit", "backend", "backup", "balance", "batch", "binary", "blob", "bootstrap",
    "boundary", "branch", "buffer", "bundle", "cache", "callback", "canary", "capacity", "catalog",
    "certificate", "channel", "checksum", "cluster", "codec", "commit", "component", "config",
    "connection", "consumer", "container", "context", "controller", "credential", "cursor",
    "daemon", "dashboard", "database", "deadline", "default", "dependency", "deployment", "digest",
    "directory", "dispatch", "domain", "driver", "endpoint", "engine", "entry", "environment",
    "event", "exporter", "extension", "failover", "feature", "field", "filter", "firewall",
    "fixture", "flag", "folder", "format", "gateway", "generator", "graph", "handler", "header",
    "health", "hook", "host", "identity", "image", "index", "ingress", "instance", "interval",
    "issuer", "job", "journal", "kernel", "key", "label", "latency", "layer", "lease", "library",
    "limit", "listener", "loader", "lock", "manifest", "mapping", "marker", "matrix", "message",
    "metric", "middleware", "migration", "mirror", "module", "monitor", "mount", "namespace",
    "network", "node", "object", "offset", "operator", "option", "origin", "package", "parser",
    "partition", "patch", "payload", "peer", "permission", "pipeline", "plugin", "policy", "pool",
    "port", "prefix", "probe", "process", "profile", "project", "protocol", "provider", "proxy",
    "queue", "quota", "record", "region", "registry", "release", "replica", "repository",
    "request", "resolver", "resource", "response", "retry", "revision", "role", "rollout", "route",
    "rule", "runner", "runtime", "sandbox", "scheduler", "schema", "scope", "secret", "segment",
    "selector", "server", "service", "session", "setting", "shard", "signal", "snapshot", "socket",
    "source", "span", "stage", "storage", "stream", "subnet", "switch", "table", "tag", "target",
    "task", "template", "tenant", "thread", "threshold", "timeout", "token", "topic", "trace",
    "trigger", "tunnel", "upstream", "user", "validator", "value", "vault", "version", "volume",
    "watcher", "webhook", "worker", "workflow", "workspace", "zone",
];

#[rustfmt::skip]
const FILLER: &[&str] = &[
    "the", "a", "each", "every", "this", "that", "its", "our", "your", "one", "and", "or", "but",
    "then", "when", "while", "before", "after", "with", "without", "into", "from", "for", "by",
    "on", "in", "under", "over", "is", "are", "was", "can", "should", "must", "may", "will",
    "keeps", "sends", "reads", "writes", "checks", "starts", "stops", "moves", "rotates", "builds",
    "loads", "stores", "returns", "accepts", "rejects", "waits", "quickly", "safely", "only",
    "also", "usually", "rarely", "first", "last", "new", "old", "shared", "local", "remote",
    "private", "public", "stale", "fresh", "large", "small", "slow", "fast",
];

#[rustfmt::skip]
const VERBS: &[&str] = &[
    "Configuring", "Deploying", "Debugging", "Scaling", "Securing", "Monitoring", "Migrating",
    "Testing", "Tuning", "Rotating", "Backing up", "Restoring", "Upgrading", "Choosing",
    "Understanding", "Troubleshooting", "Writing", "Naming", "Sharing", "Removing",
];

#[rustfmt::skip]
const TAILS: &[&str] = &[
    "", "", "", "?", " (v2.1)", ": a checklist", ", step by step", " - the basics",
    " in production", " for teams", " (advanced)", "'s limits", " & quotas", " 101",
];

/// SplitMix64: tiny, fast, good enough for text.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.next() as usize % xs.len()]
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// The id docsite gives a heading: the corpus links to headings by it.
pub fn slugify(text: &str) -> String {
    docsite::markdown::slugify(text)
}

fn capitalize(w: &str) -> String {
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// What other pages need to know about a page before it is written: where it is and its
/// headings.
struct Plan {
    section: usize,
    title: String,
    /// `(level, text)`; texts are distinct within a page, so each slug is the heading's id.
    headings: Vec<(u8, String)>,
}

fn section_of(i: usize) -> usize {
    i % SECTIONS
}

/// `section-07/page-00123.md`, relative to `content/`.
pub fn page_rel(i: usize) -> String {
    format!("section-{:02}/page-{i:05}.md", section_of(i))
}

/// The image of a section, relative to its folder.
fn image_name(s: usize) -> String {
    format!("diagram-{s:02}.png")
}

fn plan(rng: &mut Rng, i: usize) -> Plan {
    let title = format!(
        "{} the {} {}",
        rng.pick(VERBS),
        rng.pick(WORDS),
        rng.pick(WORDS)
    );
    let count = rng.range(4, 6);
    let mut headings: Vec<(u8, String)> = Vec::with_capacity(count);
    while headings.len() < count {
        // The first heading is an h2; later ones are h2 or h3.
        let level = if headings.is_empty() || rng.chance(60) {
            2
        } else {
            3
        };
        let text = format!(
            "{} {} {}{}",
            rng.pick(VERBS),
            rng.pick(FILLER),
            rng.pick(WORDS),
            rng.pick(TAILS)
        );
        let slug = slugify(&text);
        if headings.iter().all(|(_, t)| slugify(t) != slug) {
            headings.push((level, text));
        }
    }
    Plan {
        section: section_of(i),
        title,
        headings,
    }
}

fn sentence(rng: &mut Rng, out: &mut String) {
    let n = rng.range(8, 18);
    for k in 0..n {
        let w = if rng.chance(45) {
            rng.pick(WORDS)
        } else {
            rng.pick(FILLER)
        };
        if k == 0 {
            out.push_str(&capitalize(w));
        } else {
            out.push(' ');
            if rng.chance(4) {
                let _ = write!(out, "`{}_{}`", w, rng.range(0, 999));
            } else if rng.chance(3) {
                let _ = write!(out, "**{w}**");
            } else {
                out.push_str(w);
            }
        }
        if k + 1 < n && rng.chance(6) {
            out.push(',');
        }
    }
    out.push_str(". ");
}

fn paragraph(rng: &mut Rng, out: &mut String, sentences: usize) {
    for _ in 0..sentences {
        sentence(rng, out);
    }
    out.pop();
    out.push_str("\n\n");
}

fn ident(rng: &mut Rng) -> String {
    format!(
        "{}_{}{}",
        rng.pick(WORDS),
        rng.pick(WORDS),
        rng.range(0, 9999)
    )
}

fn code_block(rng: &mut Rng, lang: &str, out: &mut String) {
    let lines = rng.range(10, 20);
    let _ = writeln!(out, "```{lang}");
    match lang {
        "rust" => {
            let _ = writeln!(
                out,
                "fn {}(input: &[u8]) -> Result<u64, Error> {{",
                ident(rng)
            );
            for _ in 0..lines - 3 {
                let _ = writeln!(
                    out,
                    "    let {} = {}::new({}, \"{}\")?;",
                    ident(rng),
                    capitalize(rng.pick(WORDS)),
                    rng.range(0, 1 << 20),
                    rng.pick(WORDS)
                );
            }
            let _ = writeln!(out, "    Ok({})", rng.range(0, 65535));
            out.push_str("}\n");
        }
        "bash" => {
            out.push_str("#!/usr/bin/env bash\nset -euo pipefail\n");
            for _ in 0..lines - 2 {
                let _ = writeln!(
                    out,
                    "{}=\"$(docsite {} --{} {})\"  # {}",
                    ident(rng).to_uppercase(),
                    rng.pick(WORDS),
                    rng.pick(WORDS),
                    rng.range(1, 50000),
                    rng.pick(FILLER)
                );
            }
        }
        "yaml" => {
            let _ = writeln!(out, "{}:", ident(rng));
            for _ in 0..lines - 1 {
                let _ = writeln!(out, "  {}: {}", ident(rng), rng.range(0, 100000));
            }
        }
        "json" => {
            out.push_str("{\n");
            for k in 0..lines - 2 {
                let comma = if k + 3 < lines { "," } else { "" };
                let _ = writeln!(out, "  \"{}\": {}{comma}", ident(rng), rng.range(0, 100000));
            }
            out.push_str("}\n");
        }
        "python" => {
            let _ = writeln!(
                out,
                "def {}(client, limit={}):",
                ident(rng),
                rng.range(1, 999)
            );
            for _ in 0..lines - 2 {
                let _ = writeln!(
                    out,
                    "    {} = client.{}(\"{}\", retries={})",
                    ident(rng),
                    rng.pick(WORDS),
                    rng.pick(WORDS),
                    rng.range(0, 9)
                );
            }
            let _ = writeln!(out, "    return {}", rng.range(0, 65535));
        }
        "javascript" => {
            let _ = writeln!(out, "export async function {}(opts) {{", ident(rng));
            for _ in 0..lines - 3 {
                let _ = writeln!(
                    out,
                    "  const {} = await opts.{}(\"{}\", {});",
                    ident(rng),
                    rng.pick(WORDS),
                    rng.pick(WORDS),
                    rng.range(0, 1 << 16)
                );
            }
            let _ = writeln!(out, "  return {};", rng.range(0, 65535));
            out.push_str("}\n");
        }
        _ => {
            let _ = writeln!(out, "[{}]", ident(rng));
            for _ in 0..lines - 1 {
                let _ = writeln!(out, "{} = {}", ident(rng), rng.range(0, 100000));
            }
        }
    }
    out.push_str("```\n\n");
}

/// A block in long-tail language `k` of [`LONG_TAIL_LANGS`], 10–20 lines like [`code_block`].
pub fn long_tail_block(rng: &mut Rng, k: usize, out: &mut String) {
    let lang = LONG_TAIL_LANGS[k % LONG_TAIL_LANGS.len()];
    let (head, body, tail) = LONG_TAIL[k % LONG_TAIL.len()];
    let lines = rng.range(10, 20);
    let _ = writeln!(out, "```{lang}");
    let mut fill = |template: &str, out: &mut String| {
        let mut rest = template;
        while let Some(at) = rest.find('{') {
            out.push_str(&rest[..at]);
            let hole = rest.get(at..at + 3).unwrap_or("");
            match hole {
                "{i}" => out.push_str(&ident(rng)),
                "{n}" => {
                    let _ = write!(out, "{}", rng.range(0, 65535));
                }
                "{w}" => out.push_str(rng.pick(WORDS)),
                "{I}" => out.push_str(&capitalize(rng.pick(WORDS))),
                _ => {
                    out.push('{');
                    rest = &rest[at + 1..];
                    continue;
                }
            }
            rest = &rest[at + 3..];
        }
        out.push_str(rest);
        out.push('\n');
    };
    fill(head, out);
    for _ in 0..lines - 2 {
        fill(body, out);
    }
    fill(tail, out);
    out.push_str("```\n\n");
}

fn table(rng: &mut Rng, out: &mut String) {
    out.push_str("| Setting | Default | Range | Notes |\n| --- | ---: | :---: | --- |\n");
    for _ in 0..rng.range(3, 5) {
        let _ = writeln!(
            out,
            "| `{}` | {} | {}–{} | {} {} {} |",
            ident(rng),
            rng.range(0, 1000),
            rng.range(0, 10),
            rng.range(100, 100000),
            capitalize(rng.pick(FILLER)),
            rng.pick(WORDS),
            rng.pick(WORDS)
        );
    }
    out.push('\n');
}

fn bullets(rng: &mut Rng, out: &mut String, numbered: bool) {
    for k in 1..=rng.range(3, 6) {
        if numbered {
            let _ = write!(out, "{k}. ");
        } else {
            out.push_str("- ");
        }
        let _ = writeln!(
            out,
            "{} the {} {} {}",
            capitalize(rng.pick(FILLER)),
            rng.pick(WORDS),
            rng.pick(FILLER),
            rng.pick(WORDS)
        );
    }
    out.push('\n');
}

/// One link from page `i` to another page, sometimes to one of its headings. Returns the
/// Markdown and, for fragment links, `(target page, slug)` so a caller can check it.
fn link(rng: &mut Rng, plans: &[Plan], i: usize) -> (String, Option<(usize, String)>) {
    let n = plans.len();
    let mut j = rng.range(0, n - 1);
    if j == i {
        j = (j + 1) % n;
    }
    let p = &plans[j];
    if rng.chance(50) {
        let (_, text) = &p.headings[rng.range(0, p.headings.len() - 1)];
        let slug = slugify(text);
        (
            format!(
                "[{}](../{}#{slug})",
                text.replace(['[', ']'], ""),
                page_rel(j)
            ),
            Some((j, slug)),
        )
    } else {
        (format!("[{}](../{})", p.title, page_rel(j)), None)
    }
}

/// A fragment link in the corpus: from page, to page, heading id.
pub type FragmentLink = (usize, usize, String);

fn page(
    rng: &mut Rng,
    plans: &[Plan],
    i: usize,
    frags: &mut Vec<FragmentLink>,
    long_tail: bool,
) -> String {
    let p = &plans[i];
    let lang = if long_tail {
        LONG_TAIL_LANGS[i % LONG_TAIL_LANGS.len()]
    } else {
        LANGS[i % LANGS.len()]
    };
    let mut out = String::with_capacity(PAGE_BYTES + 1024);
    let _ = write!(
        out,
        "---\ntitle: \"{}\"\ndescription: \"How {} {} {} works, with a {} example.\"\nweight: {}\n---\n\n",
        p.title,
        rng.pick(FILLER),
        rng.pick(WORDS),
        rng.pick(WORDS),
        lang,
        i / SECTIONS + 1
    );
    // Bodies of the page's parts: an intro, then one per heading. Fixed elements go into
    // chosen parts; filler paragraphs are then dealt round-robin until the page is ~4 KB.
    let h = p.headings.len();
    let mut parts: Vec<String> = vec![String::new(); h + 1];
    paragraph(rng, &mut parts[0], 2);
    let links: Vec<String> = (0..3)
        .map(|_| {
            let (md, frag) = link(rng, plans, i);
            if let Some((j, slug)) = frag {
                frags.push((i, j, slug));
            }
            md
        })
        .collect();
    let _ = write!(parts[0], "Before you start, read {}.\n\n", links[0]);
    bullets(rng, &mut parts[1], false);
    let _ = write!(
        parts[1],
        "![Diagram of the {} flow in section {}](./{})\n\n",
        rng.pick(WORDS),
        p.section,
        image_name(p.section)
    );
    paragraph(rng, &mut parts[2], 1);
    if long_tail {
        long_tail_block(rng, i, &mut parts[2]);
    } else {
        code_block(rng, lang, &mut parts[2]);
    }
    let _ = write!(parts[2], "The same applies to {}.\n\n", links[1]);
    table(rng, &mut parts[3]);
    bullets(rng, &mut parts[h], true);
    let _ = write!(parts[h], "Next, see {}.\n\n", links[2]);

    let fixed: usize = out.len()
        + parts.iter().map(String::len).sum::<usize>()
        + p.headings.iter().map(|(_, t)| t.len() + 6).sum::<usize>();
    let mut budget = PAGE_BYTES.saturating_sub(fixed);
    let mut k = 0;
    while budget > 0 {
        let mut para = String::new();
        let sentences = rng.range(1, 3);
        paragraph(rng, &mut para, sentences);
        budget = budget.saturating_sub(para.len());
        parts[k % (h + 1)].push_str(&para);
        k += 1;
    }

    out.push_str(&parts[0]);
    for (n, (level, text)) in p.headings.iter().enumerate() {
        let _ = write!(out, "{} {text}\n\n", "#".repeat(*level as usize));
        out.push_str(&parts[n + 1]);
    }
    out
}

/// A `size`×`size` PNG of one colour: signature, IHDR, one IDAT (zlib with stored deflate
/// blocks), IEND.
pub fn png(size: u32, rgb: [u8; 3]) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    // Each scanline: filter byte 0 (none), then the pixels.
    let mut line = vec![0u8];
    line.extend(rgb.iter().cycle().take(3 * size as usize));
    let raw = line.repeat(size as usize);
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65535).collect();
    for (k, block) in blocks.iter().enumerate() {
        z.push(u8::from(k + 1 == blocks.len()));
        let len = block.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &x in &raw {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());

    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&size.to_be_bytes());
    ihdr.extend_from_slice(&size.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, no interlace
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// What [`generate`] wrote.
pub struct Corpus {
    pub pages: usize,
    pub bytes: u64,
    /// Every `#fragment` link: (from page, to page, heading id).
    pub fragment_links: Vec<FragmentLink>,
}

/// Writes a corpus of `n` pages (at least 2) into `dir/content/`, replacing what was there.
#[allow(dead_code)] // not every bench that includes this module calls it
pub fn generate(dir: &Path, n: usize, seed: u64) -> io::Result<Corpus> {
    generate_with(dir, n, seed, false)
}

/// [`generate`], with every page's code block in a long-tail language when `long_tail` is set.
pub fn generate_with(dir: &Path, n: usize, seed: u64, long_tail: bool) -> io::Result<Corpus> {
    assert!(n >= 2, "a corpus needs at least 2 pages");
    let content = dir.join("content");
    if content.exists() {
        fs::remove_dir_all(&content)?;
    }
    fs::create_dir_all(&content)?;
    let mut bytes = 0u64;
    let mut put = |path: &Path, data: &[u8]| -> io::Result<()> {
        bytes += data.len() as u64;
        fs::write(path, data)
    };
    put(
        &dir.join("docsite.toml"),
        b"title = \"docsite benchmark corpus\"\ndescription = \"Synthetic pages for the build benchmark.\"\n",
    )?;
    put(
        &content.join("_index.md"),
        format!(
            "---\ntitle: Benchmark corpus\ndescription: {n} synthetic pages in {SECTIONS} sections.\n---\n\nA generated site for timing `docsite build`. Start with [the first page](./{}).\n",
            page_rel(0)
        )
        .as_bytes(),
    )?;

    let mut rng = Rng::new(seed ^ (n as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
    let plans: Vec<Plan> = (0..n).map(|i| plan(&mut rng, i)).collect();
    for s in 0..SECTIONS {
        let d = content.join(format!("section-{s:02}"));
        fs::create_dir_all(&d)?;
        let title = format!("{} {}", capitalize(rng.pick(WORDS)), rng.pick(WORDS));
        put(
            &d.join("_index.md"),
            format!(
                "---\ntitle: \"Section {s}: {title}\"\ndescription: \"Guides about {title}.\"\nweight: {}\n---\n\nThis section covers {title}.\n",
                s + 1
            )
            .as_bytes(),
        )?;
        let c = (s * 53) as u8;
        put(
            &d.join(image_name(s)),
            &png(16, [c, 255 - c, (s * 97) as u8]),
        )?;
    }
    let mut fragment_links = Vec::new();
    for i in 0..n {
        let text = page(&mut rng, &plans, i, &mut fragment_links, long_tail);
        put(&content.join(page_rel(i)), text.as_bytes())?;
    }
    Ok(Corpus {
        pages: n,
        bytes,
        fragment_links,
    })
}

/// The shared file every page includes with [`add_components`].
const SHARED_STEP: &str = "---\nnote: a shared step\n---\n### Shared step\n\nEvery page shows this step, included from `_shared/step.md`, with [a link home](/).\n";

/// Adds a component and an include to every page of a corpus made by [`generate`]: a
/// `<Callout>` holding Markdown and an `<Include>` of one shared file in a `_` folder (so each
/// page's headings, links and search text grow by what a real include adds). Returns the
/// bytes added.
pub fn add_components(dir: &Path, n: usize) -> io::Result<u64> {
    let content = dir.join("content");
    fs::create_dir_all(content.join("_shared"))?;
    fs::write(content.join("_shared/step.md"), SHARED_STEP)?;
    let mut bytes = SHARED_STEP.len() as u64;
    let block = "\n<Callout type=\"tip\" title=\"Before you go on\">\nCheck **every** step above; {{PLACEHOLDERS}} stay as written.\n</Callout>\n\n<Include path=\"/_shared/step.md\" />\n";
    for i in 0..n {
        let path = content.join(page_rel(i));
        let mut text = fs::read_to_string(&path)?;
        text.push_str(block);
        bytes += block.len() as u64;
        fs::write(&path, text)?;
    }
    Ok(bytes)
}
