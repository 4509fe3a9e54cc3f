//! Writing the site, all or nothing: everything goes to a temporary folder beside the target,
//! which replaces the target only once the whole build has succeeded. A failed or interrupted
//! build leaves the previous site as it was.
//!
//! A file that comes out exactly as the previous site has it is hard-linked from there instead
//! of written: a rebuild then allocates no new file pages, and deleting the previous site after
//! the swap frees none (on a 10,000-page site, writing and deleting were a fifth of the build's
//! CPU). Linking adds a name to the old file and never changes its bytes; nothing is ever written
//! through a linked file (see [`Staging::write`]).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Location};

/// Where a rendered site goes: a folder (through [`Staging`]) or memory (the preview server).
pub trait Sink: Sync {
    /// Stores one file at `rel` (a `/`-separated path).
    fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), Error>;
    /// Publishes the file at `from` as it is (`display` is its path for messages).
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

/// One file of a site kept in memory ([`Memory`]): bytes the build made, or a file published as
/// it is, left on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// Made by the build: a page, an index, a minified theme file.
    Bytes(std::sync::Arc<[u8]>),
    /// Published as it is (an image source, an encoded image in the cache, a static file):
    /// read when it is asked for, so a preview of a thousand screenshots does not hold them all.
    /// Its length and modification time make a changed file compare unequal.
    File {
        /// Where it is.
        path: PathBuf,
        /// Its length when it was stored.
        len: u64,
        /// Its modification time when it was stored.
        modified: Option<std::time::SystemTime>,
    },
}

impl Stored {
    /// The file at `path` as it is now; an error when it cannot be read.
    pub fn file(path: &Path) -> std::io::Result<Stored> {
        let meta = std::fs::metadata(path)?;
        if !meta.is_file() {
            return Err(std::io::Error::other("not a file"));
        }
        Ok(Stored::File {
            path: path.to_path_buf(),
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }

    /// Its bytes: a copy of the shared ones, or the file read now.
    pub fn read(&self) -> std::io::Result<Vec<u8>> {
        match self {
            Stored::Bytes(b) => Ok(b.to_vec()),
            Stored::File { path, .. } => std::fs::read(path),
        }
    }
}

impl From<Vec<u8>> for Stored {
    fn from(bytes: Vec<u8>) -> Stored {
        Stored::Bytes(bytes.into())
    }
}

/// A site kept in memory, by output path.
#[derive(Debug, Default)]
pub struct Memory {
    files: std::sync::Mutex<std::collections::HashMap<String, Stored>>,
}

impl Memory {
    /// The files, by output path (`docs/a/index.html`).
    pub fn into_files(self) -> std::collections::HashMap<String, Stored> {
        self.files.into_inner().unwrap_or_else(|e| e.into_inner())
    }

    fn store(&self, rel: &str, stored: Stored) {
        if let Ok(mut files) = self.files.lock() {
            files.insert(rel.to_string(), stored);
        }
    }
}

impl Sink for Memory {
    fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), Error> {
        self.store(rel, Stored::Bytes(bytes.into()));
        Ok(())
    }
    fn copy(&self, rel: &str, from: &Path, display: &Path) -> Result<(), Error> {
        let stored = Stored::file(from).map_err(|e| Error::io("reading", display, &e))?;
        self.store(rel, stored);
        Ok(())
    }
}

/// A site being written.
#[derive(Debug)]
pub struct Staging {
    dir: tempfile::TempDir,
    target: PathBuf,
    /// The site being replaced, when there is one: unchanged files are linked from it.
    previous: Option<PathBuf>,
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
            previous: target.is_dir().then(|| target.to_path_buf()),
        })
    }

    /// The temporary folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes one file at `rel` (a `/`-separated path) inside the staging folder, or links the
    /// previous site's file when it holds exactly `bytes`.
    ///
    /// The file is always created anew, never opened in place: a second write to the same path
    /// would otherwise write through a link into the previous site.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), Error> {
        let path = self.dir.path().join(rel);
        if let Some(parent) = path.parent() {
            make_dir(parent)?;
        }
        if let Some(previous) = &self.previous {
            let old = previous.join(rel);
            if holds(&old, bytes) && std::fs::hard_link(&old, &path).is_ok() {
                return Ok(());
            }
        }
        create_new(&path)
            .and_then(|mut f| f.write_all(bytes))
            .map_err(|e| Error::io("writing", &path, &e))
    }

    /// Copies `from` to `rel` inside the staging folder (into a new file, as
    /// [`Staging::write`]).
    pub fn copy(&self, rel: &str, from: &Path, display: &Path) -> Result<(), Error> {
        let path = self.dir.path().join(rel);
        if let Some(parent) = path.parent() {
            make_dir(parent)?;
        }
        // `fs::copy` truncates an existing file in place, which could be a link.
        if let Err(e) = std::fs::remove_file(&path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                return Err(Error::io("replacing", &path, &e));
            }
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

/// A new, empty file at `path`; one already there (the same path written twice) is unlinked
/// first rather than truncated, since it may be a link to the previous site.
fn create_new(path: &Path) -> std::io::Result<std::fs::File> {
    let open = || {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
    };
    match open() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(path)?;
            open()
        }
        other => other,
    }
}

