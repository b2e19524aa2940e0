//! `attune base import`: reads a CTranslate2 Whisper directory (`model.bin`) or a Hugging Face one
//! (`model.safetensors` + `config.json`) and writes the project's base format.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use half::{bf16, f16};
use safetensors::{Dtype, SafeTensors};
use serde_json::Value;

use super::config::{SpecialTokens, WhisperConfig};
use super::weights::{Precision, RawTensor, encode_base_as, model_file, tokenizer_file};
use super::{ModelError, ct2};

/// Imported tensors by HF Whisper name.
pub type Tensors = BTreeMap<String, RawTensor>;

fn bad(file: &Path, what: impl Into<String>) -> ModelError {
    ModelError::BadFile {
        file: file.to_path_buf(),
        what: what.into(),
    }
}

/// A converted base ready to be written.
pub struct Imported {
    pub config: WhisperConfig,
    pub tensors: Tensors,
    pub tokenizer: Vec<u8>,
}

/// Reads whichever layout `dir` holds.
pub fn import_dir(dir: &Path, name: &str) -> Result<Imported, ModelError> {
    let tok_path = tokenizer_file(dir);
    let tokenizer = std::fs::read(&tok_path).map_err(|e| ModelError::io(&tok_path, e))?;
    let tok: Value = serde_json::from_slice(&tokenizer)
        .map_err(|e| bad(&tok_path, format!("not a tokenizer.json: {e}")))?;
    let (mut config, tensors) = if dir.join("model.bin").exists() {
        read_ct2(dir)?
    } else if dir.join("model.safetensors").exists() {
        read_hf(dir)?
    } else {
        return Err(bad(
            dir,
            "holds neither model.bin (CTranslate2) nor model.safetensors (HF)",
        ));
    };
    config.name = name.to_string();
    config.tokens = special_tokens(&tok, config.n_vocab, &tok_path)?;
    if config.suppress_at_begin.is_empty() {
        config.suppress_at_begin = vec![220, config.tokens.eot];
    }
    Ok(Imported {
        config,
        tensors,
        tokenizer,
    })
}

/// Writes `imported` into `out` (`model.safetensors` + `tokenizer.json`) with int8 matrices;
/// returns the model path.
pub fn write_base(imported: &Imported, out: &Path) -> Result<PathBuf, ModelError> {
    write_base_as(imported, out, Precision::Int8)
}

/// Writes `imported` into `out` with its matrices stored at `precision`.
pub fn write_base_as(
    imported: &Imported,
    out: &Path,
    precision: Precision,
) -> Result<PathBuf, ModelError> {
    crate::util::atomic::create_private_dir_all(out).map_err(|e| ModelError::io(out, e))?;
    let bytes = encode_base_as(&imported.config, &imported.tensors, precision)?;
    let model = model_file(out);
    crate::util::atomic::write_atomic(&model, &bytes).map_err(|e| ModelError::io(&model, e))?;
    let tok = tokenizer_file(out);
    crate::util::atomic::write_atomic(&tok, &imported.tokenizer)
        .map_err(|e| ModelError::io(&tok, e))?;
    Ok(model)
}

fn special_tokens(tok: &Value, n_vocab: usize, file: &Path) -> Result<SpecialTokens, ModelError> {
    let find = |content: &str| -> Option<u32> {
        tok["added_tokens"]
            .as_array()?
            .iter()
            .find(|t| t["content"] == content)
            .and_then(|t| t["id"].as_u64())
            .map(|id| id as u32)
    };
    let need =
        |content: &str| find(content).ok_or_else(|| bad(file, format!("no {content} token")));
    let no_timestamps = need("<|notimestamps|>")?;
    // Multilingual checkpoints have one more token than the English-only ones (51865 vs 51864).
    let multilingual = n_vocab >= 51865;
    Ok(SpecialTokens {
        eot: need("<|endoftext|>")?,
        sot: need("<|startoftranscript|>")?,
        no_timestamps,
        english: if multilingual { find("<|en|>") } else { None },
        transcribe: if multilingual {
            find("<|transcribe|>")
        } else {
            None
        },
        timestamp_begin: no_timestamps + 1,
        // Left unset so that imported bases stay byte-identical to those written before the
        // field existed; `Whisper::load` resolves it from the tokenizer.
        no_speech: None,
    })
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_u64())
                .map(|x| x as u32)
                .collect()
        })
        .unwrap_or_default()
}

