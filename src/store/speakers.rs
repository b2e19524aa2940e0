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
//! "speaker": "<id>", "prompt": "..." (only when what was said differs), "split": "train"|"heldout"}`.
//! Paths are relative to the speaker folder. The split is fixed when an utterance is stored
//! ([`crate::enroll::split`]: by phrase, ~20 % held out) and never changes afterwards.
//!
//! **For the training engine:** [`speaker_utterances`]`(home, id)` returns `(train, heldout)` as
//! [`Utterance`]s with absolute audio paths and `speaker: Some(id)`; [`Speaker::manifest_hash`]
//! identifies the data a submodel was trained on.
//!
//! Writes go through [`super::recordings::Batch`], which stages new recordings and commits the
//! manifest last, so an import that fails leaves what is stored untouched.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::Home;
use super::atomic::{create_private_dir_all, write_atomic};
pub use super::recordings::{Batch, StoredUtterance};
use crate::audio::AudioError;
use crate::dataset::Utterance;
use crate::enroll::split::Split;

/// Longest accepted speaker id.
pub const MAX_ID_LEN: usize = 64;

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
    #[error(transparent)]
    Library(#[from] crate::library::LibraryError),
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
            created: now_secs(),
        }
    }
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The UTC calendar date (`YYYY-MM-DD`) of a Unix time.
pub fn date_of(secs: u64) -> String {
    // Howard Hinnant's civil-from-days.
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Checks that `id` can name a folder safely: 1–64 characters from `A–Z a–z 0–9 . _ -`, not
/// starting with `.` or `-` (so no `..`, no hidden folders, no path separators, no options).
pub fn validate_id(id: &str) -> Result<(), StoreError> {
    let bad = |why| {
        Err(StoreError::InvalidId {
            id: id.to_string(),
            why,
        })
    };
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return bad("must be 1 to 64 characters");
    }
    if id.starts_with('.') || id.starts_with('-') {
        return bad("must not start with '.' or '-'");
    }
    if id.contains("..") {
        return bad("must not contain '..'");
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return bad("only letters, digits, '.', '_' and '-' are allowed (no path separators)");
    }
    Ok(())
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
        Ok(crate::model::weights::sha256_hex(&bytes))
    }

    /// `(train, heldout)` utterances with absolute audio paths.
    pub fn utterances(&self) -> Result<(Vec<Utterance>, Vec<Utterance>), StoreError> {
        let (mut train, mut heldout) = (Vec::new(), Vec::new());
        for u in self.manifest()? {
            let split = u.split;
            let utt = u.to_utterance(&self.dir, &self.id);
            match split {
                Split::Train => train.push(utt),
                Split::Heldout => heldout.push(utt),
            }
        }
        Ok((train, heldout))
    }

    /// Starts adding utterances (locks the speaker until the batch is committed or dropped).
    pub fn begin(&self) -> Result<Batch, StoreError> {
        Batch::begin(self)
    }
}

/// The training engine's entry point: a stored speaker's `(train, heldout)` utterances.
pub fn speaker_utterances(
    home: &Home,
    id: &str,
) -> Result<(Vec<Utterance>, Vec<Utterance>), StoreError> {
    SpeakerStore::new(home).open(id)?.utterances()
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

    /// Removes a speaker's folder (recordings, manifest, prompts, info) and every library
    /// submodel trained for it, with all of their side files. Returns the submodel ids removed.
    pub fn remove(&self, id: &str) -> Result<Vec<String>, StoreError> {
        let sp = self.open(id)?;
        // Hold the lock while removing so that no batch commits into a half-removed folder.
        let batch = sp.begin()?;
        let submodels = submodels_of(&self.home, id)?;
        for sub in &submodels {
            crate::library::remove(&self.home, sub)?;
        }
        drop(batch);
        std::fs::remove_dir_all(&sp.dir).map_err(StoreError::io(&sp.dir))?;
        Ok(submodels)
    }
}

/// Ids of the library's submodels trained for speaker `id` (unreadable files are ignored).
pub fn submodels_of(home: &Home, id: &str) -> Result<Vec<String>, StoreError> {
    let (entries, _unreadable) = crate::library::list(home)?;
    Ok(entries
        .into_iter()
        .filter(|e| e.meta.speaker == id)
        .map(|e| e.id)
        .collect())
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

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(951_782_400), "2000-02-29");
        assert_eq!(date_of(1_798_761_599), "2026-12-31");
    }
}
