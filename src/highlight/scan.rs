//! Scanners: one for C-like and scripting languages, driven by a [`Code`] table, and small ones
//! for shells, YAML, TOML, markup and CSS, whose structure is not C-like.
//!
//! They classify tokens lexically, with a little context (the word before, the character after),
//! which is what a reader's eye needs from a docs snippet and costs a single pass over the bytes.
//! Token boundaries are always ASCII bytes, so every slice is on a character boundary; `sub`
//! is used anyway so that a mistake can only mis-highlight, never panic.

/// What a token is, as a set of `hl-` classes the theme styles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    Keyword,
    String,
    StringSpecial,
    Escape,
    Comment,
    Number,
    Constant,
    ConstantBuiltin,
    Type,
    TypeBuiltin,
    Function,
    FunctionBuiltin,
    Macro,
    Property,
    VariableBuiltin,
    Attribute,
    Tag,
    Label,
}

impl Class {
    fn css(self) -> &'static str {
        match self {
            Class::Keyword => "hl-keyword",
            Class::String => "hl-string",
            Class::StringSpecial => "hl-string hl-special",
            Class::Escape => "hl-escape",
            Class::Comment => "hl-comment",
            Class::Number => "hl-number",
            Class::Constant => "hl-constant",
            Class::ConstantBuiltin => "hl-constant hl-builtin",
            Class::Type => "hl-type",
            Class::TypeBuiltin => "hl-type hl-builtin",
            Class::Function => "hl-function",
            Class::FunctionBuiltin => "hl-function hl-builtin",
            Class::Macro => "hl-function hl-macro",
            Class::Property => "hl-property",
            Class::VariableBuiltin => "hl-variable hl-builtin",
            Class::Attribute => "hl-attribute",
            Class::Tag => "hl-tag",
            Class::Label => "hl-label",
        }
    }
}

/// How a language is scanned.
pub(crate) enum Scanner {
    Code(&'static Code),
    Shell,
    Yaml,
    Toml,
    Markup,
    Css,
    /// SQL; `true` when a backslash escapes in every string (MySQL's default).
    Sql(bool),
}

/// The table for a C-like or scripting language.
pub(crate) struct Code {
    pub line_comments: &'static [&'static str],
    pub block_comment: Option<(&'static str, &'static str)>,
    pub nested_comments: bool,
    /// Bytes that open (and close) a string.
    pub quotes: &'static [u8],
    pub multiline_strings: bool,
    /// Letters that may prefix a quote (`b"…"`, `f'…'`); `r` among them means raw.
    pub string_prefixes: &'static [u8],
    /// Rust's `r#"…"#`.
    pub raw_strings: bool,
    /// Python's `"""…"""`.
    pub triple_quotes: bool,
    /// `'x'` is a character, `'a` a lifetime or label.
    pub rust_chars: bool,
    /// Backquoted strings that may span lines.
    pub template_strings: bool,
    /// `/…/flags` where an operand is expected.
    pub regex_literals: bool,
    /// Rust's `#[…]`.
    pub hash_attributes: bool,
    /// `@name` at the start of a line.
    pub decorators: bool,
    /// `name!` is a macro call.
    pub macros: bool,
    /// A capitalized identifier names a type or constructor.
    pub capitalized_types: bool,
    /// `key:` after `{` or `,` is a property (and so is a string there).
    pub object_keys: bool,
    pub dollar_idents: bool,
    /// Words after which an identifier is a function being defined.
    pub function_defs: &'static [&'static str],
    /// Words after which an identifier is a type being defined.
    pub type_defs: &'static [&'static str],
    /// Reserved and builtin words, each table sorted (a test checks) for binary search.
    pub words: &'static [(&'static [&'static str], Class)],
}

/// The longest word in any table: longer identifiers skip the lookup.
pub(crate) const MAX_WORD: usize = 11;

fn sub(s: &str, start: usize, end: usize) -> &str {
    s.get(start..end).unwrap_or("")
}

fn peek(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// The index of the next `c` at or after `i`, or the end.
fn find_byte(b: &[u8], i: usize, c: u8) -> usize {
    b.get(i..)
        .and_then(|r| r.iter().position(|&x| x == c))
        .map_or(b.len(), |p| i + p)
}

/// The end of the first `pat` at or after `i`, or the end.
fn find_after(s: &str, i: usize, pat: &str) -> usize {
    s.get(i..)
        .and_then(|r| r.find(pat))
        .map_or(s.len(), |p| i + p + pat.len())
}

/// The first byte at or after `i` that is not a space or tab.
fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while matches!(peek(b, i), b' ' | b'\t') {
        i += 1;
    }
    i
}

fn utf8_len(c: u8) -> usize {
    match c {
        0xf0.. => 4,
        0xe0.. => 3,
        0xc0.. => 2,
        _ => 1,
    }
}

/// HTML being written: text outside tokens is escaped as is, tokens are wrapped in spans.
pub(crate) struct Out<'a> {
    pub html: &'a mut String,
}

