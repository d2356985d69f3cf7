//! Files skewer writes: outputs replaced atomically, and temporary files
//! that are removed on every exit path.
//!
//! An output (`-o profile.json`, a schema, a comparison) is written to a
//! temporary file in the same folder and renamed over the target once it is
//! complete and flushed, so a reader (or the next night's job) sees the old
//! file or the new one, never half of one. Every temporary file skewer makes
//! (those, the spool of standard input, the synthetic bench file) is
//! registered here while it exists; a program that handles SIGINT/SIGTERM
//! calls [`remove_all_temporary`] before it exits, and [`TempFile`]'s `Drop`
//! covers returns and errors.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// Temporary files that exist now, for a signal handler to remove.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// Set when the process is stopping: no temporary file is created after.
static CLOSING: AtomicBool = AtomicBool::new(false);

/// A temporary file, registered while it lives and removed on drop.
#[derive(Debug)]
pub struct TempFile(PathBuf);

impl TempFile {
    /// Create `path` (which must not exist) for writing, as a temporary
    /// file. It is created and registered under one lock, which the
    /// interrupt handler takes for good before it removes the registered
    /// files, so no temporary file can appear after that sweep.
    pub fn create(path: PathBuf) -> std::io::Result<(TempFile, File)> {
        let mut live = LIVE.lock().unwrap_or_else(|p| p.into_inner());
        if CLOSING.load(Ordering::SeqCst) {
            return Err(std::io::Error::other("skewer is stopping"));
        }
        let f = File::options().write(true).create_new(true).open(&path)?;
        live.push(path.clone());
        Ok((TempFile(path), f))
    }

    /// A new temporary file in the system's temp folder:
    /// `{stem}-{pid}-{n}.{ext}`.
    pub fn create_in_temp_dir(stem: &str, ext: &str) -> std::io::Result<(TempFile, File)> {
        TempFile::create(std::env::temp_dir().join(format!(
            "{stem}-{}-{}.{ext}",
            std::process::id(),
            next()
        )))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Stop tracking the path (it was renamed into place).
    fn keep(self) {
        unregister(&self.0);
        std::mem::forget(self);
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        unregister(&self.0);
    }
}

fn next() -> u64 {
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn unregister(path: &Path) {
    if let Ok(mut l) = LIVE.lock() {
        l.retain(|p| p != path);
    }
}

/// Remove every registered temporary file, for a process about to exit (an
/// interrupt handler's thread): waits for the registry, removes what it
/// lists, and keeps it locked so that no thread creates another before the
/// exit.
pub fn remove_all_temporary() {
    CLOSING.store(true, Ordering::SeqCst);
    let live = LIVE.lock().unwrap_or_else(|p| p.into_inner());
    for p in live.iter() {
        let _ = std::fs::remove_file(p);
    }
    std::mem::forget(live);
}

/// Whether the process is stopping (an interrupt handler is removing the
/// temporary files): an error now may be the interrupt's doing (a file
/// removed under a read), not the input's.
pub fn is_stopping() -> bool {
    CLOSING.load(Ordering::SeqCst)
}

/// [`remove_all_temporary`] for the out-of-memory exit, which may run on a
/// thread that holds the registry already: it does not wait.
pub fn remove_all_temporary_now() {
    CLOSING.store(true, Ordering::SeqCst);
    if let Ok(live) = LIVE.try_lock() {
        for p in live.iter() {
            let _ = std::fs::remove_file(p);
        }
        std::mem::forget(live);
    }
}

/// Write `bytes` to `path` atomically: to a temporary file beside it, then
/// renamed over it, keeping an existing file's permissions. On any failure
/// the old file is untouched and the temporary file is gone. A symbolic
/// link is followed (its target is replaced, not the link); a target that
/// is not a regular file (`/dev/null`, a pipe) is written in place. `-`
/// is standard output (a closed pipe there ends quietly, as `… | head`).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if is_stdout(path) {
        return to_stdout(|o| o.write_all(bytes));
    }
    let (out, mut f) = AtomicOutput::create(path)?;
    f.write_all(bytes).map_err(|e| out.err(e))?;
    out.commit(f)
}

