//! Fuzzing's regression suite: every input a fuzz target (`fuzz/`) crashed on, kept as
//! `tests/fuzz_regressions/<target>/<name>`, must now be refused with an error and no panic; the
//! seed corpus `fuzz/seeds/<target>/` must still be accepted. `cargo test --test fuzz_regressions
//! -- --ignored regenerate_fuzz_seeds` rewrites the seeds from attune's own writers. The heap is
//! capped, so an input that makes a parser allocate gigabytes aborts the run (`memory allocation
//! of N bytes failed`) instead of passing on a machine that overcommits memory.

mod ct2_common;
#[path = "enroll_common/mod.rs"]
mod enroll_common;

use std::alloc::System;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use attune::fuzzing::{TARGETS, run};
use attune::model::WhisperConfig;
use attune::model::config::SpecialTokens;
use attune::model::testing::random_raw;
use attune::model::weights::encode_base;
use attune::serve::synthetic;
use attune::submodel::{Kind, Spec};
use candle_core::Device;

/// Far above what any input of at most 64 KiB needs (the fuzzers' `-malloc_limit_mb` is 512).
#[global_allocator]
static HEAP: cap::Cap<System> = cap::Cap::new(System, 1 << 30);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The files of `dir`, sorted (none when it does not exist).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|es| es.filter_map(|e| Some(e.ok()?.path())).collect())
        .unwrap_or_default();
    out.retain(|p| p.is_file());
    out.sort();
    out
}

/// Runs `target` on `file`'s bytes: its result, or the panic message.
fn outcome(target: &str, file: &Path) -> Result<Result<(), String>, String> {
    let bytes = std::fs::read(file).unwrap();
    catch_unwind(AssertUnwindSafe(|| run(target, &bytes))).map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

#[test]
fn every_crash_input_is_refused_with_an_error() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for target in TARGETS {
        for file in files(&root().join("tests/fuzz_regressions").join(target)) {
            checked += 1;
            match outcome(target, &file) {
                Ok(Err(_)) => {}
                Ok(Ok(())) => failures.push(format!("{}: accepted", file.display())),
                Err(panic) => failures.push(format!("{}: panicked: {panic}", file.display())),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 0, "no crash inputs found");
}

#[test]
fn every_seed_is_accepted() {
    let mut failures = Vec::new();
    for target in TARGETS {
        let seeds = files(&root().join("fuzz/seeds").join(target));
        assert!(!seeds.is_empty(), "no seeds for {target}");
        for file in seeds {
            match outcome(target, &file) {
                Ok(Ok(())) => {}
                other => failures.push(format!("{}: {other:?}", file.display())),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A Whisper shape far smaller than tiny.en, so that model seeds stay a few KiB.
fn seed_config() -> WhisperConfig {
    WhisperConfig {
        name: "seed".into(),
        n_mels: 4,
        n_audio_ctx: 6,
        n_audio_state: 8,
        n_audio_head: 2,
        n_audio_layer: 1,
        n_vocab: 12,
        n_text_ctx: 6,
        n_text_state: 8,
        n_text_head: 2,
        n_text_layer: 1,
        tokens: SpecialTokens {
            eot: 8,
            sot: 9,
            no_timestamps: 10,
            english: None,
            transcribe: None,
            timestamp_begin: 11,
            no_speech: None,
        },
        suppress: vec![],
        suppress_at_begin: vec![8],
    }
}

/// A short sine tone in the given WAV encoding (channels duplicated).
fn wav(rate: u32, channels: u16, bits: u16, float: bool, frames: usize) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.wav");
    let tone: Vec<f32> = (0..frames).map(|i| 0.5 * (i as f32 * 0.07).sin()).collect();
    enroll_common::write_wav(&path, &tone, rate, channels, bits, float);
    std::fs::read(&path).unwrap()
}

#[test]
#[ignore = "rewrites fuzz/seeds; run by hand when a format changes"]
fn regenerate_fuzz_seeds() {
    let dev = Device::Cpu;
    let cfg = seed_config();
    let raw = random_raw(&cfg, 7);
    let residual = Spec::new(Kind::Residual, 2);
    let lora = Spec::new(Kind::Lora, 1);
    let sub = |spec: &Spec| {
        let mut s =
            synthetic::submodel(spec, (&cfg, "base-hash", "seed"), "seed", 1, 0.1, &dev).unwrap();
        s.meta.id = "seed-v1".into();
        s.meta.created = 0;
        s.to_bytes().unwrap()
    };
    let seeds: BTreeMap<(&str, &str), Vec<u8>> = BTreeMap::from([
        (("wav", "16k-mono-16bit.wav"), wav(16_000, 1, 16, false, 400)),
        (("wav", "8k-mono-8bit.wav"), wav(8_000, 1, 8, false, 300)),
        (("wav", "44k1-stereo-16bit.wav"), wav(44_100, 2, 16, false, 300)),
        (("wav", "48k-3ch-24bit.wav"), wav(48_000, 3, 24, false, 200)),
        (("wav", "22k05-mono-float.wav"), wav(22_050, 1, 32, true, 300)),
        (
            ("manifest", "set.jsonl"),
            b"{\"audio_filepath\": \"a.wav\", \"text\": \"The Navy attacked.\", \"duration\": 3.0}\n\
              {\"audio_filepath\": \"b/c.wav\", \"text\": \"ask not\", \"speaker\": \"jfk\"}\n"
                .to_vec(),
        ),
        (
            ("stored_manifest", "manifest.jsonl"),
            b"{\"audio_filepath\":\"recordings/00001.wav\",\"text\":\"hello there\",\"duration\":1.25,\"speaker\":\"ana\",\"prompt\":\"Hello there.\",\"split\":\"train\"}\n\
              {\"audio_filepath\":\"recordings/00002.wav\",\"text\":\"b\",\"split\":\"heldout\"}\n"
                .to_vec(),
        ),
        (
            ("kaldi", "wav.scp"),
            b"utt1 /data/a.wav\nutt2 b.wav\nutt3 sox c.flac -t wav - |\n".to_vec(),
        ),
        (
            ("kaldi", "text"),
            b"utt1 THE NAVY ATTACKED\nutt2 ask not\n".to_vec(),
        ),
        (("kaldi", "utt2spk"), b"utt1 spk1\nutt2 spk1\n".to_vec()),
        (("submodel", "residual.safetensors"), sub(&residual)),
        (("submodel", "lora.safetensors"), sub(&lora)),
        (
            ("base", "model.safetensors"),
            encode_base(&cfg, &raw).unwrap(),
        ),
        (("ct2", "model.bin"), ct2_common::ct2_bytes(&cfg, &raw)),
    ]);
    for ((target, name), bytes) in seeds {
        let dir = root().join("fuzz/seeds").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
