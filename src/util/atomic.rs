//! Crash-safe, private file writes: every file lands atomically (temp file in
//! the same directory, fsync, rename, fsync the directory) with mode 0600, and
//! directories are created with mode 0700, because the data is health data.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

/// Permission bits for every file this module creates (owner read/write only).
pub const PRIVATE_FILE_MODE: u32 = 0o600;
/// Permission bits for every directory this module creates (owner only).
pub const PRIVATE_DIR_MODE: u32 = 0o700;

/// Distinguishes temp files created by concurrent writers in one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Atomically replaces `path` with `bytes`.
///
/// The bytes go to a uniquely named temp file in the same directory (created
/// with mode 0600), which is fsynced, renamed over `path`, and then the
/// directory is fsynced. On any error the temp file is removed and an existing
/// `path` is left untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Like [`write_atomic`], but the content is streamed by `fill` into a
/// buffered writer on the temp file. If `fill` fails (or panics), the temp
/// file is removed and `path` is untouched.
pub fn write_atomic_with<F>(path: &Path, fill: F) -> io::Result<()>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    let file_name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: not a file path", path.display()),
        )
    })?;
    let dir = parent_dir(path);
    let (file, tmp_path) = create_temp(&dir, file_name)?;
    // Removes the temp file on every early return (and on panic in `fill`).
    let mut guard = TempGuard {
        path: Some(tmp_path.clone()),
    };

    let mut writer = BufWriter::new(file);
    fill(&mut writer)?;
    writer.flush()?;
    let file = writer.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);

    fs::rename(&tmp_path, path)?;
    // The temp name no longer exists; nothing to clean up from here on.
    guard.path = None;
    sync_dir(&dir)
}

/// Creates `path` and any missing parents with mode 0700 (before umask).
///
/// Directories that already exist keep their permissions.
pub fn create_private_dir_all(path: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(PRIVATE_DIR_MODE);
    builder.create(path)
}

/// The directory holding `path` (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Creates a fresh temp file next to the target, refusing to reuse a name.
fn create_temp(dir: &Path, file_name: &std::ffi::OsStr) -> io::Result<(File, PathBuf)> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut last_err = None;
    for _ in 0..16 {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut name = std::ffi::OsString::from(".");
        name.push(file_name);
        name.push(format!(".tmp-{}-{}-{}", std::process::id(), n, nanos));
        let tmp = dir.join(name);
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        opts.mode(PRIVATE_FILE_MODE);
        match opts.open(&tmp) {
            Ok(f) => return Ok((f, tmp)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| io::Error::other("could not create a temp file")))
}

/// Makes the rename durable by fsyncing the containing directory.
#[cfg(unix)]
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Directory fsync is not available portably off Unix; the rename suffices.
#[cfg(not(unix))]
pub fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// Deletes the temp file it holds when dropped.
struct TempGuard {
    path: Option<PathBuf>,
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.path.take()
            && let Err(e) = fs::remove_file(&p)
        {
            tracing::warn!(path = %p.display(), error = %e, "could not remove temp file");
        }
    }
}

/// [`write_atomic`] after creating the parent directory (mode 0700) if it is missing.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir_all(dir)?;
    }
    write_atomic(path, bytes)
}

/// Opens (creating, mode 0600) a file for locking or appending, without truncating it.
pub fn open_private(path: &Path) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.create(true).append(true).read(true);
    #[cfg(unix)]
    o.mode(PRIVATE_FILE_MODE);
    o.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_content_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.bin");
        write_atomic(&target, b"first").unwrap();
        write_atomic(&target, b"second version").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"second version");
        assert_eq!(entries(dir.path()), vec!["out.bin".to_string()]);
    }

    #[cfg(unix)]
    #[test]
    fn file_mode_is_0600_even_when_replacing_a_public_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("private.wav");
        fs::write(&target, b"old").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).unwrap();
        write_atomic(&target, b"new").unwrap();
        let mode = fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn missing_directory_fails_without_side_effects() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("keep.txt");
        fs::write(&existing, b"precious").unwrap();
        let bad = dir.path().join("no_such_dir").join("keep.txt");
        let err = write_atomic(&bad, b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert_eq!(fs::read(&existing).unwrap(), b"precious");
        assert_eq!(entries(dir.path()), vec!["keep.txt".to_string()]);
    }

    #[test]
    fn failing_writer_keeps_target_and_removes_temp() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("data.json");
        fs::write(&target, b"original").unwrap();
        let err = write_atomic_with(&target, |w| {
            w.write_all(b"partial")?;
            Err(io::Error::other("boom"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "boom");
        assert_eq!(fs::read(&target).unwrap(), b"original");
        assert_eq!(entries(dir.path()), vec!["data.json".to_string()]);
    }

    #[test]
    fn renaming_onto_a_directory_fails_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("occupied");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("inner"), b"x").unwrap();
        assert!(write_atomic(&target, b"data").is_err());
        assert!(target.is_dir());
        assert_eq!(entries(dir.path()), vec!["occupied".to_string()]);
    }

    #[test]
    fn bare_directory_path_is_rejected() {
        assert_eq!(
            write_atomic(Path::new("/"), b"x").unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
    }

    #[cfg(unix)]
    #[test]
    fn private_dirs_are_0700() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("a").join("b").join("c");
        create_private_dir_all(&deep).unwrap();
        create_private_dir_all(&deep).unwrap(); // idempotent
        for p in [dir.path().join("a"), dir.path().join("a/b"), deep] {
            let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", p.display());
        }
    }
}
