//! End to end: the real `attune` binary in a detached tmux session at 120×40 with a temporary
//! home (harness: `tui_common`) — add the sample speakers with one key, train one with a small
//! step budget and watch the step count rise, compare base and submodel WER side by side (with
//! the stock base and the bootstrap verdict), find the submodel in the Library, quit. Every wait
//! polls the screen for its content (generous timeouts, no fixed sleeps).

mod tui_common;

use std::time::Duration;

use tui_common::{Tmux, step};

#[test]
fn import_train_compare_and_library_in_the_real_binary() {
    let home = tempfile::tempdir().unwrap();
    let t = Tmux::start("e2e", home.path(), &["--train-steps", "6"], &[]);
    let minute = Duration::from_secs(60);
    t.wait("the first-start offer", minute, |s| {
        s.contains("add the 5 sample speakers")
    });
    t.keys(&["a"]);
    t.wait("the sample speakers", 3 * minute, |s| {
        s.contains("added 5 sample speaker") && s.contains("accent-de")
    });

    // Train the selected speaker (accent-de) with the 6-step budget from --train-steps.
    t.keys(&["3"]);
    t.wait("the Train screen", minute, |s| s.contains("steps 6 (+/-)"));
    t.keys(&["Enter"]);
    let first = t.wait("a first step", 10 * minute, |s| {
        step(s).is_some_and(|n| n >= 1)
    });
    let first = step(&first).unwrap();
    t.wait("progress to move", 10 * minute, |s| {
        step(s).is_some_and(|n| n > first) || s.contains("training finished")
    });
    let done = t.wait("the job to finish", 15 * minute, |s| {
        s.contains("training finished") || s.contains("failed")
    });
    assert!(done.contains("accent-de-v1"), "{done}");

    // Compare: base and submodel WER side by side.
    t.keys(&["4", "Enter"]);
    let cmp = t.wait("the comparison", 10 * minute, |s| {
        s.contains("scored") || s.contains("error:")
    });
    let base = cmp.lines().find(|l| l.contains("│base ")).expect(&cmp);
    let sub = cmp
        .lines()
        .find(|l| l.contains("│accent-de-v1 "))
        .expect(&cmp);
    assert!(base.contains("0.") && sub.contains("0."), "{cmp}");
    assert!(cmp.contains("WER") && cmp.contains("CER"), "{cmp}");
    assert!(cmp.lines().any(|l| l.contains("│stock ")), "{cmp}");
    assert!(
        ["better", "worse", "no clear difference"]
            .iter()
            .any(|v| cmp.contains(&format!("]: {v}")))
            || cmp.contains("too few utterances for an interval"),
        "no interval or verdict under the table:\n{cmp}"
    );

    // Library: the new submodel with its metrics and lineage.
    t.keys(&["5", "Enter"]);
    let lib = t.wait("the lineage", minute, |s| {
        s.contains("lineage (newest first)")
    });
    assert!(
        lib.contains("accent-de-v1") && lib.contains("residual r32"),
        "{lib}"
    );

    t.quit();
    assert!(
        home.path()
            .join("library/accent-de-v1.safetensors")
            .is_file()
    );
    assert!(home.path().join("logs/attune.log").is_file());
}
