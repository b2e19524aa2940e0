//! The attune home directory: where speakers, submodels, logs and imported bases live, and
//! how files in it are written (atomically, private).

pub mod atomic;
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
        atomic::create_private_dir_all(&self.root)
    }

    /// Path of submodel `id` in the library; an existing file path is taken as is.
    pub fn submodel_path(&self, id: &str) -> PathBuf {
        let p = Path::new(id);
        if p.extension().is_some_and(|e| e == "safetensors") && p.exists() {
            return p.to_path_buf();
        }
        self.library_dir().join(format!("{id}.safetensors"))
    }
}
