//! `attune base import`: reads a CTranslate2 Whisper directory (`model.bin`) or a Hugging Face one
//! (`model.safetensors` + `config.json`) and writes the project's base format.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use half::{bf16, f16};
use safetensors::{Dtype, SafeTensors};
use serde_json::Value;

use super::ModelError;
use super::config::{SpecialTokens, WhisperConfig};
use super::testing::tensor_shapes;
use super::weights::{RawTensor, encode_base, model_file, tokenizer_file};

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

/// Writes `imported` into `out` (`model.safetensors` + `tokenizer.json`); returns the model path.
pub fn write_base(imported: &Imported, out: &Path) -> Result<PathBuf, ModelError> {
    crate::util::atomic::create_private_dir_all(out).map_err(|e| ModelError::io(out, e))?;
    let bytes = encode_base(&imported.config, &imported.tensors)?;
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

/// Cursor over CTranslate2's little-endian binary layout.
struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
    file: &'a Path,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.b.len());
        let end = end.ok_or_else(|| bad(self.file, format!("truncated at byte {}", self.pos)))?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, ModelError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, ModelError> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Result<u32, ModelError> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn string(&mut self) -> Result<String, ModelError> {
        let n = self.u16()? as usize;
        let s = self.take(n)?;
        Ok(String::from_utf8_lossy(s)
            .trim_end_matches('\0')
            .to_string())
    }
}

/// Parses `model.bin` (CTranslate2 spec version ≤ 6) into name → f32 tensor, resolving aliases.
pub fn parse_ct2(bytes: &[u8], file: &Path) -> Result<Tensors, ModelError> {
    let mut r = Reader {
        b: bytes,
        pos: 0,
        file,
    };
    let version = r.u32()?;
    if !(5..=6).contains(&version) {
        return Err(bad(
            file,
            format!("CTranslate2 binary version {version} is not supported"),
        ));
    }
    let _spec = r.string()?;
    let _revision = r.u32()?;
    let count = r.u32()?;
    let mut out = Tensors::new();
    for _ in 0..count {
        let name = r.string()?;
        let rank = r.u8()? as usize;
        let shape = (0..rank)
            .map(|_| r.u32().map(|d| d as usize))
            .collect::<Result<Vec<_>, _>>()?;
        let dtype = r.u8()?;
        let nbytes = r.u32()? as usize;
        let raw = r.take(nbytes)?;
        // The shape must describe exactly the bytes stored: no size is taken on trust.
        let width = match dtype {
            0 | 3 => 4,
            1 => 1,
            2 | 4 | 5 => 2,
            d => return Err(bad(file, format!("{name}: unknown dtype {d}"))),
        };
        let needed = shape
            .iter()
            .try_fold(width, |n: usize, &d| n.checked_mul(d));
        if needed != Some(nbytes) {
            return Err(bad(
                file,
                format!("{name}: shape {shape:?} does not match its {nbytes} bytes of data"),
            ));
        }
        let data: Vec<f32> = match dtype {
            0 => crate::tensor_io::f32s(raw),
            1 => raw.iter().map(|&b| b as i8 as f32).collect(),
            2 => raw
                .chunks_exact(2)
                .map(|c| i16::from_le_bytes([c[0], c[1]]) as f32)
                .collect(),
            3 => raw
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f32)
                .collect(),
            4 => raw
                .chunks_exact(2)
                .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            5 => raw
                .chunks_exact(2)
                .map(|c| bf16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            d => return Err(bad(file, format!("{name}: unknown dtype {d}"))),
        };
        if name.ends_with("weight_scale") {
            return Err(bad(
                file,
                "int8-quantized CTranslate2 models are not supported; convert with --quantization float16",
            ));
        }
        out.insert(name, RawTensor { shape, data });
    }
    if r.pos < bytes.len() {
        let aliases = r.u32()?;
        for _ in 0..aliases {
            let alias = r.string()?;
            let target = r.string()?;
            if let Some(t) = out.get(&target).cloned() {
                out.insert(alias, t);
            }
        }
    }
    Ok(out)
}

