//! Merged exports on a tiny random Whisper: the merged weights are the base plus `(α/r)(AB)ᵀ` and
//! compute what base + submodel computes; the CTranslate2 `model.bin`, the ggml file and the HF
//! safetensors parse back (attune's own readers) to the same tensors at each precision; residual
//! submodels are refused with the way to an exportable one, and nothing is written.

mod base_common;
use base_common::shipped_base;

use std::collections::BTreeMap;
use std::path::Path;

use attune::export::{self, Format, Precision, ggml};
use attune::library;
use attune::model::import::import_dir;
use attune::model::testing::{random_raw, weights_from_raw};
use attune::model::weights::{RawTensor, encode_base_as, sinusoids};
use attune::model::{NoHooks, Whisper, WhisperConfig};
use attune::serve::synthetic;
use attune::store::Home;
use attune::submodel::{Kind, Spec, Submodel};
use attune::workflow::Workspace;
use attune::workflow::export::{Request, export as run_export};
use candle_core::{Device, Tensor};

fn tokenizer_json() -> Vec<u8> {
    std::fs::read(shipped_base().join("tokenizer.json")).unwrap()
}

/// A random base of `cfg` stored (f32) in `dir`, loaded back.
fn tiny_base(cfg: &WhisperConfig, dir: &Path) -> Whisper {
    std::fs::create_dir_all(dir).unwrap();
    let bytes = encode_base_as(cfg, &random_raw(cfg, 11), Precision::F32).unwrap();
    std::fs::write(dir.join("model.safetensors"), bytes).unwrap();
    std::fs::write(dir.join("tokenizer.json"), tokenizer_json()).unwrap();
    Whisper::load(dir, &Device::Cpu).unwrap().0
}

/// A test config whose widths split into q8_0 blocks of 32.
fn cfg32() -> WhisperConfig {
    let mut c = WhisperConfig::tiny_test();
    c.n_audio_state = 32;
    c.n_text_state = 32;
    c
}

fn lora(model: &Whisper, speaker: &str) -> Submodel {
    let spec = Spec {
        alpha: 8.0,
        ..Spec::new(Kind::Lora, 4)
    };
    let cfg = &model.config;
    synthetic::submodel(
        &spec,
        (cfg, &model.hash, &cfg.name),
        speaker,
        5,
        0.3,
        &Device::Cpu,
    )
    .unwrap()
}

/// A home with the tiny base and `sub` in its library.
struct Setup {
    _dir: tempfile::TempDir,
    ws: Workspace,
    model: Whisper,
    id: String,
    out: std::path::PathBuf,
}

fn setup(cfg: &WhisperConfig, kind: Kind) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    let model = tiny_base(cfg, &base);
    let home = Home {
        root: dir.path().join("home"),
    };
    let mut sub = match kind {
        Kind::Lora => lora(&model, "alice"),
        k => synthetic::submodel(
            &Spec::new(k, 4),
            (cfg, &model.hash, &cfg.name),
            "bob",
            2,
            0.1,
            &Device::Cpu,
        )
        .unwrap(),
    };
    library::add(&home, &mut sub).unwrap();
    let out = dir.path().join("out");
    Setup {
        ws: Workspace::at(home, &base),
        model,
        id: sub.meta.id,
        out,
        _dir: dir,
    }
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs()))
}

