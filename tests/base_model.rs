//! The shipped base on real audio: tokenizer round trip, corpus WER on the real clips, the
//! decoder's guards (silence, very short and over-30 s audio), and the CLI's per-file errors.

mod base_common;
use base_common::shipped_base;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use attune::dataset::load_set;
use attune::eval::{Normalizer, corpus, score};
use attune::model::decode::{DecodeOptions, Stop};
use attune::recognizer::Recognizer;

fn recognizer() -> &'static Recognizer {
    static REC: OnceLock<Recognizer> = OnceLock::new();
    REC.get_or_init(|| Recognizer::load(&shipped_base(), DecodeOptions::default()).unwrap())
}

fn real_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/real")
}

fn corpus_wer(rec: &Recognizer) -> f64 {
    let (utts, bad) = load_set(&real_dir()).unwrap();
    assert!(
        bad.is_empty() && utts.len() >= 6,
        "real clips missing: {bad:?}"
    );
    let audio: Vec<Vec<f32>> = utts
        .iter()
        .map(|u| attune::audio::read_wav(&u.audio).unwrap())
        .collect();
    let refs: Vec<&[f32]> = audio.iter().map(Vec::as_slice).collect();
    let hyps = rec.transcribe(&refs, None, 4).unwrap();
    for (u, h) in utts.iter().zip(&hyps) {
        assert!(
            !h.no_speech,
            "{} judged no speech: {h:?}",
            u.audio.display()
        );
    }
    let scores: Vec<_> = utts
        .iter()
        .zip(&hyps)
        .map(|(u, h)| score(&u.text, &h.text, &Normalizer::english()))
        .collect();
    let c = corpus(&scores);
    eprintln!(
        "corpus WER {:.4} over {} words (full context: {})",
        c.wer, c.words, rec.options.full_context
    );
    c.wer
}

#[test]
fn the_shipped_base_transcribes_the_real_clips() {
    let rec = recognizer();
    assert!(corpus_wer(rec) <= 0.10);
    let mut full = rec.clone();
    full.options.full_context = true;
    assert!(corpus_wer(&full) <= 0.10);
}

/// The int8 × int8 decoder keeps the real clips' transcripts: corpus WER within one
/// word of the f32 base's. (Int8 in the encoder too costs 2 of the 99 words, so it is only a bench option.)
#[test]
fn int8_decoder_keeps_the_real_clips_transcripts() {
    use attune::model::int8::Compute;
    let load = |c| Recognizer::load_with(&shipped_base(), DecodeOptions::default(), c).unwrap();
    let f32 = load(Compute::F32);
    assert!(f32.model.weights.int8.is_empty());
    let f32_wer = corpus_wer(&f32);
    let rec = load(Compute::Int8Decoder);
    // 4 layers × (4 self + 2 cross (q, out) + 2 MLP) matrices + the logits head.
    assert_eq!(rec.model.weights.int8.len(), 33);
    let wer = corpus_wer(&rec);
    let one_word = 1.0 / 99.0;
    assert!(
        (wer - f32_wer).abs() <= one_word + 1e-9,
        "WER {wer} vs f32 {f32_wer}"
    );
}

#[test]
fn the_jfk_clip_comes_out_verbatim() {
    let audio = attune::audio::read_wav(&real_dir().join("jfk.wav")).unwrap();
    let t = recognizer()
        .transcribe(&[&audio], None, 1)
        .unwrap()
        .remove(0);
    let want = "And so my fellow Americans ask not what your country can do for you ask what you can do for your country";
    let s = score(want, &t.text, &Normalizer::english());
    assert_eq!(s.words.errors(), 0, "{}", t.text);
    assert_eq!(t.stops, vec![Stop::EndOfText]);
}

#[test]
fn the_tokenizer_round_trips_text() {
    let tok = &recognizer().tokenizer;
    for text in [
        " Hello world, this is attune.",
        " It's 25°C — naïve café!",
        " ask not what your country",
    ] {
        let ids = tok.encode(text).unwrap();
        assert!(!ids.is_empty());
        assert_eq!(tok.decode(&ids).unwrap(), text);
    }
    // GPT-2 BPE: " Hello" is one token (18435), "," is 11.
    assert_eq!(tok.encode(" Hello,").unwrap(), vec![18435, 11]);
    let cfg = &recognizer().model.config;
    assert_eq!(cfg.prompt(), vec![50257, 50362]);
}

