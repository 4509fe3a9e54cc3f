//! `docsite build` over fixture sites: what gets written, and what bad input gets.

mod common;

use std::path::Path;

use common::{Site, fixture};
use docsite::{BuildOptions, ErrorKind, build};

#[test]
fn basic_fixture_builds_pretty_urls_and_all_outputs() {
    let out = tempfile::tempdir().unwrap();
    let out = out.path().join("public");
    let summary = build(&BuildOptions {
        root: fixture("basic"),
        out: Some(out.clone()),
        ..Default::default()
    })
    .unwrap();
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
    for f in [
        "index.html",
        "guides/index.html",
        "guides/first/index.html",
        "guides/second/index.html",
        "guides/hidden/index.html",
        "reference/index.html", // generated: the folder has no _index.md
        "reference/options/index.html",
        "img/logo.svg",
        "old/first/index.html",
        "404.html",
        "sitemap.xml",
        "docsite.css",
        "docsite.js",
        "favicon.svg",
    ] {
        assert!(out.join(f).is_file(), "missing {f}");
    }
    // An image the pages only show is published as the pipeline's WebP, not as itself.
    assert!(!out.join("guides/flow.png").exists());
    assert!(
        std::fs::read_dir(out.join("assets"))
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("flow.")),
        "flow.png's WebP"
    );
    // Drafts and `_`-names are not published.
    assert!(!out.join("guides/wip").exists());
    assert!(!out.join("guides/_draft-notes").exists());
    assert!(!out.join("guides/_draft-notes.md").exists());

    let first = std::fs::read_to_string(out.join("guides/first/index.html")).unwrap();
    assert!(first.contains("<title>First guide · Fixture docs</title>"));
    assert!(first.contains("<meta name=\"description\" content=\"The first guide.\">"));
    assert!(
        first.contains("href=\"https://example.org/guides/first/\""),
        "canonical"
    );
    assert!(first.contains("href=\"/guides/second/#details\""));
    assert!(first.contains("href=\"/reference/options/\""));
    // Images are published as WebP named by content hash, sized.
    assert!(first.contains("src=\"/assets/flow."), "{first}");
    assert!(first.contains("width=\"4\" height=\"3\""));
    assert!(first.contains("{{DB_NAME}}"));
    assert!(first.contains("href=\"/guides/first/\" aria-current=\"page\""));
    assert!(first.contains("Fixture footer"));
    // The hidden page is built but not listed.
    assert!(!first.contains("Hidden page"));
    let sitemap = std::fs::read_to_string(out.join("sitemap.xml")).unwrap();
    assert!(sitemap.contains("<loc>https://example.org/guides/second/</loc>"));
    let alias = std::fs::read_to_string(out.join("old/first/index.html")).unwrap();
    assert!(alias.contains("/guides/first/"));
}

#[test]
fn markdown_body_snapshot() {
    let loaded = docsite::build::load(&fixture("basic"), &Default::default()).unwrap();
    let i = loaded
        .site
        .pages
        .iter()
        .position(|p| p.page.source.rel == "guides/first.md")
        .unwrap();
    insta::assert_snapshot!("first_guide_body", loaded.bodies[i].html);
}

#[test]
fn sidebar_snapshot() {
    let loaded = docsite::build::load(&fixture("basic"), &Default::default()).unwrap();
    let i = loaded
        .site
        .pages
        .iter()
        .position(|p| p.page.source.rel == "guides/first.md")
        .unwrap();
    let (s, c) = loaded.site.sidebar_key(i);
    let nav = serde_json::to_string_pretty(&loaded.site.sidebar(s, c)).unwrap();
    insta::assert_snapshot!("first_guide_sidebar", nav);
}

#[test]
fn base_url_with_a_path_prefixes_every_internal_url() {
    let out = tempfile::tempdir().unwrap();
    build(&BuildOptions {
        root: fixture("basic"),
        out: Some(out.path().join("p")),
        base_url: Some("https://example.org/handbook/".into()),
        ..Default::default()
    })
    .unwrap();
    let first = std::fs::read_to_string(out.path().join("p/guides/first/index.html")).unwrap();
    for needle in [
        "href=\"/handbook/guides/second/#details\"",
        "src=\"/handbook/assets/flow.",
        "src=\"/handbook/assets/logo.",
        "href=\"/handbook/guides/second/\"",
        "href=\"https://example.org/handbook/guides/first/\"",
        "/handbook/docsite.css?v=",
    ] {
        assert!(first.contains(needle), "missing {needle}");
    }
    // No internal link escapes the base path.
    for cap in first.split("href=\"/").skip(1) {
        assert!(
            cap.starts_with("handbook/"),
            "unprefixed link: /{}",
            &cap[..40.min(cap.len())]
        );
    }
}

