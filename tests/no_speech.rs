//! The shipped base on audio without speech (digital silence, white and pink noise, a short
//! tone, a WAV with a nonsense sample rate) and on the real clips: no-speech segments yield no
//! text, speech is untouched, and one loaded base decodes at either encoder context per call.

mod base_common;
use base_common::shipped_base;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use attune::dataset::load_set;
use attune::model::decode::{DecodeOptions, Transcript};
use attune::recognizer::Recognizer;

fn recognizer() -> &'static Recognizer {
    static REC: OnceLock<Recognizer> = OnceLock::new();
    REC.get_or_init(|| Recognizer::load(&shipped_base(), DecodeOptions::default()).unwrap())
}

fn real_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/real")
}

fn transcribe(audio: &[f32]) -> Transcript {
    recognizer()
        .transcribe(&[audio], None, 1)
        .unwrap()
        .remove(0)
}

/// Deterministic white noise, uniform in `[-amp, amp)`.
fn white(seconds: f32, amp: f32, seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..(seconds * 16_000.0) as usize)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * amp
        })
        .collect()
}

/// Pink (1/f) noise: Paul Kellet's economy filter over white noise, scaled to peak `amp`.
fn pink(seconds: f32, amp: f32, seed: u64) -> Vec<f32> {
    let (mut b0, mut b1, mut b2) = (0f32, 0f32, 0f32);
    let raw: Vec<f32> = white(seconds, 1.0, seed)
        .into_iter()
        .map(|w| {
            b0 = 0.99765 * b0 + w * 0.0990460;
            b1 = 0.96300 * b1 + w * 0.2965164;
            b2 = 0.57000 * b2 + w * 1.0526913;
            b0 + b1 + b2 + w * 0.1848
        })
        .collect();
    let peak = raw.iter().fold(0f32, |m, v| m.max(v.abs()));
    raw.into_iter().map(|v| v / peak * amp).collect()
}

fn rms_dbfs(x: &[f32]) -> f32 {
    let ms = x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32;
    10.0 * ms.log10()
}

fn assert_no_speech(what: &str, t: &Transcript) {
    assert!(
        t.text.is_empty() && t.tokens.is_empty() && t.no_speech,
        "{what}: {t:?}"
    );
    assert!(t.segments.iter().all(|s| s.no_speech), "{what}: {t:?}");
}

#[test]
fn five_seconds_of_digital_silence_is_no_speech() {
    let t = transcribe(&vec![0f32; 5 * 16_000]);
    assert_no_speech("digital silence", &t);
    // Recognized without running the model.
    assert_eq!(t.segments[0].no_speech_prob, None);
}

#[test]
fn the_no_speech_token_is_resolved_from_the_vocabulary() {
    // tiny.en spells <|nospeech|> as <|nocaptions|>; the shipped base's config predates the field.
    assert_eq!(recognizer().model.config.tokens.no_speech, Some(50361));
}

#[test]
fn silence_batched_with_speech_changes_nothing_for_the_speech() {
    let jfk = attune::audio::read_wav(&real_dir().join("jfk.wav")).unwrap();
    let silence = vec![0f32; jfk.len()];
    let rec = recognizer();
    let alone = rec.transcribe(&[&jfk], None, 1).unwrap().remove(0);
    let both = rec.transcribe(&[&silence, &jfk], None, 2).unwrap();
    assert_no_speech("silence in a batch", &both[0]);
    assert_eq!(both[1].tokens, alone.tokens);
    // Scores agree up to float rounding (a batch of two runs other GEMM shapes).
    let (a, b) = (alone.segments[0], both[1].segments[0]);
    assert!((a.avg_logprob - b.avg_logprob).abs() < 1e-4, "{a:?} {b:?}");
    assert!((a.no_speech_prob.unwrap() - b.no_speech_prob.unwrap()).abs() < 1e-4);
    assert!(!both[1].no_speech);
}

#[test]
fn white_and_pink_noise_at_a_moderate_level_are_no_speech() {
    for seed in [1, 2] {
        let w = white(5.0, 0.1, seed);
        let p = pink(5.0, 0.3, seed);
        for (what, audio) in [("white", w), ("pink", p)] {
            let level = rms_dbfs(&audio);
            assert!((-35.0..-15.0).contains(&level), "{what}: {level} dBFS");
            let t = transcribe(&audio);
            eprintln!(
                "{what} noise, seed {seed}, {level:.1} dBFS: {:?}",
                t.segments
            );
            assert_no_speech(what, &t);
            let prob = t.segments[0].no_speech_prob.expect("the model ran");
            assert!(prob > 0.6, "{what}: {prob}");
        }
    }
}

#[test]
fn a_tenth_of_a_second_tone_yields_no_text() {
    for freq in [220.0f32, 440.0, 1000.0] {
        let tone: Vec<f32> = (0..1600)
            .map(|i| (std::f32::consts::TAU * freq * i as f32 / 16_000.0).sin() * 0.3)
            .collect();
        let t = transcribe(&tone);
        eprintln!("{freq} Hz tone: {t:?}");
        assert!(t.text.is_empty() && t.tokens.is_empty(), "{freq} Hz: {t:?}");
    }
}

