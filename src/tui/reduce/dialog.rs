//! Keys while a dialog is open: a one-line text field (type, Backspace, Enter, Esc), a yes/no
//! question or a choice among options; what the answer does depends on what the dialog was
//! opened for. When the last dialog closes, an interrupted job still waiting is offered.

use std::path::PathBuf;

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::{screens, train};
use crate::tui::app::{App, ChooseFor, ConfirmFor, InputFor, Modal};
use crate::tui::keymap::{self, Act, Scope};
use crate::tui::msg::{Command, TestSet};

/// Handles a key for the open dialog.
pub fn on_key(app: &mut App, k: KeyEvent) -> Option<Command> {
    let cmd = answer(app, k);
    train::offer_unfinished(app);
    cmd
}

fn answer(app: &mut App, k: KeyEvent) -> Option<Command> {
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
        Modal::Choose {
            title,
            options,
            mut sel,
            purpose,
        } => {
            match keymap::lookup(Scope::Choose, &k) {
                Some(Act::Submit) => return choose(app, purpose, &options, sel),
                Some(Act::Dismiss) => return choose(app, purpose, &options, usize::MAX),
                Some(Act::Up) => sel = sel.saturating_sub(1),
                Some(Act::Down) => sel = (sel + 1).min(options.len().saturating_sub(1)),
                _ => {}
            }
            app.modal = Some(Modal::Choose {
                title,
                options,
                sel,
                purpose,
            });
            None
        }
    }
}

/// Option `sel` of a choice was picked (`usize::MAX`: the dialog was dismissed).
fn choose(app: &mut App, purpose: ChooseFor, options: &[String], sel: usize) -> Option<Command> {
    match purpose {
        ChooseFor::Unfinished { request } => train::answer_unfinished(app, *request, sel),
        ChooseFor::ExportFormat { id, formats } => match formats.get(sel) {
            Some(&format) => app.input(
                &format!("Export {id} as {format} to ({})", format.dest_kind()),
                &format.default_dest(&id),
                InputFor::ExportDest { id, format },
            ),
            None => {
                app.info("cancelled");
                None
            }
        },
        ChooseFor::FromSpace { speakers } => match options.get(sel) {
            Some(name) => train::start_from_space(app, name.clone(), speakers),
            None => {
                app.info("cancelled");
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
        InputFor::ExportDest { id, format } => {
            app.progress(format!("exporting {id} as {format} to {value}…"));
            Some(Command::Export {
                id,
                dest: PathBuf::from(value),
                format,
            })
        }
        InputFor::LibraryImport => Some(Command::LibraryImport {
            path: PathBuf::from(value),
        }),
        InputFor::SpaceName { speakers } => train::start_space(app, value, speakers),
        InputFor::ComparePath { speaker } => {
            let path = PathBuf::from(value);
            app.compare.path = Some(path.clone());
            app.compare.set = Some(TestSet::Path(path));
            // Score the speaker the path was asked for, even if the selection moved.
            if let Some(i) = app.speakers.iter().position(|s| s.id == speaker) {
                app.sel = i;
            }
            screens::start_compare(app)
        }
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
