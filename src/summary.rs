//! A page's summary when its frontmatter has no `description`: the text of its first
//! paragraph, cut at a word near 160 characters (about what search engines show).
//!
//! Read from the Markdown on demand, only for pages without a description, and the parse stops
//! at the end of the first paragraph: a page pays for its opening, not for its length.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// The length a summary is cut near, in characters.
pub const LIMIT: usize = 160;

/// The meta description made from a Markdown body: its first paragraph cut near [`LIMIT`].
/// `None` when the body has no paragraph with text.
pub fn description(body: &str) -> Option<String> {
    first_paragraph(body).map(|text| cut(&text, LIMIT))
}

/// The plain text of the first paragraph that stands on its own (not in a list, a quote, an
/// alert, a table or a footnote, which are no opening), its whitespace collapsed.
pub fn first_paragraph(body: &str) -> Option<String> {
    let mut depth = 0usize;
    let mut text: Option<String> = None;
    // Alt text is not prose: images are skipped in a summary.
    let mut in_image = 0usize;
    let opts = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_GFM;
    for event in Parser::new_ext(body, opts) {
        match event {
            Event::Start(
                Tag::BlockQuote(_)
                | Tag::List(_)
                | Tag::Item
                | Tag::FootnoteDefinition(_)
                | Tag::Table(_),
            ) => depth += 1,
            Event::End(
                TagEnd::BlockQuote(_)
                | TagEnd::List(_)
                | TagEnd::Item
                | TagEnd::FootnoteDefinition
                | TagEnd::Table,
            ) => depth = depth.saturating_sub(1),
            Event::Start(Tag::Paragraph) if depth == 0 => text = Some(String::new()),
            Event::End(TagEnd::Paragraph) => {
                if let Some(t) = text.take() {
                    let words: Vec<&str> = t.split_whitespace().collect();
                    if !words.is_empty() {
                        return Some(words.join(" "));
                    }
                }
            }
            Event::Start(Tag::Image { .. }) => in_image += 1,
            Event::End(TagEnd::Image) => in_image = in_image.saturating_sub(1),
            Event::Text(t) | Event::Code(t) if in_image == 0 => {
                if let Some(out) = text.as_mut() {
                    out.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(out) = text.as_mut() {
                    out.push(' ');
                }
            }
            _ => {}
        }
    }
    None
}

/// `text` if it has at most `limit` characters; else its words up to `limit` characters and an
/// ellipsis (a word longer than `limit` is cut inside).
pub fn cut(text: &str, limit: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= limit {
        return text.to_string();
    }
    // Byte offset of the character at `limit`: always a char boundary.
    let end = text
        .char_indices()
        .nth(limit)
        .map_or(text.len(), |(i, _)| i);
    let head = &text[..end];
    let at_word = if text[end..].starts_with(char::is_whitespace) {
        head
    } else {
        match head.rfind(char::is_whitespace) {
            Some(i) => &head[..i],
            None => head,
        }
    };
    let at_word = at_word.trim_end_matches(|c: char| c.is_whitespace() || ",;:-–—".contains(c));
    format!("{at_word}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_standalone_paragraph_as_plain_text() {
        let body = "> [!NOTE]\n> Not this.\n\n- nor\n- this\n\n![alt](x.png) Install **the** `cli`,\nthen [run](a.md) it.\n\nSecond.\n";
        assert_eq!(
            first_paragraph(body).as_deref(),
            Some("Install the cli, then run it.")
        );
        assert_eq!(
            first_paragraph("## Only a heading\n\n```\ncode\n```\n"),
            None
        );
        assert_eq!(first_paragraph(""), None);
        assert_eq!(
            first_paragraph("<div>raw</div>\n\nText *here*.").as_deref(),
            Some("Text here.")
        );
    }

    #[test]
    fn cut_at_a_word_near_the_limit() {
        assert_eq!(cut("short text", 160), "short text");
        assert_eq!(cut("one two three four", 9), "one two…");
        assert_eq!(
            cut("one two three four", 7),
            "one two…",
            "the limit falls on a space"
        );
        assert_eq!(cut("one, two three", 6), "one…", "no dangling comma");
        assert_eq!(cut("abcdefghij", 4), "abcd…", "one long word is cut inside");
        // Multi-byte letters: counted and cut as characters, never inside one.
        assert_eq!(cut("éé éé éé", 5), "éé éé…");
        let long = "word ".repeat(100);
        let d = cut(&long, LIMIT);
        assert!(d.chars().count() <= LIMIT + 1, "{d}");
        assert!(d.ends_with("word…"));
    }

    #[test]
    fn description_of_a_body() {
        let body = format!("Intro {}\n", "lorem ipsum ".repeat(30));
        let d = description(&body).unwrap();
        assert!(d.starts_with("Intro lorem ipsum"));
        assert!(
            d.chars().count() <= LIMIT + 1 && d.chars().count() > LIMIT - 20,
            "{d}"
        );
    }
}
