//! Helpers the TUI's state-update tests share: press a key, deliver a message, and an idle demo
//! app on a screen.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::{Action, App, Screen};
use super::demo;
use super::msg::{Command, Msg};

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
