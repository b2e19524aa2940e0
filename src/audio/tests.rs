//! Tests for WAV decoding/encoding and resampling, using real files written
//! with hound into temporary directories.

use std::f64::consts::PI;
use std::path::{Path, PathBuf};

use realfft::RealFftPlanner;

use super::*;

/// `secs` of a sine at `freq` Hz, sampled at `rate`, with peak `amp`.
fn sine(freq: f64, rate: u32, secs: f64, amp: f64) -> Vec<f64> {
    let n = (secs * f64::from(rate)).round() as usize;
    (0..n)
        .map(|i| amp * (2.0 * PI * freq * i as f64 / f64::from(rate)).sin())
        .collect()
}

/// Writes interleaved `samples` (in [-1, 1]) with the given encoding and
/// returns, per sample, the value the file actually stores (quantised).
fn write_test_wav(
    path: &Path,
    rate: u32,
    channels: u16,
    bits: u16,
    float: bool,
    samples: &[f64],
) -> Vec<f64> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let full = f64::from(1u32 << (bits - 1));
    let mut stored = Vec::with_capacity(samples.len());
    for &x in samples {
        if float {
            w.write_sample(x as f32).unwrap();
            stored.push(f64::from(x as f32));
            continue;
        }
        let q = (x * full).round().clamp(-full, full - 1.0);
        match bits {
            8 => w.write_sample(q as i8).unwrap(),
            16 => w.write_sample(q as i16).unwrap(),
            _ => w.write_sample(q as i32).unwrap(),
        }
        stored.push(q / full);
    }
    w.finalize().unwrap();
    stored
}

/// Builds a WAV byte image by hand (for encodings hound will not write).
fn raw_wav(format_tag: u16, channels: u16, rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
    let block = channels * bits / 8;
    let mut v = Vec::new();
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&format_tag.to_le_bytes());
    v.extend_from_slice(&channels.to_le_bytes());
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
    v.extend_from_slice(&block.to_le_bytes());
    v.extend_from_slice(&bits.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&(data.len() as u32).to_le_bytes());
    v.extend_from_slice(data);
    v
}

/// Frequency (Hz) of the strongest FFT bin, and the bin width.
fn peak_frequency(x: &[f32], rate: u32) -> (f64, f64) {
    let mut planner = RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(x.len());
    let mut input: Vec<f64> = x.iter().map(|&s| f64::from(s)).collect();
    let mut spectrum = fft.make_output_vec();
    fft.process(&mut input, &mut spectrum).unwrap();
    let (bin, _) = spectrum
        .iter()
        .enumerate()
        .skip(1)
        .max_by(|a, b| a.1.norm().total_cmp(&b.1.norm()))
        .unwrap();
    let width = f64::from(rate) / x.len() as f64;
    (bin as f64 * width, width)
}

fn rms_db(x: &[f32]) -> f64 {
    let ms = x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len() as f64;
    10.0 * ms.log10()
}

fn file_in(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

#[test]
fn integer_depths_round_trip_within_quantisation() {
    let dir = tempfile::tempdir().unwrap();
    let mut signal = sine(440.0, SAMPLE_RATE, 0.25, 0.8);
    signal.extend([1.0, -1.0, 0.0, 0.5, -0.5]);
    for bits in [8u16, 16, 24, 32] {
        let path = file_in(&dir, &format!("int{bits}.wav"));
        let stored = write_test_wav(&path, SAMPLE_RATE, 1, bits, false, &signal);
        let got = read_wav(&path).unwrap();
        assert_eq!(got.len(), signal.len(), "{bits}-bit length");
        let step = (1.0 / f64::from(1u32 << (bits - 1))).max(f64::from(f32::EPSILON));
        for (i, ((&g, &s), &x)) in got.iter().zip(&stored).zip(&signal).enumerate() {
            assert!((f64::from(g) - s).abs() < 1e-6, "{bits}-bit sample {i}");
            assert!((f64::from(g) - x).abs() <= step, "{bits}-bit sample {i}");
            assert!((-1.0..=1.0).contains(&g));
        }
    }
}

#[test]
fn float32_round_trips_exactly_and_is_clamped() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_in(&dir, "float.wav");
    let mut signal = sine(300.0, SAMPLE_RATE, 0.1, 0.9);
    signal.push(1.5); // out-of-range float sample
    let stored = write_test_wav(&path, SAMPLE_RATE, 1, 32, true, &signal);
    let got = read_wav(&path).unwrap();
    assert_eq!(got.len(), signal.len());
    for (&g, &s) in got.iter().zip(&stored).take(signal.len() - 1) {
        assert_eq!(f64::from(g), s);
    }
    assert_eq!(*got.last().unwrap(), 1.0);
}

