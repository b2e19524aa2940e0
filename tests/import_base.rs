//! Importer round trips: a tiny synthetic CTranslate2 `model.bin` (fused q/k/v, f16 and f32
//! tensors, an alias) and a Hugging Face directory are imported, written in the int8 base format,
//! loaded back, and run.

mod ct2_common;

use std::collections::BTreeMap;
use std::path::Path;

use attune::model::import::{import_dir, write_base};
use attune::model::testing::{max_abs_diff, random_raw};
use attune::model::weights::RawTensor;
use attune::model::{NoHooks, Whisper, WhisperConfig};
use candle_core::{Device, Tensor};

/// Writes a CTranslate2 directory for `raw`: `model.bin`, `config.json`, `tokenizer.json`.
fn write_ct2(cfg: &WhisperConfig, raw: &BTreeMap<String, RawTensor>, dir: &Path) {
    let out = ct2_common::ct2_bytes(cfg, raw);
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
    let diff = max_abs_diff(&a, &b);
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
