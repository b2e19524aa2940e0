//! `enroll import`: brings a folder of `x.wav` + `x.txt`, a NeMo manifest or a Kaldi dir into a
//! speaker's store. Every usable item is converted to 16 kHz mono 16-bit; every bad one is skipped
//! with its reason; nothing is stored unless at least one item is good, and what was stored
//! before never changes.

use std::path::Path;

use super::EnrollError;
use crate::audio::{SAMPLE_RATE, is_silent, read_wav};
use crate::dataset::{ItemError, Utterance, load_set};
use crate::store::speakers::{Speaker, StoredUtterance};

/// Longest utterance accepted: Whisper's 30 s window.
pub const MAX_SECONDS: f64 = 30.0;

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub imported: Vec<StoredUtterance>,
    pub skipped: Vec<ItemError>,
}

/// Checks one item and returns its 16 kHz samples, or why it cannot be used.
pub fn check_item(u: &Utterance) -> Result<Vec<f32>, ItemError> {
    let bad = |what: String| ItemError {
        path: u.audio.clone(),
        what,
    };
    if u.text.trim().is_empty() {
        return Err(bad("empty transcript".into()));
    }
    let samples = read_wav(&u.audio).map_err(|e| {
        // The audio error names the file itself; keep only what is wrong with it.
        let full = e.to_string();
        let prefix = format!("{}: ", e.path().display());
        ItemError {
            path: e.path().to_path_buf(),
            what: full.strip_prefix(&prefix).unwrap_or(&full).to_string(),
        }
    })?;
    if is_silent(&samples) {
        return Err(bad("silence only (no speech to learn from)".into()));
    }
    let secs = samples.len() as f64 / f64::from(SAMPLE_RATE);
    if secs > MAX_SECONDS {
        return Err(bad(format!(
            "{secs:.1} s long: longer than Whisper's {MAX_SECONDS} s window, split it first"
        )));
    }
    Ok(samples)
}

/// Imports the set at `path` into `speaker`; `progress` is told about each item as it goes
/// (`Ok(stored)` or `Err(reason)`).
pub fn import(
    speaker: &Speaker,
    path: &Path,
    mut progress: impl FnMut(&Result<StoredUtterance, ItemError>),
) -> Result<ImportReport, EnrollError> {
    let (items, mut skipped) = load_set(path)?;
    for e in &skipped {
        progress(&Err(e.clone()));
    }
    let mut batch = speaker.begin()?;
    for u in &items {
        let outcome = match check_item(u) {
            Ok(samples) => {
                let text = u.text.trim();
                let split = super::split::split_for(text).to_string();
                Ok(batch.add(&samples, text, None, &split)?.clone())
            }
            Err(e) => Err(e),
        };
        progress(&outcome);
        if let Err(e) = outcome {
            skipped.push(e);
        }
    }
    if batch.added().is_empty() {
        // Dropping the batch discards nothing but its (empty) staging folder.
        return Ok(ImportReport {
            imported: Vec::new(),
            skipped,
        });
    }
    Ok(ImportReport {
        imported: batch.commit()?,
        skipped,
    })
}
