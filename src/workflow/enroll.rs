//! Enroll: which prompts a speaker still has to record, storing a recorded take, importing a set
//! (folder, NeMo manifest, Kaldi dir) and adding the shipped sample speakers. The record loop
//! itself (a terminal dialogue or the Enroll screen) belongs to the front end.

use std::collections::HashSet;
use std::path::Path;

use super::{Result, WorkflowError, Workspace};
use crate::dataset::ItemError;
use crate::enroll::import::{ImportReport, import as import_set};
use crate::enroll::prompts;
use crate::enroll::split::{Split, split_for};
use crate::store::speakers::{Speaker, SpeakerInfo, SpeakerStore, StoredUtterance};

/// The speaker's prompt script: `file` if given, else the speaker's own `prompts.txt`, else the
/// built-in English script.
pub fn script(sp: &Speaker, file: Option<&Path>) -> Result<Vec<String>> {
    let own = sp.prompts_path();
    Ok(match file {
        Some(p) => prompts::read(p)?,
        None if own.is_file() => prompts::read(&own)?,
        None => prompts::default_prompts(),
    })
}

/// The phrases of `script` the speaker has not recorded yet, in script order.
pub fn pending(sp: &Speaker, script: Vec<String>) -> Result<Vec<String>> {
    Ok(pending_in(&sp.manifest()?, script))
}

/// The phrases of `script` that no line of `manifest` recorded, in script order.
pub fn pending_in(manifest: &[StoredUtterance], script: Vec<String>) -> Vec<String> {
    let said: HashSet<&str> = manifest
        .iter()
        .map(|u| u.prompt.as_deref().unwrap_or(&u.line.text))
        .collect();
    script
        .into_iter()
        .filter(|p| !said.contains(p.as_str()))
        .collect()
}

/// A take that was stored, and which part of the data its phrase belongs to.
pub struct Stored {
    pub utterance: StoredUtterance,
    pub split: Split,
}

/// Stores one recorded take (16 kHz mono) for `speaker`: `text` is what was said, `prompt` the
/// phrase shown (kept only when it differs).
pub fn store_take(
    ws: &Workspace,
    speaker: &str,
    samples: &[f32],
    text: &str,
    prompt: &str,
) -> Result<Stored> {
    if samples.is_empty() {
        return Err(WorkflowError::Invalid("the take is empty".into()));
    }
    let sp = SpeakerStore::new(&ws.home).open(speaker)?;
    let split = split_for(text);
    let mut batch = sp.begin()?;
    let utterance = batch
        .add(samples, text, Some(prompt), &split.to_string())?
        .clone();
    batch.commit()?;
    Ok(Stored { split, utterance })
}

/// Imports a folder / manifest / Kaldi dir into `speaker`; `on_item` sees each item's outcome.
/// Nothing is stored unless at least one item is good; what was stored before never changes.
pub fn import(
    ws: &Workspace,
    speaker: &str,
    path: &Path,
    on_item: impl FnMut(&std::result::Result<StoredUtterance, ItemError>),
) -> Result<ImportReport> {
    let sp = SpeakerStore::new(&ws.home).open(speaker)?;
    Ok(import_set(&sp, path, on_item)?)
}

/// What adding the sample speakers did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SamplesAdded {
    pub speakers: usize,
    pub utterances: usize,
}

/// Creates and fills each sample speaker (a folder of the workspace's samples) not yet in the
/// home; `on_speaker(id, stored)` runs after each.
pub fn add_samples(
    ws: &Workspace,
    only: &[String],
    mut on_speaker: impl FnMut(&str, usize),
) -> Result<SamplesAdded> {
    let ids: Vec<&str> = crate::shipped::SPEAKERS
        .folders()
        .into_iter()
        .filter(|id| only.is_empty() || only.iter().any(|o| o == id))
        .collect();
    if let Some(missing) = only.iter().find(|o| !ids.contains(&o.as_str())) {
        return Err(WorkflowError::Invalid(format!(
            "no sample speaker {missing} (there are {})",
            crate::shipped::SPEAKERS.folders().join(", ")
        )));
    }
    let dir = ws.samples_dir()?;
    let store = SpeakerStore::new(&ws.home);
    let mut added = SamplesAdded {
        speakers: 0,
        utterances: 0,
    };
    for &id in &ids {
        if store.open(id).is_ok() {
            continue;
        }
        let mut info = SpeakerInfo::new(id, None);
        info.notes = "Simulated sample speaker (shipped with attune), not a real person".into();
        store.create(&info)?;
        let report = import(ws, id, &dir.join(id), |item| {
            if let Err(e) = item {
                tracing::info!("sample import skipped {e}");
            }
        })?;
        added.speakers += 1;
        added.utterances += report.imported.len();
        on_speaker(id, report.imported.len());
    }
    Ok(added)
}