#[test]
fn stereo_and_multichannel_are_averaged() {
    let dir = tempfile::tempdir().unwrap();
    let frames = 1600;
    let mut inter = Vec::new();
    for i in 0..frames {
        let t = i as f64 / frames as f64;
        inter.extend([0.6 * t, -0.2]);
    }
    let path = file_in(&dir, "stereo.wav");
    let stored = write_test_wav(&path, SAMPLE_RATE, 2, 16, false, &inter);
    let got = read_wav(&path).unwrap();
    assert_eq!(got.len(), frames);
    for (i, &g) in got.iter().enumerate() {
        let want = (stored[2 * i] + stored[2 * i + 1]) / 2.0;
        assert!((f64::from(g) - want).abs() < 1e-6, "frame {i}");
    }

    // Opposite-phase channels cancel; a third channel contributes a third.
    let inter3: Vec<f64> = (0..300).flat_map(|_| [0.5, -0.5, 0.75]).collect();
    let path3 = file_in(&dir, "three.wav");
    write_test_wav(&path3, SAMPLE_RATE, 3, 32, true, &inter3);
    let got3 = read_wav(&path3).unwrap();
    assert_eq!(got3.len(), 300);
    assert!(got3.iter().all(|&g| (g - 0.25).abs() < 1e-6));
}

#[test]
fn resampled_sine_keeps_frequency_level_length_and_timing() {
    for rate in [44_100u32, 48_000, 8_000, 22_050, 11_025] {
        let amp = 0.5;
        let input: Vec<f32> = sine(1000.0, rate, 1.0, amp)
            .iter()
            .map(|&s| s as f32)
            .collect();
        let out = resample(&input, rate, SAMPLE_RATE).unwrap();
        let expected = input.len() as f64 * f64::from(SAMPLE_RATE) / f64::from(rate);
        assert!(
            (out.len() as f64 - expected).abs() <= 1.0,
            "{rate}: len {} vs {expected}",
            out.len()
        );

        let (peak, width) = peak_frequency(&out, SAMPLE_RATE);
        assert!((peak - 1000.0).abs() <= width, "{rate}: peak at {peak} Hz");

        // Level and time alignment, away from the clip edges.
        let ideal: Vec<f32> = sine(1000.0, SAMPLE_RATE, 1.0, amp)
            .iter()
            .map(|&s| s as f32)
            .collect();
        let mid = &out[800..out.len() - 800];
        let want_db = 20.0 * (amp / 2f64.sqrt()).log10();
        let db = rms_db(mid);
        assert!((db - want_db).abs() < 0.5, "{rate}: {db} dB vs {want_db}");
        let whole_db = rms_db(&out);
        assert!((whole_db - want_db).abs() < 0.5, "{rate}: whole {whole_db}");
        let max_err = out[800..out.len() - 800]
            .iter()
            .zip(&ideal[800..])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(max_err < 2e-3, "{rate}: misaligned, max err {max_err}");
    }
}