/// Whether `path` is a regular file (not a symlink), with no other link to it, holding exactly
/// `bytes`. A file linked elsewhere too is not reused: whoever holds the other name could change
/// it in place. Any error is a "no": the caller writes the file instead.
#[cfg(unix)]
fn holds(path: &Path, bytes: &[u8]) -> bool {
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    // One `lstat` settles most changed files (their size differs) without opening them.
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return false;
    };
    if !meta.is_file() || meta.len() != bytes.len() as u64 || meta.nlink() != 1 {
        return false;
    }
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    // One byte more than expected shows a file that grew since the `lstat`.
    let mut old = Vec::with_capacity(bytes.len() + 1);
    file.take(bytes.len() as u64 + 1)
        .read_to_end(&mut old)
        .is_ok()
        && old == bytes
}

/// Elsewhere the link count cannot be checked: nothing is reused.
#[cfg(not(unix))]
fn holds(_path: &Path, _bytes: &[u8]) -> bool {
    false
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

    /// The preview keeps what it publishes as it is on disk, not in memory; a changed file
    /// compares unequal, and a missing one is an error naming it.
    #[test]
    fn memory_keeps_copies_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let shot = dir.path().join("shot.webp");
        std::fs::write(&shot, b"first").unwrap();
        let memory = Memory::default();
        memory.write("a/index.html", b"<p>a</p>").unwrap();
        memory
            .copy("assets/shot.webp", &shot, Path::new("content/shot.webp"))
            .unwrap();
        let gone = memory.copy(
            "x.png",
            &dir.path().join("x.png"),
            Path::new("content/x.png"),
        );
        assert!(gone.unwrap_err().to_string().contains("content/x.png"));
        let files = memory.into_files();
        assert_eq!(
            files["a/index.html"],
            Stored::Bytes(b"<p>a</p>".as_slice().into())
        );
        let stored = &files["assets/shot.webp"];
        assert!(matches!(stored, Stored::File { path, len: 5, .. } if *path == shot));
        assert_eq!(stored.read().unwrap(), b"first");
        std::fs::write(&shot, b"second!").unwrap();
        assert_ne!(
            stored,
            &Stored::file(&shot).unwrap(),
            "a changed file is another file"
        );
        std::fs::remove_file(&shot).unwrap();
        assert!(stored.read().is_err());
    }

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

    #[cfg(unix)]
    #[test]
    fn unchanged_files_are_linked_and_the_previous_site_never_written_through() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("public");
        std::fs::create_dir_all(target.join("a")).unwrap();
        for (name, text) in [
            ("same.html", "same"),
            ("twice.html", "twice"),
            ("changed.html", "old"),
            ("shared.html", "shared"),
            ("a/index.html", "nested"),
        ] {
            std::fs::write(target.join(name), text).unwrap();
        }
        // Linked from somewhere else too: whoever holds that name could change it in place.
        std::fs::hard_link(target.join("shared.html"), dir.path().join("elsewhere")).unwrap();
        std::os::unix::fs::symlink(target.join("same.html"), target.join("link.html")).unwrap();
        let ino = |p: &Path| std::fs::symlink_metadata(p).unwrap().ino();

        let s = Staging::new(&target).unwrap();
        for (name, text) in [
            ("same.html", "same"),
            ("twice.html", "twice"),
            ("changed.html", "new"),
            ("shared.html", "shared"),
            ("link.html", "same"),
            ("a/index.html", "nested"),
        ] {
            s.write(name, text.as_bytes()).unwrap();
        }
        let staged = s.path().to_path_buf();
        assert_eq!(
            ino(&staged.join("same.html")),
            ino(&target.join("same.html"))
        );
        assert_eq!(
            ino(&staged.join("a/index.html")),
            ino(&target.join("a/index.html"))
        );
        assert_ne!(
            ino(&staged.join("changed.html")),
            ino(&target.join("changed.html"))
        );
        assert_ne!(
            ino(&staged.join("shared.html")),
            ino(&target.join("shared.html"))
        );
        assert!(
            std::fs::symlink_metadata(staged.join("link.html"))
                .unwrap()
                .is_file()
        );
        // A second write to a linked path makes a new file: the previous site keeps its bytes.
        s.write("twice.html", b"again").unwrap();
        s.copy("same.html", &target.join("changed.html"), Path::new("x"))
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(target.join("twice.html")).unwrap(),
            "twice"
        );
        assert_eq!(
            std::fs::read_to_string(target.join("same.html")).unwrap(),
            "same"
        );
        assert_eq!(
            std::fs::read_to_string(staged.join("same.html")).unwrap(),
            "old"
        );
        drop(s);
        assert_eq!(
            std::fs::read_to_string(target.join("changed.html")).unwrap(),
            "old"
        );

        let s = Staging::new(&target).unwrap();
        s.write("same.html", b"same").unwrap();
        s.write("changed.html", b"new").unwrap();
        s.commit().unwrap();
        assert_eq!(
            std::fs::read_to_string(target.join("same.html")).unwrap(),
            "same"
        );
        assert_eq!(
            std::fs::read_to_string(target.join("changed.html")).unwrap(),
            "new"
        );
        assert!(!target.join("twice.html").exists());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            2,
            "public and elsewhere"
        );
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
