//! A deterministic demo state (speakers, a job's progress, a comparison, a library with an
//! instant submodel, enrollment curves) built without a model or a home: the screens' snapshot
//! tests and the README's text captures draw it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::app::{App, Avail, Screen, TrainProgress};
use super::msg::{
    CompareData, CurvePoint, Msg, Snapshot, SpeakerRow, TakeInfo, TestSet, TrainSummary,
};
use crate::eval::{Normalizer, corpus, render_alignment, score, word_changes};
use crate::library::Entry;
use crate::model::decode::Stop;
use crate::submodel::file::{FORMAT_VERSION, Metrics};
use crate::submodel::{Kind, Spec, SubmodelMeta};
use crate::train::TrainEvent;
use crate::workflow::compare::{Report, Row};
use crate::workflow::personalize::Saved;
use crate::workflow::sufficiency::{INSTANT_AT, Origin};

/// 2026-09-21, a fixed "created" time.
const CREATED: u64 = 1_790_000_000;

fn entry(speaker: &str, version: u32, base_wer: f64, wer: f64) -> Entry {
    let id = format!("{speaker}-v{version}");
    Entry {
        path: PathBuf::from(format!("library/{id}.safetensors")),
        bytes: 415_744,
        meta: SubmodelMeta {
            format_version: FORMAT_VERSION,
            id: id.clone(),
            speaker: speaker.into(),
            spec: Spec::new(Kind::Residual, 32),
            targets: Spec::new(Kind::Residual, 32).targets(),
            base_hash: "8753def1a98d0c2b".into(),
            base_name: "tiny.en".into(),
            data_hash: "c95e535874a4e1f0".into(),
            hyper: BTreeMap::new(),
            metrics: Some(Metrics {
                base_wer,
                wer,
                test_utterances: 19,
                train_utterances: 20 * version as usize,
                protocol: crate::submodel::file::TEST_PROTOCOL.into(),
                dev_wer: Some(wer - 0.03),
                dev_utterances: 15,
                stock_wer: Some(base_wer + 0.04),
                ci95: Some([(base_wer - wer) * 0.4, (base_wer - wer) * 1.5]),
                verdict: Some("better".into()),
                generic: Some(crate::submodel::file::GenericWer {
                    base_wer: 0.061,
                    wer: 0.070,
                }),
            }),
            created: CREATED + u64::from(version) * 86_400,
            parent: (version > 1).then(|| format!("{speaker}-v{}", version - 1)),
            trained_on: Vec::new(),
            limit: None,
            space: None,
            digests: Default::default(),
            checksum: String::new(),
        },
        id,
    }
}

fn speaker(id: &str, train: usize, heldout: usize, subs: &[&Entry]) -> SpeakerRow {
    let (dev, test) = (heldout * 3 / 7, heldout - heldout * 3 / 7);
    SpeakerRow {
        id: id.into(),
        name: id.into(),
        notes: "Simulated sample speaker".into(),
        consent: (id == "accent-de")
            .then(|| "Verbal consent, recordings stay local (2026-09-20)".into()),
        train,
        dev,
        test,
        submodels: subs
            .iter()
            .map(|e| (e.id.clone(), e.meta.metrics.clone()))
            .collect(),
        pending: vec![
            "Good morning, how are you?".into(),
            "Please open the window.".into(),
            "I would like a cup of tea.".into(),
        ],
        script_len: 298,
        ..SpeakerRow::default()
    }
}

/// Makes `e` the instant submodel of the shipped space, fitted on `n` training utterances.
fn instant(mut e: Entry, n: usize) -> Entry {
    e.meta.spec = Spec::new(Kind::Embedding, 32);
    e.meta.space = Some(crate::workflow::spaces::SHIPPED_NAME.into());
    set_trained_on(&mut e, n);
    e
}

/// `e` learned from the first `n` training utterances.
fn set_trained_on(e: &mut Entry, n: usize) {
    e.meta.trained_on = (1..=n).map(|i| format!("{i:05}")).collect();
    if let Some(m) = e.meta.metrics.as_mut() {
        m.train_utterances = n;
    }
}

