//! PEFT export of LoRA submodels: key names and shapes follow the Hugging Face Whisper scheme
//! (checked against the shipped base's own HF parameter names), values are our A/B transposed,
//! and residual and hybrid submodels are refused with a clear error.

mod base_common;
use base_common::shipped_base;

use std::collections::BTreeSet;

use attune::model::Whisper;
use attune::serve::synthetic;
use attune::submodel::peft::{self, PeftError};
use attune::submodel::{Kind, Spec};
use candle_core::Device;
use safetensors::SafeTensors;

#[test]
fn lora_exports_with_hf_whisper_names_shapes_and_values() {
    let (model, _) = Whisper::load(&shipped_base(), &Device::Cpu).unwrap();
    let cfg = &model.config;
    let spec = Spec {
        alpha: 16.0,
        ..Spec::new(Kind::Lora, 8)
    };
    let mut sub = synthetic::submodel(
        &spec,
        (cfg, &model.hash, &cfg.name),
        "alice",
        3,
        0.05,
        &Device::Cpu,
    )
    .unwrap();
    sub.meta.id = "alice-v1".into();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("alice-peft");
    peft::export_peft(&sub, &out, None).unwrap();

    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join(peft::CONFIG_FILE)).unwrap()).unwrap();
    assert_eq!(config["peft_type"], "LORA");
    assert_eq!(config["r"], 8);
    assert_eq!(config["lora_alpha"], 16);
    assert_eq!(
        config["target_modules"],
        serde_json::json!(["q_proj", "v_proj"])
    );
    assert_eq!(config["base_model_name_or_path"], "openai/whisper-tiny.en");
    assert_eq!(config["bias"], "none");

    let bytes = std::fs::read(out.join(peft::WEIGHTS_FILE)).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    // The expected key set, written out independently of the exporter.
    let mut expected = BTreeSet::new();
    for l in 0..cfg.n_audio_layer {
        for p in ["q_proj", "v_proj"] {
            expected.insert(format!("model.encoder.layers.{l}.self_attn.{p}"));
        }
    }
    for l in 0..cfg.n_text_layer {
        for (a, p) in [
            ("self_attn", "q_proj"),
            ("self_attn", "v_proj"),
            ("encoder_attn", "q_proj"),
            ("encoder_attn", "v_proj"),
        ] {
            expected.insert(format!("model.decoder.layers.{l}.{a}.{p}"));
        }
    }
    let mut found = BTreeSet::new();
    for (key, view) in st.tensors() {
        let module = key
            .strip_prefix("base_model.model.")
            .unwrap_or_else(|| panic!("{key}: PEFT prefix"));
        let (module, ab) = module.rsplit_once(".lora_").unwrap();
        // The module is a real Linear of the HF model: its weight is [d_out, d_in].
        let w = model.weights.get(&format!("{module}.weight")).unwrap();
        let (d_out, d_in) = w.dims2().unwrap();
        match ab {
            "A.weight" => assert_eq!(view.shape(), [8, d_in], "{key}"),
            "B.weight" => assert_eq!(view.shape(), [d_out, 8], "{key}"),
            other => panic!("{key}: unexpected suffix {other}"),
        }
        found.insert(module.to_string());
    }
    assert_eq!(found, expected);
    assert_eq!(st.len(), expected.len() * 2);

    // lora_A = aᵀ, lora_B = bᵀ.
    let a = sub.table.tensors["dec.1.cross.v.a"]
        .get(0)
        .unwrap()
        .to_vec2::<f32>()
        .unwrap(); // [d_in, r]
    let b = sub.table.tensors["dec.1.cross.v.b"]
        .get(0)
        .unwrap()
        .to_vec2::<f32>()
        .unwrap(); // [r, d_out]
    let read = |k: &str| -> Vec<f32> {
        let v = st.tensor(k).unwrap();
        v.data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    };
    let pa = read("base_model.model.model.decoder.layers.1.encoder_attn.v_proj.lora_A.weight");
    let pb = read("base_model.model.model.decoder.layers.1.encoder_attn.v_proj.lora_B.weight");
    let (d, r) = (a.len(), a[0].len());
    assert!((0..r).all(|i| (0..d).all(|j| pa[i * d + j] == a[j][i])));
    assert!((0..d).all(|o| (0..r).all(|i| pb[o * r + i] == b[i][o])));
    assert!(pb.iter().any(|&x| x != 0.0), "B carries the trained update");
}

#[test]
fn residual_and_hybrid_submodels_have_no_peft_form() {
    let cfg = attune::model::WhisperConfig::tiny_test();
    for kind in [Kind::Residual, Kind::Hybrid] {
        let spec = Spec::new(kind, 4);
        let mut sub =
            synthetic::submodel(&spec, (&cfg, "h", "test"), "bob", 1, 0.1, &Device::Cpu).unwrap();
        sub.meta.id = "bob-v1".into();
        let dir = tempfile::tempdir().unwrap();
        let err = peft::export_peft(&sub, &dir.path().join("out"), None).unwrap_err();
        assert!(matches!(err, PeftError::NotLora { .. }), "{kind}");
        let msg = err.to_string();
        assert!(msg.contains("bob-v1") && msg.contains("only LoRA"), "{msg}");
        assert!(!dir.path().join("out").exists(), "{kind}: nothing written");
    }
    // A hybrid's residual half has no place in Whisper's layers: only attune's own file.
    assert_eq!(
        attune::export::Format::for_kind(Kind::Hybrid),
        vec![attune::export::Format::File]
    );
}
