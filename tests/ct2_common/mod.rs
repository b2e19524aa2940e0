//! A CTranslate2 `model.bin` writer for tests: serializes HF-named Whisper tensors in
//! CTranslate2's layout (fused q/k/v, f16 matrices, f32 vectors, an alias).
#![allow(dead_code)]

use std::collections::BTreeMap;

use attune::model::WhisperConfig;
use attune::model::weights::RawTensor;

/// One CTranslate2 variable as written in model.bin.
struct Var {
    name: String,
    shape: Vec<usize>,
    dtype: u8,
    bytes: Vec<u8>,
}

fn f32_var(name: &str, t: &RawTensor) -> Var {
    let bytes = t.data.iter().flat_map(|v| v.to_le_bytes()).collect();
    Var {
        name: name.into(),
        shape: t.shape.clone(),
        dtype: 0,
        bytes,
    }
}

fn f16_var(name: &str, t: &RawTensor) -> Var {
    let bytes = t
        .data
        .iter()
        .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
        .collect();
    Var {
        name: name.into(),
        shape: t.shape.clone(),
        dtype: 4,
        bytes,
    }
}

/// Concatenates tensors along the first axis (CTranslate2's fused projections).
fn fuse(parts: &[RawTensor]) -> RawTensor {
    let mut shape = parts[0].shape.clone();
    shape[0] = parts.iter().map(|p| p.shape[0]).sum();
    RawTensor {
        shape,
        data: parts.iter().flat_map(|p| p.data.clone()).collect(),
    }
}

fn zeros(n: usize) -> RawTensor {
    RawTensor {
        shape: vec![n],
        data: vec![0.0; n],
    }
}

fn string(out: &mut Vec<u8>, s: &str) {
    let b: Vec<u8> = s.bytes().chain([0]).collect();
    out.extend((b.len() as u16).to_le_bytes());
    out.extend(b);
}

/// Serializes `raw` (HF names) into CTranslate2's Whisper layout: the bytes of a `model.bin`
/// (spec version 6, f16 matrices, f32 vectors, one alias).
pub fn ct2_bytes(cfg: &WhisperConfig, raw: &BTreeMap<String, RawTensor>) -> Vec<u8> {
    let g = |k: &str| raw[k].clone();
    let mut vars = vec![];
    let lin = |vars: &mut Vec<Var>, from: &str, to: &str| {
        vars.push(f16_var(
            &format!("{to}/weight"),
            &g(&format!("{from}.weight")),
        ));
        vars.push(f32_var(&format!("{to}/bias"), &g(&format!("{from}.bias"))));
    };
    let ln = |vars: &mut Vec<Var>, from: &str, to: &str| {
        vars.push(f32_var(
            &format!("{to}/gamma"),
            &g(&format!("{from}.weight")),
        ));
        vars.push(f32_var(&format!("{to}/beta"), &g(&format!("{from}.bias"))));
    };
    for c in ["conv1", "conv2"] {
        lin(
            &mut vars,
            &format!("model.encoder.{c}"),
            &format!("encoder/{c}"),
        );
    }
    for (stack, n, d) in [
        ("encoder", cfg.n_audio_layer, cfg.n_audio_state),
        ("decoder", cfg.n_text_layer, cfg.n_text_state),
    ] {
        for i in 0..n {
            let (h, c) = (
                format!("model.{stack}.layers.{i}"),
                format!("{stack}/layer_{i}"),
            );
            let sa = format!("{h}.self_attn");
            let w = fuse(&[
                g(&format!("{sa}.q_proj.weight")),
                g(&format!("{sa}.k_proj.weight")),
                g(&format!("{sa}.v_proj.weight")),
            ]);
            let b = fuse(&[
                g(&format!("{sa}.q_proj.bias")),
                zeros(d),
                g(&format!("{sa}.v_proj.bias")),
            ]);
            vars.push(f16_var(&format!("{c}/self_attention/linear_0/weight"), &w));
            vars.push(f32_var(&format!("{c}/self_attention/linear_0/bias"), &b));
            lin(
                &mut vars,
                &format!("{sa}.out_proj"),
                &format!("{c}/self_attention/linear_1"),
            );
            ln(
                &mut vars,
                &format!("{h}.self_attn_layer_norm"),
                &format!("{c}/self_attention/layer_norm"),
            );
            lin(&mut vars, &format!("{h}.fc1"), &format!("{c}/ffn/linear_0"));
            lin(&mut vars, &format!("{h}.fc2"), &format!("{c}/ffn/linear_1"));
            ln(
                &mut vars,
                &format!("{h}.final_layer_norm"),
                &format!("{c}/ffn/layer_norm"),
            );
            if stack == "decoder" {
                let ca = format!("{h}.encoder_attn");
                lin(
                    &mut vars,
                    &format!("{ca}.q_proj"),
                    &format!("{c}/attention/linear_0"),
                );
                let w = fuse(&[
                    g(&format!("{ca}.k_proj.weight")),
                    g(&format!("{ca}.v_proj.weight")),
                ]);
                let b = fuse(&[zeros(d), g(&format!("{ca}.v_proj.bias"))]);
                vars.push(f16_var(&format!("{c}/attention/linear_1/weight"), &w));
                vars.push(f32_var(&format!("{c}/attention/linear_1/bias"), &b));
                lin(
                    &mut vars,
                    &format!("{ca}.out_proj"),
                    &format!("{c}/attention/linear_2"),
                );
                ln(
                    &mut vars,
                    &format!("{h}.encoder_attn_layer_norm"),
                    &format!("{c}/attention/layer_norm"),
                );
            }
        }
        ln(
            &mut vars,
            &format!("model.{stack}.layer_norm"),
            &format!("{stack}/layer_norm"),
        );
        let heads = if stack == "encoder" {
            cfg.n_audio_head
        } else {
            cfg.n_text_head
        } as i16;
        vars.push(Var {
            name: format!("{stack}/num_heads"),
            shape: vec![],
            dtype: 2,
            bytes: heads.to_le_bytes().to_vec(),
        });
    }
    vars.push(f16_var(
        "decoder/embeddings/weight",
        &g("model.decoder.embed_tokens.weight"),
    ));
    vars.push(f32_var(
        "decoder/position_encodings/encodings",
        &g("model.decoder.embed_positions.weight"),
    ));
    let pos = RawTensor {
        shape: vec![cfg.n_audio_ctx, cfg.n_audio_state],
        data: vec![0.0; cfg.n_audio_ctx * cfg.n_audio_state],
    };
    vars.push(f32_var("encoder/position_encodings/encodings", &pos));

    let mut out = Vec::new();
    out.extend(6u32.to_le_bytes());
    string(&mut out, "WhisperSpec");
    out.extend(3u32.to_le_bytes());
    out.extend((vars.len() as u32).to_le_bytes());
    for v in &vars {
        string(&mut out, &v.name);
        out.push(v.shape.len() as u8);
        for d in &v.shape {
            out.extend((*d as u32).to_le_bytes());
        }
        out.push(v.dtype);
        out.extend((v.bytes.len() as u32).to_le_bytes());
        out.extend(&v.bytes);
    }
    out.extend(1u32.to_le_bytes());
    string(&mut out, "decoder/projection/weight");
    string(&mut out, "decoder/embeddings/weight");
    out
}