#[test]
fn resampled_length_is_exact_for_odd_sizes_and_rates() {
    for rate in [
        8_000u32, 11_025, 22_050, 32_000, 44_100, 48_000, 96_000, 16_001,
    ] {
        for n in [1usize, 2, 7, 100, 1023, 4097, 12_345] {
            let input = vec![0.1f32; n];
            let out = resample(&input, rate, SAMPLE_RATE).unwrap();
            let want = (n as f64 * f64::from(SAMPLE_RATE) / f64::from(rate)).round() as usize;
            assert_eq!(out.len(), want, "rate {rate}, n {n}");
        }
    }
    // Upsampling too.
    assert_eq!(resample(&[0.0; 1000], 16_000, 48_000).unwrap().len(), 3000);
}

#[test]
fn resample_identity_empty_and_bad_rates() {
    let x = vec![0.25f32, -0.5, 0.75];
    assert_eq!(resample(&x, 16_000, 16_000).unwrap(), x);
    assert!(resample(&[], 44_100, 16_000).unwrap().is_empty());
    let err = resample(&x, 0, 16_000).unwrap_err();
    assert!(matches!(err, AudioError::Resample { .. }));
    assert!(err.to_string().starts_with(IN_MEMORY), "{err}");
}

#[test]
fn read_wav_resamples_44k_stereo_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_in(&dir, "cd.wav");
    let mono = sine(1000.0, 44_100, 0.5, 0.4);
    let inter: Vec<f64> = mono.iter().flat_map(|&s| [s, s]).collect();
    write_test_wav(&path, 44_100, 2, 24, false, &inter);
    let got = read_wav(&path).unwrap();
    assert!((got.len() as i64 - 8000).abs() <= 1, "len {}", got.len());
    let (peak, width) = peak_frequency(&got, SAMPLE_RATE);
    assert!((peak - 1000.0).abs() <= width);
    let want_db = 20.0 * (0.4 / 2f64.sqrt()).log10();
    assert!((rms_db(&got) - want_db).abs() < 0.5);
}

