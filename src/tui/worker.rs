//! Background work for the TUI: each [`Command`] runs on its own thread (one job of a kind at a
//! time) and reports back as [`Msg`]s over a channel; the UI thread never waits on a job. The
//! base model loads once, on first need, and is shared by training and comparison.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::mpsc::UnboundedSender;

use super::app::{Command, TestSet};
use super::jobs;
use crate::library::Entry;
use crate::recognizer::Recognizer;
use crate::train::TrainEvent;
use crate::workflow::Workspace;
use crate::workflow::compare::Report;
use crate::workflow::personalize::Saved;

/// One speaker as the screens show it.
pub type SpeakerRow = crate::workflow::speakers::SpeakerSummary;

/// The home as the screens show it.
pub type Snapshot = crate::workflow::speakers::Summary;

/// The last recorded take, as the Enroll screen shows it (the samples stay in the worker).
#[derive(Debug, Clone, PartialEq)]
pub struct TakeInfo {
    pub seconds: f32,
    pub peak_dbfs: f32,
    /// Peak magnitude (0–1) per bin across the take, for the waveform.
    pub envelope: Vec<f32>,
    pub too_quiet: bool,
    pub clipped: bool,
    pub no_speech: bool,
}

/// What a finished training job produced.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSummary {
    pub saved: Vec<Saved>,
    pub cancelled: bool,
    pub seconds: f64,
}

impl TrainSummary {
    /// `accent-de-v1 0.62 → 0.41, …`
    pub fn describe(&self) -> String {
        let fmt = |w: Option<f64>| w.map_or("n/a".into(), |w| format!("{w:.2}"));
        let parts: Vec<String> = self
            .saved
            .iter()
            .map(|s| format!("{} WER {} → {}", s.submodel, fmt(s.base_wer), fmt(s.wer)))
            .collect();
        format!("{} ({:.0} s)", parts.join(", "), self.seconds)
    }
}

/// A comparison of base and submodel on one speaker's test set.
pub struct CompareData {
    pub speaker: String,
    pub set: TestSet,
    pub submodel: Option<String>,
    pub report: Report,
    /// Audio of each report row, for playback.
    pub paths: Vec<PathBuf>,
}

/// A message from a job to the UI.
#[derive(Debug)]
pub enum Msg {
    Snapshot(Snapshot),
    /// The base loaded (its name) or why not.
    Base(Result<String, String>),
    /// The input device's name, or why recording is off.
    Audio(Result<String, String>),
    ImportProgress {
        speaker: String,
        done: usize,
        skipped: usize,
    },
    ImportDone(Result<String, String>),
    Level {
        peak_dbfs: f32,
        rms_dbfs: f32,
        speaking: bool,
    },
    Take(Result<TakeInfo, String>),
    Stored(Result<String, String>),
    Train(TrainEvent),
    TrainDone(Result<TrainSummary, String>),
    Compare(Result<Box<CompareData>, String>),
    Lineage(Result<Vec<Entry>, String>),
    /// A short operation finished: what it did, or why it failed.
    Done(Result<String, String>),
}

/// Shared by the worker's threads.
pub struct Shared {
    pub ws: Workspace,
    pub tx: UnboundedSender<Msg>,
    recognizer: OnceLock<Result<Arc<Recognizer>, String>>,
    /// The last take's 16 kHz samples.
    pub take: Mutex<Option<Vec<f32>>>,
    busy: Mutex<HashSet<&'static str>>,
}

impl Shared {
    /// Sends a message; a closed channel means the UI is gone, and the job's result with it.
    pub fn send(&self, m: Msg) {
        let _ = self.tx.send(m);
    }

    /// The base, loading it on first use (other callers wait for that load).
    pub fn recognizer(&self) -> Result<Arc<Recognizer>, String> {
        self.recognizer
            .get_or_init(|| {
                self.ws
                    .recognizer(false)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
    }
}

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
            shared: Arc::new(Shared {
                ws,
                tx,
                recognizer: OnceLock::new(),
                take: Mutex::new(None),
                busy: Mutex::new(HashSet::new()),
            }),
            train_cancel: Arc::new(AtomicBool::new(false)),
            record_stop: Arc::new(AtomicBool::new(false)),
        };
        w.spawn("base", |s| {
            let r = s.recognizer().map(|r| r.model.config.name.clone());
            s.send(Msg::Base(r));
        });
        w.spawn("probe", |s| s.send(Msg::Audio(jobs::probe_input())));
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
            Command::Train {
                speakers,
                steps,
                kind,
            } => {
                self.train_cancel.store(false, Ordering::Relaxed);
                let cancel = self.train_cancel.clone();
                let req = jobs::request(&speakers, steps, kind);
                self.spawn("training", move |s| jobs::train(s, &req, false, &cancel));
            }
            Command::CancelTrain => self.train_cancel.store(true, Ordering::Relaxed),
            Command::Compare { speaker, set } => {
                self.spawn("compare", move |s| jobs::compare(s, &speaker, set))
            }
            Command::Lineage { id } => self.spawn("lineage", move |s| {
                let r = crate::library::lineage(&s.ws.home, &id).map_err(|e| e.to_string());
                s.send(Msg::Lineage(r));
            }),
            Command::Export { id, dest } => self.spawn("library", move |s| {
                let r = crate::library::export(&s.ws.home, &id, &dest)
                    .map(|p| format!("exported {id} to {}", p.display()));
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

impl std::fmt::Debug for CompareData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompareData")
            .field("speaker", &self.speaker)
            .field("set", &self.set)
            .field("submodel", &self.submodel)
            .field("rows", &self.report.utterances.len())
            .finish()
    }
}
