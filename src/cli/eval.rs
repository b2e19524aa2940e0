//! `attune eval`: the base's (and optionally a submodel's) WER/CER on a test set, corpus-level,
//! with per-utterance hypotheses and alignments; a table for people, one JSON object with `--json`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use serde::Serialize;

use super::Context;
use crate::dataset::{Utterance, load_set};
use crate::eval::{
    CorpusScore, Normalizer, UtteranceScore, corpus, render_alignment, score, word_changes,
};
use crate::model::decode::Stop;
use crate::recognizer::Recognizer;
use crate::submodel::Submodel;

#[derive(clap::Args)]
pub struct Args {
    /// A folder of x.wav + x.txt, or a NeMo-style manifest.jsonl
    #[arg(long, value_name = "PATH")]
    set: PathBuf,
    /// Submodel id from the library (or a .safetensors path) to score beside the base
    #[arg(long, value_name = "ID")]
    submodel: Option<String>,
    /// One JSON object: {"base", "submodel", "utterances", "normalizer", "errors"}
    #[arg(long)]
    json: bool,
    /// Compare raw text (only whitespace collapsed) instead of the English normaliser
    #[arg(long)]
    no_normalize: bool,
    /// Pad every input to Whisper's 30 s window
    #[arg(long)]
    full_context: bool,
    /// Utterances decoded together (batches never mix encoder context lengths)
    #[arg(long, default_value_t = 8)]
    batch: usize,
}

/// One utterance's row of the report.
#[derive(Serialize)]
pub struct Row {
    pub id: String,
    #[serde(rename = "ref")]
    pub reference: String,
    pub base: String,
    pub submodel: Option<String>,
    pub base_wer: f64,
    pub submodel_wer: Option<f64>,
    pub base_alignment: [String; 3],
    pub submodel_alignment: Option<[String; 3]>,
    pub fixed: Vec<String>,
    pub broken: Vec<String>,
    /// Why decoding stopped (per 30 s segment): `end_of_text`, or a guard that cut a
    /// `repetition` loop or hit the audio-length `token_budget`.
    pub base_stops: Vec<Stop>,
    pub submodel_stops: Option<Vec<Stop>>,
}

/// The whole report (`--json` prints exactly this).
#[derive(Serialize)]
pub struct Report {
    pub base: CorpusScore,
    pub submodel: Option<CorpusScore>,
    pub utterances: Vec<Row>,
    pub normalizer: &'static str,
    pub errors: Vec<String>,
}

fn three(a: (String, String, String)) -> [String; 3] {
    [a.0, a.1, a.2]
}

/// Transcribes `utts` with the base and, if given, the submodel, and scores both.
pub fn evaluate(
    rec: &Recognizer,
    sub: Option<&Submodel>,
    utts: &[(Utterance, Vec<f32>)],
    norm: Normalizer,
    batch: usize,
) -> anyhow::Result<Report> {
    let audios: Vec<&[f32]> = utts.iter().map(|(_, a)| a.as_slice()).collect();
    let base = rec.transcribe(&audios, None, batch)?;
    let adapted = sub
        .map(|s| rec.transcribe(&audios, Some(s), batch))
        .transpose()?;
    let base_scores: Vec<UtteranceScore> = utts
        .iter()
        .zip(&base)
        .map(|((u, _), t)| score(&u.text, &t.text, &norm))
        .collect();
    let sub_scores: Option<Vec<UtteranceScore>> = adapted.as_ref().map(|a| {
        utts.iter()
            .zip(a)
            .map(|((u, _), t)| score(&u.text, &t.text, &norm))
            .collect()
    });
    let rows = utts
        .iter()
        .enumerate()
        .map(|(i, (u, _))| {
            let s = sub_scores.as_ref().map(|s| &s[i]);
            let changes = s.map(|s| word_changes(&base_scores[i], s));
            Row {
                id: u.id.clone(),
                reference: u.text.clone(),
                base: base[i].text.clone(),
                base_stops: base[i].stops.clone(),
                submodel_stops: adapted.as_ref().map(|a| a[i].stops.clone()),
                submodel: adapted.as_ref().map(|a| a[i].text.clone()),
                base_wer: base_scores[i].wer(),
                submodel_wer: s.map(UtteranceScore::wer),
                base_alignment: three(render_alignment(&base_scores[i].alignment)),
                submodel_alignment: s.map(|s| three(render_alignment(&s.alignment))),
                fixed: changes
                    .as_ref()
                    .map(|c| c.fixed.clone())
                    .unwrap_or_default(),
                broken: changes.map(|c| c.broken).unwrap_or_default(),
            }
        })
        .collect();
    Ok(Report {
        base: corpus(&base_scores),
        submodel: sub_scores.as_deref().map(corpus),
        utterances: rows,
        normalizer: if norm.enabled { "english" } else { "none" },
        errors: Vec::new(),
    })
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let (utts, item_errors) = load_set(&args.set)?;
    let mut errors: Vec<String> = item_errors.iter().map(ToString::to_string).collect();
    let mut loaded = Vec::new();
    for u in utts {
        match crate::audio::read_wav(&u.audio) {
            Ok(a) => loaded.push((u, a)),
            Err(e) => errors.push(e.to_string()),
        }
    }
    for e in &errors {
        eprintln!("error: {e}");
    }
    anyhow::ensure!(
        !loaded.is_empty(),
        "{}: no usable utterances",
        args.set.display()
    );
    let rec = ctx.recognizer(args.full_context)?;
    let sub = args
        .submodel
        .as_deref()
        .map(|id| {
            ctx.submodel(id, &rec)
                .with_context(|| format!("submodel {id}"))
        })
        .transpose()?;
    let norm = if args.no_normalize {
        Normalizer::none()
    } else {
        Normalizer::english()
    };
    let mut report = evaluate(&rec, sub.as_ref(), &loaded, norm, args.batch)?;
    report.errors = errors;
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
    println!(
        "{:<10} {:>7} {:>7} {:>7} {:>6} {:>6} {:>6}",
        "system", "WER", "CER", "words", "sub", "del", "ins"
    );
    let line = |name: &str, c: &CorpusScore| {
        println!(
            "{name:<10} {:>7.4} {:>7.4} {:>7} {:>6} {:>6} {:>6}",
            c.wer, c.cer, c.words, c.sub, c.del, c.ins
        );
    };
    line("base", &r.base);
    if let Some(s) = &r.submodel {
        line("submodel", s);
    }
}
