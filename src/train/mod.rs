//! Personalization training: data preparation (`data`), the row-wise optimiser (`optim`), the
//! multi-speaker job loop (`job`), checkpoints (`checkpoint`) and the speaker-embedding space
//! (`space`). Only adapter weights train; the base is loaded as plain tensors and never changes.

pub mod checkpoint;
pub mod data;
pub mod job;
pub mod optim;
pub mod params;
pub mod prepare;
pub mod space_job;

use serde::{Deserialize, Serialize};

pub use data::SpeakerData;
pub use data::SpecAugment;
pub use job::{Outcome, SpeakerResult};
pub use optim::AdamW;

use crate::submodel::{Kind, Spec};

/// The default recipe, defined once: the adapter kind, its bottleneck / rank and the step budget.
pub const DEFAULT_KIND: Kind = Kind::Residual;
pub const DEFAULT_RANK: usize = 32;
pub const DEFAULT_MAX_STEPS: u64 = recipe_max_steps(DEFAULT_KIND);

/// Whether `kind` trains by the residual recipe: residual adapters, and (since hybrid recipe 4)
/// the hybrid's residual part plus its decoder LoRA: the instant start, speed perturbation and
/// weight averaging over the second half of its budget.
pub const fn residual_recipe(kind: Kind) -> bool {
    matches!(kind, Kind::Residual | Kind::Hybrid)
}

/// A kind's step budget. The residual recipe runs 240 since recipe 7: with speed perturbation
/// (three times the utterances) its validation speakers' mean test WER was 0.329 after 120 steps
/// (recipe 5), 0.289 after 180 (recipe 6, two seeds) and 0.287 after 240 (two seeds; README,
/// "Choosing the default", ⁷ and ⁹); the hybrid keeps the 180 its recipe 4 was measured with,
/// LoRA the 120 its recipe was chosen with.
pub const fn recipe_max_steps(kind: Kind) -> u64 {
    match kind {
        Kind::Residual => 240,
        Kind::Hybrid => 180,
        _ => 120,
    }
}

/// The residual recipe's speed perturbation (since recipe 5): each training utterance also at
/// 0.9× and 1.1× speed. Chosen on the validation population speakers (mean test WER of eight
/// speakers' kept adapters 0.323 against recipe 4's 0.336; README, "Choosing the default").
pub const DEFAULT_SPEEDS: [f64; 2] = [0.9, 1.1];

/// Hyper-parameters of a job (recorded in every submodel it produces).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainConfig {
    pub spec: Spec,
    pub max_steps: u64,
    /// Examples per speaker per step.
    pub batch: usize,
    /// Peak learning rate.
    pub lr: f64,
    pub warmup: u64,
    /// After warm-up the learning rate falls linearly to this fraction of its peak at the last
    /// step ([`recipe_lr_floor`]: 1 (no fall) in residual recipes 9 and 10, 0.1 in every other
    /// recipe).
    #[serde(default = "default_lr_floor")]
    pub lr_floor: f64,
    pub optim: AdamW,
    /// Held-out evaluation every this many steps.
    pub eval_every: u64,
    /// Evaluations without improvement before a speaker stops (0: never stop early).
    pub patience: usize,
    pub seed: u64,
    pub augment: SpecAugment,
    /// Speed perturbation: each training utterance also enters the job resampled by each of
    /// these factors (1.1 = 10 % faster and higher), Kaldi-style; empty: off.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub speeds: Vec<f64>,
    /// Weight averaging: from this step on, the kept adapter is the mean of the rows at every
    /// dev evaluation instead of the one with the best dev WER (None: keep the best).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_from: Option<u64>,
    /// Learning a space: the peak learning rate of its generator and bias while they train
    /// jointly with the population's embeddings (which use `lr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator_lr: Option<f64>,
    /// The default residual recipe's start: each speaker's instant submodel fitted in this
    /// speaker-embedding space on its first training utterances (None: fresh adapters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instant_start: Option<String>,
    /// Kind `embedding`: the speaker-embedding space the adapters come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space: Option<String>,
    /// The recipe these settings come from and any departures from it, e.g. `residual-2 (default)`
    /// or `hybrid-2, lr 0.001` (recorded in every submodel's metadata).
    #[serde(default)]
    pub recipe: String,
}

