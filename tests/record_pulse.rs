//! Real capture, as in CI: a private PulseAudio server with a null sink (`.ci/pulse.sh`), a known
//! WAV played into it with `paplay`, and `attune enroll record` capturing the sink's monitor
//! through cpal. The stored take must be trimmed, 16 kHz mono 16-bit, and transcribed by the
//! shipped base at least as well as the original file. Without `pulseaudio`/`paplay` the test
//! fails, unless `ATTUNE_SKIP_PULSE=1` opts out explicitly.

mod tui_common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use attune::eval::{Normalizer, score};
use tui_common::enroll_common::{manifest, wav_info};
use tui_common::{Pulse, attune_ok, repo};

const CLIP: &str = "sample_data/real/jfk.wav";

fn transcribe(home: &Path, wav: &Path) -> String {
    let out = attune_ok(home, &["transcribe", "--json", wav.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    v["text"].as_str().unwrap().to_string()
}

#[test]
fn enroll_record_captures_a_pulseaudio_null_sink() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path().join("home");
    // Without PulseAudio this fails, unless ATTUNE_SKIP_PULSE=1 opts out.
    let Some(pulse) = Pulse::start(&dir.path().join("pulse")) else {
        return;
    };
    attune_ok(&h, &["speaker", "new", "live"]);
    let reference = std::fs::read_to_string(repo(CLIP).with_extension("txt")).unwrap();
    let prompts = dir.path().join("prompts.txt");
    std::fs::write(&prompts, &reference).unwrap();

    let mut rec = Command::new(env!("CARGO_BIN_EXE_attune"));
    rec.arg("--home")
        .arg(&h)
        .args(["enroll", "record", "--speaker", "live", "--prompts"]);
    rec.arg(&prompts).args([
        "--device",
        "vsink.monitor",
        "--yes",
        "--max-utterances",
        "1",
    ]);
    rec.args(["--no-speech-timeout", "20"])
        .stdout(Stdio::piped());
    rec.envs(pulse.env());
    let mut child = rec.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut said = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        said.push_str(&line);
        said.push('\n');
        if line.contains("listening") {
            break;
        }
    }
    assert!(said.contains("Monitor of Null Output"), "{said}");
    let played_at = Instant::now();
    pulse.play(&repo(CLIP));
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the recorder did not stop: {said}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    for line in lines {
        said.push_str(&line.unwrap());
        said.push('\n');
    }
    println!(
        "{said}recorder finished {:.1} s after playback started",
        played_at.elapsed().as_secs_f32()
    );
    assert!(status.success(), "{said}");

    let m = manifest(&h, "live");
    assert_eq!(m.len(), 1, "{said}");
    let take = h
        .join("speakers/live")
        .join(m[0]["audio_filepath"].as_str().unwrap());
    let (spec, len) = wav_info(&take);
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (16_000, 1, 16)
    );
    let (take_s, orig_s) = (
        len as f32 / 16_000.0,
        attune::audio::read_wav(&repo(CLIP)).unwrap().len() as f32 / 16_000.0,
    );
    println!("take {take_s:.2} s, original {orig_s:.2} s");
    // Trimmed: the 1.5 s of trailing silence that ended the take is not stored, and all of the
    // speech is (the clip has little silence of its own).
    assert!(
        take_s < orig_s + 0.8 && take_s > orig_s - 1.2,
        "take {take_s} s vs original {orig_s} s"
    );

    let norm = Normalizer::english();
    let (hyp_take, hyp_orig) = (transcribe(&h, &take), transcribe(&h, &repo(CLIP)));
    let (wer_take, wer_orig) = (
        score(&reference, &hyp_take, &norm).wer(),
        score(&reference, &hyp_orig, &norm).wer(),
    );
    println!(
        "original: {hyp_orig:?} (WER {wer_orig:.3})\ntake:     {hyp_take:?} (WER {wer_take:.3})"
    );
    assert!(
        wer_take <= wer_orig + 1e-9,
        "the captured take is transcribed worse than the original"
    );
}
