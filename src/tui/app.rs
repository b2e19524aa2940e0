//! The TUI's one state and its pure update: key presses and worker messages go in, the state
//! changes and at most one [`Command`] for the worker comes out. No I/O, no terminal, no tensors.

use std::collections::BTreeSet;
use std::path::PathBuf;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::screens;
use super::worker::{CompareData, Msg, Snapshot, SpeakerRow, TakeInfo, TrainSummary};
use crate::library::Entry;
use crate::submodel::Kind;
use crate::train::TrainEvent;

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
    fn index(self) -> usize {
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

/// Test set of the Compare screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestSet {
    Heldout,
    All,
}

impl TestSet {
    pub fn label(self) -> &'static str {
        match self {
            TestSet::Heldout => "held-out",
            TestSet::All => "all utterances",
        }
    }
}

/// Work for the worker (see `worker.rs`); the app never does it itself.
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
    Train {
        speakers: Vec<String>,
        steps: u64,
        kind: Kind,
    },
    CancelTrain,
    Compare {
        speaker: String,
        set: TestSet,
    },
    Lineage {
        id: String,
    },
    Export {
        id: String,
        dest: PathBuf,
    },
    LibraryImport {
        path: PathBuf,
    },
    RemoveSubmodel {
        id: String,
    },
}

/// Something that is or is not available, and why.
#[derive(Debug, Clone, PartialEq)]
pub enum Avail {
    Checking,
    Ready(String),
    Missing(String),
}

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
    Consent { id: String },
    ImportPath { speaker: String },
    Said { speaker: String, prompt: String },
    ExportDest { id: String },
    LibraryImport,
}

/// What a yes/no question confirms.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfirmFor {
    DeleteSpeaker { id: String },
    RemoveSubmodel { id: String },
    Quit,
}

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

/// Train screen state; `progress` stays after the job ends so the chart remains visible.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainState {
    pub marked: BTreeSet<String>,
    pub steps: u64,
    pub kind: Kind,
    pub running: bool,
    pub progress: Option<TrainProgress>,
    pub result: Option<Result<TrainSummary, String>>,
}

/// A job's progress folded from its events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainProgress {
    pub speakers: Vec<String>,
    pub step: u64,
    pub max_steps: u64,
    pub loss: Option<f64>,
    pub elapsed: f64,
    pub eta: Option<f64>,
    pub losses: Vec<(f64, f64)>,
    /// Per speaker: (step, held-out WER).
    pub wers: Vec<(String, Vec<(f64, f64)>)>,
    pub stopped: Vec<String>,
}

impl TrainProgress {
    /// Folds one training event in.
    pub fn reduce(&mut self, e: &TrainEvent) {
        match e {
            TrainEvent::Started {
                speakers,
                max_steps,
                ..
            } => {
                self.speakers = speakers.clone();
                self.max_steps = *max_steps;
            }
            TrainEvent::Resumed { step } => self.step = *step,
            TrainEvent::Step {
                step,
                loss,
                elapsed,
                eta,
                ..
            } => {
                self.step = *step;
                self.loss = Some(*loss);
                self.elapsed = *elapsed;
                self.eta = Some(*eta);
                self.losses.push((*step as f64, *loss));
            }
            TrainEvent::Eval {
                step, speaker, wer, ..
            } => {
                let pos = self.wers.iter().position(|(s, _)| s == speaker);
                let i = pos.unwrap_or_else(|| {
                    self.wers.push((speaker.clone(), Vec::new()));
                    self.wers.len() - 1
                });
                self.wers[i].1.push((*step as f64, *wer));
            }
            TrainEvent::SpeakerStopped { speaker, .. } => self.stopped.push(speaker.clone()),
        }
    }
}

