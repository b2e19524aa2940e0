//! The repetition-loop rule of the greedy decoder: tells a hallucination loop from a speaker who
//! really repeats a word or a short phrase ("no no no no"), and says where to cut a loop.
//!
//! The rule, checked on the token ids after every emitted token (so a loop is caught the moment
//! its tail completes):
//!
//! * **Short units** — an n-gram of at most [`SHORT_UNIT`] tokens (a word, or a phrase of about
//!   four words): up to [`KEEP_COPIES`] back-to-back copies are speech and kept as they are. A
//!   fifth back-to-back copy is a loop: decoding stops and the output keeps **one** copy.
//! * **Long units** — an n-gram of more than [`SHORT_UNIT`] tokens: three back-to-back copies are
//!   a loop (people rarely repeat a whole sentence three times running; Whisper does); decoding
//!   stops and the output keeps one copy.
//! * **Budget** — a decode that reaches its token budget (7 tokens per second of audio, far
//!   above any speaking rate) while its tail holds [`BUDGET_LOOP_COPIES`] or more back-to-back
//!   copies of any unit is a loop too, cut to one copy ([`budget_cut`]).
//!
//! Why one copy and not four on a loop: Whisper's loops are mostly a phrase it heard once
//! (measured: the real clip `sphinx_goforward`, "Go forward ten meters", loops as "go forward 10
//! meters. Go forward 10 meters. …"; keeping four copies would add twelve insertions). A
//! speaker who really says a word five times or more loses the extra copies; up to four are
//! always kept.
//!
//! Token ids are compared exactly, so " no" and "No" or "no," count as different units: "No, no,
//! no, no, no." is seen as one "No," followed by repeats of " no,".

/// Longest unit (in tokens) treated as a word or short phrase that may be repeated.
pub const SHORT_UNIT: usize = 8;
/// Back-to-back copies of a short unit that are kept as speech.
pub const KEEP_COPIES: usize = 4;
/// Back-to-back copies of a long unit that make a loop.
pub const LONG_LOOP_COPIES: usize = 3;
/// Back-to-back copies of any unit that make a loop when the token budget is reached.
pub const BUDGET_LOOP_COPIES: usize = 3;

/// If `tokens` ends in a loop (see the module docs), returns the length to truncate it to.
pub fn repetition_cut(tokens: &[u32]) -> Option<usize> {
    (1..=tokens.len() / LONG_LOOP_COPIES).find_map(|n| {
        let copies = if n <= SHORT_UNIT {
            KEEP_COPIES + 1
        } else {
            LONG_LOOP_COPIES
        };
        cut_if_repeated(tokens, n, copies)
    })
}

/// For a decode stopped by its token budget: if `tokens` ends in [`BUDGET_LOOP_COPIES`] or
/// more back-to-back copies of a unit, the length that keeps one copy.
pub fn budget_cut(tokens: &[u32]) -> Option<usize> {
    (1..=tokens.len() / BUDGET_LOOP_COPIES)
        .find_map(|n| cut_if_repeated(tokens, n, BUDGET_LOOP_COPIES))
}

/// If `tokens` ends in at least `copies` back-to-back copies of its last `n` tokens, the length
/// that keeps only the first copy of the whole run.
fn cut_if_repeated(tokens: &[u32], n: usize, copies: usize) -> Option<usize> {
    let len = tokens.len();
    if n == 0 || n * copies > len {
        return None;
    }
    let gram = &tokens[len - n..];
    let run = tokens.rchunks_exact(n).take_while(|c| *c == gram).count();
    (run >= copies).then(|| len - n * (run - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `tokens` one by one as the decoder does; returns what is kept and whether it stopped.
    fn decode(tokens: &[u32]) -> (Vec<u32>, bool) {
        let mut out = Vec::new();
        for &t in tokens {
            out.push(t);
            if let Some(keep) = repetition_cut(&out) {
                out.truncate(keep);
                return (out, true);
            }
        }
        (out, false)
    }

    #[test]
    fn a_word_said_up_to_four_times_is_kept() {
        for n in 1..=4 {
            let mut t = vec![9];
            t.extend(std::iter::repeat_n(7, n));
            t.push(3);
            assert_eq!(decode(&t), (t.clone(), false), "{n} copies");
        }
    }

    #[test]
    fn a_fifth_copy_of_a_word_is_a_loop_cut_to_one() {
        let mut t = vec![9];
        t.extend(std::iter::repeat_n(7, 40));
        assert_eq!(decode(&t), (vec![9, 7], true));
        assert_eq!(repetition_cut(&[9, 5, 5, 5, 5, 5]), Some(2));
        assert_eq!(repetition_cut(&[5, 5, 5, 5]), None);
    }

    #[test]
    fn short_phrases_repeat_four_times_and_loop_on_the_fifth() {
        // A two-token word ("bath room") and a four-token phrase ("I want to go").
        for unit in [
            vec![11, 12],
            vec![1, 2, 3, 4],
            (20..28).collect::<Vec<u32>>(),
        ] {
            let four: Vec<u32> = unit.iter().copied().cycle().take(unit.len() * 4).collect();
            assert_eq!(decode(&four), (four.clone(), false), "{unit:?}");
            let runaway: Vec<u32> = unit.iter().copied().cycle().take(unit.len() * 30).collect();
            assert_eq!(decode(&runaway), (unit.clone(), true), "{unit:?}");
        }
    }

    #[test]
    fn a_long_sentence_repeated_three_times_is_cut_to_one_copy() {
        let sentence: Vec<u32> = (100..112).collect();
        let mut t = vec![1, 2];
        for _ in 0..2 {
            t.extend(&sentence);
        }
        assert_eq!(decode(&t), (t.clone(), false), "two copies are speech");
        t.extend(&sentence);
        let mut want = vec![1, 2];
        want.extend(&sentence);
        assert_eq!(repetition_cut(&t), Some(want.len()));
        assert_eq!(decode(&t), (want, true));
    }

    #[test]
    fn a_sentence_loop_like_the_real_clip_keeps_one_copy() {
        // "go| forward| 10| meters|.| Go| forward| …": the unit is " forward 10 meters. Go".
        let mut t = vec![1];
        for _ in 0..6 {
            t.extend([2, 3, 4, 5, 6]);
        }
        assert_eq!(decode(&t), (vec![1, 2, 3, 4, 5, 6], true));
    }

    #[test]
    fn at_the_token_budget_three_copies_are_a_loop() {
        assert_eq!(budget_cut(&[9, 1, 2, 3, 1, 2, 3, 1, 2, 3]), Some(4));
        assert_eq!(
            budget_cut(&[9, 7, 7, 7, 7]),
            Some(2),
            "the whole run, not three"
        );
        assert_eq!(budget_cut(&[9, 7, 7]), None);
        assert_eq!(budget_cut(&[1, 2, 3, 4, 5, 6]), None);
        assert_eq!(budget_cut(&[]), None);
    }

    #[test]
    fn repeats_that_are_not_back_to_back_are_not_loops() {
        let t = [7, 1, 7, 2, 7, 3, 7, 4, 7, 5, 7, 6, 7];
        assert_eq!(decode(&t), (t.to_vec(), false));
        assert_eq!(repetition_cut(&[]), None);
        assert_eq!(repetition_cut(&[1, 2, 3, 4]), None);
    }
}
