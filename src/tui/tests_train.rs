//! State-update tests of the CLI-parity features: resuming an interrupted job, embedding-space
//! and from-space jobs on the Train screen, and scoring on any folder on the Compare screen.

use ratatui::crossterm::event::KeyCode;

use super::app::{App, ChooseFor, InputFor, Modal, Screen};
use super::demo;
use super::msg::{Command, Msg, TestSet};
use super::test_support::{draw, idle, key, msg};
use crate::train::{DEFAULT_RANK, TrainEvent};
use crate::workflow::personalize::{Plan, Request};
use crate::workflow::spaces::SHIPPED_NAME;

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        assert_eq!(key(app, KeyCode::Char(c)), None);
    }
}

fn train_request(cmd: Option<Command>) -> (Request, bool) {
    match cmd {
        Some(Command::Train { request, resume }) => (request, resume),
        other => panic!("expected a train command, got {other:?}"),
    }
}

#[test]
fn an_interrupted_job_is_offered_at_start_and_resumes_where_it_stopped() {
    let mut app = idle(Screen::Speakers);
    let first = demo::interrupted();
    let mut second = demo::interrupted();
    second.speakers = vec!["control".into()];
    assert_eq!(
        msg(
            &mut app,
            Msg::Unfinished(vec![first.clone(), second.clone()])
        ),
        None
    );
    let Some(Modal::Choose { title, purpose, .. }) = &app.modal else {
        panic!("no offer: {:?}", app.modal)
    };
    assert!(title.contains(&first.describe()), "{title}");
    assert!(matches!(purpose, ChooseFor::Unfinished { .. }));

    // Enter picks the first option: resume, on the Train screen.
    let (request, resume) = train_request(key(&mut app, KeyCode::Enter));
    assert_eq!((request, resume), (first.clone(), true));
    assert_eq!(app.screen, Screen::Train);
    assert!(
        app.train.running && app.modal.is_none(),
        "no offer while a job runs"
    );
    assert_eq!(app.train.job.as_deref(), Some(first.describe().as_str()));

    // The bar starts at the checkpoint's step; the ETA is the engine's (this process's steps).
    msg(&mut app, Msg::Train(TrainEvent::Resumed { step: 10 }));
    assert_eq!(app.train.progress.as_ref().unwrap().step, 10);
    msg(
        &mut app,
        Msg::Train(TrainEvent::Started {
            speakers: vec!["tremor".into()],
            max_steps: 30,
            params_per_speaker: 1,
        }),
    );
    let p = app.train.progress.as_ref().unwrap();
    assert_eq!((p.step, p.max_steps, p.resumed), (10, 30, Some(10)));
    msg(
        &mut app,
        Msg::Train(TrainEvent::Step {
            step: 11,
            loss: 0.5,
            losses: vec![Some(0.5)],
            elapsed: 2.0,
            eta: 38.0,
        }),
    );
    let p = app.train.progress.as_ref().unwrap();
    assert_eq!((p.step, p.eta), (11, Some(38.0)));

    // When it finishes, the next interrupted job is offered; Down Enter discards it.
    msg(&mut app, Msg::TrainDone(Ok(demo::summary())));
    assert!(matches!(app.modal, Some(Modal::Choose { .. })));
    key(&mut app, KeyCode::Down);
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        Some(Command::DiscardJob { request: second })
    );
    assert!(app.modal.is_none() && app.unfinished.is_empty());
}

#[test]
fn esc_leaves_an_interrupted_job_for_the_next_start() {
    let mut app = idle(Screen::Speakers);
    msg(&mut app, Msg::Unfinished(vec![demo::interrupted()]));
    assert_eq!(key(&mut app, KeyCode::Esc), None);
    assert!(app.modal.is_none() && !app.train.running);
    assert!(
        app.status.text.contains("next start"),
        "{}",
        app.status.text
    );
    // Nothing interrupted: nothing offered.
    msg(&mut app, Msg::Unfinished(Vec::new()));
    assert!(app.modal.is_none());
}

