//! The project's base-model format: HF Whisper key names in one safetensors file, 2-D matrices as
//! int8 with one f32 scale per row (or f16 / f32 when imported so), dequantized to f32 at load,
//! config in the header metadata.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde::Deserialize;

use super::ModelError;
use super::config::WhisperConfig;

/// Format tag written into every base file's metadata.
pub const BASE_FORMAT: &str = "attune-base/1";
const SCALE_SUFFIX: &str = ".__scale";
const META_KEY: &str = "attune_base";

/// Named f32 tensors of a base model (HF Whisper names), and the Q8_0 copies of the matrices
/// that run int8 × int8 at inference (`super::int8`).
#[derive(Clone)]
pub struct Weights {
    pub tensors: HashMap<String, Tensor>,
    pub int8: HashMap<String, std::sync::Arc<candle_core::quantized::QTensor>>,
    pub device: Device,
}

impl Weights {
    pub fn get(&self, name: &str) -> candle_core::Result<Tensor> {
        self.tensors
            .get(name)
            .cloned()
            .ok_or_else(|| candle_core::Error::Msg(format!("base weights lack tensor `{name}`")))
    }
}

/// Raw little-endian f32 rows of one tensor, as the importers produce them.
#[derive(Clone, Debug, PartialEq)]
pub struct RawTensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl RawTensor {
    pub fn to_tensor(&self, device: &Device) -> candle_core::Result<Tensor> {
        Tensor::from_slice(&self.data, self.shape.as_slice(), device)
    }
}

/// How matrices are stored: in a base file (`base import --precision`) or an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Precision {
    /// 32-bit floats
    #[value(alias = "float32")]
    F32,
    /// 16-bit floats
    #[default]
    #[value(alias = "float16")]
    F16,
    /// 8-bit integers with one scale per row (ggml: q8_0 blocks of 32)
    #[value(alias = "q8_0")]
    Int8,
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::F16 => "f16",
            Precision::Int8 => "int8",
        })
    }
}

/// Whether a tensor is a matrix, stored at the chosen precision (vectors always stay f32).
fn is_matrix(t: &RawTensor) -> bool {
    t.shape.len() >= 2
}

/// Symmetric per-row int8: `q = round(x / s)`, `s = max|row| / 127`.
pub fn quantize_rows(t: &RawTensor) -> (Vec<i8>, Vec<f32>) {
    let cols: usize = t.shape[1..].iter().product();
    let mut q = Vec::with_capacity(t.data.len());
    let mut scales = Vec::with_capacity(t.shape[0]);
    for row in t.data.chunks(cols) {
        let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        let s = if max > 0.0 { max / 127.0 } else { 1.0 };
        scales.push(s);
        q.extend(
            row.iter()
                .map(|v| (v / s).round().clamp(-127.0, 127.0) as i8),
        );
    }
    (q, scales)
}

