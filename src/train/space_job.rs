//! Speaker-embedding space jobs: learn the shared generator and one embedding per speaker over
//! a population, or enroll a new speaker by fitting only its embedding with the generator frozen.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use super::params::Params;
use super::{Outcome, SpeakerData, TrainConfig, TrainError, TrainEvent, job};
use crate::recognizer::Recognizer;
use crate::submodel::space::Space;

/// Trains space `name` (embedding size `dim`) over `speakers`; `out.space` holds the result.
#[allow(clippy::too_many_arguments)]
pub fn train_space(
    rec: &Recognizer,
    speakers: &[SpeakerData],
    cfg: &TrainConfig,
    name: &str,
    dim: usize,
    checkpoint: Option<&Path>,
    progress: &mut dyn FnMut(TrainEvent),
    cancel: &AtomicBool,
) -> Result<Outcome, TrainError> {
    let ids: Vec<String> = speakers.iter().map(|s| s.id.clone()).collect();
    let m = &rec.model;
    let space = Space::init(
        name,
        cfg.spec.rank,
        dim,
        &m.config,
        &ids,
        &m.hash,
        cfg.seed,
        m.device(),
    )?;
    let e = space.e.clone();
    let params = Params::space(space, &m.config, &e, true)?;
    job::run(
        rec,
        speakers,
        cfg,
        Some(params),
        checkpoint,
        progress,
        cancel,
    )
}

/// Fits only the embedding of each speaker in `speakers` (starting from the population mean),
/// the generator frozen: the low-data enrollment path.
pub fn fit_embeddings(
    rec: &Recognizer,
    speakers: &[SpeakerData],
    cfg: &TrainConfig,
    space: &Space,
    progress: &mut dyn FnMut(TrainEvent),
    cancel: &AtomicBool,
) -> Result<Outcome, TrainError> {
    let mean = space.mean_embedding()?;
    let start = candle_core::Tensor::cat(&vec![&mean; speakers.len()], 0)?;
    let params = Params::space(space.clone(), &rec.model.config, &start, false)?;
    job::run(rec, speakers, cfg, Some(params), None, progress, cancel)
}