#[test]
fn quitting_during_training_says_the_job_can_resume() {
    let mut app = demo::app(Screen::Train, false);
    key(&mut app, KeyCode::Char('q'));
    let Some(Modal::Confirm { question, .. }) = &app.modal else {
        panic!("no question")
    };
    assert!(question.contains("resume"), "{question}");
}

#[test]
fn e_learns_an_embedding_space_over_two_or_more_marked_speakers() {
    let mut app = idle(Screen::Train);
    assert_eq!(key(&mut app, KeyCode::Char('e')), None);
    assert!(app.status.error && app.status.text.contains("two or more"));
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Char('e'));
    assert!(matches!(
        &app.modal,
        Some(Modal::Input { purpose: InputFor::SpaceName { speakers }, .. })
            if speakers == &["accent-de", "control"]
    ));
    // A taken name is refused (the demo home has space `voices`), so is an invalid one.
    typed(&mut app, "voices");
    assert_eq!(key(&mut app, KeyCode::Enter), None);
    assert!(app.status.error && app.status.text.contains("exists"));
    key(&mut app, KeyCode::Char('e'));
    typed(&mut app, "../x");
    assert_eq!(key(&mut app, KeyCode::Enter), None);
    assert!(app.status.error && app.status.text.contains("not a valid"));
    key(&mut app, KeyCode::Char('e'));
    typed(&mut app, "pair");
    let (request, resume) = train_request(key(&mut app, KeyCode::Enter));
    assert!(!resume);
    assert_eq!(request.speakers, ["accent-de", "control"]);
    assert_eq!(
        request.plan,
        Plan::Space {
            name: "pair".into(),
            dim: 1,
            rank: DEFAULT_RANK,
            joint_steps: 0
        }
    );
    assert_eq!(request.overrides.max_steps, Some(app.train.steps));
    assert!(app.train.running);
    assert_eq!(key(&mut app, KeyCode::Char('e')), None, "one job at a time");
}

#[test]
fn f_fits_a_speaker_into_a_chosen_space() {
    let mut app = idle(Screen::Train);
    assert_eq!(
        msg(&mut app, Msg::Spaces(vec!["pair".into(), "voices".into()])),
        None
    );
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Char('f'));
    let Some(Modal::Choose { options, .. }) = &app.modal else {
        panic!("no choice: {:?}", app.modal)
    };
    assert_eq!(options, &[SHIPPED_NAME, "pair", "voices"]);
    // Esc cancels; j / ↓ move.
    key(&mut app, KeyCode::Esc);
    assert!(app.modal.is_none() && !app.train.running);
    key(&mut app, KeyCode::Char('f'));
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Down);
    let (request, _) = train_request(key(&mut app, KeyCode::Enter));
    assert_eq!(request.speakers, ["tremor"]);
    assert_eq!(
        request.plan,
        Plan::FromSpace {
            name: Some("voices".into())
        }
    );
}

#[test]
fn compare_scores_any_folder_or_manifest() {
    let mut app = idle(Screen::Compare);
    app.compare.data = None;
    key(&mut app, KeyCode::Right);
    key(&mut app, KeyCode::Char('f'));
    assert!(matches!(
        &app.modal,
        Some(Modal::Input { purpose: InputFor::ComparePath { speaker }, .. }) if speaker == "control"
    ));
    typed(&mut app, "/data/calls/manifest.jsonl");
    let path = std::path::PathBuf::from("/data/calls/manifest.jsonl");
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        Some(Command::Compare {
            speaker: "control".into(),
            set: TestSet::Path(path.clone())
        })
    );
    assert!(app.compare.running);
    assert_eq!(app.test_set(), TestSet::Path(path.clone()));
    let mut data = demo::compare();
    data.speaker = "control".into();
    data.set = TestSet::Path(path.clone());
    data.report.errors = vec!["x.wav: unreadable".into()];
    msg(&mut app, Msg::Compare(Ok(Box::new(data))));
    assert!(
        app.status.text.contains("manifest.jsonl") && app.status.text.contains("1 unreadable"),
        "{}",
        app.status.text
    );
    // s goes back to the speaker's own test part; f offers the last path again.
    key(&mut app, KeyCode::Char('s'));
    assert_eq!(app.test_set(), TestSet::Test);
    key(&mut app, KeyCode::Char('f'));
    assert!(matches!(
        &app.modal,
        Some(Modal::Input { value, .. }) if value == "/data/calls/manifest.jsonl"
    ));
}

