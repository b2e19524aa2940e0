//! Crash safety of enrollment: `attune enroll import` killed with SIGKILL at various moments
//! leaves the speaker either as it was or fully imported — never a manifest that lists a
//! missing recording — and the next import works.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn attune(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_attune"));
    c.arg("--home").arg(home);
    c
}

/// Manifest entries of `speaker`, checking that each names an existing recording.
fn stored(home: &Path, speaker: &str) -> usize {
    let dir = home.join("speakers").join(speaker);
    let Ok(text) = std::fs::read_to_string(dir.join("manifest.jsonl")) else {
        return 0;
    };
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for l in &lines {
        let f = dir.join(l["audio_filepath"].as_str().unwrap());
        assert!(f.is_file(), "manifest lists missing {}", f.display());
    }
    lines.len()
}

#[test]
fn a_killed_import_leaves_the_store_unchanged_or_complete() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/speakers/control");
    let mut outcomes = Vec::new();
    for delay_ms in [30, 120, 300, 700, 1500] {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        assert!(
            attune(&home)
                .args(["speaker", "new", "c"])
                .status()
                .unwrap()
                .success()
        );
        let mut child = attune(&home)
            .args(["enroll", "import", "--speaker", "c"])
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let n = stored(&home, "c");
        assert!(
            n == 0 || n == 100,
            "after a kill at {delay_ms} ms: {n} of 100 stored"
        );
        outcomes.push(n);
        // The store still works: importing again completes.
        let again = attune(&home)
            .args(["enroll", "import", "--speaker", "c"])
            .arg(&data)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(again.success());
        assert!(stored(&home, "c") >= 100);
    }
    eprintln!("stored after each kill: {outcomes:?}");
}
