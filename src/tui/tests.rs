//! State-update tests: actions in, state and commands out — no terminal, no worker, no model.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::{Action, App, Avail, Modal, Screen};
use super::demo;
use super::keymap::{self, Scope};
use super::msg::{Command, Msg, Snapshot, TakeInfo, TestSet};
use super::screens;
use super::test_support::{draw, key, msg};
use crate::submodel::Kind;
use crate::train::{DEFAULT_RANK, TrainEvent};
use crate::workflow::personalize::Plan;

fn chars(app: &mut App, s: &str) -> Vec<Command> {
    s.chars()
        .filter_map(|c| key(app, KeyCode::Char(c)))
        .collect()
}

fn idle(screen: Screen) -> App {
    let mut app = demo::app(screen, false);
    app.train.running = false;
    app.train.progress = None;
    app
}

#[test]
fn digits_and_tab_switch_screens_and_wrap() {
    let mut app = idle(Screen::Speakers);
    key(&mut app, KeyCode::Char('4'));
    assert_eq!(app.screen, Screen::Compare);
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.screen, Screen::Speakers);
    key(&mut app, KeyCode::BackTab);
    assert_eq!(app.screen, Screen::Library);
}

#[test]
fn q_quits_at_once_when_idle_but_asks_while_training() {
    let mut app = idle(Screen::Train);
    key(&mut app, KeyCode::Char('q'));
    assert!(app.quit);

    let mut app = demo::app(Screen::Train, false);
    key(&mut app, KeyCode::Char('q'));
    assert!(!app.quit);
    assert!(matches!(app.modal, Some(Modal::Confirm { .. })));
    key(&mut app, KeyCode::Char('n'));
    assert!(!app.quit && app.modal.is_none());
    key(&mut app, KeyCode::Char('q'));
    key(&mut app, KeyCode::Char('y'));
    assert!(app.quit);
}

#[test]
fn first_start_offers_the_samples_with_one_key() {
    let mut app = demo::app(Screen::Speakers, true);
    assert!(app.speakers.is_empty());
    assert_eq!(
        key(&mut app, KeyCode::Char('a')),
        Some(Command::ImportSamples)
    );
    assert!(app.importing && app.busy());
    // A second press while importing does nothing.
    assert_eq!(key(&mut app, KeyCode::Char('a')), None);
    msg(
        &mut app,
        Msg::ImportDone(Ok("added 5 sample speaker(s)".into())),
    );
    assert!(!app.importing);
    assert_eq!(app.status.text, "added 5 sample speaker(s)");
}

#[test]
fn text_fields_take_digits_instead_of_switching_screens() {
    let mut app = idle(Screen::Speakers);
    assert_eq!(key(&mut app, KeyCode::Char('n')), None);
    assert!(chars(&mut app, "bob-2x").is_empty());
    key(&mut app, KeyCode::Backspace);
    assert_eq!(app.screen, Screen::Speakers);
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        Some(Command::CreateSpeaker { id: "bob-2".into() })
    );
    assert!(app.modal.is_none());
    // Esc cancels without a command.
    key(&mut app, KeyCode::Char('n'));
    assert_eq!(key(&mut app, KeyCode::Esc), None);
    assert!(app.modal.is_none());
}

#[test]
fn deleting_a_speaker_asks_first() {
    let mut app = idle(Screen::Speakers);
    key(&mut app, KeyCode::Down);
    assert_eq!(key(&mut app, KeyCode::Char('d')), None);
    assert_eq!(
        key(&mut app, KeyCode::Char('x')),
        None,
        "other keys keep asking"
    );
    assert_eq!(
        key(&mut app, KeyCode::Char('y')),
        Some(Command::DeleteSpeaker {
            id: "control".into()
        })
    );
}

