//! Component syntax in Markdown pages: a tag whose name starts with a capital letter, on lines of
//! its own (also indented in list items and block quotes): `<Callout type="tip">` … `</Callout>`,
//! `<Tab label="A"></Tab>` on one line, or self-closing `<Include path="x.md" />`.
//!
//! Tags are found here, before pulldown-cmark parses the page, and each is replaced by a marker
//! comment (`<!--dsc:N-->`). A comment is an HTML block that may interrupt a paragraph and ends
//! on its own line, so the children between two markers are parsed with the rest of the page:
//! a list around a component stays one list, headings inside join the table of contents.
//! [`crate::markdown`] renders the markers. Fenced code is skipped, so a component shown in a
//! code block stays text.

use serde_json::{Map, Number, Value};

use crate::error::ErrorKind;

/// What starts every marker in the text handed to pulldown-cmark.
pub const MARKER: &str = "<!--dsc:";

/// Whether a tag opens, closes or stands alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    /// `<Name …>`.
    Open,
    /// `</Name>`.
    Close,
    /// `<Name … />`, or `<Name …></Name>` on one line.
    SelfClosing,
}

/// One attribute as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Attr {
    /// Its name.
    pub name: String,
    /// Its value: a string, or the literal in braces kept as data; `true` for a bare flag.
    pub value: Value,
    /// Byte offset of its name in the page's text.
    pub offset: usize,
}

/// A component tag found in a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Tag {
    /// The component's name.
    pub name: String,
    /// Open, close or self-closing.
    pub kind: TagKind,
    /// Its attributes, in order.
    pub attrs: Vec<Attr>,
    /// Byte offset of its `<` in the page's text.
    pub offset: usize,
    /// Its length in bytes.
    pub len: usize,
}

impl Tag {
    /// The value of attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&Value> {
        self.attrs.iter().find(|a| a.name == name).map(|a| &a.value)
    }

    /// The attributes as a JSON object (what a site's template sees as `attrs`).
    pub fn attr_map(&self) -> Map<String, Value> {
        self.attrs
            .iter()
            .map(|a| (a.name.clone(), a.value.clone()))
            .collect()
    }
}

/// A problem with the component syntax of a page, at a byte offset of its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// What is wrong.
    pub kind: ErrorKind,
    /// Byte offset in the page's text.
    pub offset: usize,
    /// Bytes to underline.
    pub len: usize,
}

/// A page's body with its component tags replaced by markers.
#[derive(Debug, Default)]
pub struct Scan {
    /// The Markdown pulldown-cmark parses.
    pub text: String,
    /// The tags, by marker number.
    pub tags: Vec<Tag>,
    /// Syntax problems: unclosed and mismatched tags, bad attributes.
    pub problems: Vec<Problem>,
    /// (offset in `text`, offset in the page, whether the stretch maps byte for byte).
    map: Vec<(usize, usize, bool)>,
}

impl Scan {
    /// The offset in the page's text of byte `at` of [`Scan::text`].
    pub fn source_offset(&self, at: usize) -> usize {
        let i = self.map.partition_point(|&(start, _, _)| start <= at);
        match i.checked_sub(1).map(|i| self.map[i]) {
            Some((start, orig, true)) => orig + (at - start),
            Some((_, orig, false)) => orig,
            None => at,
        }
    }

    /// The tag of a marker (`<!--dsc:3-->` gives tag 3), with the marker's length.
    pub fn marker_at(&self, text: &str) -> Option<(usize, usize)> {
        let rest = text.strip_prefix(MARKER)?;
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let n: usize = rest.get(..digits)?.parse().ok()?;
        rest.get(digits..)?.starts_with("-->").then_some(())?;
        (n < self.tags.len()).then_some((n, MARKER.len() + digits + 3))
    }
}

