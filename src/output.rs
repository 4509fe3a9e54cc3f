//! Writing the site, all or nothing: everything goes to a temporary folder beside the target,
//! which replaces the target only once the whole build has succeeded. A failed or interrupted
//! build leaves the previous site as it was.

use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Location};

/// Where a rendered site goes: a folder (through [`Staging`]) or memory (the preview server).
pub trait Sink: Sync {
    /// Stores one file at `rel` (a `/`-separated path).
    fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), Error>;
    /// Stores a copy of the file at `from` (`display` is its path for messages).
    fn copy(&self, rel: &str, from: &Path, display: &Path) -> Result<(), Error>;
}

impl Sink for Staging {
    fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), Error> {
        Staging::write(self, rel, bytes)
    }
    fn copy(&self, rel: &str, from: &Path, display: &Path) -> Result<(), Error> {
        Staging::copy(self, rel, from, display)
    }
}

/// A site kept in memory, by output path.
#[derive(Debug, Default)]
pub struct Memory {
    files: std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<[u8]>>>,
}

impl Memory {
    /// The files, by output path (`docs/a/index.html`).
    pub fn into_files(self) -> std::collections::HashMap<String, std::sync::Arc<[u8]>> {
        self.files.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

impl Sink for Memory {
    fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), Error> {
        if let Ok(mut files) = self.files.lock() {
            files.insert(rel.to_string(), bytes.into());
        }
        Ok(())
    }
    fn copy(&self, rel: &str, from: &Path, display: &Path) -> Result<(), Error> {
        let bytes = std::fs::read(from).map_err(|e| Error::io("reading", display, &e))?;
        self.write(rel, &bytes)
    }
}

/// A site being written.
#[derive(Debug)]
pub struct Staging {
    dir: tempfile::TempDir,
    target: PathBuf,
}

impl Staging {
    /// Creates the temporary folder beside `target`.
    pub fn new(target: &Path) -> Result<Staging, Error> {
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| Error::io("creating", &parent, &e))?;
        let name = target
            .file_name()
            .map_or_else(|| "site".into(), |n| n.to_string_lossy().into_owned());
        let dir = tempfile::Builder::new()
            .prefix(&format!(".{name}.tmp-"))
            .tempdir_in(&parent)
            .map_err(|e| Error::io("creating a temporary folder in", &parent, &e))?;
        Ok(Staging {
            dir,
            target: target.to_path_buf(),
        })
    }

    /// The temporary folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes one file at `rel` (a `/`-separated path) inside the staging folder.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), Error> {
        let path = self.dir.path().join(rel);
        if let Some(parent) = path.parent() {
            make_dir(parent)?;
        }
        std::fs::write(&path, bytes).map_err(|e| Error::io("writing", &path, &e))
    }

    /// Copies `from` to `rel` inside the staging folder (a hard link when possible).
    pub fn copy(&self, rel: &str, from: &Path, display: &Path) -> Result<(), Error> {
        let path = self.dir.path().join(rel);
        if let Some(parent) = path.parent() {
            make_dir(parent)?;
        }
        std::fs::copy(from, &path)
            .map(|_| ())
            .map_err(|e| Error::io("copying", display, &e))
    }

    /// Replaces the target with the staged site. The previous site is removed only after the
    /// new one is in place.
    pub fn commit(self) -> Result<(), Error> {
        let staged = self.dir.keep();
        let old = if self.target.exists() {
            let parent = staged.parent().unwrap_or(Path::new("."));
            let name = self
                .target
                .file_name()
                .map_or_else(|| "site".into(), |n| n.to_string_lossy().into_owned());
            let old = tempfile::Builder::new()
                .prefix(&format!(".{name}.old-"))
                .tempdir_in(parent)
                .map_err(|e| Error::io("creating a temporary folder in", parent, &e))?
                .keep();
            // rename() over a directory needs the destination gone; the empty placeholder goes.
            let _ = std::fs::remove_dir(&old);
            if let Err(e) = std::fs::rename(&self.target, &old) {
                let _ = std::fs::remove_dir_all(&staged);
                return Err(Error::io(
                    "moving the previous site aside",
                    &self.target,
                    &e,
                ));
            }
            Some(old)
        } else {
            None
        };
        if let Err(e) = std::fs::rename(&staged, &self.target) {
            if let Some(old) = &old {
                let _ = std::fs::rename(old, &self.target);
            }
            let _ = std::fs::remove_dir_all(&staged);
            return Err(Error::io(
                "moving the new site into place",
                &self.target,
                &e,
            ));
        }
        if let Some(old) = old {
            remove_dir_all_parallel(&old);
        }
        Ok(())
    }
}