/// Inverse of [`quantize_rows`]: `q` holds `scales.len()` rows of equal length (none may be
/// empty: an empty matrix has no values to scale).
fn dequantize_rows(q: &[u8], scales: &[f32]) -> Vec<f32> {
    let cols = q.len() / scales.len().max(1);
    if cols == 0 {
        return Vec::new();
    }
    q.chunks(cols)
        .zip(scales)
        .flat_map(|(row, &s)| row.iter().map(move |&b| (b as i8) as f32 * s))
        .collect()
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Serializes a base: int8 per-row matrices, f32 vectors, config JSON in the metadata.
pub fn encode_base(
    cfg: &WhisperConfig,
    tensors: &BTreeMap<String, RawTensor>,
) -> Result<Vec<u8>, ModelError> {
    encode_base_as(cfg, tensors, Precision::Int8)
}

/// Serializes a base with its matrices at `precision` (f16 / f32 keep a merged submodel's small
/// weight changes that int8 rows would round away).
pub fn encode_base_as(
    cfg: &WhisperConfig,
    tensors: &BTreeMap<String, RawTensor>,
    precision: Precision,
) -> Result<Vec<u8>, ModelError> {
    let mut owned: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, t) in tensors {
        if is_matrix(t) && precision == Precision::F16 {
            let b = t
                .data
                .iter()
                .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
                .collect();
            owned.push((name.clone(), Dtype::F16, t.shape.clone(), b));
        } else if is_matrix(t) && precision == Precision::Int8 {
            let (q, s) = quantize_rows(t);
            let qb = q.iter().map(|&v| v as u8).collect();
            owned.push((name.clone(), Dtype::I8, t.shape.clone(), qb));
            let sname = format!("{name}{SCALE_SUFFIX}");
            owned.push((sname, Dtype::F32, vec![t.shape[0]], f32_bytes(&s)));
        } else {
            owned.push((
                name.clone(),
                Dtype::F32,
                t.shape.clone(),
                f32_bytes(&t.data),
            ));
        }
    }
    let views = owned
        .iter()
        .map(|(n, dt, shape, data)| {
            TensorView::new(*dt, shape.clone(), data)
                .map(|v| (n.clone(), v))
                .map_err(|e| ModelError::Format(format!("tensor {n}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    // A single metadata key keeps the header (and so the base hash) deterministic.
    let header = serde_json::json!({ "format": BASE_FORMAT, "config": cfg });
    let meta = HashMap::from([(META_KEY.to_string(), header.to_string())]);
    safetensors::serialize(views, Some(meta)).map_err(|e| ModelError::Format(e.to_string()))
}

/// Parses a base file's bytes into its config and f32 tensors (`file` names it in errors).
pub fn decode_base(
    bytes: &[u8],
    file: &Path,
    device: &Device,
) -> Result<(WhisperConfig, Weights), ModelError> {
    let bad = |what: String| ModelError::BadFile {
        file: file.to_path_buf(),
        what,
    };
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| bad(e.to_string()))?;
    let header: serde_json::Value = meta
        .metadata()
        .as_ref()
        .and_then(|m| m.get(META_KEY))
        .and_then(|h| serde_json::from_str(h).ok())
        .unwrap_or_default();
    if header["format"] != BASE_FORMAT {
        return Err(bad(format!(
            "not an attune base (expected format {BASE_FORMAT})"
        )));
    }
    let cfg =
        WhisperConfig::deserialize(&header["config"]).map_err(|e| bad(format!("config: {e}")))?;
    cfg.check().map_err(bad)?;
    let st = SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
    let mut tensors = HashMap::new();
    for (name, view) in st.tensors() {
        if name.ends_with(SCALE_SUFFIX) {
            continue;
        }
        let data = match view.dtype() {
            Dtype::F32 => crate::tensor_io::f32s(view.data()),
            Dtype::F16 => view
                .data()
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            Dtype::I8 => {
                let scales = st
                    .tensor(&format!("{name}{SCALE_SUFFIX}"))
                    .map_err(|e| bad(format!("{name}: scale missing ({e})")))?;
                // One f32 scale per row: anything else cannot be the file encode_base wrote.
                let rows = view.shape().first().copied();
                if scales.dtype() != Dtype::F32
                    || Some(scales.shape()) != rows.as_ref().map(std::slice::from_ref)
                {
                    return Err(bad(format!(
                        "{name}: {:?} {:?} scales for an int8 tensor of shape {:?} (one f32 per row expected)",
                        scales.dtype(),
                        scales.shape(),
                        view.shape()
                    )));
                }
                dequantize_rows(view.data(), &crate::tensor_io::f32s(scales.data()))
            }
            other => return Err(bad(format!("{name}: unsupported dtype {other:?}"))),
        };
        let t = Tensor::from_vec(data, view.shape(), device)?;
        tensors.insert(name, t);
    }
    let pos = sinusoids(cfg.n_audio_ctx, cfg.n_audio_state);
    let pos = Tensor::from_vec(pos, (cfg.n_audio_ctx, cfg.n_audio_state), device)?;
    tensors.insert("model.encoder.embed_positions.weight".into(), pos);
    let weights = Weights {
        tensors,
        int8: HashMap::new(),
        device: device.clone(),
    };
    Ok((cfg, weights))
}

/// Whisper's fixed encoder position encodings: `[sin(t·ω_i) | cos(t·ω_i)]`.
pub fn sinusoids(length: usize, channels: usize) -> Vec<f32> {
    let half = channels / 2;
    let inc = (10000f64).ln() / (half as f64 - 1.0);
    let mut out = vec![0f32; length * channels];
    for t in 0..length {
        for i in 0..half {
            let a = t as f64 * (-inc * i as f64).exp();
            out[t * channels + i] = a.sin() as f32;
            out[t * channels + half + i] = a.cos() as f32;
        }
    }
    out
}

/// File names inside a base directory.
pub fn model_file(dir: &Path) -> PathBuf {
    dir.join("model.safetensors")
}
pub fn tokenizer_file(dir: &Path) -> PathBuf {
    dir.join("tokenizer.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantization_error_is_below_half_a_step() {
        let data: Vec<f32> = (0..64 * 80)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
            .collect();
        let t = RawTensor {
            shape: vec![64, 80],
            data,
        };
        let (q, s) = quantize_rows(&t);
        let qb: Vec<u8> = q.iter().map(|&v| v as u8).collect();
        let back = dequantize_rows(&qb, &s);
        for (r, (a, b)) in t.data.chunks(80).zip(back.chunks(80)).enumerate() {
            for (x, y) in a.iter().zip(b) {
                assert!((x - y).abs() <= s[r] / 2.0 + 1e-6, "row {r}: {x} vs {y}");
            }
        }
    }

    #[test]
    fn an_empty_matrix_dequantizes_to_nothing() {
        // Found by review beside the fuzz target `base`: chunks(0) panicked.
        assert!(dequantize_rows(&[], &[1.0, 2.0]).is_empty());
        assert!(dequantize_rows(&[], &[]).is_empty());
    }

    #[test]
    fn sinusoids_match_whisper_formula() {
        // Whisper: position 1, channel 0 → sin(1) ; channel half → cos(1).
        let s = sinusoids(3, 8);
        assert!((s[8] - 1f32.sin()).abs() < 1e-6);
        assert!((s[8 + 4] - 1f32.cos()).abs() < 1e-6);
        assert_eq!(s[0], 0.0);
        assert_eq!(s[4], 1.0);
    }
}
