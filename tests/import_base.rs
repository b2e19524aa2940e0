//! Importer round trips: a tiny synthetic CTranslate2 `model.bin` (fused q/k/v, f16 and f32
//! tensors, an alias) and a Hugging Face directory are imported, written in the int8 base format,
//! loaded back, and run.

use std::collections::BTreeMap;
use std::path::Path;

use attune::model::import::{import_dir, write_base};
use attune::model::testing::random_raw;
use attune::model::weights::RawTensor;
use attune::model::{NoHooks, Whisper, WhisperConfig};
use candle_core::{Device, Tensor};

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

/// Serializes `raw` (HF names) into CTranslate2's Whisper layout.
fn write_ct2(cfg: &WhisperConfig, raw: &BTreeMap<String, RawTensor>, dir: &Path) {
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
    std::fs::write(dir.join("model.bin"), out).unwrap();
    std::fs::write(
        dir.join("config.json"),
        r#"{"suppress_ids": [1, 2], "suppress_ids_begin": [220, 50256]}"#,
    )
    .unwrap();
    let tok = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/base/tiny.en/tokenizer.json");
    std::fs::copy(tok, dir.join("tokenizer.json")).unwrap();
}

#[test]
fn a_ctranslate2_model_round_trips_through_the_importer() {
    let cfg = WhisperConfig::tiny_test();
    let raw = random_raw(&cfg, 3);
    let src = tempfile::tempdir().unwrap();
    write_ct2(&cfg, &raw, src.path());

    let imported = import_dir(src.path(), "synthetic").unwrap();
    let c = &imported.config;
    assert_eq!(
        (c.n_mels, c.n_audio_state, c.n_audio_head, c.n_audio_layer),
        (8, 16, 2, 2)
    );
    assert_eq!(
        (c.n_vocab, c.n_text_ctx, c.n_text_head, c.n_text_layer),
        (40, 24, 2, 2)
    );
    assert_eq!((c.n_audio_ctx, c.suppress.clone()), (32, vec![1, 2]));
    assert_eq!(
        (c.tokens.eot, c.tokens.sot, c.tokens.no_timestamps),
        (50256, 50257, 50362)
    );
    // Every HF tensor comes back; f16-stored ones to f16 precision, f32 ones exactly.
    assert_eq!(imported.tensors.len(), raw.len());
    for (name, want) in &raw {
        let got = &imported.tensors[name];
        assert_eq!(got.shape, want.shape, "{name}");
        for (a, b) in got.data.iter().zip(&want.data) {
            assert!(
                (a - b).abs() <= 1e-3 * b.abs().max(1.0),
                "{name}: {a} vs {b}"
            );
        }
    }

    let out = tempfile::tempdir().unwrap();
    write_base(&imported, out.path()).unwrap();
    let (model, _) = Whisper::load(out.path(), &Device::Cpu).unwrap();
    let reference = Whisper::random(&cfg, 3, &Device::Cpu).unwrap();
    let mel = Tensor::ones((1, cfg.n_mels, 20), candle_core::DType::F32, &Device::Cpu).unwrap();
    let a = model.encode(&mel, &NoHooks, false).unwrap();
    let b = reference.encode(&mel, &NoHooks, false).unwrap();
    let diff: f32 = (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap();
    // int8 per-row weights: the encoder output stays within a few percent of full precision.
    assert!(diff < 0.05, "imported model drifts by {diff}");
}

#[test]
fn a_truncated_model_bin_is_refused_with_the_file_named() {
    let cfg = WhisperConfig::tiny_test();
    let src = tempfile::tempdir().unwrap();
    write_ct2(&cfg, &random_raw(&cfg, 1), src.path());
    let bin = src.path().join("model.bin");
    let bytes = std::fs::read(&bin).unwrap();
    std::fs::write(&bin, &bytes[..bytes.len() / 2]).unwrap();
    let err = import_dir(src.path(), "x")
        .err()
        .expect("truncated file imported")
        .to_string();
    assert!(
        err.contains("model.bin") && err.contains("truncated"),
        "{err}"
    );
}

#[test]
fn a_hugging_face_directory_imports_with_tied_and_prefixed_names() {
    let cfg = WhisperConfig::tiny_test();
    let raw = random_raw(&cfg, 4);
    let dir = tempfile::tempdir().unwrap();
    // HF checkpoints store f16/f32 tensors under `model.…` plus a tied `proj_out.weight`.
    let mut owned: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> = raw
        .iter()
        .map(|(k, t)| {
            let bytes = t
                .data
                .iter()
                .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
                .collect();
            (k.clone(), safetensors::Dtype::F16, t.shape.clone(), bytes)
        })
        .collect();
    let emb = &raw["model.decoder.embed_tokens.weight"];
    owned.push((
        "proj_out.weight".into(),
        safetensors::Dtype::F32,
        emb.shape.clone(),
        emb.data.iter().flat_map(|v| v.to_le_bytes()).collect(),
    ));
    let views: Vec<(String, safetensors::tensor::TensorView)> = owned
        .iter()
        .map(|(k, dt, s, b)| {
            (
                k.clone(),
                safetensors::tensor::TensorView::new(*dt, s.clone(), b).unwrap(),
            )
        })
        .collect();
    std::fs::write(
        dir.path().join("model.safetensors"),
        safetensors::serialize(views, None).unwrap(),
    )
    .unwrap();
    let config = serde_json::json!({
        "num_mel_bins": cfg.n_mels, "max_source_positions": cfg.n_audio_ctx, "d_model": cfg.n_audio_state,
        "encoder_attention_heads": cfg.n_audio_head, "encoder_layers": cfg.n_audio_layer, "vocab_size": cfg.n_vocab,
        "max_target_positions": cfg.n_text_ctx, "decoder_attention_heads": cfg.n_text_head, "decoder_layers": cfg.n_text_layer,
        "suppress_tokens": [3, 4], "begin_suppress_tokens": [220, 50256],
    });
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    let tok = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/base/tiny.en/tokenizer.json");
    std::fs::copy(tok, dir.path().join("tokenizer.json")).unwrap();

    let imported = import_dir(dir.path(), "hf").unwrap();
    assert_eq!(imported.config.suppress, vec![3, 4]);
    assert_eq!(imported.config.n_audio_layer, 2);
    assert_eq!(
        imported.tensors.len(),
        raw.len(),
        "proj_out is tied, not stored twice"
    );
    for (name, want) in &raw {
        let got = &imported.tensors[name];
        assert_eq!(got.shape, want.shape, "{name}");
        assert!(
            got.data
                .iter()
                .zip(&want.data)
                .all(|(a, b)| (a - b).abs() <= 1e-3 * b.abs().max(1.0)),
            "{name}"
        );
    }
    let out = tempfile::tempdir().unwrap();
    write_base(&imported, out.path()).unwrap();
    assert!(Whisper::load(out.path(), &Device::Cpu).is_ok());
}
