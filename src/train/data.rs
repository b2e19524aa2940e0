//! Training examples: log-mel features at each utterance's own (inference) encoder context plus
//! teacher-forcing token sequences; steps bucketed by context; per-speaker shuffled batches and
//! deterministic SpecAugment-style masking.

use candle_core::{Device, Result, Tensor};

use crate::features::{self, MelFrontend};
use crate::model::{ModelError, Tokenizer, WhisperConfig};
use crate::util::rng::Rng;

/// One utterance ready for training.
#[derive(Clone, Debug)]
pub struct Example {
    /// `[n_mels, frames]` row-major log-mel at the utterance's dynamic context.
    pub mel: Vec<f32>,
    /// `prompt ‖ text tokens ‖ <|endoftext|>`.
    pub tokens: Vec<u32>,
}

/// One speaker's data for a job.
pub struct SpeakerData {
    pub id: String,
    pub train: Vec<Example>,
    /// Dev audio (16 kHz) and what was said: early stopping and version choice only.
    pub dev: Vec<(Vec<f32>, String)>,
}

/// Builds an example; `text` is what was said.
pub fn example(
    fe: &MelFrontend,
    tok: &Tokenizer,
    cfg: &WhisperConfig,
    audio: &[f32],
    text: &str,
    frames: usize,
) -> std::result::Result<Example, ModelError> {
    let mut tokens = cfg.prompt();
    tokens.extend(tok.encode(&format!(" {}", text.trim()))?);
    tokens.push(cfg.tokens.eot);
    tokens.truncate(cfg.n_text_ctx);
    Ok(Example {
        mel: fe.log_mel(audio, frames),
        tokens,
    })
}

/// The encoder context an utterance of `samples` trains at: the one inference decodes it at.
pub fn example_frames(samples: usize) -> usize {
    features::context_frames(samples, false)
}

/// Masking applied to training mels: up to `time_masks` spans of ≤ `max_time` frames and
/// `freq_masks` bands of ≤ `max_freq` mel bins are set to the utterance's mean.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct SpecAugment {
    pub time_masks: usize,
    pub max_time: usize,
    pub freq_masks: usize,
    pub max_freq: usize,
}

impl SpecAugment {
    pub const OFF: Self = Self {
        time_masks: 0,
        max_time: 0,
        freq_masks: 0,
        max_freq: 0,
    };

    /// True when no mask is ever applied.
    pub fn is_off(&self) -> bool {
        self.time_masks == 0 && self.freq_masks == 0
    }

    /// Applies the masks to `mel` (`[n_mels, frames]`) with randomness from `rng`.
    pub fn apply(&self, mel: &mut [f32], n_mels: usize, rng: &mut Rng) {
        let frames = mel.len() / n_mels;
        let mean = mel.iter().sum::<f32>() / mel.len().max(1) as f32;
        let pick = |rng: &mut Rng, n: usize| ((rng.uniform() + 1.0) * 0.5 * n as f32) as usize;
        for _ in 0..self.time_masks {
            let w = pick(rng, self.max_time + 1);
            let t0 = pick(rng, frames.saturating_sub(w).max(1));
            for m in 0..n_mels {
                for v in &mut mel[m * frames + t0..(m * frames + t0 + w).min((m + 1) * frames)] {
                    *v = mean;
                }
            }
        }
        for _ in 0..self.freq_masks {
            let w = pick(rng, self.max_freq + 1);
            let f0 = pick(rng, n_mels.saturating_sub(w).max(1));
            for v in &mut mel[f0 * frames..((f0 + w).min(n_mels)) * frames] {
                *v = mean;
            }
        }
    }
}

/// Tensors for one encoder context of a step: mel `[B, n_mels, F]`, the decoder input, the
/// positions the loss scores with their targets and weights, and each row's adapter-table row.
pub struct StepBatch {
    pub mel: Tensor,
    /// Teacher-forced decoder input `[B, L]` (rows padded with end-of-text).
    pub input: Tensor,
    /// The positions the loss scores, flattened `b·L + p`, row by row: each row's target tokens
    /// (the prompt's and the padding's are left out, so their logits are never computed).
    pub scored: Tensor,
    /// Target token at each scored position `[N]`.
    pub target: Tensor,
    /// Loss weight of each scored position `[N]`.
    pub weight: Tensor,
    /// How many scored positions each row has (they are consecutive in `scored`).
    pub per_row: Vec<usize>,
    pub ids: Vec<u32>,
}