#[test]
fn silence_and_very_short_audio_end_quickly_without_loops() {
    let rec = recognizer();
    let silence = vec![0f32; 16000 * 5];
    let blip: Vec<f32> = (0..4000).map(|i| (i as f32 * 0.05).sin() * 0.1).collect(); // 0.25 s
    let out = rec.transcribe(&[&silence, &blip], None, 1).unwrap();
    for t in &out {
        assert!(t.tokens.len() <= 12, "runaway output: {:?}", t.text);
        assert!(!t.stops.contains(&Stop::TokenBudget), "{:?}", t.stops);
    }
    // Whisper says "you" on silence; the no-speech rule says nothing.
    assert!(out[0].text.is_empty() && out[0].no_speech, "{:?}", out[0]);
}

#[test]
fn audio_longer_than_30_s_is_split_and_fully_transcribed() {
    let jfk = attune::audio::read_wav(&real_dir().join("jfk.wav")).unwrap();
    let long: Vec<f32> = jfk.iter().chain(&jfk).chain(&jfk).copied().collect(); // 33 s
    let t = recognizer()
        .transcribe(&[&long], None, 1)
        .unwrap()
        .remove(0);
    assert_eq!(t.stops.len(), 2, "33 s should decode as two segments");
    let n = t.text.to_lowercase().matches("ask not").count();
    assert!(
        n >= 2,
        "expected the phrase from several copies, got {:?}",
        t.text
    );
}

fn attune(args: &[&str]) -> std::process::Output {
    let home = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_attune"))
        .arg("--home")
        .arg(home.path())
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn bad_files_fail_one_line_each_and_the_good_ones_are_still_reported() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.wav");
    std::fs::write(&text, "this is not audio").unwrap();
    let wav = std::fs::read(real_dir().join("sphinx_goforward.wav")).unwrap();
    let cut = dir.path().join("cut.wav");
    std::fs::write(&cut, &wav[..wav.len() / 2]).unwrap();
    let good = real_dir().join("jfk.wav");
    let out = attune(&[
        "transcribe",
        "--json",
        text.to_str().unwrap(),
        good.to_str().unwrap(),
        cut.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 2, "{stderr}");
    assert!(
        errors[0].contains("notes.wav") && errors[0].contains("not a WAV"),
        "{stderr}"
    );
    assert!(
        errors[1].contains("cut.wav") && errors[1].contains("truncated"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert!(lines[0]["file"].as_str().unwrap().ends_with("jfk.wav"));
    assert!(lines[0]["text"].as_str().unwrap().contains("ask not"));
    assert!((lines[0]["seconds"].as_f64().unwrap() - 11.0).abs() < 0.01);
    assert_eq!(lines[0]["no_speech"], false);

    // Silence: no invented words, flagged as no speech.
    let silent = dir.path().join("silence.wav");
    attune::audio::write_wav_16k(&silent, &vec![0.0; 16_000 * 5]).unwrap();
    let out = attune(&["transcribe", "--json", silent.to_str().unwrap()]);
    assert!(out.status.success());
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (line["text"].as_str(), &line["no_speech"]),
        (Some(""), &true.into())
    );
}

#[test]
fn eval_json_has_the_documented_shape_and_flags_bad_items() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["sphinx_goforward", "sphinx_something"] {
        for ext in ["wav", "txt"] {
            std::fs::copy(
                real_dir().join(format!("{name}.{ext}")),
                dir.path().join(format!("{name}.{ext}")),
            )
            .unwrap();
        }
    }
    std::fs::write(dir.path().join("broken.wav"), "nope").unwrap();
    std::fs::write(dir.path().join("broken.txt"), "nothing").unwrap();
    let out = attune(&["eval", "--json", "--set", dir.path().to_str().unwrap()]);
    assert!(
        !out.status.success(),
        "a bad item must make the exit code non-zero"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.wav"), "{stderr}");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["wer", "cer", "words", "sub", "del", "ins"] {
        assert!(r["base"][key].is_number(), "base.{key} missing: {r}");
    }
    assert!(r["submodel"].is_null());
    // The stock reference (30 s window) is always there; no submodel, no interval.
    assert!(r["stock"]["wer"].is_number(), "stock missing: {r}");
    assert!(r["ci95"].is_null() && r["verdict"].is_null());
    let utts = r["utterances"].as_array().unwrap();
    assert_eq!(utts.len(), 2);
    for u in utts {
        assert!(
            u["id"].is_string()
                && u["ref"].is_string()
                && u["base"].is_string()
                && u["submodel"].is_null()
        );
    }
    assert_eq!(r["base"]["words"], 9); // "Go forward ten meters." + "Go somewhere and do something."
}