/// Three speakers and their library: accent-de has an instant submodel and one refined from it
/// on 40 utterances.
pub fn snapshot() -> Snapshot {
    let v1 = instant(entry("accent-de", 1, 0.712, 0.538), INSTANT_AT);
    let mut v2 = entry("accent-de", 2, 0.712, 0.423);
    set_trained_on(&mut v2, 40);
    let mut t1 = entry("tremor", 1, 0.391, 0.304);
    // A submodel that hurts ordinary speech, for the Library's warning.
    if let Some(m) = t1.meta.metrics.as_mut() {
        m.generic = Some(crate::submodel::file::GenericWer {
            base_wer: 0.061,
            wer: 0.142,
        });
    }
    Snapshot {
        speakers: vec![
            speaker("accent-de", 87, 13, &[&v1, &v2]),
            speaker("control", 81, 19, &[]),
            speaker("tremor", 83, 17, &[&t1]),
        ],
        library: vec![v1, v2, t1],
        problems: Vec::new(),
    }
}

/// The enrollment curves of the demo library, as the worker reads them.
pub fn curves() -> BTreeMap<String, Vec<CurvePoint>> {
    let library = snapshot().library;
    let point = |i: usize, origin: Origin| {
        CurvePoint::of(&library[i], origin).expect("the demo's submodels have figures")
    };
    BTreeMap::from([
        (
            "accent-de".to_string(),
            vec![point(0, Origin::Instant), point(1, Origin::Refined)],
        ),
        ("tremor".to_string(), vec![point(2, Origin::FromZero)]),
    ])
}

/// A comparison whose rows show a substitution fixed, a deletion and an insertion.
pub fn compare() -> CompareData {
    let norm = Normalizer::english();
    let items = [
        (
            "00006",
            "The doorbell is ringing.",
            "the door bell is ring",
            "the doorbell is ringing",
        ),
        (
            "00010",
            "Put the radio on.",
            "but the other one",
            "put the radio on",
        ),
        (
            "00019",
            "My chest feels tight.",
            "my chest feels tight",
            "my chest feel tight",
        ),
        ("00042", "Can I go home?", "can i go home", "can i go home"),
    ];
    let mut base_scores = Vec::new();
    let mut sub_scores = Vec::new();
    // The stock base (30 s window) drops one more word.
    let stock_scores: Vec<_> = items
        .iter()
        .enumerate()
        .map(|(i, (_, reference, base, _))| {
            let hyp = if i == 0 { "the door bell ring" } else { base };
            score(reference, hyp, &norm)
        })
        .collect();
    let mut rows = Vec::new();
    for (id, reference, base, sub) in items {
        let b = score(reference, base, &norm);
        let s = score(reference, sub, &norm);
        let changes = word_changes(&b, &s);
        let three = |a: (String, String, String)| [a.0, a.1, a.2];
        rows.push(Row {
            id: id.into(),
            reference: reference.into(),
            base: base.into(),
            submodel: Some(sub.into()),
            base_wer: b.wer(),
            submodel_wer: Some(s.wer()),
            base_alignment: three(render_alignment(&b.alignment)),
            submodel_alignment: Some(three(render_alignment(&s.alignment))),
            fixed: changes.fixed,
            broken: changes.broken,
            base_stops: vec![Stop::EndOfText],
            submodel_stops: Some(vec![Stop::EndOfText]),
        });
        base_scores.push(b);
        sub_scores.push(s);
    }
    CompareData {
        speaker: "accent-de".into(),
        set: TestSet::Test,
        submodel: Some("accent-de-v2".into()),
        report: Report {
            base: corpus(&base_scores),
            stock: Some(corpus(&stock_scores)),
            submodel: Some(corpus(&sub_scores)),
            ci95: Some([0.05, 0.41]),
            verdict: Some(crate::eval::bootstrap::Verdict::Better),
            utterances: rows,
            normalizer: "english",
            errors: Vec::new(),
        },
        paths: items
            .iter()
            .map(|i| PathBuf::from(format!("{}.wav", i.0)))
            .collect(),
    }
}

