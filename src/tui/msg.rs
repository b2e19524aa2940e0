//! The vocabulary between the TUI's state and its worker: [`Command`]s the state asks for,
//! [`Msg`]s the worker sends back, and the view types those carry. A leaf: it imports nothing
//! else from `tui/`, so state (`app`), reducers (`reduce`), views (`screens`) and the worker all
//! depend on it and never on each other in a cycle.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::library::Entry;
use crate::train::TrainEvent;
use crate::workflow::compare::Report;
use crate::workflow::personalize::{Overrides, Request, Saved};

/// Test set of the Compare screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestSet {
    /// The speaker's test part: never trained on, never used to choose anything.
    Test,
    /// Every stored utterance (optimistic: includes training data).
    All,
    /// Any folder of x.wav + x.txt, NeMo manifest.jsonl or Kaldi dir.
    Path(PathBuf),
}

/// Characters of a path the Compare screen shows before cutting its start.
const PATH_LABEL: usize = 40;

impl TestSet {
    pub fn label(&self) -> String {
        match self {
            TestSet::Test => "test".into(),
            TestSet::All => "all utterances".into(),
            TestSet::Path(p) => {
                let p = p.display().to_string();
                let n = p.chars().count();
                if n <= PATH_LABEL {
                    p
                } else {
                    let tail: String = p.chars().skip(n + 1 - PATH_LABEL).collect();
                    format!("…{tail}")
                }
            }
        }
    }
}

/// Work for the worker (see `worker.rs`); the state never does it itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Refresh,
    CreateSpeaker {
        id: String,
    },
    SetConsent {
        id: String,
        text: String,
    },
    DeleteSpeaker {
        id: String,
    },
    ImportSamples,
    Import {
        speaker: String,
        path: PathBuf,
    },
    Record,
    StopRecording,
    PlayTake,
    StoreTake {
        speaker: String,
        text: String,
        prompt: String,
    },
    PlayFile {
        path: PathBuf,
    },
    /// Runs a training job; `resume` continues an interrupted one from its checkpoint.
    Train {
        request: Request,
        resume: bool,
    },
    /// Trains `speaker`'s enrollment-sufficiency curve (instant, then refined submodels) with
    /// `overrides` for the refines; a training job (one at a time, `CancelTrain` stops it).
    Curve {
        speaker: String,
        overrides: Overrides,
    },
    CancelTrain,
    /// Forgets an interrupted job and its checkpoint.
    DiscardJob {
        request: Request,
    },
    Compare {
        speaker: String,
        set: TestSet,
    },
    Lineage {
        id: String,
    },
    /// Exports a library submodel (merged formats load the base and write tens of MB).
    Export {
        id: String,
        dest: PathBuf,
        format: crate::export::Format,
    },
    LibraryImport {
        path: PathBuf,
    },
    RemoveSubmodel {
        id: String,
    },
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
    /// A curve job starts its job `stage` (from 0) of `stages`, described.
    CurveStage {
        stage: usize,
        stages: usize,
        job: String,
    },
    /// Every speaker's enrollment-sufficiency curve read from the library, by speaker.
    Curves(BTreeMap<String, Vec<CurvePoint>>),
    Compare(Result<Box<CompareData>, String>),
    Lineage(Result<Vec<Entry>, String>),
    /// Jobs interrupted by a quit or a crash, which can resume (read once, at start).
    Unfinished(Vec<Request>),
    /// The home's embedding spaces, by name.
    Spaces(Vec<String>),
    /// A short operation finished: what it did, or why it failed.
    Done(Result<String, String>),
}

/// One speaker as the screens show it.
pub type SpeakerRow = crate::workflow::speakers::SpeakerSummary;

/// The home as the screens show it.
pub type Snapshot = crate::workflow::speakers::Summary;

/// One submodel on a speaker's enrollment-sufficiency curve.
pub type CurvePoint = crate::workflow::sufficiency::Point;

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
    /// `accent-de-v1 test WER 0.62 → 0.41 (17 utt.), better [0.08, 0.36], …`
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .saved
            .iter()
            .map(|s| format!("{} {}", s.submodel, s.describe()))
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
