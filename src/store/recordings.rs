//! A speaker's stored utterances: the manifest line format, and [`Batch`], the only way to add
//! recordings — new WAVs are staged, then moved into `recordings/`, and the manifest is replaced
//! atomically last, so a failure at any point leaves what was stored before untouched.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::speakers::{Speaker, StoreError};
use crate::audio::{SAMPLE_RATE, write_wav_16k};
use crate::dataset::{ManifestLine, Utterance};
use crate::util::atomic::{create_private_dir_all, write_atomic};

/// One line of a speaker's `manifest.jsonl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredUtterance {
    #[serde(flatten)]
    pub line: ManifestLine,
    /// The prompt shown, when what was said (`text`) differs from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Which part of the data the enrollment rules put this utterance in when it was stored
    /// (`train`, `heldout`); a label the store keeps, not a rule it applies.
    #[serde(default)]
    pub split: String,
}

impl StoredUtterance {
    /// The utterance id: the recording's file stem (`00007`).
    pub fn id(&self) -> String {
        Path::new(&self.line.audio_filepath)
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    }

    /// As a dataset utterance of speaker `speaker` stored in `dir`.
    pub fn to_utterance(&self, dir: &Path, speaker: &str) -> Utterance {
        Utterance {
            id: self.id(),
            audio: dir.join(&self.line.audio_filepath),
            text: self.line.text.clone(),
            speaker: Some(speaker.to_string()),
        }
    }
}

/// Reads a speaker manifest; a missing file is an empty manifest.
pub fn read_manifest(path: &Path) -> Result<Vec<StoredUtterance>, StoreError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io(path)(e)),
    };
    parse_manifest(&text, path)
}

/// Parses the text of the speaker manifest `path`: every non-blank line must be a stored
/// utterance whose audio lies inside `recordings/`, else the whole manifest is refused.
pub fn parse_manifest(text: &str, path: &Path) -> Result<Vec<StoredUtterance>, StoreError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            let corrupt = |what: String| StoreError::Corrupt {
                path: path.to_path_buf(),
                what: format!("line {}: {what}", n + 1),
            };
            let u: StoredUtterance = serde_json::from_str(l).map_err(|e| corrupt(e.to_string()))?;
            if !inside_recordings(&u.line.audio_filepath) {
                return Err(corrupt(format!(
                    "audio path {:?} is not a file in the speaker's recordings/ folder; refused",
                    u.line.audio_filepath
                )));
            }
            Ok(u)
        })
        .collect()
}

/// Whether a stored audio path names a file directly inside `recordings/` (relative, no `..`,
/// no absolute path): what attune stores never references anything outside the speaker folder.
pub fn inside_recordings(rel: &str) -> bool {
    let mut parts = Path::new(rel).components();
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (
            Some(std::path::Component::Normal(dir)),
            Some(std::path::Component::Normal(_)),
            None
        ) if dir == "recordings"
    )
}

fn write_manifest(path: &Path, lines: &[StoredUtterance]) -> Result<(), StoreError> {
    let mut out = String::new();
    for l in lines {
        out.push_str(&serde_json::to_string(l).expect("manifest line serializes"));
        out.push('\n');
    }
    write_atomic(path, out.as_bytes()).map_err(StoreError::io(path))
}

/// The number in a recording name like `00042.wav`.
fn number_of(name: &str) -> Option<u64> {
    Path::new(name).file_stem()?.to_str()?.parse().ok()
}

/// New utterances for one speaker, staged until [`Batch::commit`]. Holds an exclusive lock on the
/// speaker (released by the OS even if the process dies); dropping it uncommitted discards the
/// staged files.
pub struct Batch {
    speaker: Speaker,
    _lock: File,
    staging: PathBuf,
    existing: Vec<StoredUtterance>,
    added: Vec<StoredUtterance>,
    next: u64,
}