/// A job of 40 steps, 24 done.
pub fn training(app: &mut App) {
    let mut p = TrainProgress::default();
    p.reduce(&TrainEvent::Started {
        speakers: vec!["accent-de".into()],
        max_steps: 40,
        params_per_speaker: 99_072,
    });
    for step in 0..=24u64 {
        if step % 10 == 0 {
            let wer = 0.712 - step as f64 * 0.009;
            p.reduce(&TrainEvent::Eval {
                step,
                speaker: "accent-de".into(),
                wer,
                best_wer: wer,
            });
        }
        if step > 0 {
            p.reduce(&TrainEvent::Step {
                step,
                loss: 3.2 / (1.0 + step as f64 * 0.15),
                losses: vec![None],
                elapsed: step as f64 * 2.1,
                eta: (40 - step) as f64 * 2.1,
            });
        }
    }
    app.train.progress = Some(p);
    app.train.running = true;
    app.train.job = Some("accent-de: residual r32 from an instant fit, 40 steps".into());
}

/// An interrupted job, as the start-up offer and the resumed Train screen show it.
pub fn interrupted() -> crate::workflow::personalize::Request {
    let mut r = crate::workflow::personalize::Request::new(vec!["tremor".into()]);
    r.overrides.max_steps = Some(30);
    r
}

/// A job resumed from its checkpoint at step 10 of 30, now at step 17.
pub fn resumed(app: &mut App) {
    let mut p = TrainProgress::default();
    p.reduce(&TrainEvent::Resumed { step: 10 });
    p.reduce(&TrainEvent::Started {
        speakers: vec!["tremor".into()],
        max_steps: 30,
        params_per_speaker: 99_072,
    });
    for step in 11..=17u64 {
        p.reduce(&TrainEvent::Step {
            step,
            loss: 1.2 / (1.0 + step as f64 * 0.05),
            losses: vec![None],
            elapsed: (step - 10) as f64 * 1.5,
            eta: (30 - step) as f64 * 1.5,
        });
    }
    app.train.progress = Some(p);
    app.train.running = true;
    app.train.result = None;
    app.train.job = Some(interrupted().describe());
}

/// The demo app on `screen`; `empty` shows a first start instead.
pub fn app(screen: Screen, empty: bool) -> App {
    let mut app = App::new(true, 40);
    let snap = if empty {
        Snapshot::default()
    } else {
        snapshot()
    };
    app.update(super::app::Action::Msg(Box::new(Msg::Snapshot(snap))));
    if !empty {
        app.compare.curves = curves();
    }
    app.base = Avail::Ready("tiny.en".into());
    app.spaces = vec!["voices".into()];
    app.audio =
        Avail::Missing("no input device: the alsa audio host has no default input device".into());
    app.screen = screen;
    if empty {
        return app;
    }
    app.enroll.take = Some(TakeInfo {
        seconds: 1.8,
        peak_dbfs: -6.2,
        envelope: (0..240)
            .map(|i| {
                let x = i as f32 / 240.0;
                (x * std::f32::consts::PI).sin().powi(2) * (0.6 + 0.4 * (x * 40.0).sin().abs())
            })
            .collect(),
        too_quiet: false,
        clipped: false,
        no_speech: false,
    });
    app.enroll.level = Some((-14.5, -22.0, true));
    training(&mut app);
    app.compare.data = Some(compare());
    app.compare.row = 1;
    app.lineage = None;
    app.lib_sel = 1;
    app.info("ready  ? keys · 1-5 or Tab switch screens · q quits");
    app
}

/// The summary a finished demo job reports.
pub fn summary() -> TrainSummary {
    TrainSummary {
        saved: vec![Saved {
            speaker: "accent-de".into(),
            submodel: "accent-de-v3".into(),
            metrics: entry("accent-de", 3, 0.712, 0.404).meta.metrics,
            record_more: 0,
            steps: 40,
            best_step: 40,
        }],
        cancelled: false,
        seconds: 84.0,
    }
}