#[test]
fn training_starts_with_the_step_budget_and_folds_progress() {
    let mut app = idle(Screen::Train);
    key(&mut app, KeyCode::Char('+'));
    assert_eq!(app.train.steps, 50);
    key(&mut app, KeyCode::Char('a'));
    let Some(Command::Train { request, resume }) = key(&mut app, KeyCode::Enter) else {
        panic!("no train command")
    };
    assert!(!resume);
    assert_eq!(request.speakers, ["accent-de"]);
    assert_eq!(request.overrides.max_steps, Some(50));
    assert_eq!(
        request.plan,
        Plan::Adapters {
            kind: Kind::Hybrid,
            rank: DEFAULT_RANK
        }
    );
    assert!(app.train.running);
    assert_eq!(key(&mut app, KeyCode::Enter), None);
    assert!(app.status.error, "a second job is refused");
    msg(
        &mut app,
        Msg::Train(TrainEvent::Started {
            speakers: vec!["accent-de".into()],
            max_steps: 50,
            params_per_speaker: 10,
        }),
    );
    msg(
        &mut app,
        Msg::Train(TrainEvent::Step {
            step: 3,
            loss: 1.5,
            losses: vec![Some(1.5)],
            elapsed: 6.0,
            eta: 94.0,
        }),
    );
    let p = app.train.progress.as_ref().unwrap();
    assert_eq!((p.step, p.max_steps, p.losses.len()), (3, 50, 1));
    // The job keeps running on other screens; finishing posts a notice anywhere.
    key(&mut app, KeyCode::Char('5'));
    msg(&mut app, Msg::TrainDone(Ok(demo::summary())));
    assert!(!app.train.running);
    assert!(app.notice.as_deref().unwrap().contains("accent-de-v3"));
    key(&mut app, KeyCode::Down);
    assert!(app.notice.is_none(), "a key dismisses the notice");
}

#[test]
fn marked_speakers_train_together_and_c_cancels() {
    let mut app = idle(Screen::Train);
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Char(' '));
    let Some(Command::Train { request, .. }) = key(&mut app, KeyCode::Char('t')) else {
        panic!("no train command")
    };
    assert_eq!(request.speakers, ["accent-de", "tremor"]);
    assert_eq!(
        key(&mut app, KeyCode::Char('c')),
        Some(Command::CancelTrain)
    );
}

#[test]
fn compare_scores_the_selected_speaker_on_the_chosen_set() {
    let mut app = idle(Screen::Compare);
    app.compare.data = None;
    key(&mut app, KeyCode::Right);
    key(&mut app, KeyCode::Char('s'));
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        Some(Command::Compare {
            speaker: "control".into(),
            set: TestSet::All
        })
    );
    assert!(app.compare.running);
    msg(&mut app, Msg::Compare(Ok(Box::new(demo::compare()))));
    assert!(!app.compare.running);
    key(&mut app, KeyCode::Down);
    assert_eq!(
        key(&mut app, KeyCode::Char('p')),
        Some(Command::PlayFile {
            path: "00010.wav".into()
        })
    );
}

#[test]
fn recording_without_a_sound_card_says_why_and_import_still_works() {
    let mut app = idle(Screen::Enroll);
    app.enroll.take = None;
    assert_eq!(key(&mut app, KeyCode::Char('r')), None);
    assert!(app.status.error && app.status.text.contains("recording is off"));
    key(&mut app, KeyCode::Char('i'));
    chars(&mut app, "/data/set");
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        Some(Command::Import {
            speaker: "accent-de".into(),
            path: "/data/set".into()
        })
    );
}

#[test]
fn a_take_is_recorded_kept_or_corrected() {
    let mut app = idle(Screen::Enroll);
    app.enroll.take = None;
    app.audio = Avail::Ready("vsink.monitor".into());
    assert_eq!(key(&mut app, KeyCode::Char('r')), Some(Command::Record));
    assert!(app.enroll.recording);
    assert_eq!(
        key(&mut app, KeyCode::Char(' ')),
        Some(Command::StopRecording)
    );
    let take = TakeInfo {
        seconds: 1.0,
        peak_dbfs: -6.0,
        envelope: vec![0.5; 10],
        too_quiet: false,
        clipped: false,
        no_speech: false,
    };
    msg(&mut app, Msg::Take(Ok(take)));
    assert!(!app.enroll.recording);
    assert_eq!(key(&mut app, KeyCode::Char('p')), Some(Command::PlayTake));
    let prompt = "Good morning, how are you?".to_string();
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        Some(Command::StoreTake {
            speaker: "accent-de".into(),
            text: prompt.clone(),
            prompt: prompt.clone()
        })
    );
    // "e": edit what was actually said, prefilled with the prompt.
    key(&mut app, KeyCode::Char('e'));
    for _ in 0.."how are you?".len() {
        key(&mut app, KeyCode::Backspace);
    }
    chars(&mut app, "hello");
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        Some(Command::StoreTake {
            speaker: "accent-de".into(),
            text: "Good morning, hello".into(),
            prompt
        })
    );
}

