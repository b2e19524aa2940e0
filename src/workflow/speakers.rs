//! Speakers as a user sees them: the per-speaker summary (utterances by train/dev/test, prompts to
//! go, submodels), creating a speaker with a consent note, and deleting one completely — its
//! recordings, its submodels and any interrupted job that would save for it.

use super::{Result, Workspace};
use crate::enroll::split::{Split, split_for};
use crate::library::Entry;
use crate::store::speakers::{Consent, SpeakerInfo, SpeakerStore};
use crate::submodel::file::Metrics;
use crate::util::time::{date_of, now_secs};

/// One speaker's summary.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpeakerSummary {
    pub id: String,
    pub name: String,
    pub notes: String,
    /// Consent note and its date.
    pub consent: Option<String>,
    pub train: usize,
    /// Early stopping and version choice.
    pub dev: usize,
    /// Reported only.
    pub test: usize,
    /// Seconds of stored audio.
    pub seconds: f64,
    pub created: u64,
    /// Library submodels of this speaker with their metrics, oldest first.
    pub submodels: Vec<(String, Option<Metrics>)>,
    /// Prompts of the speaker's script not yet recorded, in order.
    pub pending: Vec<String>,
    pub script_len: usize,
}

/// The home at a glance: every speaker, the library, and files that could not be read (the rest
/// is still shown).
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub speakers: Vec<SpeakerSummary>,
    pub library: Vec<Entry>,
    pub problems: Vec<String>,
}

/// Reads the home into a [`Summary`]; a broken file is reported in `problems`, never fatal.
pub fn summary(ws: &Workspace) -> Summary {
    let home = &ws.home;
    let mut out = Summary::default();
    let library = match crate::library::list(home) {
        Ok((entries, bad)) => {
            out.problems.extend(bad.iter().map(ToString::to_string));
            entries
        }
        Err(e) => {
            out.problems.push(e.to_string());
            Vec::new()
        }
    };
    let speakers = SpeakerStore::new(home).list().unwrap_or_else(|e| {
        out.problems.push(e.to_string());
        Vec::new()
    });
    for sp in speakers {
        let (manifest, readable) = match sp.manifest() {
            Ok(m) => (m, true),
            Err(e) => {
                out.problems.push(e.to_string());
                (Vec::new(), false)
            }
        };
        let script = super::enroll::script(&sp, None).unwrap_or_else(|e| {
            out.problems.push(e.to_string());
            crate::enroll::prompts::default_prompts()
        });
        let script_len = script.len();
        // An unreadable manifest says nothing about what was recorded: no prompts offered.
        let pending = if readable {
            super::enroll::pending_in(&manifest, script)
        } else {
            Vec::new()
        };
        let count = |part| {
            manifest
                .iter()
                .filter(|u| split_for(&u.line.text) == part)
                .count()
        };
        let (name, notes, consent, created) = match sp.info() {
            Ok(i) => (
                i.name,
                i.notes,
                i.consent.map(|c| format!("{} ({})", c.text, c.date)),
                i.created,
            ),
            Err(e) => {
                out.problems.push(e.to_string());
                (sp.id.clone(), String::new(), None, 0)
            }
        };
        out.speakers.push(SpeakerSummary {
            submodels: library
                .iter()
                .filter(|e| e.meta.speaker == sp.id)
                .map(|e| (e.id.clone(), e.meta.metrics.clone()))
                .collect(),
            pending,
            script_len,
            train: count(Split::Train),
            dev: count(Split::Dev),
            test: count(Split::Test),
            seconds: manifest.iter().filter_map(|u| u.line.duration).sum(),
            created,
            id: sp.id,
            name,
            notes,
            consent,
        });
    }
    out.library = library;
    out
}

/// Creates a speaker with optional display name, notes, consent note (dated `consent_date` or
/// today) and prompt script. A bad script file is refused before anything is created.
pub fn create(
    ws: &Workspace,
    id: &str,
    name: Option<&str>,
    notes: &str,
    consent: Option<(String, Option<String>)>,
    prompts: Option<&std::path::Path>,
) -> Result<std::path::PathBuf> {
    let script = prompts
        .map(|p| {
            crate::enroll::prompts::read(p)?;
            std::fs::read_to_string(p).map_err(super::WorkflowError::io(p))
        })
        .transpose()?;
    ws.home
        .ensure()
        .map_err(super::WorkflowError::io(&ws.home.root))?;
    let mut info = SpeakerInfo::new(id, name);
    info.notes = notes.to_string();
    info.consent = consent.map(|(text, date)| Consent {
        text,
        date: date.unwrap_or_else(|| date_of(now_secs())),
    });
    let sp = SpeakerStore::new(&ws.home).create(&info)?;
    if let Some(s) = script {
        sp.set_prompts(&s)?;
    }
    Ok(sp.dir)
}

/// Sets (or, with empty text, clears) a speaker's consent note, dated today.
pub fn set_consent(ws: &Workspace, id: &str, text: &str) -> Result<()> {
    let sp = SpeakerStore::new(&ws.home).open(id)?;
    let mut info = sp.info()?;
    info.consent = (!text.is_empty()).then(|| Consent {
        text: text.to_string(),
        date: date_of(now_secs()),
    });
    Ok(sp.write_info(&info)?)
}

/// What deleting a speaker removed besides its folder.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Deleted {
    pub submodels: Vec<String>,
    pub jobs: usize,
    /// Embedding spaces the speaker's row was removed from.
    pub spaces: Vec<String>,
}

/// Deletes a speaker completely: every library submodel trained for it, every interrupted job
/// (checkpoint) that includes it, its embedding row in every space, then its folder
/// (atomically).
pub fn delete(ws: &Workspace, id: &str) -> Result<Deleted> {
    let store = SpeakerStore::new(&ws.home);
    store.open(id)?;
    let submodels = crate::library::of_speaker(&ws.home, id)?;
    for sub in &submodels {
        crate::library::remove(&ws.home, sub)?;
    }
    let mut jobs = 0;
    for req in super::personalize::unfinished(ws) {
        if req.speakers.iter().any(|s| s == id) {
            super::personalize::discard(ws, &req);
            jobs += 1;
        }
    }
    let mut spaces = Vec::new();
    for name in super::spaces::spaces(ws) {
        let path = super::spaces::space_file(ws, &name)?;
        if crate::submodel::space::Space::forget(&path, id)? {
            spaces.push(name);
        }
    }
    // The folder last: until it is gone the speaker is listed, so an interrupted delete is
    // visible and can be repeated.
    store.remove(id)?;
    Ok(Deleted {
        submodels,
        jobs,
        spaces,
    })
}
