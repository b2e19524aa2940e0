//! Greedy batched decoding without timestamps: suppression rules, a token budget bounded by the
//! audio length, the repetition-loop guard ([`super::repetition`]), the no-speech rule
//! ([`super::no_speech`]) and splitting of audio longer than 30 s.

use candle_core::{Result, Tensor};
use rayon::prelude::*;
use serde::Serialize;

pub use super::no_speech::is_no_speech;
use super::no_speech::{self, LogProbs};
pub use super::repetition::{budget_cut, repetition_cut};
use super::{Hooks, Whisper};
use crate::features::{self, HOP, MelFrontend, SAMPLE_RATE};

/// How to decode (every field is part of the recognizer's memo key).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct DecodeOptions {
    /// Pad every segment to Whisper's 30 s window instead of encoding only what the audio needs.
    pub full_context: bool,
}

/// Why decoding of one segment stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    EndOfText,
    TokenBudget,
    Repetition,
}

/// The no-speech evidence of one ≤ 30 s segment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SegmentStats {
    /// Probability of `<|nospeech|>` at the start of the transcript; `None` when the model was
    /// not run (digital silence) or the base has no such token.
    pub no_speech_prob: Option<f32>,
    /// Average log-probability of the decoded tokens and the end token (0 when not run).
    pub avg_logprob: f32,
    /// The segment is silence or noise: its tokens were dropped.
    pub no_speech: bool,
}

/// One decoded ≤ 30 s segment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecodedSegment {
    /// Text tokens (empty when `stats.no_speech`).
    pub tokens: Vec<u32>,
    pub stop: Stop,
    pub stats: SegmentStats,
}

/// Result for one input audio.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Transcript {
    pub text: String,
    pub tokens: Vec<u32>,
    /// The stop reason of each 30 s segment.
    pub stops: Vec<Stop>,
    /// Every segment is silence or noise (the text is then empty): Whisper's no-speech rule.
    pub no_speech: bool,
    /// The no-speech evidence of each 30 s segment (parallel to `stops`).
    pub segments: Vec<SegmentStats>,
}

/// Most new tokens for `seconds` of audio: 10 + 7 per second, capped by the text context.
pub fn token_budget(seconds: f32, n_text_ctx: usize, prompt: usize) -> usize {
    let by_audio = 10 + (seconds.max(0.0) * 7.0).ceil() as usize;
    by_audio.min(n_text_ctx / 2).min(n_text_ctx - prompt)
}

