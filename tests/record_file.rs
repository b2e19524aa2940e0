//! The recording pipeline without hardware: a real WAV, padded with room silence, is played
//! through the file-backed source (same mixing, ring, endpointing and resampling code as a sound
//! card) and must come back as the expected trimmed 16 kHz take; then the same through
//! `attune enroll record --input-file`. Also: no device → a clear error, and `attune devices`
//! keeps ALSA's stderr noise out of the terminal.

mod enroll_common;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;

use attune::audio::endpoint::{End, EndpointConfig};
use attune::audio::recorder::Input;
use attune::audio::{read_wav, write_wav_16k};
use enroll_common::{attune, attune_ok, checksums, manifest, repo, wav_info};

const RATE: usize = 16_000;

/// `lead` s of silence, the sample, `tail` s of silence, written to `dst`; returns the sample.
fn padded(sample: &str, lead: f32, tail: f32, dst: &Path) -> Vec<f32> {
    let x = read_wav(&repo(sample)).unwrap();
    let mut s = vec![0.0; (lead * RATE as f32) as usize];
    s.extend(&x);
    s.extend(vec![0.0; (tail * RATE as f32) as usize]);
    write_wav_16k(dst, &s).unwrap();
    x
}

fn onset(s: &[f32]) -> usize {
    s.iter().position(|v| v.abs() > 0.05).expect("has speech")
}

#[test]
fn a_file_source_gives_the_trimmed_take() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("room.wav");
    let x = padded("sample_data/speakers/slow-muffled/020.wav", 1.0, 3.0, &wav);
    for (rate, channels) in [(44_100, 2), (48_000, 1), (16_000, 1)] {
        let input = Input::file(&wav, rate, channels, false).unwrap();
        let take = input
            .record_take(
                &EndpointConfig::default(),
                &AtomicBool::new(false),
                |_, _| {},
            )
            .unwrap();
        assert_eq!(take.end, End::Silence, "{rate} Hz");
        assert_eq!(take.dropped, 0);
        assert!(!take.quality.too_quiet && !take.quality.clipped);
        // The sample already has 0.08 s of silence each side; the take pads speech by 0.25 s.
        let expect = x.len() as f32 / RATE as f32 - 0.16 + 0.5;
        assert!(
            (take.seconds() - expect).abs() < 0.08,
            "{rate} Hz: {} s vs {expect} s",
            take.seconds()
        );
        // Same audio, sample for sample, once aligned.
        let (a, b) = (onset(&take.samples), onset(&x));
        let n = (take.samples.len() - a).min(x.len() - b);
        let err = (0..n)
            .map(|i| (take.samples[a + i] - x[b + i]).abs())
            .fold(0.0, f32::max);
        println!(
            "{rate} Hz x{channels}: take {:.3} s, max sample error {err:.4}",
            take.seconds()
        );
        assert!(err < 0.03, "{rate} Hz: max error {err}");
    }
}

#[test]
fn silence_only_is_no_speech() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("quiet.wav");
    write_wav_16k(&wav, &vec![0.0; 3 * RATE]).unwrap();
    let input = Input::file(&wav, 48_000, 2, false).unwrap();
    let cfg = EndpointConfig {
        no_speech_timeout: 2.0,
        ..Default::default()
    };
    let take = input
        .record_take(&cfg, &AtomicBool::new(false), |_, _| {})
        .unwrap();
    assert_eq!(take.end, End::NoSpeech);
    assert!(take.samples.is_empty());
}

#[test]
fn enroll_record_stores_prompted_takes_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path();
    attune_ok(h, &["speaker", "new", "rec"]);
    let wav = h.join("room.wav");
    let x = padded("sample_data/speakers/control/030.wav", 0.5, 2.5, &wav);
    let phrase = std::fs::read_to_string(repo("sample_data/speakers/control/030.txt")).unwrap();
    let prompts = h.join("prompts.txt");
    std::fs::write(&prompts, format!("# test\n{phrase}\nNever reached.\n")).unwrap();
    let out = attune_ok(
        h,
        &[
            "enroll",
            "record",
            "--speaker",
            "rec",
            "--prompts",
            prompts.to_str().unwrap(),
            "--input-file",
            wav.to_str().unwrap(),
            "--yes",
            "--max-utterances",
            "1",
        ],
    );
    assert!(out.contains("1 take(s) stored"), "{out}");
    let m = manifest(h, "rec");
    assert_eq!(m.len(), 1);
    assert_eq!(m[0]["text"], phrase.trim());
    let (spec, len) = wav_info(
        &h.join("speakers/rec")
            .join(m[0]["audio_filepath"].as_str().unwrap()),
    );
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (16_000, 1, 16)
    );
    let secs = len as f32 / RATE as f32;
    let expect = x.len() as f32 / RATE as f32 - 0.16 + 0.5;
    assert!(
        (secs - expect).abs() < 0.08,
        "take {secs} s, expected {expect} s"
    );

    // Recorded prompts are not asked again; silence stores nothing and fails.
    let quiet = h.join("quiet.wav");
    write_wav_16k(&quiet, &vec![0.0; 3 * RATE]).unwrap();
    let before = checksums(&h.join("speakers/rec"));
    let out = attune(
        h,
        &[
            "enroll",
            "record",
            "--speaker",
            "rec",
            "--prompts",
            prompts.to_str().unwrap(),
            "--input-file",
            quiet.to_str().unwrap(),
            "--yes",
            "--no-speech-timeout",
            "1",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        text.contains("1 prompt(s) to go") && text.contains("Never reached."),
        "{text}"
    );
    assert!(text.contains("no speech heard"), "{text}");
    assert_eq!(checksums(&h.join("speakers/rec")), before);
}

#[test]
fn without_a_usable_device_the_error_is_clear_and_stderr_stays_clean() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path();
    attune_ok(h, &["speaker", "new", "nodev"]);
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_attune"))
            .arg("--home")
            .arg(h)
            .args(args)
            // No sound server; ALSA alone (no card on CI machines).
            .env("XDG_RUNTIME_DIR", h.join("no-runtime"))
            .env_remove("PULSE_SERVER")
            .output()
            .unwrap()
    };
    let out = run(&[
        "enroll",
        "record",
        "--speaker",
        "nodev",
        "--yes",
        "--device",
        "no-such-mic-xyz",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("no input device matches \"no-such-mic-xyz\""),
        "{err}"
    );
    assert!(
        !err.contains("ALSA lib") && !err.contains("panicked"),
        "{err}"
    );

    let out = run(&["devices"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success());
    assert!(err.is_empty(), "stderr should be clean, got: {err}");
    assert!(
        checksums(&h.join("speakers/nodev"))
            .keys()
            .all(|p| !p.starts_with("recordings"))
    );
}