#[test]
fn snapshots_keep_the_selection_on_the_same_speaker_and_errors_reach_the_status_line() {
    let mut app = idle(Screen::Speakers);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    assert_eq!(app.speaker().unwrap().id, "tremor");
    let mut snap = demo::snapshot();
    snap.speakers.remove(0);
    msg(&mut app, Msg::Snapshot(snap));
    assert_eq!(app.speaker().unwrap().id, "tremor");
    msg(&mut app, Msg::Snapshot(Snapshot::default()));
    assert_eq!(app.sel, 0);
    msg(
        &mut app,
        Msg::Done(Err("library/x.safetensors: checksum mismatch".into())),
    );
    assert!(app.status.error);
    msg(&mut app, Msg::Compare(Err("no held-out utterances".into())));
    assert!(app.status.text.contains("no held-out"));
}

#[test]
fn library_keys_ask_for_lineage_export_and_delete() {
    let mut app = idle(Screen::Library);
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        Some(Command::Lineage {
            id: "accent-de-v2".into()
        })
    );
    key(&mut app, KeyCode::Char('x'));
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        None,
        "the format is asked first"
    );
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        Some(Command::Export {
            id: "accent-de-v2".into(),
            dest: "accent-de-v2.safetensors".into(),
            format: crate::export::Format::File,
        })
    );
    key(&mut app, KeyCode::Char('d'));
    assert_eq!(
        key(&mut app, KeyCode::Char('y')),
        Some(Command::RemoveSubmodel {
            id: "accent-de-v2".into()
        })
    );
}

#[test]
fn export_asks_the_format_offering_merged_ones_only_for_lora() {
    use crate::export::Format;
    let mut app = idle(Screen::Library);
    // The demo's submodels are residual: only attune's own file.
    key(&mut app, KeyCode::Char('x'));
    match &app.modal {
        Some(Modal::Choose { options, title, .. }) => {
            assert_eq!(options.len(), 1, "{options:?}");
            assert!(title.contains("need a LoRA submodel"), "{title}");
        }
        other => panic!("expected the format chooser, got {other:?}"),
    }
    key(&mut app, KeyCode::Esc);
    assert!(app.modal.is_none());
    app.library[app.lib_sel].meta.spec.kind = Kind::Lora;
    key(&mut app, KeyCode::Char('x'));
    match &app.modal {
        Some(Modal::Choose { options, .. }) => assert_eq!(options.len(), 5, "{options:?}"),
        other => panic!("expected the format chooser, got {other:?}"),
    }
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down); // file, peft, ct2
    assert_eq!(key(&mut app, KeyCode::Enter), None);
    match &app.modal {
        Some(Modal::Input { title, value, .. }) => {
            assert!(title.contains("as ct2 to (a folder"), "{title}");
            assert_eq!(value, "accent-de-v2-ct2");
        }
        other => panic!("expected the destination field, got {other:?}"),
    }
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        Some(Command::Export {
            id: "accent-de-v2".into(),
            dest: "accent-de-v2-ct2".into(),
            format: Format::Ct2,
        })
    );
    assert!(app.status.text.contains("exporting accent-de-v2 as ct2"));
}

#[test]
fn help_opens_with_question_mark_and_any_key_closes_it() {
    let mut app = idle(Screen::Train);
    key(&mut app, KeyCode::Char('?'));
    assert!(app.help);
    assert_eq!(key(&mut app, KeyCode::Char('3')), None);
    assert!(!app.help);
    assert_eq!(app.screen, Screen::Train);
}

