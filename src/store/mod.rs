//! The attune home directory: its layout (speakers, library, spaces, jobs, bases, logs) and the
//! speakers' stored files. It knows where things are, not the rules of enrollment or the library.

pub mod recordings;
pub mod speakers;

use std::path::{Path, PathBuf};

/// Resolved home directory layout.
#[derive(Debug, Clone)]
pub struct Home {
    pub root: PathBuf,
}

impl Home {
    /// `--home` / `ATTUNE_HOME` if given, else the platform data dir (`~/.local/share/attune`).
    pub fn resolve(explicit: Option<&Path>) -> Self {
        let root = explicit.map(Path::to_path_buf).unwrap_or_else(|| {
            dirs::data_dir()
                .unwrap_or_else(|| PathBuf::from("."))
                .join("attune")
        });
        Self { root }
    }

    pub fn library_dir(&self) -> PathBuf {
        self.root.join("library")
    }
    pub fn speakers_dir(&self) -> PathBuf {
        self.root.join("speakers")
    }
    pub fn bases_dir(&self) -> PathBuf {
        self.root.join("bases")
    }
    pub fn log_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// Creates the home (mode 0700) if missing.
    pub fn ensure(&self) -> std::io::Result<()> {
        crate::util::atomic::create_private_dir_all(&self.root)
    }

    pub fn spaces_dir(&self) -> PathBuf {
        self.root.join("spaces")
    }
    /// Checkpoints and descriptions of unfinished training jobs.
    pub fn jobs_dir(&self) -> PathBuf {
        self.root.join("jobs")
    }
    /// The home-wide lock file (library versions and other cross-process mutations).
    pub fn lock_path(&self) -> PathBuf {
        self.root.join(".lock")
    }
    /// Folders being deleted (a delete renames into here first, then removes).
    pub fn trash_dir(&self) -> PathBuf {
        self.root.join("trash")
    }

    /// Makes an existing home private again: every directory 0700, every file 0600 (symbolic
    /// links are left alone); temp files of writes older than an hour (a crash's leftovers, which
    /// may hold transcripts) are removed. Returns how many modes were changed.
    pub fn tighten(&self) -> std::io::Result<usize> {
        use std::os::unix::fs::PermissionsExt;
        let mut changed = 0;
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir)? {
                let e = e?;
                let ty = e.file_type()?;
                if ty.is_symlink() {
                    continue;
                }
                let path = e.path();
                let meta = e.metadata()?;
                let want = if ty.is_dir() { 0o700 } else { 0o600 };
                if ty.is_file() && is_stale_temp(&path, &meta) {
                    std::fs::remove_file(&path)?;
                    continue;
                }
                if meta.permissions().mode() & 0o777 != want {
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(want))?;
                    changed += 1;
                }
                if ty.is_dir() {
                    stack.push(path);
                }
            }
        }
        let root_mode = std::fs::metadata(&self.root)?.permissions().mode() & 0o777;
        if root_mode != 0o700 {
            std::fs::set_permissions(&self.root, std::fs::Permissions::from_mode(0o700))?;
            changed += 1;
        }
        Ok(changed)
    }

    /// Finishes deletes a crash interrupted: removes everything left in the trash.
    pub fn empty_trash(&self) -> std::io::Result<()> {
        let trash = self.trash_dir();
        let entries = match std::fs::read_dir(&trash) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        for e in entries {
            let path = e?.path();
            if path.is_dir() {
                std::fs::remove_dir_all(&path)?;
            } else {
                std::fs::remove_file(&path)?;
            }
        }
        Ok(())
    }
}

/// A temp file of an atomic write (`.<name>.tmp-<pid>-…`) not touched for an hour.
fn is_stale_temp(path: &Path, meta: &std::fs::Metadata) -> bool {
    let temp = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.contains(".tmp-"));
    temp && meta
        .modified()
        .ok()
        .and_then(|m| m.elapsed().ok())
        .is_some_and(|age| age.as_secs() > 3600)
}
