//! Error-rate metrics: per-utterance WER/CER counts, corpus-level aggregation and
//! word-level fixed/broken comparison between two systems.
//!
//! Definitions:
//! * Word tokens are the whitespace-separated tokens of the normalised text; character
//!   tokens are the characters of the normalised text with all whitespace removed.
//! * `rate = (sub + del + ins) / reference tokens`. For an **empty reference** the rate
//!   is 0.0 when the hypothesis is empty too, otherwise `errors / max(words, 1)`, i.e.
//!   the number of inserted tokens (never infinity / NaN).
//! * Corpus WER/CER is **total errors / total reference tokens** over all utterances
//!   (the standard micro-average), not the mean of per-utterance rates.

use serde::{Deserialize, Serialize};

use super::align::{AlignedPair, EditOp, align, edit_script};
use super::normalize::Normalizer;

/// Edit counts for one or more aligned sequences (words or characters).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Number of reference tokens (`hits + sub + del`).
    pub words: usize,
    pub sub: usize,
    pub del: usize,
    pub ins: usize,
    pub hits: usize,
}

impl Counts {
    /// Tallies a sequence of edit operations.
    pub fn from_ops(ops: impl IntoIterator<Item = EditOp>) -> Self {
        let mut c = Counts::default();
        for op in ops {
            match op {
                EditOp::Match => c.hits += 1,
                EditOp::Sub => c.sub += 1,
                EditOp::Del => c.del += 1,
                EditOp::Ins => c.ins += 1,
            }
        }
        c.words = c.hits + c.sub + c.del;
        c
    }

    /// `sub + del + ins`.
    pub fn errors(&self) -> usize {
        self.sub + self.del + self.ins
    }

    /// Adds `other` into `self` field by field.
    pub fn add(&mut self, other: &Counts) {
        self.words += other.words;
        self.sub += other.sub;
        self.del += other.del;
        self.ins += other.ins;
        self.hits += other.hits;
    }

    /// Error rate `errors / words`; with no reference tokens: `errors / 1` (0.0 when the
    /// hypothesis is empty too).
    pub fn rate(&self) -> f64 {
        error_rate(self.errors(), self.words)
    }
}

fn error_rate(errors: usize, words: usize) -> f64 {
    errors as f64 / words.max(1) as f64
}

/// Score of one hypothesis against one reference.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct UtteranceScore {
    /// Word-level counts.
    pub words: Counts,
    /// Character-level counts (`chars.words` is the number of reference characters).
    pub chars: Counts,
    /// Word alignment of the normalised texts.
    pub alignment: Vec<AlignedPair>,
}

impl UtteranceScore {
    /// Word error rate of this utterance.
    pub fn wer(&self) -> f64 {
        self.words.rate()
    }

    /// Character error rate of this utterance.
    pub fn cer(&self) -> f64 {
        self.chars.rate()
    }
}

/// Normalises both texts with `norm`, aligns them word by word and character by
/// character, and counts the edits.
pub fn score(reference: &str, hypothesis: &str, norm: &Normalizer) -> UtteranceScore {
    let r = norm.apply(reference);
    let h = norm.apply(hypothesis);
    let rw: Vec<&str> = r.split_whitespace().collect();
    let hw: Vec<&str> = h.split_whitespace().collect();
    let alignment = align(&rw, &hw);
    let words = Counts::from_ops(alignment.iter().map(|p| p.op));
    let rc: Vec<char> = r.chars().filter(|c| !c.is_whitespace()).collect();
    let hc: Vec<char> = h.chars().filter(|c| !c.is_whitespace()).collect();
    let chars = Counts::from_ops(edit_script(&rc, &hc).into_iter().map(|s| s.op));
    UtteranceScore {
        words,
        chars,
        alignment,
    }
}

