//! The training loop: one adapter table for every speaker of the job, mixed batches through the
//! frozen base once per step, per-row AdamW, dev WER evaluation with early stopping per
//! speaker, progress events, cancellation and checkpoints.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use candle_core::Tensor;
use candle_core::backprop::GradStore;

use super::checkpoint::{Checkpoint, SpeakerState};
use super::data::{Example, SpeakerData, StepBatch, assemble};
use super::optim::RowAdamW;
use super::params::Params;
use super::{TrainConfig, TrainError, TrainEvent};
use crate::eval::{Normalizer, corpus, score};
use crate::model::kernels;
use crate::model::layers::Stack;
use crate::recognizer::Recognizer;
use crate::submodel::AdapterTable;

/// What a job produced for one speaker.
#[derive(Debug, Clone)]
pub struct SpeakerResult {
    pub id: String,
    pub base_wer: Option<f64>,
    pub best_wer: Option<f64>,
    pub best_step: u64,
    pub steps: u64,
    /// The best row (the last one when there is no dev set), as a one-speaker table.
    pub adapter: AdapterTable,
}

/// Result of a job.
pub struct Outcome {
    pub speakers: Vec<SpeakerResult>,
    /// Every row's weights after the last step (used by the fused-equals-separate test).
    pub last: AdapterTable,
    /// The trained speaker-embedding space, for space jobs.
    pub space: Option<crate::submodel::space::Space>,
    pub steps: u64,
    pub seconds: f64,
    pub cancelled: bool,
}

