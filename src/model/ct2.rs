//! CTranslate2's Whisper `model.bin`: the binary layout (parse and encode) and the one table that
//! maps each CTranslate2 variable to the Hugging Face tensors it holds, shared by `base import`
//! and the merged export.

use std::collections::BTreeMap;
use std::path::Path;

use half::{bf16, f16};

use super::ModelError;
use super::weights::RawTensor;
use crate::util::bytes::LeReader;

type Tensors = BTreeMap<String, RawTensor>;

/// The binary version written (readers accept 5 and 6).
pub const BINARY_VERSION: u32 = 6;
/// CTranslate2's name and revision of the Whisper specification.
pub const WHISPER_SPEC: &str = "WhisperSpec";
pub const WHISPER_REVISION: u32 = 3;
/// The decoder's output projection is stored once, as the token embedding.
pub const PROJECTION_ALIAS: (&str, &str) =
    ("decoder/projection/weight", "decoder/embeddings/weight");

fn bad(file: &Path, what: impl Into<String>) -> ModelError {
    ModelError::BadFile {
        file: file.to_path_buf(),
        what: what.into(),
    }
}

/// One CTranslate2 variable and the HF tensors stacked in it along the first axis, in order.
/// `None` is a block of zeros: the key projection has no bias, but a fused bias has its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Ct2Var {
    pub name: String,
    pub parts: Vec<Option<String>>,
}

fn one(name: String, hf: String) -> Ct2Var {
    Ct2Var {
        name,
        parts: vec![Some(hf)],
    }
}

/// Every tensor variable of a Whisper model with `n_enc` + `n_dec` layers, except the encoder's
/// sinusoidal position table (not a HF tensor) and the scalars.
pub fn layout(n_enc: usize, n_dec: usize) -> Vec<Ct2Var> {
    let mut v = Vec::new();
    let linear = |v: &mut Vec<Ct2Var>, c: &str, h: &str| {
        for p in ["weight", "bias"] {
            v.push(one(format!("{c}/{p}"), format!("{h}.{p}")));
        }
    };
    let norm = |v: &mut Vec<Ct2Var>, c: &str, h: &str| {
        v.push(one(format!("{c}/gamma"), format!("{h}.weight")));
        v.push(one(format!("{c}/beta"), format!("{h}.bias")));
    };
    // A fused projection: weights stacked; the key's bias rows are zeros.
    let fused = |v: &mut Vec<Ct2Var>, c: &str, h: &str, projs: &[&str]| {
        v.push(Ct2Var {
            name: format!("{c}/weight"),
            parts: projs
                .iter()
                .map(|p| Some(format!("{h}.{p}.weight")))
                .collect(),
        });
        v.push(Ct2Var {
            name: format!("{c}/bias"),
            parts: projs
                .iter()
                .map(|p| (*p != "k_proj").then(|| format!("{h}.{p}.bias")))
                .collect(),
        });
    };
    for conv in ["conv1", "conv2"] {
        linear(
            &mut v,
            &format!("encoder/{conv}"),
            &format!("model.encoder.{conv}"),
        );
    }
    for (stack, n) in [("encoder", n_enc), ("decoder", n_dec)] {
        for i in 0..n {
            let (c, h) = (
                format!("{stack}/layer_{i}"),
                format!("model.{stack}.layers.{i}"),
            );
            let qkv = ["q_proj", "k_proj", "v_proj"];
            fused(
                &mut v,
                &format!("{c}/self_attention/linear_0"),
                &format!("{h}.self_attn"),
                &qkv,
            );
            linear(
                &mut v,
                &format!("{c}/self_attention/linear_1"),
                &format!("{h}.self_attn.out_proj"),
            );
            norm(
                &mut v,
                &format!("{c}/self_attention/layer_norm"),
                &format!("{h}.self_attn_layer_norm"),
            );
            if stack == "decoder" {
                linear(
                    &mut v,
                    &format!("{c}/attention/linear_0"),
                    &format!("{h}.encoder_attn.q_proj"),
                );
                fused(
                    &mut v,
                    &format!("{c}/attention/linear_1"),
                    &format!("{h}.encoder_attn"),
                    &["k_proj", "v_proj"],
                );
                linear(
                    &mut v,
                    &format!("{c}/attention/linear_2"),
                    &format!("{h}.encoder_attn.out_proj"),
                );
                norm(
                    &mut v,
                    &format!("{c}/attention/layer_norm"),
                    &format!("{h}.encoder_attn_layer_norm"),
                );
            }
            linear(&mut v, &format!("{c}/ffn/linear_0"), &format!("{h}.fc1"));
            linear(&mut v, &format!("{c}/ffn/linear_1"), &format!("{h}.fc2"));
            norm(
                &mut v,
                &format!("{c}/ffn/layer_norm"),
                &format!("{h}.final_layer_norm"),
            );
        }
        norm(
            &mut v,
            &format!("{stack}/layer_norm"),
            &format!("model.{stack}.layer_norm"),
        );
    }
    v.push(one(
        "decoder/embeddings/weight".into(),
        "model.decoder.embed_tokens.weight".into(),
    ));
    v.push(one(
        "decoder/position_encodings/encodings".into(),
        "model.decoder.embed_positions.weight".into(),
    ));
    v
}

