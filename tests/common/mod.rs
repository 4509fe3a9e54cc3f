//! Shared helpers for integration tests: fixture paths and throwaway sites.

#![allow(dead_code)]

pub mod images;

use std::path::{Path, PathBuf};

use docsite::{BuildOptions, BuildSummary, Error, Errors};

/// A fixture site under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A site in a temporary folder, written file by file by the test.
pub struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    pub fn new() -> Self {
        Site {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, text: &str) {
        self.write_bytes(rel, text.as_bytes());
    }

    pub fn write_bytes(&self, rel: &str, bytes: &[u8]) {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    pub fn build(&self) -> Result<BuildSummary, Errors> {
        docsite::build(&BuildOptions {
            root: self.root().to_path_buf(),
            ..Default::default()
        })
    }

    /// Builds, expecting exactly one problem, and returns it.
    pub fn single_error(&self) -> Error {
        let errs = self.build().expect_err("the build should fail");
        assert_eq!(errs.0.len(), 1, "expected one problem, got {errs:#?}");
        errs.0.into_iter().next().unwrap()
    }

    pub fn read_out(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root().join("public").join(rel)).unwrap()
    }
}

/// The search shard the browser fetches for `word`, given the index's `meta.json`: the one of
/// the longest listed prefix (`search/t/x<hex>.txt`, relative to the site).
pub fn search_shard(meta: &str, word: &str) -> String {
    let meta: serde_json::Value = serde_json::from_str(meta).expect("meta.json is JSON");
    let listed: Vec<&str> = meta["shards"]
        .as_array()
        .expect("meta.json lists the shards")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    let name = (0..=word.len())
        .rev()
        .filter(|&n| word.is_char_boundary(n))
        .map(|n| docsite::search::hex(&word[..n]))
        .find(|h| listed.contains(&h.as_str()))
        .unwrap_or_default();
    format!("search/t/x{name}.txt")
}
