//! The speaker store: one private folder per speaker under `<home>/speakers/<id>/`.
//!
//! Layout of a speaker folder (dirs 0700, files 0600, every file written atomically):
//!
//! ```text
//! speakers/<id>/speaker.json      display name, notes, consent note (text + date), created
//! speakers/<id>/manifest.jsonl    NeMo style, one line per stored utterance (see below)
//! speakers/<id>/recordings/*.wav  16 kHz mono 16-bit PCM
//! speakers/<id>/prompts.txt       optional custom prompt script for this speaker
//! ```
//!
//! A manifest line: `{"audio_filepath": "recordings/00001.wav", "text": "...", "duration": 1.23,
//! "speaker": "<id>", "prompt": "..." (only when what was said differs), "split": "train"|…}`.
//! Paths are relative to the speaker folder. Which utterances train and which evaluate is not the
//! store's business: the enrollment rules (`enroll::split`) derive it from the text; the
//! `split` key is the label they gave when the utterance was stored, kept for people and tools.
//!
//! [`Speaker::utterances`] returns the stored utterances with absolute audio paths and
//! `speaker: Some(id)`; [`Speaker::manifest_hash`] identifies the data a submodel was trained on.
//!
//! Writes go through [`super::recordings::Batch`], which stages new recordings and commits the
//! manifest last, so an import that fails leaves what is stored untouched.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Home;
pub use super::recordings::{Batch, StoredUtterance};
use crate::audio::AudioError;
use crate::dataset::Utterance;
use crate::util::atomic::{create_private_dir_all, write_atomic};

/// What can go wrong in the speaker store. Every message is one line naming the speaker or file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid speaker id {id:?}: {why}")]
    InvalidId { id: String, why: &'static str },
    #[error("no speaker {id:?} (create it with `attune speaker new {id}`)")]
    NotFound { id: String },
    #[error("speaker {id:?} already exists")]
    Exists { id: String },
    #[error(
        "speaker {id:?} is being modified by another attune process; try again when it is done"
    )]
    Busy { id: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {what}", path.display())]
    Corrupt { path: PathBuf, what: String },
    #[error(transparent)]
    Audio(#[from] AudioError),
}

impl StoreError {
    pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// A consent note kept with the speaker's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consent {
    pub text: String,
    /// `YYYY-MM-DD`.
    pub date: String,
}

/// `speaker.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeakerInfo {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub consent: Option<Consent>,
    /// Seconds since the Unix epoch.
    pub created: u64,
}

impl SpeakerInfo {
    /// A new record for `id`, created now; the display name defaults to the id.
    pub fn new(id: &str, name: Option<&str>) -> Self {
        Self {
            id: id.to_string(),
            name: name.unwrap_or(id).to_string(),
            notes: String::new(),
            consent: None,
            created: crate::util::time::now_secs(),
        }
    }
}

/// Checks that `id` can name a speaker folder safely ([`crate::util::names::check`]).
pub fn validate_id(id: &str) -> Result<(), StoreError> {
    crate::util::names::check(id).map_err(|e| StoreError::InvalidId {
        id: id.to_string(),
        why: e.why,
    })
}

/// One speaker folder.
#[derive(Debug, Clone)]
pub struct Speaker {
    pub id: String,
    pub dir: PathBuf,
}

impl Speaker {
    pub fn info_path(&self) -> PathBuf {
        self.dir.join("speaker.json")
    }
    pub fn manifest_path(&self) -> PathBuf {
        self.dir.join("manifest.jsonl")
    }
    pub fn recordings_dir(&self) -> PathBuf {
        self.dir.join("recordings")
    }
    /// The speaker's own prompt script, if one was set.
    pub fn prompts_path(&self) -> PathBuf {
        self.dir.join("prompts.txt")
    }

