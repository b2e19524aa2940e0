//! Paired bootstrap of the corpus-WER difference between two systems (base − submodel) scored
//! on the same test utterances: a seeded percentile 95 % interval and a plain-words verdict.
//!
//! Method (Koehn 2004 / Bisani & Ney 2004, paired): draw `n` utterance indices with replacement
//! from the `n` test utterances, compute both systems' corpus WER on that resample
//! (`Σ errors / max(Σ reference words, 1)`, the crate's corpus convention from [`super::metrics`]),
//! record `WER_base − WER_submodel`; repeat `resamples` times; the interval is the 2.5th and
//! 97.5th percentile of the recorded differences (linear interpolation between order
//! statistics). A positive difference means the submodel makes fewer errors.
//!
//! The verdict is [`Verdict::Better`] when the whole interval is above 0, [`Verdict::Worse`]
//! when it is below 0, and [`Verdict::NoClearDifference`] when it touches or straddles 0.
//! A system of several runs (training seeds, say) enters with its mean errors per utterance, so
//! the interval is of the runs' mean WER; it resamples utterances only (the spread between runs
//! is averaged, not resampled).
//! The same seed always gives the same interval. An empty test set is an error
//! ([`BootstrapError::Empty`]): there is nothing to resample.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::util::stats::quantile_sorted;

/// Default number of resamples.
pub const DEFAULT_RESAMPLES: usize = 2000;
/// Fewest resamples accepted: fewer make the 2.5 % tails meaningless.
pub const MIN_RESAMPLES: usize = 1000;
/// Default seed (any fixed value; reports should state it).
pub const DEFAULT_SEED: u64 = 0x00A7_7E57;

/// One test utterance scored by both systems. Errors are fractional when a system is several
/// runs (seeds) and its errors are their mean on the utterance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairedErrors {
    /// Word errors (sub + del + ins) of the base.
    pub base: f64,
    /// Word errors of the submodel.
    pub submodel: f64,
    /// Reference words of the utterance.
    pub words: usize,
}

/// How to resample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootstrapConfig {
    /// Number of resamples (at least [`MIN_RESAMPLES`]).
    pub resamples: usize,
    pub seed: u64,
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        Self {
            resamples: DEFAULT_RESAMPLES,
            seed: DEFAULT_SEED,
        }
    }
}

/// Whether the submodel's WER is clearly lower, clearly higher, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    #[serde(rename = "better")]
    Better,
    #[serde(rename = "worse")]
    Worse,
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

/// Result of a paired bootstrap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedBootstrap {
    /// Corpus WER of the base minus that of the submodel on the full test set.
    pub difference: f64,
    /// 95 % percentile interval `[lo, hi]` of the difference.
    pub ci95: [f64; 2],
    pub verdict: Verdict,
    pub resamples: usize,
    pub seed: u64,
}

/// Why no interval could be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BootstrapError {
    #[error("paired bootstrap: no test utterances")]
    Empty,
    #[error("paired bootstrap: {0} resamples is too few (at least {MIN_RESAMPLES})")]
    TooFewResamples(usize),
}

/// Corpus WER difference base − submodel over `utts` with the crate's empty-reference rule.
fn difference<'a>(utts: impl Iterator<Item = &'a PairedErrors>) -> f64 {
    let (mut b, mut s, mut w) = (0.0, 0.0, 0usize);
    for u in utts {
        b += u.base;
        s += u.submodel;
        w += u.words;
    }
    (b - s) / w.max(1) as f64
}

