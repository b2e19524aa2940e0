//! The no-speech rule of the decoder (Whisper's reference rule): a segment whose `<|nospeech|>`
//! probability is high and whose decoded tokens are improbable is silence or noise, not speech,
//! and yields no text; digital silence is recognized without running the model.
//!
//! As in OpenAI's `transcribe.py` with its defaults (`no_speech_threshold = 0.6`,
//! `logprob_threshold = -1.0`):
//!
//! * `no_speech_prob` is the softmax over the **whole** vocabulary (before any suppression) of
//!   the logits predicted at the `<|startoftranscript|>` position of the prompt, read at
//!   `<|nospeech|>` (id 50361 in tiny.en, spelled `<|nocaptions|>` in its vocabulary);
//! * `avg_logprob` is the sum of the log-probabilities (log-softmax over the logits *after*
//!   suppression, as the greedy decoder sees them) of the kept tokens plus the closing
//!   `<|endoftext|>` when there is one, divided by `kept tokens + 1`;
//! * a segment is no speech when `no_speech_prob > 0.6` **and** `avg_logprob < -1.0`.
//!
//! One addition ([`is_wordless_no_speech`]): a segment with `no_speech_prob > 0.6` whose text has
//! no letter or digit is no speech too, whatever its `avg_logprob` — there is no word to lose.
//! Measured: a 0.1 s 220 Hz tone decodes as "." with `no_speech_prob` 0.97 and `avg_logprob`
//! −0.90, just inside the reference's limit. The recognizer applies it (it needs the text).
//!
//! The reference's further fallbacks (temperature fallback on a high compression ratio or a low
//! `avg_logprob`) are not used: decoding is greedy only.

/// `no_speech_prob` above this (and a low `avg_logprob`) makes a segment no speech.
pub const NO_SPEECH_THRESHOLD: f32 = 0.6;
/// `avg_logprob` below this (and a high `no_speech_prob`) makes a segment no speech.
pub const LOGPROB_THRESHOLD: f32 = -1.0;
/// Audio whose RMS is below this (−80 dBFS, a few 16-bit steps) is digital silence: no speech,
/// whatever the model would say (Whisper says "you").
pub const DIGITAL_SILENCE_RMS: f32 = 1e-4;

/// Whisper's rule on one segment's evidence; `None` (no no-speech token) never says no speech.
pub fn is_no_speech(no_speech_prob: Option<f32>, avg_logprob: f32) -> bool {
    no_speech_prob.is_some_and(|p| p > NO_SPEECH_THRESHOLD) && avg_logprob < LOGPROB_THRESHOLD
}

/// The addition to the reference rule: a likely no-speech segment whose `text` has no word
/// character (only punctuation or nothing).
pub fn is_wordless_no_speech(no_speech_prob: Option<f32>, text: &str) -> bool {
    no_speech_prob.is_some_and(|p| p > NO_SPEECH_THRESHOLD)
        && !text.chars().any(char::is_alphanumeric)
}

