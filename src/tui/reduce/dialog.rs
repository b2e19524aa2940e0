//! Keys while a dialog is open: a one-line text field (type, Backspace, Enter, Esc) or a yes/no
//! question; what the answer does depends on what the dialog was opened for.

use std::path::PathBuf;

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use crate::tui::app::{App, ConfirmFor, InputFor, Modal};
use crate::tui::keymap::{self, Act, Scope};
use crate::tui::msg::Command;

/// Handles a key for the open dialog.
pub fn on_key(app: &mut App, k: KeyEvent) -> Option<Command> {
    match app.modal.take()? {
        Modal::Input {
            title,
            mut value,
            purpose,
        } => {
            match keymap::lookup(Scope::Input, &k) {
                Some(Act::Dismiss) => {
                    app.info("cancelled");
                    return None;
                }
                Some(Act::Submit) => return submit(app, value.trim().to_string(), purpose),
                Some(Act::Erase) => {
                    value.pop();
                }
                _ => {
                    if let KeyCode::Char(c) = k.code {
                        value.push(c);
                    }
                }
            }
            app.modal = Some(Modal::Input {
                title,
                value,
                purpose,
            });
            None
        }
        Modal::Confirm { question, purpose } => match keymap::lookup(Scope::Confirm, &k) {
            Some(Act::Yes) => confirm(app, purpose),
            Some(Act::No) => {
                app.info("cancelled");
                None
            }
            _ => {
                app.modal = Some(Modal::Confirm { question, purpose });
                None
            }
        },
    }
}

fn submit(app: &mut App, value: String, purpose: InputFor) -> Option<Command> {
    if value.is_empty() && !matches!(purpose, InputFor::Consent { .. }) {
        app.error("nothing entered; cancelled");
        return None;
    }
    match purpose {
        InputFor::NewSpeaker => Some(Command::CreateSpeaker { id: value }),
        InputFor::Consent { id } => Some(Command::SetConsent { id, text: value }),
        InputFor::ImportPath { speaker } => Some(Command::Import {
            speaker,
            path: PathBuf::from(value),
        }),
        InputFor::Said { speaker, prompt } => Some(Command::StoreTake {
            speaker,
            text: value,
            prompt,
        }),
        InputFor::ExportDest { id } => Some(Command::Export {
            id,
            dest: PathBuf::from(value),
        }),
        InputFor::LibraryImport => Some(Command::LibraryImport {
            path: PathBuf::from(value),
        }),
    }
}

fn confirm(app: &mut App, purpose: ConfirmFor) -> Option<Command> {
    match purpose {
        ConfirmFor::DeleteSpeaker { id } => Some(Command::DeleteSpeaker { id }),
        ConfirmFor::RemoveSubmodel { id } => {
            app.lineage = None;
            Some(Command::RemoveSubmodel { id })
        }
        ConfirmFor::Quit => {
            app.quit = true;
            None
        }
    }
}