/// Finds the component tags of a page body (`text[body_offset..]`). `None` when it has none,
/// which is most pages: they are parsed as written.
pub fn scan(text: &str, body_offset: usize) -> Option<Scan> {
    let body = text.get(body_offset..)?;
    if !body.contains('<') {
        return None;
    }
    let mut scan = Scan::default();
    let mut last = 0; // end of the body copied so far
    let mut fence: Option<(u8, usize)> = None;
    let mut line_start = 0;
    let mut stack: Vec<usize> = Vec::new();
    while line_start < body.len() {
        let line_end = body[line_start..]
            .find('\n')
            .map_or(body.len(), |i| line_start + i);
        let line = &body[line_start..line_end];
        let (prefix, rest) = container_prefix(line);
        let mut next = line_end + 1;
        if let Some((ch, n)) = fence {
            if closes_fence(rest, ch, n) {
                fence = None;
            }
        } else if let Some(f) = opens_fence(rest) {
            fence = Some(f);
        } else if starts_tag(rest) {
            let at = line_start + prefix;
            let parsed = parse_tags(body, at, body_offset);
            match parsed {
                Ok((tags, inner, end)) => {
                    let end_of_line = body[end..].find('\n').map_or(body.len(), |i| end + i);
                    if !body[end..end_of_line].trim().is_empty() {
                        scan.problems.push(Problem {
                            kind: ErrorKind::ComponentSyntax {
                                message: "a component tag stands on a line of its own; text follows it here".into(),
                            },
                            offset: body_offset + end,
                            len: 1,
                        });
                    }
                    let cont = continuation(&line[..prefix]);
                    scan.copy(body, body_offset, last, at);
                    for (i, tag) in tags.into_iter().enumerate() {
                        if i > 0 {
                            // The second tag of `<Tab label="x">text</Tab>`: the text is its
                            // own line of Markdown between the two markers.
                            if let Some((from, to)) = inner {
                                scan.text.push('\n');
                                scan.text.push_str(&cont);
                                scan.copy(body, body_offset, from, to);
                            }
                            scan.text.push('\n');
                            scan.text.push_str(&cont);
                        }
                        match tag.kind {
                            TagKind::Open => stack.push(scan.tags.len()),
                            TagKind::Close => close(&mut scan, &mut stack, &tag),
                            TagKind::SelfClosing => {}
                        }
                        scan.marker(tag);
                    }
                    last = end_of_line;
                    next = end_of_line + 1;
                }
                Err(problem) => {
                    // Reported once, as what it is: left in, it would be an unknown tag too.
                    scan.problems.push(problem);
                    scan.copy(body, body_offset, last, at);
                    last = line_end;
                }
            }
        }
        line_start = next;
    }
    if scan.tags.is_empty() && scan.problems.is_empty() {
        return None;
    }
    scan.copy(body, body_offset, last, body.len());
    for open in stack {
        let tag = &scan.tags[open];
        scan.problems.push(Problem {
            kind: ErrorKind::UnclosedComponent {
                name: tag.name.clone(),
            },
            offset: tag.offset,
            len: tag.name.len() + 1,
        });
    }
    Some(scan)
}

impl Scan {
    fn copy(&mut self, body: &str, body_offset: usize, from: usize, to: usize) {
        if to > from {
            self.map.push((self.text.len(), body_offset + from, true));
            self.text.push_str(&body[from..to]);
        }
    }

    fn marker(&mut self, tag: Tag) {
        self.map.push((self.text.len(), tag.offset, false));
        let n = self.tags.len();
        self.text.push_str(MARKER);
        self.text.push_str(&n.to_string());
        self.text.push_str("-->");
        self.tags.push(tag);
        // What follows maps to the end of the line the tag ended on, set by the next copy.
    }
}

