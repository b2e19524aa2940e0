//! `attune train`: personalize one speaker or many in one job (one adapter table, the base run
//! once per step for everyone); results go to the library with their held-out metrics.

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use anyhow::Context as _;

use super::Context;
use crate::store::speakers::SpeakerStore;
use crate::submodel::Kind;
use crate::submodel::space::Space;
use crate::train::prepare::prepare;
use crate::train::save::{save_results, speaker_sets};
use crate::train::{TrainConfig, TrainEvent, job, space_job};

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
    /// Learn a speaker-embedding space NAME (shared generator + one embedding per speaker)
    /// from the chosen speakers; each also gets a kind-`embedding` submodel
    #[arg(long, value_name = "NAME", conflicts_with = "from_space")]
    embedding_space: Option<String>,
    /// Enroll with little data: fit only the speaker's embedding in space NAME (generator frozen)
    #[arg(long, value_name = "NAME")]
    from_space: Option<String>,
    /// Embedding size m of a new space
    #[arg(long, default_value_t = 16)]
    dim: usize,
}

impl Args {
    fn config(&self) -> TrainConfig {
        let space = self
            .embedding_space
            .clone()
            .or_else(|| self.from_space.clone());
        let kind = if space.is_some() {
            Kind::Embedding
        } else {
            self.kind
        };
        let mut c = if self.from_space.is_some() {
            TrainConfig::embedding_fit(self.rank)
        } else {
            TrainConfig::recipe(kind, self.rank)
        };
        c.space = space;
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
    let mut cfg = args.config();
    let rec = ctx.recognizer(false)?;
    let stored = speaker_sets(&ctx.home, &ids, args.limit)?;
    let data = prepare(&rec, &stored.sets)?;
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
    let mut progress = |e: TrainEvent| print_event(&e, args.json);
    let out = if let Some(name) = &args.embedding_space {
        let out = space_job::train_space(
            &rec,
            &data,
            &cfg,
            name,
            args.dim,
            Some(&checkpoint),
            &mut progress,
            &cancel,
        )?;
        let path = space_job::space_path(&ctx.home, name);
        out.space
            .as_ref()
            .expect("a space job returns its space")
            .save(&path)?;
        eprintln!(
            "space {name} ({} speakers, m = {}) saved to {}",
            data.len(),
            args.dim,
            path.display()
        );
        out
    } else if let Some(name) = &args.from_space {
        let path = space_job::space_path(&ctx.home, name);
        let space = Space::load(&path, &rec.model.hash, rec.model.device())
            .with_context(|| format!("space {name}"))?;
        cfg.spec = space.meta.spec.clone();
        space_job::fit_embeddings(&rec, &data, &cfg, &space, &mut progress, &cancel)?
    } else {
        job::run(
            &rec,
            &data,
            &cfg,
            None,
            Some(&checkpoint),
            &mut progress,
            &cancel,
        )?
    };
    for r in save_results(&ctx.home, &rec, &cfg, &stored, &out)? {
        let line = serde_json::json!({
            "speaker": r.speaker, "submodel": r.submodel, "base_wer": r.base_wer, "wer": r.wer,
            "steps": r.steps, "best_step": r.best_step, "seconds": out.seconds,
        });
        if args.json {
            println!("{line}");
        } else {
            println!(
                "{}: {} — held-out WER {} → {} after {} steps ({:.0} s)",
                r.speaker,
                r.submodel,
                r.base_wer.map_or("n/a".into(), |w| format!("{w:.3}")),
                r.wer.map_or("n/a".into(), |w| format!("{w:.3}")),
                r.steps,
                out.seconds
            );
        }
    }
    let _ = std::fs::remove_file(&checkpoint);
    Ok(ExitCode::SUCCESS)
}