#[test]
fn a_long_path_is_shown_by_its_end() {
    let long =
        TestSet::Path("/media/usb/recordings/accent-de/session-2026-09-20/manifest.jsonl".into());
    let label = long.label();
    assert!(label.starts_with('…') && label.ends_with("session-2026-09-20/manifest.jsonl"));
    assert!(label.chars().count() <= 40, "{label}");
}

/// The default job first fits its speakers in the shipped space: the Train screen says so until
/// the job's first step is announced, then shows the bar as usual.
#[test]
fn the_train_screen_shows_the_instant_start_until_the_job_starts() {
    let mut app = idle(Screen::Train);
    let request = Request::new(vec!["tremor".into()]);
    assert!(request.describe().contains("from an instant fit"));
    train_request(super::reduce::train::start(&mut app, request));
    msg(
        &mut app,
        Msg::Train(TrainEvent::InstantStart {
            space: SHIPPED_NAME.into(),
            speakers: 1,
            utterances: 10,
        }),
    );
    assert!(app.train.progress.as_ref().unwrap().instant_start);
    let fitting = draw(&app);
    assert!(fitting.contains("fitting instant start"), "{fitting}");
    assert!(fitting.contains("from an instant fit"), "{fitting}");
    assert!(
        fitting.contains("training: fitting start"),
        "the header: {fitting}"
    );
    assert!(!fitting.contains("0/0"), "{fitting}");
    msg(
        &mut app,
        Msg::Train(TrainEvent::Started {
            speakers: vec!["tremor".into()],
            max_steps: 120,
            params_per_speaker: 1,
        }),
    );
    let training = draw(&app);
    assert!(!training.contains("fitting instant start"), "{training}");
    assert!(
        training.contains("training 0/120"),
        "the header: {training}"
    );
}

/// `a` cycles the kind; a budget left at one kind's recipe follows the next kind's (the residual
/// recipe runs 240 steps, hybrid 180, LoRA 120) and is no override, and a budget the operator chose
/// stays and is one.
#[test]
fn cycling_the_kind_moves_a_recipe_budget_but_keeps_a_chosen_one() {
    use crate::submodel::Kind;
    use crate::train::recipe_max_steps;
    let mut app = App::new(false, recipe_max_steps(Kind::Residual));
    app.screen = Screen::Train;
    let mut seen = Vec::new();
    for _ in 0..3 {
        assert_eq!(key(&mut app, KeyCode::Char('a')), None);
        seen.push((app.train.kind, app.train.steps));
    }
    assert_eq!(
        seen,
        [
            (Kind::Hybrid, 180),
            (Kind::Lora, 120),
            (Kind::Residual, 240)
        ]
    );
    // At the recipe's budget a job gets no override, so each runs its own recipe's budget.
    assert_eq!(app.train.budget(), None);
    let request =
        super::reduce::train::request(vec!["s".into()], app.train.budget(), Plan::default());
    assert_eq!(request.config().max_steps, 240);
    let space = Plan::Space {
        name: "pair".into(),
        dim: 1,
        rank: DEFAULT_RANK,
        joint_steps: 0,
    };
    let request = super::reduce::train::request(vec!["s".into()], app.train.budget(), space);
    assert_eq!(request.config().max_steps, 120);
    assert_eq!(key(&mut app, KeyCode::Char('-')), None);
    let chosen = app.train.steps;
    assert_ne!(chosen, 240);
    assert_eq!(app.train.budget(), Some(chosen));
    assert_eq!(key(&mut app, KeyCode::Char('a')), None);
    assert_eq!((app.train.kind, app.train.steps), (Kind::Hybrid, chosen));
}
