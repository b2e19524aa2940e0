//! The tiny random Whisper and the job helpers the training test files share.
#![allow(dead_code)] // each test file uses a part

use std::sync::atomic::AtomicBool;

use attune::model::decode::DecodeOptions;
use attune::model::{Tokenizer, Whisper, WhisperConfig};
use attune::recognizer::Recognizer;
use attune::submodel::Kind;
use attune::train::data::Example;
use attune::train::{SpeakerData, SpecAugment, TrainConfig, TrainEvent, job};
use attune::util::rng::Rng;
use candle_core::Device;

pub fn recognizer() -> Recognizer {
    recognizer_with(WhisperConfig::tiny_test())
}

pub fn recognizer_with(cfg: WhisperConfig) -> Recognizer {
    let model = Whisper::random(&cfg, 5, &Device::Cpu).unwrap();
    let tok = Tokenizer::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets/base/tiny.en/tokenizer.json"),
    )
    .unwrap();
    Recognizer::new(model, tok, DecodeOptions::default())
}

/// `n` random examples for a speaker, of unequal lengths (20, 30 or 40 mel frames: each its own
/// encoder context, as in real jobs); tokens stay inside the tiny vocabulary.
pub fn speaker(id: &str, n: usize, seed: u64) -> SpeakerData {
    let cfg = WhisperConfig::tiny_test();
    let mut rng = Rng::new(seed);
    let train = (0..n)
        .map(|i| {
            let frames = 20 + 10 * ((i + seed as usize) % 3);
            let mel = (0..cfg.n_mels * frames).map(|_| rng.uniform()).collect();
            let mut tokens = cfg.prompt();
            tokens.extend((0..3 + i % 3).map(|k| ((seed as usize * 7 + i * 3 + k) % 29) as u32));
            tokens.push(cfg.tokens.eot);
            Example { mel, tokens }
        })
        .collect();
    SpeakerData {
        id: id.into(),
        train,
        dev: vec![],
    }
}

pub fn config(kind: Kind, steps: u64) -> TrainConfig {
    let mut c = TrainConfig::recipe(kind, 4);
    c.max_steps = steps;
    c.batch = 2;
    c.lr = 1e-2;
    c.warmup = 2;
    c.eval_every = 3;
    c.patience = 0;
    c.augment = SpecAugment {
        time_masks: 1,
        max_time: 3,
        freq_masks: 1,
        max_freq: 2,
    };
    c
}

/// One job with an optional checkpoint file and cancel flag, events to `on_event`.
pub fn job_with(
    rec: &Recognizer,
    speakers: &[SpeakerData],
    cfg: &TrainConfig,
    checkpoint: Option<&std::path::Path>,
    cancel: &AtomicBool,
    mut on_event: impl FnMut(TrainEvent),
) -> job::Outcome {
    job::run(rec, speakers, cfg, None, checkpoint, &mut on_event, cancel).unwrap()
}

pub fn run(
    rec: &Recognizer,
    speakers: &[SpeakerData],
    cfg: &TrainConfig,
) -> (job::Outcome, Vec<f64>) {
    let mut losses = vec![];
    let out = job_with(rec, speakers, cfg, None, &AtomicBool::new(false), |e| {
        if let TrainEvent::Step { loss, .. } = e {
            losses.push(loss)
        }
    });
    (out, losses)
}

pub fn max_diff(a: &attune::submodel::AdapterTable, b: &attune::submodel::AdapterTable) -> f32 {
    a.tensors
        .iter()
        .map(|(k, t)| {
            let d = (t - &b.tensors[k])
                .unwrap()
                .abs()
                .unwrap()
                .flatten_all()
                .unwrap();
            d.max(0).unwrap().to_scalar::<f32>().unwrap()
        })
        .fold(0.0, f32::max)
}

/// A tiny model that can score dev sets: dev evaluation transcribes, at least 4 s of encoder
/// context (200 positions).
pub fn evaluating_recognizer() -> Recognizer {
    recognizer_with(WhisperConfig {
        n_audio_ctx: 200,
        ..WhisperConfig::tiny_test()
    })
}

/// A quarter second of quiet noise, as dev audio.
pub fn dev_noise(rng: &mut Rng) -> Vec<f32> {
    (0..4000).map(|_| 0.1 * rng.uniform()).collect()
}
