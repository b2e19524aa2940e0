//! Real capture, as in CI: a private PulseAudio server with a null sink (`.ci/pulse.sh`), a known
//! WAV played into it with `paplay`, and `attune enroll record` capturing the sink's monitor
//! through cpal. The stored take must be trimmed, 16 kHz mono 16-bit, and transcribed by the
//! shipped base at least as well as the original file. Without `pulseaudio`/`paplay` the test
//! fails, unless `ATTUNE_SKIP_PULSE=1` opts out explicitly.

mod enroll_common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use attune::eval::{Normalizer, score};
use enroll_common::{attune_ok, manifest, repo, wav_info};

const CLIP: &str = "sample_data/real/jfk.wav";

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A running private PulseAudio server; stopped on drop.
struct Pulse {
    dir: PathBuf,
}

impl Pulse {
    fn start(dir: &Path) -> Self {
        let out = Command::new(repo(".ci/pulse.sh"))
            .arg("start")
            .arg(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pulse.sh: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self {
            dir: dir.to_path_buf(),
        }
    }

    fn env(&self, cmd: &mut Command) {
        cmd.env("XDG_RUNTIME_DIR", &self.dir).env(
            "PULSE_SERVER",
            format!("unix:{}/pulse/native", self.dir.display()),
        );
    }
}

impl Drop for Pulse {
    fn drop(&mut self) {
        let _ = Command::new(repo(".ci/pulse.sh"))
            .arg("stop")
            .arg(&self.dir)
            .output();
    }
}

fn transcribe(home: &Path, wav: &Path) -> String {
    let out = attune_ok(home, &["transcribe", "--json", wav.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    v["text"].as_str().unwrap().to_string()
}

#[test]
fn enroll_record_captures_a_pulseaudio_null_sink() {
    for tool in ["pulseaudio", "paplay", "pactl"] {
        if !have(tool) {
            // A missing tool must not pass silently: only an explicit opt-out skips.
            assert!(
                std::env::var_os("ATTUNE_SKIP_PULSE").is_some(),
                "`{tool}` is not installed (apt-get install pulseaudio pulseaudio-utils); \
                 set ATTUNE_SKIP_PULSE=1 to skip the real-capture test"
            );
            println!("SKIPPED (ATTUNE_SKIP_PULSE): `{tool}` is not installed");
            return;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path().join("home");
    let pulse = Pulse::start(&dir.path().join("pulse"));
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
    pulse.env(&mut rec);
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
    let mut play = Command::new("paplay");
    play.arg("--device=vsink").arg(repo(CLIP));
    pulse.env(&mut play);
    let played_at = Instant::now();
    assert!(play.status().unwrap().success(), "paplay failed");
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
