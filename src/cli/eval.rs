//! `attune eval`: the base's (and optionally a submodel's) WER/CER on a test set, corpus-level,
//! with per-utterance hypotheses and alignments; a table for people, one JSON object with `--json`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::eval::{CorpusScore, Normalizer, Verdict};
use crate::workflow::Workspace;
use crate::workflow::compare::{
    Hypotheses, HypothesesReport, Part, Report, TestSet, evaluate, load, score_hypotheses,
};

#[derive(clap::Args)]
pub struct Args {
    /// A folder of x.wav + x.txt, a NeMo-style manifest.jsonl, or a Kaldi dir
    #[arg(
        long,
        value_name = "PATH",
        required_unless_present = "speaker",
        conflicts_with = "speaker"
    )]
    set: Option<PathBuf>,
    /// A stored speaker's test part (never trained on, never used for selection)
    #[arg(long, value_name = "ID")]
    speaker: Option<String>,
    /// With --speaker: score every stored utterance instead (optimistic: includes training data)
    #[arg(long, requires = "speaker")]
    all: bool,
    /// Submodel id from the library (or a .safetensors path) to score beside the base; with
    /// --hypotheses it may be repeated (runs, e.g. seeds, averaged)
    #[arg(long, value_name = "ID")]
    submodel: Vec<String>,
    /// One JSON object: {"base", "stock", "submodel", "ci95", "verdict", "utterances", "normalizer", "errors"}
    #[arg(long)]
    json: bool,
    /// Compare raw text (only whitespace collapsed) instead of the English normaliser
    #[arg(long)]
    no_normalize: bool,
    /// Pad every input to Whisper's 30 s window
    #[arg(long)]
    full_context: bool,
    /// Skip the stock reference (the base at the 30 s window; the slowest of the passes)
    #[arg(long)]
    no_stock: bool,
    /// Utterances decoded together (batches never mix encoder context lengths)
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Score another engine's output instead of transcribing: JSON lines {"id", "text"} (ids as
    /// in `--json`'s utterances); prints its corpus score with attune's normaliser, and with
    /// --submodel that submodel's beside it and the 95 % interval of (other − submodel) WER.
    /// Repeat it (and --submodel) for several runs, e.g. seeds: each run is listed and the
    /// interval is of the two sides' mean WERs
    #[arg(long, value_name = "FILE")]
    hypotheses: Vec<PathBuf>,
}

