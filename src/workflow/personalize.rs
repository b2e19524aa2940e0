//! Personalize: train submodels for one speaker, several in one fused job, an embedding space
//! over a population, or a fit from a space (only the embedding trains). Reads the speakers' data
//! from the store, runs the job with checkpoints (resume after a crash or quit), cancel and
//! progress events, and adds the results to the library. Both front ends call [`run`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use serde::{Deserialize, Serialize};

use super::compare::{self, TestSet};
use super::job_slots::{JobFiles, claim};
pub use super::job_slots::{discard, unfinished};
use super::{Result, WorkflowError, Workspace, spaces, start};
use crate::enroll::split::Parts;
use crate::eval::Normalizer;
use crate::library;
use crate::model::config::WhisperConfig;
use crate::recognizer::Recognizer;
use crate::store::speakers::SpeakerStore;
use crate::submodel::file::{FORMAT_VERSION, GenericWer, Metrics, TEST_PROTOCOL};
use crate::submodel::{Kind, Submodel, SubmodelMeta};
use crate::train::prepare::{SpeakerSet, prepare};
use crate::train::{
    DEFAULT_KIND, DEFAULT_RANK, Outcome, SpecAugment, TrainConfig, TrainEvent, job,
    residual_recipe, space_job,
};
use crate::util::atomic::write_atomic;

/// What a job trains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Plan {
    /// One adapter per speaker, all in one job.
    Adapters { kind: Kind, rank: usize },
    /// Learn speaker-embedding space `name` (generator + one `dim`-sized embedding per speaker);
    /// each speaker also gets a kind-`embedding` submodel.
    Space {
        name: String,
        dim: usize,
        rank: usize,
        /// Steps of joint training (generator, bias and embeddings through the base) after the
        /// principal subspace; 0: the principal subspace as it is.
        #[serde(default, skip_serializing_if = "is_zero")]
        joint_steps: u64,
    },
    /// Enroll with little data ("instant"): fit only each speaker's embedding in space `name`,
    /// the shipped space when `None`.
    FromSpace { name: Option<String> },
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Default for Plan {
    fn default() -> Self {
        Plan::Adapters {
            kind: DEFAULT_KIND,
            rank: DEFAULT_RANK,
        }
    }
}

/// Departures from the recipe's hyper-parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Overrides {
    pub max_steps: Option<u64>,
    /// Examples per speaker per step.
    pub batch: Option<usize>,
    pub lr: Option<f64>,
    /// Where the learning rate ends, as a fraction of its peak (the recipes: 0.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr_floor: Option<f64>,
    pub seed: Option<u64>,
    /// Evaluations without held-out improvement before a speaker stops (0: never).
    pub patience: Option<usize>,
    /// Speed perturbation factors (e.g. 0.9, 1.1): each training utterance also at each speed;
    /// empty: none (the residual recipe perturbs by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speeds: Option<Vec<f64>>,
    /// Weight averaging: keep the mean of the adapters at the evaluation steps from this one on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_from: Option<u64>,
    /// The residual recipe from fresh adapters, without its instant start.
    #[serde(default, skip_serializing_if = "is_false")]
    pub from_zero: bool,
    /// LoRA scaling numerator α (kinds `lora` and `hybrid`): updates are scaled by α / rank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lora_alpha: Option<f64>,
    /// SpecAugment widths: each time mask spans at most this many frames, each frequency mask
    /// at most this many mel bins (the recipe's two of each; `(0, 0)`: no masking).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_augment: Option<(usize, usize)>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One training job as a user asks for it. Stored beside its checkpoint so that an interrupted
/// job can be offered for resuming.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub speakers: Vec<String>,
    #[serde(default)]
    pub plan: Plan,
    #[serde(default)]
    pub overrides: Overrides,
    /// Only the first N training utterances of each speaker (learning curves).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Refine: adapters start from this submodel (e.g. an instant one fitted in a space) instead
    /// of fresh ones; its step-0 dev score is kept if training never beats it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
}

impl Request {
    /// The default recipe for `speakers`.
    pub fn new(speakers: Vec<String>) -> Self {
        Self {
            speakers,
            plan: Plan::default(),
            overrides: Overrides::default(),
            limit: None,
            start: None,
        }
    }

