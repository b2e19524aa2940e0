//! Levenshtein alignment of two token sequences, with a deterministic backtrace.
//!
//! The alignment is computed with the classic O(n·m) dynamic programme (unit cost for
//! substitution, deletion and insertion), which is fine for utterance-sized inputs.
//!
//! **Tie-breaking.** Among all minimum-cost alignments the one returned is fixed: the
//! backtrace starts at the *end* of both sequences and, at every cell, takes the first
//! move that stays on an optimal path in this order of preference:
//!
//! 1. diagonal — [`EditOp::Match`] or [`EditOp::Sub`],
//! 2. [`EditOp::Del`] (a reference token with no hypothesis counterpart),
//! 3. [`EditOp::Ins`] (a hypothesis token with no reference counterpart).
//!
//! So `a b` vs `b a` is reported as two substitutions (not delete + match + insert), and
//! when an error could sit at several positions it is pushed towards the start of the
//! utterance (`a b` vs `c` gives `Del a`, `Sub b→c`).

use serde::{Deserialize, Serialize};

/// One step of an alignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EditOp {
    /// Reference and hypothesis tokens are equal.
    Match,
    /// Reference token replaced by a different hypothesis token.
    Sub,
    /// Reference token missing from the hypothesis.
    Del,
    /// Hypothesis token with no reference counterpart.
    Ins,
}

impl EditOp {
    /// Whether this step counts as an error.
    pub fn is_error(self) -> bool {
        self != EditOp::Match
    }

    /// The sclite marker for this step: `""`, `"S"`, `"D"` or `"I"`.
    pub fn code(self) -> &'static str {
        match self {
            EditOp::Match => "",
            EditOp::Sub => "S",
            EditOp::Del => "D",
            EditOp::Ins => "I",
        }
    }
}

/// One aligned column: `reference` is `None` for [`EditOp::Ins`], `hypothesis` is `None`
/// for [`EditOp::Del`]; both are present for `Match` and `Sub`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlignedPair {
    pub op: EditOp,
    pub reference: Option<String>,
    pub hypothesis: Option<String>,
}

/// Aligns `hypothesis` against `reference` (minimum edit distance, tie-breaking as
/// described in the module docs). The result lists every reference token and every
/// hypothesis token exactly once, in order.
pub fn align<T: AsRef<str>>(reference: &[T], hypothesis: &[T]) -> Vec<AlignedPair> {
    let r: Vec<&str> = reference.iter().map(AsRef::as_ref).collect();
    let h: Vec<&str> = hypothesis.iter().map(AsRef::as_ref).collect();
    edit_script(&r, &h)
        .into_iter()
        .map(|step| AlignedPair {
            op: step.op,
            reference: step.ref_index.map(|i| r[i].to_owned()),
            hypothesis: step.hyp_index.map(|j| h[j].to_owned()),
        })
        .collect()
}

/// An alignment step expressed as indices into the two input sequences.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Step {
    pub op: EditOp,
    pub ref_index: Option<usize>,
    pub hyp_index: Option<usize>,
}