    pub fn info(&self) -> Result<SpeakerInfo, StoreError> {
        let path = self.info_path();
        let bytes = std::fs::read(&path).map_err(StoreError::io(&path))?;
        serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
            path,
            what: e.to_string(),
        })
    }

    pub fn write_info(&self, info: &SpeakerInfo) -> Result<(), StoreError> {
        let path = self.info_path();
        let json = serde_json::to_vec_pretty(info).expect("speaker info serializes");
        write_atomic(&path, &json).map_err(StoreError::io(&path))
    }

    /// Stores a custom prompt script for this speaker (text as given).
    pub fn set_prompts(&self, script: &str) -> Result<(), StoreError> {
        let path = self.prompts_path();
        write_atomic(&path, script.as_bytes()).map_err(StoreError::io(&path))
    }

    /// All stored utterances, in manifest order (empty for a new speaker).
    pub fn manifest(&self) -> Result<Vec<StoredUtterance>, StoreError> {
        super::recordings::read_manifest(&self.manifest_path())
    }

    /// SHA-256 of the manifest file (of the empty string for a speaker with no data).
    pub fn manifest_hash(&self) -> Result<String, StoreError> {
        let path = self.manifest_path();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(StoreError::io(&path)(e)),
        };
        Ok(crate::util::hash::sha256_hex(&bytes))
    }

    /// Every stored utterance with its absolute audio path, in manifest order.
    pub fn utterances(&self) -> Result<Vec<Utterance>, StoreError> {
        Ok(self
            .manifest()?
            .iter()
            .map(|u| u.to_utterance(&self.dir, &self.id))
            .collect())
    }

    /// Starts adding utterances (locks the speaker until the batch is committed or dropped).
    pub fn begin(&self) -> Result<Batch, StoreError> {
        Batch::begin(self)
    }
}

/// The speakers of one home.
#[derive(Debug, Clone)]
pub struct SpeakerStore {
    pub home: Home,
    pub dir: PathBuf,
}

impl SpeakerStore {
    pub fn new(home: &Home) -> Self {
        Self {
            home: home.clone(),
            dir: home.speakers_dir(),
        }
    }

    fn speaker(&self, id: &str) -> Result<Speaker, StoreError> {
        validate_id(id)?;
        Ok(Speaker {
            id: id.to_string(),
            dir: self.dir.join(id),
        })
    }

    /// Creates a speaker; refuses an id that exists.
    pub fn create(&self, info: &SpeakerInfo) -> Result<Speaker, StoreError> {
        let sp = self.speaker(&info.id)?;
        if sp.dir.exists() {
            return Err(StoreError::Exists {
                id: info.id.clone(),
            });
        }
        let rec = sp.recordings_dir();
        create_private_dir_all(&rec).map_err(StoreError::io(&rec))?;
        sp.write_info(info)?;
        Ok(sp)
    }

    /// An existing speaker.
    pub fn open(&self, id: &str) -> Result<Speaker, StoreError> {
        let sp = self.speaker(id)?;
        if !sp.info_path().is_file() {
            return Err(StoreError::NotFound { id: id.to_string() });
        }
        Ok(sp)
    }

    /// All speakers, sorted by id (folders that are not speakers are ignored).
    pub fn list(&self) -> Result<Vec<Speaker>, StoreError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StoreError::io(&self.dir)(e)),
        };
        let mut ids: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|id| validate_id(id).is_ok())
            .collect();
        ids.sort();
        Ok(ids.iter().filter_map(|id| self.open(id).ok()).collect())
    }

    /// Removes a speaker's folder (recordings, manifest, prompts, info) atomically: under the
    /// speaker's lock the folder is renamed into `<home>/trash/`, then deleted. A crash in between
    /// leaves it in the trash, which [`Home::empty_trash`] finishes on the next start. What else
    /// belongs to the speaker (submodels, checkpoints, space rows) is the caller's cascade.
    pub fn remove(&self, id: &str) -> Result<(), StoreError> {
        let sp = self.open(id)?;
        let batch = sp.begin()?;
        let trash = self.home.trash_dir();
        create_private_dir_all(&trash).map_err(StoreError::io(&trash))?;
        let doomed = trash.join(format!("{id}.{}", std::process::id()));
        std::fs::rename(&sp.dir, &doomed).map_err(StoreError::io(&sp.dir))?;
        crate::util::atomic::sync_dir(&self.dir).map_err(StoreError::io(&self.dir))?;
        drop(batch);
        std::fs::remove_dir_all(&doomed).map_err(StoreError::io(&doomed))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_could_escape_the_store_are_refused() {
        for bad in [
            "", "..", "a/b", "../x", "a\\b", ".hidden", "-rf", "a..b", "é", "a b",
        ] {
            assert!(validate_id(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["alice", "client-07", "p_3.v2", "A1"] {
            validate_id(good).unwrap();
        }
        assert!(validate_id(&"x".repeat(65)).is_err());
    }
}