/// Keys a user could press: every printable ASCII character and the named keys.
fn every_key() -> Vec<KeyEvent> {
    let mut codes: Vec<KeyCode> = (' '..='~').map(KeyCode::Char).collect();
    codes.extend([
        KeyCode::Up,
        KeyCode::Down,
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::Enter,
        KeyCode::Esc,
        KeyCode::Tab,
        KeyCode::BackTab,
        KeyCode::Backspace,
        KeyCode::Delete,
        KeyCode::Insert,
        KeyCode::Home,
        KeyCode::End,
        KeyCode::PageUp,
        KeyCode::PageDown,
    ]);
    codes.extend((1..=12).map(KeyCode::F));
    codes
        .into_iter()
        .map(|c| KeyEvent::new(c, KeyModifiers::NONE))
        .collect()
}

/// States worth pressing keys in: idle, a job running with a take and a comparison, first start.
fn states(screen: Screen) -> Vec<App> {
    let mut ready = idle(screen);
    ready.audio = Avail::Ready("vsink.monitor".into());
    vec![
        idle(screen),
        ready,
        demo::app(screen, false),
        demo::app(screen, true),
    ]
}

#[test]
fn a_key_missing_from_the_key_map_does_nothing() {
    for screen in Screen::ALL {
        for k in every_key() {
            let bound = [Scope::Always, Scope::Global, Scope::Screen(screen)]
                .into_iter()
                .any(|s| keymap::lookup(s, &k).is_some());
            if bound {
                continue;
            }
            for mut app in states(screen) {
                let before = format!("{app:?}");
                let cmd = app.update(Action::Key(k));
                assert_eq!(cmd, None, "{:?} on {screen:?} sent a command", k.code);
                assert_eq!(
                    format!("{app:?}"),
                    before,
                    "{:?} on {screen:?} is handled but not in the key map (keymap.rs)",
                    k.code
                );
            }
        }
    }
}

fn text(lines: &[ratatui::text::Line<'_>]) -> String {
    lines
        .iter()
        .map(|l| l.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_key_map_row_is_in_the_help_and_dispatches_to_its_action() {
    for b in keymap::KEYMAP {
        for (key, act) in b.keys {
            let mods = if key.ctrl {
                KeyModifiers::CONTROL
            } else {
                KeyModifiers::NONE
            };
            let e = KeyEvent::new(key.code, mods);
            assert_eq!(
                keymap::lookup(b.scope, &e),
                Some(*act),
                "{} in {:?} is shadowed by an earlier row",
                key.name(),
                b.scope
            );
            // The row's label names the key (a capital by its small letter, a digit by a range).
            let label = b.label();
            let name = key.name();
            let listed = label.split(' ').any(|w| {
                w == name
                    || w.contains(&name)
                    || (name.len() == 1 && w.eq_ignore_ascii_case(&name))
                    || (w.len() == 3 && w.as_bytes()[1] == b'-' && {
                        let (lo, hi) = (w.as_bytes()[0], w.as_bytes()[2]);
                        name.len() == 1 && (lo..=hi).contains(&name.as_bytes()[0])
                    })
            });
            assert!(listed, "{name} is missing from its help label {label:?}");
        }
        let row = format!("{:>14}  {}", b.label(), b.help);
        match b.scope {
            Scope::Screen(s) => assert!(
                text(&screens::help_lines(s)).contains(&row),
                "{row:?} not in the help of {s:?}"
            ),
            Scope::Global | Scope::Always => {
                for s in Screen::ALL {
                    assert!(text(&screens::help_lines(s)).contains(&row), "{row:?}");
                }
            }
            Scope::Input | Scope::Confirm | Scope::Choose => {
                let hint = keymap::hint(b.scope);
                assert!(
                    hint.contains(&format!("{}: {}", b.label(), b.help)),
                    "{hint}"
                );
            }
        }
    }
}

#[test]
fn dialog_keys_come_from_the_key_map() {
    let mut app = idle(Screen::Speakers);
    key(&mut app, KeyCode::Char('n'));
    // 'q', '?' and digits type into the field; Backspace erases; Esc cancels.
    assert!(chars(&mut app, "q?1").is_empty());
    key(&mut app, KeyCode::Backspace);
    assert!(matches!(&app.modal, Some(Modal::Input { value, .. }) if value == "q?"));
    key(&mut app, KeyCode::Esc);
    assert!(app.modal.is_none() && !app.quit);
    // A capital answers a question too.
    key(&mut app, KeyCode::Char('d'));
    assert_eq!(
        key(&mut app, KeyCode::Char('Y')),
        Some(Command::DeleteSpeaker {
            id: "accent-de".into()
        })
    );
}

/// The bottom rows of the UI drawn at `w`×24 (the status line takes one or two), as text.
fn status_rows(app: &App, w: u16) -> Vec<String> {
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, 24)).unwrap();
    t.draw(|f| screens::render(app, f)).unwrap();
    let buf = t.backend().buffer().clone();
    (24 - screens::STATUS_LINES as u16..24)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>())
        .collect()
}

