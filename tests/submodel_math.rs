//! Submodel numerics on a tiny random Whisper: a fresh submodel is exactly the base, mixed-speaker
//! batches equal per-example forwards, and every adapter tensor receives gradient.

use attune::model::testing::max_abs_diff;
use attune::model::{NoHooks, Whisper, WhisperConfig};
use attune::submodel::{AdapterTable, Kind, Spec};
use attune::util::rng::Rng;
use candle_core::{Device, Tensor};

fn setup() -> (WhisperConfig, Whisper, Tensor, Tensor) {
    let cfg = WhisperConfig::tiny_test();
    let dev = Device::Cpu;
    let model = Whisper::random(&cfg, 7, &dev).unwrap();
    let mut rng = Rng::new(99);
    let b = 4;
    let frames = 2 * 12;
    let mel: Vec<f32> = (0..b * cfg.n_mels * frames)
        .map(|_| rng.uniform())
        .collect();
    let mel = Tensor::from_vec(mel, (b, cfg.n_mels, frames), &dev).unwrap();
    let tokens: Vec<u32> = (0..b * 5).map(|i| (i * 7 % 30) as u32).collect();
    let tokens = Tensor::from_vec(tokens, (b, 5), &dev).unwrap();
    (cfg, model, mel, tokens)
}

/// Decoder logits `[B, L, vocab]` of a teacher-forced pass.
fn logits(
    model: &Whisper,
    mel: &Tensor,
    tokens: &Tensor,
    hooks: &dyn attune::model::Hooks,
) -> Tensor {
    let audio = model.encode(mel, hooks, false).unwrap();
    let h = model.decoder.forward(tokens, &audio, hooks, false).unwrap();
    model.decoder.logits(&h).unwrap()
}

/// Gives every adapter tensor non-trivial values so that submodels really differ.
fn perturb(table: &mut AdapterTable, seed: u64) {
    let mut rng = Rng::new(seed);
    for t in table.tensors.values_mut() {
        let noise: Vec<f32> = (0..t.elem_count()).map(|_| 0.2 * rng.uniform()).collect();
        let noise = Tensor::from_vec(noise, t.dims(), t.device()).unwrap();
        *t = (&*t + noise).unwrap();
    }
}

#[test]
fn a_fresh_submodel_computes_exactly_the_base() {
    let (cfg, model, mel, tokens) = setup();
    let base = logits(&model, &mel, &tokens, &NoHooks);
    for kind in [Kind::Residual, Kind::Lora, Kind::Hybrid] {
        let table = AdapterTable::init(&Spec::new(kind, 4), &cfg, 2, 1, &Device::Cpu).unwrap();
        let hooks = table.gather(&[0, 1, 1, 0]).unwrap();
        let adapted = logits(&model, &mel, &tokens, &hooks);
        assert_eq!(
            max_abs_diff(&base, &adapted),
            0.0,
            "{kind} is not the identity"
        );
    }
}

#[test]
fn a_mixed_speaker_batch_equals_per_example_forwards() {
    let (cfg, model, mel, tokens) = setup();
    for kind in [Kind::Residual, Kind::Lora, Kind::Hybrid] {
        let mut table = AdapterTable::init(&Spec::new(kind, 4), &cfg, 3, 5, &Device::Cpu).unwrap();
        perturb(&mut table, 11);
        let ids = [2u32, 0, 1, 2];
        let batched = logits(&model, &mel, &tokens, &table.gather(&ids).unwrap());
        let base = logits(&model, &mel, &tokens, &NoHooks);
        assert!(
            max_abs_diff(&batched, &base) > 1e-3,
            "{kind}: perturbed adapters change nothing"
        );
        for (i, &id) in ids.iter().enumerate() {
            let one = logits(
                &model,
                &mel.narrow(0, i, 1).unwrap(),
                &tokens.narrow(0, i, 1).unwrap(),
                &table.gather(&[id]).unwrap(),
            );
            let row = batched.narrow(0, i, 1).unwrap();
            let diff = max_abs_diff(&row, &one);
            assert!(diff < 1e-4, "{kind}: example {i} differs by {diff}");
        }
    }
}

