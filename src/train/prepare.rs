//! Turns utterances (from the speaker store or any set) into a job's `SpeakerData`: reads the
//! audio (plus speed-perturbed copies when asked), computes each utterance's mel at its own
//! encoder context, tokenizes the transcripts.

use rayon::prelude::*;

use crate::dataset::Utterance;
use crate::recognizer::Recognizer;

use super::data::{example, example_frames};
use super::{SpeakerData, TrainError};

/// A speaker's utterances before loading.
pub struct SpeakerSet {
    pub id: String,
    pub train: Vec<Utterance>,
    /// Early stopping and version choice only (never the test part).
    pub dev: Vec<Utterance>,
}

fn read(u: &Utterance) -> Result<Vec<f32>, TrainError> {
    crate::audio::read_wav(&u.audio).map_err(|e| TrainError::Data(e.to_string()))
}

/// Speed perturbation's accepted factors.
const SPEEDS: std::ops::RangeInclusive<f64> = 0.5..=2.0;

/// `audio` (16 kHz) played `factor` times as fast: resampled as if it had been recorded at
/// `factor` × 16 kHz, so tempo and pitch both change (Kaldi's speed perturbation).
pub fn speed_perturb(audio: &[f32], factor: f64) -> Result<Vec<f32>, TrainError> {
    if !SPEEDS.contains(&factor) {
        return Err(TrainError::Data(format!(
            "speed factor {factor}: must be between {} and {}",
            SPEEDS.start(),
            SPEEDS.end()
        )));
    }
    let rate = crate::features::SAMPLE_RATE as u32;
    let from = (f64::from(rate) * factor).round() as u32;
    crate::audio::resample(audio, from, rate).map_err(|e| TrainError::Data(e.to_string()))
}

/// Loads every speaker's audio and builds examples, each at its own dynamic encoder context —
/// the context inference will decode that utterance at. With `speeds`, each training
/// utterance also enters once per factor, resampled by [`speed_perturb`] (dev audio never).
pub fn prepare(
    rec: &Recognizer,
    sets: &[SpeakerSet],
    speeds: &[f64],
) -> Result<Vec<SpeakerData>, TrainError> {
    let mut loaded = Vec::new();
    for s in sets {
        if s.train.is_empty() {
            return Err(TrainError::Data(format!(
                "speaker {} has no training utterances",
                s.id
            )));
        }
        let mut train = s
            .train
            .iter()
            .map(|u| Ok((read(u)?, u.text.clone())))
            .collect::<Result<Vec<_>, TrainError>>()?;
        // Each speed's copies in the order of the originals (utterances in parallel).
        let jobs: Vec<(f64, &(Vec<f32>, String))> = speeds
            .iter()
            .flat_map(|&f| train.iter().map(move |u| (f, u)))
            .collect();
        let perturbed = jobs
            .into_par_iter()
            .map(|(f, (audio, text))| Ok((speed_perturb(audio, f)?, text.clone())))
            .collect::<Result<Vec<_>, TrainError>>()?;
        train.extend(perturbed);
        let dev = s
            .dev
            .iter()
            .map(|u| Ok((read(u)?, u.text.clone())))
            .collect::<Result<Vec<_>, TrainError>>()?;
        loaded.push((s.id.clone(), train, dev));
    }
    let cfg = &rec.model.config;
    loaded
        .into_iter()
        .map(|(id, train, dev)| {
            let train = train
                .par_iter()
                .map(|(a, text)| {
                    example(
                        &rec.frontend,
                        &rec.tokenizer,
                        cfg,
                        a,
                        text,
                        example_frames(a.len()),
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(SpeakerData { id, train, dev })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Upward zero crossings: the number of cycles of a tone.
    fn cycles(x: &[f32]) -> usize {
        x.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count()
    }

    #[test]
    fn speed_perturbation_changes_length_and_pitch_but_keeps_every_cycle() {
        let tone: Vec<f32> = (0..16_000)
            .map(|i| (2.0 * std::f32::consts::PI * 200.0 * i as f32 / 16_000.0 + 0.3).sin())
            .collect();
        for (factor, len) in [(0.9f64, 17_778usize), (1.1, 14_545)] {
            let out = speed_perturb(&tone, factor).unwrap();
            assert!(
                out.len().abs_diff(len) <= 1,
                "{factor}: {} samples",
                out.len()
            );
            // Same 200 cycles in a shorter / longer clip: 200 Hz became 200·factor Hz.
            assert!(cycles(&out).abs_diff(cycles(&tone)) <= 1, "{factor}");
            let rms = (out.iter().map(|v| v * v).sum::<f32>() / out.len() as f32).sqrt();
            assert!((rms - 0.5f32.sqrt()).abs() < 0.02, "{factor}: rms {rms}");
        }
    }

    #[test]
    fn an_out_of_range_speed_factor_is_refused_by_name() {
        let err = speed_perturb(&[0.0; 100], 3.0).unwrap_err().to_string();
        assert!(
            err.contains("speed factor 3") && err.contains("0.5"),
            "{err}"
        );
    }
}
