//! `attune train`: personalize one speaker or many in one job (one adapter table, the base run
//! once per step for everyone); results go to the library with their test-part figures.

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use crate::store::speakers::SpeakerStore;
use crate::submodel::Kind;
use crate::train::{DEFAULT_KIND, DEFAULT_RANK, TrainEvent};
use crate::workflow::Workspace;
use crate::workflow::personalize::{self, Overrides, Plan, Request};
use crate::workflow::sufficiency;

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
    /// Step budget (residual recipe 10: 240; hybrid recipe 4: 180; LoRA: 120)
    #[arg(long, value_name = "N")]
    max_steps: Option<u64>,
    /// Examples per speaker per step
    #[arg(long)]
    batch: Option<usize>,
    /// Peak learning rate, reached after 10 warm-up steps (residual 3e-3, hybrid 2e-3, LoRA 3e-3)
    #[arg(long, value_name = "PEAK")]
    lr: Option<f64>,
    /// Where the learning rate ends, as a fraction of its peak: after warm-up it falls linearly
    /// to FRACTION × --lr at the last step (default: 1 for residual, 0.1 for the other kinds)
    #[arg(long, value_name = "FRACTION")]
    lr_floor: Option<f64>,
    /// Seed of the job's randomness: batch order, SpecAugment masks, fresh adapters' weights (default 17)
    #[arg(long)]
    seed: Option<u64>,
    /// Use only the first N training utterances of each speaker (learning curves)
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Evaluations without dev improvement before stopping (0, the default: run all steps)
    #[arg(long)]
    patience: Option<usize>,
    /// Speed perturbation: each training utterance also resampled by these factors
    /// (comma-separated, each in 0.5–2; residual since recipe 5, hybrid since 4: 0.9,1.1)
    #[arg(long, value_delimiter = ',', value_name = "FACTORS")]
    speed: Vec<f64>,
    /// Train on the recorded speed only (no speed perturbation; recipe 4 for the residual kind)
    #[arg(long, conflicts_with = "speed")]
    no_speed: bool,
    /// Weight averaging: keep the mean of the adapters at every 10th step from step STEP on, or
    /// the start if it scored better on dev (residual and hybrid: half the step budget; LoRA keeps
    /// the one with the best dev WER)
    #[arg(long, value_name = "STEP")]
    average_from: Option<u64>,
    /// LoRA scaling numerator (kinds lora and hybrid): the updates are scaled by ALPHA / rank
    /// (default: the rank, a scale of 1)
    #[arg(long, value_name = "ALPHA")]
    lora_alpha: Option<f64>,
    /// SpecAugment widths: each of the two time masks spans at most TIME frames (10 ms each),
    /// each of the two frequency masks at most FREQ mel bins (default 20,8; 0,0: none); TIME
    /// under the base's 3000 frames, FREQ under its mel bins (80 for tiny.en)
    #[arg(long, value_delimiter = ',', value_name = "TIME,FREQ")]
    spec_augment: Vec<usize>,
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
    /// Enroll with little data ("instant", seconds): fit only the speaker's embedding in
    /// space NAME, or in the shipped space when NAME is left out
    #[arg(long, value_name = "NAME", num_args = 0..=1, conflicts_with = "refine")]
    from_space: Option<Option<String>>,
    /// Refine: start the adapter from submodel ID (e.g. an instant one) instead of the default
    /// start
    #[arg(long, value_name = "ID")]
    refine: Option<String>,
    /// Train the residual adapter (a hybrid's residual part) from fresh weights. By default (since
    /// residual recipe 4, hybrid 4) it starts from the speaker's instant submodel, fitted in the
    /// shipped space on the first 10 training utterances (seconds)
    #[arg(long, conflicts_with_all = ["refine", "from_space", "embedding_space"])]
    from_zero: bool,
    /// The enrollment-sufficiency curve of --speaker: an instant submodel from 10 utterances
    /// (in the shipped space, or --from-space NAME), then ones refined from it on 20, 40 and all;
    /// prints test WER against utterances used
    #[arg(long, conflicts_with_all = ["embedding_space", "refine", "limit"])]
    curve: bool,
    /// Embedding size m of a new space (fewer than the number of speakers)
    #[arg(long, default_value_t = 8)]
    dim: usize,
    /// A new space: after taking the population adapters' principal subspace, train its
    /// generator, bias and the population's embeddings jointly for N more steps (0: don't)
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        requires = "embedding_space"
    )]
    joint_steps: u64,
}

