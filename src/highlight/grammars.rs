//! The long tail: every fence language the own scanners do not know but bat's grammar set
//! (`two-face`, over `syntect`) does, highlighted with the same `hl-` classes.
//!
//! TextMate scopes are mapped onto the theme's classes (the innermost scope that means
//! something to a reader wins), so the long tail needs no CSS of its own. The grammar set is
//! loaded on the first block that needs it: a site without long-tail blocks, and a warm build
//! whose blocks all come from the cache, never load it.

use std::collections::HashMap;
use std::sync::OnceLock;

use syntect::parsing::{ParseState, Scope, ScopeStack, SyntaxSet};

use super::scan::{Class, Out};

/// Lines longer than this (minified code) are left plain: grammars can be slow on them.
const MAX_LINE: usize = 4096;

/// Fence names people write that the grammar set knows by another name.
const ALIASES: &[(&str, &str)] = &[
    ("c#", "cs"),
    ("c++", "cpp"),
    ("csharp", "cs"),
    ("docker", "dockerfile"),
    ("f#", "fs"),
    ("fsharp", "fs"),
    ("objc", "m"),
    ("objective-c", "m"),
    ("patch", "diff"),
    ("ps1", "powershell"),
    ("terraform", "tf"),
];

/// The grammar set, loaded when first needed.
#[derive(Default)]
pub(crate) struct Grammars {
    set: OnceLock<SyntaxSet>,
}

impl Grammars {
    /// Whether the set has not been loaded (no block needed it).
    #[cfg(test)]
    pub(crate) fn is_unloaded(&self) -> bool {
        self.set.get().is_none()
    }

    fn set(&self) -> &SyntaxSet {
        self.set.get_or_init(two_face::syntax::extra_newlines)
    }

    /// Highlights `code` as the grammar for fence name `token` (one of [`FENCES`] or
    /// [`ALIASES`]); `false` if the set has no such grammar.
    pub(crate) fn highlight(&self, token: &str, code: &str, out: &mut Out<'_>) -> bool {
        let set = self.set();
        let Some(syntax) = set.find_syntax_by_token(token) else {
            return false;
        };
        let mut state = ParseState::new(syntax);
        let mut stack = ScopeStack::new();
        let mut classes: HashMap<Scope, Option<Class>> = HashMap::new();
        let mut run = Run::default();
        let mut lines = code.split_inclusive('\n');
        for line in lines.by_ref() {
            if line.len() > MAX_LINE {
                run.flush(out);
                out.text(line);
                break;
            }
            let Ok(ops) = state.parse_line(line, set) else {
                run.flush(out);
                out.text(line);
                break;
            };
            let mut from = 0;
            for (at, op) in ops {
                let at = at.min(line.len());
                if at > from {
                    let class = class_of(&stack, &mut classes);
                    run.push(out, class, line.get(from..at).unwrap_or(""));
                    from = at;
                }
                if stack.apply(&op).is_err() {
                    break;
                }
            }
            let class = class_of(&stack, &mut classes);
            run.push(out, class, line.get(from..).unwrap_or(""));
        }
        run.flush(out);
        // Whatever was left after a line the grammar could not take, as it is.
        for line in lines {
            out.text(line);
        }
        true
    }
}

/// Text of one class waiting to be written, so that neighbouring tokens of a class share a span.
#[derive(Default)]
struct Run {
    class: Option<Class>,
    text: String,
}

impl Run {
    fn push(&mut self, out: &mut Out<'_>, class: Option<Class>, t: &str) {
        if t.is_empty() {
            return;
        }
        // Blanks take the class of what they sit in, so `a b` of one class is one span, but a
        // line break ends a span (each line's spans stay on their line).
        let blank = t.bytes().all(|c| c == b' ' || c == b'\t');
        if class != self.class && !(blank && self.class.is_some()) {
            self.flush(out);
            self.class = class;
        }
        self.text.push_str(t);
    }

    fn flush(&mut self, out: &mut Out<'_>) {
        match self.class {
            Some(class) => {
                let body = self.text.trim_end_matches('\n');
                out.span(class, body);
                out.text(self.text.get(body.len()..).unwrap_or(""));
            }
            None => out.text(&self.text),
        }
        self.text.clear();
        self.class = None;
    }
}