#[test]
fn text_file_is_not_a_wav() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_in(&dir, "sample.txt");
    std::fs::write(&path, "hello, this is not audio\n").unwrap();
    let err = read_wav(&path).unwrap_err();
    assert!(matches!(err, AudioError::NotWav { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("{}: not a WAV file (RIFF header missing)", path.display())
    );
    assert_eq!(err.path(), path);

    let err = decode_wav_bytes(b"RIFF\x10\0\0\0AVI LIST", Path::new("movie.avi")).unwrap_err();
    assert!(matches!(err, AudioError::NotWav { .. }), "{err:?}");
    let err = decode_wav_bytes(b"", Path::new("zero.wav")).unwrap_err();
    assert_eq!(err.to_string(), "zero.wav: not a WAV file (file is empty)");
}

#[test]
fn wav_cut_in_half_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    for (bits, float) in [(16u16, false), (24, false), (32, true), (8, false)] {
        let path = file_in(&dir, &format!("cut{bits}.wav"));
        write_test_wav(
            &path,
            44_100,
            2,
            bits,
            float,
            &sine(200.0, 44_100, 0.3, 0.5),
        );
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let err = read_wav(&path).unwrap_err();
        assert!(matches!(err, AudioError::Truncated { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.starts_with(&format!("{}: truncated WAV", path.display())));
        assert!(!msg.contains('\n'));
    }
    // Cut inside the header.
    let bytes = raw_wav(1, 1, 16_000, 16, &[0; 100]);
    let err = decode_wav_bytes(&bytes[..30], Path::new("head.wav")).unwrap_err();
    assert!(matches!(err, AudioError::Truncated { .. }), "{err:?}");
    let err = decode_wav_bytes(&bytes[..10], Path::new("head.wav")).unwrap_err();
    assert!(matches!(err, AudioError::Truncated { .. }), "{err:?}");
}

#[test]
fn empty_wav_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_in(&dir, "empty.wav");
    write_test_wav(&path, SAMPLE_RATE, 1, 16, false, &[]);
    let err = read_wav(&path).unwrap_err();
    assert!(matches!(err, AudioError::Empty { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("{}: WAV file contains no audio samples", path.display())
    );
}

#[test]
fn float_wav_with_nan_or_inf_is_non_finite() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bad) in [("nan.wav", f32::NAN), ("inf.wav", f32::NEG_INFINITY)] {
        let path = file_in(&dir, name);
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 48_000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for s in [0.1f32, 0.2, bad, 0.3] {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
        let err = read_wav(&path).unwrap_err();
        assert!(
            matches!(err, AudioError::NonFinite { index: 2, .. }),
            "{err:?}"
        );
        assert!(err.to_string().starts_with(&path.display().to_string()));
    }
}

#[test]
fn unsupported_and_missing_files() {
    // 64-bit float and 12-bit int are valid WAVs this crate does not decode.
    let f64_wav = raw_wav(3, 1, 16_000, 64, &[0; 64]);
    let err = decode_wav_bytes(&f64_wav, Path::new("double.wav")).unwrap_err();
    assert!(
        matches!(err, AudioError::Unsupported { .. }),
        "{err:?}: {err}"
    );
    let alaw = raw_wav(6, 1, 8_000, 8, &[0; 64]);
    let err = decode_wav_bytes(&alaw, Path::new("alaw.wav")).unwrap_err();
    assert!(matches!(err, AudioError::Unsupported { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("alaw.wav: unsupported WAV format")
    );

    let err = read_wav(Path::new("/nonexistent/dir/take1.wav")).unwrap_err();
    assert!(matches!(err, AudioError::Io { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("/nonexistent/dir/take1.wav: I/O error")
    );
}

#[test]
fn write_wav_16k_round_trips_privately_and_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_in(&dir, "take.wav");
    std::fs::write(&path, b"old contents").unwrap();
    let mut samples: Vec<f32> = sine(500.0, SAMPLE_RATE, 0.2, 0.7)
        .iter()
        .map(|&s| s as f32)
        .collect();
    samples.extend([2.0, -2.0, f32::NAN]);
    write_wav_16k(&path, &samples).unwrap();

    let reader = hound::WavReader::open(&path).unwrap();
    let spec = reader.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (1, 16_000, 16)
    );
    assert_eq!(spec.sample_format, hound::SampleFormat::Int);
    let raw: Vec<i16> = reader.into_samples::<i16>().map(Result::unwrap).collect();
    assert_eq!(raw[raw.len() - 3..], [32767, -32767, 0]);

    let back = read_wav(&path).unwrap();
    assert_eq!(back.len(), samples.len());
    for (&a, &b) in back.iter().zip(&samples).take(samples.len() - 3) {
        assert!((a - b).abs() <= 1.0 / 32767.0, "{a} vs {b}");
    }

    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("take.wav")]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    // Failing write (directory missing) names the file and creates nothing.
    let bad = dir.path().join("missing").join("x.wav");
    let err = write_wav_16k(&bad, &samples).unwrap_err();
    assert!(matches!(err, AudioError::Io { .. }));
    assert!(err.to_string().starts_with(&bad.display().to_string()));
}

#[test]
fn silence_detection() {
    assert!(is_silent(&[]));
    assert!(is_silent(&vec![0.0; 16_000]));
    // -66 dBFS hiss: peak below the -60 dBFS threshold.
    let hiss: Vec<f32> = (0..16_000)
        .map(|i| if i % 2 == 0 { 0.0005 } else { -0.0005 })
        .collect();
    assert!(is_silent(&hiss));
    // One click in a second of digital silence: RMS far below -70 dBFS.
    let mut click = vec![0.0f32; 16_000];
    click[100] = 0.02;
    assert!(is_silent(&click));
    // Quiet speech-level tone (-40 dBFS peak) is not silent.
    let quiet: Vec<f32> = sine(200.0, SAMPLE_RATE, 1.0, 0.01)
        .iter()
        .map(|&s| s as f32)
        .collect();
    assert!(!is_silent(&quiet));
    assert!(!is_silent(&[0.0, f32::NAN]));
}