/// Most examples in one batch of a step: a fused job's step (8 per speaker) runs as several.
pub const MICRO_BATCH: usize = 8;

/// Assembles one step. `groups[g] = (table row, examples of that speaker in this step)`; each
/// speaker's token weights sum to 1, so the loss is the sum over speakers of each speaker's mean.
/// Every example keeps its own encoder context (the one inference uses for it): the step is
/// batches of one context each, in increasing order, at most [`MICRO_BATCH`] examples per batch
/// (the job runs backward per batch, so this bounds the activations alive at once).
pub fn assemble(
    groups: &[(u32, Vec<(&Example, u64)>)],
    n_mels: usize,
    prompt_len: usize,
    augment: SpecAugment,
    eot: u32,
    dev: &Device,
) -> Result<Vec<StepBatch>> {
    // (row, example, seed, weight per target token) for every example of the step.
    let mut all = Vec::new();
    for (row, group) in groups {
        let n_tokens: usize = group.iter().map(|(e, _)| e.tokens.len() - prompt_len).sum();
        for (e, seed) in group {
            all.push((*row, *e, *seed, 1.0 / n_tokens.max(1) as f32));
        }
    }
    let mut contexts: Vec<usize> = all
        .iter()
        .map(|(_, e, _, _)| e.mel.len() / n_mels)
        .collect();
    contexts.sort_unstable();
    contexts.dedup();
    let micro: Vec<(usize, Vec<_>)> = contexts
        .into_iter()
        .flat_map(|frames| {
            let rows: Vec<_> = all
                .iter()
                .filter(|(_, e, _, _)| e.mel.len() / n_mels == frames)
                .collect();
            rows.chunks(MICRO_BATCH)
                .map(|c| (frames, c.to_vec()))
                .collect::<Vec<_>>()
        })
        .collect();
    micro
        .into_iter()
        .map(|(frames, rows)| {
            let b = rows.len();
            let l = rows
                .iter()
                .map(|(_, e, _, _)| e.tokens.len() - 1)
                .max()
                .unwrap_or(1);
            let mut mel = Vec::with_capacity(b * n_mels * frames);
            let mut input = vec![eot; b * l];
            let (mut scored, mut target, mut weight) = (Vec::new(), Vec::new(), Vec::new());
            let mut per_row = Vec::with_capacity(b);
            // The first position whose next token is a target (the prompt's are not).
            let first = prompt_len.max(1) - 1;
            for (r, (_, e, seed, w)) in rows.iter().enumerate() {
                let mut m = e.mel.clone();
                augment.apply(&mut m, n_mels, &mut Rng::new(*seed));
                mel.extend(m);
                let before = scored.len();
                for p in 0..e.tokens.len() - 1 {
                    input[r * l + p] = e.tokens[p];
                    if p >= first {
                        scored.push((r * l + p) as u32);
                        target.push(e.tokens[p + 1]);
                        weight.push(*w);
                    }
                }
                per_row.push(scored.len() - before);
            }
            let n = scored.len();
            Ok(StepBatch {
                mel: Tensor::from_vec(mel, (b, n_mels, frames), dev)?,
                input: Tensor::from_vec(input, (b, l), dev)?,
                scored: Tensor::from_vec(scored, n, dev)?,
                target: Tensor::from_vec(target, n, dev)?,
                weight: Tensor::from_vec(weight, n, dev)?,
                per_row,
                ids: rows.iter().map(|(row, ..)| *row).collect(),
            })
        })
        .collect()
}

/// A speaker's endless stream of batches: reshuffles its examples every epoch (seeded).
#[derive(Clone, Debug)]
pub struct Sampler {
    order: Vec<usize>,
    pos: usize,
    rng_seed: u64,
    epoch: u64,
}

impl Sampler {
    pub fn new(n: usize, seed: u64) -> Self {
        let mut s = Self {
            order: (0..n).collect(),
            pos: 0,
            rng_seed: seed,
            epoch: 0,
        };
        s.shuffle();
        s
    }

    /// The order of epoch `self.epoch`: a function of the seed and the epoch only.
    fn shuffle(&mut self) {
        let n = self.order.len();
        self.order = (0..n).collect();
        let mut rng = Rng::new(self.rng_seed.wrapping_mul(31).wrapping_add(self.epoch));
        for i in (1..self.order.len()).rev() {
            let j = ((rng.uniform() + 1.0) * 0.5 * (i + 1) as f32) as usize;
            self.order.swap(i, j.min(i));
        }
    }