/// Pairs a closing tag with the innermost open one, or says why it cannot.
fn close(scan: &mut Scan, stack: &mut Vec<usize>, tag: &Tag) {
    match stack.last() {
        Some(&open) if scan.tags[open].name == tag.name => {
            stack.pop();
        }
        top => {
            let expected = top.map(|&o| scan.tags[o].name.clone());
            scan.problems.push(Problem {
                kind: ErrorKind::MismatchedClosingTag {
                    found: tag.name.clone(),
                    expected,
                },
                offset: tag.offset,
                len: tag.len,
            });
            // `</A>` closing an `<A>` further out closes what is between: the message above
            // already names the first of them.
            if let Some(pos) = stack.iter().rposition(|&o| scan.tags[o].name == tag.name) {
                stack.truncate(pos);
            }
        }
    }
}

/// The container marks before a line's content: indentation, `>` of block quotes, and list
/// markers (`-`, `*`, `+`, `1.`, `1)`). Returns their length and the rest.
fn container_prefix(line: &str) -> (usize, &str) {
    let bytes = line.as_bytes();
    let mut i = 0;
    loop {
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'>') {
            i += 1;
        }
        let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        let marker = match bytes.get(i + digits) {
            Some(b'-' | b'*' | b'+') if digits == 0 => 1,
            Some(b'.' | b')') if (1..=9).contains(&digits) => digits + 1,
            _ => 0,
        };
        if marker > 0 && matches!(bytes.get(i + marker), Some(b' ' | b'\t')) {
            i += marker;
            continue;
        }
        return (i, &line[i..]);
    }
}

/// The prefix for a line inserted after a tag's line: its block quote marks and indentation,
/// with list markers turned into spaces (the new line continues the item).
fn continuation(prefix: &str) -> String {
    prefix
        .chars()
        .map(|c| if matches!(c, '>' | '\t') { c } else { ' ' })
        .collect()
}

fn opens_fence(rest: &str) -> Option<(u8, usize)> {
    let ch = *rest.as_bytes().first()?;
    if ch != b'`' && ch != b'~' {
        return None;
    }
    let n = rest.bytes().take_while(|&b| b == ch).count();
    // A backtick fence's info string has no backtick.
    (n >= 3 && !(ch == b'`' && rest[n..].contains('`'))).then_some((ch, n))
}

fn closes_fence(rest: &str, ch: u8, n: usize) -> bool {
    let count = rest.bytes().take_while(|&b| b == ch).count();
    count >= n && rest[count..].trim().is_empty()
}

/// Whether a line's content starts with a component tag: `<` or `</` and a capital letter.
fn starts_tag(rest: &str) -> bool {
    let b = rest.as_bytes();
    match b {
        [b'<', b'/', c, ..] | [b'<', c, ..] => c.is_ascii_uppercase(),
        _ => false,
    }
}

type Parsed = (Vec<Tag>, Option<(usize, usize)>, usize);

/// Parses the tag at `at` of `body` and, when it opens and the same line closes it
/// (`<Tab label="x">text</Tab>`), the closing tag: the tags, the text between (body offsets)
/// and where the last tag ends.
fn parse_tags(body: &str, at: usize, base: usize) -> Result<Parsed, Problem> {
    let first = parse_tag(body, at, base)?;
    let end = at + first.len;
    if first.kind != TagKind::Open {
        return Ok((vec![first], None, end));
    }
    let line_end = body[end..].find('\n').map_or(body.len(), |i| end + i);
    let closing = format!("</{}", first.name);
    let Some(c) = body[end..line_end].rfind(&closing).map(|c| end + c) else {
        return Ok((vec![first], None, end));
    };
    let second = parse_tag(body, c, base)?;
    let close_end = c + second.len;
    if body[end..c].trim().is_empty() {
        let mut tag = first;
        tag.kind = TagKind::SelfClosing;
        tag.len = close_end - at;
        return Ok((vec![tag], None, close_end));
    }
    Ok((vec![first, second], Some((end, c)), close_end))
}

