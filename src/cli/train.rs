//! `attune train`: personalize one speaker or many in one job (one adapter table, the base run
//! once per step for everyone); results go to the library with their test-part figures.

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use crate::store::speakers::SpeakerStore;
use crate::submodel::Kind;
use crate::train::{DEFAULT_KIND, DEFAULT_RANK, TrainEvent};
use crate::workflow::Workspace;
use crate::workflow::personalize::{self, Overrides, Plan, Request};

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
    #[arg(long, value_enum, default_value_t = DEFAULT_KIND)]
    kind: Kind,
    /// Bottleneck (residual, hybrid) or rank (LoRA); a hybrid's decoder LoRA has rank 8
    #[arg(long, default_value_t = DEFAULT_RANK)]
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
    /// Evaluations without dev improvement before stopping (0, the default: run all steps)
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
    fn request(&self, ws: &Workspace) -> anyhow::Result<Request> {
        let plan = if let Some(name) = &self.embedding_space {
            Plan::Space {
                name: name.clone(),
                dim: self.dim,
                rank: self.rank,
            }
        } else if let Some(name) = &self.from_space {
            Plan::FromSpace { name: name.clone() }
        } else {
            Plan::Adapters {
                kind: self.kind,
                rank: self.rank,
            }
        };
        Ok(Request {
            speakers: self.speaker_ids(ws)?,
            plan,
            overrides: Overrides {
                max_steps: self.max_steps,
                batch: self.batch,
                lr: self.lr,
                seed: self.seed,
                patience: self.patience,
            },
            limit: self.limit,
        })
    }

    fn speaker_ids(&self, ws: &Workspace) -> anyhow::Result<Vec<String>> {
        if let Some(s) = &self.speaker {
            return Ok(vec![s.clone()]);
        }
        if self.all {
            return Ok(SpeakerStore::new(&ws.home)
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
            eprintln!("step {step:>4}  {speaker}: dev WER {wer:.3} (best {best_wer:.3})")
        }
        TrainEvent::SpeakerStopped {
            step,
            speaker,
            best_wer,
        } => {
            eprintln!("step {step:>4}  {speaker}: early stop, best dev WER {best_wer:.3}")
        }
    }
}

pub fn run(ws: &Workspace, args: Args) -> anyhow::Result<ExitCode> {
    let req = args.request(ws)?;
    let rec = ws.recognizer(false)?;
    let cancel = AtomicBool::new(false);
    let mut progress = |e: TrainEvent| print_event(&e, args.json);
    let out = personalize::run(ws, &rec, &req, args.resume, &mut progress, &cancel)?;
    if let (Some(path), Plan::Space { name, dim, .. }) = (&out.space, &req.plan) {
        eprintln!(
            "space {name} ({} speakers, m = {dim}) saved to {}",
            req.speakers.len(),
            path.display()
        );
    }
    for r in &out.saved {
        let m = r.metrics.as_ref();
        let line = serde_json::json!({
            "speaker": r.speaker, "submodel": r.submodel,
            "base_wer": m.map(|m| m.base_wer), "wer": m.map(|m| m.wer),
            "stock_wer": m.and_then(|m| m.stock_wer),
            "dev_wer": m.and_then(|m| m.dev_wer),
            "test_utterances": m.map_or(0, |m| m.test_utterances),
            "ci95": m.and_then(|m| m.ci95), "verdict": m.and_then(|m| m.verdict.clone()),
            "generic": m.and_then(|m| m.generic).map(|g| serde_json::json!({"base_wer": g.base_wer, "wer": g.wer})),
            "record_more": r.record_more,
            "steps": r.steps, "best_step": r.best_step, "seconds": out.seconds,
            "peak_rss_mib": super::bench_train::peak_rss_mib(),
        });
        if args.json {
            println!("{line}");
        } else {
            println!(
                "{}: {} — {} after {} steps ({:.0} s)",
                r.speaker,
                r.submodel,
                r.describe(),
                r.steps,
                out.seconds
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