    /// The job's hyper-parameters: the recipe of its plan with the overrides applied.
    pub fn config(&self) -> TrainConfig {
        let mut c = match &self.plan {
            Plan::Adapters { kind, rank } => {
                let mut c = TrainConfig::recipe(*kind, *rank);
                // Recipe 4: a residual adapter (and since hybrid recipe 4 a hybrid's residual
                // part) starts from the speaker's instant submodel in the shipped space (whose
                // adapters are r32), unless it refines a stored one.
                if residual_recipe(*kind) && self.start.is_none() {
                    if *rank == DEFAULT_RANK && !self.overrides.from_zero {
                        c.instant_start = Some(spaces::SHIPPED_NAME.into());
                    } else {
                        c.note("from zero");
                    }
                }
                c
            }
            Plan::Space {
                name,
                rank,
                joint_steps,
                ..
            } => {
                let mut c = TrainConfig::recipe(Kind::Embedding, *rank);
                c.space = Some(name.clone());
                // One dev pass per speaker every 20 steps: a population has dozens of speakers.
                c.eval_every = 20;
                if *joint_steps > 0 {
                    c.note(format_args!("then {joint_steps} joint steps"));
                }
                c
            }
            Plan::FromSpace { name } => {
                let mut c = TrainConfig::embedding_fit(DEFAULT_RANK);
                c.space = Some(name.clone().unwrap_or_else(|| spaces::SHIPPED_NAME.into()));
                c
            }
        };
        if let Some(id) = &self.start {
            c.note(format_args!("refined from {id}"));
        }
        let o = &self.overrides;
        depart(&mut c, o.max_steps, |c| &mut c.max_steps, "max steps");
        if c.average_from.is_some() {
            // A recipe that averages does so over the second half of whatever budget it runs.
            c.average_from = Some(c.max_steps / 2);
        }
        depart(&mut c, o.batch, |c| &mut c.batch, "batch");
        depart(&mut c, o.lr, |c| &mut c.lr, "lr");
        depart(&mut c, o.lr_floor, |c| &mut c.lr_floor, "lr floor");
        depart(&mut c, o.seed, |c| &mut c.seed, "seed");
        depart(&mut c, o.patience, |c| &mut c.patience, "patience");
        depart(&mut c, o.lora_alpha, |c| &mut c.spec.alpha, "lora alpha");
        if let Some((time, freq)) = o.spec_augment
            && (c.augment.max_time, c.augment.max_freq) != (time, freq)
        {
            c.augment = match (time, freq) {
                (0, 0) => SpecAugment::OFF,
                _ => SpecAugment {
                    max_time: time,
                    max_freq: freq,
                    ..c.augment
                },
            };
            c.note(format_args!("spec augment {time}/{freq}"));
        }
        if let Some(from) = o.average_from.filter(|f| c.average_from != Some(*f)) {
            c.note(format_args!("mean of evaluations from step {from}"));
            c.average_from = Some(from);
        }
        if let Some(speeds) = o.speeds.as_ref().filter(|s| **s != c.speeds) {
            if speeds.is_empty() {
                c.note("no speed perturbation");
            } else {
                let list: Vec<String> = speeds.iter().map(f64::to_string).collect();
                c.note(format_args!("speeds {}", list.join("/")));
            }
            c.speeds = speeds.clone();
        }
        c
    }

    /// Refuses a request that cannot run: no speakers, a learning-rate floor outside (0, 1], or a
    /// LoRA scale that is not a positive number or has no LoRA updates to scale.
    pub fn check(&self) -> Result<()> {
        if self.speakers.is_empty() {
            return Err(WorkflowError::Invalid("no speakers to train".into()));
        }
        if let Some(floor) = self.overrides.lr_floor
            && !(floor > 0.0 && floor <= 1.0)
        {
            return Err(WorkflowError::Invalid(format!(
                "lr floor is a fraction of the peak learning rate, in (0, 1], not {floor}"
            )));
        }
        if let Some(alpha) = self.overrides.lora_alpha {
            let kind = self.config().spec.kind;
            if !matches!(kind, Kind::Lora | Kind::Hybrid) {
                return Err(WorkflowError::Invalid(format!(
                    "a {kind} submodel has no LoRA updates to scale (lora alpha is for kinds lora and hybrid)"
                )));
            }
            if !(alpha.is_finite() && alpha > 0.0) {
                return Err(WorkflowError::Invalid(format!(
                    "lora alpha must be a positive number, not {alpha}"
                )));
            }
        }
        Ok(())
    }