/// Creates `dir` inside the staging folder. Most files go into a folder of their own (pretty
/// URLs), so one `mkdir` is tried first; `create_dir_all` (a `stat` per level) only when a parent
/// is missing too.
fn make_dir(dir: &Path) -> Result<(), Error> {
    match std::fs::create_dir(dir) {
        Ok(()) => Ok(()),
        // A file in the way fails the write that follows, with its path.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(_) => std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, &e)),
    }
}

/// Deletes a folder, its subfolders in parallel: removing the previous site is a large part of a
/// build's time on a big site. Entry types come from the directory listing, not a `stat` each.
fn remove_dir_all_parallel(dir: &Path) {
    use rayon::prelude::*;
    if let Ok(entries) = std::fs::read_dir(dir) {
        let entries: Vec<(PathBuf, bool)> = entries
            .filter_map(|e| {
                let e = e.ok()?;
                // A symlink is removed as a file, never followed.
                let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
                Some((e.path(), is_dir))
            })
            .collect();
        entries.par_iter().for_each(|(p, is_dir)| {
            if *is_dir {
                remove_dir_all_parallel(p);
            } else {
                let _ = std::fs::remove_file(p);
            }
        });
    }
    let _ = std::fs::remove_dir(dir);
}

/// Refuses output folders that would overwrite or pollute the sources.
pub fn check_output_dir(
    root: &Path,
    out: &Path,
    guarded: &[(&Path, &'static str)],
) -> Result<(), Error> {
    let canon = |p: &Path| -> PathBuf {
        // The output may not exist yet: canonicalise its nearest existing ancestor.
        let mut existing = p.to_path_buf();
        let mut rest = Vec::new();
        while !existing.exists() {
            match (existing.file_name(), existing.parent()) {
                (Some(name), Some(parent)) => {
                    rest.push(name.to_owned());
                    existing = parent.to_path_buf();
                }
                _ => break,
            }
        }
        let mut c = std::fs::canonicalize(&existing).unwrap_or(existing);
        for name in rest.into_iter().rev() {
            c.push(name);
        }
        c
    };
    let out_c = canon(out);
    let root_c = canon(root);
    let refuse = |why: &'static str| {
        Err(Error::new(
            ErrorKind::UnsafeOutput {
                out: out.display().to_string(),
                why,
            },
            Location::file(out),
        ))
    };
    if root_c.starts_with(&out_c) {
        return refuse("it is the site root or contains it, so the build would delete the sources");
    }
    for (dir, what) in guarded {
        let c = canon(dir);
        if out_c.starts_with(&c) || c.starts_with(&out_c) {
            return refuse(what);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_replaces_and_failure_keeps_previous() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("public");
        std::fs::create_dir_all(&target).unwrap();
        std::fs::write(target.join("old.html"), "old").unwrap();

        // A staging that is dropped without commit changes nothing.
        {
            let s = Staging::new(&target).unwrap();
            s.write("new.html", b"new").unwrap();
        }
        assert!(target.join("old.html").exists());
        assert!(!target.join("new.html").exists());

        let s = Staging::new(&target).unwrap();
        s.write("a/b/index.html", b"new").unwrap();
        s.commit().unwrap();
        assert!(!target.join("old.html").exists());
        assert_eq!(
            std::fs::read_to_string(target.join("a/b/index.html")).unwrap(),
            "new"
        );
        // No temporary folders are left behind.
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
    }

    #[test]
    fn output_in_content_or_root_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let content = root.join("content");
        std::fs::create_dir_all(&content).unwrap();
        let guarded = [(content.as_path(), "it is inside content/")];
        assert!(check_output_dir(root, &content.join("out"), &guarded).is_err());
        assert!(check_output_dir(root, root, &guarded).is_err());
        assert!(check_output_dir(root, &root.join("public"), &guarded).is_ok());
    }
}
