//! End to end: a training job survives a crash. Start a job in the workbench (tmux), let it pass
//! its first checkpoint (step 10), `kill -9` the attune process, start attune again in the same
//! home, accept the resume offer, and watch the job continue from the checkpoint (the progress
//! never shows a step below it) to a submodel in the Library.

mod tui_common;

use tui_common::{MINUTE, Tmux, job_files, sample_speaker, step};

/// The step budget: one checkpoint at 10, and a short way to go after it.
const STEPS: &str = "12";

#[test]
fn a_killed_job_resumes_from_its_checkpoint_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    sample_speaker(&home, "tremor", 40);

    let t = Tmux::start("resume-1", &home, &["--train-steps", STEPS], &[]);
    t.wait("the speakers", MINUTE, |s| s.contains("tremor"));
    t.keys(&["3"]);
    t.wait("the Train screen", MINUTE, |s| s.contains("steps 12 (+/-)"));
    t.keys(&["Enter"]);
    t.wait(
        "step 11, past the checkpoint at step 10",
        15 * MINUTE,
        |s| step(s).is_some_and(|n| n >= 11) || s.contains("training finished"),
    );
    let before = t.screen();
    assert!(!before.contains("training finished"), "{before}");
    assert_eq!(job_files(&home, "ckpt").len(), 1, "no checkpoint");
    t.kill_9();
    drop(t);
    assert_eq!(job_files(&home, "json").len(), 1, "the request file stays");

    // A new process in the same home offers the job.
    let t = Tmux::start("resume-2", &home, &[], &[]);
    let offer = t.wait("the resume offer", MINUTE, |s| {
        s.contains("A training job was interrupted")
    });
    assert!(
        offer.contains("tremor: residual")
            && offer.contains("12 steps")
            && offer.contains("resume it"),
        "{offer}"
    );
    t.keys(&["Enter"]);
    let resumed = t.wait("the job to resume", 10 * MINUTE, |s| {
        s.contains("resumed at step") || s.contains("failed")
    });
    let at: u64 = resumed
        .split("resumed at step ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{resumed}"));
    assert!(at >= 10, "resumed at step {at}:\n{resumed}");
    // From now on the progress never shows a step before the checkpoint.
    let mut seen = Vec::new();
    let done = t.wait("the resumed job to finish", 15 * MINUTE, |s| {
        if let Some(n) = step(s) {
            assert!(n >= at, "step {n} shown after resuming at {at}:\n{s}");
            if seen.last() != Some(&n) {
                seen.push(n);
            }
        }
        s.contains("training finished") || s.contains("failed")
    });
    assert!(done.contains("tremor-v1"), "{done}");
    println!("resumed at step {at}; steps shown afterwards: {seen:?}");
    assert!(job_files(&home, "ckpt").is_empty() && job_files(&home, "json").is_empty());

    t.keys(&["5"]);
    let lib = t.wait("the Library", MINUTE, |s| s.contains("│tremor-v1 "));
    assert!(lib.contains("residual r32"), "{lib}");
    t.quit();
    assert!(home.join("library/tremor-v1.safetensors").is_file());
}
