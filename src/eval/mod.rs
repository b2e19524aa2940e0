//! Scoring of recognizer output against reference transcripts: text normalisation,
//! Levenshtein word/character alignment, WER/CER (per utterance and corpus-level),
//! fixed/broken word comparison between two systems, and sclite-style rendering.
//!
//! Typical use:
//!
//! ```ignore
//! use attune::eval::{Normalizer, score, corpus};
//! let norm = Normalizer::english();
//! let scores: Vec<_> = pairs.iter().map(|(r, h)| score(r, h, &norm)).collect();
//! let total = corpus(&scores); // total.wer = total errors / total reference words
//! ```
//!
//! The normalisation rules are documented in [`normalize`], the alignment tie-breaking
//! rule in [`align`](mod@align), and the metric definitions (including the
//! empty-reference convention) in [`metrics`].

pub mod align;
pub mod metrics;
pub mod normalize;
mod numbers;
pub mod render;
mod spelling;

pub use align::{AlignedPair, EditOp, align};
pub use metrics::{CorpusScore, Counts, UtteranceScore, WordChanges, corpus, score, word_changes};
pub use normalize::Normalizer;
pub use render::render_alignment;
