//! Snapshots of every TUI screen and overlay (help, dialogs, notices, message history, the first
//! start, Enroll without a microphone, a long status line, embedding spaces, resuming, scoring on
//! a folder) at 80×24 and 120×40, drawn from the deterministic demo state into ratatui's
//! `TestBackend`.

use std::path::PathBuf;

use attune::eval::bootstrap::Verdict;
use attune::train::TrainEvent;
use attune::tui::app::{Action, App, ConfirmFor, InputFor, Modal, Screen};
use attune::tui::msg::{Msg, TestSet};
use attune::tui::{demo, screens};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rstest::rstest;

fn draw(app: &App, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| screens::render(app, f)).unwrap();
    terminal.backend().to_string()
}

#[rstest]
fn screen(
    #[values("speakers", "enroll", "train", "compare", "library")] name: &str,
    #[values((80, 24), (120, 40))] size: (u16, u16),
) {
    let screen = Screen::ALL
        .into_iter()
        .find(|s| s.title().eq_ignore_ascii_case(name))
        .unwrap();
    let app = demo::app(screen, false);
    insta::assert_snapshot!(
        format!("{name}_{}x{}", size.0, size.1),
        draw(&app, size.0, size.1)
    );
}

#[rstest]
fn overlays(
    #[values(
        "first_start",
        "help",
        "confirm",
        "lineage",
        "finished",
        "no_device",
        "input",
        "long_status",
        "messages",
        "help_speakers"
    )]
    name: &str,
    #[values((80, 24), (120, 40))] size: (u16, u16),
) {
    let mut app = demo::app(Screen::Speakers, name == "first_start");
    match name {
        "help" => {
            app.screen = Screen::Train;
            app.help = true;
        }
        "confirm" => app.modal = Some(Modal::Confirm {
            question:
                "Delete speaker control with all recordings and submodels? This cannot be undone."
                    .into(),
            purpose: ConfirmFor::DeleteSpeaker {
                id: "control".into(),
            },
        }),
        "lineage" => {
            app.screen = Screen::Library;
            app.lineage = Some(
                demo::snapshot().library[..2]
                    .iter()
                    .rev()
                    .cloned()
                    .collect(),
            );
        }
        "finished" => {
            app.screen = Screen::Train;
            app.train.running = false;
            let line = format!("training finished: {}", demo::summary().describe());
            app.notice = Some(line.clone());
            app.info(line);
            app.train.result = Some(Ok(demo::summary()));
        }
        "no_device" => {
            app.screen = Screen::Enroll;
            app.enroll.take = None;
            app.enroll.level = None;
            app.enroll.import = Some("imported 100 utterance(s) into accent-de, 0 skipped".into());
        }
        "input" => {
            app.modal = Some(Modal::Input {
                title: "Import into accent-de: folder of x.wav+x.txt, manifest.jsonl or Kaldi dir"
                    .into(),
                value: "/media/usb/recordings/accent-de/session-2026-09-20/manifest.jsonl".into(),
                purpose: InputFor::ImportPath {
                    speaker: "accent-de".into(),
                },
            })
        }
        "long_status" => {
            app.info("added 5 sample speaker(s) with 492 utterances; 3 trains, 4 compares")
        }
        "messages" => {
            app.error("library/x.safetensors: checksum mismatch");
            app.info("added 5 sample speaker(s) with 492 utterances; 3 trains, 4 compares");
            app.messages = true;
        }
        "help_speakers" => app.help = true,
        _ => {}
    }
    insta::assert_snapshot!(
        format!("{name}_{}x{}", size.0, size.1),
        draw(&app, size.0, size.1)
    );
}

/// The states of the CLI-parity features: learning a space (its name), fitting into one (the
/// chooser, with only the shipped space when the home has none), the resume offer at start and a
/// resumed job, scoring on a folder, a submodel that hurts ordinary speech, the Compare help, and
/// the enrollment curve being computed.
#[rstest]
fn parity(
    #[values(
        "space_name",
        "from_space",
        "shipped_only",
        "resume_offer",
        "resumed",
        "compare_path",
        "library_regressed",
        "help_compare",
        "curve"
    )]
    name: &str,
    #[values((80, 24), (120, 40))] size: (u16, u16),
) {
    let mut app = demo::app(Screen::Train, false);
    let key = |app: &mut App, code: KeyCode| {
        app.update(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    };
    let idle = |app: &mut App| {
        app.train.running = false;
        app.train.progress = None;
        app.train.job = None;
    };
    match name {
        "space_name" => {
            idle(&mut app);
            for code in [KeyCode::Char(' '), KeyCode::Down, KeyCode::Char(' ')] {
                key(&mut app, code);
            }
            key(&mut app, KeyCode::Char('e'));
            for c in "voices-2".chars() {
                key(&mut app, KeyCode::Char(c));
            }
        }
        "from_space" => {
            idle(&mut app);
            app.spaces = vec!["pair".into(), "voices".into()];
            key(&mut app, KeyCode::Down);
            key(&mut app, KeyCode::Down);
            key(&mut app, KeyCode::Char('f'));
            key(&mut app, KeyCode::Down);
        }
        "shipped_only" => {
            idle(&mut app);
            app.spaces.clear();
            key(&mut app, KeyCode::Char('f'));
        }
        "resume_offer" => {
            idle(&mut app);
            app.screen = Screen::Speakers;
            app.update(Action::Msg(Box::new(Msg::Unfinished(vec![
                demo::interrupted(),
            ]))));
        }
        "resumed" => {
            demo::resumed(&mut app);
            app.sel = 2;
        }
        "compare_path" => {
            app.screen = Screen::Compare;
            let path = PathBuf::from("/media/usb/calls/session-2026-09-20/manifest.jsonl");
            app.compare.set = Some(TestSet::Path(path.clone()));
            if let Some(d) = app.compare.data.as_mut() {
                d.set = TestSet::Path(path);
                d.report.ci95 = Some([-0.08, 0.31]);
                d.report.verdict = Some(Verdict::NoClearDifference);
            }
        }
        "library_regressed" => {
            app.screen = Screen::Library;
            app.lib_sel = 2;
        }
        "help_compare" => {
            app.screen = Screen::Compare;
            app.help = true;
        }
        "curve" => {
            idle(&mut app);
            app.screen = Screen::Compare;
            key(&mut app, KeyCode::Char('u'));
            let job = "accent-de: residual r32 refined from accent-de-v3, 40 steps";
            for m in [
                Msg::CurveStage {
                    stage: 1,
                    stages: 4,
                    job: job.into(),
                },
                Msg::Train(TrainEvent::Started {
                    speakers: vec!["accent-de".into()],
                    max_steps: 40,
                    params_per_speaker: 99_072,
                }),
            ] {
                app.update(Action::Msg(Box::new(m)));
            }
        }
        _ => unreachable!(),
    }
    insta::assert_snapshot!(
        format!("{name}_{}x{}", size.0, size.1),
        draw(&app, size.0, size.1)
    );
}