impl Args {
    fn request(&self, ws: &Workspace) -> anyhow::Result<Request> {
        let plan = if let Some(name) = &self.embedding_space {
            Plan::Space {
                name: name.clone(),
                dim: self.dim,
                rank: self.rank,
                joint_steps: self.joint_steps,
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
                lr_floor: self.lr_floor,
                seed: self.seed,
                patience: self.patience,
                speeds: self.speeds(),
                average_from: self.average_from,
                from_zero: self.from_zero,
                lora_alpha: self.lora_alpha,
                spec_augment: self.spec_augment()?,
            },
            limit: self.limit,
            start: self.refine.clone(),
        })
    }

    /// The SpecAugment widths asked for: none (the recipe's own) or `--spec-augment TIME,FREQ`.
    fn spec_augment(&self) -> anyhow::Result<Option<(usize, usize)>> {
        match self.spec_augment[..] {
            [] => Ok(None),
            [time, freq] => Ok(Some((time, freq))),
            _ => anyhow::bail!("--spec-augment takes two numbers, TIME,FREQ (e.g. 20,8)"),
        }
    }

    /// The speed factors asked for: none (the recipe's own), an empty list (`--no-speed`), or
    /// `--speed`'s.
    fn speeds(&self) -> Option<Vec<f64>> {
        match (self.no_speed, self.speed.is_empty()) {
            (true, _) => Some(Vec::new()),
            (false, true) => None,
            (false, false) => Some(self.speed.clone()),
        }
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
        TrainEvent::InstantStart {
            space,
            speakers,
            utterances,
        } => eprintln!(
            "starting from instant submodels: {speakers} speaker(s) fitted in space {space} on their first {utterances} training utterances"
        ),
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
        TrainEvent::Averaged {
            speaker,
            evals,
            wer,
        } => eprintln!(
            "{speaker}: mean of the adapters at {evals} evaluation steps, dev WER {wer:.3}"
        ),
    }
}

