//! The content-addressed store of encoded outputs (`.docsite-cache/images/`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The content-addressed store of encoded outputs.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

/// Entries used less than this long ago are not touched again (saves a write per hit).
const TOUCH_AFTER: Duration = Duration::from_secs(24 * 3600);

impl Cache {
    /// The cache under the site's cache folder (`.docsite-cache/images`).
    pub fn new(cache_root: &Path) -> Cache {
        Cache {
            dir: cache_root.join("images"),
        }
    }

    /// Where an entry lives.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Whether an entry exists; marks it as used for pruning.
    pub(super) fn hit(&self, name: &str) -> bool {
        let path = self.path(name);
        let Ok(meta) = std::fs::metadata(&path) else {
            return false;
        };
        let stale = meta
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_none_or(|age| age > TOUCH_AFTER);
        if stale {
            // Only for pruning: a failure here costs a re-encode some day, nothing more.
            if let Ok(f) = std::fs::File::options().write(true).open(&path) {
                let _ = f.set_modified(SystemTime::now());
            }
        }
        true
    }

    /// Stores an entry atomically: a reader (or another build) sees all of it or nothing.
    pub(super) fn store(&self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        tmp.write_all(bytes)?;
        tmp.persist(self.path(name)).map_err(|e| e.error)?;
        Ok(())
    }

    /// Deletes entries no build has used for `max_age`; returns how many.
    pub fn prune(&self, max_age: Duration) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let old = entry
                .metadata()
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|m| m.elapsed().ok())
                .is_some_and(|age| age > max_age);
            if old && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        removed
    }
}

/// The cache entry of an output.
pub(super) fn cache_name(key: &str, resized: Option<u32>) -> String {
    match resized {
        None => format!("{key}.webp"),
        Some(w) => format!("{key}-{w}.webp"),
    }
}
