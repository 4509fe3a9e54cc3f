//! `docsite init`: a new site that builds at once.

use std::path::Path;

use crate::error::{Error, ErrorKind, Location};

const FILES: &[(&str, &str)] = &[
    (
        "docsite.toml",
        "# Every key is optional; see the configuration reference.\ntitle = \"My docs\"\ndescription = \"Documentation built with docsite.\"\nbase_url = \"/\"\n",
    ),
    (".gitignore", "/public/\n/.docsite-cache/\n"),
    (
        "content/_index.md",
        "---\ntitle: My docs\ndescription: Documentation built with docsite.\n---\n\nWelcome! Start with the [first guide](./guides/first-guide.md).\n",
    ),
    (
        "content/guides/_index.md",
        "---\ntitle: Guides\ndescription: Step-by-step guides.\nweight: 10\n---\n\nGuides, one task each.\n",
    ),
    (
        "content/guides/first-guide.md",
        "---\ntitle: Your first guide\ndescription: What a docsite page can do.\nweight: 10\n---\n\n## Write\n\nEdit `content/guides/first-guide.md` and run `docsite serve` to see it live.\n\n> [!TIP]\n> Links to other pages use their `.md` path: [back home](../_index.md).\n\n## Build\n\n```sh\ndocsite build\n```\n\nThe site is written to `public/`.\n",
    ),
];

/// Creates a new site in `dir` (which may exist but must not already hold a site).
pub fn init(dir: &Path) -> Result<Vec<String>, Error> {
    for (rel, _) in FILES {
        let path = dir.join(rel);
        if path.exists() {
            return Err(Error::new(
                ErrorKind::AlreadyExists {
                    path: path.display().to_string(),
                },
                Location::file(&path),
            ));
        }
    }
    let mut written = Vec::new();
    for (rel, text) in FILES {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io("creating", parent, &e))?;
        }
        std::fs::write(&path, text).map_err(|e| Error::io("writing", &path, &e))?;
        written.push(rel.to_string());
    }
    Ok(written)
}
