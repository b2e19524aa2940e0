//! The one key map: a static table of (scope, keys, action, help text). Key handling looks the
//! pressed key up here (`lookup`) and the `?` help and the dialogs' hint lines render from the
//! same rows, so a key cannot work without being listed, nor be listed without working.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::Screen;

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Works even in a dialog or over the help.
    Always,
    /// Every screen, when no dialog is open.
    Global,
    Screen(Screen),
    /// A one-line text field (other printable keys type).
    Input,
    /// A yes/no question.
    Confirm,
    /// A choice among a few options.
    Choose,
}

/// What a key does; the reducer (`reduce/`) gives each its meaning in its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Quit,
    Help,
    Messages,
    GoTo(Screen),
    NextScreen,
    PrevScreen,
    /// Move a list selection.
    Up,
    Down,
    /// Change the speaker on screens without a speaker list.
    PrevSpeaker,
    NextSpeaker,
    NewSpeaker,
    Consent,
    Delete,
    Import,
    AddSamples,
    Open,
    Record,
    Play,
    Keep,
    KeepEdited,
    NextPrompt,
    PrevPrompt,
    Mark,
    Start,
    Cancel,
    MoreSteps,
    FewerSteps,
    Kind,
    /// Train an embedding space from the marked speakers.
    TrainSpace,
    /// Fit speakers into an existing embedding space.
    FromSpace,
    /// Fit the speaker into the shipped space at once (an instant submodel).
    Instant,
    /// Compute the speaker's enrollment-sufficiency curve.
    Curve,
    Score,
    /// Score on a folder / manifest / Kaldi dir.
    ScorePath,
    TestSet,
    Lineage,
    Export,
    // Dialogs.
    Submit,
    Dismiss,
    Erase,
    Yes,
    No,
}

/// A key: a code, and whether Ctrl must be held. Keys without Ctrl match whatever the modifiers
/// (terminals report Shift for `?`, `+` or capitals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

const fn k(code: KeyCode) -> Key {
    Key { code, ctrl: false }
}
const fn c(ch: char) -> Key {
    k(KeyCode::Char(ch))
}
const UP: Key = k(KeyCode::Up);
const DOWN: Key = k(KeyCode::Down);
const LEFT: Key = k(KeyCode::Left);
const RIGHT: Key = k(KeyCode::Right);
const ENTER: Key = k(KeyCode::Enter);
const ESC: Key = k(KeyCode::Esc);
const SPACE: Key = c(' ');

/// One row of the table and of the help: its keys, each with its action, and what they do.
#[derive(Debug)]
pub struct Binding {
    pub scope: Scope,
    pub keys: &'static [(Key, Act)],
    pub help: &'static str,
}

const fn row(scope: Scope, keys: &'static [(Key, Act)], help: &'static str) -> Binding {
    Binding { scope, keys, help }
}

use Act as A;
use Scope::Screen as S;
use Screen as Sc;