/// Converts CTranslate2 variables (see [`ct2::layout`]) into HF tensors and a config.
fn ct2_to_hf(src: &Tensors, file: &Path) -> Result<(WhisperConfig, Tensors), ModelError> {
    let get = |k: &str| {
        src.get(k)
            .ok_or_else(|| bad(file, format!("missing variable {k}")))
    };
    let scalar = |k: &str| -> Result<usize, ModelError> {
        match get(k)?.data.as_slice() {
            [v] => Ok(*v as usize),
            other => Err(bad(
                file,
                format!("{k}: expected one number, found {}", other.len()),
            )),
        }
    };
    let count = |stack: &str| {
        (0..)
            .take_while(|i| src.contains_key(&format!("{stack}/layer_{i}/ffn/linear_0/weight")))
            .count()
    };
    let (n_enc, n_dec) = (count("encoder"), count("decoder"));
    let mut out = Tensors::new();
    for var in ct2::layout(n_enc, n_dec) {
        out.extend(ct2::split(&var, get(&var.name)?).map_err(|e| bad(file, e))?);
    }
    let (emb_key, pos_key) = (
        "decoder/embeddings/weight",
        "decoder/position_encodings/encodings",
    );
    let (conv_key, audio_pos_key) = (
        "encoder/conv1/weight",
        "encoder/position_encodings/encodings",
    );
    let emb = get(emb_key)?;
    let conv1 = get(conv_key)?;
    let cfg = WhisperConfig {
        name: String::new(),
        n_mels: dim(conv1, 1, conv_key, file)?,
        n_audio_ctx: dim(get(audio_pos_key)?, 0, audio_pos_key, file)?,
        n_audio_state: dim(conv1, 0, conv_key, file)?,
        n_audio_head: scalar("encoder/num_heads")?,
        n_audio_layer: n_enc,
        n_vocab: dim(emb, 0, emb_key, file)?,
        n_text_ctx: dim(get(pos_key)?, 0, pos_key, file)?,
        n_text_state: dim(emb, 1, emb_key, file)?,
        n_text_head: scalar("decoder/num_heads")?,
        n_text_layer: n_dec,
        tokens: placeholder_tokens(),
        suppress: vec![],
        suppress_at_begin: vec![],
    };
    cfg.check().map_err(|what| bad(file, what))?;
    // Every tensor must have the shape the config gives it: what is written always loads.
    for (name, shape) in cfg.tensor_shapes() {
        match out.get(&name) {
            Some(t) if t.shape == shape => {}
            Some(t) => {
                return Err(bad(
                    file,
                    format!(
                        "{name}: shape {:?}, the model's dimensions need {shape:?}",
                        t.shape
                    ),
                ));
            }
            None => return Err(bad(file, format!("{name} is missing"))),
        }
    }
    Ok((cfg, out))
}

/// Dimension `axis` of the shape of `name` (`Err` when the tensor has fewer axes).
fn dim(t: &RawTensor, axis: usize, name: &str, file: &Path) -> Result<usize, ModelError> {
    t.shape.get(axis).copied().ok_or_else(|| {
        bad(
            file,
            format!("{name}: shape {:?} has no axis {axis}", t.shape),
        )
    })
}

fn placeholder_tokens() -> SpecialTokens {
    SpecialTokens {
        eot: 0,
        sot: 0,
        no_timestamps: 0,
        english: None,
        transcribe: None,
        timestamp_begin: 0,
        no_speech: None,
    }
}

