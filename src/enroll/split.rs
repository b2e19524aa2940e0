//! Deterministic train / dev / test assignment of enrollment utterances (about 65 / 15 / 20 %).
//!
//! The split depends only on the utterance's text (normalised: lower case, letters and digits), so
//! the same phrase always lands in the same part — for every speaker and however often it is
//! recorded — and adding utterances never moves old ones. **train** gives gradients, **dev**
//! chooses when to stop and which version to keep, **test** is only ever reported: nothing that
//! trains or selects reads it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dataset::Utterance;

/// Percentage of distinct phrases in the test part.
pub const TEST_PERCENT: u64 = 20;
/// Percentage of distinct phrases in the dev part.
pub const DEV_PERCENT: u64 = 15;
/// Fewer test utterances than this make a test WER too noisy to decide from (≈ 50 words: one
/// word is 2 WER points).
pub const MIN_TEST_UTTERANCES: usize = 10;

/// Which part of a speaker's data an utterance belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Dev,
    Test,
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Split::Train => "train",
            Split::Dev => "dev",
            Split::Test => "test",
        })
    }
}

/// The text the split is keyed on: lower case, runs of anything but letters/digits → one space.
fn key(text: &str) -> String {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.join(" ")
}

/// The split of an utterance with transcript `text`.
pub fn split_for(text: &str) -> Split {
    let digest = Sha256::digest(key(text).as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    match u64::from_le_bytes(first) % 100 {
        p if p < TEST_PERCENT => Split::Test,
        p if p < TEST_PERCENT + DEV_PERCENT => Split::Dev,
        _ => Split::Train,
    }
}

/// A speaker's utterances by part, each in its original order.
#[derive(Debug, Clone, Default)]
pub struct Parts {
    pub train: Vec<Utterance>,
    pub dev: Vec<Utterance>,
    pub test: Vec<Utterance>,
}

impl Parts {
    /// How many more utterances to record (at the default script's mix) before the test part
    /// has [`MIN_TEST_UTTERANCES`]; 0 when it has.
    pub fn more_needed(&self) -> usize {
        let missing = MIN_TEST_UTTERANCES.saturating_sub(self.test.len());
        (missing as u64 * 100).div_ceil(TEST_PERCENT) as usize
    }
}

/// Splits utterances into train / dev / test by their text.
pub fn partition(utts: Vec<Utterance>) -> Parts {
    let mut parts = Parts::default();
    for u in utts {
        match split_for(&u.text) {
            Split::Train => parts.train.push(u),
            Split::Dev => parts.dev.push(u),
            Split::Test => parts.test.push(u),
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_phrase_same_split_whatever_the_spelling() {
        assert_eq!(
            split_for("Good morning, how are you?"),
            split_for("  good MORNING how are you ")
        );
    }

    #[test]
    fn the_default_script_splits_about_65_15_20() {
        let prompts = crate::enroll::prompts::default_prompts();
        let share = |part| {
            prompts.iter().filter(|p| split_for(p) == part).count() as f64 / prompts.len() as f64
        };
        assert!(
            (0.12..0.28).contains(&share(Split::Test)),
            "test {}",
            share(Split::Test)
        );
        assert!(
            (0.08..0.22).contains(&share(Split::Dev)),
            "dev {}",
            share(Split::Dev)
        );
        assert!(
            (0.55..0.75).contains(&share(Split::Train)),
            "train {}",
            share(Split::Train)
        );
    }

    #[test]
    fn assignments_never_move() {
        // Pinned: if the rule ever changes, every stored home would silently re-split.
        for (text, part) in [
            ("Good morning, how are you?", Split::Train),
            ("Please open the window.", Split::Train),
            ("Turn the volume down.", Split::Test),
            ("Can I go home?", Split::Test),
            ("Video call my grandchildren.", Split::Test),
            ("Good night, sleep well.", Split::Dev),
        ] {
            assert_eq!(split_for(text), part, "{text}");
        }
    }

    #[test]
    fn one_phrase_never_sits_in_two_parts_and_parts_never_move() {
        // Pinned assignments: if the rule ever changes, stored homes would silently re-split.
        let pinned: Vec<Split> = crate::enroll::prompts::default_prompts()
            .iter()
            .take(12)
            .map(|p| split_for(p))
            .collect();
        let again: Vec<Split> = crate::enroll::prompts::default_prompts()
            .iter()
            .take(12)
            .map(|p| split_for(&format!("  {}!! ", p.to_uppercase())))
            .collect();
        assert_eq!(pinned, again);
        let utt = |text: &str| Utterance {
            id: text.into(),
            audio: "x.wav".into(),
            text: text.into(),
            speaker: None,
        };
        let texts = crate::enroll::prompts::default_prompts();
        let mut twice: Vec<Utterance> = texts.iter().map(|t| utt(t)).collect();
        twice.extend(texts.iter().map(|t| utt(&t.to_lowercase())));
        let parts = partition(twice);
        let keys = |v: &[Utterance]| -> std::collections::HashSet<String> {
            v.iter().map(|u| key(&u.text)).collect()
        };
        let (tr, de, te) = (keys(&parts.train), keys(&parts.dev), keys(&parts.test));
        assert!(tr.is_disjoint(&de) && tr.is_disjoint(&te) && de.is_disjoint(&te));
        assert_eq!(parts.more_needed(), 0);
        assert_eq!(Parts::default().more_needed(), 50);
    }
}
