//! Components and includes over the `components` fixture, and every kind of bad input.

mod common;

use std::path::Path;

use common::{Site, fixture};
use docsite::{BuildOptions, build};

fn body_of(loaded: &docsite::build::Loaded, rel: &str) -> usize {
    loaded
        .site
        .pages
        .iter()
        .position(|p| p.page.source.rel == rel)
        .unwrap()
}

#[test]
fn fixture_renders_every_form_of_component() {
    let out = tempfile::tempdir().unwrap();
    let out = out.path().join("public");
    let summary = build(&BuildOptions {
        root: fixture("components"),
        out: Some(out.clone()),
        ..Default::default()
    })
    .unwrap();
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
    // Files in `_` folders are included, never published.
    assert!(!out.join("_shared").exists());

    let loaded = docsite::build::load(&fixture("components"), &Default::default()).unwrap();
    let p = body_of(&loaded, "guide/all.md");
    let body = &loaded.bodies[p];
    insta::assert_snapshot!("components_all_forms", body.html);

    // Placeholders stay as written, inside components and around them.
    for literal in ["{{PLACEHOLDER}}", "{{INSIDE}}", "{{THIS}}", "{{DB_HOST}}"] {
        assert!(body.html.contains(literal), "{literal}");
    }
    // Headings inside components and included files join the table of contents.
    let ids: Vec<&str> = body.headings.iter().map(|h| h.id.as_str()).collect();
    for id in ["inside-details", "install-the-server", "shared-step"] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    // A Callout is the GFM alert of its type: `danger` renders as the `[!CAUTION]` alert.
    let caution = "<div class=\"callout callout-caution\" role=\"note\"><p class=\"callout-title\">Caution</p>";
    assert_eq!(body.html.matches(caution).count(), 2, "{}", body.html);
    // Links in an included file resolve from that file; its frontmatter is not shown.
    assert!(body.html.contains("href=\"/guide/install/\""));
    assert!(!body.html.contains("frontmatter of an include"));
    // A component in a code block or inline code is text (highlighted, so read without the
    // highlighter's spans).
    let text: String = body
        .html
        .split("</span>")
        .map(|piece| match piece.find("<span class=\"hl-") {
            Some(at) => {
                let (before, span) = piece.split_at(at);
                format!("{before}{}", span.split_once('>').map_or("", |(_, t)| t))
            }
            None => piece.to_string(),
        })
        .collect();
    assert!(
        text.contains("&lt;Callout type=&quot;tip&quot;&gt;"),
        "{text}"
    );
    assert!(
        body.html
            .contains("<code>&lt;Callout type=\"tip\" /&gt;</code>")
    );
    // What the body was made from, for the preview's rebuilds.
    assert_eq!(
        body.uses,
        [
            "_shared/deeper/inner.md",
            "_shared/steps.md",
            "components/DocLinkBlock.html",
            "guide/install.md"
        ]
    );
    // The tabs' list and panels point at each other.
    let page = std::fs::read_to_string(out.join("guide/all/index.html")).unwrap();
    for part in [
        "role=\"tablist\" aria-label=\"Operating system\"",
        "id=\"tab-1-0\" aria-controls=\"tab-1-0-panel\" aria-selected=\"true\"",
        "id=\"tab-1-1-panel\" aria-labelledby=\"tab-1-1\" tabindex=\"0\" hidden",
    ] {
        assert!(page.contains(part), "{part}");
    }
}

/// Builds a site with `all.md` (and other files), expecting exactly one problem, and checks
/// that nothing was published.
fn one_problem(files: &[(&str, &str)]) -> docsite::Error {
    let site = Site::new();
    for (rel, text) in files {
        site.write(rel, text);
    }
    let e = site.single_error();
    assert!(!site.root().join("public").exists(), "nothing is published");
    e
}

fn page(body: &str) -> String {
    format!("---\ntitle: A\n---\n{body}")
}

fn at(e: &docsite::Error) -> (String, usize, usize) {
    (
        e.location.path.display().to_string(),
        e.location.line,
        e.location.column,
    )
}

#[test]
fn unclosed_and_mismatched_tags_are_located() {
    let e = one_problem(&[(
        "content/a.md",
        &page("Text\n\n<Callout type=\"tip\">\nBody\n"),
    )]);
    assert_eq!(e.kind.code(), "component");
    assert_eq!(at(&e), ("content/a.md".into(), 6, 1));
    assert!(e.to_string().contains("`<Callout>` is never closed"), "{e}");

    let e = one_problem(&[(
        "content/a.md",
        &page("<Tabs>\n<Tab label=\"x\">\nBody\n</Tabs>\n"),
    )]);
    assert_eq!(at(&e).1, 7);
    assert!(e.to_string().contains("`</Tab>` was expected"), "{e}");
}

