//! Snapshots of every TUI screen (and the help, a dialog and the first start) at 80×24 and
//! 120×40, drawn from the deterministic demo state into ratatui's `TestBackend`.

use attune::tui::app::{App, ConfirmFor, Modal, Screen};
use attune::tui::{demo, screens};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
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
    #[values("first_start", "help", "confirm", "lineage", "finished")] name: &str,
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
        _ => {}
    }
    insta::assert_snapshot!(
        format!("{name}_{}x{}", size.0, size.1),
        draw(&app, size.0, size.1)
    );
}
