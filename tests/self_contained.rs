//! The binary alone runs everything: a copy of it in an empty folder, traced by strace, transcribes
//! a WAV and opens the workbench with the sample-speaker offer working, and opens no path of its
//! source tree. Needs `strace` (CI installs it); `ATTUNE_SKIP_STRACE=1` opts out explicitly.

mod tui_common;

use std::path::Path;
use std::process::Command;

use tui_common::{MINUTE, Tmux, repo};

/// Whether the test may run: strace present and allowed to trace, or an explicit opt-out.
fn strace_ready() -> bool {
    let ok = Command::new("strace")
        .args(["-f", "-e", "trace=openat", "-o", "/dev/null", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok && std::env::var_os("ATTUNE_SKIP_STRACE").is_some() {
        eprintln!("strace unusable and ATTUNE_SKIP_STRACE set: skipping");
        return false;
    }
    assert!(
        ok,
        "strace is missing or may not trace (apt-get install strace); \
         set ATTUNE_SKIP_STRACE=1 to skip this test explicitly"
    );
    true
}

/// A copy of the binary alone in a fresh folder.
fn lone_binary(dir: &Path) -> String {
    let bin = dir.join("attune");
    std::fs::copy(env!("CARGO_BIN_EXE_attune"), &bin).unwrap();
    bin.display().to_string()
}

/// The traced paths that lie in the source tree (or the build folder inside it).
fn source_paths(trace: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(trace).unwrap();
    assert!(
        text.lines().count() > 20,
        "the trace recorded the run:\n{text}"
    );
    let root = repo("").display().to_string();
    let root = root.trim_end_matches('/');
    text.lines()
        .filter(|l| l.contains(&format!("\"{root}/")) || l.contains(&format!("\"{root}\"")))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_copied_binary_transcribes_without_its_source_tree() {
    if !strace_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = lone_binary(dir.path());
    let wav = dir.path().join("clip.wav");
    std::fs::copy(repo("sample_data/real/jfk.wav"), &wav).unwrap();
    let trace = dir.path().join("trace.txt");
    let out = Command::new("strace")
        .args(["-f", "-e", "trace=%file", "-o"])
        .arg(&trace)
        .arg(&bin)
        .arg("--home")
        .arg(dir.path().join("home"))
        .arg("transcribe")
        .arg(&wav)
        .current_dir(dir.path())
        .env_remove("ATTUNE_BASE")
        // cargo's library path points into the build folder; a copied binary has none.
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("ask not what your country can do for you"),
        "{stdout}"
    );
    let leaks = source_paths(&trace);
    assert!(leaks.is_empty(), "opened in the source tree:\n{leaks:#?}");
    // The base was installed privately into the home from inside the binary.
    let shipped = dir.path().join("home/shipped");
    let base = std::fs::read_dir(&shipped)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert!(base.file_name().to_string_lossy().starts_with("base-"));
    assert!(base.path().join("model.safetensors").is_file());
}

#[test]
fn a_copied_binary_opens_the_workbench_and_adds_the_samples() {
    if !strace_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = lone_binary(dir.path());
    let trace = dir.path().join("trace.txt").display().to_string();
    let home = dir.path().join("home");
    let t = Tmux::start_program(
        "lone",
        &[
            "env",
            "-u",
            "LD_LIBRARY_PATH",
            "strace",
            "-f",
            "-e",
            "trace=%file",
            "-o",
            &trace,
            &bin,
        ],
        &home,
        &[],
        &[],
    );
    t.wait("the sample-speaker offer", MINUTE, |s| {
        s.contains("add the 5 sample speakers")
    });
    t.keys(&["a"]);
    t.wait("the sample speakers", 3 * MINUTE, |s| {
        s.contains("added 5 sample speaker") && s.contains("accent-de")
    });
    t.keys(&["q"]);
    t.wait_closed("q did not quit");
    let leaks = source_paths(Path::new(&trace));
    assert!(leaks.is_empty(), "opened in the source tree:\n{leaks:#?}");
    let speakers = std::fs::read_dir(home.join("speakers")).unwrap().count();
    assert_eq!(speakers, 5);
}
