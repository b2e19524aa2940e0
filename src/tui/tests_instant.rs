//! State-update tests of little-data enrollment: the Enroll screen's instant submodel, the Compare
//! screen's enrollment-sufficiency curve (its job, stages, cancel and text), and the Train
//! screen's spaces (the shipped one first, a new one's size bounded by its speakers).

use ratatui::crossterm::event::KeyCode;

use super::app::{Modal, Screen};
use super::demo;
use super::msg::{Command, CurvePoint, Msg, TrainSummary};
use super::screens::compare::curve_items;
use super::test_support::{draw, idle, key, msg};
use crate::train::{DEFAULT_RANK, TrainEvent};
use crate::workflow::personalize::{Overrides, Plan};
use crate::workflow::spaces::SHIPPED_NAME;
use crate::workflow::sufficiency::{INSTANT_AT, Origin};

fn point(utterances: usize, origin: Origin, submodel: &str, wer: f64) -> CurvePoint {
    CurvePoint {
        utterances,
        origin,
        submodel: submodel.into(),
        base_wer: 0.44,
        wer,
        test_utterances: 19,
        ci95: None,
    }
}

#[test]
fn enroll_offers_the_instant_submodel_from_ten_training_utterances() {
    let mut app = idle(Screen::Enroll);
    app.speakers[0].train = INSTANT_AT - 1;
    let screen = draw(&app);
    assert!(!screen.contains("f instant submodel"), "{screen}");
    assert!(screen.contains("(9 so far)"), "{screen}");
    assert_eq!(key(&mut app, KeyCode::Char('f')), None);
    assert!(
        app.status.error && app.status.text.contains("needs 10"),
        "{:?}",
        app.status
    );
    assert!(!app.train.running);

    app.speakers[0].train = INSTANT_AT;
    let screen = draw(&app);
    assert!(
        screen.contains("f instant submodel from the shipped space (seconds)"),
        "{screen}"
    );
    let Some(Command::Train { request, resume }) = key(&mut app, KeyCode::Char('f')) else {
        panic!("no train command")
    };
    assert!(!resume);
    assert_eq!(request.speakers, ["accent-de"]);
    assert_eq!(request.plan, Plan::FromSpace { name: None });
    assert_eq!(
        request.overrides.max_steps, None,
        "a fit keeps its own steps"
    );
    assert_eq!((request.limit, request.start), (None, None));
    assert!(app.train.running && app.train.curve.is_none());
    assert_eq!(key(&mut app, KeyCode::Char('f')), None, "one job at a time");
    assert!(app.status.error && app.status.text.contains("running"));

    // It finishes like any job: a notice with the new submodel and its test figures.
    msg(&mut app, Msg::TrainDone(Ok(demo::summary())));
    assert!(!app.train.running);
    let notice = app.notice.clone().unwrap();
    assert!(
        notice.starts_with("training finished: accent-de-v3 test WER"),
        "{notice}"
    );
}

#[test]
fn compare_u_trains_the_curve_with_the_step_budget_in_stages_and_c_cancels() {
    let mut app = idle(Screen::Compare);
    app.train.steps = 60;
    key(&mut app, KeyCode::Right); // control
    app.speakers[1].train = 3;
    assert_eq!(key(&mut app, KeyCode::Char('u')), None);
    assert!(app.status.error && app.status.text.contains("control has 3"));
    key(&mut app, KeyCode::Left);
    assert_eq!(key(&mut app, KeyCode::Char('c')), None, "nothing to cancel");

    assert_eq!(
        key(&mut app, KeyCode::Char('u')),
        Some(Command::Curve {
            speaker: "accent-de".into(),
            overrides: Overrides {
                max_steps: Some(60),
                ..Overrides::default()
            },
        })
    );
    assert!(app.train.running && app.busy());
    assert_eq!(app.train.curve.as_ref().unwrap().speaker, "accent-de");
    assert_eq!(key(&mut app, KeyCode::Char('u')), None, "one job at a time");
    assert!(app.status.error);

    // Each stage starts a fresh progress bar and says which it is.
    msg(
        &mut app,
        Msg::CurveStage {
            stage: 1,
            stages: 4,
            job: "accent-de: residual r32 refined from accent-de-v3, 60 steps".into(),
        },
    );
    assert!(
        app.status.text.starts_with("curve 2/4: accent-de"),
        "{:?}",
        app.status
    );
    msg(
        &mut app,
        Msg::Train(TrainEvent::Started {
            speakers: vec!["accent-de".into()],
            max_steps: 60,
            params_per_speaker: 10,
        }),
    );
    let screen = draw(&app);
    assert!(screen.contains("curve 2/4 training 0/60"), "{screen}");
    assert!(screen.contains("curve 2/4 running, c cancels"), "{screen}");
    key(&mut app, KeyCode::Char('3'));
    assert!(
        draw(&app).contains("job curve 2/4: accent-de"),
        "the Train screen shows the stage"
    );
    key(&mut app, KeyCode::Char('4'));

    assert_eq!(
        key(&mut app, KeyCode::Char('c')),
        Some(Command::CancelTrain)
    );
    // Cancelled after its first stage: what was saved stays and is said.
    let kept = TrainSummary {
        cancelled: true,
        ..demo::summary()
    };
    msg(&mut app, Msg::TrainDone(Ok(kept)));
    assert!(!app.train.running && app.train.curve.is_none());
    let notice = app.notice.clone().unwrap();
    assert!(
        notice.starts_with("the curve of accent-de cancelled; kept accent-de-v3"),
        "{notice}"
    );
}

