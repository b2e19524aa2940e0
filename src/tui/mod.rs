//! The workbench TUI (`attune` with no subcommand): enroll, train, compare, library. `run` owns the
//! terminal: it sends stderr and tracing to `<home>/logs/` (nothing may print over the screen),
//! restores the terminal on exit and on panic, and drives the Elm-style loop — events in,
//! `App::update`, commands to the worker, one redraw per event. The UI never touches a tensor.
//!
//! Modules, leaves first (none imports one below it):
//! `msg` (commands, worker messages, view types) ← `app` (the state) ← `keymap` (keys → acts,
//! and the help) ← `reduce/` (every state transition) and `screens/` + `widgets/` (pure views);
//! `shared` ← `jobs` ← `worker` (runs commands, sends messages); `event` merges the inputs.

pub mod app;
pub mod bench;
pub mod demo;
pub mod event;
pub mod jobs;
pub mod keymap;
pub mod msg;
pub mod reduce;
pub mod screens;
pub mod shared;
pub mod widgets;
pub mod worker;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_instant;
#[cfg(test)]
mod tests_train;

use std::io::IsTerminal;
use std::path::Path;

use anyhow::Context as _;
use futures_util::Stream;
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::crossterm::event::Event as TermEvent;

use app::App;
use event::{Event, Events};
use worker::Worker;

use crate::workflow::Workspace;

/// What the TUI works on.
#[derive(Debug, Clone)]
pub struct Options {
    pub workspace: Workspace,
    /// Initial step budget of the Train screen.
    pub train_steps: u64,
}

/// Sends tracing to `<log_dir>/attune.log` (appended).
fn init_file_logging(log_dir: &Path) -> anyhow::Result<()> {
    crate::util::atomic::create_private_dir_all(log_dir)
        .with_context(|| format!("creating {}", log_dir.display()))?;
    let path = log_dir.join("attune.log");
    let file = crate::util::atomic::open_private(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
    Ok(())
}

/// Runs the TUI until the user quits.
pub fn run(opts: Options) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "the workbench needs an interactive terminal (stdin and stdout are not both a TTY); \
             use a subcommand for headless work, see `attune --help`"
        );
    }
    let home = &opts.workspace.home;
    home.ensure()
        .with_context(|| format!("creating {}", home.root.display()))?;
    let logs = home.log_dir();
    init_file_logging(&logs)?;
    tracing::info!("TUI starting with home {}", home.root.display());
    // Log panics (their message would otherwise land only in the redirected stderr).
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        tracing::error!("panic: {info}");
        previous(info);
    }));
    let stderr_log = logs.join("stderr.log");
    let redirect = crate::audio::capture::redirect_stderr(&stderr_log)
        .with_context(|| format!("redirecting stderr to {}", stderr_log.display()))?;
    // `try_init` installs a hook that restores the terminal before a panic is reported.
    let mut terminal = ratatui::try_init().context(
        "cannot take over the terminal (raw mode / alternate screen failed); \
         is this a real terminal? Use a subcommand for headless work",
    )?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let result = rt.block_on(async {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let worker = Worker::start(opts.workspace.clone(), tx);
        let mut app = App::new(!crate::shipped::SPEAKERS.files.is_empty(), opts.train_steps);
        let mut events = Events::new(ratatui::crossterm::event::EventStream::new(), rx);
        drive(&mut terminal, &mut app, &worker, &mut events, |_, _| {}).await
    });
    ratatui::restore();
    drop(redirect);
    tracing::info!("TUI closed");
    result
}

/// The loop: draw, wait for an event, update, hand any command to the worker. `observe` sees the
/// state after every frame and whether that frame answered a key (the latency bench uses it).
pub async fn drive<B, S>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    worker: &Worker,
    events: &mut Events<S>,
    mut observe: impl FnMut(&App, bool),
) -> anyhow::Result<()>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    S: Stream<Item = std::io::Result<TermEvent>> + Unpin,
{
    terminal.draw(|f| screens::render(app, f))?;
    while !app.quit {
        let action = match events.next().await {
            Event::Action(a) => a,
            Event::Closed(None) => break,
            Event::Closed(Some(e)) => return Err(e).context("reading the terminal"),
        };
        let key = matches!(action, app::Action::Key(_));
        if let Some(cmd) = app.update(action) {
            tracing::debug!("command {cmd:?}");
            worker.run(cmd);
        }
        terminal.draw(|f| screens::render(app, f))?;
        observe(app, key);
    }
    Ok(())
}