    /// Refuses SpecAugment widths that mask a whole utterance of the base `wcfg`: a frequency
    /// mask as wide as its mel bins or a time mask as long as its 30 s window.
    pub fn check_masks(&self, wcfg: &WhisperConfig) -> Result<()> {
        let Some((time, freq)) = self.overrides.spec_augment else {
            return Ok(());
        };
        let frames = 2 * wcfg.n_audio_ctx;
        if time >= frames || freq >= wcfg.n_mels {
            return Err(WorkflowError::Invalid(format!(
                "spec augment {time},{freq}: a time mask must be shorter than the base's {frames} \
                 frames and a frequency mask narrower than its {} mel bins",
                wcfg.n_mels
            )));
        }
        Ok(())
    }

    /// Identifies the job (same request → same checkpoint): 16 hex digits.
    pub fn key(&self) -> String {
        let json = serde_json::to_string(self).expect("a request serializes");
        crate::util::hash::sha256_hex(json.as_bytes())[..16].to_string()
    }

    /// A one-line description: `3 speakers (accent-de, …), residual r32, 240 steps`.
    pub fn describe(&self) -> String {
        let who = match self.speakers.as_slice() {
            [one] => one.clone(),
            many => format!("{} speakers ({})", many.len(), many.join(", ")),
        };
        let what = match &self.plan {
            Plan::Adapters { kind, rank } => format!("{kind} r{rank}"),
            Plan::Space {
                name,
                dim,
                joint_steps,
                ..
            } => match joint_steps {
                0 => format!("space {name} (m = {dim})"),
                n => format!("space {name} (m = {dim}, {n} joint steps)"),
            },
            Plan::FromSpace { name } => format!(
                "instant fit in space {}",
                name.as_deref().unwrap_or(spaces::SHIPPED_NAME)
            ),
        };
        let config = self.config();
        let what = match (&self.start, config.instant_start) {
            (Some(id), _) => format!("{what} refined from {id}"),
            (None, Some(_)) => format!("{what} from an instant fit"),
            (None, None) => what,
        };
        format!("{who}: {what}, {} steps", config.max_steps)
    }
}

/// Applies an override that departs from the recipe's value, and names it in the recipe.
fn depart<T: PartialEq + std::fmt::Display>(
    c: &mut TrainConfig,
    value: Option<T>,
    field: impl Fn(&mut TrainConfig) -> &mut T,
    name: &str,
) {
    if let Some(v) = value
        && *field(c) != v
    {
        c.note(format_args!("{name} {v}"));
        *field(c) = v;
    }
}

/// One submodel a job added to the library, with the figures it was saved with.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    pub speaker: String,
    pub submodel: String,
    /// Test-part figures (`None` when the speaker has no test utterances yet).
    pub metrics: Option<Metrics>,
    /// How many more utterances to record for a meaningful test part (0: enough).
    pub record_more: usize,
    pub steps: u64,
    pub best_step: u64,
}

impl Saved {
    /// `0.441 → 0.221 (test, 17 utt.), better [0.08, 0.36]` or why there is no figure.
    pub fn describe(&self) -> String {
        let mut out = match &self.metrics {
            Some(m) => {
                let ci = m
                    .ci95
                    .map(|[lo, hi]| format!(" [{lo:.2}, {hi:.2}]"))
                    .unwrap_or_default();
                format!(
                    "test WER {:.3} → {:.3} ({} utt.), {}{ci}",
                    m.base_wer,
                    m.wer,
                    m.test_utterances,
                    m.verdict.as_deref().unwrap_or("no interval")
                )
            }
            None => "no test utterances yet".into(),
        };
        if self.record_more > 0 {
            out.push_str(&format!(
                "; record about {} more for a meaningful test",
                self.record_more
            ));
        }
        if let Some(g) = self.metrics.as_ref().and_then(|m| m.generic)
            && g.regressed()
        {
            out.push_str(&format!(
                "; WARNING ordinary speech worse: {:.3} → {:.3}",
                g.base_wer, g.wer
            ));
        }
        out
    }
}