#[test]
fn the_encoder_from_its_frozen_prefix_equals_the_whole_encoder_for_residual_adapters() {
    let (cfg, model, mel, _) = setup();
    for kind in [Kind::Residual, Kind::Embedding] {
        let mut table = AdapterTable::init(&Spec::new(kind, 4), &cfg, 3, 5, &Device::Cpu).unwrap();
        perturb(&mut table, 12);
        let hooks = table.gather(&[2, 0, 1, 2]).unwrap();
        let prefix = model.encoder.frozen_prefix(&mel).unwrap();
        let whole = model.encoder.forward(&mel, &hooks, false).unwrap();
        let rest = model.encoder.forward_from_prefix(&prefix, &hooks, false);
        assert_eq!(max_abs_diff(&whole, &rest.unwrap()), 0.0, "{kind}");
        // Training's layer norms (the fused kernel with a backward) round differently.
        let whole = model.encoder.forward(&mel, &hooks, true).unwrap();
        let rest = model.encoder.forward_from_prefix(&prefix, &hooks, true);
        assert!(max_abs_diff(&whole, &rest.unwrap()) < 1e-5, "{kind}");
        let base = model.encoder.forward(&mel, &NoHooks, false).unwrap();
        assert!(
            max_abs_diff(&whole, &base) > 1e-3,
            "{kind}: adapters change nothing"
        );
    }
}

#[test]
fn incremental_decoding_matches_the_teacher_forced_pass() {
    let (_, model, mel, tokens) = setup();
    let full = logits(&model, &mel, &tokens, &NoHooks); // [B, 5, V]
    let audio = model.encode(&mel, &NoHooks, false).unwrap();
    let mut cache = model.decoder.start(&audio, &NoHooks).unwrap();
    let first = model
        .decoder
        .step(&tokens.narrow(1, 0, 2).unwrap(), &mut cache, &NoHooks)
        .unwrap();
    assert!(max_abs_diff(&first, &full.narrow(1, 1, 1).unwrap().squeeze(1).unwrap()) < 1e-4);
    for l in 2..5 {
        let step = model
            .decoder
            .step(&tokens.narrow(1, l, 1).unwrap(), &mut cache, &NoHooks)
            .unwrap();
        let want = full.narrow(1, l, 1).unwrap().squeeze(1).unwrap();
        assert!(max_abs_diff(&step, &want) < 1e-4, "position {l}");
    }
}

#[test]
fn every_adapter_tensor_receives_gradient() {
    let (cfg, model, mel, tokens) = setup();
    for kind in [Kind::Residual, Kind::Lora, Kind::Hybrid] {
        let mut table = AdapterTable::init(&Spec::new(kind, 4), &cfg, 2, 3, &Device::Cpu).unwrap();
        perturb(&mut table, 4);
        let vars = table.to_vars().unwrap();
        let hooks = table.gather(&[0, 1, 0, 1]).unwrap();
        let audio = model.encode(&mel, &hooks, true).unwrap();
        let h = model
            .decoder
            .forward(&tokens, &audio, &hooks, true)
            .unwrap();
        let loss = model
            .decoder
            .logits(&h)
            .unwrap()
            .sqr()
            .unwrap()
            .mean_all()
            .unwrap();
        let grads = loss.backward().unwrap();
        for (name, var) in &vars {
            let g = grads
                .get(var.as_tensor())
                .unwrap_or_else(|| panic!("{kind}: no gradient for {name}"));
            let norm: f32 = g.sqr().unwrap().sum_all().unwrap().to_scalar().unwrap();
            assert!(norm > 0.0, "{kind}: zero gradient for {name}");
        }
    }
}
