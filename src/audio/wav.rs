//! WAV file I/O: decode any PCM/float WAV into 16 kHz mono `f32`, write
//! 16 kHz mono 16-bit WAVs atomically and privately, and detect silence.

use std::io::Cursor;
use std::path::Path;

use super::error::AudioError;
use super::resample::resample_named;
use crate::util::atomic::write_atomic;

/// The sample rate every part of the crate works at (Whisper's input rate).
pub const SAMPLE_RATE: u32 = 16_000;

/// The lowest sample rate accepted: telephone audio. Anything lower is a broken header (a file
/// declaring 1 Hz would otherwise decode as hours of audio), not speech.
pub const MIN_SAMPLE_RATE: u32 = 8_000;

/// The highest sample rate accepted: 384 kHz, the top of what recorders write. The resampler's
/// work and memory grow with the rate's ratio to 16 kHz: a header declaring a 10 MHz rate would
/// cost gigabytes and most of a minute for a few hundred bytes of audio.
pub const MAX_SAMPLE_RATE: u32 = 384_000;

/// Audio whose peak stays below this level (dBFS) counts as silent.
pub const SILENCE_PEAK_DBFS: f32 = -60.0;
/// Audio whose RMS level is below this (dBFS) counts as silent even if a
/// stray click pushes its peak above [`SILENCE_PEAK_DBFS`].
pub const SILENCE_RMS_DBFS: f32 = -70.0;