/// The real clips' transcripts, exactly as the base produced them before the no-speech rule
/// (with the default int8 decoder: the f32 products give "he" for 0880, the same words).
const REAL: [(&str, &str); 9] = [
    ("codec2_hts1a", "the Navy attacked the big task force."),
    (
        "jfk",
        "And so my fellow Americans ask not what your country can do for you ask what you can do for your country.",
    ),
    (
        "librivox_sense_0870",
        "And Mr. John Dashwood had then leisure to consider how much there might be prudently in his power to do for them.",
    ),
    ("librivox_sense_0880", "He was not an old-sposed young man?"),
    (
        "librivox_sense_0890",
        "Unless to be rather cold-hearted and rather selfish, is to be old-asposed.",
    ),
    (
        "librivox_sense_0930",
        "He might even have been made amiable himself.",
    ),
    ("sphinx_cards_005", "8 of spades, 4 of close, 7 of hearts."),
    ("sphinx_goforward", "go forward 10 meters. Go"),
    ("sphinx_something", "Go somewhere and do something."),
];

fn real_clips() -> Vec<(String, Vec<f32>)> {
    let (utts, bad) = load_set(&real_dir()).unwrap();
    assert!(bad.is_empty(), "{bad:?}");
    utts.iter()
        .map(|u| {
            let name = u.audio.file_stem().unwrap().to_string_lossy().into_owned();
            (name, attune::audio::read_wav(&u.audio).unwrap())
        })
        .collect()
}

#[test]
fn real_speech_keeps_its_transcripts_word_for_word_and_is_never_no_speech() {
    let clips = real_clips();
    assert_eq!(clips.len(), REAL.len());
    let audio: Vec<&[f32]> = clips.iter().map(|(_, a)| a.as_slice()).collect();
    let got = recognizer().transcribe(&audio, None, 4).unwrap();
    for ((name, _), t) in clips.iter().zip(&got) {
        eprintln!("{name}: {:?} {:?}", t.text, t.segments);
        let want = REAL.iter().find(|(n, _)| n == name).expect("known clip").1;
        // Word for word; case and punctuation may differ between CPUs (the f32 GEMM kernels
        // differ between AVX-512 and AVX2 machines, and "He" / "he" sits on a tie).
        let words = |s: &str| attune::eval::Normalizer::english().apply(s);
        assert_eq!(words(&t.text), words(want), "{name}: {:?}", t.text);
        assert!(
            !t.no_speech && t.segments.iter().all(|s| !s.no_speech),
            "{name}"
        );
        assert!(t.segments.iter().all(|s| s.avg_logprob > -1.0), "{name}");
    }
}

#[test]
fn one_loaded_base_decodes_at_either_context_per_call() {
    let clips = real_clips();
    let audio: Vec<&[f32]> = clips.iter().map(|(_, a)| a.as_slice()).collect();
    let rec = recognizer();
    let stock = rec.transcribe_stock(&audio, 4).unwrap();
    let full = DecodeOptions { full_context: true };
    let loaded_full = Recognizer::load(&shipped_base(), full).unwrap();
    let reference = loaded_full.transcribe(&audio, None, 4).unwrap();
    let dynamic = rec.transcribe(&audio, None, 4).unwrap();
    let mut differs = 0;
    for (i, (name, _)) in clips.iter().enumerate() {
        assert_eq!(stock[i].tokens, reference[i].tokens, "{name}");
        assert_eq!(stock[i].segments, reference[i].segments, "{name}");
        differs += usize::from(stock[i].segments != dynamic[i].segments);
    }
    // The two contexts really are different decodes (their scores differ on some clip).
    assert!(differs > 0);
    // And the per-call option did not change the recognizer's own setting.
    assert!(!rec.options.full_context);
}

#[test]
fn a_wav_declaring_1_hz_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one_hertz.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 1,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for i in 0..100 {
        w.write_sample((i * 100) as i16).unwrap();
    }
    w.finalize().unwrap();
    let err = attune::audio::read_wav(&path).unwrap_err().to_string();
    assert!(err.contains("one_hertz.wav"), "{err}");
    assert!(err.contains("1 Hz") && err.contains("8000 Hz"), "{err}");
    // 8 kHz, the telephone rate, is still accepted.
    let ok = dir.path().join("phone.wav");
    let spec = hound::WavSpec {
        sample_rate: 8_000,
        ..spec
    };
    let mut w = hound::WavWriter::create(&ok, spec).unwrap();
    for _ in 0..8_000 {
        w.write_sample(0i16).unwrap();
    }
    w.finalize().unwrap();
    assert_eq!(attune::audio::read_wav(&ok).unwrap().len(), 16_000);
}
