//! Key-to-frame latency while a real training job runs: the real event loop, worker and App
//! drawing into a `TestBackend`, keys injected through the same event stream the terminal feeds.

use std::path::Path;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc;

use super::app::App;
use super::event::Events;
use super::worker::Worker;
use crate::workflow::Workspace;

/// Key-to-frame latencies measured while training ran.
#[derive(Debug, Clone)]
pub struct Latency {
    /// Milliseconds, sorted.
    pub samples_ms: Vec<f64>,
    /// Training steps the job had reached when the last key was measured.
    pub steps_seen: u64,
}

impl Latency {
    /// The `q`-quantile (0–1) in milliseconds.
    pub fn quantile(&self, q: f64) -> f64 {
        crate::util::stats::quantile_sorted(&self.samples_ms, q)
    }
}

/// What the loop reports to the driver after each frame: drawn at, answered a key, step, running.
type Frame = (Instant, bool, u64, bool);

/// Creates speaker `id` in `home` from the sample folder `set` (for a bench or test home).
pub fn seed_speaker(ws: &Workspace, id: &str) -> anyhow::Result<()> {
    crate::workflow::speakers::create(ws, id, None, "", None, None)?;
    crate::workflow::enroll::import(ws, id, &ws.samples_dir()?.join(id), |_| {})?;
    Ok(())
}

fn press(keys: &mpsc::UnboundedSender<std::io::Result<TermEvent>>, code: KeyCode) {
    let _ = keys.send(Ok(TermEvent::Key(KeyEvent::new(code, KeyModifiers::NONE))));
}

/// The next frame that answered a key, or an error after `limit`.
fn await_key_frame(frames: &std_mpsc::Receiver<Frame>, limit: Duration) -> anyhow::Result<Frame> {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let f = frames
            .recv_timeout(left)
            .context("no frame answered the key")?;
        if f.1 {
            return Ok(f);
        }
    }
}

/// Trains the home's first speaker with `steps` steps and, once steps run, presses `keys` keys
/// (screen switches and list moves, paced like a person) and times each.
pub fn key_latency(ws: &Workspace, keys: usize, steps: u64) -> anyhow::Result<Latency> {
    let (key_tx, mut key_rx) = mpsc::unbounded_channel::<std::io::Result<TermEvent>>();
    let (frame_tx, frame_rx) = std_mpsc::channel::<Frame>();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let ws = ws.clone();
    let ui = std::thread::spawn(move || {
        rt.block_on(async move {
            let (tx, rx) = mpsc::unbounded_channel();
            let worker = Worker::start(ws, tx);
            let mut app = App::new(false, steps);
            let term = futures_util::stream::poll_fn(move |cx| key_rx.poll_recv(cx));
            let mut events = Events::new(term, rx);
            let mut terminal = Terminal::new(TestBackend::new(120, 40))?;
            super::drive(&mut terminal, &mut app, &worker, &mut events, |app, key| {
                let step = app.train.progress.as_ref().map_or(0, |p| p.step);
                let _ = frame_tx.send((Instant::now(), key, step, app.train.running));
            })
            .await
        })
    });
    let run = || -> anyhow::Result<Latency> {
        // Wait for the home to load, then start training the first speaker on screen 3.
        let deadline = Instant::now() + Duration::from_secs(600);
        std::thread::sleep(Duration::from_millis(300));
        press(&key_tx, KeyCode::Char('3'));
        await_key_frame(&frame_rx, Duration::from_secs(30))?;
        press(&key_tx, KeyCode::Enter);
        let mut step = 0;
        while step < 1 {
            anyhow::ensure!(Instant::now() < deadline, "training never reached step 1");
            let f = frame_rx.recv_timeout(Duration::from_secs(600))?;
            step = f.2;
        }
        let cycle = [
            KeyCode::Char('1'),
            KeyCode::Down,
            KeyCode::Char('2'),
            KeyCode::Char('4'),
            KeyCode::Char('5'),
            KeyCode::Char('3'),
        ];
        let mut samples = Vec::new();
        let mut steps_seen = step;
        for i in 0..keys {
            let t0 = Instant::now();
            press(&key_tx, cycle[i % cycle.len()]);
            let (at, _, step, running) = await_key_frame(&frame_rx, Duration::from_secs(10))?;
            samples.push(at.duration_since(t0).as_secs_f64() * 1000.0);
            steps_seen = step;
            anyhow::ensure!(running, "training ended before the keys were measured");
            // A person presses a few keys a second.
            std::thread::sleep(Duration::from_millis(40 + (i as u64 * 37) % 80));
        }
        samples.sort_by(f64::total_cmp);
        Ok(Latency {
            samples_ms: samples,
            steps_seen,
        })
    };
    let result = run();
    // Quit (the confirmation answers yes), which cancels the job.
    press(&key_tx, KeyCode::Char('q'));
    press(&key_tx, KeyCode::Char('y'));
    drop(key_tx);
    ui.join()
        .map_err(|_| anyhow::anyhow!("the UI thread panicked"))??;
    result
}

/// `attune bench tui`: a temporary home with one sample speaker, then [`key_latency`].
pub fn run_bench(base: &Path, keys: usize) -> anyhow::Result<Latency> {
    let dir = std::env::temp_dir().join(format!("attune-bench-tui-{}", std::process::id()));
    let ws = Workspace::at(crate::store::Home::resolve(Some(&dir)), base);
    // The microphone probe's ALSA chatter goes to the bench home's log, not the figures.
    let quiet = crate::audio::capture::redirect_stderr(&ws.home.log_dir().join("stderr.log"));
    let result = seed_speaker(&ws, "accent-de").and_then(|()| key_latency(&ws, keys, 1000));
    drop(quiet);
    let _ = std::fs::remove_dir_all(&dir);
    result
}