/// True for empty audio or audio whose RMS is below [`DIGITAL_SILENCE_RMS`].
pub fn is_digital_silence(samples: &[f32]) -> bool {
    if samples.is_empty() {
        return true;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    ((sum / samples.len() as f64).sqrt() as f32) < DIGITAL_SILENCE_RMS
}

/// Softmax probability of entry `index` of `logits` (numerically stable, over all entries).
pub fn softmax_at(logits: &[f32], index: usize) -> f32 {
    log_softmax_at(logits.iter().copied(), logits[index]).exp()
}

/// `log_softmax(logits)[i]` given the iterator of all logits and the value at `i`; entries of
/// −∞ (suppressed) contribute nothing.
pub fn log_softmax_at(logits: impl Iterator<Item = f32> + Clone, value: f32) -> f32 {
    let max = logits.clone().fold(f32::NEG_INFINITY, f32::max);
    if max == f32::NEG_INFINITY {
        return f32::NEG_INFINITY;
    }
    let sum: f64 = logits.map(|l| f64::from(l - max).exp()).sum();
    value - max - sum.ln() as f32
}

/// Running sum of the log-probabilities of one segment's tokens.
#[derive(Debug, Clone, Default)]
pub struct LogProbs {
    per_token: Vec<f32>,
    end: Option<f32>,
}

impl LogProbs {
    /// Records the log-probability of a kept token.
    pub fn push(&mut self, lp: f32) {
        self.per_token.push(lp);
    }

    /// Records the log-probability of the closing `<|endoftext|>`.
    pub fn end(&mut self, lp: f32) {
        self.end = Some(lp);
    }

    /// Keeps only the first `n` tokens' values (after a repetition cut).
    pub fn truncate(&mut self, n: usize) {
        self.per_token.truncate(n);
    }

    /// `(Σ token log-probs + end) / (tokens + 1)`, the reference's average.
    pub fn average(&self) -> f32 {
        let sum: f32 = self.per_token.iter().sum::<f32>() + self.end.unwrap_or(0.0);
        sum / (self.per_token.len() + 1) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_conditions_are_needed() {
        assert!(is_no_speech(Some(0.9), -1.5));
        assert!(!is_no_speech(Some(0.9), -0.5), "confident text stays");
        assert!(
            !is_no_speech(Some(0.5), -1.5),
            "low no-speech probability stays"
        );
        assert!(!is_no_speech(Some(0.6), -1.5), "the threshold is strict");
        assert!(!is_no_speech(None, -5.0));
    }

    #[test]
    fn punctuation_alone_under_a_high_no_speech_probability_is_no_speech() {
        assert!(is_wordless_no_speech(Some(0.97), "."));
        assert!(is_wordless_no_speech(Some(0.7), " ... "));
        assert!(!is_wordless_no_speech(Some(0.97), "No."));
        assert!(!is_wordless_no_speech(Some(0.97), "7"));
        assert!(!is_wordless_no_speech(Some(0.5), "."));
        assert!(!is_wordless_no_speech(None, "."));
    }

    #[test]
    fn digital_silence_is_a_few_bits_at_most() {
        assert!(is_digital_silence(&[]));
        assert!(is_digital_silence(&[0.0; 16_000]));
        let lsb: Vec<f32> = (0..16_000)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 } / 32768.0)
            .collect();
        assert!(is_digital_silence(&lsb));
        let quiet: Vec<f32> = (0..16_000)
            .map(|i| (i as f32 * 0.1).sin() * 0.001)
            .collect();
        assert!(
            !is_digital_silence(&quiet),
            "−63 dBFS is not digital silence"
        );
    }

    #[test]
    fn probabilities_are_normalized_and_suppressed_entries_ignored() {
        let logits = [1.0f32, 2.0, 3.0, 1000.0 - 1000.0];
        let total: f32 = (0..4).map(|i| softmax_at(&logits, i)).sum();
        assert!((total - 1.0).abs() < 1e-6);
        assert!((softmax_at(&[5.0, 5.0], 0) - 0.5).abs() < 1e-7);
        let lp = log_softmax_at([0.0f32, f32::NEG_INFINITY, 0.0].into_iter(), 0.0);
        assert!((lp - 0.5f32.ln()).abs() < 1e-6);
        // Huge logits do not overflow.
        assert!((softmax_at(&[1e4, 1e4 - 1.0], 0) - 0.7310586).abs() < 1e-5);
    }

    #[test]
    fn the_average_counts_the_end_token_like_the_reference() {
        let mut lp = LogProbs::default();
        assert_eq!(lp.average(), 0.0);
        for v in [-1.0, -2.0, -3.0] {
            lp.push(v);
        }
        lp.end(-2.0);
        assert_eq!(lp.average(), -2.0);
        lp.truncate(1);
        assert_eq!(lp.average(), -1.5);
    }
}