impl Out<'_> {
    pub(crate) fn text(&mut self, t: &str) {
        escape(self.html, t);
    }

    pub(crate) fn span(&mut self, class: Class, t: &str) {
        if t.is_empty() {
            return;
        }
        self.html.push_str("<span class=\"");
        self.html.push_str(class.css());
        self.html.push_str("\">");
        escape(self.html, t);
        self.html.push_str("</span>");
    }

    /// The plain text in `s[plain]`, then the token in `s[token]` as a span of `class` (a
    /// string with its escape sequences marked when `escapes`).
    fn token(
        &mut self,
        s: &str,
        plain: std::ops::Range<usize>,
        token: std::ops::Range<usize>,
        class: Class,
        escapes: bool,
    ) {
        self.text(sub(s, plain.start, plain.end));
        if class == Class::String {
            self.string(sub(s, token.start, token.end), escapes);
        } else {
            self.span(class, sub(s, token.start, token.end));
        }
    }

    /// A string token, with escape sequences in it as their own spans.
    fn string(&mut self, t: &str, escapes: bool) {
        let b = t.as_bytes();
        let mut from = 0;
        let mut i = 0;
        while escapes && i < b.len() {
            if b[i] != b'\\' || i + 1 >= b.len() {
                i += 1;
                continue;
            }
            let mut end = i + 1 + utf8_len(b[i + 1]);
            let hex = |from: usize, max: usize| {
                let mut e = from;
                while e < b.len() && e - from < max && b[e].is_ascii_hexdigit() {
                    e += 1;
                }
                e
            };
            match b[i + 1] {
                b'u' if peek(b, i + 2) == b'{' => {
                    end = find_byte(b, i + 2, b'}').min(b.len() - 1) + 1
                }
                b'u' => end = hex(i + 2, 4),
                b'U' => end = hex(i + 2, 8),
                b'x' => end = hex(i + 2, 2),
                b'0'..=b'7' => {
                    end = i + 2;
                    while end < b.len() && end < i + 4 && (b'0'..=b'7').contains(&b[end]) {
                        end += 1;
                    }
                }
                _ => {}
            }
            let end = end.min(b.len());
            self.span(Class::String, sub(t, from, i));
            self.span(Class::Escape, sub(t, i, end));
            from = end;
            i = end;
        }
        self.span(Class::String, sub(t, from, b.len()));
    }
}

/// Escapes `t` into `html` for element content or a quoted attribute.
pub(crate) fn escape(html: &mut String, t: &str) {
    let mut last = 0;
    for (i, c) in t.bytes().enumerate() {
        let rep = match c {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        html.push_str(sub(t, last, i));
        html.push_str(rep);
        last = i + 1;
    }
    html.push_str(sub(t, last, t.len()));
}

fn lookup(lang: &Code, word: &str) -> Option<Class> {
    if word.len() > MAX_WORD {
        return None;
    }
    lang.words
        .iter()
        .find(|(list, _)| list.binary_search(&word).is_ok())
        .map(|(_, class)| *class)
}

/// The end of a string whose body starts at `i` and ends with `close`.
fn string_end(b: &[u8], mut i: usize, close: &[u8], escapes: bool, multiline: bool) -> usize {
    while i < b.len() {
        let c = b[i];
        if escapes && c == b'\\' {
            i += 2;
        } else if b[i..].starts_with(close) {
            return i + close.len();
        } else if c == b'\n' && !multiline {
            return i;
        } else {
            i += 1;
        }
    }
    b.len()
}

/// Where a string starting at `i` ends, and whether it has escapes, if one starts there.
fn string_at(lang: &Code, b: &[u8], i: usize) -> Option<(usize, bool)> {
    let c = b[i];
    if lang.quotes.contains(&c) {
        if lang.triple_quotes && peek(b, i + 1) == c && peek(b, i + 2) == c {
            let close = [c, c, c];
            return Some((string_end(b, i + 3, &close, true, true), true));
        }
        return Some((
            string_end(b, i + 1, &[c], true, lang.multiline_strings),
            true,
        ));
    }
    if lang.template_strings && c == b'`' {
        return Some((string_end(b, i + 1, b"`", true, true), true));
    }
    if !lang.string_prefixes.contains(&c) {
        return None;
    }
    let mut j = i;
    while j < i + 2 && lang.string_prefixes.contains(&peek(b, j)) {
        j += 1;
    }
    let raw = b[i..j].iter().any(|c| c.eq_ignore_ascii_case(&b'r'));
    let mut hashes = 0;
    if raw && lang.raw_strings {
        while peek(b, j + hashes) == b'#' {
            hashes += 1;
        }
    }
    let q = peek(b, j + hashes);
    if lang.rust_chars && q == b'\'' && hashes == 0 && !raw {
        // b'x'
        let end = string_end(b, j + 1, b"'", true, false);
        return (end > j + 1).then_some((end, true));
    }
    if !lang.quotes.contains(&q) {
        return None;
    }
    let body = j + hashes + 1;
    if lang.triple_quotes && peek(b, body) == q && peek(b, body + 1) == q {
        return Some((string_end(b, body + 2, &[q, q, q], !raw, true), !raw));
    }
    let mut close = vec![q];
    close.extend(std::iter::repeat_n(b'#', hashes));
    Some((
        string_end(b, body, &close, !raw, lang.multiline_strings || raw),
        !raw,
    ))
}

fn block_comment_end(s: &str, i: usize, open: &str, close: &str, nested: bool) -> usize {
    if !nested {
        return find_after(s, i + open.len(), close);
    }
    let b = s.as_bytes();
    let mut depth = 0usize;
    let mut j = i;
    while j < b.len() {
        if b[j..].starts_with(open.as_bytes()) {
            depth += 1;
            j += open.len();
        } else if b[j..].starts_with(close.as_bytes()) {
            j += close.len();
            depth -= 1;
            if depth == 0 {
                return j;
            }
        } else {
            j += 1;
        }
    }
    b.len()
}

/// The end of a bracketed group starting at or after `i` (Rust attributes).
fn bracket_end(b: &[u8], i: usize) -> usize {
    let mut depth = 0usize;
    let mut j = i;
    while j < b.len() {
        match b[j] {
            b'[' => depth += 1,
            b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
        j += 1;
    }
    b.len()
}

/// A regular expression literal at `i`, if one is there: ends at the closing `/` and flags.
fn regex_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    let mut class = false;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 1,
            b'\n' => return None,
            b'[' => class = true,
            b']' => class = false,
            b'/' if !class => {
                j += 1;
                while j < b.len() && b[j].is_ascii_alphabetic() {
                    j += 1;
                }
                return Some(j);
            }
            _ => {}
        }
        j += 1;
    }
    None
}