/// Whether a variable is quantized in int8 models (CTranslate2 quantizes linear, convolution and
/// embedding weights, one scale per output row).
pub fn quantizable(name: &str) -> bool {
    name.ends_with("/weight")
}

/// Splits `var`'s tensor into its HF parts (zero blocks dropped).
pub fn split(var: &Ct2Var, t: &RawTensor) -> Result<Vec<(String, RawTensor)>, String> {
    let n = var.parts.len();
    let rows = t.shape.first().map_or(0, |r| r / n.max(1));
    let cols: usize = t.shape.iter().skip(1).product();
    if rows == 0 || cols == 0 || rows * n != t.shape[0] {
        return Err(format!(
            "{}: shape {:?} is not {n} stacked parts",
            var.name, t.shape
        ));
    }
    let mut shape = t.shape.clone();
    shape[0] = rows;
    Ok(var
        .parts
        .iter()
        .zip(t.data.chunks(rows * cols))
        .filter_map(|(p, c)| {
            p.as_ref().map(|name| {
                let t = RawTensor {
                    shape: shape.clone(),
                    data: c.to_vec(),
                };
                (name.clone(), t)
            })
        })
        .collect())
}

/// Stacks `var`'s HF parts from `hf` (zero blocks shaped like the first present part).
pub fn fuse(var: &Ct2Var, hf: &Tensors) -> Result<RawTensor, String> {
    let present = var.parts.iter().flatten().next().ok_or("no parts")?;
    let like = hf
        .get(present)
        .ok_or_else(|| format!("missing {present}"))?;
    let mut shape = like.shape.clone();
    shape[0] *= var.parts.len();
    let mut data = Vec::with_capacity(shape.iter().product());
    for p in &var.parts {
        match p {
            Some(name) => {
                let t = hf.get(name).ok_or_else(|| format!("missing {name}"))?;
                if t.shape != like.shape {
                    return Err(format!("{name}: shape {:?} ≠ {:?}", t.shape, like.shape));
                }
                data.extend_from_slice(&t.data);
            }
            None => data.extend(std::iter::repeat_n(0.0, like.data.len())),
        }
    }
    Ok(RawTensor { shape, data })
}

/// Element types of `model.bin` (CTranslate2's `DataType` order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    F32 = 0,
    I8 = 1,
    I16 = 2,
    F16 = 4,
}

/// One variable to encode.
#[derive(Debug, Clone)]
pub struct Variable {
    pub name: String,
    pub shape: Vec<usize>,
    pub dtype: DType,
    pub bytes: Vec<u8>,
}

