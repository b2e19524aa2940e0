//! Every state transition in one place: [`App::update`] folds a key, a worker message or a tick
//! into the state and returns at most one [`Command`] for the worker. Keys go through the key
//! map (`keymap.rs`) to an [`Act`]; `screens.rs` gives each screen's acts their meaning,
//! `train.rs` the Train screen's and its jobs', `sufficiency.rs` the instant submodel's and the
//! enrollment curve's, `dialog.rs` the dialogs', `messages.rs` folds worker messages. No I/O, no
//! terminal, no tensors.

mod dialog;
mod messages;
mod screens;
pub mod sufficiency;
pub mod train;

use ratatui::crossterm::event::{KeyEvent, KeyEventKind};

use super::app::{Action, App, ConfirmFor, InputFor, Modal, Screen};
use super::keymap::{self, Act, Scope};
use super::msg::Command;

impl App {
    /// The one entry point: folds an action into the state.
    pub fn update(&mut self, action: Action) -> Option<Command> {
        match action {
            Action::Tick => {
                self.ticks += 1;
                None
            }
            Action::Resize => None,
            Action::Msg(m) => messages::reduce(self, *m),
            Action::Key(k) if k.kind == KeyEventKind::Release => None,
            Action::Key(k) => on_key(self, k),
        }
    }

    /// Opens a text field.
    pub fn input(&mut self, title: &str, value: &str, purpose: InputFor) -> Option<Command> {
        self.modal = Some(Modal::Input {
            title: title.into(),
            value: value.into(),
            purpose,
        });
        None
    }

    /// Asks a yes/no question.
    pub fn confirm(&mut self, question: String, purpose: ConfirmFor) -> Option<Command> {
        self.modal = Some(Modal::Confirm { question, purpose });
        None
    }
}

fn on_key(app: &mut App, k: KeyEvent) -> Option<Command> {
    app.notice = None;
    if keymap::lookup(Scope::Always, &k) == Some(Act::Quit) {
        return ask_quit(app);
    }
    if app.modal.is_some() {
        return dialog::on_key(app, k);
    }
    // Any key closes an overlay.
    if app.help || app.messages {
        app.help = false;
        app.messages = false;
        return None;
    }
    if let Some(act) = keymap::lookup(Scope::Global, &k) {
        return global(app, act);
    }
    let act = keymap::lookup(Scope::Screen(app.screen), &k)?;
    match app.screen {
        Screen::Speakers => screens::speakers(app, act),
        Screen::Enroll => screens::enroll(app, act),
        Screen::Train => train::train(app, act),
        Screen::Compare => screens::compare(app, act),
        Screen::Library => screens::library(app, act),
    }
}

fn global(app: &mut App, act: Act) -> Option<Command> {
    let n = Screen::ALL.len();
    match act {
        Act::Help => app.help = true,
        Act::Messages => app.messages = true,
        Act::Quit => return ask_quit(app),
        Act::GoTo(s) => app.screen = s,
        Act::NextScreen => app.screen = Screen::ALL[(app.screen.index() + 1) % n],
        Act::PrevScreen => app.screen = Screen::ALL[(app.screen.index() + n - 1) % n],
        _ => {}
    }
    None
}

fn ask_quit(app: &mut App) -> Option<Command> {
    if app.train.running {
        app.confirm(
            "Training is running. Quit anyway? It stops now and can resume from its last \
             checkpoint at the next start."
                .into(),
            ConfirmFor::Quit,
        )
    } else if app.busy() {
        app.confirm(
            "A job is running. Quit anyway (it will be cancelled)?".into(),
            ConfirmFor::Quit,
        )
    } else {
        app.quit = true;
        None
    }
}