fn is_all_caps(word: &str) -> bool {
    word.len() > 1
        && word.bytes().any(|c| c.is_ascii_uppercase())
        && word
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
}

/// Scans C-like and scripting languages.
pub(crate) fn code(lang: &Code, s: &str, out: &mut Out<'_>) {
    let b = s.as_bytes();
    let n = b.len();
    let mut i = 0;
    let mut plain = 0;
    // The last two non-blank bytes before `i`, and the word that ended there if one did.
    let mut prev = b'\n';
    let mut prev2 = b'\n';
    let mut prev_word = "";
    let mut line_start = true;
    while i < n {
        let c = b[i];
        if c == b'\n' {
            line_start = true;
            i += 1;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i + 1;
        let mut class = None;
        let mut escapes = false;
        let mut word = "";
        let at_line_start = std::mem::replace(&mut line_start, false);
        let rest = &b[i..];
        if lang
            .line_comments
            .iter()
            .any(|p| rest.starts_with(p.as_bytes()))
        {
            end = find_byte(b, i, b'\n');
            class = Some(Class::Comment);
        } else if let Some((open, close)) = lang
            .block_comment
            .filter(|(open, _)| rest.starts_with(open.as_bytes()))
        {
            end = block_comment_end(s, i, open, close, lang.nested_comments);
            class = Some(Class::Comment);
        } else if lang.hash_attributes
            && c == b'#'
            && (peek(b, i + 1) == b'[' || (peek(b, i + 1) == b'!' && peek(b, i + 2) == b'['))
        {
            end = bracket_end(b, i);
            class = Some(Class::Attribute);
        } else if lang.decorators && c == b'@' && at_line_start && is_ident_start(peek(b, i + 1)) {
            end = i + 1;
            while end < n && (is_ident(b[end]) || b[end] == b'.') {
                end += 1;
            }
            class = Some(Class::Function);
        } else if let Some((e, esc)) = string_at(lang, b, i) {
            end = e;
            escapes = esc;
            let after = skip_blanks(b, end);
            class = Some(
                if lang.object_keys && peek(b, after) == b':' && matches!(prev, b'{' | b',' | b'\n')
                {
                    Class::Property
                } else {
                    Class::String
                },
            );
        } else if lang.rust_chars && c == b'\'' {
            if peek(b, i + 1) == b'\\' {
                end = string_end(b, i + 1, b"'", true, false);
                class = Some(Class::String);
                escapes = true;
            } else if peek(b, i + 1 + utf8_len(peek(b, i + 1))) == b'\'' {
                end = i + 2 + utf8_len(peek(b, i + 1));
                class = Some(Class::String);
            } else if is_ident_start(peek(b, i + 1)) {
                end = i + 1;
                while end < n && is_ident(b[end]) {
                    end += 1;
                }
                class = Some(Class::Label);
            }
        } else if c.is_ascii_digit() || (c == b'.' && peek(b, i + 1).is_ascii_digit()) {
            end = i + 1;
            while end < n {
                let d = b[end];
                let exponent = matches!(d, b'+' | b'-')
                    && matches!(b[end - 1], b'e' | b'E')
                    && !matches!(peek(b, i + 1), b'x' | b'X');
                if is_ident(d) || exponent || (d == b'.' && peek(b, end + 1).is_ascii_digit()) {
                    end += 1;
                } else {
                    break;
                }
            }
            class = Some(Class::Number);
        } else if is_ident_start(c) || (lang.dollar_idents && c == b'$') {
            end = i + 1;
            while end < n && (is_ident(b[end]) || (lang.dollar_idents && b[end] == b'$')) {
                end += 1;
            }
            word = sub(s, i, end);
            let next = skip_blanks(b, end);
            let after_dot = prev == b'.' && prev2 != b'.';
            class = if lang.function_defs.contains(&prev_word) {
                Some(Class::Function)
            } else if lang.type_defs.contains(&prev_word) {
                Some(Class::Type)
            } else if let Some(found) = lookup(lang, word).filter(|_| !after_dot) {
                Some(found)
            } else if lang.macros && peek(b, end) == b'!' && peek(b, end + 1) != b'=' {
                end += 1;
                Some(Class::Macro)
            } else if is_all_caps(word) {
                Some(Class::Constant)
            } else if lang.capitalized_types && word.starts_with(|c: char| c.is_ascii_uppercase()) {
                Some(Class::Type)
            } else if peek(b, next) == b'(' {
                Some(Class::Function)
            } else if after_dot
                || (lang.object_keys
                    && peek(b, next) == b':'
                    && peek(b, next + 1) != b':'
                    && matches!(prev, b'{' | b','))
            {
                Some(Class::Property)
            } else {
                None
            };
        } else if lang.regex_literals
            && c == b'/'
            && (b"(,=:[!&|?{};+-*%<>~^\n".contains(&prev)
                || matches!(
                    prev_word,
                    "return" | "typeof" | "case" | "in" | "of" | "throw" | "yield" | "await"
                ))
        {
            if let Some(e) = regex_end(b, i) {
                end = e;
                class = Some(Class::StringSpecial);
            }
        } else if c >= 0x80 {
            end = i + utf8_len(c);
        }
        let end = end.clamp(i + 1, n);
        if let Some(class) = class {
            out.token(s, plain..start, start..end, class, escapes);
            plain = end;
        }
        // Comments are invisible to the context rules: `/// Doc.` does not make `pub` a field.
        if class != Some(Class::Comment) {
            prev2 = if end - start > 1 { b[end - 2] } else { prev };
            prev = b[end - 1];
            prev_word = word;
        }
        i = end;
    }
    out.text(sub(s, plain, n));
}

/// Writes plain text up to `start`, then `start..end` as `class`.
fn emit(out: &mut Out<'_>, s: &str, plain: &mut usize, start: usize, end: usize, class: Class) {
    out.text(sub(s, *plain, start));
    if class == Class::String {
        out.string(sub(s, start, end), false);
    } else {
        out.span(class, sub(s, start, end));
    }
    *plain = end;
}

/// The end of a double-quoted shell string, which may contain `$(…)` with quotes of its own.
fn shell_dq_end(b: &[u8], i: usize) -> usize {
    let mut depth = 0usize;
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 1,
            b'$' if peek(b, j + 1) == b'(' => {
                depth += 1;
                j += 1;
            }
            b')' if depth > 0 => depth -= 1,
            b'"' if depth == 0 => return j + 1,
            b'"' => j = find_byte(b, j + 1, b'"'),
            _ => {}
        }
        j += 1;
    }
    b.len()
}

