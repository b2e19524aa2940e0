//! whisper.cpp's ggml model file (`ggml-*.bin`): the writer of a merged model (f32, f16 or q8_0
//! matrices) and a reader back to f32 tensors under HF names, so a written file can be checked.
//!
//! Layout (little endian): magic `ggml`; eleven i32 hparams (n_vocab, n_audio_ctx,
//! n_audio_state, n_audio_head, n_audio_layer, n_text_ctx, n_text_state, n_text_head,
//! n_text_layer, n_mels, ftype); the mel filterbank (n_mel, n_fft, f32 values); the BPE vocabulary
//! (count, then length + bytes each; whisper.cpp names the special tokens itself); then each
//! tensor: n_dims, name length, type, dims innermost first, name, data. whisper.cpp expects each
//! tensor at a fixed type: positions, biases and norms f32, convolution weights f16 (f32 in an
//! all-f32 file), every other matrix at the file's type.

use std::collections::BTreeMap;
use std::path::Path;

use half::f16;

use super::{ExportError, Merged, Precision, vocab};
use crate::model::weights::{RawTensor, sinusoids};
use crate::util::bytes::LeReader;

/// `ggml` in ASCII, read as a little-endian u32.
pub const MAGIC: u32 = 0x6767_6d6c;
/// whisper.cpp's quantize tool stores `ftype + QNT_VERSION · 1000` for quantized files.
const QNT_VERSION: i32 = 2;
const QNT_FACTOR: i32 = 1000;
/// Values per q8_0 block (each block: an f16 scale, then 32 int8).
pub const Q8_BLOCK: usize = 32;

/// ggml element types used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GgmlType {
    F32 = 0,
    F16 = 1,
    Q8_0 = 8,
}

impl GgmlType {
    fn from_i32(v: i32) -> Option<Self> {
        match v {
            0 => Some(Self::F32),
            1 => Some(Self::F16),
            8 => Some(Self::Q8_0),
            _ => None,
        }
    }
    fn bytes(self, n: usize) -> usize {
        match self {
            Self::F32 => 4 * n,
            Self::F16 => 2 * n,
            Self::Q8_0 => n / Q8_BLOCK * (2 + Q8_BLOCK),
        }
    }
}

/// Whisper.cpp's (OpenAI's) name of an HF tensor, e.g.
/// `model.decoder.layers.1.encoder_attn.q_proj.weight` → `decoder.blocks.1.cross_attn.query.weight`.
pub fn openai_name(hf: &str) -> Option<String> {
    const TOP: &[(&str, &str)] = &[
        (
            "model.encoder.embed_positions.weight",
            "encoder.positional_embedding",
        ),
        (
            "model.decoder.embed_positions.weight",
            "decoder.positional_embedding",
        ),
        (
            "model.decoder.embed_tokens.weight",
            "decoder.token_embedding.weight",
        ),
        ("model.encoder.layer_norm.", "encoder.ln_post."),
        ("model.decoder.layer_norm.", "decoder.ln."),
        ("model.encoder.conv", "encoder.conv"),
    ];
    for (h, o) in TOP {
        if let Some(rest) = hf.strip_prefix(h) {
            return Some(format!("{o}{rest}"));
        }
    }
    let rest = hf.strip_prefix("model.")?;
    let (stack, rest) = rest.split_once(".layers.")?;
    let (layer, rest) = rest.split_once('.')?;
    let (module, param) = rest.rsplit_once('.')?;
    let module = match module {
        "self_attn_layer_norm" => "attn_ln".to_string(),
        "encoder_attn_layer_norm" => "cross_attn_ln".to_string(),
        "final_layer_norm" => "mlp_ln".to_string(),
        "fc1" => "mlp.0".to_string(),
        "fc2" => "mlp.2".to_string(),
        m => {
            let (attn, proj) = m.split_once('.')?;
            let attn = match attn {
                "self_attn" => "attn",
                "encoder_attn" => "cross_attn",
                _ => return None,
            };
            let proj = match proj {
                "q_proj" => "query",
                "k_proj" => "key",
                "v_proj" => "value",
                "out_proj" => "out",
                _ => return None,
            };
            format!("{attn}.{proj}")
        }
    };
    Some(format!("{stack}.blocks.{layer}.{module}.{param}"))
}