#[test]
fn drafts_flag_includes_drafts() {
    let out = tempfile::tempdir().unwrap();
    build(&BuildOptions {
        root: fixture("basic"),
        out: Some(out.path().join("p")),
        drafts: true,
        ..Default::default()
    })
    .unwrap();
    assert!(out.path().join("p/guides/wip/index.html").is_file());
}

#[test]
fn bundled_content_builds_with_the_founding_guide_in_detail() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    build(&BuildOptions {
        root: root.to_path_buf(),
        out: Some(out.path().join("site")),
        ..Default::default()
    })
    .unwrap();
    let guide = out
        .path()
        .join("site/docs/vcs-integration/add-git-provider/azure-devops/index.html");
    let html = std::fs::read_to_string(&guide).unwrap();
    for id in [
        "prerequisites",
        "step-1---setting-up",
        "step-2---oauth-application-info",
        "step-21---register-an-application",
        "step-22---verify-setup",
        "step-3---confirm-and-add",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "heading id {id}");
        assert!(html.contains(&format!("href=\"#{id}\"")), "toc/anchor {id}");
    }
    for img in [
        "vcs-azure-step1",
        "vcs-azure-step2",
        "azure-register-application",
        "azure-created-application",
        "vcs-azure-step2-filled",
        "vcs-azure-step3-confirm",
        "vcs-azure-added",
    ] {
        // Each becomes a sized, responsive WebP named by content hash.
        let start = html
            .find(&format!("<img src=\"/assets/{img}."))
            .unwrap_or_else(|| panic!("image {img}"));
        let tag = &html[start..start + html[start..].find('>').unwrap()];
        for attr in [
            "srcset=\"",
            "sizes=\"",
            "width=\"",
            "height=\"",
            "decoding=\"async\"",
        ] {
            assert!(tag.contains(attr), "{img}: {attr} in {tag}");
        }
        let src = &tag["<img src=\"/".len()..];
        let src = &src[..src.find('"').unwrap()];
        let bytes = std::fs::read(out.path().join("site").join(src)).unwrap();
        assert_eq!(&bytes[8..12], b"WEBP", "{img} is a real WebP");
    }
    assert!(html.matches("<ol>").count() >= 3, "ordered lists");
    assert!(html.contains("<li>Go to <strong>Settings</strong>"));
    // The seed text is unchanged in content/.
    let seed = root.join("../shared/seed/azure-devops.md");
    if let Ok(seed) = std::fs::read_to_string(seed) {
        let ours = std::fs::read_to_string(
            root.join("content/docs/vcs-integration/add-git-provider/azure-devops.md"),
        )
        .unwrap();
        let body = |t: &str| t.splitn(3, "---\n").nth(2).unwrap_or("").to_string();
        assert_eq!(
            body(&ours),
            body(&seed),
            "the founding guide's text must stay unchanged"
        );
    }
}

#[test]
fn failed_build_leaves_previous_output_untouched() {
    let site = Site::new();
    site.write("content/a.md", "---\ntitle: A\n---\nHello\n");
    let out = site.root().join("public");
    site.build().unwrap();
    let before = std::fs::read_to_string(out.join("a/index.html")).unwrap();
    site.write(
        "content/a.md",
        "---\ntitle: A\n---\nChanged, with a [broken](./nope.md) link\n",
    );
    site.write("content/b.md", "---\ntitel: B\n---\n");
    let errs = site.build().unwrap_err();
    // Every problem in every file, not just the first: the broken link, the missing title, and
    // the near-miss key that explains it (a warning).
    assert_eq!(errs.0.len(), 3, "{errs:?}");
    assert_eq!(
        errs.0.iter().filter(|e| e.is_error()).count(),
        2,
        "{errs:?}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("a/index.html")).unwrap(),
        before
    );
    assert_no_staging_left(&site);
}