/// A double-quoted shell string: expansions in it are highlighted as they are outside.
fn shell_string(s: &str, keywords: &[&str], out: &mut Out<'_>) {
    let b = s.as_bytes();
    let (mut i, mut from) = (0, 0);
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'$' if peek(b, i + 1) == b'(' && peek(b, i + 2) != b'(' => {
                // The end of the substitution, `)` at depth 0, skipping quoted parts.
                let mut depth = 0usize;
                let mut j = i + 2;
                while j < b.len() {
                    match b[j] {
                        b'\\' => j += 1,
                        b'"' | b'\'' => j = find_byte(b, j + 1, b[j]),
                        b'(' => depth += 1,
                        b')' if depth == 0 => break,
                        b')' => depth -= 1,
                        _ => {}
                    }
                    j += 1;
                }
                let close = j.min(b.len());
                out.span(Class::String, sub(s, from, i));
                out.text("$(");
                shell(sub(s, i + 2, close), keywords, out);
                out.text(sub(s, close, (close + 1).min(b.len())));
                i = close + 1;
                from = i.min(b.len());
            }
            b'$' if is_ident_start(peek(b, i + 1)) || peek(b, i + 1) == b'{' => {
                let end = if peek(b, i + 1) == b'{' {
                    find_byte(b, i, b'}') + 1
                } else {
                    let mut e = i + 1;
                    while e < b.len() && is_ident(b[e]) {
                        e += 1;
                    }
                    e
                }
                .min(b.len());
                out.span(Class::String, sub(s, from, i));
                out.span(Class::Property, sub(s, i, end));
                i = end;
                from = end;
            }
            _ => i += 1,
        }
    }
    out.span(Class::String, sub(s, from, b.len()));
}

/// Scans shell scripts and sessions: commands, keywords, variables, strings, comments.
pub(crate) fn shell(s: &str, keywords: &[&str], out: &mut Out<'_>) {
    let b = s.as_bytes();
    let n = b.len();
    let (mut i, mut plain) = (0, 0);
    // The next word is a command name (or a keyword).
    let mut command = true;
    // The word after `NAME=value` is a command again; after `export` words are variables.
    let mut after_assign = false;
    let mut declaring = false;
    let mut function_name = false;
    // 1: the next word is a `for` variable; 2: the next may be its `in`.
    let mut for_state = 0u8;
    while i < n {
        let c = b[i];
        let start = i;
        let mut end = i + 1;
        let mut class = None;
        match c {
            b'\n' | b';' | b'|' | b'&' | b'(' | b'`' => {
                if c == b'\n' || c == b';' {
                    declaring = false;
                    for_state = 0;
                }
                // `2>&1` redirects, it does not start a command.
                if !(c == b'&' && i > 0 && matches!(b[i - 1], b'>' | b'<')) {
                    command = true;
                }
                after_assign = false;
            }
            b'{' | b'!' if matches!(peek(b, i + 1), b' ' | b'\t' | b'\n') => command = true,
            b' ' | b'\t' => {
                if after_assign {
                    after_assign = false;
                    command = true;
                }
            }
            b'\\' => end = i + 2,
            b'#' if i == 0 || matches!(b[i - 1], b' ' | b'\t' | b'\n' | b';') => {
                end = find_byte(b, i, b'\n');
                class = Some(Class::Comment);
            }
            b'"' => {
                end = shell_dq_end(b, i);
                class = Some(Class::String);
                command = false;
            }
            b'\'' => {
                end = find_byte(b, i + 1, b'\'') + 1;
                class = Some(Class::String);
                command = false;
            }
            b'$' => {
                let d = peek(b, i + 1);
                if d == b'{' {
                    end = find_byte(b, i, b'}') + 1;
                    class = Some(Class::Property);
                } else if d == b'(' {
                    end = i + 2;
                    command = peek(b, i + 2) != b'(';
                } else if is_ident_start(d) {
                    end = i + 1;
                    while end < n && is_ident(b[end]) {
                        end += 1;
                    }
                    class = Some(Class::Property);
                } else if b"@*#?$!-0123456789".contains(&d) {
                    end = i + 2;
                    class = Some(Class::Property);
                }
                if class.is_some() {
                    command = false;
                }
            }
            b')' | b'}' | b'<' | b'>' => {}
            _ => {
                end = i;
                while end < n {
                    let d = b[end];
                    if d.is_ascii_whitespace() || b";|&()<>\"'`$".contains(&d) {
                        break;
                    }
                    if d == b'=' && (command || declaring) && end > i {
                        break;
                    }
                    end += if d == b'\\' { 2 } else { 1 };
                }
                let end_c = end.min(n);
                let word = sub(s, i, end_c);
                let assignment =
                    peek(b, end_c) == b'=' && word.bytes().all(is_ident) && is_ident_start(b[i]);
                class = if (command || declaring) && assignment {
                    after_assign = command;
                    command = false;
                    Some(Class::Property)
                } else if declaring {
                    Some(Class::Property)
                } else if for_state == 1 {
                    for_state = 2;
                    Some(Class::Property)
                } else if for_state == 2 && word == "in" {
                    for_state = 0;
                    Some(Class::Keyword)
                } else if function_name {
                    function_name = false;
                    Some(Class::Function)
                } else if word.bytes().all(|d| d.is_ascii_digit()) {
                    command = false;
                    Some(Class::Number)
                } else if command {
                    if keywords.binary_search(&word).is_ok() {
                        match word {
                            "for" | "select" => for_state = 1,
                            "function" => function_name = true,
                            "export" | "local" | "declare" | "readonly" | "typeset" | "unset" => {
                                declaring = true
                            }
                            _ => {}
                        }
                        command = matches!(
                            word,
                            "if" | "then" | "else" | "elif" | "do" | "while" | "until"
                        );
                        Some(Class::Keyword)
                    } else {
                        command = false;
                        Some(Class::Function)
                    }
                } else {
                    None
                };
            }
        }
        let end = end.clamp(i + 1, n);
        if c == b'"' {
            out.text(sub(s, plain, start));
            shell_string(sub(s, start, end), keywords, out);
            plain = end;
        } else if let Some(class) = class {
            emit(out, s, &mut plain, start, end, class);
        }
        i = end;
    }
    out.text(sub(s, plain, n));
}

