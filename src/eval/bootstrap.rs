//! Paired bootstrap over test utterances: how sure is "the submodel is better"? Resampling the
//! utterances (with replacement, seeded) gives the spread of the corpus-WER difference
//! base − submodel; its 95 % percentile interval decides the verdict.

use serde::Serialize;

use crate::util::rng::Rng;

/// Default number of resamples.
pub const RESAMPLES: usize = 2000;
/// Default seed (the interval is reproducible).
pub const SEED: u64 = 20_221_128;

/// One test utterance scored by both systems.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paired {
    pub base_errors: usize,
    pub sub_errors: usize,
    /// Reference words.
    pub words: usize,
}

/// What the interval says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// The whole interval is above 0: the submodel makes fewer errors.
    #[serde(rename = "better")]
    Better,
    /// The whole interval is below 0.
    #[serde(rename = "worse")]
    Worse,
    /// The interval contains 0.
    #[serde(rename = "no clear difference")]
    NoClearDifference,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::NoClearDifference => "no clear difference",
        })
    }
}

/// The corpus-WER difference base − submodel and its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub diff: f64,
    pub lo: f64,
    pub hi: f64,
    pub verdict: Verdict,
}

fn diff(utts: impl Iterator<Item = Paired>) -> f64 {
    let (mut b, mut s, mut w) = (0usize, 0usize, 0usize);
    for u in utts {
        b += u.base_errors;
        s += u.sub_errors;
        w += u.words;
    }
    (b as f64 - s as f64) / w.max(1) as f64
}

/// The paired bootstrap of `utts` with `resamples` resamples; `None` without utterances or
/// reference words.
pub fn paired_bootstrap(utts: &[Paired], resamples: usize, seed: u64) -> Option<Interval> {
    if utts.is_empty() || utts.iter().all(|u| u.words == 0) || resamples == 0 {
        return None;
    }
    let mut rng = Rng::new(seed);
    let mut diffs: Vec<f64> = (0..resamples)
        .map(|_| diff((0..utts.len()).map(|_| utts[rng.below(utts.len())])))
        .collect();
    diffs.sort_by(f64::total_cmp);
    let at = |q: f64| diffs[((q * (resamples - 1) as f64).round() as usize).min(resamples - 1)];
    let (lo, hi) = (at(0.025), at(0.975));
    let verdict = if lo > 0.0 {
        Verdict::Better
    } else if hi < 0.0 {
        Verdict::Worse
    } else {
        Verdict::NoClearDifference
    };
    Some(Interval {
        diff: diff(utts.iter().copied()),
        lo,
        hi,
        verdict,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(base_errors: usize, sub_errors: usize, words: usize) -> Paired {
        Paired {
            base_errors,
            sub_errors,
            words,
        }
    }

    #[test]
    fn identical_systems_show_no_difference() {
        let utts: Vec<Paired> = (0..20).map(|i| p(i % 3, i % 3, 5)).collect();
        let iv = paired_bootstrap(&utts, 1000, 1).unwrap();
        assert_eq!((iv.diff, iv.lo, iv.hi), (0.0, 0.0, 0.0));
        assert_eq!(iv.verdict, Verdict::NoClearDifference);
    }

    #[test]
    fn fixing_errors_everywhere_is_better_and_breaking_them_worse() {
        let better: Vec<Paired> = (0..20).map(|i| p(3 + i % 2, i % 2, 6)).collect();
        let iv = paired_bootstrap(&better, 1000, 1).unwrap();
        assert!(iv.lo > 0.0 && iv.verdict == Verdict::Better, "{iv:?}");
        let worse: Vec<Paired> = better
            .iter()
            .map(|u| p(u.sub_errors, u.base_errors, 6))
            .collect();
        let iv = paired_bootstrap(&worse, 1000, 1).unwrap();
        assert!(iv.hi < 0.0 && iv.verdict == Verdict::Worse, "{iv:?}");
    }

    #[test]
    fn two_errors_on_seventeen_utterances_straddle_zero() {
        // The case the issue names: a difference of 2 errors that mixed effects cancel.
        let mut utts: Vec<Paired> = (0..17).map(|_| p(1, 1, 4)).collect();
        utts[0] = p(3, 0, 4);
        utts[1] = p(0, 1, 4);
        let iv = paired_bootstrap(&utts, 2000, 7).unwrap();
        assert!((iv.diff - 2.0 / 68.0).abs() < 1e-12);
        assert!(iv.lo <= 0.0 && iv.hi > 0.0, "{iv:?}");
        assert_eq!(iv.verdict, Verdict::NoClearDifference);
    }

    #[test]
    fn the_interval_is_reproducible_and_empty_input_has_none() {
        let utts: Vec<Paired> = (0..15).map(|i| p(i % 4, i % 3, 5)).collect();
        assert_eq!(
            paired_bootstrap(&utts, 500, 3),
            paired_bootstrap(&utts, 500, 3)
        );
        assert_eq!(paired_bootstrap(&[], 500, 3), None);
        assert_eq!(paired_bootstrap(&[p(0, 0, 0)], 500, 3), None);
    }
}
