//! Writes a merged model as a Hugging Face Whisper directory — `model.safetensors` (f32 or f16),
//! `config.json`, `generation_config.json`, tokenizer files and `preprocessor_config.json` — for
//! `transformers` and servers without LoRA support.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, tensor::TensorView};
use serde_json::{Value, json};

use super::{ExportError, Merged, Precision, merge::ENCODER_POSITIONS, vocab};
use crate::model::weights::sinusoids;

/// `config.json` of `WhisperForConditionalGeneration`.
pub fn config_json(m: &Merged, precision: Precision) -> Value {
    let c = &m.config;
    let t = &c.tokens;
    json!({
        "architectures": ["WhisperForConditionalGeneration"],
        "model_type": "whisper",
        "vocab_size": c.n_vocab,
        "num_mel_bins": c.n_mels,
        "d_model": c.n_audio_state,
        "encoder_layers": c.n_audio_layer,
        "encoder_attention_heads": c.n_audio_head,
        "encoder_ffn_dim": 4 * c.n_audio_state,
        "decoder_layers": c.n_text_layer,
        "decoder_attention_heads": c.n_text_head,
        "decoder_ffn_dim": 4 * c.n_text_state,
        "num_hidden_layers": c.n_audio_layer,
        "max_source_positions": c.n_audio_ctx,
        "max_target_positions": c.n_text_ctx,
        "activation_function": "gelu",
        "scale_embedding": false,
        "tie_word_embeddings": true,
        "is_encoder_decoder": true,
        "use_cache": true,
        "dropout": 0.0,
        "attention_dropout": 0.0,
        "activation_dropout": 0.0,
        "encoder_layerdrop": 0.0,
        "decoder_layerdrop": 0.0,
        "init_std": 0.02,
        "apply_spec_augment": false,
        "bos_token_id": t.eot,
        "eos_token_id": t.eot,
        "pad_token_id": t.eot,
        "decoder_start_token_id": t.sot,
        "suppress_tokens": c.suppress,
        "begin_suppress_tokens": c.suppress_at_begin,
        "torch_dtype": if precision == Precision::F16 { "float16" } else { "float32" },
    })
}

/// `generation_config.json`: the decoding constants `generate` needs.
pub fn generation_config(m: &Merged, tokens: &[String]) -> Value {
    let c = &m.config;
    let t = &c.tokens;
    let multilingual = t.english.is_some();
    let mut g = json!({
        "bos_token_id": t.eot,
        "eos_token_id": t.eot,
        "pad_token_id": t.eot,
        "decoder_start_token_id": t.sot,
        "max_length": c.n_text_ctx,
        "no_timestamps_token_id": t.no_timestamps,
        "suppress_tokens": c.suppress,
        "begin_suppress_tokens": c.suppress_at_begin,
        "is_multilingual": multilingual,
        "alignment_heads": super::ct2::alignment_heads(&c.name, c.n_text_layer, c.n_text_head),
    });
    if multilingual {
        let langs: serde_json::Map<String, Value> = vocab::language_ids(tokens, t.sot)
            .into_iter()
            .map(|id| (tokens[id as usize].clone(), json!(id)))
            .collect();
        g["lang_to_id"] = Value::Object(langs);
        let id = |s: &str| tokens.iter().position(|x| x == s);
        g["task_to_id"] =
            json!({ "transcribe": id("<|transcribe|>"), "translate": id("<|translate|>") });
    }
    g
}

/// `vocab.json` and `merges.txt` (the slow tokenizer's files) from `tokenizer.json`.
fn vocab_and_merges(tokenizer_json: &[u8]) -> Result<(Value, String), ExportError> {
    let v: Value = serde_json::from_slice(tokenizer_json)
        .map_err(|e| ExportError::Tokenizer(e.to_string()))?;
    let vocab = v["model"]["vocab"].clone();
    let mut merges = String::from("#version: 0.2\n");
    for m in v["model"]["merges"].as_array().into_iter().flatten() {
        // Older tokenizer.json files write "a b", newer ones ["a", "b"].
        match m {
            Value::String(s) => merges.push_str(s),
            Value::Array(p) => {
                let parts: Vec<&str> = p.iter().filter_map(Value::as_str).collect();
                merges.push_str(&parts.join(" "));
            }
            _ => continue,
        }
        merges.push('\n');
    }
    Ok((vocab, merges))
}

/// The bytes of `model.safetensors`: every tensor (encoder positions included, as HF stores
/// them) at f32 or f16.
pub fn safetensors_bytes(m: &Merged, precision: Precision) -> Result<Vec<u8>, ExportError> {
    let dtype = match precision {
        Precision::F32 => Dtype::F32,
        Precision::F16 => Dtype::F16,
        Precision::Int8 => {
            return Err(ExportError::Precision {
                format: super::Format::Hf,
                precision,
                allowed: "f16 or f32",
            });
        }
    };
    let c = &m.config;
    let pos = crate::model::weights::RawTensor {
        shape: vec![c.n_audio_ctx, c.n_audio_state],
        data: sinusoids(c.n_audio_ctx, c.n_audio_state),
    };
    let enc_pos = ENCODER_POSITIONS.to_string();
    let owned: Vec<(&String, Vec<usize>, Vec<u8>)> = m
        .tensors
        .iter()
        .chain([(&enc_pos, &pos)])
        .map(|(name, t)| {
            let bytes = match dtype {
                Dtype::F16 => t
                    .data
                    .iter()
                    .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
                    .collect(),
                _ => t.data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            };
            (name, t.shape.clone(), bytes)
        })
        .collect();
    let views = owned
        .iter()
        .map(|(name, shape, b)| {
            TensorView::new(dtype, shape.clone(), b)
                .map(|v| ((*name).clone(), v))
                .map_err(|e| ExportError::Shape {
                    what: format!("{name}: {e}"),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let meta = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::serialize(views, Some(meta)).map_err(|e| ExportError::Shape {
        what: e.to_string(),
    })
}

/// Writes the directory `dir` (created if missing); returns the files written.
pub fn write(m: &Merged, dir: &Path, precision: Precision) -> Result<Vec<PathBuf>, ExportError> {
    let weights = safetensors_bytes(m, precision)?;
    let tokens = vocab::tokens(&m.tokenizer, m.config.n_vocab)?;
    let (vocab_json, merges) = vocab_and_merges(&m.tokenizer)?;
    let eot = tokens
        .get(m.config.tokens.eot as usize)
        .cloned()
        .unwrap_or_else(|| "<|endoftext|>".into());
    let tok_cfg = json!({
        "tokenizer_class": "WhisperTokenizer",
        "model_max_length": 1024,
        "add_prefix_space": false,
        "errors": "replace",
        "bos_token": eot, "eos_token": eot, "unk_token": eot, "pad_token": eot,
    });
    super::make_dir(dir)?;
    Ok(vec![
        super::write_file(&dir.join("model.safetensors"), &weights)?,
        super::write_json(dir, "config.json", &config_json(m, precision))?,
        super::write_json(
            dir,
            "generation_config.json",
            &generation_config(m, &tokens),
        )?,
        super::write_file(&dir.join("tokenizer.json"), &m.tokenizer)?,
        super::write_json(dir, "tokenizer_config.json", &tok_cfg)?,
        super::write_json(dir, "vocab.json", &vocab_json)?,
        super::write_file(&dir.join("merges.txt"), merges.as_bytes())?,
        super::write_json(
            dir,
            "preprocessor_config.json",
            &super::preprocessor_config(&m.config),
        )?,
    ])
}