#[test]
fn merged_weights_are_base_plus_the_lora_update_and_compute_the_same() {
    let cfg = WhisperConfig::tiny_test();
    let s = setup(&cfg, Kind::Lora);
    let sub = library::load(&s.ws.home, &s.id, None, &Device::Cpu).unwrap();
    let merged = export::merge::merge(&s.model, &sub, tokenizer_json(), Format::Ct2).unwrap();
    let base = export::merge::base_tensors(&s.model).unwrap();
    assert_eq!(merged.tensors.len(), base.len());

    // Expected update, written out with plain loops: W[o][i] += α/r · Σ_k A[i][k] B[k][o].
    let scale = 8.0 / 4.0;
    let mut adapted = 0;
    for (name, a) in &sub.table.tensors {
        let Some(stem) = name.strip_suffix(".a") else {
            continue;
        };
        let a = a.get(0).unwrap().to_vec2::<f32>().unwrap(); // [d_in, r]
        let b = sub.table.tensors[&format!("{stem}.b")]
            .get(0)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap(); // [r, d_out]
        let target = export::merge::hf_weight(stem).unwrap();
        let (w0, w1) = (&base[&target], &merged.tensors[&target]);
        let (d_out, d_in) = (w0.shape[0], w0.shape[1]);
        let pairs = (0..d_out).flat_map(|o| (0..d_in).map(move |i| (o, i)));
        for (o, i) in pairs {
            let delta: f64 = a[i]
                .iter()
                .zip(&b)
                .map(|(x, b_row)| *x as f64 * b_row[o] as f64)
                .sum::<f64>()
                * scale;
            let want = w0.data[o * d_in + i] as f64 + delta;
            let got = w1.data[o * d_in + i] as f64;
            assert!(
                (want - got).abs() < 1e-5,
                "{target}[{o},{i}]: {got} vs {want}"
            );
        }
        assert!(max_diff(&w0.data, &w1.data) > 1e-3, "{target} changed");
        adapted += 1;
    }
    assert_eq!(adapted, 2 * cfg.n_audio_layer + 4 * cfg.n_text_layer);
    let changed = base
        .iter()
        .filter(|(k, t)| merged.tensors[k.as_str()] != **t)
        .count();
    assert_eq!(changed, adapted, "only the adapted projections change");

    // The merged model alone computes what base + submodel computes.
    let dev = Device::Cpu;
    let w = weights_from_raw(&cfg, &merged.tensors, &dev).unwrap();
    let m2 = Whisper::from_weights(cfg.clone(), w, "merged".into(), "<m>".into()).unwrap();
    let mel: Vec<f32> = (0..cfg.n_mels * 48)
        .map(|i| ((i * 7919 % 211) as f32 / 105.0) - 1.0)
        .collect();
    let mel = Tensor::from_vec(mel, (1, cfg.n_mels, 48), &dev).unwrap();
    let hooks = sub.table.gather(&[0]).unwrap();
    let enc_sub = s.model.encode(&mel, &hooks, false).unwrap();
    let enc_base = s.model.encode(&mel, &NoHooks, false).unwrap();
    let enc_merged = m2.encode(&mel, &NoHooks, false).unwrap();
    let flat = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert!(max_diff(&flat(&enc_sub), &flat(&enc_merged)) < 1e-4);
    assert!(
        max_diff(&flat(&enc_sub), &flat(&enc_base)) > 1e-2,
        "LoRA matters"
    );
    let tokens = Tensor::new(&[[31u32, 32, 5, 9, 17]], &dev).unwrap();
    let logits = |m: &Whisper, audio: &Tensor, h: &dyn attune::model::Hooks| {
        let x = m.decoder.forward(&tokens, audio, h, false).unwrap();
        flat(&m.decoder.logits(&x).unwrap())
    };
    let l_sub = logits(&s.model, &enc_sub, &hooks);
    let l_merged = logits(&m2, &enc_merged, &NoHooks);
    assert!(max_diff(&l_sub, &l_merged) < 1e-3);
}

/// The merged tensors of a setup's submodel (what every writer must reproduce).
fn merged_of(s: &Setup) -> export::Merged {
    let sub = library::load(&s.ws.home, &s.id, None, &Device::Cpu).unwrap();
    export::merge::merge(&s.model, &sub, tokenizer_json(), Format::Ct2).unwrap()
}

