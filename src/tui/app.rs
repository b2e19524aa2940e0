//! The TUI's one state: what every screen shows and every dialog holds, with small read-only
//! helpers. How it changes lives in `reduce/` (`App::update`); how it looks in `screens/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use ratatui::crossterm::event::KeyEvent;

use super::msg::{CompareData, CurvePoint, Msg, SpeakerRow, TakeInfo, TestSet, TrainSummary};
use crate::library::Entry;
use crate::submodel::Kind;
use crate::workflow::personalize::Request;

/// The five screens, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Speakers,
    Enroll,
    Train,
    Compare,
    Library,
}

impl Screen {
    pub const ALL: [Screen; 5] = [
        Screen::Speakers,
        Screen::Enroll,
        Screen::Train,
        Screen::Compare,
        Screen::Library,
    ];
    pub fn title(self) -> &'static str {
        match self {
            Screen::Speakers => "Speakers",
            Screen::Enroll => "Enroll",
            Screen::Train => "Train",
            Screen::Compare => "Compare",
            Screen::Library => "Library",
        }
    }
    pub fn index(self) -> usize {
        Screen::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
}

/// What the app feeds to [`App::update`].
#[derive(Debug)]
pub enum Action {
    Key(KeyEvent),
    Msg(Box<Msg>),
    /// A few times a second: animations and notice expiry.
    Tick,
    Resize,
}

/// Something that is or is not available, and why.
#[derive(Debug, Clone, PartialEq)]
pub enum Avail {
    Checking,
    Ready(String),
    Missing(String),
}

/// Status lines the history keeps.
pub const HISTORY: usize = 100;

/// The status line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Status {
    pub text: String,
    pub error: bool,
}

/// What a text field is for.
#[derive(Debug, Clone, PartialEq)]
pub enum InputFor {
    NewSpeaker,
    Consent {
        id: String,
    },
    ImportPath {
        speaker: String,
    },
    Said {
        speaker: String,
        prompt: String,
    },
    ExportDest {
        id: String,
        format: crate::export::Format,
    },
    LibraryImport,
    /// The name of a new embedding space over `speakers`.
    SpaceName {
        speakers: Vec<String>,
    },
    /// A folder / manifest / Kaldi dir to score the selected speaker's newest submodel on.
    ComparePath {
        speaker: String,
    },
}

/// What a yes/no question confirms.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfirmFor {
    DeleteSpeaker { id: String },
    RemoveSubmodel { id: String },
    Quit,
}

/// What a choice among options decides.
#[derive(Debug, Clone, PartialEq)]
pub enum ChooseFor {
    /// Which embedding space to fit `speakers` into (the options are the spaces' names).
    FromSpace { speakers: Vec<String> },
    /// What to do with an interrupted job: the options are [`RESUME_OPTIONS`].
    Unfinished { request: Box<Request> },
    /// Which format to export submodel `id` to: the options are `formats`, described.
    ExportFormat {
        id: String,
        formats: Vec<crate::export::Format>,
    },
}

/// The choices offered for an interrupted job, in order: resume, discard, decide later.
pub const RESUME_OPTIONS: [&str; 3] = [
    "resume it from its last checkpoint",
    "discard it (deletes its checkpoint)",
    "decide later (asked again at the next start)",
];

/// A dialog over the screen; it takes every key while open.
#[derive(Debug, Clone, PartialEq)]
pub enum Modal {
    Input {
        title: String,
        value: String,
        purpose: InputFor,
    },
    Confirm {
        question: String,
        purpose: ConfirmFor,
    },
    /// One of a few options (↑↓ moves, Enter picks, Esc cancels).
    Choose {
        title: String,
        options: Vec<String>,
        sel: usize,
        purpose: ChooseFor,
    },
}

