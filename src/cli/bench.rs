//! `attune bench …`: speed figures measured in one run and printed (never asserted in tests).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use serde::Serialize;

use crate::dataset::load_set;
use crate::features::SAMPLE_RATE;
use crate::model::decode::DecodeOptions;
use crate::model::int8::Compute;
use crate::recognizer::Recognizer;
use crate::workflow::Workspace;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Decode speed per clip (median/min/max wall, real-time factor), dynamic vs full context
    Decode {
        /// Clips to time [default: the shipped real clips]
        #[arg(long, value_name = "PATH")]
        set: Option<PathBuf>,
        /// Timed runs per clip and mode (after one warm-up run)
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Which base matrices multiply in int8 (f32: none)
        #[arg(long, value_enum, default_value_t = Compute::default())]
        compute: Compute,
        #[arg(long)]
        json: bool,
    },
    /// Serving figures with many submodels: a burst of requests served by mixed-speaker
    /// batches, one batch per speaker, swap-per-request (loaded from disk, or cached) and the
    /// base alone; throughput, latency p50/p95, batch fill, tokens; submodel hot-load time
    Serve(super::bench_serve::Args),
    /// The README's results table: each sample speaker personalized with the default recipe in
    /// a scratch home; test-part WER (stock, base, submodel), 95 % interval, verdict, seconds,
    /// peak memory
    Personalize(super::bench_personalize::Args),
    /// Training-loop speed: seconds per step, fused multi-speaker job vs sequential jobs at
    /// equal steps, peak memory (a whole personalization's time: `bench personalize`)
    Train(super::bench_train::Args),
}

/// Wall-clock statistics of repeated runs, in seconds.
#[derive(Serialize, Clone, Copy)]
pub struct Timing {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// median wall / audio duration
    pub rtf: f64,
}

impl Timing {
    pub fn of(mut runs: Vec<f64>, audio_seconds: f64) -> Self {
        runs.sort_by(f64::total_cmp);
        let median = crate::util::stats::quantile_sorted(&runs, 0.5);
        Self {
            median,
            min: runs[0],
            max: runs[runs.len() - 1],
            rtf: median / audio_seconds.max(1e-9),
        }
    }
}

#[derive(Serialize)]
struct ClipTiming {
    id: String,
    seconds: f64,
    text: String,
    dynamic: Timing,
    full: Timing,
}

pub fn run(ws: &Workspace, cmd: Command) -> anyhow::Result<ExitCode> {
    let (set, runs, compute, json) = match cmd {
        Command::Decode {
            set,
            runs,
            compute,
            json,
        } => (set, runs, compute, json),
        Command::Serve(args) => return super::bench_serve::run(ws, args),
        Command::Train(args) => return super::bench_train::run(ws, args),
        Command::Personalize(args) => return super::bench_personalize::run(ws, args),
    };
    let set = match set {
        Some(s) => s,
        None => ws.generic_dir()?,
    };
    let (utts, _) = load_set(&set)?;
    let dynamic = Recognizer::load_with(&ws.base_dir()?, DecodeOptions::default(), compute)?;
    let mut full = dynamic.clone();
    full.options.full_context = true;
    let mut rows = Vec::new();
    for u in utts {
        let audio = crate::audio::read_wav(&u.audio)?;
        let seconds = audio.len() as f64 / SAMPLE_RATE as f64;
        let time = |rec: &Recognizer| -> anyhow::Result<(Timing, String)> {
            let mut text = rec.transcribe(&[&audio], None, 1)?.remove(0).text; // warm-up
            let mut walls = Vec::with_capacity(runs);
            for _ in 0..runs.max(1) {
                let t = Instant::now();
                text = rec.transcribe(&[&audio], None, 1)?.remove(0).text;
                walls.push(t.elapsed().as_secs_f64());
            }
            Ok((Timing::of(walls, seconds), text))
        };
        let (d, text) = time(&dynamic)?;
        let (f, _) = time(&full)?;
        if !json {
            println!(
                "{:<28} {:>5.1} s audio   dynamic {:.3} s (min {:.3}, max {:.3}, RTF {:.3})   full {:.3} s (RTF {:.3})   speed-up {:.1}x",
                u.id,
                seconds,
                d.median,
                d.min,
                d.max,
                d.rtf,
                f.median,
                f.rtf,
                f.median / d.median
            );
        }
        rows.push(ClipTiming {
            id: u.id,
            seconds,
            text,
            dynamic: d,
            full: f,
        });
    }
    if json {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        println!(
            "{}",
            serde_json::json!({ "bench": "decode", "threads": threads, "runs": runs, "clips": rows })
        );
    }
    Ok(ExitCode::SUCCESS)
}