pub fn run(ws: &Workspace, args: Args) -> anyhow::Result<ExitCode> {
    let req = args.request(ws)?;
    let rec = ws.recognizer(false)?;
    let cancel = AtomicBool::new(false);
    let mut progress = |e: TrainEvent| print_event(&e, args.json);
    if args.curve {
        return curve(ws, &rec, &args, &mut progress, &cancel);
    }
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

/// `--curve`: trains the speaker's sufficiency curve, then prints it (as JSON lines with --json).
fn curve(
    ws: &Workspace,
    rec: &crate::recognizer::Recognizer,
    args: &Args,
    progress: &mut dyn FnMut(TrainEvent),
    cancel: &AtomicBool,
) -> anyhow::Result<ExitCode> {
    let Some(speaker) = args.speaker.as_deref() else {
        anyhow::bail!("--curve is for one --speaker");
    };
    let space = args.from_space.clone().flatten();
    let mut stage = |i: usize, n: usize, job: &Request| {
        eprintln!("curve job {}/{n}: {}", i + 1, job.describe())
    };
    let overrides = args.request(ws)?.overrides;
    sufficiency::run(
        ws,
        rec,
        speaker,
        space.as_deref(),
        &overrides,
        &mut stage,
        progress,
        cancel,
    )?;
    let points = sufficiency::points(ws, speaker)?;
    if !args.json {
        println!(
            "utterances  origin     submodel          test WER (base)   95 % interval of the gain"
        );
    }
    for p in &points {
        if args.json {
            let line = serde_json::json!({
                "utterances": p.utterances, "origin": p.origin.to_string(),
                "submodel": p.submodel, "wer": p.wer, "base_wer": p.base_wer,
                "test_utterances": p.test_utterances, "ci95": p.ci95,
            });
            println!("{line}");
        } else {
            let ci = p
                .ci95
                .map_or("—".into(), |[lo, hi]| format!("[{lo:+.3}, {hi:+.3}]"));
            println!(
                "{:>10}  {:<9}  {:<16}  {:.3} ({:.3})     {ci}",
                p.utterances,
                p.origin.to_string(),
                p.submodel,
                p.wer,
                p.base_wer
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn parse(args: &[&str]) -> Args {
        Cli::try_parse_from(std::iter::once("train").chain(args.iter().copied()))
            .unwrap()
            .args
    }

    #[test]
    fn from_space_without_a_name_is_the_shipped_space_and_refine_names_the_start() {
        let shipped = parse(&["--speaker", "x", "--from-space"]);
        assert_eq!(shipped.from_space, Some(None));
        let named = parse(&["--speaker", "x", "--from-space", "voices"]);
        assert_eq!(named.from_space, Some(Some("voices".into())));
        assert_eq!(parse(&["--speaker", "x"]).from_space, None);
        let refine = parse(&["--speaker", "x", "--refine", "x-v1"]);
        assert_eq!(refine.refine.as_deref(), Some("x-v1"));
        assert!(
            Cli::try_parse_from([
                "train",
                "--speaker",
                "x",
                "--from-space",
                "--refine",
                "x-v1"
            ])
            .is_err(),
            "a fit and a refine at once"
        );
    }

    #[test]
    fn no_speed_turns_the_recipes_speed_perturbation_off() {
        assert_eq!(parse(&["--speaker", "x"]).speeds(), None);
        assert_eq!(
            parse(&["--speaker", "x", "--no-speed"]).speeds(),
            Some(vec![])
        );
        assert_eq!(
            parse(&["--speaker", "x", "--speed", "0.8,1.2"]).speeds(),
            Some(vec![0.8, 1.2])
        );
        assert!(
            Cli::try_parse_from(["train", "--speaker", "x", "--speed", "0.9", "--no-speed"])
                .is_err(),
            "both at once"
        );
    }

    /// `--max-steps`'s, `--lr`'s and `--lr-floor`'s help write the recipes' budgets, rates and
    /// floors as literals (a doc comment cannot name a const): they must follow
    /// `recipe_max_steps`, `recipe_lr` and `recipe_lr_floor`.
    #[test]
    fn help_names_the_recipe_budgets_and_floors() {
        use crate::train::{recipe_lr, recipe_lr_floor, recipe_max_steps};
        use clap::CommandFactory;
        let mut cmd = Cli::command();
        let help = cmd.render_long_help().to_string();
        let option = |flag: &str| {
            help.lines()
                .skip_while(|l| !l.contains(flag))
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        };
        let line = option("--max-steps");
        let [residual, hybrid, lora] =
            [Kind::Residual, Kind::Hybrid, Kind::Lora].map(recipe_max_steps);
        assert!(
            line.contains(&format!(
                "residual recipe {}: {residual}; hybrid recipe {}: {hybrid};",
                crate::train::RESIDUAL_RECIPE_VERSION,
                crate::train::HYBRID_RECIPE_VERSION
            )) && line.contains(&format!("LoRA: {lora})")),
            "{line}"
        );
        let line = option("--lr <PEAK>");
        let [residual, hybrid, lora] = [Kind::Residual, Kind::Hybrid, Kind::Lora].map(recipe_lr);
        assert!(
            line.contains(&format!(
                "(residual {residual:e}, hybrid {hybrid:e}, LoRA {lora:e})"
            )),
            "{line}"
        );
        let line = option("--lr-floor");
        let [residual, hybrid, lora, embedding] =
            [Kind::Residual, Kind::Hybrid, Kind::Lora, Kind::Embedding].map(recipe_lr_floor);
        assert!(
            hybrid == lora && lora == embedding,
            "the help names one floor for the other kinds"
        );
        assert!(
            line.contains(&format!(
                "default: {residual} for residual, {lora} for the other kinds"
            )),
            "{line}"
        );
    }
}
