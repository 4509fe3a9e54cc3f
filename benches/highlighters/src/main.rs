//! One candidate per build (chosen by feature): loads its grammar set, then highlights the
//! long-tail blocks of the build benchmark's corpus one after another on one thread, and prints
//! load time, time per block and which of the corpus's languages it knows. `run.sh` builds each
//! candidate and a baseline, and reports binary sizes beside these figures.

// The corpus module names docsite's slugify; the blocks measured here do not need it.
extern crate self as docsite;
/// Stands in for docsite's module of that name, for the corpus module.
pub mod markdown {
    /// Unused by the blocks measured here.
    pub fn slugify(text: &str) -> String {
        text.to_lowercase()
    }
}

#[allow(dead_code)]
#[path = "../../corpus/mod.rs"]
mod corpus;

use std::time::{Duration, Instant};

/// CPU time of this process so far, from /proc (Linux): a contended machine inflates wall time.
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command name.
    let field = |k: usize| f.get(k).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    let ticks = field(11) + field(12);
    Duration::from_millis(ticks * 10)
}

fn blocks(n: usize) -> Vec<(&'static str, String)> {
    let mut rng = corpus::Rng::new(0x00D0_C517_E5EE_D001);
    (0..n)
        .map(|k| {
            let mut s = String::new();
            corpus::long_tail_block(&mut rng, k, &mut s);
            // Drop the fence lines: the candidates get the code only.
            let body: Vec<&str> = s.lines().filter(|l| !l.starts_with("```")).collect();
            let lang = corpus::LONG_TAIL_LANGS[k % corpus::LONG_TAIL_LANGS.len()];
            (lang, body.join("\n") + "\n")
        })
        .collect()
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let blocks = blocks(n);
    let (name, load, per_block, known, total) = run(&blocks);
    println!(
        "{name:<16} load {:>7.1} ms  {n} blocks: {:>8.1} ms wall, {:>8.0} ms cpu ({:.0} µs/block)  languages: {total}; corpus languages known: {known}",
        load.as_secs_f64() * 1e3,
        per_block.0.as_secs_f64() * 1e3,
        per_block.1.as_secs_f64() * 1e3,
        per_block.1.as_secs_f64() * 1e6 / n as f64,
    );
}

type Outcome = (&'static str, Duration, (Duration, Duration), String, usize);

#[cfg(not(any(feature = "syntect-fancy", feature = "syntect-onig", feature = "two-face-fancy", feature = "two-face-onig", feature = "giallo")))]
fn run(blocks: &[(&'static str, String)]) -> Outcome {
    // Baseline: escape the code, as docsite does for a language it does not know.
    let t = (Instant::now(), cpu());
    let mut bytes = 0;
    for (_, code) in blocks {
        bytes += code.replace('<', "&lt;").len();
    }
    std::hint::black_box(bytes);
    ("baseline", Duration::ZERO, (t.0.elapsed(), cpu() - t.1), String::new(), 0)
}

#[cfg(any(feature = "syntect-fancy", feature = "syntect-onig", feature = "two-face-fancy", feature = "two-face-onig"))]
fn run(blocks: &[(&'static str, String)]) -> Outcome {
    use syntect::parsing::{ParseState, ScopeStack, SyntaxSet};
    let t = Instant::now();
    #[cfg(any(feature = "two-face-fancy", feature = "two-face-onig"))]
    let (name, set): (&str, SyntaxSet) = ("two-face extra", two_face::syntax::extra_newlines());
    #[cfg(not(any(feature = "two-face-fancy", feature = "two-face-onig")))]
    let (name, set) = ("syntect default", SyntaxSet::load_defaults_newlines());
    let load = t.elapsed();
    let t = (Instant::now(), cpu());
    let mut ops = 0usize;
    for (lang, code) in blocks {
        let Some(syntax) = set.find_syntax_by_token(lang) else { continue };
        let mut state = ParseState::new(syntax);
        let mut stack = ScopeStack::new();
        for line in code.split_inclusive('\n') {
            if let Ok(o) = state.parse_line(line, &set) {
                ops += o.len();
                for (_, op) in o {
                    let _ = stack.apply(&op);
                }
            }
        }
    }
    std::hint::black_box(ops);
    let time = (t.0.elapsed(), cpu() - t.1);
    let known: Vec<&str> = corpus::LONG_TAIL_LANGS
        .iter()
        .copied()
        .filter(|l| set.find_syntax_by_token(l).is_some())
        .collect();
    let name = if cfg!(any(feature = "syntect-onig", feature = "two-face-onig")) {
        if name.starts_with("two") { "two-face onig" } else { "syntect onig" }
    } else if name.starts_with("two") { "two-face fancy" } else { "syntect fancy" };
    (name, load, time, known.join(","), set.syntaxes().len())
}

#[cfg(feature = "giallo")]
fn run(blocks: &[(&'static str, String)]) -> Outcome {
    use giallo::{HighlightOptions, Registry, ThemeVariant};
    let t = Instant::now();
    let mut reg = Registry::builtin().expect("giallo's builtin dump");
    reg.link_grammars();
    let load = t.elapsed();
    let t = (Instant::now(), cpu());
    let mut tokens = 0usize;
    for (lang, code) in blocks {
        let opts = HighlightOptions::new(*lang, ThemeVariant::Single("github-light"));
        if let Ok(h) = reg.highlight(code, &opts) {
            tokens += h.tokens.len();
        }
    }
    std::hint::black_box(tokens);
    let time = (t.0.elapsed(), cpu() - t.1);
    let known: Vec<&str> = corpus::LONG_TAIL_LANGS
        .iter()
        .copied()
        .filter(|l| reg.contains_grammar(l))
        .collect();
    ("giallo", load, time, known.join(","), 0)
}