/// Reads any WAV file (8/16/24/32-bit integer or 32-bit float PCM, any sample
/// rate from [`MIN_SAMPLE_RATE`] to [`MAX_SAMPLE_RATE`], any channel count) and returns 16 kHz mono samples in `[-1, 1]`.
///
/// Channels are mixed down by averaging; other rates are resampled with
/// [`super::resample::resample`]. Every error names `path`.
pub fn read_wav(path: &Path) -> Result<Vec<f32>, AudioError> {
    let bytes = std::fs::read(path).map_err(|source| AudioError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    decode_wav_bytes(&bytes, path)
}

/// Decodes an in-memory WAV file like [`read_wav`]; `name` is used in errors.
pub fn decode_wav_bytes(bytes: &[u8], name: &Path) -> Result<Vec<f32>, AudioError> {
    check_riff_header(bytes, name)?;
    let mut reader =
        hound::WavReader::new(Cursor::new(bytes)).map_err(|e| map_hound(e, name, "header"))?;
    let spec = reader.spec();
    check_spec(&spec, name)?;

    let declared = reader.len() as usize;
    if declared == 0 {
        return Err(AudioError::Empty {
            path: name.to_path_buf(),
        });
    }
    // Never trust the header for the allocation size.
    let mut interleaved = Vec::with_capacity(declared.min(bytes.len()));
    match spec.sample_format {
        hound::SampleFormat::Int => {
            let scale = 1.0 / f64::from(1u32 << (spec.bits_per_sample - 1));
            for s in reader.samples::<i32>() {
                let s = s.map_err(|e| mid_stream(e, name, interleaved.len(), declared))?;
                interleaved.push((f64::from(s) * scale) as f32);
            }
        }
        hound::SampleFormat::Float => {
            for s in reader.samples::<f32>() {
                let s = s.map_err(|e| mid_stream(e, name, interleaved.len(), declared))?;
                if !s.is_finite() {
                    return Err(AudioError::NonFinite {
                        path: name.to_path_buf(),
                        index: interleaved.len(),
                    });
                }
                interleaved.push(s.clamp(-1.0, 1.0));
            }
        }
    }
    if interleaved.len() < declared {
        return Err(truncated(name, interleaved.len(), declared));
    }

    let mono = mix_down(&interleaved, usize::from(spec.channels));
    let mut out = if spec.sample_rate == SAMPLE_RATE {
        mono
    } else {
        resample_named(&mono, spec.sample_rate, SAMPLE_RATE, name)?
    };
    // Band-limiting can overshoot slightly near full scale.
    out.iter_mut().for_each(|s| *s = s.clamp(-1.0, 1.0));
    tracing::debug!(
        file = %name.display(),
        rate = spec.sample_rate,
        channels = spec.channels,
        bits = spec.bits_per_sample,
        samples = out.len(),
        "decoded WAV"
    );
    Ok(out)
}

/// Writes `samples` as a 16 kHz mono 16-bit PCM WAV, atomically and with
/// file mode 0600. Samples are clamped to `[-1, 1]` and rounded; NaN is
/// written as 0.
pub fn write_wav_16k(path: &Path, samples: &[f32]) -> Result<(), AudioError> {
    let io_err = |source: std::io::Error| AudioError::Io {
        path: path.to_path_buf(),
        source,
    };
    let hound_err = |e: hound::Error| match e {
        hound::Error::IoError(source) => io_err(source),
        other => io_err(std::io::Error::other(other.to_string())),
    };
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    {
        let mut writer = hound::WavWriter::new(&mut cursor, spec).map_err(hound_err)?;
        for &s in samples {
            writer.write_sample(to_i16(s)).map_err(hound_err)?;
        }
        writer.finalize().map_err(hound_err)?;
    }
    write_atomic(path, cursor.get_ref()).map_err(io_err)
}

/// True if `samples` is empty, its peak is below [`SILENCE_PEAK_DBFS`], or
/// its RMS is below [`SILENCE_RMS_DBFS`]. Non-finite samples count as loud.
pub fn is_silent(samples: &[f32]) -> bool {
    if samples.is_empty() {
        return true;
    }
    let mut peak = 0.0f32;
    let mut sum_sq = 0.0f64;
    for &s in samples {
        if !s.is_finite() {
            return false;
        }
        peak = peak.max(s.abs());
        sum_sq += f64::from(s) * f64::from(s);
    }
    let rms = (sum_sq / samples.len() as f64).sqrt() as f32;
    peak < db_to_amplitude(SILENCE_PEAK_DBFS) || rms < db_to_amplitude(SILENCE_RMS_DBFS)
}

/// Converts a dBFS level to a linear amplitude (0 dBFS = 1.0).
fn db_to_amplitude(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// Quantises one sample to 16 bits (clamped, rounded, NaN → 0).
fn to_i16(s: f32) -> i16 {
    if s.is_nan() {
        return 0;
    }
    (s.clamp(-1.0, 1.0) * 32767.0).round() as i16
}

/// Averages interleaved frames of `channels` samples into one channel.
fn mix_down(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels <= 1 {
        return interleaved.to_vec();
    }
    let inv = 1.0 / channels as f32;
    interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() * inv)
        .collect()
}

/// Rejects anything that does not start like a RIFF/WAVE file.
fn check_riff_header(bytes: &[u8], name: &Path) -> Result<(), AudioError> {
    let not_wav = |reason: &str| AudioError::NotWav {
        path: name.to_path_buf(),
        reason: reason.to_string(),
    };
    match bytes.get(..4) {
        Some(b"RIFF") => {}
        Some(b"RF64") | Some(b"BW64") => {
            return Err(AudioError::Unsupported {
                path: name.to_path_buf(),
                detail: "RF64/BW64 container".into(),
            });
        }
        _ if bytes.is_empty() => return Err(not_wav("file is empty")),
        _ => return Err(not_wav("RIFF header missing")),
    }
    match bytes.get(8..12) {
        Some(b"WAVE") => Ok(()),
        Some(_) => Err(not_wav("RIFF file is not of type WAVE")),
        None => Err(AudioError::Truncated {
            path: name.to_path_buf(),
            detail: format!("only {} bytes, header incomplete", bytes.len()),
        }),
    }
}

/// Accepts only encodings hound decodes and that make sense as audio.
fn check_spec(spec: &hound::WavSpec, name: &Path) -> Result<(), AudioError> {
    let bits = spec.bits_per_sample;
    let ok = match spec.sample_format {
        hound::SampleFormat::Int => matches!(bits, 8 | 16 | 24 | 32),
        hound::SampleFormat::Float => bits == 32,
    };
    if !ok {
        return Err(AudioError::Unsupported {
            path: name.to_path_buf(),
            detail: format!("{bits}-bit {:?} samples", spec.sample_format),
        });
    }
    if spec.channels == 0 || spec.sample_rate == 0 {
        return Err(AudioError::Corrupt {
            path: name.to_path_buf(),
            detail: format!(
                "{} channels at {} Hz in header",
                spec.channels, spec.sample_rate
            ),
        });
    }
    if spec.sample_rate < MIN_SAMPLE_RATE {
        return Err(AudioError::Unsupported {
            path: name.to_path_buf(),
            detail: format!(
                "sample rate {} Hz is below the {MIN_SAMPLE_RATE} Hz minimum",
                spec.sample_rate
            ),
        });
    }
    if spec.sample_rate > MAX_SAMPLE_RATE {
        return Err(AudioError::Unsupported {
            path: name.to_path_buf(),
            detail: format!(
                "sample rate {} Hz is above the {MAX_SAMPLE_RATE} Hz maximum",
                spec.sample_rate
            ),
        });
    }
    Ok(())
}

/// The error for a data chunk that ends after `got` of `declared` samples.
fn truncated(name: &Path, got: usize, declared: usize) -> AudioError {
    AudioError::Truncated {
        path: name.to_path_buf(),
        detail: format!("header declares {declared} samples, file holds {got}"),
    }
}

/// Maps a hound error raised while reading sample data.
fn mid_stream(e: hound::Error, name: &Path, got: usize, declared: usize) -> AudioError {
    match e {
        // In-memory reads fail only by running out of bytes.
        hound::Error::IoError(_) => truncated(name, got, declared),
        other => map_hound(other, name, "sample data"),
    }
}

/// hound's format complaints that really mean "valid WAV, unsupported depth".
const UNSUPPORTED_BITS: [&str; 3] = [
    "bits per sample is not 32",
    "bits per sample is not 8 or 16",
    "bits per sample is not a multiple of 8",
];

/// Maps a hound error to the matching [`AudioError`]; `part` says where.
fn map_hound(e: hound::Error, name: &Path, part: &str) -> AudioError {
    let path = name.to_path_buf();
    match e {
        // Decoding reads from memory, so any I/O error means "ran out of bytes".
        hound::Error::IoError(_) => AudioError::Truncated {
            path,
            detail: format!("file ends inside the {part}"),
        },
        hound::Error::FormatError(msg) if UNSUPPORTED_BITS.contains(&msg) => {
            AudioError::Unsupported {
                path,
                detail: msg.to_string(),
            }
        }
        hound::Error::FormatError(msg) => AudioError::Corrupt {
            path,
            detail: format!("{part}: {msg}"),
        },
        hound::Error::Unsupported => AudioError::Unsupported {
            path,
            detail: "encoding is not uncompressed PCM or 32-bit float".into(),
        },
        other => AudioError::Corrupt {
            path,
            detail: format!("{part}: {other}"),
        },
    }
}
