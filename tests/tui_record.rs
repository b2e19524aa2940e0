//! End to end: recording through the Enroll screen (tmux) with a private PulseAudio server whose
//! null sink's monitor is the default input — the "microphone" hears what `paplay` plays into the
//! sink. Prompt 1: record, listen back, keep; prompt 2: record, record again, keep; prompt 3:
//! skip. The speaker's manifest then holds exactly the two kept takes with their prompts' texts.
//! Without PulseAudio this test fails, unless `ATTUNE_SKIP_PULSE=1`.

mod tui_common;

use tui_common::{MINUTE, Pulse, Tmux, attune_ok, repo};

const PROMPTS: [&str; 4] = [
    "Today is Monday.",
    "Next Thursday at ten.",
    "Play some quiet music.",
    "My knee is swollen.",
];

/// Records one take: starts recording, waits until the input delivers levels, plays `clip` into
/// the sink and waits for the take.
fn record(t: &Tmux, pulse: &Pulse, clip: &str) -> String {
    t.keys(&["r"]);
    t.wait("the input to deliver levels", MINUTE, |s| {
        s.contains("dBFS") && s.contains("no take yet")
    });
    pulse.play(&repo(&format!("sample_data/speakers/tremor/{clip}.wav")));
    let take = t.wait("the take", MINUTE, |s| s.contains("last take"));
    assert!(!take.contains("no speech heard"), "{take}");
    take
}

fn status_is(screen: &str, start: &str) -> bool {
    screen
        .lines()
        .rev()
        .take(2)
        .any(|l| l.trim_start().starts_with(start))
}

#[test]
fn three_prompts_recorded_kept_re_recorded_and_skipped_through_the_enroll_screen() {
    let dir = tempfile::tempdir().unwrap();
    let Some(pulse) = Pulse::start(&dir.path().join("pulse")) else {
        return;
    };
    let home = dir.path().join("home");
    let script = dir.path().join("prompts.txt");
    std::fs::write(&script, PROMPTS.join("\n")).unwrap();
    attune_ok(
        &home,
        &[
            "speaker",
            "new",
            "live",
            "--prompts",
            script.to_str().unwrap(),
        ],
    );

    let t = Tmux::start("record", &home, &[], &pulse.env());
    t.wait("the speaker", MINUTE, |s| s.contains("live"));
    t.keys(&["2"]);
    let ready = t.wait("the microphone and the first prompt", MINUTE, |s| {
        (s.contains("microphone: ") || s.contains("Recording is off"))
            && s.contains("TODAY IS MONDAY.")
    });
    assert!(
        ready.contains("microphone: "),
        "the null sink's monitor is not usable:\n{ready}"
    );

    // Prompt 1: record, listen back, keep.
    record(&t, &pulse, "001");
    t.keys(&["p"]);
    t.wait("the playback", MINUTE, |s| status_is(s, "played"));
    t.keys(&["Enter"]);
    t.wait("prompt 2", MINUTE, |s| {
        status_is(s, "stored") && s.contains("NEXT THURSDAY AT TEN.")
    });

    // Prompt 2: record, record again, keep the second take.
    let first = record(&t, &pulse, "002");
    let second = record(&t, &pulse, "002");
    println!("{first}\n{second}");
    t.keys(&["Enter"]);
    t.wait("prompt 3", MINUTE, |s| s.contains("PLAY SOME QUIET MUSIC."));

    // Prompt 3: skip.
    t.keys(&["s"]);
    t.wait("prompt 4", MINUTE, |s| s.contains("MY KNEE IS SWOLLEN."));
    t.quit();

    let manifest = std::fs::read_to_string(home.join("speakers/live/manifest.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = manifest
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let texts: Vec<&str> = lines.iter().map(|l| l["text"].as_str().unwrap()).collect();
    assert_eq!(texts, PROMPTS[..2], "{manifest}");
    for l in &lines {
        let wav = home
            .join("speakers/live")
            .join(l["audio_filepath"].as_str().unwrap());
        let secs = l["duration"].as_f64().unwrap_or(0.0);
        assert!(wav.is_file() && secs > 0.5, "{l}");
    }
}