/// Splits a fused `[n·d, d]` (or `[n·d]`) tensor `name` into `n` equal non-empty parts along the
/// first axis.
fn split_rows(
    t: &RawTensor,
    n: usize,
    name: &str,
    file: &Path,
) -> Result<Vec<RawTensor>, ModelError> {
    let rows = t.shape.first().map_or(0, |r| r / n);
    let cols: usize = t.shape.iter().skip(1).product();
    if rows == 0 || cols == 0 || rows * n != t.shape[0] {
        return Err(bad(
            file,
            format!("{name}: shape {:?} is not {n} fused projections", t.shape),
        ));
    }
    let mut shape = t.shape.clone();
    shape[0] = rows;
    Ok(t.data
        .chunks(rows * cols)
        .map(|c| RawTensor {
            shape: shape.clone(),
            data: c.to_vec(),
        })
        .collect())
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
    let mut out = Tensors::new();
    let mut put = |k: String, t: RawTensor| {
        out.insert(k, t);
    };
    let count = |stack: &str| {
        (0..)
            .take_while(|i| src.contains_key(&format!("{stack}/layer_{i}/ffn/linear_0/weight")))
            .count()
    };
    let (n_enc, n_dec) = (count("encoder"), count("decoder"));
    for conv in ["conv1", "conv2"] {
        for p in ["weight", "bias"] {
            put(
                format!("model.encoder.{conv}.{p}"),
                get(&format!("encoder/{conv}/{p}"))?.clone(),
            );
        }
    }
    let ln =
        |put: &mut dyn FnMut(String, RawTensor), from: &str, to: &str| -> Result<(), ModelError> {
            put(
                format!("{to}.weight"),
                get(&format!("{from}/gamma"))?.clone(),
            );
            put(format!("{to}.bias"), get(&format!("{from}/beta"))?.clone());
            Ok(())
        };
    let lin =
        |put: &mut dyn FnMut(String, RawTensor), from: &str, to: &str| -> Result<(), ModelError> {
            put(
                format!("{to}.weight"),
                get(&format!("{from}/weight"))?.clone(),
            );
            put(format!("{to}.bias"), get(&format!("{from}/bias"))?.clone());
            Ok(())
        };
    // Splits a fused projection into the named HF projections (k has no bias in Whisper).
    let fused = |put: &mut dyn FnMut(String, RawTensor),
                 from: &str,
                 to: &str,
                 names: &[&str]|
     -> Result<(), ModelError> {
        let (wk, bk) = (format!("{from}/weight"), format!("{from}/bias"));
        let w = split_rows(get(&wk)?, names.len(), &wk, file)?;
        let b = split_rows(get(&bk)?, names.len(), &bk, file)?;
        for ((n, w), b) in names.iter().zip(w).zip(b) {
            put(format!("{to}.{n}.weight"), w);
            if *n != "k_proj" {
                put(format!("{to}.{n}.bias"), b);
            }
        }
        Ok(())
    };
    for (stack, n) in [("encoder", n_enc), ("decoder", n_dec)] {
        for i in 0..n {
            let (c, h) = (
                format!("{stack}/layer_{i}"),
                format!("model.{stack}.layers.{i}"),
            );
            fused(
                &mut put,
                &format!("{c}/self_attention/linear_0"),
                &format!("{h}.self_attn"),
                &["q_proj", "k_proj", "v_proj"],
            )?;
            lin(
                &mut put,
                &format!("{c}/self_attention/linear_1"),
                &format!("{h}.self_attn.out_proj"),
            )?;
            ln(
                &mut put,
                &format!("{c}/self_attention/layer_norm"),
                &format!("{h}.self_attn_layer_norm"),
            )?;
            lin(&mut put, &format!("{c}/ffn/linear_0"), &format!("{h}.fc1"))?;
            lin(&mut put, &format!("{c}/ffn/linear_1"), &format!("{h}.fc2"))?;
            ln(
                &mut put,
                &format!("{c}/ffn/layer_norm"),
                &format!("{h}.final_layer_norm"),
            )?;
            if stack == "decoder" {
                lin(
                    &mut put,
                    &format!("{c}/attention/linear_0"),
                    &format!("{h}.encoder_attn.q_proj"),
                )?;
                fused(
                    &mut put,
                    &format!("{c}/attention/linear_1"),
                    &format!("{h}.encoder_attn"),
                    &["k_proj", "v_proj"],
                )?;
                lin(
                    &mut put,
                    &format!("{c}/attention/linear_2"),
                    &format!("{h}.encoder_attn.out_proj"),
                )?;
                ln(
                    &mut put,
                    &format!("{c}/attention/layer_norm"),
                    &format!("{h}.encoder_attn_layer_norm"),
                )?;
            }
        }
        ln(
            &mut put,
            &format!("{stack}/layer_norm"),
            &format!("model.{stack}.layer_norm"),
        )?;
    }
    let (emb_key, pos_key) = (
        "decoder/embeddings/weight",
        "decoder/position_encodings/encodings",
    );
    let (conv_key, audio_pos_key) = (
        "encoder/conv1/weight",
        "encoder/position_encodings/encodings",
    );
    let emb = get(emb_key)?.clone();
    let pos = get(pos_key)?.clone();
    let conv1 = get(conv_key)?;
    let cfg = WhisperConfig {
        name: String::new(),
        n_mels: dim(conv1, 1, conv_key, file)?,
        n_audio_ctx: dim(get(audio_pos_key)?, 0, audio_pos_key, file)?,
        n_audio_state: dim(conv1, 0, conv_key, file)?,
        n_audio_head: scalar("encoder/num_heads")?,
        n_audio_layer: n_enc,
        n_vocab: dim(&emb, 0, emb_key, file)?,
        n_text_ctx: dim(&pos, 0, pos_key, file)?,
        n_text_state: dim(&emb, 1, emb_key, file)?,
        n_text_head: scalar("decoder/num_heads")?,
        n_text_layer: n_dec,
        tokens: placeholder_tokens(),
        suppress: vec![],
        suppress_at_begin: vec![],
    };
    put("model.decoder.embed_tokens.weight".into(), emb);
    put("model.decoder.embed_positions.weight".into(), pos);
    cfg.check().map_err(|what| bad(file, what))?;
    // Every tensor must have the shape the config gives it: what is written always loads.
    for (name, shape) in tensor_shapes(&cfg) {
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
    ct2_to_hf(&parse_ct2(bytes, file)?, file)
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