/// A kind's peak learning rate. Residual recipe 10 peaks at 3e-3: at recipe 9's constant rate,
/// a two-seed mean validation test WER of 0.268 against 2e-3's 0.271, ordinary speech 0.250
/// against 0.264 (README, "Choosing the default", ⁹). With recipe 6's falling rate 3e-3 had done
/// worse (1e-3 / 2e-3 / 3e-3: 0.350 / 0.282 / 0.292, ⁷). The hybrid and the embedding space keep
/// the 2e-3 they were measured with; LoRA's 3e-3: accent-de held-out WER 0.712 → 0.327 at 1e-3,
/// → 0.269 at 3e-3.
pub const fn recipe_lr(kind: Kind) -> f64 {
    match kind {
        Kind::Residual | Kind::Lora => 3e-3,
        Kind::Embedding | Kind::Hybrid => 2e-3,
    }
}

/// Where a recipe's learning rate ends, as a fraction of its peak, unless [`recipe_lr_floor`]
/// says otherwise (and where submodels written before the field existed ended).
pub const DEFAULT_LR_FLOOR: f64 = 0.1;

/// A kind's learning-rate floor. Residual recipes 9 and 10 keep their peak rate after warm-up
/// (SWA's schedule: the adapters averaged over the second half of the budget are collected at a
/// constant rate, so they differ more): on the validation speakers a two-seed mean test WER of
/// 0.271 against recipe 8's (half-peak floor) 0.287 on the same build, ordinary speech 0.264
/// against 0.286 (README, "Choosing the default", ⁹). The hybrid keeps the settings its recipe 4
/// was measured with.
pub const fn recipe_lr_floor(kind: Kind) -> f64 {
    match kind {
        Kind::Residual => 1.0,
        _ => DEFAULT_LR_FLOOR,
    }
}

fn default_lr_floor() -> f64 {
    DEFAULT_LR_FLOOR
}

impl TrainConfig {
    /// The learning rate of a row at its `step` when its schedule peaks at `peak`.
    pub fn lr_at(&self, step: u64, peak: f64) -> f64 {
        optim::schedule(step, self.warmup, self.max_steps, peak, self.lr_floor)
    }

    /// The default recipe for a kind.
    pub fn recipe(kind: Kind, rank: usize) -> Self {
        Self {
            spec: Spec::new(kind, rank),
            max_steps: recipe_max_steps(kind),
            batch: 8,
            lr: recipe_lr(kind),
            warmup: 10,
            lr_floor: recipe_lr_floor(kind),
            optim: AdamW::default(),
            eval_every: 10,
            // Recipe 2: the whole budget, the best dev checkpoint kept. Early stopping on ~16 dev
            // utterances (patience 3) stopped too early: over the five sample speakers' dev
            // parts the mean WER kept falling to step 100–120 (README, "Choosing the default").
            patience: 0,
            seed: 17,
            augment: SpecAugment {
                time_masks: 2,
                max_time: 20,
                freq_masks: 2,
                max_freq: 8,
            },
            speeds: if residual_recipe(kind) {
                DEFAULT_SPEEDS.to_vec()
            } else {
                Vec::new()
            },
            // Recipe 3 (residual): the mean of the adapters evaluated over the second half of
            // the budget instead of the single best one: 0.190 against 0.194 mean dev WER over the
            // five sample speakers on one trajectory (README, "Choosing the default"), and its
            // dev figure is one evaluation, not the best of thirteen.
            average_from: residual_recipe(kind).then_some(recipe_max_steps(kind) / 2),
            generator_lr: None,
            instant_start: None,
            space: None,
            recipe: recipe_name(kind, rank),
        }
    }

    /// Notes a departure from the recipe in its name.
    pub fn note(&mut self, what: impl std::fmt::Display) {
        self.recipe = format!("{}, {what}", self.recipe);
    }

    /// Fitting speakers' embeddings in a frozen space (the instant submodel): only `m` numbers
    /// per speaker train, on their few utterances, for a handful of steps and with no dev
    /// evaluations, so it takes seconds. Its settings were chosen on population speakers the
    /// shipped space was not learned from (`assets/space/README.md`).
    pub fn embedding_fit(rank: usize) -> Self {
        Self::fit(rank, FIT_STEPS, FIT_BATCH, FIT_VERSION)
    }

    /// The fit the default residual recipe (since 4) starts its adapters from: fit 4, four
    /// full-batch steps. Fit 5 did better for instant submodels on the validation speakers, but
    /// as this recipe's start its kept adapters did worse on the sample speakers' dev parts
    /// (mean 0.186 against 0.160), so the recipe keeps fit 4.
    pub fn start_fit(rank: usize) -> Self {
        Self::fit(rank, START_FIT_STEPS, START_FIT_BATCH, START_FIT_VERSION)
    }