/// The class of a YAML plain scalar value.
fn yaml_scalar(v: &str) -> Class {
    match v {
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" | "null" | "Null" | "NULL" | "~" => {
            return Class::ConstantBuiltin;
        }
        ".inf" | "-.inf" | "+.inf" | ".nan" | ".NaN" => return Class::Number,
        _ => {}
    }
    let digits = v.trim_start_matches(['-', '+']);
    let number = digits.bytes().next().is_some_and(|c| c.is_ascii_digit())
        && (digits.parse::<f64>().is_ok()
            || ((digits.starts_with("0x") || digits.starts_with("0o"))
                && digits.bytes().skip(2).all(|c| c.is_ascii_hexdigit())));
    if number { Class::Number } else { Class::String }
}

/// Scans YAML: keys, scalars by kind, comments, anchors, block scalars.
pub(crate) fn yaml(s: &str, out: &mut Out<'_>) {
    let b = s.as_bytes();
    let n = b.len();
    let mut plain = 0;
    let mut line = 0;
    // The indentation of the line that opened a block scalar (`key: |`), while inside it.
    let mut block: Option<usize> = None;
    while line < n {
        let eol = find_byte(b, line, b'\n');
        let next_line = (eol + 1).min(n);
        let indent = skip_blanks(b, line) - line;
        let mut p = line + indent;
        if let Some(bi) = block {
            if p >= eol || indent > bi {
                emit(out, s, &mut plain, p, eol, Class::String);
                line = next_line;
                continue;
            }
            block = None;
        }
        while peek(b, p) == b'-' && matches!(peek(b, p + 1), b' ' | b'\t' | b'\n' | 0) {
            p = skip_blanks(b, p + 1);
        }
        // A key: a scalar followed by `:` and a blank or the end of the line.
        let mut k = p;
        let key_end = if matches!(peek(b, p), b'"' | b'\'') {
            let e = find_byte(b, p + 1, b[p]).min(eol);
            k = skip_blanks(b, e + 1);
            (peek(b, k) == b':').then_some(e + 1)
        } else {
            let mut found = None;
            while k < eol && !matches!(b[k], b'#' | b'[' | b'{' | b'&' | b'*' | b'!' | b'|' | b'>')
            {
                if b[k] == b':' && matches!(peek(b, k + 1), b' ' | b'\t' | b'\n' | 0) {
                    let mut e = k;
                    while e > p && matches!(b[e - 1], b' ' | b'\t') {
                        e -= 1;
                    }
                    found = (e > p).then_some(e);
                    break;
                }
                k += 1;
            }
            found
        };
        if let Some(e) = key_end {
            emit(out, s, &mut plain, p, e, Class::Property);
            p = find_byte(b, e, b':') + 1;
        }
        yaml_value(s, p, eol, indent, &mut block, &mut plain, out);
        line = next_line;
    }
    out.text(sub(s, plain, n));
}

fn yaml_value(
    s: &str,
    mut p: usize,
    eol: usize,
    indent: usize,
    block: &mut Option<usize>,
    plain: &mut usize,
    out: &mut Out<'_>,
) {
    let b = s.as_bytes();
    loop {
        p = skip_blanks(b, p);
        if p >= eol {
            return;
        }
        match b[p] {
            b'#' => {
                emit(out, s, plain, p, eol, Class::Comment);
                return;
            }
            b'"' | b'\'' => {
                let e = string_end(b, p + 1, &[b[p]], b[p] == b'"', false).min(eol);
                out.text(sub(s, *plain, p));
                out.string(sub(s, p, e), b[p] == b'"');
                *plain = e;
                p = e;
            }
            b'&' | b'*' | b'!' => {
                let mut e = p + 1;
                while e < eol && !matches!(b[e], b' ' | b'\t' | b',' | b']' | b'}') {
                    e += 1;
                }
                let class = if b[p] == b'!' {
                    Class::Type
                } else {
                    Class::Label
                };
                emit(out, s, plain, p, e, class);
                p = e;
            }
            b'|' | b'>' => {
                *block = Some(indent);
                return;
            }
            b'[' | b']' | b'{' | b'}' | b',' | b':' => p += 1,
            _ => {
                // A plain scalar runs to a comment, or in a flow collection to its delimiters.
                let flow = sub(s, 0, p).contains(['[', '{']);
                let mut e = p;
                while e < eol {
                    let c = b[e];
                    if c == b'#' && matches!(b[e - 1], b' ' | b'\t') {
                        break;
                    }
                    if flow
                        && (matches!(c, b',' | b']' | b'}')
                            || (c == b':' && peek(b, e + 1) == b' '))
                    {
                        break;
                    }
                    e += 1;
                }
                let mut t = e;
                while t > p && matches!(b[t - 1], b' ' | b'\t') {
                    t -= 1;
                }
                let text = sub(s, p, t);
                let class = if flow && peek(b, e) == b':' {
                    Class::Property
                } else {
                    yaml_scalar(text)
                };
                emit(out, s, plain, p, t, class);
                p = e.max(p + 1);
            }
        }
    }
}

