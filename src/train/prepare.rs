//! Turns utterances (from the speaker store or any set) into a job's `SpeakerData`: reads the
//! audio, computes each utterance's mel at its own encoder context, tokenizes the transcripts.

use crate::dataset::Utterance;
use crate::recognizer::Recognizer;

use super::data::{example, example_frames};
use super::{SpeakerData, TrainError};

/// A speaker's utterances before loading.
pub struct SpeakerSet {
    pub id: String,
    pub train: Vec<Utterance>,
    /// Early stopping and version choice only (never the test part).
    pub dev: Vec<Utterance>,
}

fn read(u: &Utterance) -> Result<Vec<f32>, TrainError> {
    crate::audio::read_wav(&u.audio).map_err(|e| TrainError::Data(e.to_string()))
}

/// Loads every speaker's audio and builds examples, each at its own dynamic encoder context —
/// the context inference will decode that utterance at.
pub fn prepare(rec: &Recognizer, sets: &[SpeakerSet]) -> Result<Vec<SpeakerData>, TrainError> {
    let mut loaded = Vec::new();
    for s in sets {
        if s.train.is_empty() {
            return Err(TrainError::Data(format!(
                "speaker {} has no training utterances",
                s.id
            )));
        }
        let train = s
            .train
            .iter()
            .map(|u| Ok((read(u)?, u.text.clone())))
            .collect::<Result<Vec<_>, TrainError>>()?;
        let dev = s
            .dev
            .iter()
            .map(|u| Ok((read(u)?, u.text.clone())))
            .collect::<Result<Vec<_>, TrainError>>()?;
        loaded.push((s.id.clone(), train, dev));
    }
    let cfg = &rec.model.config;
    loaded
        .into_iter()
        .map(|(id, train, dev)| {
            let train = train
                .iter()
                .map(|(a, text)| {
                    example(
                        &rec.frontend,
                        &rec.tokenizer,
                        cfg,
                        a,
                        text,
                        example_frames(a.len()),
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(SpeakerData { id, train, dev })
        })
        .collect()
}