/// Enroll screen state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnrollState {
    /// Index into the selected speaker's pending prompts.
    pub prompt: usize,
    pub recording: bool,
    /// Live levels while recording: peak dBFS, rms dBFS, speech heard.
    pub level: Option<(f32, f32, bool)>,
    pub take: Option<TakeInfo>,
    pub import: Option<String>,
}

/// Adapter kinds the Train screen offers, in the order its kind key cycles them. A new option is
/// a field of [`TrainState`], a row of the key map and a field of the Train view's settings; the
/// embedding-space jobs (`e`, `f`) ask for their space in a dialog instead.
pub const TRAIN_KINDS: [Kind; 3] = [Kind::Residual, Kind::Hybrid, Kind::Lora];

/// Train screen state: the job's settings, then the job; `progress` stays after the job ends so
/// the chart remains visible.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainState {
    pub marked: BTreeSet<String>,
    pub steps: u64,
    pub kind: Kind,
    pub running: bool,
    /// The running (or last) job, described (`tremor: residual r32, 30 steps`).
    pub job: Option<String>,
    pub progress: Option<TrainProgress>,
    pub result: Option<Result<TrainSummary, String>>,
    /// Set while the running job is a speaker's enrollment curve (several jobs in a row).
    pub curve: Option<CurveRun>,
}

impl TrainState {
    /// The step budget as a job's override: none while it is the screen kind's recipe budget,
    /// so each job (an embedding space, another kind) then runs its own recipe's.
    pub fn budget(&self) -> Option<u64> {
        Some(self.steps).filter(|s| *s != crate::train::recipe_max_steps(self.kind))
    }
}

/// A running curve job: whose curve, and which of its jobs trains (`stage` of `stages`, counted
/// from 1; 0 of 0 until the first starts).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CurveRun {
    pub speaker: String,
    pub stage: usize,
    pub stages: usize,
}

impl CurveRun {
    /// `curve 2/4`, or `curve` before its first job starts.
    pub fn label(&self) -> String {
        match self.stages {
            0 => "curve".into(),
            n => format!("curve {}/{n}", self.stage),
        }
    }
}

/// A job's progress folded from its events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainProgress {
    pub speakers: Vec<String>,
    /// The checkpoint's step when the job resumed (the bar starts there).
    pub resumed: Option<u64>,
    /// The adapters start from instant submodels (fitted before the first step).
    pub instant_start: bool,
    pub step: u64,
    pub max_steps: u64,
    pub loss: Option<f64>,
    pub elapsed: f64,
    pub eta: Option<f64>,
    pub losses: Vec<(f64, f64)>,
    /// Per speaker: (step, dev WER).
    pub wers: Vec<(String, Vec<(f64, f64)>)>,
    pub stopped: Vec<String>,
}

impl TrainProgress {
    /// The job is fitting its speakers' start in the shipped space: announced, not yet started.
    pub fn fitting_start(&self) -> bool {
        self.instant_start && self.max_steps == 0
    }
}

/// Compare screen state.
#[derive(Debug, Default)]
pub struct CompareState {
    pub set: Option<TestSet>,
    /// The last folder / manifest typed for `f` (offered again).
    pub path: Option<PathBuf>,
    pub running: bool,
    pub data: Option<CompareData>,
    pub row: usize,
    /// Each speaker's enrollment-sufficiency curve, read from the library by the worker.
    pub curves: BTreeMap<String, Vec<CurvePoint>>,
}

