//! What the Speakers, Enroll, Compare and Library screens' acts do to the state: selection moves,
//! dialogs to open, and the commands that start background work (scoring, recording, import,
//! library operations). The Train screen's are in `train.rs`; the instant submodel (Enroll) and
//! the enrollment curve (Compare) start in `sufficiency.rs`.

use super::{sufficiency, train};
use crate::export::Format;
use crate::submodel::Kind;
use crate::tui::app::{App, ChooseFor, ConfirmFor, InputFor, Modal, Screen};
use crate::tui::keymap::Act;
use crate::tui::msg::{Command, TestSet};

fn import_title(id: &str) -> String {
    format!("Import into {id}: folder of x.wav+x.txt, manifest.jsonl or Kaldi dir")
}

pub fn speakers(app: &mut App, act: Act) -> Option<Command> {
    let n = app.speakers.len();
    match act {
        Act::Up => app.sel = App::step(app.sel, n, -1),
        Act::Down => app.sel = App::step(app.sel, n, 1),
        Act::NewSpeaker => {
            return app.input(
                "New speaker id (letters, digits, . _ -)",
                "",
                InputFor::NewSpeaker,
            );
        }
        Act::AddSamples if !app.samples => app.error("this build carries no sample speakers"),
        Act::AddSamples if !app.importing => {
            app.importing = true;
            app.info("adding the sample speakers…");
            return Some(Command::ImportSamples);
        }
        Act::Delete => {
            let id = app.speaker()?.id.clone();
            return app.confirm(
                format!(
                    "Delete speaker {id} with all recordings and submodels? This cannot be undone."
                ),
                ConfirmFor::DeleteSpeaker { id },
            );
        }
        Act::Consent => {
            let s = app.speaker()?;
            let id = s.id.clone();
            let current = s.consent.clone().unwrap_or_default();
            let current = current
                .rsplit_once(" (")
                .map_or(current.as_str(), |(t, _)| t)
                .to_string();
            return app.input(
                &format!("Consent note for {id} (dated today; empty removes it)"),
                &current,
                InputFor::Consent { id },
            );
        }
        Act::Import => {
            let id = app.speaker()?.id.clone();
            return app.input(&import_title(&id), "", InputFor::ImportPath { speaker: id });
        }
        Act::Open if app.speaker().is_some() => app.screen = Screen::Enroll,
        _ => {}
    }
    None
}

pub fn enroll(app: &mut App, act: Act) -> Option<Command> {
    let n = app.speakers.len();
    let id = app.speaker()?.id.clone();
    let pending = app.speaker()?.pending.len();
    match act {
        Act::PrevSpeaker => app.sel = App::step(app.sel, n, -1),
        Act::NextSpeaker => app.sel = App::step(app.sel, n, 1),
        Act::Import => {
            return app.input(&import_title(&id), "", InputFor::ImportPath { speaker: id });
        }
        Act::NextPrompt => app.enroll.prompt = App::step(app.enroll.prompt, pending, 1),
        Act::PrevPrompt => app.enroll.prompt = App::step(app.enroll.prompt, pending, -1),
        Act::Record if app.enroll.recording => return Some(Command::StopRecording),
        Act::Record => {
            if let crate::tui::app::Avail::Missing(why) = &app.audio {
                let why = format!("recording is off: {why}; i imports instead");
                app.error(why);
                return None;
            }
            app.prompt()?;
            app.enroll.recording = true;
            app.enroll.take = None;
            app.info("listening: say the phrase; a pause ends the take (r stops)");
            return Some(Command::Record);
        }
        Act::Instant => return sufficiency::start_instant(app),
        Act::Play if app.enroll.take.is_some() => return Some(Command::PlayTake),
        Act::Keep if app.enroll.take.is_some() => {
            let p = app.prompt()?.to_string();
            return Some(Command::StoreTake {
                speaker: id,
                text: p.clone(),
                prompt: p,
            });
        }
        Act::KeepEdited if app.enroll.take.is_some() => {
            let p = app.prompt()?.to_string();
            return app.input(
                "What was actually said",
                &p,
                InputFor::Said {
                    speaker: id,
                    prompt: p.clone(),
                },
            );
        }
        _ => {}
    }
    None
}