/// Converts the bytes of a CTranslate2 `model.bin` (named `file` in errors) into a base config
/// (without tokens or suppression lists) and HF-named tensors.
pub fn ct2_model(bytes: &[u8], file: &Path) -> Result<(WhisperConfig, Tensors), ModelError> {
    ct2_to_hf(&ct2::parse(bytes, file)?, file)
}

fn read_ct2(dir: &Path) -> Result<(WhisperConfig, Tensors), ModelError> {
    let file = dir.join("model.bin");
    let bytes = std::fs::read(&file).map_err(|e| ModelError::io(&file, e))?;
    let (mut cfg, tensors) = ct2_model(&bytes, &file)?;
    let cfg_path = dir.join("config.json");
    if let Ok(text) = std::fs::read(&cfg_path) {
        let v: Value = serde_json::from_slice(&text).map_err(|e| bad(&cfg_path, e.to_string()))?;
        cfg.suppress = ids(&v["suppress_ids"]);
        cfg.suppress_at_begin = ids(&v["suppress_ids_begin"]);
    }
    Ok((cfg, tensors))
}

fn read_hf(dir: &Path) -> Result<(WhisperConfig, Tensors), ModelError> {
    let file = dir.join("model.safetensors");
    let bytes = std::fs::read(&file).map_err(|e| ModelError::io(&file, e))?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| bad(&file, e.to_string()))?;
    let mut out = Tensors::new();
    for (name, view) in st.tensors() {
        let raw = view.data();
        let data: Vec<f32> = match view.dtype() {
            Dtype::F32 => crate::tensor_io::f32s(raw),
            Dtype::F16 => raw
                .chunks_exact(2)
                .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            Dtype::BF16 => raw
                .chunks_exact(2)
                .map(|c| bf16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            other => return Err(bad(&file, format!("{name}: unsupported dtype {other:?}"))),
        };
        let name = if name.starts_with("model.") || name == "proj_out.weight" {
            name
        } else {
            format!("model.{name}")
        };
        if name == "proj_out.weight" || name == "model.encoder.embed_positions.weight" {
            continue; // tied to embed_tokens / recomputed sinusoids
        }
        out.insert(
            name,
            RawTensor {
                shape: view.shape().to_vec(),
                data,
            },
        );
    }
    let cfg_path = dir.join("config.json");
    let text = std::fs::read(&cfg_path).map_err(|e| ModelError::io(&cfg_path, e))?;
    let v: Value = serde_json::from_slice(&text).map_err(|e| bad(&cfg_path, e.to_string()))?;
    let num = |k: &str| {
        v[k].as_u64()
            .map(|x| x as usize)
            .ok_or_else(|| bad(&cfg_path, format!("missing {k}")))
    };
    let mut cfg = WhisperConfig {
        name: String::new(),
        n_mels: num("num_mel_bins")?,
        n_audio_ctx: num("max_source_positions")?,
        n_audio_state: num("d_model")?,
        n_audio_head: num("encoder_attention_heads")?,
        n_audio_layer: num("encoder_layers")?,
        n_vocab: num("vocab_size")?,
        n_text_ctx: num("max_target_positions")?,
        n_text_state: num("d_model")?,
        n_text_head: num("decoder_attention_heads")?,
        n_text_layer: num("decoder_layers")?,
        tokens: placeholder_tokens(),
        suppress: ids(&v["suppress_tokens"]),
        suppress_at_begin: ids(&v["begin_suppress_tokens"]),
    };
    let generation = std::fs::read(dir.join("generation_config.json")).ok();
    if let Some(g) = generation.and_then(|t| serde_json::from_slice::<Value>(&t).ok()) {
        if cfg.suppress.is_empty() {
            cfg.suppress = ids(&g["suppress_tokens"]);
        }
        if cfg.suppress_at_begin.is_empty() {
            cfg.suppress_at_begin = ids(&g["begin_suppress_tokens"]);
        }
    }
    Ok((cfg, out))
}