/// Paired bootstrap over `utts` (same utterances, both systems); see the module docs.
pub fn paired_bootstrap(
    utts: &[PairedErrors],
    cfg: BootstrapConfig,
) -> Result<PairedBootstrap, BootstrapError> {
    if utts.is_empty() {
        return Err(BootstrapError::Empty);
    }
    if cfg.resamples < MIN_RESAMPLES {
        return Err(BootstrapError::TooFewResamples(cfg.resamples));
    }
    let n = utts.len();
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let mut diffs: Vec<f64> = (0..cfg.resamples)
        .map(|_| difference((0..n).map(|_| &utts[rng.random_range(0..n)])))
        .collect();
    diffs.sort_by(f64::total_cmp);
    let ci95 = [
        quantile_sorted(&diffs, 0.025),
        quantile_sorted(&diffs, 0.975),
    ];
    let verdict = if ci95[0] > 0.0 {
        Verdict::Better
    } else if ci95[1] < 0.0 {
        Verdict::Worse
    } else {
        Verdict::NoClearDifference
    };
    Ok(PairedBootstrap {
        difference: difference(utts.iter()),
        ci95,
        verdict,
        resamples: cfg.resamples,
        seed: cfg.seed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utt(base: usize, submodel: usize, words: usize) -> PairedErrors {
        PairedErrors {
            base: base as f64,
            submodel: submodel as f64,
            words,
        }
    }

    fn run(utts: &[PairedErrors]) -> PairedBootstrap {
        paired_bootstrap(utts, BootstrapConfig::default()).unwrap()
    }

    #[test]
    fn identical_systems_give_a_zero_interval_and_no_clear_difference() {
        let utts: Vec<_> = (0..20).map(|i| utt(i % 3, i % 3, 5 + i % 4)).collect();
        let r = run(&utts);
        assert_eq!(r.difference, 0.0);
        assert_eq!(r.ci95, [0.0, 0.0]);
        assert_eq!(r.verdict, Verdict::NoClearDifference);
    }

    #[test]
    fn fixing_errors_on_every_utterance_is_better_and_breaking_them_is_worse() {
        let fixed: Vec<_> = (0..20).map(|i| utt(3 + i % 2, i % 2, 6)).collect();
        let r = run(&fixed);
        assert!((r.difference - 60.0 / 120.0).abs() < 1e-12, "{r:?}");
        assert!(r.ci95[0] > 0.0 && r.ci95[0] <= r.difference && r.difference <= r.ci95[1]);
        assert_eq!(r.verdict, Verdict::Better);
        let broken: Vec<_> = fixed
            .iter()
            .map(|u| PairedErrors {
                base: u.submodel,
                submodel: u.base,
                words: u.words,
            })
            .collect();
        let w = run(&broken);
        assert_eq!(w.verdict, Verdict::Worse);
        assert!((w.ci95[0] + r.ci95[1]).abs() < 1e-12 || w.ci95[1] < 0.0);
    }

    #[test]
    fn mixed_per_utterance_effects_straddle_zero() {
        // Half the utterances improve by 2 errors, half get worse by 2: the point is 0 and
        // resampling moves it either way.
        let utts: Vec<_> = (0..20)
            .map(|i| {
                if i % 2 == 0 {
                    utt(3, 1, 5)
                } else {
                    utt(1, 3, 5)
                }
            })
            .collect();
        let r = run(&utts);
        assert_eq!(r.difference, 0.0);
        assert!(r.ci95[0] < 0.0 && r.ci95[1] > 0.0, "{r:?}");
        assert_eq!(r.verdict, Verdict::NoClearDifference);
    }

    #[test]
    fn one_lucky_utterance_is_not_a_clear_improvement() {
        // 19 unchanged utterances, one where the submodel fixes 4 errors: the point difference
        // is positive but the interval reaches 0 (resamples without that utterance).
        let mut utts: Vec<_> = (0..19).map(|_| utt(1, 1, 5)).collect();
        utts.push(utt(4, 0, 5));
        let r = run(&utts);
        assert!(r.difference > 0.0);
        assert_eq!(r.ci95[0], 0.0, "{r:?}");
        assert_eq!(r.verdict, Verdict::NoClearDifference);
    }

    #[test]
    fn the_same_seed_gives_the_same_interval_and_another_seed_may_not() {
        let utts: Vec<_> = (0..15)
            .map(|i| utt(i % 4, (i * 7) % 5, 4 + i % 3))
            .collect();
        let a = run(&utts);
        assert_eq!(a, run(&utts));
        let other = paired_bootstrap(
            &utts,
            BootstrapConfig {
                seed: 7,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(other.difference, a.difference);
        assert_ne!(other.ci95, a.ci95);
    }

    #[test]
    fn empty_input_and_too_few_resamples_are_errors() {
        assert_eq!(
            paired_bootstrap(&[], BootstrapConfig::default()),
            Err(BootstrapError::Empty)
        );
        let cfg = BootstrapConfig {
            resamples: 10,
            ..Default::default()
        };
        assert_eq!(
            paired_bootstrap(&[utt(1, 0, 3)], cfg),
            Err(BootstrapError::TooFewResamples(10))
        );
    }

    #[test]
    fn utterances_without_reference_words_count_their_insertions() {
        // Only empty references: WER = errors / 1, as in `metrics`.
        let r = run(&[utt(2, 0, 0)]);
        assert_eq!(r.difference, 2.0);
        assert_eq!(r.ci95, [2.0, 2.0]);
        assert_eq!(r.verdict, Verdict::Better);
    }

    #[test]
    fn the_mean_errors_of_several_runs_give_the_difference_of_mean_wers() {
        // Runs of 2 and 3 errors on each of ten 4-word utterances (mean 2.5) against a system
        // with 1: mean WERs 0.625 and 0.25.
        let utts: Vec<_> = (0..10)
            .map(|_| PairedErrors {
                base: 2.5,
                submodel: 1.0,
                words: 4,
            })
            .collect();
        let r = run(&utts);
        assert!((r.difference - 0.375).abs() < 1e-12, "{r:?}");
        assert!((r.ci95[0] - 0.375).abs() < 1e-12 && (r.ci95[1] - 0.375).abs() < 1e-12);
        assert_eq!(r.verdict, Verdict::Better);
    }

    #[test]
    fn verdicts_serialize_as_plain_words() {
        let s =
            serde_json::to_string(&[Verdict::Better, Verdict::Worse, Verdict::NoClearDifference])
                .unwrap();
        assert_eq!(s, r#"["better","worse","no clear difference"]"#);
    }
}
