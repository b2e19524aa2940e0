//! `attune train`: personalize one speaker or many in one job (one adapter table, the base run
//! once per step for everyone); results go to the library with their held-out metrics.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use anyhow::Context as _;

use super::Context;
use crate::store::speakers::{SpeakerStore, speaker_utterances};
use crate::submodel::file::{FORMAT_VERSION, Metrics};
use crate::submodel::{Kind, Submodel, SubmodelMeta};
use crate::train::prepare::{SpeakerSet, prepare};
use crate::train::{TrainConfig, TrainEvent, job};

#[derive(clap::Args)]
pub struct Args {
    /// The speaker to personalize for
    #[arg(long, conflicts_with_all = ["speakers", "all"])]
    speaker: Option<String>,
    /// Several speakers trained together in one job (comma-separated)
    #[arg(long, value_delimiter = ',')]
    speakers: Vec<String>,
    /// Every speaker in the home
    #[arg(long)]
    all: bool,
    #[arg(long, value_enum, default_value_t = Kind::Residual)]
    kind: Kind,
    /// Bottleneck (residual) or rank (LoRA)
    #[arg(long, default_value_t = 32)]
    rank: usize,
    #[arg(long)]
    max_steps: Option<u64>,
    /// Examples per speaker per step
    #[arg(long)]
    batch: Option<usize>,
    #[arg(long)]
    lr: Option<f64>,
    #[arg(long)]
    seed: Option<u64>,
    /// Use only the first N training utterances of each speaker (learning curves)
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Evaluations without held-out improvement before stopping (0: run all steps)
    #[arg(long)]
    patience: Option<usize>,
    /// Continue an interrupted job with the same speakers and settings from its checkpoint
    #[arg(long)]
    resume: bool,
    /// Progress and the result as JSON lines on stdout
    #[arg(long)]
    json: bool,
}

impl Args {
    fn config(&self) -> TrainConfig {
        let mut c = TrainConfig::recipe(self.kind, self.rank);
        c.max_steps = self.max_steps.unwrap_or(c.max_steps);
        c.batch = self.batch.unwrap_or(c.batch);
        c.lr = self.lr.unwrap_or(c.lr);
        c.seed = self.seed.unwrap_or(c.seed);
        c.patience = self.patience.unwrap_or(c.patience);
        c
    }

    fn speaker_ids(&self, ctx: &Context) -> anyhow::Result<Vec<String>> {
        if let Some(s) = &self.speaker {
            return Ok(vec![s.clone()]);
        }
        if self.all {
            return Ok(SpeakerStore::new(&ctx.home)
                .list()?
                .into_iter()
                .map(|s| s.id)
                .collect());
        }
        anyhow::ensure!(
            !self.speakers.is_empty(),
            "name a --speaker, --speakers A,B or --all"
        );
        Ok(self.speakers.clone())
    }
}

fn print_event(e: &TrainEvent, json: bool) {
    if json {
        println!("{}", serde_json::to_string(e).expect("event serializes"));
        return;
    }
    match e {
        TrainEvent::Started {
            speakers,
            max_steps,
            params_per_speaker,
        } => eprintln!(
            "training {} speaker(s), up to {max_steps} steps, {params_per_speaker} adapter parameters each",
            speakers.len()
        ),
        TrainEvent::Resumed { step } => eprintln!("resumed at step {step}"),
        TrainEvent::Step {
            step,
            loss,
            elapsed,
            eta,
            ..
        } => {
            eprintln!("step {step:>4}  loss {loss:.4}  {elapsed:.0} s elapsed, ~{eta:.0} s left")
        }
        TrainEvent::Eval {
            step,
            speaker,
            wer,
            best_wer,
        } => {
            eprintln!("step {step:>4}  {speaker}: held-out WER {wer:.3} (best {best_wer:.3})")
        }
        TrainEvent::SpeakerStopped {
            step,
            speaker,
            best_wer,
        } => {
            eprintln!("step {step:>4}  {speaker}: early stop, best held-out WER {best_wer:.3}")
        }
    }
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let ids = args.speaker_ids(ctx)?;
    let cfg = args.config();
    let rec = ctx.recognizer(false)?;
    let mut sets = Vec::new();
    let mut data_hashes = BTreeMap::new();
    for id in &ids {
        let (mut train, heldout) =
            speaker_utterances(&ctx.home, id).with_context(|| format!("speaker {id}"))?;
        if let Some(n) = args.limit {
            train.truncate(n);
        }
        data_hashes.insert(
            id.clone(),
            SpeakerStore::new(&ctx.home).open(id)?.manifest_hash()?,
        );
        sets.push(SpeakerSet {
            id: id.clone(),
            train,
            heldout,
        });
    }
    let data = prepare(&rec, &sets)?;
    let job_key = crate::model::weights::sha256_hex(
        format!("{ids:?}{}{:?}", serde_json::to_string(&cfg)?, args.limit).as_bytes(),
    );
    let checkpoint = ctx
        .home
        .root
        .join("jobs")
        .join(format!("{}.ckpt", &job_key[..16]));
    if !args.resume && checkpoint.exists() {
        std::fs::remove_file(&checkpoint)
            .with_context(|| format!("removing stale {}", checkpoint.display()))?;
    }
    let cancel = AtomicBool::new(false);
    let out = job::run(
        &rec,
        &data,
        &cfg,
        None,
        Some(&checkpoint),
        &mut |e| print_event(&e, args.json),
        &cancel,
    )?;
    let hyper: BTreeMap<String, serde_json::Value> =
        serde_json::from_value(serde_json::to_value(&cfg)?)?;
    for r in out.speakers {
        let mut sub = Submodel {
            meta: SubmodelMeta {
                format_version: FORMAT_VERSION,
                id: String::new(),
                speaker: r.id.clone(),
                spec: cfg.spec.clone(),
                targets: cfg.spec.targets(),
                base_hash: rec.model.hash.clone(),
                base_name: rec.model.config.name.clone(),
                data_hash: data_hashes[&r.id].clone(),
                hyper: hyper.clone(),
                metrics: r.base_wer.zip(r.best_wer).map(|(base_wer, wer)| Metrics {
                    base_wer,
                    wer,
                    heldout_utterances: sets
                        .iter()
                        .find(|s| s.id == r.id)
                        .map_or(0, |s| s.heldout.len()),
                }),
                created: crate::store::speakers::now_secs(),
                parent: None,
                checksum: String::new(),
            },
            table: r.adapter,
        };
        crate::library::add(&ctx.home, &mut sub)?;
        let line = serde_json::json!({
            "speaker": r.id, "submodel": sub.meta.id, "base_wer": r.base_wer, "wer": r.best_wer,
            "steps": r.steps, "best_step": r.best_step, "seconds": out.seconds,
        });
        if args.json {
            println!("{line}");
        } else {
            println!(
                "{}: {} — held-out WER {} → {} after {} steps ({:.0} s)",
                r.id,
                sub.meta.id,
                r.base_wer.map_or("n/a".into(), |w| format!("{w:.3}")),
                r.best_wer.map_or("n/a".into(), |w| format!("{w:.3}")),
                r.steps,
                out.seconds
            );
        }
    }
    let _ = std::fs::remove_file(&checkpoint);
    Ok(ExitCode::SUCCESS)
}
