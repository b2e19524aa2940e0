//! The key help: global keys and each screen's keys, shown by `?` as an overlay.

use super::app::Screen;

/// Keys that work on every screen.
pub const GLOBAL: &[(&str, &str)] = &[
    ("1-5 Tab S-Tab", "switch screens"),
    ("?", "this help (any key closes it)"),
    ("q  Ctrl-C", "quit (asks while a job runs)"),
    ("Esc", "close a dialog"),
];

/// One screen's keys.
pub fn keys(screen: Screen) -> &'static [(&'static str, &'static str)] {
    match screen {
        Screen::Speakers => &[
            ("↑↓ j k", "select a speaker"),
            ("n", "new speaker"),
            ("c", "consent note"),
            ("d", "delete (asks first)"),
            ("i", "import a folder / manifest / Kaldi dir"),
            ("a", "add the sample speakers"),
            ("Enter", "enroll the speaker"),
        ],
        Screen::Enroll => &[
            ("← →", "change speaker"),
            ("r  Space", "record / stop (re-record)"),
            ("p", "play the take back"),
            ("Enter", "keep the take as the prompt"),
            ("e", "keep, editing what was actually said"),
            ("s  b", "skip to the next / back to the previous prompt"),
            ("i", "import from a path (no microphone needed)"),
        ],
        Screen::Train => &[
            ("↑↓ j k", "select a speaker"),
            ("Space", "mark / unmark for a multi-speaker job"),
            ("Enter  t", "start training the marked (or selected)"),
            ("c", "cancel the running job"),
            ("+ -", "more / fewer steps"),
            ("a", "adapter kind: residual / LoRA"),
        ],
        Screen::Compare => &[
            ("← →", "change speaker"),
            ("Enter", "score base vs newest submodel"),
            ("s", "test set: held-out / all"),
            ("↑↓ j k", "select an utterance"),
            ("p", "play the utterance"),
        ],
        Screen::Library => &[
            ("↑↓ j k", "select a submodel"),
            ("Enter  l", "inspect lineage"),
            ("x", "export to a file"),
            ("i", "import a submodel file"),
            ("d", "delete (asks first)"),
        ],
    }
}
