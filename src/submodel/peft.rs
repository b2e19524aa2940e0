//! Export of a LoRA submodel in the Hugging Face PEFT layout (`adapter_config.json` +
//! `adapter_model.safetensors`, HF Whisper key names) so `peft` and multi-LoRA servers load it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, tensor::TensorView};

use super::{Kind, Submodel};
use crate::util::atomic;

/// Errors exporting to PEFT.
#[derive(Debug, thiserror::Error)]
pub enum PeftError {
    #[error(
        "submodel {id} is a {kind} submodel: only LoRA submodels have a PEFT form (residual adapters are not a PEFT type); export it as a .safetensors file instead"
    )]
    NotLora { id: String, kind: Kind },
    #[error("submodel {id}: tensor {name} has no Hugging Face Whisper counterpart")]
    UnknownTensor { id: String, name: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("serializing the adapter: {0}")]
    Serialize(String),
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// The PEFT file name of the adapter config.
pub const CONFIG_FILE: &str = "adapter_config.json";
/// The PEFT file name of the adapter weights.
pub const WEIGHTS_FILE: &str = "adapter_model.safetensors";

/// PEFT key of one of our LoRA tensors, e.g. `dec.2.cross.v.a` →
/// `base_model.model.model.decoder.layers.2.encoder_attn.v_proj.lora_A.weight`.
pub fn peft_key(name: &str) -> Option<String> {
    let parts: Vec<&str> = name.split('.').collect();
    let [stack, layer, attn, proj, ab] = parts.as_slice() else {
        return None;
    };
    let stack = match *stack {
        "enc" => "encoder",
        "dec" => "decoder",
        _ => return None,
    };
    let attn = match (stack, *attn) {
        (_, "self") => "self_attn",
        ("decoder", "cross") => "encoder_attn",
        _ => return None,
    };
    let proj = match *proj {
        "q" => "q_proj",
        "v" => "v_proj",
        _ => return None,
    };
    let ab = match *ab {
        "a" => "lora_A",
        "b" => "lora_B",
        _ => return None,
    };
    layer.parse::<usize>().ok()?;
    Some(format!(
        "base_model.model.model.{stack}.layers.{layer}.{attn}.{proj}.{ab}.weight"
    ))
}

/// Hugging Face id of the base a submodel was trained on (`tiny.en` → `openai/whisper-tiny.en`);
/// a name that already looks like an HF id is kept.
pub fn hf_base_id(base_name: &str) -> String {
    if base_name.contains('/') {
        return base_name.to_string();
    }
    let size = base_name.strip_prefix("whisper-").unwrap_or(base_name);
    format!("openai/whisper-{size}")
}

/// One exported tensor: PEFT key, shape, row-major f32 values.
pub type PeftTensor = (String, Vec<usize>, Vec<f32>);

/// The PEFT tensors of a one-speaker LoRA submodel: `(key, shape, f32 values)`, with
/// `lora_A = aᵀ: [r, d_in]` and `lora_B = bᵀ: [d_out, r]` (PEFT computes `B(A x)·α/r`).
pub fn peft_tensors(sub: &Submodel) -> Result<Vec<PeftTensor>, PeftError> {
    let id = &sub.meta.id;
    if sub.table.spec.kind != Kind::Lora {
        return Err(PeftError::NotLora {
            id: id.clone(),
            kind: sub.table.spec.kind,
        });
    }
    let mut out = Vec::new();
    for (name, t) in &sub.table.tensors {
        let key = peft_key(name).ok_or_else(|| PeftError::UnknownTensor {
            id: id.clone(),
            name: name.clone(),
        })?;
        let m = t.get(0)?.t()?.contiguous()?; // [d_in, r] → [r, d_in]; [r, d_out] → [d_out, r]
        out.push((key, m.dims().to_vec(), m.flatten_all()?.to_vec1::<f32>()?));
    }
    Ok(out)
}

/// `adapter_config.json` for a LoRA submodel: only fields every `peft.LoraConfig` version knows
/// (attune's provenance goes in the weights file's metadata instead).
pub fn adapter_config(sub: &Submodel, base_model: &str) -> serde_json::Value {
    let spec = &sub.table.spec;
    let alpha = if spec.alpha.fract() == 0.0 {
        serde_json::json!(spec.alpha as i64)
    } else {
        serde_json::json!(spec.alpha)
    };
    serde_json::json!({
        "peft_type": "LORA",
        "task_type": null,
        "base_model_name_or_path": base_model,
        "r": spec.rank,
        "lora_alpha": alpha,
        "lora_dropout": 0.0,
        "target_modules": ["q_proj", "v_proj"],
        "bias": "none",
        "fan_in_fan_out": false,
        "inference_mode": true,
        "init_lora_weights": true,
        "modules_to_save": null,
        "layers_to_transform": null,
        "layers_pattern": null,
        "revision": null,
    })
}

/// Writes the PEFT directory `dir` (created if missing); `base_model` overrides the HF id of
/// the base. Returns the two files written.
pub fn export_peft(
    sub: &Submodel,
    dir: &Path,
    base_model: Option<&str>,
) -> Result<[PathBuf; 2], PeftError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PeftError::Io { path, source }
    };
    let tensors = peft_tensors(sub)?;
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .map(|(k, shape, v)| (k, shape, v.iter().flat_map(|x| x.to_le_bytes()).collect()))
        .collect();
    let views = bytes
        .iter()
        .map(|(k, shape, b)| Ok((k.clone(), TensorView::new(Dtype::F32, shape.clone(), b)?)))
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()
        .map_err(|e| PeftError::Serialize(e.to_string()))?;
    let m = &sub.meta;
    let meta = HashMap::from([
        ("format".to_string(), "pt".to_string()),
        ("attune_id".to_string(), m.id.clone()),
        ("attune_speaker".to_string(), m.speaker.clone()),
        ("attune_base_hash".to_string(), m.base_hash.clone()),
        ("attune_checksum".to_string(), m.checksum.clone()),
    ]);
    let weights = safetensors::serialize(views, Some(meta))
        .map_err(|e| PeftError::Serialize(e.to_string()))?;
    let base = base_model.map_or_else(|| hf_base_id(&sub.meta.base_name), str::to_string);
    let config = serde_json::to_vec_pretty(&adapter_config(sub, &base)).expect("config serializes");
    atomic::create_private_dir_all(dir).map_err(io(dir))?;
    let (wpath, cpath) = (dir.join(WEIGHTS_FILE), dir.join(CONFIG_FILE));
    atomic::write_atomic(&wpath, &weights).map_err(io(&wpath))?;
    atomic::write_atomic(&cpath, &config).map_err(io(&cpath))?;
    Ok([cpath, wpath])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_hf_whisper_names() {
        assert_eq!(
            peft_key("enc.0.self.q.a").unwrap(),
            "base_model.model.model.encoder.layers.0.self_attn.q_proj.lora_A.weight"
        );
        assert_eq!(
            peft_key("dec.3.cross.v.b").unwrap(),
            "base_model.model.model.decoder.layers.3.encoder_attn.v_proj.lora_B.weight"
        );
        assert_eq!(peft_key("enc.0.cross.q.a"), None);
        assert_eq!(peft_key("res.0.up"), None);
        assert_eq!(hf_base_id("tiny.en"), "openai/whisper-tiny.en");
        assert_eq!(hf_base_id("whisper-base"), "openai/whisper-base");
        assert_eq!(
            hf_base_id("distil-whisper/distil-small.en"),
            "distil-whisper/distil-small.en"
        );
    }
}