/// Parses one tag at byte `at` of `body` (`base` is the body's offset in the page).
fn parse_tag(body: &str, at: usize, base: usize) -> Result<Tag, Problem> {
    let mut p = Cursor { s: body, i: at + 1 };
    let closing = p.eat('/');
    let name = p.take_while(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    let problem = |kind: ErrorKind, i: usize, len: usize| Problem {
        kind,
        offset: base + i,
        len,
    };
    let syntax = |message: String, i: usize| problem(ErrorKind::ComponentSyntax { message }, i, 1);
    let mut attrs = Vec::new();
    loop {
        p.skip_space();
        match p.peek() {
            None => {
                return Err(syntax(
                    format!("the tag `<{name}` is never closed with `>`"),
                    at,
                ));
            }
            Some('>') => {
                p.i += 1;
                let kind = if closing {
                    TagKind::Close
                } else {
                    TagKind::Open
                };
                return Ok(Tag {
                    name: name.to_string(),
                    kind,
                    attrs,
                    offset: base + at,
                    len: p.i - at,
                });
            }
            Some('/') if !closing && p.s[p.i..].starts_with("/>") => {
                p.i += 2;
                return Ok(Tag {
                    name: name.to_string(),
                    kind: TagKind::SelfClosing,
                    attrs,
                    offset: base + at,
                    len: p.i - at,
                });
            }
            Some(c) if !closing && (c.is_ascii_alphabetic() || c == '_' || c == ':') => {
                let start = p.i;
                let attr = p.take_while(|c| {
                    c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.' | '-')
                });
                p.skip_space();
                let value = if p.eat('=') {
                    p.skip_space();
                    match p.peek() {
                        Some(q @ ('"' | '\'')) => {
                            p.i += 1;
                            let v = p.take_while(|c| c != q);
                            if !p.eat(q) {
                                return Err(syntax(
                                    format!("the value of `{attr}` has no closing {q}"),
                                    start,
                                ));
                            }
                            Value::String(v.to_string())
                        }
                        Some('{') => {
                            let open = p.i;
                            let end = braced_end(p.s, open).ok_or_else(|| {
                                syntax(format!("the `{{` of `{attr}` is never closed"), open)
                            })?;
                            p.i = end;
                            let inner = &p.s[open + 1..end - 1];
                            literal(inner).ok_or_else(|| {
                                problem(
                                    ErrorKind::NonLiteralAttribute {
                                        attribute: attr.to_string(),
                                        expression: inner.trim().to_string(),
                                    },
                                    open,
                                    end - open,
                                )
                            })?
                        }
                        _ => {
                            return Err(syntax(
                                format!(
                                    "the value of `{attr}` is a \"string\", a 'string' or a {{literal}}"
                                ),
                                p.i,
                            ));
                        }
                    }
                } else {
                    Value::Bool(true)
                };
                attrs.push(Attr {
                    name: attr.to_string(),
                    value,
                    offset: base + start,
                });
            }
            Some(_) => {
                return Err(syntax(
                    if closing {
                        format!("a closing tag is `</{name}>`, with nothing else")
                    } else {
                        "unexpected character in a tag: attributes are `name=\"value\"`, `name={literal}` or a bare `name`".into()
                    },
                    p.i,
                ));
            }
        }
    }
}

struct Cursor<'s> {
    s: &'s str,
    i: usize,
}

impl<'s> Cursor<'s> {
    fn peek(&self) -> Option<char> {
        self.s[self.i..].chars().next()
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.i += c.len_utf8();
            true
        } else {
            false
        }
    }
    fn take_while(&mut self, f: impl Fn(char) -> bool) -> &'s str {
        let start = self.i;
        while let Some(c) = self.peek().filter(|&c| f(c)) {
            self.i += c.len_utf8();
        }
        &self.s[start..self.i]
    }
    fn skip_space(&mut self) {
        // A tag may span lines (`<Card\n  title="x"\n/>`); in a block quote each line has its `>`.
        loop {
            self.take_while(char::is_whitespace);
            if self.s[..self.i].ends_with('\n') && self.peek() == Some('>') {
                let after = self.s[self.i + 1..].chars().next();
                if after.is_some_and(|c| c == ' ' || c == '>') {
                    self.i += 1;
                    continue;
                }
            }
            return;
        }
    }
}

