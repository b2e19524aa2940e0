//! Helpers the TUI's state-update tests share: press a key, deliver a message, an idle demo
//! app on a screen, and the whole UI drawn as text.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::{Action, App, Screen};
use super::demo;
use super::msg::{Command, Msg};
use super::screens;

pub fn key(app: &mut App, code: KeyCode) -> Option<Command> {
    app.update(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

pub fn msg(app: &mut App, m: Msg) -> Option<Command> {
    app.update(Action::Msg(Box::new(m)))
}

/// The demo app on `screen` with no job running.
pub fn idle(screen: Screen) -> App {
    let mut app = demo::app(screen, false);
    app.train.running = false;
    app.train.progress = None;
    app.train.job = None;
    app
}

/// The whole UI drawn at 80×24, as text (rows joined by newlines).
pub fn draw(app: &App) -> String {
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
    t.draw(|f| screens::render(app, f)).unwrap();
    let buf = t.backend().buffer().clone();
    (0..24)
        .map(|y| (0..80).map(|x| buf[(x, y)].symbol()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}
