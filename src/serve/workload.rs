//! A serving benchmark's workload and schedules: a burst of requests spread over many speakers
//! (each speaker's clips in runs of one encoder context, so one speaker's requests can fill a
//! batch), the decoder batches each serving strategy forms from it, and the figures of a run
//! (batch fill, latency percentiles).

use std::collections::BTreeMap;

use crate::features;
use crate::recognizer::plan_batches;

/// One request of a burst: whose submodel serves it and which clip of the pool it transcribes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// Index of the speaker (and of its submodel).
    pub speaker: usize,
    /// Index into the clip pool.
    pub clip: usize,
}

/// `n` requests arriving together, round-robin over `speakers` (request `i` is speaker
/// `i % speakers`'s), drawn from a pool of clips whose encoder contexts are `contexts`.
///
/// Each speaker's clips come in runs of `batch` clips of one encoder context (a context's clips
/// are reused when it has fewer), so a speaker with a multiple of `batch` requests fills every
/// one of its batches. The runs are spread evenly over the pool taken in context order, so the
/// burst keeps the pool's mix of contexts. Empty when the pool or `speakers` is.
pub fn burst(contexts: &[usize], speakers: usize, n: usize, batch: usize) -> Vec<Request> {
    let batch = batch.max(1);
    if contexts.is_empty() || speakers == 0 {
        return Vec::new();
    }
    let mut by_context: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (clip, &c) in contexts.iter().enumerate() {
        by_context.entry(c).or_default().push(clip);
    }
    let runs: Vec<Vec<usize>> = by_context
        .values()
        .flat_map(|clips| {
            let len = clips.len().div_ceil(batch) * batch;
            let cycled: Vec<usize> = clips.iter().copied().cycle().take(len).collect();
            cycled
                .chunks(batch)
                .map(<[usize]>::to_vec)
                .collect::<Vec<_>>()
        })
        .collect();
    let per_speaker = n.div_ceil(speakers).div_ceil(batch);
    let needed = speakers * per_speaker;
    // Speaker k's r-th run is chosen run r·speakers + k.
    let clips_of = |k: usize| -> Vec<usize> {
        (0..per_speaker)
            .flat_map(|r| {
                runs[(r * speakers + k) * runs.len() / needed]
                    .iter()
                    .copied()
            })
            .collect()
    };
    let own: Vec<Vec<usize>> = (0..speakers).map(clips_of).collect();
    (0..n)
        .map(|i| Request {
            speaker: i % speakers,
            clip: own[i % speakers][i / speakers],
        })
        .collect()
}

/// How a serving strategy groups a burst into decoder batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// Batches of any speakers (one encoder context per batch): the base alone, or mixed-speaker
    /// batches.
    Mixed,
    /// Batches of one speaker (and one encoder context).
    PerSpeaker,
    /// One request at a time, in arrival order.
    Single,
}

/// The decoder batches (request indices, in the order they run) that `grouping` forms from
/// `requests`, whose audio has `lengths` samples; at most `batch` per batch. Batched groupings
/// use the recognizer's own plan ([`plan_batches`]: one encoder context per batch) and run
/// shorter contexts first; per-speaker batches of one context run in speaker order.
pub fn batches(
    requests: &[Request],
    lengths: &[usize],
    batch: usize,
    full_context: bool,
    grouping: Grouping,
) -> Vec<Vec<usize>> {
    match grouping {
        Grouping::Single => (0..requests.len()).map(|i| vec![i]).collect(),
        Grouping::Mixed => plan_batches(lengths, batch, full_context),
        Grouping::PerSpeaker => {
            let mut of_speaker: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
            for (i, r) in requests.iter().enumerate() {
                of_speaker.entry(r.speaker).or_default().push(i);
            }
            let mut out: Vec<Vec<usize>> = Vec::new();
            for members in of_speaker.values() {
                let own: Vec<usize> = members.iter().map(|&i| lengths[i]).collect();
                out.extend(
                    plan_batches(&own, batch, full_context)
                        .into_iter()
                        .map(|b| b.into_iter().map(|j| members[j]).collect()),
                );
            }
            // Stable: speakers keep their order within one context.
            out.sort_by_key(|b| features::context_frames(lengths[b[0]], full_context));
            out
        }
    }
}

/// Mean share of the `batch` rows that `batches` fill (1.0: every batch full).
pub fn mean_fill(batches: &[Vec<usize>], batch: usize) -> f64 {
    let rows: usize = batches.iter().map(Vec::len).sum();
    rows as f64 / (batches.len() * batch.max(1)).max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Samples of audio whose dynamic context is `secs` seconds.
    fn of_context(secs: usize) -> usize {
        (secs - 3) * features::SAMPLE_RATE - features::SAMPLE_RATE / 2
    }

    #[test]
    fn a_burst_is_round_robin_and_fills_per_speaker_batches() {
        // Pool: contexts 4 s ×3, 5 s ×7, 6 s ×1.
        let mut contexts = vec![400; 3];
        contexts.extend([500; 7]);
        contexts.push(600);
        let (speakers, batch) = (4, 3);
        let reqs = burst(&contexts, speakers, speakers * batch * 2, batch);
        assert_eq!(reqs.len(), 24);
        for (i, r) in reqs.iter().enumerate() {
            assert_eq!(r.speaker, i % speakers);
        }
        let lengths: Vec<usize> = reqs
            .iter()
            .map(|r| of_context(contexts[r.clip] / 100))
            .collect();
        let per = batches(&reqs, &lengths, batch, false, Grouping::PerSpeaker);
        assert_eq!(mean_fill(&per, batch), 1.0, "{per:?}");
        for b in &per {
            assert!(b.iter().all(|&i| reqs[i].speaker == reqs[b[0]].speaker));
        }
        let mixed = batches(&reqs, &lengths, batch, false, Grouping::Mixed);
        assert_eq!(mean_fill(&mixed, batch), 1.0);
        // The burst keeps more than one context of the pool.
        let used: std::collections::BTreeSet<_> = reqs.iter().map(|r| contexts[r.clip]).collect();
        assert!(used.len() > 1, "{used:?}");
    }

    #[test]
    fn uneven_bursts_report_partial_fill() {
        let reqs = burst(&[500; 10], 3, 7, 4);
        assert_eq!(reqs.len(), 7);
        let lengths = vec![of_context(5); 7];
        let per = batches(&reqs, &lengths, 4, false, Grouping::PerSpeaker);
        // Speakers hold 3, 2 and 2 requests: three batches of four rows.
        assert_eq!(per.len(), 3);
        assert!((mean_fill(&per, 4) - 7.0 / 12.0).abs() < 1e-12);
        let single = batches(&reqs, &lengths, 4, false, Grouping::Single);
        assert_eq!(single, (0..7).map(|i| vec![i]).collect::<Vec<_>>());
        assert!(burst(&[], 3, 7, 4).is_empty());
    }

    #[test]
    fn per_speaker_batches_run_shorter_contexts_first() {
        let reqs = [
            Request {
                speaker: 0,
                clip: 0,
            },
            Request {
                speaker: 1,
                clip: 1,
            },
        ];
        let lengths = [of_context(6), of_context(4)];
        let per = batches(&reqs, &lengths, 2, false, Grouping::PerSpeaker);
        assert_eq!(per, vec![vec![1], vec![0]]);
    }
}
