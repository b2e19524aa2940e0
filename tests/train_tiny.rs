//! Training numerics on a tiny random Whisper: the loss falls, the base never changes, a fused
//! 3-speaker job equals 3 separate jobs (utterances of unequal lengths, each at its own encoder
//! context), and an interrupted job resumes to the same weights (a checkpoint of other settings
//! is refused).

use std::sync::atomic::{AtomicBool, Ordering};

use attune::recognizer::Recognizer;
use attune::submodel::Kind;
use attune::train::{SpeakerData, SpecAugment, TrainConfig, TrainEvent, job};
use candle_core::Device;

mod train_common;
use train_common::*;

fn base_fingerprint(rec: &Recognizer) -> Vec<(String, Vec<f32>)> {
    let mut v: Vec<_> = rec
        .model
        .weights
        .tensors
        .iter()
        .map(|(k, t)| {
            (
                k.clone(),
                t.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn training_lowers_the_loss_and_leaves_the_base_bit_identical() {
    let rec = recognizer();
    let before = base_fingerprint(&rec);
    for kind in [Kind::Residual, Kind::Lora, Kind::Hybrid] {
        let mut cfg = config(kind, 60);
        cfg.lr = 3e-2;
        cfg.augment = SpecAugment::OFF;
        // Every utterance says the same thing: a task both kinds can learn.
        let mut sp = speaker("a", 4, 1);
        for e in &mut sp.train {
            e.tokens = [
                rec.model.config.prompt(),
                vec![5, 6, 7, rec.model.config.tokens.eot],
            ]
            .concat();
        }
        let (_, losses) = run(&rec, &[sp], &cfg);
        let first: f64 = losses[..3].iter().sum::<f64>() / 3.0;
        let last: f64 = losses[losses.len() - 3..].iter().sum::<f64>() / 3.0;
        eprintln!("{kind}: loss {first:.3} → {last:.3}");
        // Measured: residual 3.76 → 3.60 (it can only move the encoder output of a random
        // decoder), LoRA 3.71 → 2.08 and hybrid 3.67 → 1.91 (they also adapt the decoder).
        let bound = if kind == Kind::Residual { 0.97 } else { 0.7 };
        assert!(last < bound * first, "{kind}: loss {first:.3} → {last:.3}");
    }
    assert!(before == base_fingerprint(&rec), "base weights changed");
}

#[test]
fn a_fused_job_equals_separate_jobs() {
    let rec = recognizer();
    let speakers = [
        speaker("ana", 4, 1),
        speaker("ben", 6, 2),
        speaker("cy", 5, 3),
    ];
    for kind in [Kind::Residual, Kind::Lora, Kind::Hybrid] {
        let cfg = config(kind, 8);
        let (fused, _) = run(&rec, &speakers, &cfg);
        for (i, sp) in speakers.iter().enumerate() {
            let alone = SpeakerData {
                id: sp.id.clone(),
                train: sp.train.clone(),
                dev: vec![],
            };
            let (sep, _) = run(&rec, &[alone], &cfg);
            let d = max_diff(&fused.last.row(i).unwrap(), &sep.last);
            assert!(d < 1e-4, "{kind}: speaker {} differs by {d}", sp.id);
            let moved = max_diff(
                &sep.last,
                &attune::submodel::AdapterTable::init(
                    &cfg.spec,
                    &rec.model.config,
                    1,
                    0,
                    &Device::Cpu,
                )
                .unwrap(),
            );
            assert!(moved > 1e-3, "{kind}: nothing trained");
        }
    }
}

#[test]
fn an_interrupted_job_resumes_from_its_checkpoint() {
    let rec = recognizer();
    let speakers = [speaker("ana", 5, 1), speaker("ben", 4, 2)];
    let cfg = config(Kind::Residual, 9);
    let (whole, _) = run(&rec, &speakers, &cfg);

    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("job.ckpt");
    let cancel = AtomicBool::new(false);
    let first = job_with(&rec, &speakers, &cfg, Some(&ck), &cancel, |e| {
        if let TrainEvent::Step { step: 4, .. } = e {
            cancel.store(true, Ordering::Relaxed); // killed during step 5
        }
    });
    assert!(first.cancelled && first.steps == 4);
    assert!(ck.exists(), "no checkpoint written");

    // Under other settings (here another step budget, as after a recipe change) the checkpoint
    // is refused, not resumed into a job it was not made for, and it stays for a later resume.
    let other = TrainConfig {
        max_steps: 12,
        ..cfg.clone()
    };
    let refused = job::run(
        &rec,
        &speakers,
        &other,
        None,
        Some(&ck),
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .err()
    .expect("a checkpoint of other settings is refused");
    assert!(
        refused.to_string().contains("other speakers or settings"),
        "{refused}"
    );
    assert!(ck.exists());

    let mut resumed_at = None;
    let second = job_with(
        &rec,
        &speakers,
        &cfg,
        Some(&ck),
        &AtomicBool::new(false),
        |e| {
            if let TrainEvent::Resumed { step } = e {
                resumed_at = Some(step)
            }
        },
    );
    assert_eq!(
        resumed_at,
        Some(3),
        "resumes from the last checkpoint (step 3)"
    );
    assert_eq!(second.steps, 9);
    let d = max_diff(&second.last, &whole.last);
    assert!(d < 1e-5, "resumed weights differ by {d}");
}

/// A space over three speakers: their adapters train from one common start, the space is their
/// principal subspace (full rank here, so every speaker's embedding regenerates its adapter);
/// a newcomer's fit then changes only its embedding.
#[test]
fn a_space_spans_its_speakers_adapters_and_a_new_speaker_fits_only_its_embedding() {
    use attune::train::space_job::{fit_embeddings, train_space};
    let rec = recognizer();
    let mut cfg = config(Kind::Embedding, 6);
    cfg.spec = attune::submodel::Spec::new(Kind::Embedding, 4);
    let never = AtomicBool::new(false);
    let population = [
        speaker("ana", 4, 1),
        speaker("ben", 4, 2),
        speaker("cat", 4, 3),
    ];
    let space_of_dim = |dim| {
        train_space(
            &rec,
            &population,
            &cfg,
            "pop",
            dim,
            0,
            None,
            &mut |_| {},
            &never,
        )
    };
    assert!(
        space_of_dim(3).is_err(),
        "3 speakers span at most 2 dimensions"
    );
    let out = space_of_dim(2).unwrap();
    let space = out.space.as_ref().expect("space returned");
    assert_eq!(space.e.dims(), &[3, 2]);
    assert_eq!(space.meta.explained.len(), 2);
    for (i, r) in out.speakers.iter().enumerate() {
        let mut projected = r.adapter.clone();
        projected.tensors.remove(attune::submodel::space::EMBEDDING);
        let trained = out.last.row(i).unwrap();
        let moved = max_diff(
            &trained,
            &attune::submodel::AdapterTable::init(
                &trained.spec,
                &rec.model.config,
                1,
                cfg.seed,
                &Device::Cpu,
            )
            .unwrap(),
        );
        assert!(moved > 1e-4, "speaker {i}'s adapter did not train");
        let d = max_diff(&projected, &trained);
        assert!(d < 1e-4, "speaker {i}: the space misses its adapter by {d}");
    }
    let space = out.space.expect("space returned");

    let newcomer = [speaker("cy", 3, 9)];
    let fitted = fit_embeddings(&rec, &newcomer, &cfg, &space, &mut |_| {}, &never).unwrap();
    let after = fitted.space.expect("space returned");
    let identical = |a: &candle_core::Tensor, b: &candle_core::Tensor| {
        a.eq(b)
            .unwrap()
            .min_all()
            .unwrap()
            .to_scalar::<u8>()
            .unwrap()
            == 1
    };
    for (k, g) in &space.g {
        assert!(identical(&after.g[k], g), "G.{k} changed");
        assert!(identical(&after.b[k], &space.b[k]), "b.{k} changed");
    }
    let e = &after.e;
    let moved: f32 = e.abs().unwrap().sum_all().unwrap().to_scalar().unwrap();
    assert!(moved > 0.0, "the embedding did not train");
    // The adapter is exactly what the frozen generator makes of the fitted embedding.
    let shapes = space.shapes(&rec.model.config);
    let want = attune::submodel::space::generate(&space.meta.spec, &shapes, e, &space.g, &space.b)
        .unwrap();
    assert!(max_diff(&fitted.last, &want) < 1e-6);
}

/// Learning a space jointly: after the principal subspace of four speakers' adapters (m = 2, a
/// real constraint), generator, bias and embeddings train together through the base. The full-
/// batch loss falls, the space moves, it comes back in principal coordinates (zero-mean,
/// unit-variance embeddings) without moving any speaker's adapter from where the joint steps
/// left it.
#[test]
fn a_jointly_learned_space_lowers_the_population_loss_in_principal_coordinates() {
    use attune::submodel::space::EMBEDDING;
    use attune::train::space_job::train_space;
    let rec = recognizer();
    let mut cfg = config(Kind::Embedding, 4);
    cfg.batch = 3;
    cfg.eval_every = 0;
    cfg.augment = SpecAugment::OFF;
    let never = AtomicBool::new(false);
    let population: Vec<SpeakerData> = (0..4)
        .map(|i| speaker(&format!("s{i}"), 3, 11 + i as u64))
        .collect();
    let space_of = |joint: u64, losses: &mut Vec<f64>| {
        let mut on_event = |e| {
            if let TrainEvent::Step { loss, .. } = e {
                losses.push(loss)
            }
        };
        train_space(
            &rec,
            &population,
            &cfg,
            "pop",
            2,
            joint,
            None,
            &mut on_event,
            &never,
        )
        .unwrap()
    };
    let pca = space_of(0, &mut vec![]);
    let mut losses = vec![];
    let joint = space_of(6, &mut losses);
    assert_eq!((pca.steps, joint.steps), (4, 10));
    let joint_losses = &losses[4..];
    assert!(
        joint_losses[5] < joint_losses[0],
        "the joint phase did not lower the loss: {joint_losses:?}"
    );
    let (before, after) = (pca.space.unwrap(), joint.space.as_ref().unwrap());
    let moved = after
        .g
        .iter()
        .map(|(k, g)| {
            let d = (g - &before.g[k])
                .unwrap()
                .abs()
                .unwrap()
                .max_all()
                .unwrap();
            d.to_scalar::<f32>().unwrap()
        })
        .fold(0f32, f32::max);
    assert!(moved > 1e-4, "the generator did not train");
    let e = after.e.to_vec2::<f32>().unwrap();
    for k in 0..2 {
        let col: Vec<f32> = e.iter().map(|r| r[k]).collect();
        let mean = col.iter().sum::<f32>() / 4.0;
        let var = col.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / 4.0;
        assert!(
            mean.abs() < 1e-4 && (var - 1.0).abs() < 1e-3,
            "axis {k}: {mean}, {var}"
        );
    }
    for (i, r) in joint.speakers.iter().enumerate() {
        let mut trained = joint.last.row(i).unwrap();
        let mut kept = r.adapter.clone();
        trained.tensors.remove(EMBEDDING);
        kept.tensors.remove(EMBEDDING);
        let d = max_diff(&kept, &trained);
        assert!(d < 1e-5, "re-expressing moved speaker {i}'s adapter by {d}");
    }
}

#[test]
fn a_full_batch_job_that_caches_the_frozen_encoder_prefix_trains_the_same_adapters() {
    // Full batch without augmentation: the job assembles the batches once and runs the encoder's
    // stem and block 0 once (an embedding fit's path). Masks of width 0 change nothing but turn
    // the cache off, so the second job recomputes everything every step.
    let rec = recognizer();
    let speakers = [speaker("a", 3, 1), speaker("b", 2, 2)];
    let mut cached = config(Kind::Residual, 4);
    cached.batch = 3;
    cached.eval_every = 0;
    cached.augment = SpecAugment::OFF;
    let mut recomputed = cached.clone();
    recomputed.augment = SpecAugment {
        time_masks: 1,
        max_time: 0,
        freq_masks: 1,
        max_freq: 0,
    };
    let (a, la) = run(&rec, &speakers, &cached);
    let (b, lb) = run(&rec, &speakers, &recomputed);
    assert!(la[3] < la[0], "the loss falls: {la:?}");
    for (x, y) in la.iter().zip(&lb) {
        assert!((x - y).abs() < 1e-4 * x.abs().max(1.0), "{la:?} vs {lb:?}");
    }
    let d = max_diff(&a.last, &b.last);
    assert!(d < 1e-5, "adapters differ by {d}");
    assert!(
        max_diff(
            &a.last,
            &run(&rec, &speakers, &{
                let mut c = cached.clone();
                c.max_steps = 0;
                c
            })
            .0
            .last
        ) > 1e-3,
        "training moved the adapters"
    );
}
