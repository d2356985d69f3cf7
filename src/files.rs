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

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// Temporary files that exist now, for a signal handler to remove.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A temporary file path, registered while it lives and removed on drop.
#[derive(Debug)]
pub struct TempFile(PathBuf);

impl TempFile {
    /// Register `path` (not created here) as temporary.
    pub fn register(path: PathBuf) -> TempFile {
        if let Ok(mut l) = LIVE.lock() {
            l.push(path.clone());
        }
        TempFile(path)
    }

    /// A fresh path in the system's temp folder: `{stem}-{pid}-{n}.{ext}`.
    pub fn in_temp_dir(stem: &str, ext: &str) -> TempFile {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        TempFile::register(std::env::temp_dir().join(format!(
            "{stem}-{}-{}.{ext}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
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

fn unregister(path: &Path) {
    if let Ok(mut l) = LIVE.lock() {
        l.retain(|p| p != path);
    }
}

/// Remove every registered temporary file (from a signal handler's thread,
/// just before the process exits).
pub fn remove_all_temporary() {
    // A handler may run while another thread holds the lock mid-update:
    // take what is there rather than wait.
    let paths = match LIVE.try_lock() {
        Ok(mut l) => std::mem::take(&mut *l),
        Err(std::sync::TryLockError::Poisoned(p)) => std::mem::take(&mut *p.into_inner()),
        Err(std::sync::TryLockError::WouldBlock) => {
            std::thread::sleep(std::time::Duration::from_millis(50));
            LIVE.try_lock()
                .map(|mut l| std::mem::take(&mut *l))
                .unwrap_or_default()
        }
    };
    for p in paths {
        let _ = std::fs::remove_file(p);
    }
}

/// Write `bytes` to `path` atomically: to a temporary file beside it, then
/// renamed over it. On any failure the old file is untouched and the
/// temporary file is gone.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let err = |source: std::io::Error| Error::Write {
        path: path.into(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| err(std::io::Error::other("not a file name")))?;
    let tmp = TempFile::register(dir.join(format!(
        ".{}.{}.skewer-tmp",
        name.to_string_lossy(),
        std::process::id()
    )));
    let mut f = std::fs::File::create(tmp.path()).map_err(err)?;
    f.write_all(bytes).map_err(err)?;
    f.sync_all().map_err(err)?;
    drop(f);
    std::fs::rename(tmp.path(), path).map_err(err)?;
    tmp.keep();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_and_temporary_files_leave_nothing_behind() {
        let dir = std::env::temp_dir().join(format!("skewer-files-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("out.json");
        std::fs::write(&target, "old").unwrap();
        write_atomic(&target, b"new contents").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new contents");
        // A failed write (a folder in the way) keeps nothing and reports the path.
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

        // What a signal handler does (in the same test: it removes every
        // registered file of the process).
        let t = TempFile::in_temp_dir("skewer-files-test", "tmp");
        std::fs::write(t.path(), "x").unwrap();
        let p = t.path().to_path_buf();
        std::mem::forget(t); // as if the process were interrupted
        remove_all_temporary();
        assert!(!p.exists());
    }
}