/// A speaker's seed: the job seed mixed with its id, so it does not depend on its position.
pub fn speaker_seed(seed: u64, id: &str) -> u64 {
    id.bytes().fold(seed ^ 0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// Fresh (identity) adapters of `cfg.spec`, one row per speaker, each seeded by
/// [`speaker_seed`]: a job's start when nothing else is given.
pub fn fresh(
    rec: &Recognizer,
    cfg: &TrainConfig,
    ids: &[&str],
) -> candle_core::Result<AdapterTable> {
    let rows = ids
        .iter()
        .map(|id| {
            let seed = speaker_seed(cfg.seed, id);
            AdapterTable::init(&cfg.spec, &rec.model.config, 1, seed, rec.model.device())
        })
        .collect::<candle_core::Result<Vec<_>>>()?;
    AdapterTable::stack(&rows.iter().collect::<Vec<_>>())
}

/// Corpus WER on (audio, text) pairs of the base (`None`) or of one row of an adapter table.
pub fn set_wer(
    rec: &Recognizer,
    adapter: Option<(&AdapterTable, u32)>,
    pairs: &[(Vec<f32>, String)],
) -> Result<f64, TrainError> {
    let audios: Vec<&[f32]> = pairs.iter().map(|(a, _)| a.as_slice()).collect();
    let hyps = match adapter {
        None => rec.transcribe_base_memo(&audios, 8, rec.options)?,
        Some((table, row)) => rec.transcribe_with(&audios, 8, |rows| {
            Ok(Some(table.gather(&vec![row; rows.len()])?))
        })?,
    };
    let scores: Vec<_> = pairs
        .iter()
        .zip(&hyps)
        .map(|((_, r), h)| score(r, &h.text, &Normalizer::english()))
        .collect();
    Ok(corpus(&scores).wer)
}

/// Runs a job. `params` overrides what trains (default: fresh adapters, one row per speaker);
/// `checkpoint` names a file to resume from (if present) and to write at every evaluation.
pub fn run(
    rec: &Recognizer,
    speakers: &[SpeakerData],
    cfg: &TrainConfig,
    params: Option<Params>,
    checkpoint: Option<&std::path::Path>,
    progress: &mut dyn FnMut(TrainEvent),
    cancel: &AtomicBool,
) -> Result<Outcome, TrainError> {
    let model = &rec.model;
    let dev = model.device().clone();
    let wcfg = &model.config;
    // Fresh adapters are the identity, so their first evaluation is the base's WER; other
    // starting points (a space's mean adapter, a submodel to refine) need the base scored on its
    // own.
    let starts_at_base = match &params {
        None => true,
        Some(Params::Table(t)) => t.is_identity()?,
        Some(Params::Space { .. }) => false,
    };
    let seeds: Vec<u64> = speakers
        .iter()
        .map(|s| speaker_seed(cfg.seed, &s.id))
        .collect();
    let mut params = match params {
        Some(p) => p,
        None => {
            let ids: Vec<&str> = speakers.iter().map(|s| s.id.as_str()).collect();
            Params::Table(fresh(rec, cfg, &ids)?)
        }
    };
    let row_vars = params.row_vars()?;
    let mut opt = RowAdamW::new(cfg.optim, &row_vars, speakers.len())?;
    // A space's generator, while it is learned, trains as one row shared by every speaker. Such
    // a job is short and keeps no checkpoint (its start, the population's adapters, does).
    let shared_vars = params.shared_vars();
    let mut shared_opt = RowAdamW::new(cfg.optim, &shared_vars, 1)?;
    let checkpoint = checkpoint.filter(|_| shared_vars.is_empty());
    let mut states: Vec<SpeakerState> = speakers
        .iter()
        .zip(&seeds)
        .map(|(s, &seed)| SpeakerState::new(s.train.len(), seed))
        .collect();
    let first = params.table()?;
    let mut best: Vec<AdapterTable> = (0..speakers.len())
        .map(|i| first.row(i))
        .collect::<candle_core::Result<_>>()?;
    // Weight averaging falls back to the starting rows (copies: `first` shares the variables).
    let starts = match cfg.average_from {
        Some(_) => best.clone(),
        None => Vec::new(),
    };
    // `eval_every` 0: no dev evaluations at all (a fit of a few numbers, timed in seconds);
    // every speaker's result is its last row.
    let evals = cfg.eval_every > 0;
    if evals && !starts_at_base {
        for (sp, st) in speakers
            .iter()
            .zip(states.iter_mut())
            .filter(|(sp, _)| !sp.dev.is_empty())
        {
            st.base_wer = Some(set_wer(rec, None, &sp.dev)?);
        }
    }
    let mut step = 0u64;
    if let Some(path) = checkpoint.filter(|p| p.exists()) {
        let ck = Checkpoint::load(path, &dev)?;
        ck.check_matches(cfg, speakers)?;
        ck.restore(&row_vars, &mut opt, &mut states, &mut best)?;
        step = ck.step;
        progress(TrainEvent::Resumed { step });
    }
    progress(TrainEvent::Started {
        speakers: speakers.iter().map(|s| s.id.clone()).collect(),
        max_steps: cfg.max_steps,
        params_per_speaker: first.params_per_speaker(),
    });
    let save = |step: u64, opt: &RowAdamW, states: &[SpeakerState], best: &[AdapterTable]| {
        checkpoint.map_or(Ok(()), |path| {
            Checkpoint::capture(step, cfg, speakers, &row_vars, opt, states, best)?.save(path)
        })
    };
    let start = Instant::now();
    // The ETA counts only the steps this process ran (a resumed job's clock starts at resume).
    let first_step = step;
    let prompt_len = wcfg.prompt().len();
    let mut cancelled = false;
    // A fit (no augmentation, every training utterance in every step, no LoRA update in encoder
    // block 0) sees the same batches every step: they are assembled once, with
    // what the frozen base computes for them (the encoder's stem and block 0), until a speaker
    // stops early.
    let mut repeats = cfg.augment.is_off()
        && speakers.iter().all(|s| cfg.batch >= s.train.len())
        && !cfg
            .spec
            .lora_sites(wcfg)
            .iter()
            .any(|s| s.stack == Stack::Encoder && s.layer == 0);
    let mut buckets: Vec<(StepBatch, Option<Tensor>)> = Vec::new();
    loop {
        if cancel.load(Ordering::Relaxed) {
            cancelled = true;
            break;
        }
        let finished = step >= cfg.max_steps || states.iter().all(|s| s.done);
        if evals && (finished || step.is_multiple_of(cfg.eval_every)) {
            let table = params.table()?;
            evaluate(
                rec,
                &table,
                speakers,
                &mut states,
                &mut best,
                step,
                cfg,
                progress,
            )?;
            save(step, &opt, &states, &best)?;
        }
        if finished || states.iter().all(|s| s.done) {
            break;
        }
        let present: Vec<bool> = states.iter().map(|s| !s.done).collect();
        let mut groups = Vec::new();
        for (i, (sp, st)) in speakers
            .iter()
            .zip(states.iter_mut())
            .enumerate()
            .filter(|(_, (_, st))| !st.done)
        {
            let own_step = opt.steps[i];
            let picks = st.sampler.next_batch(cfg.batch);
            let group: Vec<(&Example, u64)> = picks
                .iter()
                .enumerate()
                .map(|(k, &e)| (&sp.train[e], st.seed ^ (own_step << 16) ^ k as u64))
                .collect();
            groups.push((i as u32, group));
        }
        repeats &= states.iter().all(|s| !s.done);
        if !repeats || buckets.is_empty() {
            let batches = assemble(
                &groups,
                wcfg.n_mels,
                prompt_len,
                cfg.augment,
                wcfg.tokens.eot,
                &dev,
            )?;
            let prefixes = if repeats {
                batches
                    .iter()
                    .map(|b| model.encoder.frozen_prefix(&b.mel).map(Some))
                    .collect::<candle_core::Result<Vec<_>>>()?
            } else {
                vec![None; batches.len()]
            };
            buckets = batches.into_iter().zip(prefixes).collect();
        }
        let table = params.table()?;
        // One backward per micro-batch, gradients summed: the loss is a sum over examples, so
        // this equals one backward over the whole step while only one micro-batch's graph
        // (activations) is alive at a time.
        let mut grads = GradStore::default();
        let mut loss = 0f64;
        let mut losses = vec![None; speakers.len()];
        for (batch, prefix) in &buckets {
            let hooks = table.gather(&batch.ids)?;
            let audio = match prefix {
                Some(p) => model.encoder.forward_from_prefix(p, &hooks, true)?,
                None => model.encode(&batch.mel, &hooks, true)?,
            };
            let h = model.decoder.forward(&batch.input, &audio, &hooks, true)?; // [B, L, d]
            // Logits only where the loss looks: the vocabulary projection is the decoder's
            // largest GEMM, and prompt and padding positions had weight 0.
            let h = h.flatten_to(1)?.index_select(&batch.scored, 0)?; // [N, d]
            let nll = kernels::token_nll(&model.decoder.logits(&h)?, &batch.target)?; // [N]
            let weighted = (nll * &batch.weight)?;
            let sum = weighted.sum_all()?;
            let g = sum.backward()?;
            accumulate(&mut grads, &g, &row_vars)?;
            accumulate(&mut grads, &g, &shared_vars)?;
            let mut weighted = weighted.to_vec1::<f32>()?.into_iter();
            for (&n, &i) in batch.per_row.iter().zip(&batch.ids) {
                let row: f64 = weighted.by_ref().take(n).map(f64::from).sum();
                loss += row;
                *losses[i as usize].get_or_insert(0.0) += row;
            }
        }
        let lr: Vec<f64> = opt.steps.iter().map(|&t| cfg.lr_at(t, cfg.lr)).collect();
        opt.step(&row_vars, &grads, &present, &lr)?;
        if !shared_vars.is_empty() {
            let peak = cfg.generator_lr.unwrap_or(cfg.lr);
            let lr = cfg.lr_at(shared_opt.steps[0], peak);
            shared_opt.step(&shared_vars, &grads, &[true], &[lr])?;
        }
        step += 1;
        let elapsed = start.elapsed().as_secs_f64();
        let eta =
            elapsed / (step - first_step).max(1) as f64 * cfg.max_steps.saturating_sub(step) as f64;
        progress(TrainEvent::Step {
            step,
            loss,
            losses,
            elapsed,
            eta,
        });
    }
    if cfg.average_from.is_some() && evals && !cancelled {
        score_averages(rec, speakers, &mut states, &mut best, &starts, progress)?;
    }
    let table = params.table()?;
    let last = AdapterTable {
        spec: table.spec.clone(),
        tensors: table.detached()?,
        speakers: table.speakers,
    };
    let results = speakers
        .iter()
        .zip(&states)
        .zip(best)
        .enumerate()
        .map(|(i, ((sp, st), b))| SpeakerResult {
            id: sp.id.clone(),
            base_wer: st.base_wer,
            best_wer: st.best_wer,
            best_step: st.best_step,
            steps: opt.steps[i],
            adapter: if sp.dev.is_empty() || !evals {
                last.row(i).expect("row exists")
            } else {
                b
            },
        })
        .collect();
    let space = params.current_space()?;
    Ok(Outcome {
        speakers: results,
        last,
        space,
        steps: step,
        seconds: start.elapsed().as_secs_f64(),
        cancelled,
    })
}

/// Adds the trainable variables' gradients in `g` to `acc` and drops the rest: candle's backward
/// also returns gradients for constants it met (inputs, frozen norms and biases), new tensors
/// for every micro-batch, which kept like this would hold a whole step's worth of memory.
fn accumulate(
    acc: &mut GradStore,
    g: &GradStore,
    vars: &std::collections::BTreeMap<String, candle_core::Var>,
) -> candle_core::Result<()> {
    for var in vars.values() {
        let t = var.as_tensor();
        if let Some(new) = g.get(t) {
            let sum = match acc.get(t) {
                Some(old) => (old + new)?,
                None => new.clone(),
            };
            acc.insert(t, sum);
        }
    }
    Ok(())
}

/// Scores every active speaker on its dev set (where [`decodes_dev`]), keeps the best row (with
/// weight averaging, from `average_from` on, the running mean of the rows instead), applies
/// early stopping.
#[allow(clippy::too_many_arguments)]
fn evaluate(
    rec: &Recognizer,
    table: &AdapterTable,
    speakers: &[SpeakerData],
    states: &mut [SpeakerState],
    best: &mut [AdapterTable],
    step: u64,
    cfg: &TrainConfig,
    progress: &mut dyn FnMut(TrainEvent),
) -> Result<(), TrainError> {
    let frozen = AdapterTable {
        spec: table.spec.clone(),
        tensors: table.detached()?,
        speakers: table.speakers,
    };
    for (i, (sp, st)) in speakers.iter().zip(states.iter_mut()).enumerate() {
        if st.done || sp.dev.is_empty() || st.last_eval == Some(step) {
            continue;
        }
        st.last_eval = Some(step);
        if cfg.average_from.is_some_and(|from| step >= from) {
            // Running mean: kept ← kept + (row − kept) / n.
            st.averaged += 1;
            best[i] = running_mean(&best[i], &frozen.row(i)?, st.averaged)?;
        }
        if !decodes_dev(cfg, step) {
            continue;
        }
        let wer = set_wer(rec, Some((&frozen, i as u32)), &sp.dev)?;
        if st.base_wer.is_none() {
            st.base_wer = Some(wer);
        }
        if step == 0 {
            st.start_wer = Some(wer);
        }
        if st.best_wer.is_none_or(|b| wer < b) {
            st.best_wer = Some(wer);
            st.best_step = step;
            st.evals_since_best = 0;
            // Until averaging starts (or if it never does) the best row is kept.
            if st.averaged == 0 {
                best[i] = frozen.row(i)?;
            }
        } else {
            st.evals_since_best += 1;
        }
        progress(TrainEvent::Eval {
            step,
            speaker: sp.id.clone(),
            wer,
            best_wer: st.best_wer.unwrap_or(wer),
        });
        if cfg.patience > 0 && st.evals_since_best >= cfg.patience {
            st.done = true;
            progress(TrainEvent::SpeakerStopped {
                step,
                speaker: sp.id.clone(),
                best_wer: st.best_wer.unwrap_or(wer),
            });
        }
    }
    Ok(())
}

/// Whether an evaluation at `step` decodes the dev set. With weight averaging over a budget the
/// job reaches and no early stopping, the kept adapter is the mean of the rows at the evaluation
/// steps from `average_from` on, or the start where that scored better on dev: only the start's
/// and the mean's dev WERs decide, so the evaluations between only take their row (decoding them
/// took 11–14 % of a residual recipe 7 job's time and changed nothing it kept).
fn decodes_dev(cfg: &TrainConfig, step: u64) -> bool {
    step == 0 || cfg.patience > 0 || cfg.average_from.is_none_or(|from| from > cfg.max_steps)
}

/// `mean + (row − mean) / n`: the mean of `n` rows given the mean of the first `n − 1`.
fn running_mean(
    mean: &AdapterTable,
    row: &AdapterTable,
    n: usize,
) -> candle_core::Result<AdapterTable> {
    if n <= 1 {
        return Ok(row.clone());
    }
    let tensors = mean
        .tensors
        .iter()
        .map(|(k, m)| {
            let next = (m + ((&row.tensors[k] - m)? / n as f64)?)?;
            Ok((k.clone(), next))
        })
        .collect::<candle_core::Result<_>>()?;
    Ok(AdapterTable {
        spec: mean.spec.clone(),
        tensors,
        speakers: mean.speakers,
    })
}

/// Weight averaging's end: every averaged speaker's kept adapter (the mean of its rows from
/// `average_from` on) is scored on dev once; that figure replaces the best single evaluation's.
/// Where the starting adapter (`starts`: the identity, or the submodel a refine started from)
/// scored better on dev at step 0, the start is kept instead, so training never ends worse than
/// where it began.
fn score_averages(
    rec: &Recognizer,
    speakers: &[SpeakerData],
    states: &mut [SpeakerState],
    kept: &mut [AdapterTable],
    starts: &[AdapterTable],
    progress: &mut dyn FnMut(TrainEvent),
) -> Result<(), TrainError> {
    for (i, ((sp, st), kept)) in speakers
        .iter()
        .zip(states.iter_mut())
        .zip(kept.iter_mut())
        .enumerate()
    {
        if st.averaged == 0 || sp.dev.is_empty() {
            continue;
        }
        let wer = set_wer(rec, Some((kept, 0)), &sp.dev)?;
        progress(TrainEvent::Averaged {
            speaker: sp.id.clone(),
            evals: st.averaged,
            wer,
        });
        match st.start_wer.filter(|&start| start < wer) {
            Some(start) => {
                *kept = starts[i].clone();
                st.best_wer = Some(start);
                st.best_step = 0;
            }
            None => {
                st.best_wer = Some(wer);
                // An averaged speaker was evaluated at least once.
                st.best_step = st.last_eval.unwrap_or_default();
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor, Var};
    use std::collections::BTreeMap;

    #[test]
    fn accumulation_sums_variable_gradients_and_drops_the_constants() {
        let dev = Device::Cpu;
        let x = Var::new(&[1f32, 2.0], &dev).unwrap();
        let vars = BTreeMap::from([("x".to_string(), x.clone())]);
        let mut acc = GradStore::default();
        for scale in [3f32, 5.0] {
            let c = Tensor::new(&[scale, scale], &dev).unwrap();
            let g = (x.as_tensor() * &c)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            assert!(
                g.get(&c).is_some(),
                "candle also returns the constant's gradient"
            );
            accumulate(&mut acc, &g, &vars).unwrap();
            assert!(acc.get(&c).is_none());
        }
        assert_eq!(acc.get_ids().count(), 1);
        let gx = acc.get(x.as_tensor()).unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(gx, vec![8.0, 8.0]);
    }
}
