//! Int8 × int8 inference on the frozen base: Q8_0 copies (candle's quantized matmul, AVX2 /
//! AVX-512 VNNI kernels) of the base matrices chosen by a [`Compute`], built from the same
//! per-row int8 values and scales the base file stores. Training keeps the f32 path.

use std::sync::Arc;

use candle_core::quantized::{GgmlDType, QTensor, ggml_file::qtensor_from_ggml};
use candle_core::{Result, Tensor};

use super::weights::{RawTensor, Weights, quantize_rows};

/// Values per Q8_0 block.
const BLOCK: usize = 32;

/// Which frozen matrices run int8 × int8 when no gradient is needed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compute {
    /// Every product in f32 (the dequantized base): exact, e.g. to compare exports.
    F32,
    /// The decoder's linears and the logits head in int8 (read every token: memory-bound),
    /// except the cross-attention keys and values: those are computed once per utterance over
    /// every audio frame (hundreds of rows), a GEMM that candle's int8 matmul runs slower than
    /// f32 (`attune eval --speaker tremor`, base and stock over 17 clips: 13.2–15.0 s →
    /// 10.7–10.9 s on a 2-core Xeon, three runs each, same WERs). The inference default: measured
    /// faster with the same real-clip transcripts (`attune bench decode --compute …`, README).
    #[default]
    Int8Decoder,
    /// Encoder and decoder in int8.
    Int8,
}

impl Compute {
    /// Whether the matrix `name` (HF Whisper name) runs in int8 under this choice.
    pub fn covers(self, name: &str) -> bool {
        match self {
            Self::F32 => false,
            Self::Int8Decoder => {
                name.starts_with("model.decoder.")
                    && !name.contains("encoder_attn.k_proj")
                    && !name.contains("encoder_attn.v_proj")
            }
            Self::Int8 => true,
        }
    }
}

/// Adds a Q8_0 copy of every 2-D weight the choice covers (rows a multiple of 32 long;
/// the position tables are never multiplied and are skipped).
pub fn attach(w: &mut Weights, compute: Compute) -> Result<()> {
    let mut names: Vec<&String> = w
        .tensors
        .keys()
        .filter(|n| compute.covers(n) && !n.contains("embed_positions"))
        .collect();
    names.sort();
    let mut int8 = Vec::new();
    for name in names {
        let t = &w.tensors[name];
        let &[_, cols] = t.dims() else { continue };
        if cols % BLOCK != 0 {
            continue;
        }
        int8.push((name.clone(), Arc::new(q8_0(t)?)));
    }
    w.int8.extend(int8);
    Ok(())
}

/// The Q8_0 form of `t: [rows, cols]`: each row's symmetric int8 values (as the base file stores
/// them) in blocks of 32 sharing the row's scale as f16.
pub fn q8_0(t: &Tensor) -> Result<QTensor> {
    let (rows, cols) = t.dims2()?;
    let raw = RawTensor {
        shape: vec![rows, cols],
        data: t.flatten_all()?.to_vec1::<f32>()?,
    };
    let (q, scales) = quantize_rows(&raw);
    let mut bytes = Vec::with_capacity(rows * cols / BLOCK * (2 + BLOCK));
    for (row, s) in q.chunks(cols).zip(&scales) {
        let d = half::f16::from_f32(*s).to_le_bytes();
        for block in row.chunks(BLOCK) {
            bytes.extend_from_slice(&d);
            bytes.extend(block.iter().map(|&v| v as u8));
        }
    }
    qtensor_from_ggml(GgmlDType::Q8_0, &bytes, vec![rows, cols], t.device())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, quantized::QMatMul};
    use candle_nn::Module;

    #[test]
    fn q8_0_holds_the_rows_int8_values() {
        let dev = Device::Cpu;
        let w = Tensor::randn(0f32, 1.0, (64, 96), &dev).unwrap();
        let q = q8_0(&w).unwrap();
        let back = q.dequantize(&dev).unwrap();
        // Per-row int8: error at most half a step of the row's scale (plus f16 scale rounding).
        let err = (back - &w).unwrap().abs().unwrap();
        let max_abs = w.abs().unwrap().max_keepdim(1).unwrap();
        let ratio = err
            .broadcast_div(&max_abs)
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(ratio <= 0.5 / 127.0 + 1e-3, "{ratio}");
    }

    #[test]
    fn int8_products_match_f32_within_quantization_error() {
        let dev = Device::Cpu;
        let w = Tensor::randn(0f32, 0.1, (200, 384), &dev).unwrap();
        let x = Tensor::randn(0f32, 1.0, (3, 384), &dev).unwrap();
        let exact = x.matmul(&w.t().unwrap()).unwrap();
        let got = QMatMul::from_arc(Arc::new(q8_0(&w).unwrap()))
            .unwrap()
            .forward(&x)
            .unwrap();
        let rel = ((got - &exact).unwrap().sqr().unwrap().sum_all().unwrap())
            .to_scalar::<f32>()
            .unwrap()
            .sqrt()
            / exact
                .sqr()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap()
                .sqrt();
        assert!(rel < 0.02, "relative error {rel}");
        assert!(rel > 0.0, "the int8 path ran");
    }

    #[test]
    fn precision_selects_matrices() {
        assert!(Compute::Int8Decoder.covers("model.decoder.layers.0.fc1.weight"));
        assert!(!Compute::Int8Decoder.covers("model.encoder.layers.0.fc1.weight"));
        assert!(Compute::Int8Decoder.covers("model.decoder.layers.0.encoder_attn.q_proj.weight"));
        for kv in ["k_proj", "v_proj"] {
            let name = format!("model.decoder.layers.3.encoder_attn.{kv}.weight");
            assert!(!Compute::Int8Decoder.covers(&name) && Compute::Int8.covers(&name));
        }
        assert!(Compute::Int8.covers("model.encoder.layers.0.fc1.weight"));
        assert!(!Compute::F32.covers("model.decoder.embed_tokens.weight"));
    }
}
