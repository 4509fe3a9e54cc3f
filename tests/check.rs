//! The checker over fixture sites: every valid form gives nothing, every broken form gives
//! exactly its finding.

mod common;

use common::fixture;

fn findings(name: &str) -> Vec<(String, String, usize)> {
    let loaded = docsite::build::load(&fixture(name), &Default::default()).unwrap();
    codes(&loaded.problems)
}

#[test]
fn valid_site_has_no_findings() {
    assert_eq!(findings("check-valid"), vec![]);
}

#[test]
fn broken_site_has_exactly_its_findings() {
    let expected: Vec<(String, String, usize)> = [
        ("broken-anchor", "content/_index.md", 6),
        ("broken-anchor", "content/_index.md", 7),
        ("broken-anchor", "content/_index.md", 10),
        ("broken-link", "content/_index.md", 5),
        // A near-miss key is a warning: the page loads, so its own broken link is found too.
        ("broken-link", "content/docs/bad.md", 6),
        ("duplicate-id", "content/docs/a.md", 7),
        ("duplicate-id", "content/docs/a.md", 9),
        ("heading-skip", "content/_index.md", 16),
        ("image-case-mismatch", "content/_index.md", 8),
        ("missing-alt", "content/_index.md", 9),
        ("multiple-h1", "content/_index.md", 14),
        ("orphan-page", "content/docs/orphan.md", 0),
        ("unknown-component", "content/_index.md", 12),
        ("unknown-key", "content/docs/bad.md", 3),
        ("unused-asset", "content/docs/unused.png", 0),
    ]
    .into_iter()
    .map(|(c, f, l)| (c.to_string(), f.to_string(), l))
    .collect();
    assert_eq!(findings("check-broken"), expected);
}

#[test]
fn severities_are_configurable() {
    let site = common::Site::new();
    site.write(
        "docsite.toml",
        "[check.severity]\n\"missing-alt\" = \"warning\"\n\"unused-asset\" = \"off\"\n",
    );
    site.write("content/a.md", "---\ntitle: A\n---\n![](./x.png)\n");
    // A real PNG: the image pipeline refuses one that is not (tests/images.rs).
    site.write_bytes(
        "content/x.png",
        include_bytes!("fixtures/basic/content/guides/flow.png"),
    );
    site.write_bytes("content/y.png", b"unused");
    let loaded = docsite::build::load(site.root(), &Default::default()).unwrap();
    assert_eq!(loaded.problems.len(), 1, "{:?}", loaded.problems);
    assert_eq!(loaded.problems[0].kind.code(), "missing-alt");
    assert!(!loaded.has_errors());
}

#[test]
fn unknown_severity_code_is_a_config_error_with_suggestion() {
    let site = common::Site::new();
    site.write("docsite.toml", "[check.severity]\nmissing-alts = \"off\"\n");
    site.write("content/a.md", "---\ntitle: A\n---\n");
    let errs = docsite::build::load(site.root(), &Default::default()).unwrap_err();
    assert_eq!(
        errs.0[0].kind.hint().unwrap(),
        "did you mean `missing-alt`?"
    );
    assert_eq!(errs.0[0].kind.code(), "config");
    site.write("docsite.toml", "[theme]\nfooterr = \"x\"\n");
    let errs = docsite::build::load(site.root(), &Default::default()).unwrap_err();
    assert_eq!(errs.0[0].kind.code(), "config", "not `frontmatter`");
    assert_eq!(errs.0[0].location.to_string(), "docsite.toml:2:1");
}

#[test]
fn many_links_and_odd_urls_give_findings_not_panics() {
    let site = common::Site::new();
    let mut md = String::from("---\ntitle: A\n---\n");
    for i in 0..10_000 {
        md.push_str(&format!("[l{i}](./missing-{i}.md) "));
    }
    md.push_str(&format!("\n\n[long](./{}.md)\n", "x".repeat(100_000)));
    md.push_str("\n[ctrl](<./a\u{1}b.md>)\n");
    site.write("content/a.md", &md);
    let loaded = docsite::build::load(site.root(), &Default::default()).unwrap();
    let broken = loaded
        .problems
        .iter()
        .filter(|e| e.kind.code() == "broken-link")
        .count();
    assert_eq!(broken, 10_002);
}

