//! Navigation files (`[nav] file`, `_nav.md`): the sidebar, the reading order and breadcrumbs
//! they give, and what a bad one gets.

mod common;

use common::{Site, fixture};
use docsite::{BuildOptions, build};

/// The sidebar of a built page, as published.
fn sidebar(html: &str) -> &str {
    let start = html.find("<nav id=\"sidebar\"").expect("a sidebar");
    let end = html[start..].find("</nav>").expect("the sidebar ends") + start + 6;
    &html[start..end]
}

fn build_nav_fixture() -> (tempfile::TempDir, std::path::PathBuf, docsite::BuildSummary) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    let summary = build(&BuildOptions {
        root: fixture("nav"),
        out: Some(out.clone()),
        ..Default::default()
    })
    .unwrap();
    (dir, out, summary)
}

fn read(out: &std::path::Path, rel: &str) -> String {
    std::fs::read_to_string(out.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn heading_form_orders_the_sidebar_with_its_titles_groups_and_dividers() {
    let (_dir, out, summary) = build_nav_fixture();
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
    let page = read(&out, "docs/get-started/docker/index.html");
    insta::assert_snapshot!("heading_form_sidebar", sidebar(&page));
    // The file's titles are the labels, not the pages' titles.
    assert!(page.contains(">Why Acme</a>"));
    assert!(!sidebar(&page).contains("What is Acme"));
    // The groups on the way to the page are open, and so is `expanded: [Reference]`.
    let s = sidebar(&page);
    assert!(s.contains("<b>Self-host</b>\n<details open>"), "{s}");
    assert!(s.contains("<b>Reference</b>\n<details open>"), "{s}");
    assert!(s.contains("href=\"/docs/get-started/docker/\" aria-current=\"page\""));
    assert!(s.contains("<li class=\"nav-divider\"><hr></li>"));
    // A page elsewhere on the website is a link, kept as written.
    assert!(s.contains("<a href=\"/pricing\">Pricing</a>"));
    // The nav file is not published.
    assert!(!out.join("docs/_nav").exists());
    assert!(!out.join("docs/_nav.md").exists());
}

#[test]
fn list_form_as_in_mdbook_orders_the_sidebar() {
    let (_dir, out, _) = build_nav_fixture();
    let page = read(&out, "book/advanced/tuning/index.html");
    insta::assert_snapshot!("list_form_sidebar", sidebar(&page));
    let s = sidebar(&page);
    // The group `Advanced` holds the page: open. `Getting going` holds a page: closed.
    assert!(s.contains("<b>Advanced</b>\n<details open>"), "{s}");
    assert!(
        !s.contains("Summary"),
        "mdBook's `# Summary` is the file's title"
    );
}

#[test]
fn the_file_order_is_the_reading_order_and_gives_breadcrumbs() {
    let (_dir, out, _) = build_nav_fixture();
    let page = read(&out, "docs/get-started/docker/index.html");
    // Previous: the entry before it in the file; next: the one after.
    let footer = &page[page.find("class=\"pager").expect("a pager")..];
    let prev = footer
        .find("/docs/get-started/self-host/")
        .expect("previous");
    let next = footer.find("/docs/upgrade/").expect("next");
    assert!(prev < next, "{footer}");
    // Breadcrumbs: the section, then the file's group and the entry holding the page.
    let crumbs = &page[page.find("class=\"breadcrumbs\"").unwrap()..];
    let crumbs = &crumbs[..crumbs.find("</nav>").unwrap()];
    assert!(crumbs.contains("<a href=\"/docs/\">Docs</a>"), "{crumbs}");
    assert!(crumbs.contains("<span>Self-host</span>"), "{crumbs}");
    assert!(
        crumbs.contains("<a href=\"/docs/get-started/self-host/\">Install</a>"),
        "{crumbs}"
    );
    // The last page of the docs file leads on; a first entry's previous page is the section.
    let why = read(&out, "docs/introduction/what-is-acme/index.html");
    let footer = &why[why.find("class=\"pager").unwrap()..];
    assert!(footer.contains("href=\"/docs/\""), "{footer}");
    assert!(
        footer.contains("href=\"/docs/get-started/self-host/\""),
        "{footer}"
    );
}

#[test]
fn without_a_nav_file_the_folder_order_stays() {
    let (_dir, out, _) = build_nav_fixture();
    let page = read(&out, "guides/aardvark/index.html");
    let s = sidebar(&page);
    let zebra = s.find(">Zebra</a>").expect("zebra");
    let aardvark = s.find(">Aardvark</a>").expect("aardvark");
    assert!(zebra < aardvark, "weight first, then title: {s}");
}

#[test]
fn links_to_the_rest_of_the_website_are_kept_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    build(&BuildOptions {
        root: fixture("nav"),
        out: Some(out.clone()),
        base_url: Some("/handbook/".into()),
        ..Default::default()
    })
    .unwrap();
    let page = read(&out, "guides/zebra/index.html");
    assert!(page.contains("href=\"/blog/2026/launch\""), "no base path");
    assert!(page.contains("href=\"/pricing#plans\""));
    assert!(
        page.contains("href=\"/handbook/guides/aardvark/\""),
        "pages get it"
    );
}

fn findings(name: &str) -> Vec<(String, String, usize, usize, bool)> {
    let loaded = docsite::build::load(&fixture(name), &Default::default()).unwrap();
    let mut out: Vec<_> = loaded
        .problems
        .iter()
        .map(|e| {
            (
                e.kind.code().to_string(),
                e.location.path.display().to_string(),
                e.location.line,
                e.location.column,
                e.is_error(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn bad_nav_file_gets_its_findings_at_file_line_col() {
    let f = |c: &str, p: &str, l: usize, col: usize, err: bool| {
        (c.to_string(), p.to_string(), l, col, err)
    };
    assert_eq!(
        findings("nav-broken"),
        vec![
            f("broken-link", "content/docs/_nav.md", 6, 10, true),
            f("duplicate-nav-entry", "content/docs/_nav.md", 7, 13, false),
            f("not-in-nav", "content/docs/stray.md", 0, 0, false),
            // Hidden pages need no entry; as anywhere, one nothing links to is an orphan.
            f("orphan-page", "content/docs/hidden.md", 0, 0, false),
            f("unknown-key", "content/docs/_nav.md", 3, 1, false),
        ]
    );
}

#[test]
fn a_nav_entry_to_a_missing_page_fails_the_build_and_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    let errs = build(&BuildOptions {
        root: fixture("nav-broken"),
        out: Some(out.clone()),
        ..Default::default()
    })
    .unwrap_err();
    let e = errs.0.iter().find(|e| e.is_error()).unwrap();
    assert_eq!(e.location.to_string(), "content/docs/_nav.md:6:10");
    assert_eq!(e.kind.code(), "broken-link");
    assert!(!out.exists(), "nothing published");
}

#[test]
fn a_page_missing_from_the_nav_file_is_still_built_and_warned_about_once() {
    let site = Site::new();
    site.write("content/docs/_nav.md", "- [A](a.md)\n");
    site.write("content/docs/a.md", "---\ntitle: A\n---\nA.\n");
    site.write("content/docs/b.md", "---\ntitle: B\n---\nB.\n");
    let summary = site.build().unwrap();
    let codes: Vec<&str> = summary.warnings.iter().map(|w| w.kind.code()).collect();
    assert_eq!(codes, ["not-in-nav"], "no orphan-page as well");
    assert!(site.read_out("docs/b/index.html").contains("<h1>B</h1>"));
    assert!(!sidebar(&site.read_out("docs/a/index.html")).contains(">B</a>"));
}

#[test]
fn nav_file_name_is_configurable_and_never_a_page() {
    let site = Site::new();
    site.write("docsite.toml", "[nav]\nfile = \"SUMMARY.md\"\n");
    site.write("content/SUMMARY.md", "- [Second](b.md)\n- [First](a.md)\n");
    site.write("content/a.md", "---\ntitle: A\n---\nA.\n");
    site.write("content/b.md", "---\ntitle: B\n---\nB.\n");
    let summary = site.build().unwrap();
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
    let s = site.read_out("a/index.html");
    let s = sidebar(&s);
    assert!(s.find(">Second</a>").unwrap() < s.find(">First</a>").unwrap());
    assert!(!site.root().join("public/SUMMARY").exists());
}

#[test]
fn a_file_listing_its_own_section_or_a_section_twice_still_builds() {
    let site = Site::new();
    site.write(
        "content/docs/_nav.md",
        "- [All docs](/)\n- [A](a.md)\n- [Part](part/)\n- [Part again](part/)\n",
    );
    site.write("content/docs/a.md", "---\ntitle: A\n---\nA.\n");
    site.write(
        "content/docs/part/_nav.md",
        "- [P](p.md)\n- [Docs](/docs/)\n",
    );
    site.write("content/docs/part/p.md", "---\ntitle: P\n---\nP.\n");
    let summary = site.build().unwrap();
    let codes: Vec<&str> = summary.warnings.iter().map(|w| w.kind.code()).collect();
    assert_eq!(codes, ["duplicate-nav-entry"], "{:?}", summary.warnings);
    let a = site.read_out("docs/a/index.html");
    let s = sidebar(&a);
    assert!(s.contains(">All docs</a>") && s.contains(">P</a>"), "{s}");
}
