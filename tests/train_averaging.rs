//! Weight averaging on a tiny random Whisper that can score dev sets: the kept adapter is the
//! mean of the rows from `average_from` on (also across a resume), the start where that did
//! better on dev, and the same whether or not the evaluations between decode dev.

use std::sync::atomic::{AtomicBool, Ordering};

use attune::submodel::Kind;
use attune::train::{SpeakerData, TrainEvent};
use attune::util::rng::Rng;

mod train_common;
use train_common::*;

/// Two speakers of unequal train sizes, each with one utterance of dev noise (`seed` draws it).
fn two_speakers_with_dev(seed: u64) -> [SpeakerData; 2] {
    let mut rng = Rng::new(seed);
    let mut speakers = [speaker("ana", 5, 1), speaker("ben", 4, 2)];
    for s in &mut speakers {
        s.dev = vec![(dev_noise(&mut rng), "a word".into())];
    }
    speakers
}

/// Weight averaging keeps the mean of the rows evaluated from `average_from` on (steps 3, 6 and
/// 9 here), also across an interruption; the rows are read off jobs cancelled right after those
/// steps (training is deterministic, and the schedule depends only on the step budget).
#[test]
fn weight_averaging_keeps_the_mean_of_the_evaluated_adapters_also_after_a_resume() {
    let rec = evaluating_recognizer();
    let speakers = two_speakers_with_dev(3);
    let mut cfg = config(Kind::Residual, 9);
    cfg.average_from = Some(3);
    let stop_after = |step: u64, ck: Option<&std::path::Path>| {
        let cancel = AtomicBool::new(false);
        job_with(&rec, &speakers, &cfg, ck, &cancel, |e| {
            if let TrainEvent::Step { step: s, .. } = e
                && s == step
            {
                cancel.store(true, Ordering::Relaxed);
            }
        })
    };
    let rows = [stop_after(3, None).last, stop_after(6, None).last];
    let mut averaged = vec![];
    let whole = job_with(&rec, &speakers, &cfg, None, &AtomicBool::new(false), |e| {
        if let TrainEvent::Averaged { speaker, evals, .. } = e {
            averaged.push((speaker, evals));
        }
    });
    assert_eq!(averaged, [("ana".into(), 3), ("ben".into(), 3)]);
    for (i, kept) in whole.speakers.iter().enumerate() {
        let mut mean = whole.last.row(i).unwrap();
        for (k, t) in mean.tensors.iter_mut() {
            let sum = rows.iter().fold(t.clone(), |acc, r| {
                (acc + &r.row(i).unwrap().tensors[k]).unwrap()
            });
            *t = (sum / 3.0).unwrap();
        }
        let d = max_diff(&kept.adapter, &mean);
        assert!(d < 1e-5, "{}: kept adapter is {d} from the mean", kept.id);
        assert!(max_diff(&kept.adapter, &whole.last.row(i).unwrap()) > 1e-4);
        assert_eq!(kept.best_step, 9);
    }

    // Interrupted after step 7 (its checkpoint holds the mean of steps 3 and 6), then resumed.
    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("job.ckpt");
    assert!(stop_after(7, Some(&ck)).cancelled);
    let resumed = job_with(
        &rec,
        &speakers,
        &cfg,
        Some(&ck),
        &AtomicBool::new(false),
        |_| {},
    );
    for (a, b) in resumed.speakers.iter().zip(&whole.speakers) {
        let d = max_diff(&a.adapter, &b.adapter);
        assert!(d < 1e-5, "{}: resumed mean differs by {d}", a.id);
    }
}

/// Averaging never ends worse on dev than where training began: when the start (here the
/// identity, i.e. the base, whose own transcript is the dev reference: WER 0) beats the mean,
/// the start is kept.
#[test]
fn weight_averaging_keeps_the_start_when_the_mean_does_worse_on_dev() {
    let rec = evaluating_recognizer();
    let mut s = speaker("ana", 5, 1);
    let audio = dev_noise(&mut Rng::new(4));
    let said = rec.transcribe(&[&audio], None, 1).unwrap()[0].text.clone();
    assert!(!said.trim().is_empty(), "the base says something");
    s.dev = vec![(audio, said)];
    let mut cfg = config(Kind::Residual, 9);
    cfg.lr = 0.5; // far enough from the start to change the transcript
    cfg.average_from = Some(3);
    let mut mean_wer = None;
    let out = job_with(&rec, &[s], &cfg, None, &AtomicBool::new(false), |e| {
        if let TrainEvent::Averaged { wer, .. } = e {
            mean_wer = Some(wer);
        }
    });
    assert!(mean_wer.unwrap() > 0.0, "the mean changed the transcript");
    let kept = &out.speakers[0];
    assert!(kept.adapter.is_identity().unwrap(), "the start is kept");
    assert_eq!((kept.best_wer, kept.best_step), (Some(0.0), 0));
}

/// The evaluations between the start and the averaged end take their row without decoding dev:
/// the job keeps exactly what it keeps when every evaluation decodes (forced here by an early
/// stopping patience the job never reaches), with the same dev figures; it reports dev WER at
/// step 0 and for the mean only.
#[test]
fn weight_averaging_keeps_the_same_adapters_without_decoding_dev_between() {
    let rec = evaluating_recognizer();
    let speakers = two_speakers_with_dev(5);
    let run = |patience: usize| {
        let mut cfg = config(Kind::Residual, 9);
        cfg.average_from = Some(3);
        cfg.patience = patience;
        let (mut evals, mut means) = (vec![], vec![]);
        let out = job_with(
            &rec,
            &speakers,
            &cfg,
            None,
            &AtomicBool::new(false),
            |e| match e {
                TrainEvent::Eval { step, speaker, .. } => evals.push((speaker, step)),
                TrainEvent::Averaged {
                    speaker,
                    evals,
                    wer,
                    ..
                } => means.push((speaker, evals, wer)),
                _ => {}
            },
        );
        (out, evals, means)
    };
    let (between, between_evals, between_means) = run(0);
    let (decoded, decoded_evals, decoded_means) = run(100);
    assert_eq!(between_evals, [("ana".into(), 0), ("ben".into(), 0)]);
    assert_eq!(
        decoded_evals.len(),
        8,
        "steps 0, 3, 6 and 9 for each speaker"
    );
    assert_eq!(between_means, decoded_means);
    assert_eq!(between_means.len(), 2);
    for (a, b) in between.speakers.iter().zip(&decoded.speakers) {
        assert_eq!(max_diff(&a.adapter, &b.adapter), 0.0, "{}", a.id);
        assert_eq!(
            (a.base_wer, a.best_wer, a.best_step, a.steps),
            (b.base_wer, b.best_wer, b.best_step, b.steps)
        );
    }
}
