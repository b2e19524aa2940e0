//! From the speaker store to a job and back: loads stored speakers' utterances as a job's sets
//! (with their data hashes), and turns a finished job's results into library submodels. The CLI
//! and the TUI both call these, so a submodel records the same things whoever trained it.

use std::collections::BTreeMap;

use super::prepare::SpeakerSet;
use super::{Outcome, TrainConfig, TrainError};
use crate::recognizer::Recognizer;
use crate::store::Home;
use crate::store::speakers::{SpeakerStore, now_secs};
use crate::submodel::file::{FORMAT_VERSION, Metrics};
use crate::submodel::{Submodel, SubmodelMeta};

/// Stored speakers ready for [`super::prepare::prepare`], and each one's manifest hash.
pub struct StoredSets {
    pub sets: Vec<SpeakerSet>,
    pub data_hashes: BTreeMap<String, String>,
}

/// Loads speakers `ids` from the store; `limit` keeps only the first N training utterances of
/// each (learning curves).
pub fn speaker_sets(
    home: &Home,
    ids: &[String],
    limit: Option<usize>,
) -> Result<StoredSets, TrainError> {
    let store = SpeakerStore::new(home);
    let mut sets = Vec::new();
    let mut data_hashes = BTreeMap::new();
    for id in ids {
        let sp = store.open(id)?;
        let (mut train, heldout) = sp.utterances()?;
        if let Some(n) = limit {
            train.truncate(n);
        }
        data_hashes.insert(id.clone(), sp.manifest_hash()?);
        sets.push(SpeakerSet {
            id: id.clone(),
            train,
            heldout,
        });
    }
    Ok(StoredSets { sets, data_hashes })
}

/// One submodel a job added to the library.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    pub speaker: String,
    pub submodel: String,
    pub base_wer: Option<f64>,
    pub wer: Option<f64>,
    pub steps: u64,
    pub best_step: u64,
}

/// Adds every speaker's result of a finished job to the library as that speaker's next version,
/// with its hyper-parameters, data hash and held-out metrics.
pub fn save_results(
    home: &Home,
    rec: &Recognizer,
    cfg: &TrainConfig,
    stored: &StoredSets,
    out: &Outcome,
) -> Result<Vec<Saved>, TrainError> {
    let hyper: BTreeMap<String, serde_json::Value> =
        serde_json::from_value(serde_json::to_value(cfg).expect("config serializes"))
            .expect("config is a JSON object");
    let mut saved = Vec::new();
    for r in &out.speakers {
        let heldout = stored
            .sets
            .iter()
            .find(|s| s.id == r.id)
            .map_or(0, |s| s.heldout.len());
        let mut sub = Submodel {
            meta: SubmodelMeta {
                format_version: FORMAT_VERSION,
                id: String::new(),
                speaker: r.id.clone(),
                spec: cfg.spec.clone(),
                targets: cfg.spec.targets(),
                base_hash: rec.model.hash.clone(),
                base_name: rec.model.config.name.clone(),
                data_hash: stored.data_hashes.get(&r.id).cloned().unwrap_or_default(),
                hyper: hyper.clone(),
                metrics: r.base_wer.zip(r.best_wer).map(|(base_wer, wer)| Metrics {
                    base_wer,
                    wer,
                    heldout_utterances: heldout,
                    train_utterances: stored
                        .sets
                        .iter()
                        .find(|s| s.id == r.id)
                        .map_or(0, |s| s.train.len()),
                }),
                created: now_secs(),
                parent: None,
                space: cfg.space.clone(),
                checksum: String::new(),
            },
            table: r.adapter.clone(),
        };
        crate::library::add(home, &mut sub)?;
        saved.push(Saved {
            speaker: r.id.clone(),
            submodel: sub.meta.id,
            base_wer: r.base_wer,
            wer: r.best_wer,
            steps: r.steps,
            best_step: r.best_step,
        });
    }
    Ok(saved)
}