/// Scans TOML: table headers, keys, strings, numbers, dates, booleans, comments.
pub(crate) fn toml(s: &str, out: &mut Out<'_>) {
    let b = s.as_bytes();
    let n = b.len();
    let (mut i, mut plain) = (0, 0);
    let mut line_start = true;
    let mut prev = b'\n';
    while i < n {
        let c = b[i];
        if c == b'\n' {
            line_start = true;
            prev = c;
            i += 1;
            continue;
        }
        if c == b' ' || c == b'\t' || c == b'\r' {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i + 1;
        let mut class = None;
        match c {
            b'#' => {
                end = find_byte(b, i, b'\n');
                class = Some(Class::Comment);
            }
            b'[' if line_start => {
                let open = if peek(b, i + 1) == b'[' { 2 } else { 1 };
                let close = find_byte(b, i, b']').min(find_byte(b, i, b'\n'));
                emit(out, s, &mut plain, i + open, close, Class::Type);
                end = close;
            }
            b'"' | b'\'' => {
                let triple = peek(b, i + 1) == c && peek(b, i + 2) == c;
                let escapes = c == b'"';
                end = if triple {
                    string_end(b, i + 3, &[c, c, c], escapes, true)
                } else {
                    string_end(b, i + 1, &[c], escapes, false)
                };
                let after = skip_blanks(b, end);
                if matches!(peek(b, after), b'=' | b'.') && !triple {
                    class = Some(Class::Property);
                } else {
                    out.text(sub(s, plain, start));
                    out.string(sub(s, start, end), escapes);
                    plain = end;
                }
            }
            _ if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'+') => {
                while end < n && (b[end].is_ascii_alphanumeric() || matches!(b[end], b'_' | b'-')) {
                    end += 1;
                }
                let after = skip_blanks(b, end);
                let key_position = line_start || matches!(prev, b'{' | b',' | b'.');
                if peek(b, after) == b'=' && peek(b, after + 1) != b'='
                    || (peek(b, after) == b'.' && key_position && !c.is_ascii_digit())
                {
                    class = Some(Class::Property);
                } else {
                    // Values: numbers, dates and times run on through `.`, `:`, `+` and `-`.
                    while end < n
                        && (b[end].is_ascii_alphanumeric()
                            || matches!(b[end], b'_' | b'-' | b'+' | b'.' | b':'))
                    {
                        end += 1;
                    }
                    let word = sub(s, start, end);
                    class = match word {
                        "true" | "false" => Some(Class::ConstantBuiltin),
                        "inf" | "+inf" | "-inf" | "nan" | "+nan" | "-nan" => Some(Class::Number),
                        _ if word
                            .trim_start_matches(['+', '-'])
                            .starts_with(|d: char| d.is_ascii_digit()) =>
                        {
                            Some(Class::Number)
                        }
                        _ => None,
                    };
                }
            }
            _ => {}
        }
        let end = end.clamp(i + 1, n);
        if let Some(class) = class {
            emit(out, s, &mut plain, start, end, class);
        }
        line_start = false;
        prev = b[end - 1];
        i = end;
    }
    out.text(sub(s, plain, n));
}