/// Corpus-level totals (micro-averaged rates).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct CorpusScore {
    /// Total word errors / total reference words.
    pub wer: f64,
    /// Total character errors / total reference characters.
    pub cer: f64,
    /// Total reference words.
    pub words: usize,
    pub sub: usize,
    pub del: usize,
    pub ins: usize,
    /// Total reference characters.
    pub chars: usize,
    pub char_errors: usize,
}

/// Aggregates utterance scores: total errors over total reference tokens (not the mean
/// of per-utterance rates). No utterances gives all zeros.
pub fn corpus<'a>(scores: impl IntoIterator<Item = &'a UtteranceScore>) -> CorpusScore {
    let mut words = Counts::default();
    let mut chars = Counts::default();
    for s in scores {
        words.add(&s.words);
        chars.add(&s.chars);
    }
    CorpusScore {
        wer: words.rate(),
        cer: chars.rate(),
        words: words.words,
        sub: words.sub,
        del: words.del,
        ins: words.ins,
        chars: chars.words,
        char_errors: chars.errors(),
    }
}

/// Reference words whose correctness changed between two systems.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct WordChanges {
    /// Wrong (substituted or deleted) in the base, matched in the submodel.
    pub fixed: Vec<String>,
    /// Matched in the base, wrong (substituted or deleted) in the submodel.
    pub broken: Vec<String>,
}

/// Reference words (in reference order) with whether each was matched.
fn reference_outcomes(alignment: &[AlignedPair]) -> Vec<(&str, bool)> {
    alignment
        .iter()
        .filter_map(|p| p.reference.as_deref().map(|w| (w, p.op == EditOp::Match)))
        .collect()
}

