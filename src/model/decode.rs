//! Greedy batched decoding without timestamps: suppression rules, a token budget bounded by the
//! audio length, a repetition-loop guard, and splitting of audio longer than 30 s.

use candle_core::{Result, Tensor};
use serde::Serialize;

use super::{Hooks, Whisper};
use crate::features::{self, HOP, MelFrontend, SAMPLE_RATE};

/// How to decode.
#[derive(Debug, Clone, Copy, Default)]
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

/// Result for one input audio.
#[derive(Debug, Clone, Serialize)]
pub struct Transcript {
    pub text: String,
    pub tokens: Vec<u32>,
    /// The stop reason of each 30 s segment.
    pub stops: Vec<Stop>,
}

/// Most new tokens for `seconds` of audio: 10 + 7 per second, capped by the text context.
pub fn token_budget(seconds: f32, n_text_ctx: usize, prompt: usize) -> usize {
    let by_audio = 10 + (seconds.max(0.0) * 7.0).ceil() as usize;
    by_audio.min(n_text_ctx / 2).min(n_text_ctx - prompt)
}

/// If `tokens` ends in a loop (an n-gram repeated back to back: 4× for n ≤ 2, 3× for longer),
/// returns the length that keeps a single copy.
pub fn repetition_cut(tokens: &[u32]) -> Option<usize> {
    for n in 1..=tokens.len() / 3 {
        let reps = if n <= 2 { 4 } else { 3 };
        if n * reps > tokens.len() {
            break;
        }
        let tail = &tokens[tokens.len() - n * reps..];
        let gram = &tail[..n];
        if tail.chunks(n).all(|c| c == gram) {
            return Some(tokens.len() - n * (reps - 1));
        }
    }
    None
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
    let data: Vec<f32> = segments
        .iter()
        .flat_map(|s| fe.log_mel(s, frames))
        .collect();
    Tensor::from_vec(data, (segments.len(), fe.n_mels(), frames), dev)
}

/// Greedily decodes ≤ 30 s segments as one batch; `hooks` sees row `i` as segment `i`.
pub fn decode_segments(
    model: &Whisper,
    fe: &MelFrontend,
    segments: &[&[f32]],
    hooks: &dyn Hooks,
    opts: DecodeOptions,
) -> Result<Vec<(Vec<u32>, Stop)>> {
    let cfg = &model.config;
    let b = segments.len();
    let mel = mel_batch(fe, segments, opts, model.device())?;
    let audio = model.encode(&mel, hooks, false)?;
    let mut cache = model.decoder.start(&audio, hooks)?;
    let prompt = cfg.prompt();
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
    let mut out: Vec<Vec<u32>> = vec![Vec::new(); b];
    let mut stop: Vec<Option<Stop>> = vec![None; b];
    let rows: Vec<u32> = prompt
        .iter()
        .copied()
        .cycle()
        .take(prompt.len() * b)
        .collect();
    let mut input = Tensor::from_vec(rows, (b, prompt.len()), model.device())?;
    for step in 0.. {
        let logits = model
            .decoder
            .step(&input, &mut cache, hooks)?
            .to_vec2::<f32>()?;
        let mut next = Vec::with_capacity(b);
        for (i, row) in logits.iter().enumerate() {
            if stop[i].is_some() {
                next.push(cfg.tokens.eot);
                continue;
            }
            let tok = argmax(
                row,
                &suppress,
                if step == 0 {
                    &cfg.suppress_at_begin
                } else {
                    &[]
                },
            );
            if tok == cfg.tokens.eot {
                stop[i] = Some(Stop::EndOfText);
            } else {
                out[i].push(tok);
                if let Some(keep) = repetition_cut(&out[i]) {
                    out[i].truncate(keep);
                    stop[i] = Some(Stop::Repetition);
                } else if out[i].len() >= budgets[i] {
                    stop[i] = Some(Stop::TokenBudget);
                }
            }
            next.push(tok);
        }
        if stop.iter().all(Option::is_some) || cache.offset + 1 >= cfg.n_text_ctx {
            break;
        }
        input = Tensor::from_vec(next, (b, 1), model.device())?;
    }
    Ok(out
        .into_iter()
        .zip(stop)
        .map(|(t, s)| (t, s.unwrap_or(Stop::TokenBudget)))
        .collect())
}

fn argmax(row: &[f32], suppress: &[f32], extra: &[u32]) -> u32 {
    let mut best = (0u32, f32::NEG_INFINITY);
    for (i, (&l, &s)) in row.iter().zip(suppress).enumerate() {
        let v = l + s;
        if v > best.1 && !extra.contains(&(i as u32)) {
            best = (i as u32, v);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loops_are_cut_to_one_copy() {
        assert_eq!(repetition_cut(&[1, 2, 3, 4]), None);
        assert_eq!(repetition_cut(&[9, 5, 5, 5, 5]), Some(2));
        assert_eq!(repetition_cut(&[9, 1, 2, 3, 1, 2, 3, 1, 2, 3]), Some(4));
        // "no no no" (three times a one-token word) is allowed.
        assert_eq!(repetition_cut(&[7, 7, 7]), None);
    }

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
