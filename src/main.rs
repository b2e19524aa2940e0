//! The `attune` binary: parses the command line and runs one headless command, or the workbench
//! TUI when no subcommand is given.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use attune::cli;
use attune::workflow::Workspace;

/// mimalloc keeps freed tensor buffers for reuse; glibc hands every large tensor back to the
/// kernel and takes it again zero-filled page by page (a third of training CPU time was `sys`).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Personalize a Whisper speech recognizer to one speaker at a time with tiny submodels.
/// Everything stays on this machine: no network access, recordings kept private.
#[derive(Parser)]
#[command(
    name = "attune",
    version,
    about,
    long_about = None,
    after_help = "Without a command, attune opens the workbench (a terminal UI: speakers, enroll, \
                  train, compare, library). Everything stays on this machine: no network access."
)]
struct Args {
    /// Where speakers, submodels and logs live [default: the platform data dir, e.g. ~/.local/share/attune]
    #[arg(long, env = "ATTUNE_HOME", global = true, value_name = "DIR")]
    home: Option<PathBuf>,
    /// Base model: a directory in attune's base format, or the name of one imported into the home
    /// [default: the shipped tiny.en]
    #[arg(long, env = "ATTUNE_BASE", global = true, value_name = "DIR|NAME")]
    base: Option<String>,
    /// Workbench only: the Train screen's initial step budget (+/- change it there)
    #[arg(long, env = "ATTUNE_TRAIN_STEPS", value_name = "N", default_value_t = attune::train::DEFAULT_MAX_STEPS)]
    train_steps: u64,
    /// No subcommand opens the workbench TUI
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Transcribe WAV files (any rate, channels, bit depth)
    Transcribe(cli::transcribe::Args),
    /// Score the base (and a submodel) on a test set: WER, CER, alignments
    Eval(cli::eval::Args),
    /// Personalize: train submodels for one speaker or many in one job
    Train(Box<cli::train::Args>),
    /// Import or inspect base models
    #[command(subcommand)]
    Base(cli::base::Command),
    /// Measure speed (figures printed, nothing asserted)
    #[command(subcommand)]
    Bench(Bench),
    /// The submodel library: list, show, export (file or PEFT), import, rm
    #[command(subcommand)]
    Library(cli::library::Command),
    /// Create, list and remove speakers
    #[command(subcommand)]
    Speaker(cli::speaker::Command),
    /// Import, export or record a speaker's enrollment utterances
    #[command(subcommand)]
    Enroll(cli::enroll::Command),
    /// List audio input and output devices
    Devices(cli::devices::Args),
}

#[derive(Subcommand)]
enum Bench {
    #[command(flatten)]
    Engine(cli::bench::Command),
    /// TUI responsiveness: key-to-frame latency (p50/p95/max) while a training job runs
    Tui {
        /// Keys pressed and timed once training steps run
        #[arg(long, default_value_t = 200)]
        keys: usize,
    },
}

fn main() -> ExitCode {
    // Returns only when the settings are in place (or exec failed: they are a speed-up).
    let _ = attune::util::runtime_env::reexec_with_settings();
    let args = Args::parse();
    let ws = Workspace::new(args.home.as_deref(), args.base.as_deref());
    match ws.open_home() {
        Ok(0) => {}
        Ok(n) => eprintln!(
            "note: made {n} file(s)/folder(s) in {} private (0600/0700)",
            ws.home.root.display()
        ),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    let Some(command) = args.command else {
        return run_tui(&ws, args.train_steps);
    };
    cli::init_stderr_logging();
    cli::exit_quietly_on_closed_stdout();
    if !matches!(command, Command::Bench(Bench::Tui { .. })) {
        // The command's model work runs on this thread: as a pool worker it takes its share of
        // every parallel GEMM directly (the workbench's jobs run on threads of their own).
        attune::util::runtime_env::join_pool();
    }
    let result = match command {
        Command::Transcribe(a) => cli::transcribe::run(&ws, a),
        Command::Eval(a) => cli::eval::run(&ws, a),
        Command::Train(a) => cli::train::run(&ws, *a),
        Command::Base(c) => cli::base::run(&ws, c),
        Command::Bench(Bench::Engine(c)) => cli::bench::run(&ws, c),
        Command::Bench(Bench::Tui { keys }) => bench_tui(&ws, keys),
        Command::Speaker(c) => cli::speaker::run(&ws, c),
        Command::Enroll(c) => cli::enroll::run(&ws, c),
        Command::Devices(a) => cli::devices::run(&ws, a),
        Command::Library(c) => cli::library::run(&ws, c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", cli::report(&e));
            ExitCode::FAILURE
        }
    }
}

/// The workbench: everything it prints goes to the log while it owns the terminal.
fn run_tui(ws: &Workspace, train_steps: u64) -> ExitCode {
    let opts = attune::tui::Options {
        workspace: ws.clone(),
        train_steps,
    };
    match attune::tui::run(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", cli::report(&e));
            ExitCode::FAILURE
        }
    }
}

/// `attune bench tui`: key-to-frame latency of the workbench while a real job trains.
fn bench_tui(ws: &Workspace, keys: usize) -> anyhow::Result<ExitCode> {
    let l = attune::tui::bench::run_bench(&ws.base_dir()?, keys)?;
    println!(
        "key-to-frame latency while training ({} keys, training at step {}): p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        l.samples_ms.len(),
        l.steps_seen,
        l.quantile(0.5),
        l.quantile(0.95),
        l.quantile(1.0)
    );
    Ok(ExitCode::SUCCESS)
}