impl Variable {
    pub fn f32(name: &str, t: &RawTensor) -> Self {
        Self {
            name: name.into(),
            shape: t.shape.clone(),
            dtype: DType::F32,
            bytes: t.data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }
    pub fn f16(name: &str, t: &RawTensor) -> Self {
        Self {
            name: name.into(),
            shape: t.shape.clone(),
            dtype: DType::F16,
            bytes: t
                .data
                .iter()
                .flat_map(|v| f16::from_f32(*v).to_le_bytes())
                .collect(),
        }
    }
    pub fn i8(name: &str, shape: &[usize], q: &[i8]) -> Self {
        Self {
            name: name.into(),
            shape: shape.to_vec(),
            dtype: DType::I8,
            bytes: q.iter().map(|&v| v as u8).collect(),
        }
    }
    /// A rank-0 scalar (flags, activation id).
    pub fn scalar_i8(name: &str, v: i8) -> Self {
        Self::i8(name, &[], &[v])
    }
    /// A rank-0 16-bit scalar (head counts, alignment settings).
    pub fn scalar_i16(name: &str, v: i16) -> Self {
        Self {
            name: name.into(),
            shape: vec![],
            dtype: DType::I16,
            bytes: v.to_le_bytes().to_vec(),
        }
    }
}

/// CTranslate2's int8 quantization of a weight (rows = first axis): `q = round(x · s)`,
/// `s = 127 / max|row|` (a zero row gets `s = 1`). Returns the values and the per-row scales.
pub fn quantize_int8(t: &RawTensor) -> (Vec<i8>, Vec<f32>) {
    let cols: usize = t.shape[1..].iter().product();
    let mut q = Vec::with_capacity(t.data.len());
    let mut scales = Vec::with_capacity(t.shape[0]);
    for row in t.data.chunks(cols.max(1)) {
        let amax = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        let s = if amax > 0.0 { 127.0 / amax } else { 1.0 };
        scales.push(s);
        q.extend(
            row.iter()
                .map(|v| (v * s).round().clamp(-127.0, 127.0) as i8),
        );
    }
    (q, scales)
}

fn string(out: &mut Vec<u8>, s: &str) {
    out.extend(((s.len() + 1) as u16).to_le_bytes());
    out.extend(s.as_bytes());
    out.push(0);
}

/// Serializes `vars` (written in name order, as CTranslate2 does) and `aliases` (alias → target).
pub fn encode(spec: &str, revision: u32, vars: &[Variable], aliases: &[(&str, &str)]) -> Vec<u8> {
    let mut order: Vec<&Variable> = vars.iter().collect();
    order.sort_by(|a, b| a.name.cmp(&b.name));
    let size: usize = vars.iter().map(|v| v.bytes.len() + v.name.len() + 32).sum();
    let mut out = Vec::with_capacity(size + 64);
    out.extend(BINARY_VERSION.to_le_bytes());
    string(&mut out, spec);
    out.extend(revision.to_le_bytes());
    out.extend((vars.len() as u32).to_le_bytes());
    for v in order {
        string(&mut out, &v.name);
        out.push(v.shape.len() as u8);
        for &d in &v.shape {
            out.extend((d as u32).to_le_bytes());
        }
        out.push(v.dtype as u8);
        out.extend((v.bytes.len() as u32).to_le_bytes());
        out.extend(&v.bytes);
    }
    out.extend((aliases.len() as u32).to_le_bytes());
    for (alias, target) in aliases {
        string(&mut out, alias);
        string(&mut out, target);
    }
    out
}

/// A CTranslate2 string: u16 length, bytes, trailing NULs dropped.
fn read_string(r: &mut LeReader) -> Result<String, ModelError> {
    let n = r.u16()? as usize;
    Ok(String::from_utf8_lossy(r.take(n)?)
        .trim_end_matches('\0')
        .to_string())
}

/// Parses `model.bin` (binary version 5 or 6) into name → f32 tensor: int8/int16 weights are
/// divided by their `weight_scale` (and the scales dropped), aliases resolved.
pub fn parse(bytes: &[u8], file: &Path) -> Result<Tensors, ModelError> {
    let mut r = LeReader::new(bytes, file);
    let version = r.u32()?;
    if !(5..=6).contains(&version) {
        return Err(bad(
            file,
            format!("CTranslate2 binary version {version} is not supported"),
        ));
    }
    let _spec = read_string(&mut r)?;
    let _revision = r.u32()?;
    let count = r.u32()?;
    let mut out = Tensors::new();
    for _ in 0..count {
        let name = read_string(&mut r)?;
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
        out.insert(name, RawTensor { shape, data });
    }
    let scales: Vec<String> = out
        .keys()
        .filter(|k| k.ends_with("/weight_scale"))
        .cloned()
        .collect();
    for s in scales {
        let scale = out
            .remove(&s)
            .unwrap_or_else(|| unreachable!("listed above"));
        let w = s.trim_end_matches("_scale");
        let w = out
            .get_mut(w)
            .ok_or_else(|| bad(file, format!("{s} without its weight")))?;
        let rows = scale.data.len().max(1);
        if w.data.len() % rows != 0 {
            return Err(bad(file, format!("{s}: {rows} scales for {:?}", w.shape)));
        }
        let cols = w.data.len() / rows;
        for (row, &sc) in w.data.chunks_mut(cols.max(1)).zip(&scale.data) {
            row.iter_mut().for_each(|v| *v /= sc);
        }
    }
    if !r.at_end() {
        let aliases = r.u32()?;
        for _ in 0..aliases {
            let alias = read_string(&mut r)?;
            let target = read_string(&mut r)?;
            if let Some(t) = out.get(&target).cloned() {
                out.insert(alias, t);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_covers_every_hf_tensor_once() {
        let cfg = crate::model::WhisperConfig::tiny_test();
        let expected: Vec<String> = cfg.tensor_shapes().into_iter().map(|(n, _)| n).collect();
        let mut found: Vec<String> = layout(cfg.n_audio_layer, cfg.n_text_layer)
            .into_iter()
            .flat_map(|v| v.parts.into_iter().flatten())
            .collect();
        found.sort();
        let mut expected = expected;
        expected.sort();
        assert_eq!(found, expected);
    }

    #[test]
    fn int8_round_trip_is_within_half_a_step() {
        let t = RawTensor {
            shape: vec![3, 4],
            data: vec![
                0.5, -1.0, 0.25, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0, 2.0, -1.5, 0.1,
            ],
        };
        let (q, s) = quantize_int8(&t);
        assert_eq!(q[1], -127);
        assert_eq!(s[1], 1.0, "a zero row keeps scale 1");
        let mut vars = vec![
            Variable::i8("x/weight", &t.shape, &q),
            Variable::f32(
                "x/weight_scale",
                &RawTensor {
                    shape: vec![3],
                    data: s.clone(),
                },
            ),
        ];
        vars.push(Variable::scalar_i16("x/num_heads", 6));
        let bytes = encode(
            WHISPER_SPEC,
            WHISPER_REVISION,
            &vars,
            &[("y/weight", "x/weight")],
        );
        let back = parse(&bytes, Path::new("mem")).unwrap();
        assert!(!back.contains_key("x/weight_scale"));
        assert_eq!(back["x/num_heads"].data, vec![6.0]);
        assert_eq!(back["y/weight"], back["x/weight"]);
        for (i, (a, b)) in t.data.iter().zip(&back["x/weight"].data).enumerate() {
            assert!((a - b).abs() <= 0.5 / s[i / 4] + 1e-7, "{i}: {a} vs {b}");
        }
    }
}
