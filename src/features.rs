//! Whisper's log-mel front end: 25 ms Hann frames every 10 ms (realfft), Slaney 80-bin mel
//! filterbank computed here, log10 with an 8-decade floor, scaled as Whisper expects.

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};

/// Samples per second the model expects.
pub const SAMPLE_RATE: usize = 16_000;
/// FFT size (25 ms) and hop (10 ms).
pub const N_FFT: usize = 400;
pub const HOP: usize = 160;
/// Mel frames in Whisper's full 30 s window.
pub const FULL_FRAMES: usize = 3000;
/// Dynamic context: encode the audio's frames plus this much trailing silence…
pub const PAD_FRAMES: usize = 300;
/// …rounded up to a multiple of this many frames (1 s).
pub const FRAME_GRANULE: usize = 100;

/// Mel frames to encode for `n_samples` of audio: the whole 30 s window when `full`, otherwise
/// the audio plus [`PAD_FRAMES`] of silence rounded up to [`FRAME_GRANULE`], at most 30 s.
pub fn context_frames(n_samples: usize, full: bool) -> usize {
    if full {
        return FULL_FRAMES;
    }
    let frames = n_samples.div_ceil(HOP) + PAD_FRAMES;
    (frames.div_ceil(FRAME_GRANULE) * FRAME_GRANULE).min(FULL_FRAMES)
}

/// Precomputed window, filterbank and FFT plan.
#[derive(Clone)]
pub struct MelFrontend {
    n_mels: usize,
    window: Vec<f32>,
    /// `[n_mels, N_FFT/2 + 1]`, row-major.
    filters: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
}

impl MelFrontend {
    pub fn new(n_mels: usize) -> Self {
        let window = (0..N_FFT)
            .map(|i| {
                let x = 2.0 * std::f64::consts::PI * i as f64 / N_FFT as f64;
                (0.5 - 0.5 * x.cos()) as f32 // periodic Hann, as torch.hann_window
            })
            .collect();
        Self {
            n_mels,
            window,
            filters: slaney_filterbank(SAMPLE_RATE as f64, N_FFT, n_mels),
            fft: RealFftPlanner::<f32>::new().plan_fft_forward(N_FFT),
        }
    }

    pub fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// Log-mel of `samples` (16 kHz mono) zero-padded or cut to exactly `frames` frames;
    /// returns `[n_mels, frames]` row-major.
    pub fn log_mel(&self, samples: &[f32], frames: usize) -> Vec<f32> {
        let n = frames * HOP;
        let mut audio = samples[..samples.len().min(n)].to_vec();
        audio.resize(n, 0.0);
        // torch.stft(center=True): reflect-pad N_FFT/2 on both sides.
        let half = N_FFT / 2;
        let mut padded = Vec::with_capacity(n + N_FFT);
        padded.extend(
            (1..=half)
                .rev()
                .map(|i| audio.get(i).copied().unwrap_or(0.0)),
        );
        padded.extend_from_slice(&audio);
        padded.extend((0..half).map(|i| audio.len().checked_sub(2 + i).map_or(0.0, |j| audio[j])));
        let bins = N_FFT / 2 + 1;
        let mut input = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        let mut power = vec![0f32; bins];
        let mut mel = vec![0f32; self.n_mels * frames];
        for f in 0..frames {
            let start = f * HOP;
            for ((x, s), w) in input
                .iter_mut()
                .zip(&padded[start..start + N_FFT])
                .zip(&self.window)
            {
                *x = s * w;
            }
            self.fft
                .process_with_scratch(&mut input, &mut spectrum, &mut scratch)
                .expect("FFT buffers are sized by the plan");
            for (p, c) in power.iter_mut().zip(&spectrum) {
                *p = c.norm_sqr();
            }
            for (m, row) in self.filters.chunks(bins).enumerate() {
                let e: f32 = row.iter().zip(&power).map(|(a, b)| a * b).sum();
                mel[m * frames + f] = e.max(1e-10).log10();
            }
        }
        let max = mel.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        for v in &mut mel {
            *v = (v.max(max - 8.0) + 4.0) / 4.0;
        }
        mel
    }
}

fn hz_to_mel(f: f64) -> f64 {
    let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
    let logstep = (6.4f64).ln() / 27.0;
    if f >= min_log_hz {
        min_log_hz / f_sp + (f / min_log_hz).ln() / logstep
    } else {
        f / f_sp
    }
}

fn mel_to_hz(m: f64) -> f64 {
    let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
    let min_log_mel = min_log_hz / f_sp;
    let logstep = (6.4f64).ln() / 27.0;
    if m >= min_log_mel {
        min_log_hz * (logstep * (m - min_log_mel)).exp()
    } else {
        f_sp * m
    }
}

/// librosa `filters.mel(sr, n_fft, n_mels)` with Slaney mel scale and Slaney area normalisation.
pub fn slaney_filterbank(sr: f64, n_fft: usize, n_mels: usize) -> Vec<f32> {
    let bins = n_fft / 2 + 1;
    let fft_freqs: Vec<f64> = (0..bins).map(|i| i as f64 * sr / n_fft as f64).collect();
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(sr / 2.0));
    let mel_f: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (n_mels + 1) as f64))
        .collect();
    let mut w = vec![0f32; n_mels * bins];
    for m in 0..n_mels {
        let (f0, f1, f2) = (mel_f[m], mel_f[m + 1], mel_f[m + 2]);
        let enorm = 2.0 / (f2 - f0);
        for (k, &f) in fft_freqs.iter().enumerate() {
            let lower = (f - f0) / (f1 - f0);
            let upper = (f2 - f) / (f2 - f1);
            w[m * bins + k] = (lower.min(upper).max(0.0) * enorm) as f32;
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filterbank_matches_librosa_values() {
        // librosa.filters.mel(sr=16000, n_fft=400, n_mels=80): [0, 1] = 0.02486259,
        // [1, 2] = 0.02287177 (hand-computed from librosa's formulas), row 79 peaks at bin 192.
        let w = slaney_filterbank(16000.0, 400, 80);
        assert!((w[1] - 0.024_862_59).abs() < 1e-6, "{}", w[1]);
        assert!((w[201 + 2] - 0.022_871_77).abs() < 1e-6, "{}", w[203]);
        let last = &w[79 * 201..80 * 201];
        let peak = last
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        assert!((188..=196).contains(&peak), "peak bin {peak}");
    }

    #[test]
    fn a_tone_lights_up_its_mel_band_only() {
        let fe = MelFrontend::new(80);
        let tone: Vec<f32> = (0..16000)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16000.0).sin() * 0.5)
            .collect();
        let mel = fe.log_mel(&tone, 100);
        // Average over frames per band; the loudest band holds 1 kHz (Slaney mel ≈ band 28).
        let energy: Vec<f32> = (0..80)
            .map(|m| mel[m * 100..(m + 1) * 100].iter().sum::<f32>())
            .collect();
        let best = energy
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        let center = mel_to_hz(
            hz_to_mel(0.0) + (hz_to_mel(8000.0) - hz_to_mel(0.0)) * (best + 1) as f64 / 81.0,
        );
        assert!(
            (center - 1000.0).abs() < 60.0,
            "band {best} centred at {center} Hz"
        );
    }

    #[test]
    fn context_is_the_audio_plus_padding_rounded_up() {
        assert_eq!(context_frames(16000 * 3, false), 600); // 300 + 300
        assert_eq!(context_frames(16000 * 3 + 1, false), 700);
        assert_eq!(context_frames(16000 * 40, false), FULL_FRAMES);
        assert_eq!(context_frames(100, true), FULL_FRAMES);
    }
}
