//! The harness of the workbench's end-to-end tests: the real `attune` binary in a detached tmux
//! session (a private tmux server per session, 120×40) with a temporary home; keys in, screen
//! text out, every wait a poll of the screen with a generous limit; kill -9 of the process; a
//! home prepared through the CLI; and the private PulseAudio null-sink "microphone".
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "../enroll_common/mod.rs"]
pub mod enroll_common;
pub use enroll_common::{attune_ok, repo};

pub const MINUTE: Duration = Duration::from_secs(60);

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `attune` running in a tmux pane; the tmux server is killed on drop.
pub struct Tmux {
    socket: String,
    session: String,
}

impl Tmux {
    /// Starts `attune --home HOME ARGS…` with `env` set, in a session named after `name`.
    pub fn start(name: &str, home: &Path, args: &[&str], env: &[(&str, String)]) -> Self {
        Self::start_program(name, &[env!("CARGO_BIN_EXE_attune")], home, args, env)
    }

    /// Like [`Tmux::start`] with another command line for attune (a copy of the binary, or
    /// the binary under a tracer).
    pub fn start_program(
        name: &str,
        program: &[&str],
        home: &Path,
        args: &[&str],
        env: &[(&str, String)],
    ) -> Self {
        let session = format!("attune-{name}-{}", std::process::id());
        // `exec env`: the pane's process is attune itself, so its pid is the pane's.
        let mut cmd = String::from("exec env -u ATTUNE_BASE -u ATTUNE_TRAIN_STEPS");
        for (k, v) in env {
            cmd.push_str(&format!(" {k}={}", quote(v)));
        }
        for p in program {
            cmd.push(' ');
            cmd.push_str(&quote(p));
        }
        cmd.push_str(&format!(" --home {}", quote(&home.display().to_string())));
        for a in args {
            cmd.push(' ');
            cmd.push_str(&quote(a));
        }
        let t = Self {
            socket: session.clone(),
            session,
        };
        let ok = t
            .tmux()
            .args([
                "new-session",
                "-d",
                "-s",
                &t.session,
                "-x",
                "120",
                "-y",
                "40",
            ])
            .arg(&cmd)
            .status()
            .expect("tmux is installed (apt-get install tmux)")
            .success();
        assert!(ok, "tmux new-session failed");
        t
    }

    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]).env_remove("TMUX");
        c
    }

    /// Sends tmux key names (`Enter`, `Space`, `Down`) or literal characters.
    pub fn keys(&self, keys: &[&str]) {
        let ok = self
            .tmux()
            .args(["send-keys", "-t", &self.session])
            .args(keys)
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux send-keys {keys:?} failed");
    }

    /// Types `text` literally.
    pub fn type_text(&self, text: &str) {
        let ok = self
            .tmux()
            .args(["send-keys", "-l", "-t", &self.session, text])
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux send-keys -l failed");
    }

    pub fn screen(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen until `pred` holds; panics with the last screen after `limit`.
    pub fn wait(&self, what: &str, limit: Duration, mut pred: impl FnMut(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            assert!(
                self.alive(),
                "attune exited while waiting for {what}; last screen:\n{s}"
            );
            assert!(
                start.elapsed() < limit,
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn alive(&self) -> bool {
        self.tmux()
            .args(["has-session", "-t", &self.session])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// The attune process's id (the pane's process).
    pub fn pid(&self) -> u32 {
        let out = self
            .tmux()
            .args(["display-message", "-p", "-t", &self.session, "#{pane_pid}"])
            .output()
            .unwrap();
        let pid = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        assert_eq!(comm.trim(), "attune", "the pane runs attune itself");
        pid
    }

    /// Kills attune with SIGKILL (no clean-up of any kind) and waits for the pane to close.
    pub fn kill_9(&self) {
        let pid = self.pid();
        assert!(
            Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status()
                .unwrap()
                .success()
        );
        self.wait_closed("the killed attune's pane to close");
    }

    /// Waits until attune has exited (its pane, and with it the session, closes).
    pub fn wait_closed(&self, what: &str) {
        let start = Instant::now();
        while self.alive() {
            assert!(start.elapsed() < MINUTE, "{what}:\n{}", self.screen());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Quits with `q` and waits for the process to end.
    pub fn quit(&self) {
        self.keys(&["q"]);
        self.wait_closed("q did not quit");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self
            .tmux()
            .arg("kill-server")
            .stderr(Stdio::null())
            .status();
    }
}

/// The training step shown in the header (`training 3/6`).
pub fn step(screen: &str) -> Option<u64> {
    let at = screen.find("training ")? + "training ".len();
    let rest = &screen[at..];
    rest[..rest.find('/')?].trim().parse().ok()
}

/// Creates sample speaker `id` in `home` with its first `n` utterances (fewer utterances: a
/// shorter report after training).
pub fn sample_speaker(home: &Path, id: &str, n: usize) {
    let src = repo(&format!("sample_data/speakers/{id}"));
    let dst = home.with_file_name(format!("set-{id}"));
    std::fs::create_dir_all(&dst).unwrap();
    for i in 1..=n {
        for ext in ["wav", "txt"] {
            let name = format!("{i:03}.{ext}");
            std::fs::copy(src.join(&name), dst.join(&name)).unwrap();
        }
    }
    attune_ok(home, &["speaker", "new", id]);
    attune_ok(
        home,
        &["enroll", "import", "--speaker", id, dst.to_str().unwrap()],
    );
}

/// Files in `<home>/jobs` with extension `ext`.
pub fn job_files(home: &Path, ext: &str) -> Vec<PathBuf> {
    std::fs::read_dir(home.join("jobs"))
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == ext))
                .collect()
        })
        .unwrap_or_default()
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A private PulseAudio server with a null sink `vsink` whose monitor is the default source
/// (`.ci/pulse.sh`); stopped on drop.
pub struct Pulse {
    dir: PathBuf,
}

impl Pulse {
    /// Starts the server; `None` (with the reason printed) when PulseAudio is not installed and
    /// `ATTUNE_SKIP_PULSE=1` allows skipping; a failure otherwise.
    pub fn start(dir: &Path) -> Option<Self> {
        for tool in ["pulseaudio", "paplay", "pactl"] {
            if !have(tool) {
                let why = format!(
                    "`{tool}` is not installed (apt-get install pulseaudio pulseaudio-utils)"
                );
                if std::env::var("ATTUNE_SKIP_PULSE").as_deref() == Ok("1") {
                    println!("SKIPPED: {why}; ATTUNE_SKIP_PULSE=1");
                    return None;
                }
                panic!("{why}; set ATTUNE_SKIP_PULSE=1 to skip this test");
            }
        }
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
        Some(Self {
            dir: dir.to_path_buf(),
        })
    }

    /// The variables that point a process at this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("XDG_RUNTIME_DIR", self.dir.display().to_string()),
            (
                "PULSE_SERVER",
                format!("unix:{}/pulse/native", self.dir.display()),
            ),
        ]
    }

    /// Plays a WAV into the null sink (what the "microphone" hears), to the end.
    pub fn play(&self, wav: &Path) {
        let mut c = Command::new("paplay");
        c.arg("--device=vsink").arg(wav);
        for (k, v) in self.env() {
            c.env(k, v);
        }
        assert!(c.status().unwrap().success(), "paplay failed");
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