#[test]
fn the_curve_reads_base_then_each_amount_with_its_origin() {
    let points = [
        point(10, Origin::Instant, "s-v1", 0.42),
        point(20, Origin::Refined, "s-v2", 0.31),
        point(40, Origin::Refined, "s-v3", 0.25),
        point(55, Origin::Refined, "s-v4", 0.22),
        point(55, Origin::FromZero, "s-v5", 0.30),
        point(55, Origin::FromZero, "s-v6", 0.24),
    ];
    let mut library = demo::snapshot().library;
    library.truncate(1);
    let template = library[0].clone();
    library = (1..=6)
        .map(|v| {
            let mut e = template.clone();
            e.id = format!("s-v{v}");
            e
        })
        .collect();
    // The newest of two from-zero submodels on 55 utterances is shown.
    assert_eq!(
        curve_items(&points, &library),
        [
            "base 0.44",
            "10 inst 0.42",
            "20 ref 0.31",
            "40 ref 0.25",
            "55 ref 0.22",
            "55 zero 0.24"
        ]
    );
    assert!(curve_items(&[], &library).is_empty());

    // On the Compare screen at 80×24, from the worker's curves.
    let mut app = idle(Screen::Compare);
    let screen = draw(&app);
    assert!(
        screen.contains(
            "test WER by training utterances (u): base 0.71 · 10 inst 0.54 · 40 ref 0.42"
        ),
        "{screen}"
    );
    let mut curves = demo::curves();
    curves.insert("accent-de".into(), points.to_vec());
    assert_eq!(msg(&mut app, Msg::Curves(curves)), None);
    let screen = draw(&app);
    assert!(screen.contains("55 ref 0.22"), "{screen}");
    key(&mut app, KeyCode::Right);
    assert!(
        draw(&app).contains("utterances (u): no submodel yet"),
        "control has none"
    );
}

#[test]
fn f_lists_the_shipped_space_first_and_fits_into_it_by_default() {
    let mut app = idle(Screen::Train);
    app.spaces.clear();
    assert!(draw(&app).contains(&format!("spaces {SHIPPED_NAME} (f fit · e new)")));
    assert_eq!(key(&mut app, KeyCode::Char('f')), None);
    let Some(Modal::Choose { options, .. }) = &app.modal else {
        panic!("no choice: {:?}", app.modal)
    };
    assert_eq!(options, &[SHIPPED_NAME]);
    let Some(Command::Train { request, .. }) = key(&mut app, KeyCode::Enter) else {
        panic!("no train command")
    };
    assert_eq!(request.plan, Plan::FromSpace { name: None });
    assert_eq!(request.overrides.max_steps, None);
}

#[test]
fn a_new_space_has_fewer_dimensions_than_its_speakers() {
    let mut app = idle(Screen::Train);
    for _ in 0..3 {
        key(&mut app, KeyCode::Char(' '));
        key(&mut app, KeyCode::Down);
    }
    key(&mut app, KeyCode::Char('e'));
    for c in "trio".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    let Some(Command::Train { request, .. }) = key(&mut app, KeyCode::Enter) else {
        panic!("no train command")
    };
    assert_eq!(request.speakers.len(), 3);
    assert_eq!(
        request.plan,
        Plan::Space {
            name: "trio".into(),
            dim: 2,
            rank: DEFAULT_RANK,
            joint_steps: 0
        }
    );
}