/// What a job produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Personalized {
    pub saved: Vec<Saved>,
    /// Where a space job saved its space.
    pub space: Option<PathBuf>,
    pub cancelled: bool,
    pub seconds: f64,
}

/// Stored speakers ready for [`prepare`] (train and dev parts), each one's test part (read only
/// after training, for the report) and manifest hash.
struct StoredSets {
    sets: Vec<SpeakerSet>,
    tests: BTreeMap<String, Parts>,
    data_hashes: BTreeMap<String, String>,
}

/// Loads speakers `ids` from the store, split into train / dev / test by phrase.
fn speaker_sets(ws: &Workspace, ids: &[String], limit: Option<usize>) -> Result<StoredSets> {
    let store = SpeakerStore::new(&ws.home);
    let mut out = StoredSets {
        sets: Vec::new(),
        tests: BTreeMap::new(),
        data_hashes: BTreeMap::new(),
    };
    for id in ids {
        let sp = store.open(id)?;
        let mut parts = crate::enroll::split::partition(sp.utterances()?);
        if let Some(n) = limit {
            parts.train.truncate(n);
        }
        out.data_hashes.insert(id.clone(), sp.manifest_hash()?);
        out.sets.push(SpeakerSet {
            id: id.clone(),
            train: parts.train.clone(),
            dev: parts.dev.clone(),
        });
        out.tests.insert(id.clone(), parts);
    }
    Ok(out)
}

/// Runs a job and adds its submodels to the library. With `resume`, continues from the job's
/// checkpoint when there is one; otherwise starts fresh. A cancelled job saves nothing and
/// forgets its checkpoint; a killed process leaves it for [`unfinished`].
pub fn run(
    ws: &Workspace,
    rec: &Recognizer,
    req: &Request,
    resume: bool,
    progress: &mut dyn FnMut(TrainEvent),
    cancel: &AtomicBool,
) -> Result<Personalized> {
    req.check()?;
    req.check_masks(&rec.model.config)?;
    let (files, lock) = claim(ws, &req.key(), resume)?;
    let json = serde_json::to_vec(req).expect("a request serializes");
    write_atomic(&files.request, &json).map_err(WorkflowError::io(&files.request))?;
    let result = run_job(ws, rec, req, &files, progress, cancel);
    // Finished, cancelled or failed: nothing to resume. Only a killed process leaves the files.
    files.remove();
    drop(lock);
    result
}

fn run_job(
    ws: &Workspace,
    rec: &Recognizer,
    req: &Request,
    files: &JobFiles,
    progress: &mut dyn FnMut(TrainEvent),
    cancel: &AtomicBool,
) -> Result<Personalized> {
    let mut cfg = req.config();
    let stored = speaker_sets(ws, &req.speakers, req.limit)?;
    let data = prepare(rec, &stored.sets, &cfg.speeds)?;
    let ckpt = Some(files.checkpoint.as_path());
    let mut space_path = None;
    let out = match &req.plan {
        Plan::Adapters { .. } => {
            let start = match &req.start {
                Some(id) => Some(start::from_submodel(ws, rec, id, &cfg, &req.speakers)?),
                None => {
                    let train: Vec<usize> = stored.sets.iter().map(|s| s.train.len()).collect();
                    start::instant(ws, rec, &mut cfg, &data, &train, progress, cancel)?
                }
            };
            job::run(rec, &data, &cfg, start, ckpt, progress, cancel)?
        }
        Plan::Space {
            name,
            dim,
            joint_steps,
            ..
        } => {
            library::check_name(name)?;
            if name == spaces::SHIPPED_NAME {
                return Err(WorkflowError::Invalid(format!(
                    "{name} is the shipped space"
                )));
            }
            let out = space_job::train_space(
                rec,
                &data,
                &cfg,
                name,
                *dim,
                *joint_steps,
                ckpt,
                progress,
                cancel,
            )?;
            if !out.cancelled {
                let path = spaces::space_file(ws, name)?;
                out.space
                    .as_ref()
                    .expect("a space job returns its space")
                    .save(&path)?;
                space_path = Some(path);
            }
            out
        }
        Plan::FromSpace { name } => {
            let (space, _) = spaces::load(ws, rec, name.as_deref())?;
            cfg.spec = space.meta.spec.clone();
            space_job::fit_embeddings(rec, &data, &cfg, &space, progress, cancel)?
        }
    };
    let saved = if out.cancelled {
        Vec::new()
    } else {
        save_results(ws, rec, &cfg, req, &stored, &out)?
    };
    Ok(Personalized {
        saved,
        space: space_path,
        cancelled: out.cancelled,
        seconds: out.seconds,
    })
}