pub fn compare(app: &mut App, act: Act) -> Option<Command> {
    let n = app.speakers.len();
    let rows = app
        .compare
        .data
        .as_ref()
        .map_or(0, |d| d.report.utterances.len());
    match act {
        Act::PrevSpeaker => app.sel = App::step(app.sel, n, -1),
        Act::NextSpeaker => app.sel = App::step(app.sel, n, 1),
        Act::Up => app.compare.row = App::step(app.compare.row, rows, -1),
        Act::Down => app.compare.row = App::step(app.compare.row, rows, 1),
        Act::TestSet => {
            app.compare.set = Some(match app.test_set() {
                TestSet::Test => TestSet::All,
                TestSet::All | TestSet::Path(_) => TestSet::Test,
            })
        }
        Act::Play => {
            let d = app.compare.data.as_ref()?;
            let path = d.paths.get(app.compare.row)?.clone();
            return Some(Command::PlayFile { path });
        }
        Act::ScorePath => {
            let speaker = app.speaker()?.id.clone();
            let last = app
                .compare
                .path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            return app.input(
                &format!(
                    "Score base vs {speaker}'s newest submodel on: folder of x.wav+x.txt, \
                     manifest.jsonl or Kaldi dir"
                ),
                &last,
                InputFor::ComparePath { speaker },
            );
        }
        Act::Score => return start_compare(app),
        Act::Curve => return sufficiency::start_curve(app),
        Act::Cancel => return train::cancel(app),
        _ => {}
    }
    None
}

/// Scores the selected speaker's newest submodel against the base on the chosen test set.
pub fn start_compare(app: &mut App) -> Option<Command> {
    if app.compare.running {
        app.error("already scoring; wait for it");
        return None;
    }
    let speaker = app.speaker()?.id.clone();
    let set = app.test_set();
    app.compare.running = true;
    app.info(format!(
        "scoring {speaker} on {}: base and newest submodel…",
        set.label()
    ));
    Some(Command::Compare { speaker, set })
}

pub fn library(app: &mut App, act: Act) -> Option<Command> {
    let n = app.library.len();
    match act {
        Act::Up => {
            app.lib_sel = App::step(app.lib_sel, n, -1);
            app.lineage = None;
        }
        Act::Down => {
            app.lib_sel = App::step(app.lib_sel, n, 1);
            app.lineage = None;
        }
        Act::Import => {
            return app.input(
                "Import a submodel file (.safetensors)",
                "",
                InputFor::LibraryImport,
            );
        }
        Act::Lineage => {
            let id = app.library.get(app.lib_sel)?.id.clone();
            return Some(Command::Lineage { id });
        }
        Act::Export => {
            let e = app.library.get(app.lib_sel)?;
            let (id, formats) = (e.id.clone(), Format::for_kind(e.meta.spec.kind));
            let title = match e.meta.spec.kind {
                Kind::Lora => format!("Export {id} as"),
                kind => format!(
                    "Export {id} as ({kind}: only attune's file; merged formats need a LoRA submodel)"
                ),
            };
            app.modal = Some(Modal::Choose {
                title,
                options: formats.iter().map(|f| f.describe().to_string()).collect(),
                sel: 0,
                purpose: ChooseFor::ExportFormat { id, formats },
            });
        }
        Act::Delete => {
            let id = app.library.get(app.lib_sel)?.id.clone();
            return app.confirm(
                format!("Delete submodel {id} from the library?"),
                ConfirmFor::RemoveSubmodel { id },
            );
        }
        _ => {}
    }
    None
}