/// Compares two scores of the same utterance reference-word by reference-word (by
/// position, in reference order; a word appears once per occurrence). Insertions do not
/// belong to any reference word and are ignored. If the two alignments do not share the
/// same reference words (different references or normalisers) the result is empty.
pub fn word_changes(base: &UtteranceScore, sub: &UtteranceScore) -> WordChanges {
    let b = reference_outcomes(&base.alignment);
    let s = reference_outcomes(&sub.alignment);
    let mut changes = WordChanges::default();
    if b.len() != s.len() || b.iter().zip(&s).any(|(x, y)| x.0 != y.0) {
        return changes;
    }
    for ((word, base_ok), (_, sub_ok)) in b.into_iter().zip(s) {
        match (base_ok, sub_ok) {
            (false, true) => changes.fixed.push(word.to_owned()),
            (true, false) => changes.broken.push(word.to_owned()),
            _ => {}
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    const EN: Normalizer = Normalizer::english();
    const RAW: Normalizer = Normalizer::none();

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn empty_reference_and_empty_hypothesis() {
        let s = score("", "", &EN);
        assert_eq!(s.words, Counts::default());
        assert_eq!(s.wer(), 0.0);
        assert_eq!(s.cer(), 0.0);
        assert!(s.alignment.is_empty());
        // Punctuation-only text normalises to nothing: still 0.
        assert_eq!(score("...", " ?", &EN).wer(), 0.0);
    }

    #[test]
    fn empty_reference_with_insertions_is_all_insertions() {
        // 0 reference words, 2 inserted: rate = errors / max(0, 1) = 2 / 1 = 2.0.
        let s = score("", "hello world", &EN);
        assert_eq!(
            s.words,
            Counts {
                words: 0,
                sub: 0,
                del: 0,
                ins: 2,
                hits: 0
            }
        );
        assert_eq!(s.wer(), 2.0);
        // "helloworld" = 10 inserted characters over 0 → 10 / 1.
        assert_eq!(s.chars.ins, 10);
        assert_eq!(s.cer(), 10.0);
        assert!(s.alignment.iter().all(|p| p.op == EditOp::Ins));
    }

    #[test]
    fn all_deletions() {
        // 3 reference words, nothing recognised: 3 deletions / 3 = 1.0.
        let s = score("the cat sat", "", &EN);
        assert_eq!(s.words.del, 3);
        assert_eq!(s.words.words, 3);
        assert_eq!(s.wer(), 1.0);
        // "thecatsat" = 9 characters, all deleted.
        assert_eq!((s.chars.words, s.chars.del), (9, 9));
        assert_eq!(s.cer(), 1.0);
    }

    #[test]
    fn insertions_beyond_reference_exceed_one() {
        // ref 1 word matched + 3 insertions: 3 / 1 = 3.0.
        let s = score("yes", "yes yes yes yes", &EN);
        assert_eq!((s.words.hits, s.words.ins), (1, 3));
        assert_eq!(s.wer(), 3.0);
    }

    #[test]
    fn one_substitution_in_four_words() {
        let s = score("the cat sat down", "the bat sat down", &EN);
        assert_eq!(
            s.words,
            Counts {
                words: 4,
                sub: 1,
                del: 0,
                ins: 0,
                hits: 3
            }
        );
        assert!(close(s.wer(), 0.25)); // 1 / 4
        // "thecatsatdown" (13 chars) vs "thebatsatdown": 1 substitution → 1/13.
        assert_eq!(s.chars.words, 13);
        assert!(close(s.cer(), 1.0 / 13.0));
    }

    #[test]
    fn normalisation_removes_case_and_punctuation_errors() {
        assert_eq!(score("Hello, World!", "hello world", &EN).wer(), 0.0);
        // Raw comparison keeps them: "Hello," vs "hello", "World!" vs "world" → 2/2.
        let raw = score("Hello, World!", "hello world", &RAW);
        assert_eq!(raw.words.sub, 2);
        assert_eq!(raw.wer(), 1.0);
        let a = &raw.alignment[0];
        assert_eq!(a.reference.as_deref(), Some("Hello,"));
        assert_eq!(a.hypothesis.as_deref(), Some("hello"));
    }

    #[test]
    fn numbers_compare_equal() {
        assert_eq!(
            score("I have 25 apples", "i have twenty five apples", &EN).wer(),
            0.0
        );
        assert_eq!(
            score("It costs $5.", "it costs five dollars", &EN).wer(),
            0.0
        );
        assert_eq!(score("the 1st of 3", "the first of three", &EN).wer(), 0.0);
        assert_eq!(score("1,000,000", "one million", &EN).wer(), 0.0);
        assert_eq!(
            score("about 3.5%", "about three point five percent", &EN).wer(),
            0.0
        );
        // "25" vs "24" is still one substitution out of 4 words.
        assert!(close(
            score("I have 25 apples", "i have twenty four apples", &EN).wer(),
            0.25
        ));
    }

    #[test]
    fn british_spelling_compares_equal() {
        let s = score(
            "My favourite colour is grey.",
            "my favorite color is gray",
            &EN,
        );
        assert_eq!(s.wer(), 0.0);
        assert_eq!(s.cer(), 0.0);
    }

    #[test]
    fn cer_kitten_sitting() {
        // kitten → sitting: k→s (S), e→i (S), +g (I) = 3 edits over 6 reference chars.
        let s = score("kitten", "sitting", &EN);
        assert_eq!(
            s.chars,
            Counts {
                words: 6,
                sub: 2,
                del: 0,
                ins: 1,
                hits: 4
            }
        );
        assert!(close(s.cer(), 0.5));
        assert_eq!(s.wer(), 1.0); // one word, substituted
    }

    #[test]
    fn cer_ignores_spaces() {
        // Words: [a, b] vs [ab] → 1 Sub + 1 Del = 2/2; characters "ab" vs "ab" → 0.
        let s = score("a b", "ab", &EN);
        assert_eq!(s.wer(), 1.0);
        assert_eq!(s.cer(), 0.0);
    }

    #[test]
    fn corpus_wer_is_not_mean_of_utterance_wers() {
        // Utterance A: 1 word, 1 substitution → WER 1.0.
        // Utterance B: 9 words, all correct → WER 0.0.
        // Mean of utterance WERs = 0.5, corpus WER = 1 error / 10 words = 0.1.
        let a = score("hello", "goodbye", &EN);
        let b = score(
            "one two three four five six seven eight nine",
            "one two three four five six seven eight nine",
            &EN,
        );
        assert_eq!(b.words.words, 9);
        let mean = (a.wer() + b.wer()) / 2.0;
        let c = corpus([&a, &b]);
        assert!(close(mean, 0.5));
        assert!(close(c.wer, 0.1));
        assert_eq!((c.words, c.sub, c.del, c.ins), (10, 1, 0, 0));
    }

    #[test]
    fn corpus_cer_and_totals() {
        // kitten/sitting: 3 char errors over 6; "abcd"/"abcd": 0 over 4 → 3/10 = 0.3.
        // Words: 1 sub over 2 words → 0.5.
        let scores = [score("kitten", "sitting", &EN), score("abcd", "abcd", &EN)];
        let c = corpus(&scores);
        assert_eq!((c.chars, c.char_errors), (10, 3));
        assert!(close(c.cer, 0.3));
        assert!(close(c.wer, 0.5));
    }

    #[test]
    fn corpus_of_nothing_and_of_empty_references() {
        assert_eq!(corpus(&[]), CorpusScore::default());
        // Empty reference with 2 insertions plus a perfect 2-word utterance:
        // 2 errors / 2 words = 1.0.
        let c = corpus(&[score("", "uh oh no", &EN), score("yes sir", "yes sir", &EN)]);
        assert_eq!((c.words, c.ins), (2, 2)); // "uh" is a filler and dropped
        assert!(close(c.wer, 1.0));
    }

    #[test]
    fn counts_add_and_errors() {
        let mut a = Counts {
            words: 4,
            sub: 1,
            del: 1,
            ins: 2,
            hits: 2,
        };
        a.add(&Counts {
            words: 3,
            sub: 0,
            del: 0,
            ins: 1,
            hits: 3,
        });
        assert_eq!(a.errors(), 5);
        assert_eq!(a.words, 7);
        assert!(close(a.rate(), 5.0 / 7.0));
    }

    #[test]
    fn fixed_and_broken_words() {
        let reference = "the quick brown fox jumps";
        // base: brown→brawn (S), jumps deleted (D).
        let base = score(reference, "the quick brawn fox", &EN);
        // submodel: the→a (S), everything else right.
        let sub = score(reference, "a quick brown fox jumps", &EN);
        let ch = word_changes(&base, &sub);
        assert_eq!(ch.fixed, vec!["brown", "jumps"]);
        assert_eq!(ch.broken, vec!["the"]);
        // Same system on both sides: nothing changes.
        assert_eq!(word_changes(&base, &base), WordChanges::default());
    }

    #[test]
    fn fixed_and_broken_are_by_position() {
        // Base misses the 2nd "the", submodel misses the 1st one.
        let base = score("the cat the dog", "the cat a dog", &EN);
        let sub = score("the cat the dog", "a cat the dog", &EN);
        let ch = word_changes(&base, &sub);
        assert_eq!(ch.fixed, vec!["the"]);
        assert_eq!(ch.broken, vec!["the"]);
        // Insertions are not reference words.
        let noisy = score("the cat the dog", "the cat the big dog", &EN);
        assert_eq!(word_changes(&noisy, &base).broken, vec!["the"]);
        assert!(word_changes(&noisy, &base).fixed.is_empty());
    }

    #[test]
    fn word_changes_with_different_references_is_empty() {
        let a = score("one thing", "one thing", &EN);
        let b = score("another thing", "thing", &EN);
        assert_eq!(word_changes(&a, &b), WordChanges::default());
    }

    #[test]
    fn serde_round_trip() {
        let s = score("the cat", "a cat sat", &EN);
        let json = serde_json::to_string(&s).unwrap();
        let back: UtteranceScore = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        let c = serde_json::to_value(corpus([&s])).unwrap();
        assert_eq!(c["words"], 2);
        assert_eq!(c["ins"], 1);
        assert_eq!(c["wer"], 1.0);
    }
}
