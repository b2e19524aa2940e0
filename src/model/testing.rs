//! Random-weight Whisper models of any (tiny) config, for numeric tests and benchmarks.

use std::collections::{BTreeMap, HashMap};

use candle_core::{Device, Tensor};

use super::weights::{RawTensor, Weights, sinusoids};
use super::{ModelError, Whisper, WhisperConfig};
use crate::util::rng::Rng;

/// Names and shapes of every stored tensor of `cfg` (HF Whisper names; the encoder's sinusoidal
/// positions are not stored).
pub fn tensor_shapes(cfg: &WhisperConfig) -> Vec<(String, Vec<usize>)> {
    let (d, t) = (cfg.n_audio_state, cfg.n_text_state);
    let mut v: Vec<(String, Vec<usize>)> = vec![
        ("model.encoder.conv1.weight".into(), vec![d, cfg.n_mels, 3]),
        ("model.encoder.conv1.bias".into(), vec![d]),
        ("model.encoder.conv2.weight".into(), vec![d, d, 3]),
        ("model.encoder.conv2.bias".into(), vec![d]),
        ("model.encoder.layer_norm.weight".into(), vec![d]),
        ("model.encoder.layer_norm.bias".into(), vec![d]),
        (
            "model.decoder.embed_tokens.weight".into(),
            vec![cfg.n_vocab, t],
        ),
        (
            "model.decoder.embed_positions.weight".into(),
            vec![cfg.n_text_ctx, t],
        ),
        ("model.decoder.layer_norm.weight".into(), vec![t]),
        ("model.decoder.layer_norm.bias".into(), vec![t]),
    ];
    let attn = |v: &mut Vec<(String, Vec<usize>)>, p: String, d: usize| {
        for proj in ["q_proj", "k_proj", "v_proj", "out_proj"] {
            v.push((format!("{p}.{proj}.weight"), vec![d, d]));
            if proj != "k_proj" {
                v.push((format!("{p}.{proj}.bias"), vec![d]));
            }
        }
        v.push((format!("{p}_layer_norm.weight"), vec![d]));
        v.push((format!("{p}_layer_norm.bias"), vec![d]));
    };
    let mlp = |v: &mut Vec<(String, Vec<usize>)>, p: &str, d: usize| {
        v.push((format!("{p}.fc1.weight"), vec![4 * d, d]));
        v.push((format!("{p}.fc1.bias"), vec![4 * d]));
        v.push((format!("{p}.fc2.weight"), vec![d, 4 * d]));
        v.push((format!("{p}.fc2.bias"), vec![d]));
        v.push((format!("{p}.final_layer_norm.weight"), vec![d]));
        v.push((format!("{p}.final_layer_norm.bias"), vec![d]));
    };
    for i in 0..cfg.n_audio_layer {
        let p = format!("model.encoder.layers.{i}");
        attn(&mut v, format!("{p}.self_attn"), d);
        mlp(&mut v, &p, d);
    }
    for i in 0..cfg.n_text_layer {
        let p = format!("model.decoder.layers.{i}");
        attn(&mut v, format!("{p}.self_attn"), t);
        attn(&mut v, format!("{p}.encoder_attn"), t);
        mlp(&mut v, &p, t);
    }
    v
}

/// Random raw tensors for `cfg`: layer-norm scales near 1, everything else small uniform.
pub fn random_raw(cfg: &WhisperConfig, seed: u64) -> BTreeMap<String, RawTensor> {
    let mut rng = Rng::new(seed);
    tensor_shapes(cfg)
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

impl Whisper {
    /// A model of `cfg` with random weights (deterministic in `seed`).
    pub fn random(cfg: &WhisperConfig, seed: u64, dev: &Device) -> Result<Self, ModelError> {
        let w = weights_from_raw(cfg, &random_raw(cfg, seed), dev)?;
        Self::from_weights(cfg.clone(), w, format!("random-{seed}"), "<random>".into())
    }
}