/// The class of text under `stack`: that of the innermost scope that has one.
fn class_of(stack: &ScopeStack, memo: &mut HashMap<Scope, Option<Class>>) -> Option<Class> {
    stack.as_slice().iter().rev().find_map(|scope| {
        *memo
            .entry(*scope)
            .or_insert_with(|| scope_class(&scope.build_string()))
    })
}

/// The theme class a TextMate scope name stands for, by the naming conventions grammars share.
/// `None` for scopes that colour nothing (punctuation, operators, `meta.*`), so the scope
/// around them decides.
pub(crate) fn scope_class(scope: &str) -> Option<Class> {
    let is = |prefix: &str| {
        scope == prefix
            || scope
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('.'))
    };
    Some(if is("comment") {
        Class::Comment
    } else if is("constant.character.escape") {
        Class::Escape
    } else if is("string.regexp") {
        Class::StringSpecial
    } else if is("string") || is("markup.raw") || is("markup.inserted") {
        Class::String
    } else if is("constant.numeric") {
        Class::Number
    } else if is("constant.language") {
        Class::ConstantBuiltin
    } else if is("constant") {
        Class::Constant
    } else if is("keyword.operator") || is("punctuation") || is("meta") || is("source") {
        return None;
    } else if is("keyword")
        || is("storage")
        || is("markup.heading")
        || is("markup.deleted")
        || is("entity.name.section")
    {
        Class::Keyword
    } else if is("support.function") {
        Class::FunctionBuiltin
    } else if is("entity.name.function") || is("variable.function") {
        Class::Function
    } else if is("variable.language") {
        Class::VariableBuiltin
    } else if is("entity.name.tag") {
        Class::Tag
    } else if is("entity.other.attribute-name") {
        Class::Attribute
    } else if is("entity.name.label") {
        Class::Label
    } else if is("support.type.property-name")
        || is("variable.other.member")
        || is("variable.other.property")
        || is("entity.name.key")
    {
        Class::Property
    } else if is("support.type")
        || is("support.class")
        || is("entity.name")
        || is("entity.other.inherited-class")
    {
        Class::Type
    } else {
        return None;
    })
}

/// The grammar-set name a fence selects, if the set knows it: a token of [`FENCES`] (file
/// extensions and lower-case names, as the set matches them) or an alias.
pub(crate) fn token(lang: &str) -> Option<&'static str> {
    let lang = lang.trim();
    if lang.is_empty() || lang.len() > 40 {
        return None;
    }
    let lower = lang.to_ascii_lowercase();
    if let Ok(i) = ALIASES.binary_search_by(|(a, _)| (*a).cmp(lower.as_str())) {
        return ALIASES.get(i).map(|(_, t)| *t);
    }
    FENCES
        .binary_search(&lower.as_str())
        .ok()
        .and_then(|i| FENCES.get(i).copied())
}

/// Every fence name the grammar set answers to: its names and the aliases.
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    FENCES.iter().copied().chain(ALIASES.iter().map(|(a, _)| *a))
}

/// Every name the grammar set selects a grammar by, lower-case and sorted: kept in the source
/// so that knowing whether a fence is highlighted never loads the set (a test checks it
/// against the set).
pub(crate) static FENCES: &[&str] = &[];

/// The names [`FENCES`] should hold: every extension and lower-case name the set resolves,
/// except plain text's (a grammar adds nothing to it).
#[cfg(test)]
pub(super) fn tokens_of(set: &SyntaxSet) -> Vec<String> {
    let mut names: Vec<String> = set
        .syntaxes()
        .iter()
        .flat_map(|s| {
            s.file_extensions
                .iter()
                .map(|e| e.to_ascii_lowercase())
                .chain(std::iter::once(s.name.to_ascii_lowercase()))
        })
        .filter(|t| {
            set.find_syntax_by_token(t)
                .is_some_and(|s| s.name != "Plain Text")
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_are_the_sets_names() {
        let set = two_face::syntax::extra_newlines();
        let expected = tokens_of(&set);
        assert!(
            FENCES.iter().copied().eq(expected.iter().map(String::as_str)),
            "FENCES is out of date; it should be:\n{expected:?}"
        );
        for (alias, token) in ALIASES {
            assert!(set.find_syntax_by_token(token).is_some(), "{alias}");
        }
        assert!(ALIASES.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
