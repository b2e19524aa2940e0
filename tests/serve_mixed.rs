//! Mixed-speaker batched transcription on the real shipped base and real clips: every utterance
//! gets the same tokens as when transcribed alone with its own submodel (or the base), and the
//! perturbed submodels really change some outputs.

mod base_common;
use base_common::shipped_base;

use std::path::{Path, PathBuf};

use attune::library;
use attune::model::decode::DecodeOptions;
use attune::recognizer::Recognizer;
use attune::serve::{SubmodelCache, synthetic, transcribe_mixed};
use attune::store::Home;
use attune::submodel::{Kind, Spec};
use candle_core::Device;

/// Real clips of 2.8–3.0 s: one encoder context, so they can share batches.
const CLIPS: [&str; 4] = [
    "codec2_hts1a",
    "librivox_sense_0880",
    "sphinx_goforward",
    "sphinx_something",
];

fn clip(name: &str) -> Vec<f32> {
    let p: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample_data/real")
        .join(format!("{name}.wav"));
    attune::audio::read_wav(&p).unwrap()
}

#[test]
fn mixed_speaker_batches_equal_one_by_one() {
    let rec = Recognizer::load(&shipped_base(), DecodeOptions::default()).unwrap();
    let cfg = &rec.model.config;
    let dir = tempfile::tempdir().unwrap();
    let home = Home {
        root: dir.path().to_path_buf(),
    };
    // Perturbations that change some words without destroying the transcript.
    let specs = [
        ("res-a", Spec::new(Kind::Residual, 32), 0.1),
        ("res-b", Spec::new(Kind::Residual, 32), 0.1),
        ("lora-c", Spec::new(Kind::Lora, 8), 0.04),
        ("hyb-d", Spec::new(Kind::Hybrid, 16), 0.04),
    ];
    let mut ids = vec![None];
    for (seed, (speaker, spec, scale)) in specs.iter().enumerate() {
        let base = (cfg, rec.model.hash.as_str(), cfg.name.as_str());
        let mut sub =
            synthetic::submodel(spec, base, speaker, seed as u64 + 1, *scale, &Device::Cpu)
                .unwrap();
        library::add(&home, &mut sub).unwrap();
        ids.push(Some(sub.meta.id));
    }
    let audio: Vec<Vec<f32>> = CLIPS.iter().map(|c| clip(c)).collect();
    // Every clip with every speaker, interleaved so that batches mix speakers.
    let (mut audios, mut row_ids) = (Vec::new(), Vec::new());
    for a in &audio {
        for id in &ids {
            audios.push(a.as_slice());
            row_ids.push(id.clone());
        }
    }
    let cache = SubmodelCache::new(home.clone(), &rec.model.hash, Device::Cpu, 8);
    let batched = transcribe_mixed(&rec, &cache, &audios, &row_ids, 6).unwrap();
    let base: Vec<_> = audio
        .iter()
        .map(|a| rec.transcribe(&[a], None, 1).unwrap().remove(0))
        .collect();
    let mut changed = std::collections::BTreeSet::new();
    for (i, (a, id)) in audios.iter().zip(&row_ids).enumerate() {
        let sub = id.as_ref().map(|id| cache.get(id).unwrap());
        let alone = rec.transcribe(&[a], sub.as_deref(), 1).unwrap().remove(0);
        let base = &base[i / ids.len()];
        eprintln!(
            "{:<10} {:<40} | base: {}",
            id.as_deref().unwrap_or("base"),
            batched[i].text,
            base.text
        );
        assert_eq!(
            batched[i].tokens, alone.tokens,
            "utterance {i} ({id:?}): batched {:?} vs alone {:?}",
            batched[i].text, alone.text
        );
        if alone.tokens != base.tokens {
            changed.insert(id.clone());
        }
    }
    // Otherwise the comparison would be vacuous.
    assert_eq!(
        changed.len(),
        4,
        "only these submodels changed any output: {changed:?}"
    );
    assert_eq!(cache.stats().misses, 4, "each submodel hot-loaded once");
}

/// An `embedding`-kind submodel (generated from a speaker-embedding space, carrying its
/// embedding) shares a batch with base-only utterances: no panic, and every row equals its
/// one-by-one transcript.
#[test]
fn an_embedding_submodel_and_base_rows_share_a_batch() {
    use attune::submodel::file::FORMAT_VERSION;
    use attune::submodel::space::generate;
    use attune::submodel::{Submodel, SubmodelMeta};
    let rec = Recognizer::load(&shipped_base(), DecodeOptions::default()).unwrap();
    let cfg = &rec.model.config;
    let dir = tempfile::tempdir().unwrap();
    let home = Home {
        root: dir.path().to_path_buf(),
    };
    let space = attune::serve::synthetic::space(
        "pop",
        8,
        (cfg, &rec.model.hash),
        &["a".into(), "b".into()],
        3,
        &Device::Cpu,
    )
    .unwrap();
    let e = space.e.narrow(0, 0, 1).unwrap();
    let table = generate(&space.meta.spec, &space.shapes(cfg), &e, &space.g, &space.b).unwrap();
    let mut sub = Submodel {
        meta: SubmodelMeta {
            format_version: FORMAT_VERSION,
            id: String::new(),
            speaker: "a".into(),
            spec: space.meta.spec.clone(),
            targets: space.meta.spec.targets(),
            base_hash: rec.model.hash.clone(),
            base_name: cfg.name.clone(),
            data_hash: String::new(),
            hyper: Default::default(),
            metrics: None,
            created: 0,
            parent: None,
            trained_on: Vec::new(),
            limit: None,
            space: Some("pop".into()),
            digests: Default::default(),
            checksum: String::new(),
        },
        table,
    };
    library::add(&home, &mut sub).unwrap();
    let audio: Vec<Vec<f32>> = CLIPS[..2].iter().map(|c| clip(c)).collect();
    let audios: Vec<&[f32]> = vec![&audio[0], &audio[1], &audio[0], &audio[1]];
    let ids = vec![
        Some("a-v1".to_string()),
        None,
        None,
        Some("a-v1".to_string()),
    ];
    let cache = SubmodelCache::new(home.clone(), &rec.model.hash, Device::Cpu, 4);
    let batched = transcribe_mixed(&rec, &cache, &audios, &ids, 4).unwrap();
    for (i, (a, id)) in audios.iter().zip(&ids).enumerate() {
        let sub = id.as_ref().map(|id| cache.get(id).unwrap());
        let alone = rec.transcribe(&[a], sub.as_deref(), 1).unwrap().remove(0);
        assert_eq!(batched[i].tokens, alone.tokens, "row {i}");
    }
}