/// The type whisper.cpp expects for tensor `name` (OpenAI naming) in a file of `precision`.
pub fn tensor_type(name: &str, shape: &[usize], precision: Precision) -> GgmlType {
    let fixed_f32 = shape.len() < 2
        || name.ends_with("positional_embedding")
        || name == "encoder.conv1.bias"
        || name == "encoder.conv2.bias";
    match precision {
        _ if fixed_f32 => GgmlType::F32,
        Precision::F32 => GgmlType::F32,
        _ if name.starts_with("encoder.conv") => GgmlType::F16,
        Precision::F16 => GgmlType::F16,
        Precision::Int8 => GgmlType::Q8_0,
    }
}

/// q8_0 blocks of `data` (length a multiple of 32): per block `d = max|x| / 127` stored as f16,
/// then `round(x / d)` as int8 (ggml's reference quantizer).
pub fn quantize_q8_0(data: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(GgmlType::Q8_0.bytes(data.len()));
    for block in data.chunks(Q8_BLOCK) {
        let amax = block.iter().fold(0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend(f16::from_f32(d).to_le_bytes());
        out.extend(block.iter().map(|v| (v * id).round() as i8 as u8));
    }
    out
}

fn dequantize_q8_0(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(2 + Q8_BLOCK)
        .flat_map(|b| {
            let d = f16::from_le_bytes([b[0], b[1]]).to_f32();
            b[2..].iter().map(move |&q| q as i8 as f32 * d)
        })
        .collect()
}

fn encode_data(t: &RawTensor, ty: GgmlType) -> Vec<u8> {
    match ty {
        GgmlType::F32 => t.data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        GgmlType::F16 => t
            .data
            .iter()
            .flat_map(|v| f16::from_f32(*v).to_le_bytes())
            .collect(),
        GgmlType::Q8_0 => quantize_q8_0(&t.data),
    }
}

fn i32s(out: &mut Vec<u8>, vals: &[i32]) {
    for v in vals {
        out.extend(v.to_le_bytes());
    }
}

fn dim(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The bytes of a whisper.cpp model file holding `m` at `precision` (int8 = q8_0).
pub fn encode(m: &Merged, precision: Precision) -> Result<Vec<u8>, ExportError> {
    let cfg = &m.config;
    let ftype = match precision {
        Precision::F32 => 0,
        Precision::F16 => 1,
        Precision::Int8 => 7 + QNT_VERSION * QNT_FACTOR,
    };
    let mut out = Vec::new();
    out.extend(MAGIC.to_le_bytes());
    i32s(
        &mut out,
        &[
            cfg.n_vocab,
            cfg.n_audio_ctx,
            cfg.n_audio_state,
            cfg.n_audio_head,
            cfg.n_audio_layer,
            cfg.n_text_ctx,
            cfg.n_text_state,
            cfg.n_text_head,
            cfg.n_text_layer,
            cfg.n_mels,
        ]
        .map(dim),
    );
    i32s(&mut out, &[ftype]);
    let n_fft = crate::features::N_FFT / 2 + 1;
    let filters = crate::features::slaney_filterbank(
        crate::features::SAMPLE_RATE as f64,
        crate::features::N_FFT,
        cfg.n_mels,
    );
    i32s(&mut out, &[dim(cfg.n_mels), dim(n_fft)]);
    filters.iter().for_each(|v| out.extend(v.to_le_bytes()));
    let bpe = vocab::token_bytes(&vocab::bpe_tokens(&m.tokenizer)?);
    i32s(&mut out, &[dim(bpe.len())]);
    for tok in &bpe {
        out.extend((tok.len() as u32).to_le_bytes());
        out.extend(tok);
    }
    let pos = RawTensor {
        shape: vec![cfg.n_audio_ctx, cfg.n_audio_state],
        data: sinusoids(cfg.n_audio_ctx, cfg.n_audio_state),
    };
    let enc_pos = super::merge::ENCODER_POSITIONS.to_string();
    let all = m.tensors.iter().chain([(&enc_pos, &pos)]);
    for (hf, t) in all {
        let name = openai_name(hf).ok_or_else(|| ExportError::Shape {
            what: format!("{hf} has no whisper.cpp name"),
        })?;
        // Convolution biases are [n, 1] in whisper.cpp (broadcast over time).
        let mut shape = t.shape.clone();
        if name.starts_with("encoder.conv") && name.ends_with(".bias") {
            shape.push(1);
        }
        let ty = tensor_type(&name, &shape, precision);
        let inner = *shape.last().unwrap_or(&1);
        if ty == GgmlType::Q8_0 && inner % Q8_BLOCK != 0 {
            return Err(ExportError::Shape {
                what: format!(
                    "{name}: rows of {inner} values do not split into q8_0 blocks of {Q8_BLOCK}; use --precision f16"
                ),
            });
        }
        i32s(&mut out, &[dim(shape.len()), dim(name.len()), ty as i32]);
        let ne: Vec<i32> = shape.iter().rev().map(|&d| dim(d)).collect();
        i32s(&mut out, &ne);
        out.extend(name.as_bytes());
        out.extend(encode_data(t, ty));
    }
    Ok(out)
}

/// A parsed ggml Whisper file.
#[derive(Debug, Clone)]
pub struct GgmlModel {
    /// The eleven header values, in file order (`ftype` as stored).
    pub hparams: [i32; 11],
    /// `[n_mel, n_fft]` row-major.
    pub filters: (usize, usize, Vec<f32>),
    pub vocab: Vec<Vec<u8>>,
    /// OpenAI name → (type, f32 values in numpy shape order).
    pub tensors: BTreeMap<String, (GgmlType, RawTensor)>,
}

/// A ggml size or count: an i32 that must not be negative.
fn size(c: &mut LeReader) -> Result<usize, ExportError> {
    let v = c.i32()?;
    usize::try_from(v).map_err(|_| bad(c, format!("negative size {v}")))
}

fn bad(c: &LeReader, what: String) -> ExportError {
    ExportError::BadFile {
        file: c.file().to_path_buf(),
        what,
    }
}

/// Reads a ggml Whisper file (`file` names it in errors).
pub fn parse(bytes: &[u8], file: &Path) -> Result<GgmlModel, ExportError> {
    let mut c = LeReader::new(bytes, file);
    if c.i32()? as u32 != MAGIC {
        return Err(bad(&c, "not a ggml file (bad magic)".into()));
    }
    let mut hparams = [0i32; 11];
    for h in &mut hparams {
        *h = c.i32()?;
    }
    let (n_mel, n_fft) = (size(&mut c)?, size(&mut c)?);
    let filters = crate::tensor_io::f32s(c.take(4 * n_mel * n_fft)?);
    let n_vocab = size(&mut c)?;
    let mut vocab = Vec::with_capacity(n_vocab);
    for _ in 0..n_vocab {
        let len = size(&mut c)?;
        vocab.push(c.take(len)?.to_vec());
    }
    let mut tensors = BTreeMap::new();
    while !c.at_end() {
        let (n_dims, name_len, ty) = (size(&mut c)?, size(&mut c)?, c.i32()?);
        let ty = GgmlType::from_i32(ty).ok_or_else(|| bad(&c, format!("tensor type {ty}")))?;
        let mut shape = (0..n_dims)
            .map(|_| size(&mut c))
            .collect::<Result<Vec<_>, _>>()?;
        shape.reverse();
        let name = String::from_utf8_lossy(c.take(name_len)?).into_owned();
        let n: usize = shape.iter().product();
        let raw = c.take(ty.bytes(n))?;
        let data = match ty {
            GgmlType::F32 => crate::tensor_io::f32s(raw),
            GgmlType::F16 => raw
                .chunks_exact(2)
                .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            GgmlType::Q8_0 => dequantize_q8_0(raw),
        };
        tensors.insert(name, (ty, RawTensor { shape, data }));
    }
    Ok(GgmlModel {
        hparams,
        filters: (n_mel, n_fft, filters),
        vocab,
        tensors,
    })
}

impl GgmlModel {
    /// The tensors under HF names (convolution biases back to `[n]`), given the HF names to look
    /// for; the encoder positions are left out.
    pub fn to_hf<'a>(
        &self,
        hf_names: impl IntoIterator<Item = &'a String>,
    ) -> Result<BTreeMap<String, RawTensor>, ExportError> {
        hf_names
            .into_iter()
            .map(|hf| {
                let o = openai_name(hf).ok_or_else(|| ExportError::Missing(hf.clone()))?;
                let (_, t) = self
                    .tensors
                    .get(&o)
                    .ok_or_else(|| ExportError::Missing(o.clone()))?;
                let mut t = t.clone();
                if o.starts_with("encoder.conv") && o.ends_with(".bias") {
                    t.shape.truncate(1);
                }
                Ok((hf.clone(), t))
            })
            .collect()
    }
}

/// Writes the model file `path` atomically; returns it.
pub fn write(
    m: &Merged,
    path: &Path,
    precision: Precision,
) -> Result<Vec<std::path::PathBuf>, ExportError> {
    let bytes = encode(m, precision)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        super::make_dir(dir)?;
    }
    Ok(vec![super::write_file(path, &bytes)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hf_names_map_to_whisper_cpp_names() {
        for (hf, o) in [
            ("model.encoder.conv1.bias", "encoder.conv1.bias"),
            ("model.encoder.layer_norm.weight", "encoder.ln_post.weight"),
            ("model.decoder.layer_norm.bias", "decoder.ln.bias"),
            (
                "model.decoder.embed_tokens.weight",
                "decoder.token_embedding.weight",
            ),
            (
                "model.decoder.embed_positions.weight",
                "decoder.positional_embedding",
            ),
            (
                "model.encoder.layers.2.self_attn.k_proj.weight",
                "encoder.blocks.2.attn.key.weight",
            ),
            (
                "model.encoder.layers.0.fc2.bias",
                "encoder.blocks.0.mlp.2.bias",
            ),
            (
                "model.decoder.layers.1.encoder_attn.out_proj.weight",
                "decoder.blocks.1.cross_attn.out.weight",
            ),
            (
                "model.decoder.layers.3.encoder_attn_layer_norm.weight",
                "decoder.blocks.3.cross_attn_ln.weight",
            ),
            (
                "model.decoder.layers.3.final_layer_norm.bias",
                "decoder.blocks.3.mlp_ln.bias",
            ),
        ] {
            assert_eq!(openai_name(hf).as_deref(), Some(o), "{hf}");
        }
        assert_eq!(openai_name("model.decoder.layers.0.gate.weight"), None);
    }

    #[test]
    fn q8_0_blocks_round_trip_within_half_a_step() {
        let data: Vec<f32> = (0..64).map(|i| (i as f32 - 20.0) / 9.0).collect();
        let q = quantize_q8_0(&data);
        assert_eq!(q.len(), 2 * 34);
        let back = dequantize_q8_0(&q);
        for (blk, (a, b)) in data.chunks(32).zip(back.chunks(32)).enumerate() {
            let d = a.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0;
            for (x, y) in a.iter().zip(b) {
                assert!((x - y).abs() <= d * 0.57 + 1e-6, "block {blk}: {x} vs {y}");
            }
        }
    }
}
