//! Crash safety of training and of the library: `attune train` killed with SIGKILL after its first
//! checkpoint and resumed with `--resume` reaches the same weights as an uninterrupted run;
//! `attune library import` killed at any moment leaves the library without the entry or with it
//! complete and verifiable, and importing again works.

mod tui_common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use tui_common::{attune_ok, job_files, sample_speaker};

/// Steps of the job: a checkpoint at step 10 and a short way to go after it.
const STEPS: &str = "14";

fn train_args() -> Vec<&'static str> {
    vec![
        "train",
        "--speaker",
        "tremor",
        "--max-steps",
        STEPS,
        "--seed",
        "7",
        "--batch", // small steps: the resume, not the training, is under test
        "2",
        "--json",
    ]
}

fn attune(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_attune"));
    c.arg("--home").arg(home).env_remove("ATTUNE_BASE");
    c
}

/// The adapter tensors of a stored submodel file, by name.
fn tensors(file: &Path) -> Vec<(String, Vec<u8>)> {
    let bytes = std::fs::read(file).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut out: Vec<(String, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .map(|(name, view)| (name, view.data().to_vec()))
        .collect();
    out.sort();
    out
}

/// Starts a job and kills it with SIGKILL once it reports a step past the first checkpoint.
fn train_and_kill(home: &Path) -> u64 {
    let mut child = attune(home)
        .args(train_args())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    let mut last = 0;
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        if v["event"] == "step" {
            last = v["step"].as_u64().unwrap();
            if last >= 11 {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL: no clean-up of any kind
    child.wait().unwrap();
    last
}

#[test]
fn a_killed_job_resumes_to_the_weights_of_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a/home"), dir.path().join("b/home"));
    for home in [&a, &b] {
        sample_speaker(home, "tremor", 30);
    }
    attune_ok(&a, &train_args());

    let killed_at = train_and_kill(&b);
    assert!(killed_at >= 11, "killed at step {killed_at}");
    assert!(!b.join("library/tremor-v1.safetensors").exists());
    assert_eq!(job_files(&b, "ckpt").len(), 1, "the checkpoint survives");
    let mut args = train_args();
    args.push("--resume");
    let out = attune_ok(&b, &args);
    let resumed: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["event"] == "resumed")
        .collect();
    assert_eq!(resumed.len(), 1, "{out}");
    assert_eq!(resumed[0]["step"], 10, "resumes from the checkpoint at 10");
    assert!(
        job_files(&b, "ckpt").is_empty(),
        "a finished job leaves no checkpoint"
    );

    let (ta, tb) = (
        tensors(&a.join("library/tremor-v1.safetensors")),
        tensors(&b.join("library/tremor-v1.safetensors")),
    );
    assert!(!ta.is_empty());
    assert_eq!(
        ta.iter().map(|t| &t.0).collect::<Vec<_>>(),
        tb.iter().map(|t| &t.0).collect::<Vec<_>>()
    );
    for ((name, x), (_, y)) in ta.iter().zip(&tb) {
        assert!(x == y, "{name} differs after resuming");
    }

    // Library import under SIGKILL: never a partial entry, and the next import works.
    let file = dir.path().join("tremor-v1.safetensors");
    attune_ok(
        &a,
        &["library", "export", "tremor-v1", file.to_str().unwrap()],
    );
    for delay_ms in [0, 5, 20, 60, 150, 400] {
        let home = dir.path().join(format!("c{delay_ms}/home"));
        attune_ok(&home, &["speaker", "new", "tremor"]);
        let mut child = attune(&home)
            .args(["library", "import"])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let stored = home.join("library/tremor-v1.safetensors");
        if stored.exists() {
            assert_eq!(
                std::fs::read(&stored).unwrap(),
                std::fs::read(&file).unwrap(),
                "a partial entry after a kill at {delay_ms} ms"
            );
        } else {
            attune_ok(&home, &["library", "import", file.to_str().unwrap()]);
        }
        let shown = attune_ok(&home, &["library", "show", "tremor-v1"]);
        assert!(shown.contains("tremor"), "{shown}");
    }
}