/// The whole TUI state.
#[derive(Debug)]
pub struct App {
    pub screen: Screen,
    pub speakers: Vec<SpeakerRow>,
    /// Selected speaker (shared by every screen).
    pub sel: usize,
    pub library: Vec<Entry>,
    pub lib_sel: usize,
    pub lineage: Option<Vec<Entry>>,
    /// The home's embedding spaces (the Train screen's `f` chooses among them).
    pub spaces: Vec<String>,
    /// Interrupted jobs not yet answered; the first is offered when no dialog or job is open.
    pub unfinished: Vec<Request>,
    pub status: Status,
    /// Every status line so far, oldest first (the last [`HISTORY`]); `m` shows them.
    pub history: Vec<Status>,
    pub help: bool,
    /// The message history overlay is open.
    pub messages: bool,
    pub modal: Option<Modal>,
    pub base: Avail,
    pub audio: Avail,
    /// `Some(dir)` when sample speakers can be offered (the folder exists).
    pub samples: bool,
    /// The first snapshot of the home has arrived.
    pub loaded: bool,
    pub importing: bool,
    pub enroll: EnrollState,
    pub train: TrainState,
    pub compare: CompareState,
    /// A finished job's one-line notification, shown on every screen until a key is pressed.
    pub notice: Option<String>,
    pub ticks: u64,
    pub quit: bool,
}

impl App {
    /// A fresh app; `train_steps` is the Train screen's initial step budget.
    pub fn new(samples: bool, train_steps: u64) -> Self {
        Self {
            screen: Screen::Speakers,
            speakers: Vec::new(),
            sel: 0,
            library: Vec::new(),
            lib_sel: 0,
            lineage: None,
            spaces: Vec::new(),
            unfinished: Vec::new(),
            status: Status {
                text: "loading the home…  ? shows the keys".into(),
                error: false,
            },
            history: Vec::new(),
            help: false,
            messages: false,
            modal: None,
            base: Avail::Checking,
            audio: Avail::Checking,
            samples,
            loaded: false,
            importing: false,
            enroll: EnrollState::default(),
            train: TrainState {
                marked: BTreeSet::new(),
                steps: train_steps.max(1),
                kind: crate::train::DEFAULT_KIND,
                running: false,
                job: None,
                progress: None,
                result: None,
                curve: None,
            },
            compare: CompareState::default(),
            notice: None,
            ticks: 0,
            quit: false,
        }
    }

    /// The selected speaker, if any.
    pub fn speaker(&self) -> Option<&SpeakerRow> {
        self.speakers.get(self.sel)
    }

    /// Any background job that quitting would interrupt.
    pub fn busy(&self) -> bool {
        self.train.running || self.importing || self.enroll.recording || self.compare.running
    }

    /// Sets the status line and keeps it in the history.
    pub fn info(&mut self, text: impl Into<String>) {
        self.say(text.into(), false);
    }

    /// Sets the status line to an error and keeps it in the history.
    pub fn error(&mut self, text: impl Into<String>) {
        self.say(text.into(), true);
    }

    /// Sets the status line without adding to the history (progress that repeats).
    pub fn progress(&mut self, text: impl Into<String>) {
        self.status = Status {
            text: text.into(),
            error: false,
        };
    }

    fn say(&mut self, text: String, error: bool) {
        self.status = Status { text, error };
        if self.history.last() != Some(&self.status) {
            if self.history.len() == HISTORY {
                self.history.remove(0);
            }
            self.history.push(self.status.clone());
        }
    }

    /// The prompt being recorded on the Enroll screen, if any.
    pub fn prompt(&self) -> Option<&str> {
        let s = self.speaker()?;
        s.pending
            .get(self.enroll.prompt.min(s.pending.len().saturating_sub(1)))
            .map(String::as_str)
    }

    /// The embedding spaces a fit can use: the shipped one first, then the home's.
    pub fn fit_spaces(&self) -> Vec<String> {
        std::iter::once(crate::workflow::spaces::SHIPPED_NAME.to_string())
            .chain(self.spaces.iter().cloned())
            .collect()
    }

    /// The Compare screen's test set.
    pub fn test_set(&self) -> TestSet {
        self.compare.set.clone().unwrap_or(TestSet::Test)
    }

    /// Moves a selection index by `delta` within `len` items.
    pub fn step(index: usize, len: usize, delta: isize) -> usize {
        if len == 0 {
            return 0;
        }
        (index as isize + delta).clamp(0, len as isize - 1) as usize
    }
}
