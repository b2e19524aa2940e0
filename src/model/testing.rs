//! Random-weight Whisper models of any (tiny) config, for numeric tests and benchmarks.

use std::collections::{BTreeMap, HashMap};

use candle_core::{Device, Tensor};

use super::weights::{RawTensor, Weights, sinusoids};
use super::{ModelError, Whisper, WhisperConfig};
use crate::util::rng::Rng;

/// Random raw tensors for `cfg`: layer-norm scales near 1, everything else small uniform.
pub fn random_raw(cfg: &WhisperConfig, seed: u64) -> BTreeMap<String, RawTensor> {
    let mut rng = Rng::new(seed);
    cfg.tensor_shapes()
        .into_iter()
        .map(|(name, shape)| {
            let n: usize = shape.iter().product();
            let fan_in = if shape.len() > 1 {
                shape[1..].iter().product::<usize>()
            } else {
                1
            };
            let scale = (1.0 / fan_in as f32).sqrt();
            let is_ln_scale = name.contains("layer_norm.weight");
            let data = (0..n)
                .map(|_| {
                    if is_ln_scale {
                        1.0 + 0.1 * rng.uniform()
                    } else {
                        scale * rng.uniform()
                    }
                })
                .collect();
            (name, RawTensor { shape, data })
        })
        .collect()
}

/// Weights (incl. sinusoidal encoder positions) from raw tensors.
pub fn weights_from_raw(
    cfg: &WhisperConfig,
    raw: &BTreeMap<String, RawTensor>,
    dev: &Device,
) -> candle_core::Result<Weights> {
    let mut tensors = HashMap::new();
    for (name, t) in raw {
        tensors.insert(name.clone(), t.to_tensor(dev)?);
    }
    let pos = sinusoids(cfg.n_audio_ctx, cfg.n_audio_state);
    tensors.insert(
        "model.encoder.embed_positions.weight".into(),
        Tensor::from_vec(pos, (cfg.n_audio_ctx, cfg.n_audio_state), dev)?,
    );
    Ok(Weights {
        tensors,
        int8: Default::default(),
        device: dev.clone(),
    })
}

/// The largest absolute element-wise difference of two tensors of one shape (panics on error:
/// for tests).
pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .and_then(|d| d.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>())
        .expect("tensors of one shape")
}

impl Whisper {
    /// A model of `cfg` with random weights (deterministic in `seed`).
    pub fn random(cfg: &WhisperConfig, seed: u64, dev: &Device) -> Result<Self, ModelError> {
        let w = weights_from_raw(cfg, &random_raw(cfg, seed), dev)?;
        Self::from_weights(cfg.clone(), w, format!("random-{seed}"), "<random>".into())
    }
}