/// Every key the TUI answers. Order is the help's order; within a scope a key appears once.
pub static KEYMAP: &[Binding] = &[
    row(
        Scope::Global,
        &[
            (c('1'), A::GoTo(Sc::Speakers)),
            (c('2'), A::GoTo(Sc::Enroll)),
            (c('3'), A::GoTo(Sc::Train)),
            (c('4'), A::GoTo(Sc::Compare)),
            (c('5'), A::GoTo(Sc::Library)),
            (k(KeyCode::Tab), A::NextScreen),
            (k(KeyCode::BackTab), A::PrevScreen),
        ],
        "switch screens",
    ),
    row(
        Scope::Global,
        &[(c('?'), A::Help)],
        "this help (any key closes it)",
    ),
    row(
        Scope::Global,
        &[(c('m'), A::Messages)],
        "recent messages, in full",
    ),
    row(
        Scope::Global,
        &[(c('q'), A::Quit)],
        "quit (asks while a job runs)",
    ),
    row(
        Scope::Always,
        &[(
            Key {
                code: KeyCode::Char('c'),
                ctrl: true,
            },
            A::Quit,
        )],
        "quit, also from a dialog",
    ),
    // Speakers
    row(
        S(Sc::Speakers),
        &[
            (UP, A::Up),
            (DOWN, A::Down),
            (c('j'), A::Down),
            (c('k'), A::Up),
        ],
        "select a speaker",
    ),
    row(S(Sc::Speakers), &[(c('n'), A::NewSpeaker)], "new speaker"),
    row(S(Sc::Speakers), &[(c('c'), A::Consent)], "consent note"),
    row(
        S(Sc::Speakers),
        &[(c('d'), A::Delete)],
        "delete (asks first)",
    ),
    row(
        S(Sc::Speakers),
        &[(c('i'), A::Import)],
        "import a folder / manifest / Kaldi dir",
    ),
    row(
        S(Sc::Speakers),
        &[(c('a'), A::AddSamples)],
        "add the sample speakers",
    ),
    row(S(Sc::Speakers), &[(ENTER, A::Open)], "enroll the speaker"),
    // Enroll
    row(
        S(Sc::Enroll),
        &[(LEFT, A::PrevSpeaker), (RIGHT, A::NextSpeaker)],
        "change speaker",
    ),
    row(
        S(Sc::Enroll),
        &[(c('r'), A::Record), (SPACE, A::Record)],
        "record / stop (re-record)",
    ),
    row(S(Sc::Enroll), &[(c('p'), A::Play)], "play the take back"),
    row(
        S(Sc::Enroll),
        &[(ENTER, A::Keep)],
        "keep the take as the prompt",
    ),
    row(
        S(Sc::Enroll),
        &[(c('e'), A::KeepEdited)],
        "keep, editing what was actually said",
    ),
    row(
        S(Sc::Enroll),
        &[(c('s'), A::NextPrompt), (c('b'), A::PrevPrompt)],
        "skip to the next / back to the previous prompt",
    ),
    row(
        S(Sc::Enroll),
        &[(c('i'), A::Import)],
        "import from a path (no microphone needed)",
    ),
    row(
        S(Sc::Enroll),
        &[(c('f'), A::Instant)],
        "instant submodel: fit into the shipped space",
    ),
    // Train
    row(
        S(Sc::Train),
        &[
            (UP, A::Up),
            (DOWN, A::Down),
            (c('j'), A::Down),
            (c('k'), A::Up),
        ],
        "select a speaker",
    ),
    row(
        S(Sc::Train),
        &[(SPACE, A::Mark)],
        "mark / unmark for a multi-speaker job",
    ),
    row(
        S(Sc::Train),
        &[(ENTER, A::Start), (c('t'), A::Start)],
        "start training the marked (or selected)",
    ),
    row(
        S(Sc::Train),
        &[(c('c'), A::Cancel)],
        "cancel the running job",
    ),
    row(
        S(Sc::Train),
        &[
            (c('+'), A::MoreSteps),
            (c('='), A::MoreSteps),
            (c('-'), A::FewerSteps),
        ],
        "more / fewer steps",
    ),
    row(
        S(Sc::Train),
        &[(c('a'), A::Kind)],
        "adapter kind: residual / hybrid / LoRA",
    ),
    row(
        S(Sc::Train),
        &[(c('e'), A::TrainSpace)],
        "new embedding space from the marked speakers",
    ),
    row(
        S(Sc::Train),
        &[(c('f'), A::FromSpace)],
        "fit marked / selected into a space (little data)",
    ),
    // Compare
    row(
        S(Sc::Compare),
        &[(LEFT, A::PrevSpeaker), (RIGHT, A::NextSpeaker)],
        "change speaker",
    ),
    row(
        S(Sc::Compare),
        &[(ENTER, A::Score)],
        "score base vs newest submodel",
    ),
    row(
        S(Sc::Compare),
        &[(c('s'), A::TestSet)],
        "test set: test part / all",
    ),
    row(
        S(Sc::Compare),
        &[(c('f'), A::ScorePath)],
        "score on a folder / manifest / Kaldi dir",
    ),
    row(
        S(Sc::Compare),
        &[
            (UP, A::Up),
            (DOWN, A::Down),
            (c('j'), A::Down),
            (c('k'), A::Up),
        ],
        "select an utterance",
    ),
    row(S(Sc::Compare), &[(c('p'), A::Play)], "play the utterance"),
    row(
        S(Sc::Compare),
        &[(c('u'), A::Curve)],
        "compute the enrollment curve (minutes)",
    ),
    row(
        S(Sc::Compare),
        &[(c('c'), A::Cancel)],
        "cancel the running job",
    ),
    // Library
    row(
        S(Sc::Library),
        &[
            (UP, A::Up),
            (DOWN, A::Down),
            (c('j'), A::Down),
            (c('k'), A::Up),
        ],
        "select a submodel",
    ),
    row(
        S(Sc::Library),
        &[(ENTER, A::Lineage), (c('l'), A::Lineage)],
        "inspect lineage",
    ),
    row(
        S(Sc::Library),
        &[(c('x'), A::Export)],
        "export (file, PEFT, or merged for faster-whisper / whisper.cpp / HF)",
    ),
    row(
        S(Sc::Library),
        &[(c('i'), A::Import)],
        "import a submodel file",
    ),
    row(
        S(Sc::Library),
        &[(c('d'), A::Delete)],
        "delete (asks first)",
    ),
    // Dialogs
    row(Scope::Input, &[(ENTER, A::Submit)], "OK"),
    row(Scope::Input, &[(ESC, A::Dismiss)], "cancel"),
    row(
        Scope::Input,
        &[(k(KeyCode::Backspace), A::Erase)],
        "delete a character",
    ),
    row(Scope::Confirm, &[(c('y'), A::Yes), (c('Y'), A::Yes)], "yes"),
    row(
        Scope::Confirm,
        &[(c('n'), A::No), (c('N'), A::No), (ESC, A::No)],
        "no",
    ),
    row(
        Scope::Choose,
        &[
            (UP, A::Up),
            (DOWN, A::Down),
            (c('j'), A::Down),
            (c('k'), A::Up),
        ],
        "move",
    ),
    row(Scope::Choose, &[(ENTER, A::Submit)], "choose"),
    row(Scope::Choose, &[(ESC, A::Dismiss)], "cancel"),
];