/// Adds every speaker's result of a finished job to the library as that speaker's next version,
/// with its hyper-parameters, data hash, the exact training utterances and its figures: the test
/// part scored now (base, stock, submodel, paired-bootstrap interval) and ordinary speech. A
/// speaker deleted while the job ran gets nothing saved.
fn save_results(
    ws: &Workspace,
    rec: &Recognizer,
    cfg: &TrainConfig,
    req: &Request,
    stored: &StoredSets,
    out: &Outcome,
) -> Result<Vec<Saved>> {
    let hyper: BTreeMap<String, serde_json::Value> =
        serde_json::from_value(serde_json::to_value(cfg).expect("config serializes"))
            .expect("config is a JSON object");
    let store = SpeakerStore::new(&ws.home);
    // Ordinary speech: the clips are read once, the base scored on them once per job.
    let generic: Vec<(Vec<f32>, String)> = ws
        .generic_dir()
        .and_then(|g| compare::load(ws, &TestSet::Path(g)))
        .map(|g| g.utts.into_iter().map(|(u, a)| (a, u.text)).collect())
        .unwrap_or_default();
    let mut generic_base = None;
    let mut saved = Vec::new();
    for r in &out.speakers {
        if store.open(&r.id).is_err() {
            tracing::warn!("speaker {} was deleted during training; not saved", r.id);
            continue;
        }
        let parts = stored.tests.get(&r.id).cloned().unwrap_or_default();
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
                metrics: None,
                created: crate::util::time::now_secs(),
                parent: req.start.clone(),
                trained_on: parts.train.iter().map(|u| u.id.clone()).collect(),
                limit: req.limit,
                space: cfg.space.clone(),
                digests: Default::default(),
                checksum: String::new(),
            },
            table: r.adapter.clone(),
        };
        let test = compare::load(ws, &TestSet::Utterances(parts.test.clone()))?;
        if !test.utts.is_empty() {
            let report =
                compare::evaluate(rec, Some(&sub), &test.utts, Normalizer::english(), 8, true)?;
            let generic = if generic.is_empty() {
                None
            } else {
                let base_wer = match generic_base {
                    Some(w) => w,
                    None => *generic_base.insert(job::set_wer(rec, None, &generic)?),
                };
                Some(GenericWer {
                    base_wer,
                    wer: job::set_wer(rec, Some((&sub.table, 0)), &generic)?,
                })
            };
            sub.meta.metrics = report.submodel.as_ref().map(|s| Metrics {
                base_wer: report.base.wer,
                wer: s.wer,
                test_utterances: test.utts.len(),
                train_utterances: parts.train.len(),
                protocol: TEST_PROTOCOL.into(),
                dev_wer: r.best_wer,
                dev_utterances: parts.dev.len(),
                stock_wer: report.stock.as_ref().map(|c| c.wer),
                ci95: report.ci95,
                verdict: report.verdict.map(|v| v.to_string()),
                generic,
            });
        }
        library::add(&ws.home, &mut sub)?;
        saved.push(Saved {
            speaker: r.id.clone(),
            submodel: sub.meta.id,
            metrics: sub.meta.metrics,
            record_more: parts.more_needed(),
            steps: r.steps,
            best_step: r.best_step,
        });
    }
    Ok(saved)
}

#[cfg(test)]
#[path = "personalize_tests.rs"]
mod tests;