/// Compare screen state.
#[derive(Debug, Default)]
pub struct CompareState {
    pub set: Option<TestSet>,
    pub running: bool,
    pub data: Option<CompareData>,
    pub row: usize,
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
    pub status: Status,
    pub help: bool,
    pub modal: Option<Modal>,
    pub base: Avail,
    pub audio: Avail,
    /// `Some(dir)` when sample speakers can be offered (the folder exists).
    pub samples: Option<PathBuf>,
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
    pub fn new(samples: Option<PathBuf>, train_steps: u64) -> Self {
        Self {
            screen: Screen::Speakers,
            speakers: Vec::new(),
            sel: 0,
            library: Vec::new(),
            lib_sel: 0,
            lineage: None,
            status: Status {
                text: "loading the home…  ? shows the keys".into(),
                error: false,
            },
            help: false,
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
                kind: Kind::Residual,
                running: false,
                progress: None,
                result: None,
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

    pub fn info(&mut self, text: impl Into<String>) {
        self.status = Status {
            text: text.into(),
            error: false,
        };
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.status = Status {
            text: text.into(),
            error: true,
        };
    }

    /// The one entry point: folds an action into the state.
    pub fn update(&mut self, action: Action) -> Option<Command> {
        match action {
            Action::Tick => {
                self.ticks += 1;
                None
            }
            Action::Resize => None,
            Action::Msg(m) => super::reduce::reduce(self, *m),
            Action::Key(k) if k.kind == KeyEventKind::Release => None,
            Action::Key(k) => self.on_key(k),
        }
    }

    fn on_key(&mut self, k: KeyEvent) -> Option<Command> {
        self.notice = None;
        if k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c') {
            return self.ask_quit();
        }
        if self.modal.is_some() {
            return super::modal::on_key(self, k);
        }
        if self.help {
            self.help = false;
            return None;
        }
        match k.code {
            KeyCode::Char('?') => {
                self.help = true;
                None
            }
            KeyCode::Char('q') => self.ask_quit(),
            KeyCode::Tab => self.go(Screen::ALL[(self.screen.index() + 1) % 5]),
            KeyCode::BackTab => self.go(Screen::ALL[(self.screen.index() + 4) % 5]),
            KeyCode::Char(c @ '1'..='5') => self.go(Screen::ALL[c as usize - '1' as usize]),
            _ => match self.screen {
                Screen::Speakers => screens::speakers::on_key(self, k),
                Screen::Enroll => screens::enroll::on_key(self, k),
                Screen::Train => screens::train::on_key(self, k),
                Screen::Compare => screens::compare::on_key(self, k),
                Screen::Library => screens::library::on_key(self, k),
            },
        }
    }

    fn go(&mut self, s: Screen) -> Option<Command> {
        self.screen = s;
        None
    }

    fn ask_quit(&mut self) -> Option<Command> {
        if self.busy() {
            self.modal = Some(Modal::Confirm {
                question: "A job is running. Quit anyway (it will be cancelled)?".into(),
                purpose: ConfirmFor::Quit,
            });
        } else {
            self.quit = true;
        }
        None
    }

    /// Moves a selection index by `delta` within `len` items.
    pub fn step(index: usize, len: usize, delta: isize) -> usize {
        if len == 0 {
            return 0;
        }
        (index as isize + delta).clamp(0, len as isize - 1) as usize
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

    /// Applies a new snapshot of the home, keeping selections on the same ids.
    pub fn apply_snapshot(&mut self, s: Snapshot) {
        let keep = self.speaker().map(|r| r.id.clone());
        let keep_lib = self.library.get(self.lib_sel).map(|e| e.id.clone());
        self.speakers = s.speakers;
        self.library = s.library;
        self.sel = keep
            .and_then(|id| self.speakers.iter().position(|r| r.id == id))
            .unwrap_or(self.sel.min(self.speakers.len().saturating_sub(1)));
        self.lib_sel = keep_lib
            .and_then(|id| self.library.iter().position(|e| e.id == id))
            .unwrap_or(self.lib_sel.min(self.library.len().saturating_sub(1)));
        let ids: BTreeSet<String> = self.speakers.iter().map(|r| r.id.clone()).collect();
        self.train.marked.retain(|m| ids.contains(m));
        if let Some(p) = s.problems.first() {
            self.error(p.clone());
        } else if !self.loaded {
            self.info(if self.speakers.is_empty() {
                "no speakers yet  ? shows the keys"
            } else {
                "ready  ? shows the keys, 1-5 or Tab switch screens, q quits"
            });
        }
        self.loaded = true;
    }
}
