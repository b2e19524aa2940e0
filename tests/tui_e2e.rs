//! End to end: the real `attune` binary in a detached tmux session at 120×40 with a temporary
//! home — add the sample speakers with one key, train one with a small step budget and watch the
//! step count rise, compare base and submodel WER side by side, find the submodel in the Library,
//! quit. Every wait polls the screen for its content (generous timeouts, no fixed sleeps).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    session: String,
}

impl Tmux {
    fn start(home: &Path) -> Self {
        let session = format!("attune-e2e-{}", std::process::id());
        let cmd = format!(
            "{} --home {} --train-steps 6",
            env!("CARGO_BIN_EXE_attune"),
            home.display()
        );
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                "120",
                "-y",
                "40",
                &cmd,
            ])
            .env_remove("TMUX")
            .status()
            .expect("tmux is installed (apt-get install tmux)")
            .success();
        assert!(ok, "tmux new-session failed");
        Self { session }
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.session];
        args.extend_from_slice(keys);
        assert!(Command::new("tmux").args(&args).status().unwrap().success());
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen until `pred` holds; panics with the last screen after `limit`.
    fn wait(&self, what: &str, limit: Duration, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            assert!(
                start.elapsed() < limit,
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn alive(&self) -> bool {
        Command::new("tmux")
            .args(["has-session", "-t", &self.session])
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
    }
}

/// The step shown in the header (`training 3/6`).
fn step(screen: &str) -> Option<u64> {
    let at = screen.find("training ")? + "training ".len();
    let rest = &screen[at..];
    rest[..rest.find('/')?].trim().parse().ok()
}

#[test]
fn import_train_compare_and_library_in_the_real_binary() {
    let home = tempfile::tempdir().unwrap();
    let t = Tmux::start(home.path());
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

    // Library: the new submodel with its metrics and lineage.
    t.keys(&["5", "Enter"]);
    let lib = t.wait("the lineage", minute, |s| {
        s.contains("lineage (newest first)")
    });
    assert!(
        lib.contains("accent-de-v1") && lib.contains("residual r32"),
        "{lib}"
    );

    t.keys(&["q"]);
    let start = Instant::now();
    while t.alive() {
        assert!(start.elapsed() < minute, "q did not quit:\n{}", t.screen());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        home.path()
            .join("library/accent-de-v1.safetensors")
            .is_file()
    );
    assert!(home.path().join("logs/attune.log").is_file());
}
