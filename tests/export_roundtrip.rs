//! Round trip on the real shipped base and the real clips: a non-trivial LoRA submodel (built
//! deterministically) exported as a merged CTranslate2 directory and a Hugging Face directory,
//! re-imported with `base import` (f16 storage), transcribes every clip exactly as the shipped
//! base + submodel does — token for token (both in f32: int8 inference would quantize the merged
//! matrices, a different rounding than the base's, so it is not a test of the export).

mod base_common;
use base_common::shipped_base;

use std::path::{Path, PathBuf};

use attune::dataset::load_set;
use attune::eval::{Normalizer, corpus, score};
use attune::export::{Format, Precision};
use attune::library;
use attune::model::decode::{DecodeOptions, Transcript};
use attune::model::import::{import_dir, write_base_as};
use attune::model::int8::Compute;
use attune::recognizer::Recognizer;
use attune::serve::synthetic;
use attune::store::Home;
use attune::submodel::{Kind, Spec, Submodel};
use attune::workflow::Workspace;
use attune::workflow::export::{Request, export};
use candle_core::Device;

fn real_clips() -> (Vec<String>, Vec<Vec<f32>>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/real");
    let (utts, bad) = load_set(&dir).unwrap();
    assert!(bad.is_empty() && utts.len() >= 6, "real clips: {bad:?}");
    let audio = utts
        .iter()
        .map(|u| attune::audio::read_wav(&u.audio).unwrap())
        .collect();
    (utts.into_iter().map(|u| u.text).collect(), audio)
}

fn wer(refs: &[String], hyps: &[Transcript]) -> f64 {
    let scores: Vec<_> = refs
        .iter()
        .zip(hyps)
        .map(|(r, h)| score(r, &h.text, &Normalizer::english()))
        .collect();
    corpus(&scores).wer
}

/// Imports the export at `dir` as a base (f16 matrices) and transcribes `audio` with it alone.
fn transcribe_reimported(dir: &Path, out: PathBuf, audio: &[&[f32]]) -> Vec<Transcript> {
    let imported = import_dir(dir, "merged").unwrap();
    write_base_as(&imported, &out, Precision::F16).unwrap();
    let rec = Recognizer::load_with(&out, DecodeOptions::default(), Compute::F32).unwrap();
    rec.transcribe(audio, None, 4).unwrap()
}

#[test]
fn merged_exports_reimported_transcribe_like_base_plus_submodel() {
    let dir = tempfile::tempdir().unwrap();
    let rec =
        Recognizer::load_with(&shipped_base(), DecodeOptions::default(), Compute::F32).unwrap();
    let cfg = &rec.model.config;
    let spec = Spec {
        alpha: 16.0,
        ..Spec::new(Kind::Lora, 8)
    };
    let mut sub: Submodel = synthetic::submodel(
        &spec,
        (cfg, &rec.model.hash, &cfg.name),
        "reader",
        17,
        0.02,
        &Device::Cpu,
    )
    .unwrap();
    let home = Home {
        root: dir.path().join("home"),
    };
    library::add(&home, &mut sub).unwrap();
    let ws = Workspace::at(home, &shipped_base());

    let (refs, audio) = real_clips();
    let audio: Vec<&[f32]> = audio.iter().map(Vec::as_slice).collect();
    let base = rec.transcribe(&audio, None, 4).unwrap();
    let with_sub = rec.transcribe(&audio, Some(&sub), 4).unwrap();
    let (w_base, w_sub) = (wer(&refs, &base), wer(&refs, &with_sub));
    eprintln!("real clips: base WER {w_base:.4}, base + LoRA {w_sub:.4}");
    let differ = base
        .iter()
        .zip(&with_sub)
        .filter(|(a, b)| a.tokens != b.tokens)
        .count();
    eprintln!("LoRA changes {differ} of {} transcripts", base.len());
    assert!(
        differ >= 2,
        "the submodel must change transcripts for the test to mean anything"
    );

    for format in [Format::Ct2, Format::Hf] {
        let out = dir.path().join(format.to_string());
        let mut req = Request::new(&sub.meta.id, &out, format);
        req.precision = Precision::F16;
        export(&ws, &req).unwrap();
        let merged = transcribe_reimported(&out, dir.path().join(format!("{format}-base")), &audio);
        for ((m, s), r) in merged.iter().zip(&with_sub).zip(&refs) {
            assert_eq!(
                m.tokens, s.tokens,
                "{format}: {r}\n merged: {}\n  sub:  {}",
                m.text, s.text
            );
        }
        eprintln!("{format}: all {} transcripts token-identical", merged.len());
    }
}