/// Copy a file (a spooled output) to standard output.
pub fn print_file(path: &Path) -> Result<()> {
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    to_stdout(|o| std::io::copy(&mut f, o).map(drop))
}

/// Write to standard output with `write`; a closed pipe there ends
/// quietly (as `… | head`), any other failure is an error naming `-`.
fn to_stdout(write: impl FnOnce(&mut std::io::StdoutLock) -> std::io::Result<()>) -> Result<()> {
    let mut o = std::io::stdout().lock();
    match write(&mut o).and_then(|()| o.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Write {
            path: "-".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// `-`: an output that goes to standard output.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// An output written as a stream and put in place atomically, as
/// [`write_atomic`] does for bytes in memory: [`AtomicOutput::create`] gives
/// the file to write (a temporary file beside the target), and
/// [`AtomicOutput::commit`] syncs it and renames it over the target. Dropped
/// without a commit (an error on the way), the temporary file is removed and
/// the target is untouched.
#[derive(Debug)]
pub struct AtomicOutput {
    /// What the user named (for messages).
    path: PathBuf,
    /// The file replaced (a symbolic link's target).
    target: PathBuf,
    /// None when the target is not a regular file and is written in place.
    tmp: Option<TempFile>,
    existing: Option<std::fs::Metadata>,
}

impl AtomicOutput {
    /// Start writing `path`; the file returned is where the bytes go.
    pub fn create(path: &Path) -> Result<(AtomicOutput, File)> {
        let err = |source: std::io::Error| Error::Write {
            path: path.into(),
            source,
        };
        let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        let target = if is_link {
            std::fs::canonicalize(path).map_err(err)?
        } else {
            path.to_path_buf()
        };
        let existing = std::fs::metadata(&target).ok();
        let mut out = AtomicOutput {
            path: path.into(),
            target: target.clone(),
            tmp: None,
            existing,
        };
        if out.existing.as_ref().is_some_and(|m| !m.is_file()) {
            let f = File::options()
                .write(true)
                .truncate(true)
                .open(&target)
                .map_err(err)?;
            return Ok((out, f));
        }
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = target
            .file_name()
            .ok_or_else(|| err(std::io::Error::other("not a file name")))?;
        let (tmp, f) = TempFile::create(dir.join(format!(
            ".{}.{}-{}.skewer-tmp",
            name.to_string_lossy(),
            std::process::id(),
            next()
        )))
        .map_err(err)?;
        out.tmp = Some(tmp);
        Ok((out, f))
    }

    /// The error of a failed write, naming the output.
    pub fn err(&self, source: std::io::Error) -> Error {
        Error::Write {
            path: self.path.clone(),
            source,
        }
    }

    /// The file `f` (from [`AtomicOutput::create`]) is complete: flush it to
    /// disk and rename it over the target.
    pub fn commit(mut self, f: File) -> Result<()> {
        let Some(tmp) = self.tmp.take() else {
            return Ok(());
        };
        if let Some(m) = &self.existing {
            f.set_permissions(m.permissions())
                .map_err(|e| self.err(e))?;
        }
        f.sync_all().map_err(|e| self.err(e))?;
        drop(f);
        std::fs::rename(tmp.path(), &self.target).map_err(|e| self.err(e))?;
        tmp.keep();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_leave_nothing_behind_and_respect_what_is_there() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("skewer-files-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("out.json");
        std::fs::write(&target, "old").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&target, b"new contents").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new contents");
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        // Through a symbolic link: the link stays, its target is replaced.
        let link = dir.join("link.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomic(&link, b"via link").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "via link");
        // A device is written in place, never replaced.
        write_atomic(Path::new("/dev/null"), b"x").unwrap();
        assert!(!std::fs::metadata("/dev/null").unwrap().is_file());
        // A failed write (a folder in the way) keeps nothing and names the path.
        let blocked = dir.join("sub");
        std::fs::create_dir_all(blocked.join("x")).unwrap();
        let e = write_atomic(&blocked, b"x").unwrap_err();
        assert!(e.to_string().contains("sub"), "{e}");
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(left.iter().all(|n| !n.contains("skewer-tmp")), "{left:?}");
        assert!(LIVE.lock().unwrap().iter().all(|p| !p.starts_with(&dir)));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
