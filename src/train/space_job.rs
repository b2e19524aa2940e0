//! Speaker-embedding space jobs: learn a space over a population (one residual adapter per
//! speaker from one common starting point, their principal subspace, then optionally the
//! generator, bias and embeddings trained jointly through the base), or enroll a new speaker by
//! fitting only its embedding with the space frozen.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use super::params::Params;
use super::{Outcome, SpeakerData, TrainConfig, TrainError, TrainEvent, job};
use crate::recognizer::Recognizer;
use crate::submodel::space::{Space, generate};
use crate::submodel::{AdapterTable, Kind, Spec};

/// Peak learning rate of the population's embeddings while the space trains jointly: they are
/// in units of the population's spread, so they need far larger steps than adapter weights.
pub const LEARN_EMBEDDING_LR: f64 = 0.05;

/// Trains space `name` (embedding size `dim`, at most one less than the number of speakers)
/// over `speakers`, then `learn_steps` joint steps of generator, bias and embeddings; `out.space`
/// holds the result and each speaker's result is its adapter as the space represents it (its
/// embedding through the generator).
#[allow(clippy::too_many_arguments)]
pub fn train_space(
    rec: &Recognizer,
    speakers: &[SpeakerData],
    cfg: &TrainConfig,
    name: &str,
    dim: usize,
    learn_steps: u64,
    checkpoint: Option<&Path>,
    progress: &mut dyn FnMut(TrainEvent),
    cancel: &AtomicBool,
) -> Result<Outcome, TrainError> {
    if speakers.len() < 2 || dim == 0 || dim >= speakers.len() {
        return Err(TrainError::Data(format!(
            "a space of dimension {dim} needs at least {} speakers (has {})",
            dim.max(1) + 1,
            speakers.len()
        )));
    }
    let m = &rec.model;
    // Every speaker starts from the same adapter, so the trained ones differ only by what each
    // speaker's data taught them, and their mean and principal axes mean something.
    let mut adapters_cfg = cfg.clone();
    adapters_cfg.spec = Spec::new(Kind::Residual, cfg.spec.rank);
    let start = AdapterTable::init(&adapters_cfg.spec, &m.config, 1, cfg.seed, m.device())?;
    let table = AdapterTable::stack(&vec![&start; speakers.len()])?;
    let mut out = job::run(
        rec,
        speakers,
        &adapters_cfg,
        Some(Params::Table(table)),
        checkpoint,
        progress,
        cancel,
    )?;
    if out.cancelled {
        return Ok(out);
    }
    let ids: Vec<String> = speakers.iter().map(|s| s.id.clone()).collect();
    let trained: Vec<AdapterTable> = out.speakers.iter().map(|r| r.adapter.clone()).collect();
    let mut space = Space::from_adapters(name, dim, &m.config, &trained, &ids, &m.hash)?;
    if learn_steps > 0 {
        let joint_cfg = joint_config(cfg, learn_steps);
        let params = Params::learn_space(space, &m.config)?;
        let joint = job::run(
            rec,
            speakers,
            &joint_cfg,
            Some(params),
            None,
            progress,
            cancel,
        )?;
        if joint.cancelled {
            return Ok(joint);
        }
        // Back in principal coordinates (unit-variance axes, the prior a fit starts from).
        let learned = joint.space.expect("a space job returns its space");
        let rows = generate(
            &learned.meta.spec,
            &learned.shapes(&m.config),
            &learned.e,
            &learned.g,
            &learned.b,
        )?;
        let rows = (0..ids.len())
            .map(|i| rows.row(i))
            .collect::<candle_core::Result<Vec<_>>>()?;
        space = Space::from_adapters(name, dim, &m.config, &rows, &ids, &m.hash)?;
        // The rows after the last step, in the joint phase's own coordinates.
        out.last = joint.last;
        out.steps += joint.steps;
        out.seconds += joint.seconds;
    }
    let shapes = space.shapes(&m.config);
    let projected = generate(&space.meta.spec, &shapes, &space.e, &space.g, &space.b)?;
    for (i, r) in out.speakers.iter_mut().enumerate() {
        r.adapter = projected.row(i)?;
    }
    out.space = Some(space);
    Ok(out)
}

/// Fits only the embedding of each speaker in `speakers` (starting from the prior mean, zero),
/// the space frozen: the low-data enrollment path.
pub fn fit_embeddings(
    rec: &Recognizer,
    speakers: &[SpeakerData],
    cfg: &TrainConfig,
    space: &Space,
    progress: &mut dyn FnMut(TrainEvent),
    cancel: &AtomicBool,
) -> Result<Outcome, TrainError> {
    let zero = space.start_embedding()?;
    let start = candle_core::Tensor::cat(&vec![&zero; speakers.len()], 0)?;
    let params = Params::space(space.clone(), &rec.model.config, &start)?;
    job::run(rec, speakers, cfg, Some(params), None, progress, cancel)
}

/// The joint phase of a space job: every speaker in every step, no dev passes (each speaker's
/// result is the space's final representation of it), the generator at the adapters' learning
/// rate and the embeddings at [`LEARN_EMBEDDING_LR`].
fn joint_config(cfg: &TrainConfig, steps: u64) -> TrainConfig {
    let mut c = cfg.clone();
    c.max_steps = steps;
    c.warmup = c.warmup.min(steps / 4);
    c.eval_every = 0;
    c.patience = 0;
    c.average_from = None;
    c.generator_lr = Some(cfg.lr);
    c.lr = LEARN_EMBEDDING_LR;
    c
}
