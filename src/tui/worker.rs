//! Background work for the TUI: each [`Command`] runs on its own thread (one job of a kind at a
//! time) and reports back as [`Msg`]s over a channel; the UI thread never waits on a job. The
//! base model loads once, on first need, and is shared by training and comparison (`shared.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc::UnboundedSender;

use super::jobs;
use super::msg::{Command, Msg};
pub use super::shared::Shared;
use crate::workflow::Workspace;
use crate::workflow::personalize;

/// Runs commands in the background.
pub struct Worker {
    shared: Arc<Shared>,
    train_cancel: Arc<AtomicBool>,
    record_stop: Arc<AtomicBool>,
}

impl Worker {
    /// Starts the worker: loads the base, probes the microphone, reads the home.
    pub fn start(ws: Workspace, tx: UnboundedSender<Msg>) -> Self {
        let w = Self {
            shared: Arc::new(Shared::new(ws, tx)),
            train_cancel: Arc::new(AtomicBool::new(false)),
            record_stop: Arc::new(AtomicBool::new(false)),
        };
        w.spawn("base", |s| {
            let r = s.recognizer().map(|r| r.model.config.name.clone());
            s.send(Msg::Base(r));
        });
        w.spawn("probe", |s| s.send(Msg::Audio(jobs::probe_input())));
        w.spawn("unfinished", |s| {
            s.send(Msg::Unfinished(personalize::unfinished(&s.ws)))
        });
        w.run(Command::Refresh);
        w
    }

    /// Runs `f` on a new thread unless a job of the same `kind` is running.
    fn spawn(&self, kind: &'static str, f: impl FnOnce(&Shared) + Send + 'static) {
        let shared = self.shared.clone();
        if !shared.busy.lock().expect("busy lock").insert(kind) {
            shared.send(Msg::Done(Err(format!(
                "a {kind} job is already running; wait for it to finish"
            ))));
            return;
        }
        let spawned = std::thread::Builder::new()
            .name(format!("attune-{kind}"))
            .spawn(move || {
                f(&shared);
                shared.busy.lock().expect("busy lock").remove(kind);
            });
        if let Err(e) = spawned {
            self.shared.busy.lock().expect("busy lock").remove(kind);
            self.shared
                .send(Msg::Done(Err(format!("cannot start a thread: {e}"))));
        }
    }

    /// Runs a training job (one at a time) with a fresh cancel flag that `CancelTrain` sets.
    fn training(&self, f: impl FnOnce(&Shared, &AtomicBool) + Send + 'static) {
        self.train_cancel.store(false, Ordering::Relaxed);
        let cancel = self.train_cancel.clone();
        self.spawn("training", move |s| f(s, &cancel));
    }

    /// Starts the work a command asks for.
    pub fn run(&self, cmd: Command) {
        match cmd {
            Command::Refresh => self.spawn("refresh", jobs::refresh),
            Command::CreateSpeaker { id } => self.spawn("store", move |s| {
                jobs::then_refresh(s, jobs::create_speaker(s, &id))
            }),
            Command::SetConsent { id, text } => self.spawn("store", move |s| {
                jobs::then_refresh(s, jobs::set_consent(s, &id, &text))
            }),
            Command::DeleteSpeaker { id } => self.spawn("store", move |s| {
                jobs::then_refresh(s, jobs::delete_speaker(s, &id))
            }),
            Command::ImportSamples => self.spawn("import", jobs::import_samples),
            Command::Import { speaker, path } => {
                self.spawn("import", move |s| jobs::import(s, &speaker, &path))
            }
            Command::Record => {
                self.record_stop.store(false, Ordering::Relaxed);
                let stop = self.record_stop.clone();
                self.spawn("recording", move |s| jobs::record(s, &stop));
            }
            Command::StopRecording => self.record_stop.store(true, Ordering::Relaxed),
            Command::PlayTake => self.spawn("playback", jobs::play_take),
            Command::PlayFile { path } => {
                self.spawn("playback", move |s| jobs::play_file(s, &path))
            }
            Command::StoreTake {
                speaker,
                text,
                prompt,
            } => self.spawn("store", move |s| {
                jobs::store_take(s, &speaker, &text, &prompt)
            }),
            Command::Train { request, resume } => {
                self.training(move |s, cancel| jobs::train(s, &request, resume, cancel))
            }
            Command::Curve { speaker, overrides } => {
                self.training(move |s, cancel| jobs::curve(s, &speaker, &overrides, cancel))
            }
            Command::CancelTrain => self.train_cancel.store(true, Ordering::Relaxed),
            Command::DiscardJob { request } => self.spawn("store", move |s| {
                personalize::discard(&s.ws, &request);
                s.send(Msg::Done(Ok(format!(
                    "discarded the interrupted job {}",
                    request.describe()
                ))));
            }),
            Command::Compare { speaker, set } => {
                self.spawn("compare", move |s| jobs::compare(s, &speaker, &set))
            }
            Command::Lineage { id } => self.spawn("lineage", move |s| {
                let r = crate::library::lineage(&s.ws.home, &id).map_err(|e| e.to_string());
                s.send(Msg::Lineage(r));
            }),
            Command::Export { id, dest, format } => self.spawn("library", move |s| {
                let req = crate::workflow::export::Request::new(&id, dest, format);
                let r = crate::workflow::export::export(&s.ws, &req).map(|e| e.summary);
                s.send(Msg::Done(r.map_err(|e| e.to_string())));
            }),
            Command::LibraryImport { path } => self.spawn("library", move |s| {
                jobs::then_refresh(s, jobs::library_import(s, &path))
            }),
            Command::RemoveSubmodel { id } => self.spawn("library", move |s| {
                let r = crate::library::remove(&s.ws.home, &id)
                    .map(|_| format!("removed {id} from the library"));
                jobs::then_refresh(s, r.map_err(|e| e.to_string()))
            }),
        }
    }
}

impl Drop for Worker {
    /// Leaving the TUI stops a recording. A training job is not cancelled: the process ends with
    /// it, its checkpoint stays, and the next start offers to resume it.
    fn drop(&mut self) {
        self.record_stop.store(true, Ordering::Relaxed);
    }
}