impl Batch {
    pub(crate) fn begin(speaker: &Speaker) -> Result<Self, StoreError> {
        let lock_path = speaker.dir.join(".lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode_private()
            .open(&lock_path)
            .map_err(StoreError::io(&lock_path))?;
        rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive).map_err(
            |_| StoreError::Busy {
                id: speaker.id.clone(),
            },
        )?;
        let staging = speaker.dir.join(".staging");
        if staging.exists() {
            // Left over by a process that died mid-batch: never part of the store.
            std::fs::remove_dir_all(&staging).map_err(StoreError::io(&staging))?;
        }
        create_private_dir_all(&staging).map_err(StoreError::io(&staging))?;
        let existing = speaker.manifest()?;
        let rec = speaker.recordings_dir();
        let on_disk: Vec<String> = std::fs::read_dir(&rec)
            .map(|es| {
                es.filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        let next = existing
            .iter()
            .map(|u| u.line.audio_filepath.clone())
            .chain(on_disk)
            .filter_map(|n| number_of(&n))
            .max()
            .map_or(1, |m| m + 1);
        Ok(Self {
            speaker: speaker.clone(),
            _lock: lock,
            staging,
            existing,
            added: Vec::new(),
            next,
        })
    }

    /// Utterances already stored before this batch.
    pub fn existing(&self) -> &[StoredUtterance] {
        &self.existing
    }

    /// Utterances staged so far.
    pub fn added(&self) -> &[StoredUtterance] {
        &self.added
    }

    /// Stages one utterance: 16 kHz mono samples, what was said, the prompt shown (kept only
    /// when it differs from `text`) and its split label.
    pub fn add(
        &mut self,
        samples: &[f32],
        text: &str,
        prompt: Option<&str>,
        split: &str,
    ) -> Result<&StoredUtterance, StoreError> {
        let name = format!("{:05}.wav", self.next);
        write_wav_16k(&self.staging.join(&name), samples)?;
        self.next += 1;
        let duration = (samples.len() as f64 / f64::from(SAMPLE_RATE) * 1000.0).round() / 1000.0;
        self.added.push(StoredUtterance {
            line: ManifestLine {
                audio_filepath: format!("recordings/{name}"),
                text: text.to_string(),
                duration: Some(duration),
                speaker: Some(self.speaker.id.clone()),
            },
            prompt: prompt.filter(|p| *p != text).map(str::to_string),
            split: split.to_string(),
        });
        Ok(self.added.last().expect("just pushed"))
    }

    /// Moves the staged recordings into place (fsyncing both folders) and replaces the manifest.
    /// On error, the moved files are taken back out and the old manifest stays — unless the new
    /// manifest already landed (only its folder's fsync failed): then the files it lists stay.
    pub fn commit(mut self) -> Result<Vec<StoredUtterance>, StoreError> {
        let rec = self.speaker.recordings_dir();
        create_private_dir_all(&rec).map_err(StoreError::io(&rec))?;
        let mut moved: Vec<PathBuf> = Vec::new();
        let mut all = self.existing.clone();
        all.extend(self.added.iter().cloned());
        let manifest = self.speaker.manifest_path();
        let result = (|| {
            for u in &self.added {
                let name = Path::new(&u.line.audio_filepath)
                    .file_name()
                    .expect("stored names have a file name");
                let (from, to) = (self.staging.join(name), rec.join(name));
                std::fs::rename(&from, &to).map_err(StoreError::io(&to))?;
                moved.push(to);
            }
            // The moves are durable before the manifest that lists them.
            crate::util::atomic::sync_dir(&rec).map_err(StoreError::io(&rec))?;
            crate::util::atomic::sync_dir(&self.staging).map_err(StoreError::io(&self.staging))?;
            write_manifest(&manifest, &all)
        })();
        if result.is_err() {
            let landed = read_manifest(&manifest).is_ok_and(|m| m.len() == all.len());
            if !landed {
                for f in &moved {
                    let _ = std::fs::remove_file(f);
                }
            }
        }
        result?;
        Ok(std::mem::take(&mut self.added))
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.staging);
    }
}

/// `OpenOptions` with mode 0600 on Unix.
trait PrivateMode {
    fn mode_private(&mut self) -> &mut Self;
}

impl PrivateMode for OpenOptions {
    fn mode_private(&mut self) -> &mut Self {
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(self, crate::util::atomic::PRIVATE_FILE_MODE);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_paths_stay_inside_the_speaker_folder() {
        assert!(inside_recordings("recordings/00001.wav"));
        for bad in [
            "/etc/passwd",
            "../other/recordings/00001.wav",
            "recordings/../../x.wav",
            "recordings/sub/00001.wav",
            "00001.wav",
            "recordings",
            "",
        ] {
            assert!(!inside_recordings(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn manifests_of_older_homes_still_read() {
        // Before train/dev/test the label was "heldout"; the parts are derived from the text,
        // so nothing needs rewriting.
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("manifest.jsonl");
        std::fs::write(
            &m,
            "{\"audio_filepath\":\"recordings/00001.wav\",\"text\":\"a\",\"split\":\"heldout\"}\n\
             {\"audio_filepath\":\"recordings/00002.wav\",\"text\":\"b\"}\n",
        )
        .unwrap();
        let lines = read_manifest(&m).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            (lines[0].split.as_str(), lines[1].split.as_str()),
            ("heldout", "")
        );
    }

    #[test]
    fn a_planted_path_in_a_manifest_is_refused_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("manifest.jsonl");
        std::fs::write(
            &m,
            "{\"audio_filepath\":\"recordings/00001.wav\",\"text\":\"a\"}\n\
             {\"audio_filepath\":\"/home/someone/secret.wav\",\"text\":\"b\"}\n",
        )
        .unwrap();
        let e = read_manifest(&m).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("secret.wav"), "{e}");
    }
}