/// Generic Levenshtein alignment over any comparable items (words, characters).
pub(crate) fn edit_script<T: PartialEq>(r: &[T], h: &[T]) -> Vec<Step> {
    let (n, m) = (r.len(), h.len());
    let w = m + 1;
    let mut d = vec![0usize; (n + 1) * w];
    for i in 0..=n {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let diag = d[(i - 1) * w + j - 1] + usize::from(r[i - 1] != h[j - 1]);
            let del = d[(i - 1) * w + j] + 1;
            let ins = d[i * w + j - 1] + 1;
            d[i * w + j] = diag.min(del).min(ins);
        }
    }

    let mut steps = Vec::with_capacity(n.max(m));
    let (mut i, mut j) = (n, m);
    while i > 0 || j > 0 {
        let here = d[i * w + j];
        if i > 0 && j > 0 {
            let same = r[i - 1] == h[j - 1];
            if d[(i - 1) * w + j - 1] + usize::from(!same) == here {
                let op = if same { EditOp::Match } else { EditOp::Sub };
                steps.push(Step {
                    op,
                    ref_index: Some(i - 1),
                    hyp_index: Some(j - 1),
                });
                i -= 1;
                j -= 1;
                continue;
            }
        }
        if i > 0 && d[(i - 1) * w + j] + 1 == here {
            steps.push(Step {
                op: EditOp::Del,
                ref_index: Some(i - 1),
                hyp_index: None,
            });
            i -= 1;
        } else {
            steps.push(Step {
                op: EditOp::Ins,
                ref_index: None,
                hyp_index: Some(j - 1),
            });
            j -= 1;
        }
    }
    steps.reverse();
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(r: &[&str], h: &[&str]) -> Vec<EditOp> {
        align(r, h).into_iter().map(|p| p.op).collect()
    }

    use EditOp::{Del, Ins, Match, Sub};

    #[test]
    fn identical_sequences_all_match() {
        assert_eq!(ops(&["a", "b", "c"], &["a", "b", "c"]), vec![Match; 3]);
    }

    #[test]
    fn empty_inputs() {
        assert!(align::<&str>(&[], &[]).is_empty());
        assert_eq!(ops(&[], &["x", "y"]), vec![Ins, Ins]);
        assert_eq!(ops(&["x", "y"], &[]), vec![Del, Del]);
    }

    #[test]
    fn pairs_carry_tokens() {
        let a = align(&["the", "cat", "sat"], &["the", "bat", "sat", "down"]);
        assert_eq!(
            a,
            vec![
                AlignedPair {
                    op: Match,
                    reference: Some("the".into()),
                    hypothesis: Some("the".into())
                },
                AlignedPair {
                    op: Sub,
                    reference: Some("cat".into()),
                    hypothesis: Some("bat".into())
                },
                AlignedPair {
                    op: Match,
                    reference: Some("sat".into()),
                    hypothesis: Some("sat".into())
                },
                AlignedPair {
                    op: Ins,
                    reference: None,
                    hypothesis: Some("down".into())
                },
            ]
        );
    }

    #[test]
    fn tie_break_prefers_substitution_over_del_plus_ins() {
        // "a b" vs "b a": cost 2 either as Sub,Sub or Del a, Match b, Ins a.
        assert_eq!(ops(&["a", "b"], &["b", "a"]), vec![Sub, Sub]);
    }

    #[test]
    fn tie_break_pushes_deletion_towards_start() {
        // "a b" vs "c": cost 2 as (Del a, Sub b→c) or (Sub a→c, Del b);
        // backtrace from the end prefers the diagonal, so b↔c is the substitution.
        let a = align(&["a", "b"], &["c"]);
        assert_eq!(a.iter().map(|p| p.op).collect::<Vec<_>>(), vec![Del, Sub]);
        assert_eq!(a[1].reference.as_deref(), Some("b"));
        assert_eq!(a[1].hypothesis.as_deref(), Some("c"));
    }

    #[test]
    fn tie_break_pushes_insertion_towards_start() {
        // "a" vs "b c": cost 2 as (Sub a→b, Ins c) or (Ins b, Sub a→c); diagonal first
        // at the end gives Ins b, Sub a→c.
        let a = align(&["a"], &["b", "c"]);
        assert_eq!(a.iter().map(|p| p.op).collect::<Vec<_>>(), vec![Ins, Sub]);
        assert_eq!(a[1].hypothesis.as_deref(), Some("c"));
    }

    #[test]
    fn tie_break_deletion_before_insertion() {
        // "a b a" vs "b a b" (cost 2): at the last cell a↔b as Sub is not optimal, but
        // both "Del a" and "Ins b" are; Del wins, then b, a match and a leading Ins b.
        assert_eq!(
            ops(&["a", "b", "a"], &["b", "a", "b"]),
            vec![Ins, Match, Match, Del]
        );
        // "a b" vs "b": only Del a + Match b is optimal (cost 1).
        assert_eq!(ops(&["a", "b"], &["b"]), vec![Del, Match]);
    }

    #[test]
    fn prefers_match_over_shifting() {
        // "a a b" vs "a b": one deletion; the last "a b" matches, first "a" deleted.
        assert_eq!(ops(&["a", "a", "b"], &["a", "b"]), vec![Del, Match, Match]);
    }

    #[test]
    fn edit_script_on_chars_kitten_sitting() {
        let r: Vec<char> = "kitten".chars().collect();
        let h: Vec<char> = "sitting".chars().collect();
        let s = edit_script(&r, &h);
        let errors = s.iter().filter(|s| s.op.is_error()).count();
        // k→s, e→i, +g: 3 edits.
        assert_eq!(errors, 3);
        assert_eq!(s.iter().filter(|s| s.op == Sub).count(), 2);
        assert_eq!(s.iter().filter(|s| s.op == Ins).count(), 1);
    }

    #[test]
    fn edit_op_codes() {
        assert_eq!(Match.code(), "");
        assert_eq!(Sub.code(), "S");
        assert_eq!(Del.code(), "D");
        assert_eq!(Ins.code(), "I");
        assert!(!Match.is_error() && Ins.is_error());
        assert_eq!(serde_json::to_string(&Sub).unwrap(), "\"sub\"");
    }
}
