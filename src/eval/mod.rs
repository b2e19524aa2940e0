//! Scoring of recognizer output against reference transcripts: text normalisation,
//! Levenshtein word/character alignment, WER/CER (per utterance and corpus-level),
//! fixed/broken word comparison between two systems, a paired bootstrap interval of the
//! WER difference between two systems, and sclite-style rendering.
//!
//! Typical use:
//!
//! ```
//! use attune::eval::{Normalizer, corpus, score};
//! let norm = Normalizer::english();
//! let pairs = [("Turn on the light.", "turn on the lights"), ("Good morning", "good morning")];
//! let scores: Vec<_> = pairs.iter().map(|(r, h)| score(r, h, &norm)).collect();
//! let total = corpus(&scores); // total errors / total reference words
//! assert_eq!((total.sub, total.words), (1, 6));
//! assert!((total.wer - 1.0 / 6.0).abs() < 1e-12);
//! ```
//!
//! The normalisation rules are documented in [`normalize`], the alignment tie-breaking
//! rule in [`align`](mod@align), and the metric definitions (including the
//! empty-reference convention) in [`metrics`].

pub mod align;
pub mod bootstrap;
pub mod metrics;
pub mod normalize;
mod numbers;
pub mod render;
mod spelling;

pub use align::{AlignedPair, EditOp, align};
pub use bootstrap::{BootstrapConfig, PairedBootstrap, PairedErrors, Verdict, paired_bootstrap};
pub use metrics::{CorpusScore, Counts, UtteranceScore, WordChanges, corpus, score, word_changes};
pub use normalize::Normalizer;
pub use render::render_alignment;