/// Splits audio longer than 30 s at the quietest 100 ms within the last 5 s of each window.
pub fn split_segments(samples: &[f32]) -> Vec<&[f32]> {
    let max = features::FULL_FRAMES * HOP;
    let mut out = Vec::new();
    let mut rest = samples;
    while rest.len() > max {
        let win = SAMPLE_RATE / 10;
        let search = (max - 5 * SAMPLE_RATE)..(max - win);
        let cut = search
            .step_by(win / 2)
            .min_by(|&a, &b| energy(&rest[a..a + win]).total_cmp(&energy(&rest[b..b + win])))
            .map_or(max, |a| a + win / 2);
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    out.push(rest);
    out
}

fn energy(x: &[f32]) -> f32 {
    x.iter().map(|v| v * v).sum()
}

/// Log-mel batch `[B, n_mels, F]` for segments, all encoded at the largest context they need.
pub fn mel_batch(
    fe: &MelFrontend,
    segments: &[&[f32]],
    opts: DecodeOptions,
    dev: &candle_core::Device,
) -> Result<Tensor> {
    let frames = segments
        .iter()
        .map(|s| features::context_frames(s.len(), opts.full_context))
        .max()
        .unwrap_or(features::FRAME_GRANULE);
    let mels: Vec<Vec<f32>> = segments.par_iter().map(|s| fe.log_mel(s, frames)).collect();
    let data = mels.concat();
    Tensor::from_vec(data, (segments.len(), fe.n_mels(), frames), dev)
}

/// Greedily decodes ≤ 30 s segments as one batch; `hooks` sees row `i` as segment `i`.
/// Segments of digital silence are not decoded; segments the no-speech rule flags come back
/// with no tokens. Each row's result is independent of the other rows.
pub fn decode_segments(
    model: &Whisper,
    fe: &MelFrontend,
    segments: &[&[f32]],
    hooks: &dyn Hooks,
    opts: DecodeOptions,
) -> Result<Vec<DecodedSegment>> {
    let cfg = &model.config;
    let b = segments.len();
    let silent: Vec<bool> = segments
        .iter()
        .map(|s| no_speech::is_digital_silence(s))
        .collect();
    let silence = || DecodedSegment {
        tokens: vec![],
        stop: Stop::EndOfText,
        stats: SegmentStats {
            no_speech_prob: None,
            avg_logprob: 0.0,
            no_speech: true,
        },
    };
    if silent.iter().all(|&s| s) {
        return Ok(segments.iter().map(|_| silence()).collect());
    }
    let mel = mel_batch(fe, segments, opts, model.device())?;
    let audio = model.encode(&mel, hooks, false)?;
    let mut cache = model.decoder.start(&audio, hooks)?;
    let prompt = cfg.prompt();
    let sot_index = prompt
        .iter()
        .position(|&t| t == cfg.tokens.sot)
        .unwrap_or(0);
    let budgets: Vec<usize> = segments
        .iter()
        .map(|s| {
            token_budget(
                s.len() as f32 / SAMPLE_RATE as f32,
                cfg.n_text_ctx,
                prompt.len(),
            )
        })
        .collect();
    let mut suppress = vec![0f32; cfg.n_vocab];
    for &t in &cfg.suppress {
        if let Some(s) = suppress.get_mut(t as usize) {
            *s = f32::NEG_INFINITY;
        }
    }
    // Every special token (all ids above <|endoftext|>) including timestamps is never emitted.
    for s in suppress.iter_mut().skip(cfg.tokens.eot as usize + 1) {
        *s = f32::NEG_INFINITY;
    }
    let mut suppress_first = suppress.clone();
    for &t in &cfg.suppress_at_begin {
        if let Some(s) = suppress_first.get_mut(t as usize) {
            *s = f32::NEG_INFINITY;
        }
    }
    let mut out: Vec<Vec<u32>> = vec![Vec::new(); b];
    let mut logprobs: Vec<LogProbs> = vec![LogProbs::default(); b];
    let mut no_speech_prob: Vec<Option<f32>> = vec![None; b];
    // Digital silence rides along already stopped: it never changes the other rows.
    let mut stop: Vec<Option<Stop>> = silent
        .iter()
        .map(|&s| s.then_some(Stop::EndOfText))
        .collect();
    let rows: Vec<u32> = prompt
        .iter()
        .copied()
        .cycle()
        .take(prompt.len() * b)
        .collect();
    let mut input = Tensor::from_vec(rows, (b, prompt.len()), model.device())?;
    for step in 0.. {
        let logits = if step == 0 {
            let (last, at_sot) = model
                .decoder
                .step_also_at(&input, &mut cache, hooks, sot_index)?;
            if let Some(ns) = cfg.tokens.no_speech.map(|t| t as usize) {
                for (i, row) in at_sot.to_vec2::<f32>()?.iter().enumerate() {
                    if !silent[i] && ns < row.len() {
                        no_speech_prob[i] = Some(no_speech::softmax_at(row, ns));
                    }
                }
            }
            last.to_vec2::<f32>()?
        } else {
            model
                .decoder
                .step(&input, &mut cache, hooks)?
                .to_vec2::<f32>()?
        };
        let mask = if step == 0 {
            &suppress_first
        } else {
            &suppress
        };
        let mut next = Vec::with_capacity(b);
        for (i, row) in logits.iter().enumerate() {
            if stop[i].is_some() {
                next.push(cfg.tokens.eot);
                continue;
            }
            let tok = argmax(row, mask);
            let masked = row.iter().zip(mask).map(|(&l, &m)| l + m);
            let lp = no_speech::log_softmax_at(masked, row[tok as usize] + mask[tok as usize]);
            if tok == cfg.tokens.eot {
                logprobs[i].end(lp);
                stop[i] = Some(Stop::EndOfText);
            } else {
                out[i].push(tok);
                logprobs[i].push(lp);
                if let Some(keep) = repetition_cut(&out[i]) {
                    out[i].truncate(keep);
                    logprobs[i].truncate(keep);
                    stop[i] = Some(Stop::Repetition);
                } else if out[i].len() >= budgets[i] {
                    stop[i] = Some(match budget_cut(&out[i]) {
                        Some(keep) => {
                            out[i].truncate(keep);
                            logprobs[i].truncate(keep);
                            Stop::Repetition
                        }
                        None => Stop::TokenBudget,
                    });
                }
            }
            next.push(tok);
        }
        if stop.iter().all(Option::is_some) || cache.offset + 1 >= cfg.n_text_ctx {
            break;
        }
        input = Tensor::from_vec(next, (b, 1), model.device())?;
    }
    Ok((0..b)
        .map(|i| {
            if silent[i] {
                return silence();
            }
            let avg_logprob = logprobs[i].average();
            let flagged = is_no_speech(no_speech_prob[i], avg_logprob);
            DecodedSegment {
                tokens: if flagged {
                    vec![]
                } else {
                    std::mem::take(&mut out[i])
                },
                stop: stop[i].unwrap_or(Stop::TokenBudget),
                stats: SegmentStats {
                    no_speech_prob: no_speech_prob[i],
                    avg_logprob,
                    no_speech: flagged,
                },
            }
        })
        .collect())
}

fn argmax(row: &[f32], suppress: &[f32]) -> u32 {
    let mut best = (0u32, f32::NEG_INFINITY);
    for (i, (&l, &s)) in row.iter().zip(suppress).enumerate() {
        let v = l + s;
        if v > best.1 {
            best = (i as u32, v);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_grows_with_audio_and_is_capped() {
        assert_eq!(token_budget(1.0, 448, 2), 17);
        assert_eq!(token_budget(100.0, 448, 2), 224);
    }

    #[test]
    fn long_audio_splits_into_windows_of_at_most_30_s() {
        let audio = vec![0.1f32; SAMPLE_RATE * 65];
        let segs = split_segments(&audio);
        assert_eq!(segs.len(), 3);
        assert!(segs.iter().all(|s| s.len() <= 30 * SAMPLE_RATE));
        assert_eq!(segs.iter().map(|s| s.len()).sum::<usize>(), audio.len());
    }
}
