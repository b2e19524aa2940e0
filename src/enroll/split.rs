//! Deterministic train / held-out assignment of enrollment utterances (~20 % held out).
//!
//! The split depends only on the utterance's text (normalised: lower case, letters and digits), so
//! the same phrase always lands in the same split — for every speaker and however often it is
//! recorded. Held-out WER is therefore measured on phrases the submodel never trained on, and
//! adding utterances never moves old ones.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Percentage of distinct phrases held out for evaluation.
pub const HELDOUT_PERCENT: u64 = 20;

/// Which part of a speaker's data an utterance belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Heldout,
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Split::Train => "train",
            Split::Heldout => "heldout",
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
    if u64::from_le_bytes(first) % 100 < HELDOUT_PERCENT {
        Split::Heldout
    } else {
        Split::Train
    }
}

/// Splits utterances into `(train, heldout)` by their text, keeping their order.
pub fn partition(
    utts: Vec<crate::dataset::Utterance>,
) -> (
    Vec<crate::dataset::Utterance>,
    Vec<crate::dataset::Utterance>,
) {
    utts.into_iter()
        .partition(|u| split_for(&u.text) == Split::Train)
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
    fn about_a_fifth_of_the_default_script_is_held_out() {
        let prompts = crate::enroll::prompts::default_prompts();
        let held = prompts
            .iter()
            .filter(|p| split_for(p) == Split::Heldout)
            .count();
        let share = held as f64 / prompts.len() as f64;
        assert!((0.12..0.28).contains(&share), "held-out share {share}");
    }
}