/// Scans HTML and XML: tags, attributes, comments, entities; `<script>` and `<style>` contents
/// are handed to `embed` with the language's name.
pub(crate) fn markup(s: &str, out: &mut Out<'_>, embed: &dyn Fn(&str, &str, &mut Out<'_>) -> bool) {
    let b = s.as_bytes();
    let n = b.len();
    let (mut i, mut plain) = (0, 0);
    while i < n {
        let c = b[i];
        let rest = &b[i..];
        if rest.starts_with(b"<!--") {
            let end = find_after(s, i + 4, "-->");
            emit(out, s, &mut plain, i, end, Class::Comment);
            i = end;
        } else if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
            let end = (find_byte(b, i, b'>') + 1).min(n);
            emit(out, s, &mut plain, i, end, Class::Constant);
            i = end;
        } else if c == b'<'
            && (peek(b, i + 1).is_ascii_alphabetic()
                || (peek(b, i + 1) == b'/' && peek(b, i + 2).is_ascii_alphabetic()))
        {
            let closing = peek(b, i + 1) == b'/';
            let name_start = i + 1 + usize::from(closing);
            let mut j = name_start;
            while j < n
                && (b[j].is_ascii_alphanumeric() || matches!(b[j], b'-' | b':' | b'_' | b'.'))
            {
                j += 1;
            }
            let name = sub(s, name_start, j);
            emit(out, s, &mut plain, name_start, j, Class::Tag);
            // Attributes, to the end of the tag.
            while j < n && b[j] != b'>' {
                let d = b[j];
                if d.is_ascii_whitespace() || d == b'/' || d == b'=' {
                    j += 1;
                } else if d == b'"' || d == b'\'' {
                    let e = (find_byte(b, j + 1, d) + 1).min(n);
                    emit(out, s, &mut plain, j, e, Class::String);
                    j = e;
                } else {
                    let mut e = j;
                    while e < n
                        && !(b[e].is_ascii_whitespace()
                            || matches!(b[e], b'=' | b'>' | b'"' | b'\''))
                    {
                        e += 1;
                    }
                    let class = if b[j - 1] == b'=' {
                        Class::String
                    } else {
                        Class::Attribute
                    };
                    emit(out, s, &mut plain, j, e, class);
                    j = e;
                }
            }
            i = (j + 1).min(n);
            let embedded = match name.to_ascii_lowercase().as_str() {
                "script" if !closing => Some("javascript"),
                "style" if !closing => Some("css"),
                _ => None,
            };
            if let Some(lang) = embedded {
                let close = if lang == "css" { "</style" } else { "</script" };
                let body_end = s
                    .get(i..)
                    .and_then(|r| r.to_ascii_lowercase().find(close))
                    .map_or(n, |p| i + p);
                out.text(sub(s, plain, i));
                if !embed(lang, sub(s, i, body_end), out) {
                    out.text(sub(s, i, body_end));
                }
                plain = body_end;
                i = body_end;
            }
        } else if c == b'&' {
            let mut e = i + 1;
            while e < n && (b[e].is_ascii_alphanumeric() || b[e] == b'#') {
                e += 1;
            }
            if e > i + 1 && peek(b, e) == b';' {
                emit(out, s, &mut plain, i, e + 1, Class::Escape);
                i = e + 1;
            } else {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    out.text(sub(s, plain, n));
}

/// Scans CSS: selectors, at-rules, properties, numbers, colours, functions, comments.
pub(crate) fn css(s: &str, out: &mut Out<'_>) {
    let b = s.as_bytes();
    let n = b.len();
    let (mut i, mut plain) = (0, 0);
    let mut depth = 0usize;
    let mut statement_start = true;
    // Inside braces, a statement is a declaration unless a `{` comes before its end.
    let mut declaration = false;
    let mut value = false;
    let mut at_rule = false;
    while i < n {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i + 1;
        let mut class = None;
        if c == b'/' && peek(b, i + 1) == b'*' {
            end = find_after(s, i + 2, "*/");
            class = Some(Class::Comment);
        } else if matches!(c, b'{' | b'}' | b';') {
            if c == b'{' {
                depth += 1;
            } else if c == b'}' {
                depth = depth.saturating_sub(1);
            }
            statement_start = true;
            value = false;
            at_rule = false;
        } else {
            if statement_start {
                statement_start = false;
                let stop = b[i..]
                    .iter()
                    .position(|d| matches!(d, b'{' | b'}' | b';'))
                    .map_or(0, |p| b[i + p]);
                declaration = depth > 0 && stop != b'{';
            }
            let ident_at = |j: usize| {
                let mut e = j;
                while e < n && (b[e].is_ascii_alphanumeric() || matches!(b[e], b'-' | b'_')) {
                    e += 1;
                }
                e
            };
            if c == b'"' || c == b'\'' {
                end = string_end(b, i + 1, &[c], true, false);
                class = Some(Class::String);
            } else if c == b'@' {
                end = ident_at(i + 1);
                class = Some(Class::Keyword);
                at_rule = true;
            } else if c == b'!' && b[i + 1..].starts_with(b"important") {
                end = i + 10;
                class = Some(Class::Keyword);
            } else if c == b':' && !declaration {
                let colons = if peek(b, i + 1) == b':' { 2 } else { 1 };
                end = ident_at(i + colons);
                class = Some(Class::Attribute);
            } else if c == b':' {
                value = true;
            } else if (c == b'.' || c == b'#') && !declaration && !at_rule {
                end = ident_at(i + 1);
                class = Some(Class::Property);
            } else if c == b'#' && value {
                end = ident_at(i + 1);
                class = Some(Class::Number);
            } else if c.is_ascii_digit()
                || (matches!(c, b'.' | b'-' | b'+') && peek(b, i + 1).is_ascii_digit())
            {
                end = i + 1;
                while end < n && (b[end].is_ascii_alphanumeric() || matches!(b[end], b'.' | b'%')) {
                    end += 1;
                }
                class = Some(Class::Number);
            } else if c.is_ascii_alphabetic() || matches!(c, b'-' | b'_') {
                end = ident_at(i);
                class = if peek(b, end) == b'(' {
                    Some(Class::Function)
                } else if declaration && !value {
                    Some(Class::Property)
                } else if !declaration && !at_rule {
                    Some(Class::Tag)
                } else {
                    None
                };
            }
        }
        let end = end.clamp(i + 1, n);
        if let Some(class) = class {
            emit(out, s, &mut plain, start, end, class);
        }
        i = end;
    }
    out.text(sub(s, plain, n));
}

/// SQL's words and their class, each table sorted and lower-case (SQL words are not
/// case-sensitive); see `languages::SQL_WORDS`.
pub(crate) type SqlWords = &'static [(&'static [&'static str], Class)];

/// The longest word in the SQL tables (`current_timestamp`).
pub(crate) const SQL_MAX_WORD: usize = 17;

/// The class of an SQL word, looked up without regard to case.
fn sql_lookup(words: SqlWords, word: &str) -> Option<Class> {
    let mut buf = [0u8; SQL_MAX_WORD];
    let lower = buf.get_mut(..word.len())?;
    lower.copy_from_slice(word.as_bytes());
    lower.make_ascii_lowercase();
    let lower = std::str::from_utf8(lower).ok()?;
    words
        .iter()
        .find(|(list, _)| list.binary_search(&lower).is_ok())
        .map(|(_, class)| *class)
}

/// The end of an SQL string or quoted identifier opened at `i` by `q`, where a doubled `q`
/// stands for one (and, with `backslash`, `\` escapes the next byte). It may span lines.
fn sql_quoted_end(b: &[u8], i: usize, q: u8, backslash: bool) -> usize {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' if backslash => j += 2,
            c if c == q && peek(b, j + 1) == q => j += 2,
            c if c == q => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

/// PostgreSQL's dollar quote at `i` (`$$` or `$tag$`): the end of the quoted string, if one
/// starts there.
fn sql_dollar_end(s: &str, i: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut j = i + 1;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
        j += 1;
    }
    // `$1` is a parameter, not a tag.
    if peek(b, j) != b'$' || peek(b, i + 1).is_ascii_digit() {
        return None;
    }
    let tag = sub(s, i, j + 1);
    Some(find_after(s, j + 1, tag))
}

/// Scans SQL as PostgreSQL, MySQL and SQLite write it: keywords in any case, `'…'` strings
/// with `''` inside (`E'…'` with backslash escapes, `$$…$$` bodies), `"quoted"` and
/// `` `backticked` `` identifiers (left plain, like other identifiers, but never taken for
/// keywords), numbers, `--` and nested `/* */` comments, parameters (`$1`, `:name`, `@var`),
/// and `::type` casts. Operators are scanned (so `--` after `-` is seen) but not wrapped: the
/// theme does not colour them. With `backslash`, `\` escapes in every string, as in MySQL;
/// elsewhere only in `E'…'`, so `'C:\'` ends where PostgreSQL and SQLite end it.
pub(crate) fn sql(s: &str, words: SqlWords, backslash: bool, out: &mut Out<'_>) {
    let b = s.as_bytes();
    let n = b.len();
    let (mut i, mut plain) = (0, 0);
    // The previous token was `::`, so a word is a type.
    let mut cast = false;
    while i < n {
        let c = b[i];
        let start = i;
        let mut end = i + 1;
        let mut class = None;
        let mut escapes = false;
        let was_cast = std::mem::replace(&mut cast, false);
        match c {
            b'-' if peek(b, i + 1) == b'-' => {
                end = find_byte(b, i, b'\n');
                class = Some(Class::Comment);
            }
            b'/' if peek(b, i + 1) == b'*' => {
                end = block_comment_end(s, i, "/*", "*/", true);
                class = Some(Class::Comment);
            }
            b'\'' => {
                end = sql_quoted_end(b, i, b'\'', backslash);
                class = Some(Class::String);
                escapes = backslash;
            }
            b'"' | b'`' => {
                // A quoted identifier: a name, left plain, but skipped whole.
                end = sql_quoted_end(b, i, c, false);
            }
            b'$' => {
                if let Some(e) = sql_dollar_end(s, i) {
                    end = e;
                    class = Some(Class::String);
                } else if peek(b, i + 1).is_ascii_digit() {
                    end = i + 1;
                    while end < n && b[end].is_ascii_digit() {
                        end += 1;
                    }
                    class = Some(Class::VariableBuiltin);
                }
            }
            b':' if peek(b, i + 1) == b':' => {
                end = i + 2;
                cast = true;
            }
            b':' | b'@' if is_ident_start(peek(b, i + 1)) || peek(b, i + 1) == b'@' => {
                end = i + 1;
                while end < n && (is_ident(b[end]) || b[end] == b'@') {
                    end += 1;
                }
                class = Some(Class::VariableBuiltin);
            }
            b'0'..=b'9' => {
                end = number_end(b, i);
                class = Some(Class::Number);
                // `1abc` is a (MySQL) name starting with digits, not a number.
                if is_ident(peek(b, end)) {
                    while end < n && is_ident(b[end]) {
                        end += 1;
                    }
                    class = None;
                }
            }
            b'.' if peek(b, i + 1).is_ascii_digit() && !is_ident(peek(b, i.wrapping_sub(1))) => {
                end = number_end(b, i);
                class = Some(Class::Number);
            }
            c if is_ident_start(c) => {
                end = i + 1;
                while end < n && (is_ident(b[end]) || b[end] == b'$') {
                    end += 1;
                }
                let word = sub(s, start, end);
                let q = peek(b, end);
                let prefix = matches!(c | 0x20, b'e' | b'n' | b'x' | b'b') && end == i + 1;
                if q == b'\'' && prefix {
                    // E'…' (backslash escapes), N'…', X'…', B'…'.
                    let backslash = backslash || c | 0x20 == b'e';
                    end = sql_quoted_end(b, end, b'\'', backslash);
                    class = Some(Class::String);
                    escapes = backslash;
                } else if was_cast {
                    class = Some(match sql_lookup(words, word) {
                        Some(Class::TypeBuiltin) => Class::TypeBuiltin,
                        _ => Class::Type,
                    });
                } else {
                    let call = b.get(skip_blanks(b, end)) == Some(&b'(');
                    // `.` before a word makes it a column or table, whatever it spells.
                    let qualified = i > 0 && b[i - 1] == b'.';
                    class = match sql_lookup(words, word) {
                        _ if qualified => None,
                        Some(Class::FunctionBuiltin) if call => Some(Class::FunctionBuiltin),
                        Some(Class::FunctionBuiltin) => None,
                        Some(k) => Some(k),
                        None if call => Some(Class::Function),
                        None => None,
                    };
                }
            }
            _ => {}
        }
        let end = end.clamp(i + 1, n);
        if let Some(class) = class {
            out.token(s, plain..start, start..end, class, escapes);
            plain = end;
        }
        i = end;
    }
    out.text(sub(s, plain, n));
}

/// The end of a number at `i`: digits, a fraction, an exponent, or `0x` hex.
fn number_end(b: &[u8], i: usize) -> usize {
    let mut j = i;
    if b[i] == b'0' && matches!(peek(b, i + 1), b'x' | b'X') && peek(b, i + 2).is_ascii_hexdigit() {
        j = i + 2;
        while j < b.len() && b[j].is_ascii_hexdigit() {
            j += 1;
        }
        return j;
    }
    while j < b.len() && b[j].is_ascii_digit() {
        j += 1;
    }
    if peek(b, j) == b'.' && peek(b, j + 1) != b'.' {
        j += 1;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
    }
    if matches!(peek(b, j), b'e' | b'E') {
        let k = if matches!(peek(b, j + 1), b'+' | b'-') {
            j + 2
        } else {
            j + 1
        };
        if peek(b, k).is_ascii_digit() {
            j = k;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
        }
    }
    j
}
