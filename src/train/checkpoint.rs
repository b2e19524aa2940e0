//! Job checkpoints: adapter table, AdamW moments, best rows and per-speaker progress in one
//! safetensors file (written atomically), so a killed job resumes where it stopped.

use std::collections::BTreeMap;
use std::path::Path;

use candle_core::{Device, Tensor, Var};
use serde::{Deserialize, Serialize};

use super::data::{Sampler, SpeakerData};
use super::optim::RowAdamW;
use super::{TrainConfig, TrainError};
use crate::submodel::AdapterTable;
use crate::tensor_io;
use crate::util::atomic::write_private_file;

const HEADER_KEY: &str = "job";

/// Per-speaker progress of a job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SpeakerState {
    #[serde(skip, default = "placeholder_sampler")]
    pub sampler: Sampler,
    pub sampler_state: (usize, u64),
    pub n_train: usize,
    pub seed: u64,
    pub base_wer: Option<f64>,
    pub best_wer: Option<f64>,
    pub best_step: u64,
    pub evals_since_best: usize,
    pub done: bool,
    pub last_eval: Option<u64>,
    /// Rows averaged so far into the kept adapter (weight averaging only).
    #[serde(default)]
    pub averaged: usize,
    /// Dev WER of the starting adapter (step 0): weight averaging keeps the start when the mean
    /// does worse.
    #[serde(default)]
    pub start_wer: Option<f64>,
}

fn placeholder_sampler() -> Sampler {
    Sampler::new(0, 0)
}

impl SpeakerState {
    pub fn new(n_train: usize, seed: u64) -> Self {
        Self {
            sampler: Sampler::new(n_train, seed),
            sampler_state: (0, 0),
            n_train,
            seed,
            base_wer: None,
            best_wer: None,
            best_step: 0,
            evals_since_best: 0,
            done: false,
            last_eval: None,
            averaged: 0,
            start_wer: None,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    step: u64,
    config: String,
    speakers: Vec<String>,
    opt_steps: Vec<u64>,
    states: Vec<SpeakerState>,
}

/// A loaded or captured checkpoint.
pub struct Checkpoint {
    pub step: u64,
    header: Header,
    tensors: BTreeMap<String, Tensor>,
}

fn bad(file: &Path, what: impl Into<String>) -> TrainError {
    TrainError::Checkpoint {
        file: file.to_path_buf(),
        what: what.into(),
    }
}

fn config_key(cfg: &TrainConfig) -> String {
    serde_json::to_string(cfg).expect("config serializes")
}

impl Checkpoint {
    pub fn capture(
        step: u64,
        cfg: &TrainConfig,
        speakers: &[SpeakerData],
        vars: &BTreeMap<String, Var>,
        opt: &RowAdamW,
        states: &[SpeakerState],
        best: &[AdapterTable],
    ) -> Result<Self, TrainError> {
        let mut tensors = BTreeMap::new();
        for (name, v) in vars {
            tensors.insert(format!("var.{name}"), v.as_tensor().detach().copy()?);
            let mo = &opt.moments[name];
            tensors.insert(format!("m.{name}"), mo.m.copy()?);
            tensors.insert(format!("v.{name}"), mo.v.copy()?);
        }
        for name in best[0].tensors.keys() {
            let rows: Vec<&Tensor> = best.iter().map(|b| &b.tensors[name]).collect();
            tensors.insert(format!("best.{name}"), Tensor::cat(&rows, 0)?);
        }
        let mut states = states.to_vec();
        for s in &mut states {
            s.sampler_state = s.sampler.state();
        }
        let header = Header {
            step,
            config: config_key(cfg),
            speakers: speakers.iter().map(|s| s.id.clone()).collect(),
            opt_steps: opt.steps.clone(),
            states,
        };
        Ok(Self {
            step,
            header,
            tensors,
        })
    }

    pub fn save(&self, path: &Path) -> Result<(), TrainError> {
        let header = serde_json::to_string(&self.header).map_err(|e| bad(path, e.to_string()))?;
        let tensors = self.tensors.iter().map(|(k, t)| (k.clone(), t));
        let bytes = tensor_io::serialize(tensors, HEADER_KEY, header).map_err(|e| bad(path, e))?;
        write_private_file(path, &bytes).map_err(|e| bad(path, e.to_string()))
    }

    pub fn load(path: &Path, dev: &Device) -> Result<Self, TrainError> {
        let bytes = std::fs::read(path).map_err(|e| bad(path, e.to_string()))?;
        let json = tensor_io::header(&bytes, HEADER_KEY)
            .map_err(|e| bad(path, e))?
            .ok_or_else(|| bad(path, "no job header"))?;
        let header: Header = serde_json::from_str(&json).map_err(|e| bad(path, e.to_string()))?;
        let tensors = tensor_io::read_all(&bytes, dev).map_err(|e| bad(path, e))?;
        Ok(Self {
            step: header.step,
            header,
            tensors,
        })
    }

    /// Refuses a checkpoint of a different job (other speakers or hyper-parameters).
    pub fn check_matches(
        &self,
        cfg: &TrainConfig,
        speakers: &[SpeakerData],
    ) -> Result<(), TrainError> {
        let ids: Vec<String> = speakers.iter().map(|s| s.id.clone()).collect();
        if self.header.speakers != ids || self.header.config != config_key(cfg) {
            return Err(TrainError::Data(
                "the checkpoint belongs to a job with other speakers or settings (or one started \
                 under an older recipe); start the job afresh (without --resume, or discard it \
                 in the workbench)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Puts the saved state back into a freshly set-up job.
    pub fn restore(
        &self,
        vars: &BTreeMap<String, Var>,
        opt: &mut RowAdamW,
        states: &mut [SpeakerState],
        best: &mut [AdapterTable],
    ) -> Result<(), TrainError> {
        let get = |k: String| {
            self.tensors
                .get(&k)
                .ok_or_else(|| TrainError::Data(format!("checkpoint lacks {k}")))
        };
        for (name, v) in vars {
            v.set(get(format!("var.{name}"))?)?;
            let mo = opt
                .moments
                .get_mut(name)
                .expect("moments exist for every var");
            mo.m = get(format!("m.{name}"))?.clone();
            mo.v = get(format!("v.{name}"))?.clone();
        }
        opt.steps = self.header.opt_steps.clone();
        for (name, rows) in self
            .tensors
            .iter()
            .filter_map(|(k, t)| Some((k.strip_prefix("best.")?, t)))
        {
            for (i, b) in best.iter_mut().enumerate() {
                b.tensors
                    .insert(name.to_string(), rows.narrow(0, i, 1)?.copy()?);
            }
        }
        for (s, saved) in states.iter_mut().zip(&self.header.states) {
            *s = saved.clone();
            s.sampler = Sampler::restore(saved.n_train, saved.seed, saved.sampler_state);
        }
        Ok(())
    }
}