#[test]
fn attribute_syntax_and_expressions_are_located() {
    let e = one_problem(&[("content/a.md", &page("<Callout type=\"tip />\n"))]);
    assert_eq!(e.kind.code(), "component");
    assert_eq!(at(&e), ("content/a.md".into(), 4, 10));

    let e = one_problem(&[("content/a.md", &page("  <Callout type={kind} />\n"))]);
    assert_eq!(at(&e), ("content/a.md".into(), 4, 17));
    assert!(e.to_string().contains("`{kind}`"), "{e}");
}

#[test]
fn unknown_attributes_and_components_name_the_closest() {
    let e = one_problem(&[("content/a.md", &page("<Callout tpye=\"tip\" />\n"))]);
    assert_eq!(at(&e), ("content/a.md".into(), 4, 10));
    assert_eq!(e.kind.hint().unwrap(), "did you mean `type`?");

    let e = one_problem(&[("content/a.md", &page("Text\n<Calout type=\"tip\" />\n"))]);
    assert_eq!(e.kind.code(), "unknown-component");
    assert_eq!(at(&e), ("content/a.md".into(), 5, 1));
    assert!(e.kind.hint().unwrap().contains("`<Callout>`"));
}

#[test]
fn include_cycles_are_errors_naming_the_chain() {
    let e = one_problem(&[
        ("content/a.md", &page("<Include path=\"_p/one.md\" />\n")),
        ("content/_p/one.md", "<Include path=\"two.md\" />\n"),
        (
            "content/_p/two.md",
            "x\n\n<Include path=\"/_p/one.md\" />\n",
        ),
    ]);
    assert_eq!(e.kind.code(), "include");
    assert_eq!(at(&e), ("content/_p/two.md".into(), 3, 1));
    assert!(
        e.to_string()
            .contains("a.md → _p/one.md → _p/two.md → _p/one.md"),
        "{e}"
    );
}

#[test]
fn include_of_a_missing_file_is_a_broken_link_at_the_tag() {
    let e = one_problem(&[(
        "content/a.md",
        &page("1. x\n\n   <Include url=\"/nope/\" />\n"),
    )]);
    assert_eq!(e.kind.code(), "broken-link");
    assert_eq!(at(&e), ("content/a.md".into(), 6, 18));
}

#[test]
fn include_of_a_file_that_is_not_markdown_is_an_error() {
    let e = one_problem(&[
        (
            "content/a.md",
            &page("<Include path=\"data.csv\" />\n\n[The data](data.csv)\n"),
        ),
        ("content/data.csv", "a,b\n"),
    ]);
    assert_eq!(e.kind.code(), "include");
    assert_eq!(at(&e), ("content/a.md".into(), 4, 16));
}

#[test]
fn includes_nested_deeper_than_sixteen_are_an_error() {
    let mut files: Vec<(String, String)> = (0..20)
        .map(|i| {
            (
                format!("content/_p/{i}.md"),
                format!("Level {i}\n\n<Include path=\"{}.md\" />\n", i + 1),
            )
        })
        .collect();
    files.push(("content/_p/20.md".into(), "End\n".into()));
    files.push((
        "content/a.md".into(),
        page("<Include path=\"_p/0.md\" />\n"),
    ));
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let e = one_problem(&files);
    assert_eq!(e.kind.code(), "include");
    assert!(e.to_string().contains("more than 16 deep"), "{e}");
    assert_eq!(at(&e), ("content/_p/15.md".into(), 3, 1));
}

#[test]
fn a_component_template_error_is_located_in_the_template() {
    let e = one_problem(&[
        ("content/a.md", &page("<Card title=\"x\" />\n")),
        (
            "templates/components/Card.html",
            "<div>\n{{ attrs.title | nope_filter }}\n</div>\n",
        ),
    ]);
    assert_eq!(e.kind.code(), "template");
    assert_eq!(e.location.path, Path::new("templates/components/Card.html"));
    assert_eq!(e.location.line, 2);
}

#[test]
fn aliases_resolve_after_templates_and_built_ins() {
    let site = Site::new();
    site.write(
        "docsite.toml",
        "[components]\nHintBlock = \"Callout\"\nNote = \"Callout\"\n",
    );
    // The site's own template wins over the built-in and the alias.
    site.write(
        "templates/components/Note.html",
        "<p class=\"mine\">{{ body }}</p>",
    );
    site.write(
        "content/a.md",
        &page("<HintBlock type=\"info\">\nHint\n</HintBlock>\n\n<Note>\nMine\n</Note>\n"),
    );
    site.build().unwrap();
    let html = site.read_out("a/index.html");
    assert!(html.contains("<div class=\"callout callout-note\" role=\"note\"><p class=\"callout-title\">Note</p>\n<p>Hint</p>\n</div>"), "{html}");
    assert!(
        html.contains("<p class=\"mine\"><p>Mine</p>\n</p>"),
        "{html}"
    );
}

#[test]
fn an_alias_to_no_built_in_is_a_config_error() {
    let site = Site::new();
    site.write("docsite.toml", "[components]\nHintBlock = \"Calout\"\n");
    site.write("content/a.md", &page("x\n"));
    let e = site.single_error();
    assert_eq!(e.location.line, 2);
    assert!(e.to_string().contains("did you mean `Callout`?"), "{e}");
}