#[test]
fn a_problem_found_only_once_every_page_is_rendered_leaves_the_previous_site() {
    // A broken anchor is only known once every page is rendered: nothing may reach the output
    // before that, and nothing may be left beside it.
    let site = Site::new();
    site.write("content/a.md", "---\ntitle: A\n---\nSee [B](./b.md)\n");
    site.write("content/b.md", "---\ntitle: B\n---\n## Real\n");
    let out = site.root().join("public");
    site.build().unwrap();
    let before = std::fs::read_to_string(out.join("a/index.html")).unwrap();
    site.write("content/a.md", "---\ntitle: A\n---\nSee [B](./b.md#gone)\n");
    let errs = site.build().unwrap_err();
    assert_eq!(errs.0.len(), 1, "{errs:?}");
    assert_eq!(errs.0[0].kind.code(), "broken-anchor");
    assert_eq!(
        std::fs::read_to_string(out.join("a/index.html")).unwrap(),
        before
    );
    assert_no_staging_left(&site);
}

/// No temporary folder is left beside the output.
fn assert_no_staging_left(site: &Site) {
    let names: Vec<String> = std::fs::read_dir(site.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
}

#[test]
fn a_frontmatter_image_problem_made_a_warning_still_publishes_the_page() {
    let site = Site::new();
    site.write(
        "docsite.toml",
        "[check.severity]\n\"missing-image\" = \"warning\"\n",
    );
    site.write(
        "content/a.md",
        "---\ntitle: A\nimage: nowhere.png\n---\nText\n",
    );
    let summary = site.build().unwrap();
    assert_eq!(summary.warnings.len(), 1, "{:?}", summary.warnings);
    let html = std::fs::read_to_string(site.root().join("public/a/index.html")).unwrap();
    assert!(html.contains("<h1"), "{html}");
}

#[test]
fn invalid_utf8_names_file_and_offset() {
    let site = Site::new();
    site.write_bytes("content/a.md", b"---\ntitle: A\n---\nbad \xff\n");
    let e = site.single_error();
    assert_eq!(e.kind, ErrorKind::InvalidUtf8 { offset: 21 });
    assert_eq!(e.location.path, Path::new("content/a.md"));
    assert_eq!(e.location.line, 4);
}

#[test]
fn bom_and_crlf_are_accepted() {
    let site = Site::new();
    site.write_bytes(
        "content/a.md",
        b"\xef\xbb\xbf---\r\ntitle: A\r\n---\r\n\r\n## Hi there\r\n\r\ntext\r\n",
    );
    site.build().unwrap();
    let html = site.read_out("a/index.html");
    assert!(html.contains("id=\"hi-there\""));
}

#[test]
fn empty_file_is_missing_its_title() {
    let site = Site::new();
    site.write("content/a.md", "");
    assert_eq!(site.single_error().kind, ErrorKind::MissingTitle);
}

#[test]
fn unclosed_frontmatter() {
    let site = Site::new();
    site.write("content/a.md", "---\ntitle: A\n\n# Body\n");
    let e = site.single_error();
    assert_eq!(e.kind, ErrorKind::UnclosedFrontmatter { delimiter: "---" });
    assert_eq!(e.location.line, 1);
}

#[test]
fn yaml_and_toml_errors_are_at_the_files_line() {
    let site = Site::new();
    site.write("content/a.md", "---\ntitle: A\ndescription: [oops\n---\n");
    let e = site.single_error();
    assert_eq!(e.kind.code(), "frontmatter");
    assert!(e.location.line >= 3, "{e:?}");
    let site = Site::new();
    site.write("content/a.md", "+++\ntitle = \"A\"\nweight = \n+++\n");
    let e = site.single_error();
    assert_eq!(e.location.line, 3, "{e:?}");
}

#[test]
fn duplicate_urls_name_both_files() {
    let site = Site::new();
    site.write("content/a.md", "---\ntitle: A\n---\n");
    site.write("content/b.md", "---\ntitle: B\nslug: a\n---\n");
    let e = site.single_error();
    let text = e.to_string();
    assert!(
        text.contains("content/a.md") && text.contains("content/b.md"),
        "{text}"
    );
}

#[test]
fn template_error_names_template_line_and_variable() {
    let site = Site::new();
    site.write("content/a.md", "---\ntitle: A\n---\n");
    site.write(
        "templates/page.html",
        "{% extends \"base.html\" %}\n{% block content %}\n<p>{{ page.nope_missing }}</p>\n{% endblock content %}\n",
    );
    let e = site.single_error();
    assert_eq!(e.kind.code(), "template");
    assert_eq!(e.location.path, Path::new("templates/page.html"));
    assert_eq!(e.location.line, 3);
    assert!(e.to_string().contains("nope_missing"), "{e}");
}

#[test]
fn output_inside_content_or_equal_to_root_is_refused() {
    let site = Site::new();
    site.write("content/a.md", "---\ntitle: A\n---\n");
    for out in [
        site.root().join("content/public"),
        site.root().to_path_buf(),
    ] {
        let errs = build(&BuildOptions {
            root: site.root().to_path_buf(),
            out: Some(out),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(errs.0[0].kind.code(), "usage");
    }
    assert!(site.root().join("content/a.md").is_file(), "sources intact");
}

#[test]
fn unreadable_file_is_named() {
    let site = Site::new();
    site.write("content/a.md", "---\ntitle: A\n---\n");
    // Root can read anything, so a dangling link stands in for an unreadable file.
    std::os::unix::fs::symlink(
        site.root().join("nowhere.md"),
        site.root().join("content/b.md"),
    )
    .unwrap();
    let e = site.single_error();
    assert_eq!(e.kind.code(), "io");
    assert!(e.location.path.ends_with("content/b.md"), "{e:?}");
}

#[test]
fn file_gone_before_it_is_read_is_an_error_not_a_panic() {
    let root = tempfile::tempdir().unwrap();
    let errs = docsite::content::load_page(
        "gone.md",
        &root.path().join("content/gone.md"),
        Path::new("content/gone.md"),
        false,
    )
    .unwrap_err();
    assert_eq!(errs[0].kind.code(), "io");
    assert_eq!(errs[0].location.path, Path::new("content/gone.md"));
}

#[test]
fn symlink_loop_is_reported() {
    let site = Site::new();
    site.write("content/docs/a.md", "---\ntitle: A\n---\n");
    std::os::unix::fs::symlink(
        site.root().join("content"),
        site.root().join("content/docs/loop"),
    )
    .unwrap();
    let errs = site.build().unwrap_err();
    assert!(
        errs.0
            .iter()
            .any(|e| matches!(e.kind, ErrorKind::SymlinkLoop { .. })),
        "{errs:?}"
    );
}

#[test]
fn huge_page_and_deep_nesting_build() {
    let site = Site::new();
    let mut big = String::from("---\ntitle: Big\n---\n");
    let block = "## Section heading\n\nSome *text* with a [link](https://example.org) and `code`.\n\n- item one\n- item two\n\n";
    while big.len() < 50 * 1024 * 1024 {
        big.push_str(block);
    }
    site.write("content/big.md", &big);
    let mut deep = String::from("---\ntitle: Deep\n---\n");
    for i in 0..10_000 {
        deep.push_str(&"  ".repeat(i));
        deep.push_str("- x\n");
    }
    deep.push_str(&"> ".repeat(10_000));
    deep.push_str("quote\n");
    site.write("content/deep.md", &deep);
    site.build().unwrap();
    assert!(site.read_out("big/index.html").len() > 50 * 1024 * 1024);
}

#[test]
fn init_creates_a_site_that_builds() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("new-site");
    docsite::init::init(&root).unwrap();
    for f in ["docsite.toml", ".gitignore", "content/_index.md"] {
        assert!(root.join(f).is_file(), "{f}");
    }
    build(&BuildOptions {
        root: root.clone(),
        ..Default::default()
    })
    .unwrap();
    assert!(root.join("public/index.html").is_file());
    // A second init refuses to overwrite.
    assert!(docsite::init::init(&root).is_err());
}

#[test]
fn config_unknown_key_is_an_error_with_suggestion() {
    let site = Site::new();
    site.write("docsite.toml", "title = \"x\"\ntitel = \"y\"\n");
    site.write("content/a.md", "---\ntitle: A\n---\n");
    let e = site.single_error();
    assert_eq!(e.location.line, 2);
    assert_eq!(e.kind.hint().unwrap(), "did you mean `title`?");
}

#[test]
fn theme_file_copied_unchanged_into_static_publishes_the_minified_builtin() {
    let site = Site::new();
    site.write("content/index.md", "---\ntitle: Home\n---\nHello.\n");
    let source =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("static/docsite.css")).unwrap();
    site.write_bytes("static/docsite.css", &source);
    site.write("static/docsite.js", "// my own script\nconsole.log(1);\n");
    site.build().unwrap();
    let css = site.read_out("docsite.css");
    let builtin = docsite::theme::builtin_static()
        .iter()
        .find(|(name, _)| *name == "docsite.css")
        .unwrap();
    assert_eq!(
        css.as_bytes(),
        builtin.1.as_slice(),
        "the minified built-in"
    );
    assert!(css.len() < source.len(), "smaller than the copy in static/");
    assert_eq!(
        site.read_out("docsite.js"),
        "// my own script\nconsole.log(1);\n",
        "a site's own theme file is published as written"
    );
}

/// The line for `word` in the search shard the browser would fetch for it, if any.
fn search_line(site: &Site, word: &str) -> Option<String> {
    let shard = common::search_shard(&site.read_out("search/meta.json"), word);
    site.read_out(&shard)
        .lines()
        .find(|l| l.split(' ').next() == Some(word))
        .map(str::to_string)
}

#[test]
fn search_leaves_out_pages_marked_search_false_hidden_or_draft() {
    let site = Site::new();
    site.write("content/a.md", "---\ntitle: Visible\n---\nPublic quokka.\n");
    site.write(
        "content/b.md",
        "---\ntitle: Quiet\nsearch: false\n---\nSecret wombat.\n",
    );
    site.write(
        "content/c.md",
        "---\ntitle: Hidden\nhide: true\n---\nHidden numbat.\n",
    );
    site.write(
        "content/d.md",
        "---\ntitle: Draft\ndraft: true\n---\nDraft bilby.\n",
    );
    site.build().unwrap();
    assert!(search_line(&site, "quokka").is_some());
    for word in ["wombat", "quiet", "numbat", "bilby"] {
        assert_eq!(search_line(&site, word), None, "{word} is indexed");
    }
    // The page itself is still built.
    assert!(site.read_out("b/index.html").contains("Secret wombat."));
}

#[test]
fn a_broken_escape_before_a_multibyte_letter_is_a_finding_not_a_panic() {
    let site = common::Site::new();
    site.write("content/a.md", "---\ntitle: A\n---\n[x](%aé.md)\n");
    let errors = site.build().expect_err("a link to nothing").0;
    assert!(
        errors
            .iter()
            .any(|e| e.kind.code() == "broken-link" && e.location.line == 4),
        "{errors:#?}"
    );
}

#[test]
fn canonical_and_og_url_only_with_an_absolute_base_url() {
    let site = Site::new();
    site.write("content/a.md", "---\ntitle: A\naliases: [/old/]\n---\nA.\n");
    site.build().unwrap();
    let html = site.read_out("a/index.html");
    assert!(
        !html.contains("rel=\"canonical\""),
        "a relative canonical is invalid"
    );
    assert!(!html.contains("og:url"));
    assert!(!site.read_out("old/index.html").contains("canonical"));
    site.write("docsite.toml", "base_url = \"https://example.org/docs/\"\n");
    site.build().unwrap();
    let html = site.read_out("a/index.html");
    assert!(html.contains("<link rel=\"canonical\" href=\"https://example.org/docs/a/\">"));
    assert!(html.contains("<meta property=\"og:url\" content=\"https://example.org/docs/a/\">"));
    assert!(
        site.read_out("old/index.html")
            .contains("<link rel=\"canonical\" href=\"https://example.org/docs/a/\">")
    );
}

#[test]
fn a_page_without_description_gets_its_first_paragraph_cut_near_160() {
    let site = Site::new();
    let long = "docsite turns Markdown into a site. ".repeat(8);
    site.write(
        "content/a.md",
        "---\ntitle: A\n---\n> [!NOTE]\n> Not this.\n\nInstall the **cli** first.\n\nNot this.\n",
    );
    site.write("content/b.md", &format!("---\ntitle: B\n---\n{long}\n"));
    site.write(
        "content/c.md",
        "---\ntitle: C\ndescription: Own words.\n---\nBody.\n",
    );
    site.write("content/d.md", "---\ntitle: D\n---\n```\ncode only\n```\n");
    site.build().unwrap();
    let a = site.read_out("a/index.html");
    assert!(
        a.contains("<meta name=\"description\" content=\"Install the cli first.\">"),
        "{a}"
    );
    assert!(a.contains("<meta property=\"og:description\" content=\"Install the cli first.\">"));
    let b = site.read_out("b/index.html");
    let start = b.find("<meta name=\"description\" content=\"").unwrap() + 34;
    let description = &b[start..start + b[start..].find('"').unwrap()];
    assert!(
        description.ends_with("a site. docsite turns…"),
        "cut at a word: {description}"
    );
    assert!(
        (140..=161).contains(&description.chars().count()),
        "{description}"
    );
    assert!(
        site.read_out("c/index.html")
            .contains("content=\"Own words.\"")
    );
    assert!(
        !site
            .read_out("d/index.html")
            .contains("name=\"description\"")
    );
}