#[test]
fn check_command_exit_codes() {
    let bin = env!("CARGO_BIN_EXE_docsite");
    let run = |root: &std::path::Path, format: &str| {
        std::process::Command::new(bin)
            .args(["check", "--format", format, "--root"])
            .arg(root)
            .output()
            .unwrap()
    };
    assert_eq!(run(&fixture("check-valid"), "human").status.code(), Some(0));
    let broken = run(&fixture("check-broken"), "json");
    assert_eq!(broken.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&broken.stdout).unwrap();
    let schema_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("static/schemas/findings.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(json.as_array().unwrap().len(), 15);
    // Every code the library knows is in the schema.
    let codes = &schema["items"]["properties"]["code"]["enum"];
    for code in docsite::error::CODES {
        assert!(
            codes.as_array().unwrap().iter().any(|c| c == code),
            "{code} not in the schema"
        );
    }
    let gh = run(&fixture("check-broken"), "github");
    let text = String::from_utf8(gh.stdout).unwrap();
    assert!(text.contains("::error file=content/_index.md,line=5,col=16,title=broken-link::"));
    let missing = tempfile::tempdir().unwrap();
    assert_eq!(run(missing.path(), "human").status.code(), Some(2));
}

fn codes(problems: &[docsite::Error]) -> Vec<(String, String, usize)> {
    let mut v: Vec<_> = problems
        .iter()
        .map(|e| {
            (
                e.kind.code().to_string(),
                e.location.path.display().to_string(),
                e.location.line,
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn reloading_one_page_rechecks_it_and_the_pages_linking_to_it() {
    use docsite::build::{Reloaded, load};
    let site = common::Site::new();
    site.write("content/a.md", "---\ntitle: A\n---\nSee [b](./b.md#old).\n");
    site.write(
        "content/b.md",
        "---\ntitle: B\n---\n## Old\n\nBack to [a](./a.md).\n",
    );
    let mut loaded = load(site.root(), &Default::default()).unwrap();
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);

    // The heading is renamed: the link in a.md breaks, though a.md did not change.
    site.write(
        "content/b.md",
        "---\ntitle: B\n---\n## New\n\nBack to [a](./a.md).\n",
    );
    let r = loaded.reload_page("b.md");
    let a = loaded.site.page_index("a.md").unwrap();
    let b = loaded.site.page_index("b.md").unwrap();
    assert_eq!(r, Reloaded::Pages(vec![b, a]));
    assert_eq!(
        codes(&loaded.problems),
        vec![("broken-anchor".into(), "content/a.md".into(), 4)]
    );
    // Same findings as loading the whole site again.
    let fresh = load(site.root(), &Default::default()).unwrap();
    assert_eq!(codes(&loaded.problems), codes(&fresh.problems));

    // Broken frontmatter is reported; the last good page stays in the graph.
    site.write("content/b.md", "---\ntitle: B\nweight: x\n---\n## Old\n");
    loaded.reload_page("b.md");
    assert!(
        codes(&loaded.problems).contains(&("frontmatter".into(), "content/b.md".into(), 3)),
        "{:?}",
        loaded.problems
    );

    // Fixed: everything clears.
    site.write(
        "content/b.md",
        "---\ntitle: B\n---\n## Old\n\nBack to [a](./a.md).\n",
    );
    loaded.reload_page("b.md");
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);

    // A new title changes navigation: worked out again in memory; b and its neighbour a show it.
    site.write(
        "content/b.md",
        "---\ntitle: Bee\n---\n## Old\n\nBack to [a](./a.md).\n",
    );
    assert_eq!(loaded.reload_page("b.md"), Reloaded::Navigation(vec![b, a]));
    assert_eq!(
        loaded.site.item_link(docsite::site::Item::Page(b)).title,
        "Bee"
    );
    // Hidden: a leaves navigation, and once b no longer links to it, a is an orphan.
    site.write("content/b.md", "---\ntitle: Bee\n---\n## Old\n");
    assert_eq!(loaded.reload_page("b.md"), Reloaded::Pages(vec![b, a]));
    site.write(
        "content/a.md",
        "---\ntitle: A\nhide: true\n---\nSee [b](./b.md#old).\n",
    );
    assert!(matches!(
        loaded.reload_page("a.md"),
        Reloaded::Navigation(_)
    ));
    let fresh = load(site.root(), &Default::default()).unwrap();
    assert_eq!(codes(&loaded.problems), codes(&fresh.problems));
    assert_eq!(
        codes(&fresh.problems),
        vec![("orphan-page".into(), "content/a.md".into(), 0)]
    );
    // A new URL needs the whole site.
    site.write("content/b.md", "---\ntitle: Bee\nslug: bee\n---\n## Old\n");
    assert_eq!(loaded.reload_page("b.md"), Reloaded::Site);
    assert_eq!(loaded.reload_page("nope.md"), Reloaded::Site);
}

#[test]
fn links_into_a_page_that_failed_to_load_are_not_reported_as_broken() {
    let site = common::Site::new();
    site.write("content/a.md", "---\ntitle: [oops\n---\n## Intro\n");
    site.write(
        "content/b.md",
        "---\ntitle: B\n---\nSee [a](./a.md#intro).\n",
    );
    let loaded = docsite::build::load(site.root(), &Default::default()).unwrap();
    assert_eq!(
        codes(&loaded.problems),
        vec![("frontmatter".into(), "content/a.md".into(), 3)],
        "{:?}",
        loaded.problems
    );
    assert!(!loaded.problems[0].to_string().contains("at byte"));
}

#[test]
fn a_fence_language_one_edit_from_a_known_one_is_a_warning_at_the_fence() {
    let site = common::Site::new();
    site.write(
        "content/a.md",
        "---\ntitle: A\n---\n\n- item\n\n  ```sqll\n  SELECT 1;\n  ```\n\n```text\nout\n```\n\n```my-own-dsl\nx\n```\n\n```SQL\nselect 1;\n```\n",
    );
    let loaded = docsite::build::load(site.root(), &Default::default()).unwrap();
    assert_eq!(loaded.problems.len(), 1, "{:?}", loaded.problems);
    let p = &loaded.problems[0];
    assert_eq!(p.kind.code(), "unknown-language");
    assert!(!p.is_error());
    assert_eq!((p.location.line, p.location.column), (7, 6), "{p}");
    assert_eq!(
        p.kind.hint().unwrap().split('?').next(),
        Some("did you mean `sql`")
    );
    assert!(!loaded.has_errors());
}

#[test]
fn near_miss_frontmatter_keys_warn_and_their_severity_is_configurable() {
    use docsite::build::load;
    let site = common::Site::new();
    site.write(
        "content/a.md",
        "---\ntitle: A\nupdated_at: 2026-01-01\n---\nA.\n",
    );
    let mut loaded = load(site.root(), &Default::default()).unwrap();
    assert_eq!(
        codes(&loaded.problems),
        vec![("unknown-key".into(), "content/a.md".into(), 3)]
    );
    assert!(
        !loaded.has_errors(),
        "a warning: unknown keys are often deliberate"
    );
    // Reloading the page after an edit keeps reporting it, as a fresh load does.
    site.write(
        "content/a.md",
        "---\ntitle: A\nupdated_at: 2026-01-02\n---\nA.\n",
    );
    loaded.reload_page("a.md");
    assert_eq!(
        codes(&loaded.problems),
        vec![("unknown-key".into(), "content/a.md".into(), 3)]
    );
    site.write(
        "docsite.toml",
        "[check.severity]\n\"unknown-key\" = \"error\"\n",
    );
    let loaded = load(site.root(), &Default::default()).unwrap();
    assert!(loaded.has_errors());
}

#[test]
fn missing_description_is_reported_only_when_asked_for() {
    use docsite::build::load;
    let site = common::Site::new();
    site.write(
        "content/a.md",
        "---\ntitle: A\n---\nAn opening paragraph.\n",
    );
    site.write(
        "content/b.md",
        "---\ntitle: B\ndescription: Own words.\n---\n- a list\n",
    );
    site.write("content/c.md", "---\ntitle: C\n---\n- only\n- a list\n");
    let loaded = load(site.root(), &Default::default()).unwrap();
    assert!(
        loaded.problems.is_empty(),
        "off by default: {:?}",
        loaded.problems
    );
    site.write(
        "docsite.toml",
        "[check.severity]\n\"missing-description\" = \"warning\"\n",
    );
    let loaded = load(site.root(), &Default::default()).unwrap();
    assert_eq!(
        codes(&loaded.problems),
        vec![("missing-description".into(), "content/c.md".into(), 0)]
    );
    assert!(!loaded.has_errors());
}