/// Every tensor of `want` is in `got` with the same shape, within `tol(row max)` per value.
fn assert_close(
    want: &BTreeMap<String, RawTensor>,
    got: &BTreeMap<String, RawTensor>,
    tol: impl Fn(&str, f32) -> f32,
) {
    for (name, w) in want {
        let g = got.get(name).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(g.shape, w.shape, "{name}");
        let cols: usize = w.shape[1..].iter().product::<usize>().max(1);
        for (r, (wr, gr)) in w.data.chunks(cols).zip(g.data.chunks(cols)).enumerate() {
            let amax = wr.iter().fold(0f32, |m, v| m.max(v.abs()));
            let d = max_diff(wr, gr);
            assert!(
                d <= tol(name, amax),
                "{name} row {r}: off by {d} (max {amax})"
            );
        }
    }
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn ct2_directories_parse_back_to_the_merged_tensors() {
    let cfg = WhisperConfig::tiny_test();
    let s = setup(&cfg, Kind::Lora);
    let merged = merged_of(&s);
    for (p, tol) in [
        (Precision::F32, 0.0f32),
        (Precision::F16, 1.0 / 1024.0),
        (Precision::Int8, 0.5 / 127.0),
    ] {
        let dir = s.out.join(format!("ct2-{p}"));
        let mut req = Request::new(&s.id, &dir, Format::Ct2);
        req.precision = p;
        let done = run_export(&s.ws, &req).unwrap();
        assert_eq!(done.files.len(), 5, "{:?}", done.files);
        #[cfg(unix)]
        {
            assert_eq!(mode(&dir), 0o700);
            assert!(done.files.iter().all(|f| mode(f) == 0o600));
        }
        // attune's own importer reads it back (int8 weights divided by their scales).
        let back = import_dir(&dir, "back").unwrap();
        assert_eq!(back.config.n_audio_layer, cfg.n_audio_layer);
        assert_eq!(back.config.n_text_head, cfg.n_text_head);
        assert_eq!(back.config.n_vocab, cfg.n_vocab);
        assert_eq!(back.config.suppress_at_begin, cfg.suppress_at_begin);
        assert_close(&merged.tensors, &back.tensors, |name, amax| {
            // Int8 quantizes weights only; norms and biases stay f32.
            let quantized = name.ends_with(".weight") && !name.contains("layer_norm");
            match p {
                Precision::Int8 if !quantized => 0.0,
                _ => tol * amax.max(if p == Precision::F16 { 1.0 } else { 0.0 }) + 1e-7,
            }
        });
        let bin = std::fs::read(dir.join("model.bin")).unwrap();
        let vars = attune::model::ct2::parse(&bin, &dir).unwrap();
        assert_eq!(
            vars["decoder/projection/weight"],
            vars["decoder/embeddings/weight"]
        );
        assert_eq!(vars["decoder/num_heads"].data, vec![2.0]);
        let pos = &vars["encoder/position_encodings/encodings"];
        assert_eq!(pos.shape, vec![cfg.n_audio_ctx, cfg.n_audio_state]);
        let sin = sinusoids(cfg.n_audio_ctx, cfg.n_audio_state);
        assert!(max_diff(&pos.data, &sin) <= 1e-3);
        let vocab: Vec<String> =
            serde_json::from_slice(&std::fs::read(dir.join("vocabulary.json")).unwrap()).unwrap();
        assert_eq!(vocab.len(), cfg.n_vocab);
        let config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
        for key in [
            "alignment_heads",
            "lang_ids",
            "suppress_ids",
            "suppress_ids_begin",
        ] {
            assert!(config[key].is_array(), "config.json {key}");
        }
        assert!(
            done.summary.contains(&format!("ct2, {p}")),
            "{}",
            done.summary
        );
    }
}

#[test]
fn ggml_files_parse_back_with_whisper_cpp_types() {
    let cfg = cfg32();
    let s = setup(&cfg, Kind::Lora);
    let merged = merged_of(&s);
    for p in [Precision::F32, Precision::F16, Precision::Int8] {
        let file = s.out.join(format!("ggml-{p}.bin"));
        let mut req = Request::new(&s.id, &file, Format::Ggml);
        req.precision = p;
        run_export(&s.ws, &req).unwrap();
        let g = ggml::parse(&std::fs::read(&file).unwrap(), &file).unwrap();
        let c = &cfg;
        let dims = [
            c.n_vocab,
            c.n_audio_ctx,
            c.n_audio_state,
            c.n_audio_head,
            c.n_audio_layer,
            c.n_text_ctx,
            c.n_text_state,
            c.n_text_head,
            c.n_text_layer,
            c.n_mels,
        ];
        let hp: Vec<usize> = g.hparams[..10].iter().map(|&v| v as usize).collect();
        assert_eq!(hp, dims);
        let ftype = match p {
            Precision::F32 => 0,
            Precision::F16 => 1,
            Precision::Int8 => 2007,
        };
        assert_eq!(g.hparams[10], ftype);
        let (n_mel, n_fft, filters) = &g.filters;
        assert_eq!((*n_mel, *n_fft), (c.n_mels, 201));
        assert_eq!(
            filters,
            &attune::features::slaney_filterbank(16000.0, 400, c.n_mels)
        );
        assert_eq!(g.vocab.len(), 50257);
        assert_eq!(g.vocab[220], b" ", "byte-level Ġ decodes to a space");
        // whisper.cpp's fixed types: f32 vectors and positions, f16 (or f32) convolutions.
        let ty = |n: &str| g.tensors[n].0;
        use ggml::GgmlType as T;
        let (matrix, conv) = match p {
            Precision::F32 => (T::F32, T::F32),
            Precision::F16 => (T::F16, T::F16),
            Precision::Int8 => (T::Q8_0, T::F16),
        };
        assert_eq!(ty("encoder.positional_embedding"), T::F32);
        assert_eq!(ty("decoder.positional_embedding"), T::F32);
        assert_eq!(ty("encoder.conv1.bias"), T::F32);
        assert_eq!(
            g.tensors["encoder.conv1.bias"].1.shape,
            vec![c.n_audio_state, 1]
        );
        assert_eq!(ty("encoder.conv2.weight"), conv);
        assert_eq!(ty("decoder.blocks.1.cross_attn.value.weight"), matrix);
        assert_eq!(ty("decoder.token_embedding.weight"), matrix);
        assert_eq!(ty("encoder.blocks.0.attn_ln.bias"), T::F32);
        // Every tensor comes back (plus the encoder positions) within the precision's step.
        assert_eq!(g.tensors.len(), merged.tensors.len() + 1);
        let back = g.to_hf(merged.tensors.keys()).unwrap();
        assert_close(&merged.tensors, &back, |name, amax| {
            let o = ggml::openai_name(name).unwrap();
            match g.tensors[&o].0 {
                T::F32 => 0.0,
                T::F16 => amax / 1024.0 + 1e-7,
                T::Q8_0 => amax * 0.57 / 127.0 + 1e-7,
            }
        });
    }
}

#[test]
fn hf_directories_import_back_exactly_and_have_no_int8_form() {
    let cfg = WhisperConfig::tiny_test();
    let s = setup(&cfg, Kind::Lora);
    let merged = merged_of(&s);
    let dir = s.out.join("hf");
    let mut req = Request::new(&s.id, &dir, Format::Hf);
    req.precision = Precision::F32;
    let done = run_export(&s.ws, &req).unwrap();
    for f in [
        "model.safetensors",
        "config.json",
        "generation_config.json",
        "tokenizer.json",
    ] {
        assert!(done.files.contains(&dir.join(f)), "{f}");
    }
    let back = import_dir(&dir, "hf").unwrap();
    assert_close(&merged.tensors, &back.tensors, |_, _| 0.0);
    assert_eq!(back.tensors.len(), merged.tensors.len());
    assert_eq!(back.config.n_text_ctx, cfg.n_text_ctx);
    assert_eq!(back.config.suppress_at_begin, cfg.suppress_at_begin);

    req.precision = Precision::Int8;
    req.dest = s.out.join("hf-int8");
    let err = run_export(&s.ws, &req).unwrap_err().to_string();
    assert!(
        err.contains("no int8 form") && err.contains("f16 or f32"),
        "{err}"
    );
    assert!(!req.dest.exists(), "nothing written");
}

#[test]
fn residual_submodels_are_refused_for_merged_formats_with_the_way_out() {
    let cfg = WhisperConfig::tiny_test();
    let s = setup(&cfg, Kind::Residual);
    assert_eq!(Format::for_kind(Kind::Residual), vec![Format::File]);
    assert_eq!(Format::for_kind(Kind::Embedding), vec![Format::File]);
    assert_eq!(Format::for_kind(Kind::Lora).len(), 5);
    for f in [Format::Ct2, Format::Ggml, Format::Hf] {
        let dest = s.out.join(f.to_string());
        let err = run_export(&s.ws, &Request::new(&s.id, &dest, f))
            .unwrap_err()
            .to_string();
        assert!(err.contains(&s.id) && err.contains("residual"), "{err}");
        assert!(
            err.contains("attune train --speaker bob --kind lora"),
            "{err}"
        );
        assert!(!dest.exists(), "nothing written for {f}");
    }
    // Its own file format still works.
    std::fs::create_dir_all(&s.out).unwrap();
    let file = s.out.join("bob.safetensors");
    run_export(&s.ws, &Request::new(&s.id, &file, Format::File)).unwrap();
    assert!(file.is_file());
}