    fn fit(rank: usize, steps: u64, batch: usize, version: u32) -> Self {
        let mut c = Self::recipe(Kind::Embedding, rank);
        c.lr = FIT_LR;
        c.max_steps = steps;
        c.batch = batch;
        c.warmup = 0;
        c.eval_every = 0;
        c.augment = SpecAugment::OFF;
        c.recipe = format!("embedding-fit-{version}");
        c
    }
}

/// The instant fit: steps, learning rate and examples per step. The learning rate belongs to
/// the shipped space: 3.0 suited the principal subspace alone; the jointly trained space's axes
/// move the adapter further per unit, and 1.0 did best there. Fit 5: ten steps of 4 of the 10
/// utterances instead of four full-batch steps (mean validation test WER 0.570 against 0.588, in
/// under 10 s; `assets/space/README.md`).
pub const FIT_STEPS: u64 = 10;
pub const FIT_LR: f64 = 1.0;
pub const FIT_BATCH: usize = 4;

/// The version of the instant fit's settings (its own numbering since 4, the first with a
/// jointly trained shipped space: it continues the adapter recipes' 2 and 3; 5: mini-batches).
pub const FIT_VERSION: u32 = 5;

/// Fit 4, the default residual recipe's start: four steps over all 10 utterances.
pub const START_FIT_STEPS: u64 = 4;
pub const START_FIT_BATCH: usize = 10;
pub const START_FIT_VERSION: u32 = 4;

/// The version of the adapter recipes (2: no early stopping; 3: the residual recipe keeps the
/// mean of the second half's evaluated adapters, the other kinds as in 2).
pub const RECIPE_VERSION: u32 = 3;

/// The residual recipe's own version since 4: it starts from each speaker's fit (4) in the
/// shipped space (set by the use-case layer, which knows the space), otherwise as 3; 5 adds
/// speed perturbation ([`DEFAULT_SPEEDS`]); 6 trains 180 steps instead of 120
/// ([`recipe_max_steps`]), averaging from step 90; 7 trains 240, averaging from 120; 8 lets the
/// learning rate fall to half its peak instead of a tenth; 9 keeps it at its peak after warm-up
/// ([`recipe_lr_floor`]); 10 peaks at 3e-3 instead of 2e-3 ([`recipe_lr`]).
pub const RESIDUAL_RECIPE_VERSION: u32 = 10;

/// The hybrid recipe's own version since 4: the residual recipe (6) for its residual part,
/// which starts from the instant fit, with its decoder LoRA fresh; 3 and before: the other
/// kinds' recipe (fresh adapters, 120 steps, no speed perturbation).
pub const HYBRID_RECIPE_VERSION: u32 = 4;

/// The version of `kind`'s recipe.
pub fn recipe_version(kind: Kind) -> u32 {
    match kind {
        Kind::Residual => RESIDUAL_RECIPE_VERSION,
        Kind::Hybrid => HYBRID_RECIPE_VERSION,
        _ => RECIPE_VERSION,
    }
}

/// A recipe's name: the kind and the recipe's version, `(default)` for the default one.
fn recipe_name(kind: Kind, rank: usize) -> String {
    let mut name = format!("{kind}-{}", recipe_version(kind));
    if rank != DEFAULT_RANK {
        name += &format!(", rank {rank}");
    } else if kind == DEFAULT_KIND {
        name += " (default)";
    }
    name
}

/// What a running job reports (to the TUI over a channel, or to stderr headless).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TrainEvent {
    Started {
        speakers: Vec<String>,
        max_steps: u64,
        params_per_speaker: usize,
    },
    Resumed {
        step: u64,
    },
    /// The job's adapters will start from each speaker's instant submodel: `speakers` fitted in
    /// `space` on their first `utterances` training utterances (seconds), before `Started`.
    InstantStart {
        space: String,
        speakers: usize,
        utterances: usize,
    },
    Step {
        step: u64,
        loss: f64,
        losses: Vec<Option<f64>>,
        elapsed: f64,
        eta: f64,
    },
    Eval {
        step: u64,
        speaker: String,
        wer: f64,
        best_wer: f64,
    },
    SpeakerStopped {
        step: u64,
        speaker: String,
        best_wer: f64,
    },
    /// A speaker's kept adapter is the mean of its rows at `evals` evaluation steps (rows taken
    /// without decoding dev, where nothing else needs it); `wer` is the mean adapter's dev WER.
    Averaged {
        speaker: String,
        evals: usize,
        wer: f64,
    },
}

/// Training failures.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{0}")]
    Data(String),
    #[error("checkpoint {}: {what}", file.display())]
    Checkpoint {
        file: std::path::PathBuf,
        what: String,
    },
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}
