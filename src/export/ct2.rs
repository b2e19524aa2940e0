//! Writes a merged model as a CTranslate2 Whisper directory that `faster_whisper.WhisperModel(DIR)`
//! loads: `model.bin` (float32, float16 or int8 weights), `config.json`, `vocabulary.json`,
//! `tokenizer.json` and `preprocessor_config.json`.

use std::path::{Path, PathBuf};

use super::{ExportError, Merged, Precision, vocab};
use crate::model::ct2::{self, Variable};
use crate::model::weights::{RawTensor, sinusoids};

/// CTranslate2's id of the GELU activation (`common_spec.Activation.GELU`).
const GELU: i8 = 3;

/// Cross-attention heads that align text with audio (word timestamps): OpenAI's published set
/// for tiny.en; otherwise Whisper's default, every head of the upper half of the decoder.
pub fn alignment_heads(name: &str, n_layer: usize, n_head: usize) -> Vec<[usize; 2]> {
    if name == "tiny.en" && n_layer == 4 && n_head == 6 {
        return vec![
            [1, 0],
            [2, 0],
            [2, 5],
            [3, 0],
            [3, 1],
            [3, 2],
            [3, 3],
            [3, 4],
        ];
    }
    (n_layer / 2..n_layer)
        .flat_map(|l| (0..n_head).map(move |h| [l, h]))
        .collect()
}

fn push(vars: &mut Vec<Variable>, name: &str, t: &RawTensor, precision: Precision) {
    match precision {
        Precision::F32 => vars.push(Variable::f32(name, t)),
        Precision::F16 => vars.push(Variable::f16(name, t)),
        Precision::Int8 if ct2::quantizable(name) => {
            let (q, scales) = ct2::quantize_int8(t);
            let scale = RawTensor {
                shape: vec![scales.len()],
                data: scales,
            };
            vars.push(Variable::i8(name, &t.shape, &q));
            vars.push(Variable::f32(&format!("{name}_scale"), &scale));
        }
        // As CTranslate2's int8 conversion: what is not quantized stays float32.
        Precision::Int8 => vars.push(Variable::f32(name, t)),
    }
}

/// The bytes of `model.bin`.
pub fn model_bin(m: &Merged, precision: Precision) -> Result<Vec<u8>, ExportError> {
    let cfg = &m.config;
    let mut vars = Vec::new();
    for var in ct2::layout(cfg.n_audio_layer, cfg.n_text_layer) {
        let t = ct2::fuse(&var, &m.tensors).map_err(|what| ExportError::Shape {
            what: format!("{}: {what}", var.name),
        })?;
        push(&mut vars, &var.name, &t, precision);
    }
    let pos = RawTensor {
        shape: vec![cfg.n_audio_ctx, cfg.n_audio_state],
        data: sinusoids(cfg.n_audio_ctx, cfg.n_audio_state),
    };
    push(
        &mut vars,
        "encoder/position_encodings/encodings",
        &pos,
        precision,
    );
    let heads = |n: usize| i16::try_from(n).unwrap_or(i16::MAX);
    vars.extend([
        Variable::scalar_i16("encoder/num_heads", heads(cfg.n_audio_head)),
        Variable::scalar_i16("decoder/num_heads", heads(cfg.n_text_head)),
        Variable::scalar_i8("decoder/activation", GELU),
        Variable::scalar_i8("decoder/alibi", 0),
        Variable::scalar_i16("decoder/alignment_heads", 1),
        Variable::scalar_i16("decoder/alignment_layer", -1),
        Variable::scalar_i8("decoder/pre_norm", 1),
        Variable::scalar_i8("decoder/scale_embeddings", 0),
        Variable::scalar_i8("decoder/start_from_zero_embedding", 0),
    ]);
    Ok(ct2::encode(
        ct2::WHISPER_SPEC,
        ct2::WHISPER_REVISION,
        &vars,
        &[ct2::PROJECTION_ALIAS],
    ))
}

/// `config.json`: what CTranslate2's Whisper model reads besides the weights.
pub fn config_json(m: &Merged, tokens: &[String]) -> serde_json::Value {
    let cfg = &m.config;
    serde_json::json!({
        "alignment_heads": alignment_heads(&cfg.name, cfg.n_text_layer, cfg.n_text_head),
        "lang_ids": vocab::language_ids(tokens, cfg.tokens.sot),
        "suppress_ids": cfg.suppress,
        "suppress_ids_begin": cfg.suppress_at_begin,
    })
}

/// Writes the directory `dir` (created if missing); returns the files written.
pub fn write(m: &Merged, dir: &Path, precision: Precision) -> Result<Vec<PathBuf>, ExportError> {
    let tokens = vocab::tokens(&m.tokenizer, m.config.n_vocab)?;
    let model = model_bin(m, precision)?;
    super::make_dir(dir)?;
    Ok(vec![
        super::write_file(&dir.join("model.bin"), &model)?,
        super::write_json(dir, "config.json", &config_json(m, &tokens))?,
        super::write_json(dir, "vocabulary.json", &serde_json::json!(tokens))?,
        super::write_file(&dir.join("tokenizer.json"), &m.tokenizer)?,
        super::write_json(
            dir,
            "preprocessor_config.json",
            &super::preprocessor_config(&m.config),
        )?,
    ])
}
