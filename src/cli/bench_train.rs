//! `attune bench train`: seconds per training step and per utterance, a fused job of S speakers
//! against S sequential jobs at equal steps (measured in one run), and peak memory. The training
//! loop only (features prepared before the clock starts, no dev evaluations): the time a whole
//! personalization takes, preparation and instant start included, is `attune bench personalize`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use serde_json::json;

use crate::dataset::load_set;
use crate::recognizer::Recognizer;
use crate::submodel::Kind;
use crate::train::prepare::{SpeakerSet, prepare};
use crate::train::{TrainConfig, job};
use crate::workflow::Workspace;

#[derive(clap::Args)]
pub struct Args {
    /// Speakers in the fused-vs-sequential comparison
    #[arg(long, default_value_t = 4)]
    speakers: usize,
    /// Steps per job in the timing runs
    #[arg(long, default_value_t = 6)]
    steps: u64,
    #[arg(long, value_enum, default_value_t = Kind::Residual)]
    kind: Kind,
    /// Folder of sample speakers (each with a manifest.jsonl) [default: the shipped sample speakers]
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

/// The sample speakers' training parts (split like the speaker store does), without dev sets:
/// the bench times training steps, not evaluations.
fn sample_sets(dir: &Path, limit: usize) -> anyhow::Result<Vec<SpeakerSet>> {
    let mut ids: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("manifest.jsonl").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    ids.sort();
    ids.into_iter()
        .map(|id| {
            let (utts, _) = load_set(&dir.join(&id))?;
            let parts = crate::enroll::split::partition(utts);
            let mut train = parts.train;
            train.truncate(limit);
            Ok(SpeakerSet {
                id,
                train,
                dev: Vec::new(),
            })
        })
        .collect()
}

fn timed_job(rec: &Recognizer, sets: &[SpeakerSet], cfg: &TrainConfig) -> anyhow::Result<f64> {
    let data = prepare(rec, sets, &[])?;
    let never = AtomicBool::new(false);
    let t = Instant::now();
    job::run(rec, &data, cfg, None, None, &mut |_| {}, &never)?;
    Ok(t.elapsed().as_secs_f64())
}

/// Peak resident memory of this process (VmHWM), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub fn run(ws: &Workspace, args: Args) -> anyhow::Result<ExitCode> {
    let dir = match &args.data {
        Some(d) => d.clone(),
        None => ws.samples_dir()?,
    };
    let sets = sample_sets(&dir, 80)?;
    anyhow::ensure!(
        sets.len() >= args.speakers.max(1),
        "{}: only {} speakers",
        dir.display(),
        sets.len()
    );
    let rec = ws.recognizer(false)?;
    let mut cfg = TrainConfig::recipe(args.kind, crate::train::DEFAULT_RANK);
    cfg.max_steps = args.steps;
    cfg.patience = 0;
    cfg.eval_every = u64::MAX;

    let one = timed_job(&rec, &sets[..1], &cfg)?;
    let per_step = one / args.steps as f64;
    let single = TrainConfig {
        batch: 1,
        ..cfg.clone()
    };
    let per_step_batch1 = timed_job(&rec, &sets[..1], &single)? / args.steps as f64;
    let s = args.speakers.max(1);
    let fused = timed_job(&rec, &sets[..s], &cfg)?;
    let mut sequential = 0.0;
    for set in &sets[..s] {
        sequential += timed_job(&rec, std::slice::from_ref(set), &cfg)?;
    }
    let ratio = sequential / fused;
    let mut report = json!({
        "bench": "train", "kind": args.kind.to_string(), "batch_per_speaker": cfg.batch, "steps": args.steps,
        "seconds_per_step": per_step, "seconds_per_utterance": per_step / cfg.batch as f64,
        "seconds_per_step_batch1": per_step_batch1,
        "fused": { "speakers": s, "seconds": fused, "sequential_seconds": sequential,
                   "submodels_per_hour_ratio": ratio },
    });
    if !args.json {
        println!(
            "one speaker: {per_step:.2} s/step, {:.3} s/utterance (batch {}); batch 1: {per_step_batch1:.3} s/step",
            per_step / cfg.batch as f64,
            cfg.batch
        );
        println!(
            "{s} speakers × {} steps: fused {fused:.1} s, sequential {sequential:.1} s → {ratio:.2}x submodels per hour",
            args.steps
        );
    }
    report["peak_rss_mib"] = json!(peak_rss_mib());
    if args.json {
        println!("{report}");
    } else if let Some(m) = peak_rss_mib() {
        println!("peak memory {m:.0} MiB");
    }
    Ok(ExitCode::SUCCESS)
}