pub fn run(ws: &Workspace, args: Args) -> anyhow::Result<ExitCode> {
    let (set, name) = match (&args.set, &args.speaker) {
        (Some(p), _) => (TestSet::Path(p.clone()), p.display().to_string()),
        (None, Some(id)) => {
            let part = if args.all { Part::All } else { Part::Test };
            let name = format!("{id} ({} utterances)", part.label());
            (
                TestSet::Speaker {
                    id: id.clone(),
                    part,
                },
                name,
            )
        }
        (None, None) => anyhow::bail!("name a --set PATH or a --speaker ID"),
    };
    let loaded = load(ws, &set)?;
    for e in &loaded.errors {
        eprintln!("error: {e}");
    }
    anyhow::ensure!(!loaded.utts.is_empty(), "{name}: no usable utterances");
    let norm = if args.no_normalize {
        Normalizer::none()
    } else {
        Normalizer::english()
    };
    if !args.hypotheses.is_empty() {
        let runs = args
            .hypotheses
            .iter()
            .map(|f| read_hypotheses(f))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let rec = (!args.submodel.is_empty())
            .then(|| ws.recognizer(args.full_context))
            .transpose()?;
        let subs = match &rec {
            Some(rec) => args
                .submodel
                .iter()
                .map(|id| {
                    ws.submodel(id, rec)
                        .with_context(|| format!("submodel {id}"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?,
            None => Vec::new(),
        };
        let r = score_hypotheses(
            rec.as_ref().map(|rec| (rec, subs.as_slice())),
            &loaded.utts,
            &runs,
            &norm,
            args.batch,
        )?;
        if args.json {
            let mut out = serde_json::to_value(&r)?;
            out["utterances"] = loaded.utts.len().into();
            out["normalizer"] = if norm.enabled { "english" } else { "none" }.into();
            println!("{out}");
        } else {
            println!("{} utterances of {name}", loaded.utts.len());
            print_runs(&args, &r, loaded.utts.len());
        }
        return Ok(ExitCode::SUCCESS);
    }
    anyhow::ensure!(
        args.submodel.len() <= 1,
        "--submodel is given once, except with --hypotheses (runs to average)"
    );
    let rec = ws.recognizer(args.full_context)?;
    let sub = args
        .submodel
        .first()
        .map(|id| {
            ws.submodel(id, &rec)
                .with_context(|| format!("submodel {id}"))
        })
        .transpose()?;
    let mut report = evaluate(
        &rec,
        sub.as_ref(),
        &loaded.utts,
        norm,
        args.batch,
        !args.no_stock,
    )?;
    report.errors = loaded.errors;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_table(&report);
    }
    Ok(if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// One run of another system's output: JSON lines {"id", "text"}.
fn read_hypotheses(file: &std::path::Path) -> anyhow::Result<Hypotheses> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let mut hyps = Hypotheses::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("{} line {}", file.display(), n + 1))?;
        let (Some(id), Some(t)) = (v["id"].as_str(), v["text"].as_str()) else {
            anyhow::bail!(
                "{} line {}: needs \"id\" and \"text\"",
                file.display(),
                n + 1
            );
        };
        hyps.insert(id.to_string(), t.to_string());
    }
    Ok(hyps)
}

/// The other system's and the submodels' scores: each run when there are several, then the
/// totals (their WER is the mean over runs) and the interval.
fn print_runs(args: &Args, r: &HypothesesReport, utterances: usize) {
    print_header();
    let files: Vec<String> = args
        .hypotheses
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    print_side(
        "other",
        "hypotheses",
        &r.hypotheses_runs,
        &files,
        Some(&r.hypotheses),
    );
    print_side(
        "sub",
        "submodel",
        &r.submodel_runs,
        &args.submodel,
        r.submodel.as_ref(),
    );
    if !r.hypotheses_runs.is_empty() || !r.submodel_runs.is_empty() {
        println!(
            "(a mean row sums its runs, so its WER is their mean; the interval is of the means)"
        );
    }
    print_interval("hypotheses", r.ci95, r.verdict, utterances);
}

/// One side's runs (`short 1`, `short 2`, … with what each is) and its total: `short mean` after
/// several runs, `single` for one.
fn print_side(
    short: &str,
    single: &str,
    runs: &[CorpusScore],
    names: &[String],
    total: Option<&CorpusScore>,
) {
    for (i, (c, name)) in runs.iter().zip(names).enumerate() {
        print_score(&format!("{short} {}", i + 1), c);
        println!("           ({name})");
    }
    if let Some(total) = total {
        let label = if runs.is_empty() {
            single.to_string()
        } else {
            format!("{short} mean")
        };
        print_score(&label, total);
    }
}

fn print_header() {
    println!(
        "{:<10} {:>7} {:>7} {:>7} {:>6} {:>6} {:>6}",
        "system", "WER", "CER", "words", "sub", "del", "ins"
    );
}

fn print_score(name: &str, c: &CorpusScore) {
    println!(
        "{name:<10} {:>7.4} {:>7.4} {:>7} {:>6} {:>6} {:>6}",
        c.wer, c.cer, c.words, c.sub, c.del, c.ins
    );
}

/// `<reference> − submodel WER: 95 % interval [lo, hi] over N utterances: <verdict>` (the
/// verdict is the submodel's).
fn print_interval(reference: &str, ci: Option<[f64; 2]>, verdict: Option<Verdict>, n: usize) {
    if let (Some([lo, hi]), Some(v)) = (ci, verdict) {
        println!(
            "{reference} − submodel WER: 95 % interval [{lo:.3}, {hi:.3}] over {n} utterances: {v}"
        );
    }
}

fn print_table(r: &Report) {
    for u in &r.utterances {
        println!("── {}  (base WER {:.3})", u.id, u.base_wer);
        for line in &u.base_alignment {
            println!("   {line}");
        }
        if let (Some(a), Some(w)) = (&u.submodel_alignment, u.submodel_wer) {
            println!("   submodel (WER {w:.3}):");
            for line in a {
                println!("   {line}");
            }
            if !u.fixed.is_empty() || !u.broken.is_empty() {
                println!(
                    "   fixed: {}   broken: {}",
                    u.fixed.join(" "),
                    u.broken.join(" ")
                );
            }
        }
    }
    println!();
    println!(
        "normaliser: {}   utterances: {}",
        r.normalizer,
        r.utterances.len()
    );
    print_header();
    let line = print_score;
    if let Some(s) = &r.stock {
        line("stock", s);
    }
    line("base", &r.base);
    if let Some(s) = &r.submodel {
        line("submodel", s);
    }
    print_interval("base", r.ci95, r.verdict, r.utterances.len());
    println!("(stock: the base at Whisper's 30 s window; base: at attune's runtime context)");
}