impl Key {
    /// Whether a pressed key is this key.
    pub fn matches(&self, e: &KeyEvent) -> bool {
        e.code == self.code && (!self.ctrl || e.modifiers.contains(KeyModifiers::CONTROL))
    }

    /// The key's name in the help.
    pub fn name(&self) -> String {
        let base = match self.code {
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "S-Tab".into(),
            KeyCode::Backspace => "Backspace".into(),
            KeyCode::Char(' ') => "Space".into(),
            KeyCode::Char(ch) => ch.to_string(),
            other => format!("{other:?}"),
        };
        if self.ctrl {
            format!("Ctrl-{}", base.to_uppercase())
        } else {
            base
        }
    }
}

impl Binding {
    /// The keys as the help lists them: `↑↓ j k`, `1-5 Tab S-Tab`, `y`. Runs of three or more
    /// consecutive digits read as a range, `↑↓` as one word, and a capital whose small letter is
    /// in the same row is left out (dialog letters take either case).
    pub fn label(&self) -> String {
        let keys: Vec<Key> = self.keys.iter().map(|(key, _)| *key).collect();
        let mut words: Vec<String> = Vec::new();
        let mut i = 0;
        while i < keys.len() {
            let digit = |j: usize| match keys.get(j).map(|key| key.code) {
                Some(KeyCode::Char(d)) if d.is_ascii_digit() && !keys[j].ctrl => Some(d),
                _ => None,
            };
            let mut j = i;
            while let (Some(a), Some(b)) = (digit(j), digit(j + 1)) {
                if b as u32 != a as u32 + 1 {
                    break;
                }
                j += 1;
            }
            if j >= i + 2 {
                words.push(format!(
                    "{}-{}",
                    digit(i).unwrap_or('?'),
                    digit(j).unwrap_or('?')
                ));
                i = j + 1;
                continue;
            }
            let key = keys[i];
            let twin = match key.code {
                KeyCode::Char(ch) if ch.is_ascii_uppercase() => {
                    keys.contains(&c(ch.to_ascii_lowercase()))
                }
                _ => false,
            };
            if key == DOWN && words.last().is_some_and(|w| w == "↑") {
                if let Some(w) = words.last_mut() {
                    w.push('↓');
                }
            } else if !twin {
                words.push(key.name());
            }
            i += 1;
        }
        words.join(" ")
    }
}

/// The action of a pressed key in `scope`, if it has one.
pub fn lookup(scope: Scope, e: &KeyEvent) -> Option<Act> {
    KEYMAP
        .iter()
        .filter(|b| b.scope == scope)
        .flat_map(|b| b.keys.iter())
        .find(|(key, _)| key.matches(e))
        .map(|(_, act)| *act)
}

/// The rows of one scope, in help order.
pub fn rows(scope: Scope) -> impl Iterator<Item = &'static Binding> {
    KEYMAP.iter().filter(move |b| b.scope == scope)
}

/// A dialog's hint line from its rows: `Enter: OK   Esc: cancel   …`.
pub fn hint(scope: Scope) -> String {
    rows(scope)
        .map(|b| format!("{}: {}", b.label(), b.help))
        .collect::<Vec<_>>()
        .join("   ")
}