/// The end (after its `}`) of the braced expression opening at `open`, skipping strings.
fn braced_end(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s[open..].char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '{' | '[' | '(' => depth += 1,
            '}' | ']' | ')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(open + i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// A JavaScript literal as data: number, boolean, null, string, or an array or object of
/// literals (keys bare or quoted, trailing commas allowed). `None` for anything else, which
/// would need JavaScript to evaluate.
pub fn literal(text: &str) -> Option<Value> {
    let mut p = Literal { s: text, i: 0 };
    let v = p.value()?;
    p.space();
    (p.i == text.len()).then_some(v)
}

struct Literal<'s> {
    s: &'s str,
    i: usize,
}

impl Literal<'_> {
    fn space(&mut self) {
        let rest = &self.s[self.i..];
        self.i += rest.len() - rest.trim_start().len();
    }
    fn peek(&self) -> Option<char> {
        self.s[self.i..].chars().next()
    }
    fn value(&mut self) -> Option<Value> {
        self.space();
        match self.peek()? {
            '"' | '\'' | '`' => self.string().map(Value::String),
            '[' => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    self.space();
                    if self.peek()? == ']' {
                        self.i += 1;
                        return Some(Value::Array(items));
                    }
                    items.push(self.value()?);
                    self.space();
                    match self.peek()? {
                        ',' => self.i += 1,
                        ']' => {}
                        _ => return None,
                    }
                }
            }
            '{' => {
                self.i += 1;
                let mut map = Map::new();
                loop {
                    self.space();
                    let key = match self.peek()? {
                        '}' => {
                            self.i += 1;
                            return Some(Value::Object(map));
                        }
                        '"' | '\'' => self.string()?,
                        c if c.is_alphabetic() || c == '_' || c == '$' => self.word().to_string(),
                        _ => return None,
                    };
                    self.space();
                    if self.peek()? != ':' {
                        return None;
                    }
                    self.i += 1;
                    let v = self.value()?;
                    map.insert(key, v);
                    self.space();
                    match self.peek()? {
                        ',' => self.i += 1,
                        '}' => {}
                        _ => return None,
                    }
                }
            }
            c if c.is_ascii_digit() || c == '-' || c == '.' => {
                let start = self.i;
                self.i += 1;
                self.word();
                let n = &self.s[start..self.i];
                if let Ok(i) = n.parse::<i64>() {
                    Some(Value::Number(i.into()))
                } else {
                    n.parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite())
                        .and_then(Number::from_f64)
                        .map(Value::Number)
                }
            }
            _ => match self.word() {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                "null" => Some(Value::Null),
                _ => None,
            },
        }
    }
    fn word(&mut self) -> &str {
        let start = self.i;
        while let Some(c) = self
            .peek()
            .filter(|c| c.is_alphanumeric() || matches!(c, '_' | '$' | '.'))
        {
            self.i += c.len_utf8();
        }
        &self.s[start..self.i]
    }
    fn string(&mut self) -> Option<String> {
        let q = self.peek()?;
        self.i += 1;
        let mut out = String::new();
        let mut chars = self.s[self.i..].char_indices();
        while let Some((k, c)) = chars.next() {
            match c {
                '\\' => match chars.next()?.1 {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    other => out.push(other),
                },
                // A template literal with `${…}` is an expression.
                '$' if q == '`' && self.s[self.i + k..].starts_with("${") => return None,
                c if c == q => {
                    self.i += k + 1;
                    return Some(out);
                }
                c => out.push(c),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literals_are_data_and_expressions_are_not() {
        assert_eq!(literal("3"), Some(json!(3)));
        assert_eq!(literal(" -2.5 "), Some(json!(-2.5)));
        assert_eq!(literal("true"), Some(json!(true)));
        assert_eq!(literal("'a'"), Some(json!("a")));
        assert_eq!(literal("`b`"), Some(json!("b")));
        assert_eq!(
            literal("{a: 1, 'b': [1, \"x\",], c: {d: null}}"),
            Some(json!({"a": 1, "b": [1, "x"], "c": {"d": null}}))
        );
        for expr in ["x", "a + 1", "f()", "`${x}`", "props.title", "1 2", "[a]"] {
            assert_eq!(literal(expr), None, "{expr}");
        }
    }

    fn tags(md: &str) -> Scan {
        scan(md, 0).unwrap()
    }

    #[test]
    fn every_form_of_tag_is_found() {
        let s = tags(
            "<Callout type=\"tip\" title='T' n={2} open>\nBody {{X}}\n</Callout>\n\n<Include path=\"a.md\" />\n<Tab label=\"x\"></Tab>\n",
        );
        let names: Vec<(&str, TagKind)> =
            s.tags.iter().map(|t| (t.name.as_str(), t.kind)).collect();
        assert_eq!(
            names,
            [
                ("Callout", TagKind::Open),
                ("Callout", TagKind::Close),
                ("Include", TagKind::SelfClosing),
                ("Tab", TagKind::SelfClosing),
            ]
        );
        assert_eq!(
            Value::Object(s.tags[0].attr_map()),
            json!({"type": "tip", "title": "T", "n": 2, "open": true})
        );
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(
            s.text,
            "<!--dsc:0-->\nBody {{X}}\n<!--dsc:1-->\n\n<!--dsc:2-->\n<!--dsc:3-->\n"
        );
        // Offsets map back: the body line, and each marker to its tag.
        let body = s.text.find("Body").unwrap();
        assert_eq!(s.source_offset(body), 42);
        assert_eq!(s.source_offset(s.text.find("<!--dsc:2").unwrap()), 65);
    }

    #[test]
    fn tags_in_lists_quotes_and_one_line_pairs() {
        let s = tags(
            "1. Step\n\n   <Tab label=\"A\">Hi *there*</Tab>\n> <Details summary=\"S\">\n> x\n> </Details>\n",
        );
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(
            s.text,
            "1. Step\n\n   <!--dsc:0-->\n   Hi *there*\n   <!--dsc:1-->\n> <!--dsc:2-->\n> x\n> <!--dsc:3-->\n"
        );
    }

    #[test]
    fn code_blocks_and_lowercase_tags_are_left_alone() {
        assert!(scan("```md\n<Callout>\n```\n<div>\n`<Callout>`\n", 0).is_none());
        let s = tags("~~~\n<A>\n~~~\n<B />\n");
        assert_eq!(s.tags.len(), 1);
    }

    #[test]
    fn problems_are_located() {
        let s = tags("<A>\n<B>\n</A>\n");
        let kinds: Vec<_> = s.problems.iter().map(|p| (&p.kind, p.offset)).collect();
        assert_eq!(
            kinds,
            [(
                &ErrorKind::MismatchedClosingTag {
                    found: "A".into(),
                    expected: Some("B".into())
                },
                8
            ),]
        );
        let s = tags("x\n<A n={a + 1} />\n");
        assert_eq!(
            s.problems[0].kind,
            ErrorKind::NonLiteralAttribute {
                attribute: "n".into(),
                expression: "a + 1".into()
            }
        );
        assert_eq!(s.problems[0].offset, 7);
        let s = tags("<A t=\"x />\n");
        assert!(matches!(
            s.problems[0].kind,
            ErrorKind::ComponentSyntax { .. }
        ));
        let s = tags("<A>\n");
        assert_eq!(
            s.problems[0].kind,
            ErrorKind::UnclosedComponent { name: "A".into() }
        );
    }
}