#[test]
fn the_status_line_never_cuts_a_word() {
    let long = "added 5 sample speaker(s) with 492 utterances; 3 trains, 4 compares";
    let longer = format!("{long}; {long}; {long}");
    for text in [
        long,
        longer.as_str(),
        "/home/someone/a/very/long/path/with/no/spaces",
    ] {
        let mut app = idle(Screen::Speakers);
        app.error(text);
        for w in [20usize, 33, 56, 80, 119] {
            let lines = screens::status_lines(&app, w);
            assert!(lines.len() <= screens::STATUS_LINES);
            let shown: Vec<String> = lines
                .iter()
                .flat_map(|l| {
                    l.to_string()
                        .split_whitespace()
                        .map(String::from)
                        .collect::<Vec<_>>()
                })
                .collect();
            let words: Vec<&str> = std::iter::once("error:")
                .chain(text.split_whitespace())
                .collect();
            let cut = shown.last().is_some_and(|s| s == "all");
            let kept = if cut {
                &shown[..shown.len() - 3]
            } else {
                &shown[..]
            };
            // Every word shown is a whole word of the text, in order (a word wider than the whole
            // line is the one exception: it is split, never dropped).
            if text.split_whitespace().all(|w2| w2.len() < w - 7) {
                assert_eq!(kept, &words[..kept.len()], "width {w}");
            }
            if cut {
                assert_eq!(&shown[shown.len() - 3..], ["…", "m:", "all"]);
                assert_eq!(
                    app.history.last().unwrap().text,
                    text,
                    "the full text is kept"
                );
            } else if text.split_whitespace().all(|w2| w2.len() < w - 7) {
                assert_eq!(kept.len(), words.len(), "width {w}: nothing left out");
            }
        }
    }
    // Drawn at 80 columns, the samples message is whole (it wraps onto a second line).
    let mut app = idle(Screen::Speakers);
    app.info(long);
    let rows = status_rows(&app, 80).join(" ");
    assert!(
        rows.contains("3 trains,") && rows.contains("4 compares"),
        "{rows}"
    );
}

#[test]
fn m_shows_every_message_in_full_and_any_key_closes_it() {
    let mut app = idle(Screen::Train);
    app.info("first");
    app.error("second, an error");
    key(&mut app, KeyCode::Char('m'));
    assert!(app.messages);
    let texts: Vec<&str> = app.history.iter().map(|s| s.text.as_str()).collect();
    assert!(texts.ends_with(&["first", "second, an error"]), "{texts:?}");
    assert_eq!(key(&mut app, KeyCode::Char('3')), None);
    assert!(!app.messages);
    // Import progress repeats many times a second: it shows but does not fill the history.
    let n = app.history.len();
    msg(
        &mut app,
        Msg::ImportProgress {
            speaker: "tremor".into(),
            done: 3,
            skipped: 0,
        },
    );
    assert_eq!(app.history.len(), n);
}

#[test]
fn the_header_keeps_the_job_indicator_at_80_columns() {
    let mut app = idle(Screen::Train);
    app.train.running = true;
    let screen = draw(&app);
    let top = screen.lines().next().unwrap();
    assert!(top.contains("training: preparing"), "{top}");
    assert!(
        top.contains("3 Train"),
        "the current tab keeps its title: {top}"
    );
}
