//! End to end: embedding spaces from the Train screen (tmux). `f` offers the shipped space first;
//! mark two sample speakers and learn a space over them (`e`, a name; one dimension, fewer than
//! its speakers), then fit a third speaker into it (`f`, the home's space listed after the
//! shipped one): the space file is created and the from-space submodel appears in the Library,
//! named with its space. A tiny step budget: this checks the plumbing, not the quality.

mod tui_common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use tui_common::{MINUTE, Tmux, attune_ok, sample_speaker};

fn finished(s: &str) -> bool {
    s.contains("training finished") || s.contains("training failed")
}

#[test]
fn a_space_over_two_speakers_then_a_third_fitted_into_it() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    for id in ["accent-de", "control", "tremor"] {
        sample_speaker(&home, id, 30);
    }
    let t = Tmux::start("spaces", &home, &["--train-steps", "2"], &[]);
    t.wait("the speakers", MINUTE, |s| s.contains("tremor"));
    t.keys(&["3"]);
    t.wait("the Train screen", MINUTE, |s| {
        s.contains("steps 2 (+/-)") && s.contains("spaces shipped:population (f fit · e new)")
    });

    // f before any space of the home offers the shipped one; Esc leaves it.
    t.keys(&["f"]);
    let choose = t.wait("the space chooser", MINUTE, |s| {
        s.contains("Fit accent-de into which embedding space?")
    });
    assert!(choose.contains("> shipped:population"), "{choose}");
    t.keys(&["Escape"]);
    t.wait("the chooser to close", MINUTE, |s| {
        !s.contains("which embedding space?")
    });

    // Mark accent-de and control, learn space `pair` over them.
    t.keys(&["Space", "Down", "Space", "e"]);
    t.wait("the space name dialog", MINUTE, |s| {
        s.contains("Name of the new embedding space over accent-de, control")
    });
    t.type_text("pair");
    t.keys(&["Enter"]);
    // Over two speakers the space has one dimension (fewer than its speakers).
    t.wait("the space job", MINUTE, |s| {
        s.contains("space pair (m = 1)")
    });
    let done = t.wait("the space job to finish", 20 * MINUTE, finished);
    assert!(
        done.contains("training finished")
            && done.contains("accent-de-v1")
            && done.contains("control-v1"),
        "{done}"
    );
    assert!(home.join("spaces/pair.safetensors").is_file());

    // Unmark both, select tremor, fit it into `pair`.
    t.keys(&["Space", "Up", "Space", "Down", "Down"]);
    t.wait("the new space listed", MINUTE, |s| {
        s.contains("spaces shipped:population, pair (f fit · e new)") && s.contains("[ ] accent-de")
    });
    t.keys(&["f"]);
    let choose = t.wait("the space chooser", MINUTE, |s| {
        s.contains("Fit tremor into which embedding space?")
    });
    // The shipped space first, the home's after it.
    let lines: Vec<&str> = choose.lines().collect();
    let first = lines
        .iter()
        .position(|l| l.contains(" shipped:population "));
    assert!(
        first.is_some_and(|i| lines[i + 1].contains(" pair ")),
        "{choose}"
    );
    // Choose `pair` (the chooser opens on the first entry; a key still in flight under load
    // may already have moved it).
    if choose.contains("> pair") {
        t.keys(&["Enter"]);
    } else {
        t.keys(&["Down", "Enter"]);
    }
    // The space job's "training finished" is still on screen until the fit replaces it (under
    // load the chooser may not even have closed yet), so wait for the fit's own result.
    let done = t.wait("the fit to finish", 20 * MINUTE, |s| {
        s.contains("training failed") || (finished(s) && s.contains("tremor-v1"))
    });
    assert!(
        done.contains("training finished") && done.contains("tremor-v1"),
        "{done}"
    );

    // The Library lists it as an embedding submodel of space `pair`.
    t.keys(&["5"]);
    t.wait("the Library", MINUTE, |s| s.contains("│tremor-v1 "));
    t.keys(&["j", "j"]);
    let lib = t.wait("tremor-v1's details", MINUTE, |s| {
        s.contains("tremor-v1: speaker tremor, space pair")
    });
    let row = lib.lines().find(|l| l.contains("│tremor-v1 ")).unwrap();
    assert!(row.contains("embedding"), "{lib}");
    t.quit();
    assert!(home.join("library/tremor-v1.safetensors").is_file());

    // Private by construction: after imports, training, a space, the workbench and exports,
    // every file attune made in the home (and in the export folders) is 0600, every folder 0700.
    let set = dir.path().join("exported-set");
    let file = dir.path().join("exported/tremor-v1.safetensors");
    attune_ok(
        &home,
        &[
            "enroll",
            "export",
            "--speaker",
            "tremor",
            set.to_str().unwrap(),
        ],
    );
    attune_ok(
        &home,
        &["library", "export", "tremor-v1", file.to_str().unwrap()],
    );
    let mut seen = 0;
    for root in [&home, &set] {
        seen += check_private(root);
    }
    assert_eq!(mode(&file), 0o600, "{}", file.display());
    assert!(seen > 100, "walked only {seen} entries");
    assert!(home.join("logs").is_dir() && home.join("spaces").is_dir());
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
}

/// Asserts every folder under `root` (itself included) is 0700 and every file 0600; returns how
/// many entries it checked.
fn check_private(root: &Path) -> usize {
    assert_eq!(mode(root), 0o700, "{}", root.display());
    let mut n = 1;
    for e in std::fs::read_dir(root).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            n += check_private(&p);
        } else {
            assert_eq!(mode(&p), 0o600, "{}", p.display());
            n += 1;
        }
    }
    n
}