    /// The next `k` example indices.
    pub fn next_batch(&mut self, k: usize) -> Vec<usize> {
        let mut out = Vec::with_capacity(k);
        while out.len() < k.min(self.order.len()) {
            if self.pos == self.order.len() {
                self.pos = 0;
                self.epoch += 1;
                self.shuffle();
            }
            out.push(self.order[self.pos]);
            self.pos += 1;
        }
        out
    }

    /// Position for checkpoints: `(pos, epoch)`.
    pub fn state(&self) -> (usize, u64) {
        (self.pos, self.epoch)
    }

    pub fn restore(n: usize, seed: u64, (pos, epoch): (usize, u64)) -> Self {
        let mut s = Self {
            order: (0..n).collect(),
            pos,
            rng_seed: seed,
            epoch,
        };
        s.shuffle();
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampler_is_deterministic_and_covers_every_example_each_epoch() {
        let mut a = Sampler::new(10, 3);
        let mut b = Sampler::new(10, 3);
        let first: Vec<usize> = (0..5).flat_map(|_| a.next_batch(2)).collect();
        assert_eq!(
            first,
            (0..5).flat_map(|_| b.next_batch(2)).collect::<Vec<_>>()
        );
        let mut sorted = first.clone();
        sorted.sort();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        let state = a.state();
        let mut c = Sampler::restore(10, 3, state);
        assert_eq!(a.next_batch(4), c.next_batch(4));
    }

    #[test]
    fn steps_split_into_micro_batches_of_one_context_with_every_example_once() {
        let n_mels = 2;
        let ex = |frames: usize, n: u32| Example {
            mel: vec![0.5; n_mels * frames],
            tokens: (0..n).collect(),
        };
        let short: Vec<Example> = (0..7).map(|i| ex(4, 3 + i % 3)).collect();
        let long: Vec<Example> = (0..13).map(|i| ex(6, 4 + i % 2)).collect();
        let groups: Vec<(u32, Vec<(&Example, u64)>)> = vec![
            (0, short.iter().chain(&long[..5]).map(|e| (e, 1)).collect()),
            (1, long[5..].iter().map(|e| (e, 2)).collect()),
        ];
        let aug = SpecAugment {
            time_masks: 0,
            max_time: 0,
            freq_masks: 0,
            max_freq: 0,
        };
        let batches = assemble(&groups, n_mels, 1, aug, 99, &Device::Cpu).unwrap();
        let frames: Vec<usize> = batches.iter().map(|b| b.mel.dim(2).unwrap()).collect();
        // 7 short → one batch; 13 long → 8 + 5; contexts in increasing order.
        assert_eq!(frames, vec![4, 6, 6]);
        assert!(batches.iter().all(|b| b.ids.len() <= MICRO_BATCH));
        let rows: usize = batches.iter().map(|b| b.ids.len()).sum();
        assert_eq!(rows, 20);
        // Only target tokens are scored: prompt (1 token here) and padding are not.
        let scored: usize = batches.iter().map(|b| b.scored.dim(0).unwrap()).sum();
        let tokens: usize = short.iter().chain(&long).map(|e| e.tokens.len() - 1).sum();
        assert_eq!(scored, tokens);
        for b in &batches {
            assert_eq!(b.per_row.iter().sum::<usize>(), b.scored.dim(0).unwrap());
        }
        // Each speaker's token weights still sum to 1 across the batches.
        for speaker in [0u32, 1] {
            let total: f32 = batches
                .iter()
                .map(|b| {
                    let mut w = b.weight.to_vec1::<f32>().unwrap().into_iter();
                    b.ids
                        .iter()
                        .zip(&b.per_row)
                        .map(|(id, &n)| (id, w.by_ref().take(n).sum::<f32>()))
                        .filter(|(id, _)| **id == speaker)
                        .map(|(_, s)| s)
                        .sum::<f32>()
                })
                .sum();
            assert!((total - 1.0).abs() < 1e-5, "speaker {speaker}: {total}");
        }
    }

    #[test]
    fn masks_only_touch_bounded_regions() {
        let mut mel = vec![1.0f32; 8 * 50];
        mel[0] = -1.0; // mean = (399 - 1) / 400
        let aug = SpecAugment {
            time_masks: 1,
            max_time: 5,
            freq_masks: 1,
            max_freq: 2,
        };
        aug.apply(&mut mel, 8, &mut Rng::new(1));
        let changed = mel.iter().filter(|&&v| v != 1.0 && v != -1.0).count();
        assert!(changed > 0 && changed <= 8 * 5 + 2 * 50, "{changed}");
    }
}
