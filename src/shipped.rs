//! What the binary carries inside it — the default base, the sample speakers and the ordinary-
//! speech clips — and their installation into the home on first use, so a copied or
//! `cargo install`ed binary runs without its source tree.
//!
//! Each part is installed once per home into `<home>/shipped/<part>-<key>/` (key: a hash of the
//! part's contents taken at build time), through a private temp folder, fsync and one rename;
//! two processes installing at once both end up using one complete copy. Folders of other keys
//! (an older build's) are removed.

use std::io;
use std::path::{Path, PathBuf};

use crate::util::atomic;

/// One folder carried in the binary.
pub struct Part {
    pub name: &'static str,
    /// Hash of the part's names and contents (FNV-1a, hex), computed by `build.rs`.
    pub key: &'static str,
    /// `(path relative to the part's folder, contents)`, sorted by path.
    pub files: &'static [(&'static str, &'static [u8])],
}

include!(concat!(env!("OUT_DIR"), "/shipped.rs"));

impl Part {
    /// The part's folder under `root`, installing it first if this build's copy is missing.
    pub fn install(&self, root: &Path) -> io::Result<PathBuf> {
        let shipped = root.join("shipped");
        let dest = shipped.join(format!("{}-{}", self.name, self.key));
        if dest.is_dir() {
            return Ok(dest);
        }
        atomic::create_private_dir_all(&shipped)?;
        let temp = shipped.join(format!(
            ".{}-{}.tmp-{}",
            self.name,
            self.key,
            std::process::id()
        ));
        if temp.exists() {
            std::fs::remove_dir_all(&temp)?;
        }
        let filled = self.fill(&temp);
        let done = filled.and_then(|()| std::fs::rename(&temp, &dest));
        match done {
            Ok(()) => atomic::sync_dir(&shipped)?,
            // Another process installed the same part first: use its copy.
            Err(_) if dest.is_dir() => std::fs::remove_dir_all(&temp)?,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&temp);
                return Err(e);
            }
        }
        self.remove_others(&shipped);
        Ok(dest)
    }

    /// Writes every file (0600, folders 0700) under `dir` and fsyncs them and their folders.
    fn fill(&self, dir: &Path) -> io::Result<()> {
        use std::io::Write;
        atomic::create_private_dir_all(dir)?;
        let mut dirs = vec![dir.to_path_buf()];
        for (rel, bytes) in self.files {
            let path = dir.join(rel);
            let parent = path.parent().unwrap_or(dir).to_path_buf();
            if !dirs.contains(&parent) {
                atomic::create_private_dir_all(&parent)?;
                dirs.push(parent);
            }
            let mut f = atomic::open_private(&path)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        for d in dirs.iter().rev() {
            atomic::sync_dir(d)?;
        }
        Ok(())
    }

    /// Removes this part's folders of other builds (best effort: a failure leaves a stale copy).
    fn remove_others(&self, shipped: &Path) {
        let Ok(entries) = std::fs::read_dir(shipped) else {
            return;
        };
        let prefix = format!("{}-", self.name);
        let current = format!("{}-{}", self.name, self.key);
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(&prefix) && name != current && e.path().is_dir() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }

    /// The top-level folder names of the part (for the speakers: the sample speaker ids).
    pub fn folders(&self) -> Vec<&'static str> {
        let mut out: Vec<&str> = self
            .files
            .iter()
            .filter_map(|(rel, _)| rel.split_once('/').map(|(top, _)| top))
            .collect();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_carry_the_shipped_files() {
        assert!(BASE.files.iter().any(|(p, _)| *p == "model.safetensors"));
        assert!(BASE.files.iter().any(|(p, _)| *p == "tokenizer.json"));
        assert_eq!(
            SPEAKERS.folders(),
            [
                "accent-de",
                "accent-fr",
                "control",
                "slow-muffled",
                "tremor"
            ]
        );
        assert!(CLIPS.files.iter().any(|(p, _)| *p == "manifest.jsonl"));
    }

    #[test]
    fn install_is_private_complete_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let got = CLIPS.install(dir.path()).unwrap();
        for (rel, bytes) in CLIPS.files {
            let p = got.join(rel);
            assert_eq!(&std::fs::read(&p).unwrap()[..], *bytes, "{rel}");
            assert_eq!(p.metadata().unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert_eq!(got.metadata().unwrap().permissions().mode() & 0o777, 0o700);
        // An older build's copy is replaced; a second install reuses the folder.
        let old = dir.path().join("shipped/clips-0000000000000000");
        std::fs::create_dir_all(&old).unwrap();
        std::fs::remove_dir_all(&got).unwrap();
        assert_eq!(CLIPS.install(dir.path()).unwrap(), got);
        assert!(!old.exists());
        std::fs::write(got.join("marker"), b"x").unwrap();
        CLIPS.install(dir.path()).unwrap();
        assert!(got.join("marker").exists());
        let names: Vec<_> = std::fs::read_dir(dir.path().join("shipped"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temp folder left: {names:?}");
    }
}
