//! Compare: the base and a submodel transcribe the same test set and are scored side by side
//! (corpus WER/CER, per-utterance alignments, words fixed and broken). The Compare screen and
//! `attune eval` show this one report.

use std::path::PathBuf;

use serde::Serialize;

use super::{Result, WorkflowError, Workspace};
use crate::dataset::{Utterance, load_set};
use crate::eval::{BootstrapConfig, PairedErrors, Verdict, paired_bootstrap};
use crate::eval::{
    CorpusScore, Normalizer, UtteranceScore, corpus, render_alignment, score, word_changes,
};
use crate::model::decode::{DecodeOptions, Stop, Transcript};
use crate::recognizer::Recognizer;
use crate::store::speakers::SpeakerStore;
use crate::submodel::Submodel;

/// Which of a stored speaker's utterances to score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The test phrases: never trained on, never used to choose anything.
    Test,
    /// Every stored utterance (optimistic: includes training data).
    All,
}

impl Part {
    pub fn label(self) -> &'static str {
        match self {
            Part::Test => "test",
            Part::All => "all",
        }
    }
}

/// A test set: part of a stored speaker's data, any folder / manifest / Kaldi dir, or given
/// utterances.
#[derive(Debug, Clone, PartialEq)]
pub enum TestSet {
    Speaker { id: String, part: Part },
    Path(PathBuf),
    Utterances(Vec<Utterance>),
}

/// A test set's utterances with their audio, and the items that could not be read.
pub struct Loaded {
    pub utts: Vec<(Utterance, Vec<f32>)>,
    pub errors: Vec<String>,
}

/// Reads a test set's utterances and audio; unreadable items are listed, not fatal.
pub fn load(ws: &Workspace, set: &TestSet) -> Result<Loaded> {
    let (utts, mut errors) = match set {
        TestSet::Speaker { id, part } => {
            let all = SpeakerStore::new(&ws.home).open(id)?.utterances()?;
            let parts = crate::enroll::split::partition(all);
            let utts = match part {
                Part::Test => parts.test,
                Part::All => [parts.test, parts.dev, parts.train].concat(),
            };
            if utts.is_empty() {
                return Err(WorkflowError::Invalid(format!(
                    "{id} has no {} utterances",
                    part.label()
                )));
            }
            (utts, Vec::new())
        }
        TestSet::Path(p) => {
            let (utts, bad) = load_set(p)?;
            (utts, bad.iter().map(ToString::to_string).collect())
        }
        TestSet::Utterances(u) => (u.clone(), Vec::new()),
    };
    let mut loaded = Vec::new();
    for u in utts {
        match crate::audio::read_wav(&u.audio) {
            Ok(a) => loaded.push((u, a)),
            Err(e) => errors.push(e.to_string()),
        }
    }
    Ok(Loaded {
        utts: loaded,
        errors,
    })
}

/// The newest submodel of `speaker` (if any) against the base on `set`: the Compare screen.
pub fn compare_newest(
    ws: &Workspace,
    rec: &Recognizer,
    speaker: &str,
    set: &TestSet,
    norm: Normalizer,
) -> Result<(Option<String>, Report, Vec<PathBuf>)> {
    let loaded = load(ws, set)?;
    if loaded.utts.is_empty() {
        return Err(WorkflowError::Invalid(format!(
            "no usable utterances in the test set ({} unreadable)",
            loaded.errors.len()
        )));
    }
    let latest = crate::library::latest(&ws.home, speaker)?;
    let sub = latest
        .as_deref()
        .map(|id| ws.submodel(id, rec))
        .transpose()?;
    let mut report = evaluate(rec, sub.as_ref(), &loaded.utts, norm, 8, true)?;
    report.errors = loaded.errors;
    let paths = loaded.utts.into_iter().map(|(u, _)| u.audio).collect();
    Ok((latest, report, paths))
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
    /// The base at attune's runtime context: what the submodel is compared with.
    pub base: CorpusScore,
    /// The base at Whisper's standard 30 s window: what a stock recognizer does.
    pub stock: Option<CorpusScore>,
    pub submodel: Option<CorpusScore>,
    /// 95 % paired-bootstrap interval of base − submodel WER over the utterances.
    pub ci95: Option<[f64; 2]>,
    pub verdict: Option<Verdict>,
    pub utterances: Vec<Row>,
    pub normalizer: &'static str,
    pub errors: Vec<String>,
}

fn three(a: (String, String, String)) -> [String; 3] {
    [a.0, a.1, a.2]
}

/// Another system's hypotheses scored on a test set, and — given submodels — those submodels on
/// the same utterances with the paired-bootstrap interval of `other − submodel` WER (above 0: the
/// submodels make fewer errors). Either side may be several runs (seeds): its score then sums
/// every run (so its WER is the runs' mean), each run is listed, and the interval is of the mean
/// WERs (per utterance, each side's mean errors over its runs).
#[derive(Debug, Clone, Serialize)]
pub struct HypothesesReport {
    pub hypotheses: CorpusScore,
    /// Each run's own score, when there are several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hypotheses_runs: Vec<CorpusScore>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submodel: Option<CorpusScore>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub submodel_runs: Vec<CorpusScore>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci95: Option<[f64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
}

/// One run of another system: utterance id → its text.
pub type Hypotheses = std::collections::HashMap<String, String>;

/// Scores another system's runs of hypotheses on `utts` with the same normaliser and corpus-level
/// WER as every attune report (each utterance needs a hypothesis in every run); with submodels,
/// transcribes the same utterances with each and bootstraps the paired difference of the means.
pub fn score_hypotheses(
    with: Option<(&Recognizer, &[Submodel])>,
    utts: &[(Utterance, Vec<f32>)],
    runs: &[Hypotheses],
    norm: &Normalizer,
    batch: usize,
) -> Result<HypothesesReport> {
    let other = runs
        .iter()
        .map(|hyps| {
            utts.iter()
                .map(|(u, _)| {
                    let h = hyps.get(&u.id).ok_or_else(|| {
                        WorkflowError::Invalid(format!("no hypothesis for utterance {}", u.id))
                    })?;
                    Ok(score(&u.text, h, norm))
                })
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<Vec<_>>>()?;
    let mut report = HypothesesReport {
        hypotheses: corpus(other.iter().flatten()),
        hypotheses_runs: each_run(&other),
        submodel: None,
        submodel_runs: Vec::new(),
        ci95: None,
        verdict: None,
    };
    let Some((rec, subs)) = with.filter(|(_, subs)| !subs.is_empty()) else {
        return Ok(report);
    };
    let audios: Vec<&[f32]> = utts.iter().map(|(_, a)| a.as_slice()).collect();
    let mine = subs
        .iter()
        .map(|sub| {
            Ok(rec
                .transcribe(&audios, Some(sub), batch)?
                .iter()
                .zip(utts)
                .map(|(t, (u, _))| score(&u.text, &t.text, norm))
                .collect())
        })
        .collect::<Result<Vec<Vec<_>>>>()?;
    let interval = paired(&other, &mine);
    report.submodel = Some(corpus(mine.iter().flatten()));
    report.submodel_runs = each_run(&mine);
    report.ci95 = interval.as_ref().map(|i| i.ci95);
    report.verdict = interval.map(|i| i.verdict);
    Ok(report)
}

/// Each run's corpus score, or none for a single run (its score is the total).
fn each_run(runs: &[Vec<UtteranceScore>]) -> Vec<CorpusScore> {
    if runs.len() < 2 {
        return Vec::new();
    }
    runs.iter().map(corpus).collect()
}

/// Paired bootstrap of `reference − candidate` corpus WER over the same utterances; a side of
/// several runs enters with its mean errors per utterance.
fn paired(
    reference: &[Vec<UtteranceScore>],
    candidate: &[Vec<UtteranceScore>],
) -> Option<crate::eval::PairedBootstrap> {
    let mean = |runs: &[Vec<UtteranceScore>], i: usize| {
        runs.iter().map(|r| r[i].words.errors() as f64).sum::<f64>() / runs.len() as f64
    };
    candidate.first()?;
    let pairs: Vec<PairedErrors> = (0..reference.first()?.len())
        .map(|i| PairedErrors {
            base: mean(reference, i),
            submodel: mean(candidate, i),
            words: reference[0][i].words.words,
        })
        .collect();
    paired_bootstrap(&pairs, BootstrapConfig::default()).ok()
}

/// Transcribes `utts` with the base, with the stock base (30 s window) when `stock`, and with the
/// submodel if given; scores them and bootstraps the base − submodel difference.
pub fn evaluate(
    rec: &Recognizer,
    sub: Option<&Submodel>,
    utts: &[(Utterance, Vec<f32>)],
    norm: Normalizer,
    batch: usize,
    stock: bool,
) -> Result<Report> {
    let audios: Vec<&[f32]> = utts.iter().map(|(_, a)| a.as_slice()).collect();
    // The base's passes are memoised: a speaker's next submodel re-decodes only itself.
    let base = rec.transcribe_base_memo(&audios, batch, rec.options)?;
    let stock = if !stock {
        None
    } else if rec.options.full_context {
        Some(base.clone())
    } else {
        let full = DecodeOptions { full_context: true };
        Some(rec.transcribe_base_memo(&audios, batch, full)?)
    };
    let score_all = |hyps: &[Transcript]| -> Vec<UtteranceScore> {
        utts.iter()
            .zip(hyps)
            .map(|((u, _), t)| score(&u.text, &t.text, &norm))
            .collect()
    };
    let stock = stock.map(|st| corpus(&score_all(&st)));
    let adapted = sub
        .map(|s| rec.transcribe(&audios, Some(s), batch))
        .transpose()?;
    let base_scores = score_all(&base);
    let sub_scores = adapted.as_deref().map(score_all);
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
    let interval = sub_scores.as_ref().and_then(|subs| {
        paired(
            std::slice::from_ref(&base_scores),
            std::slice::from_ref(subs),
        )
    });
    Ok(Report {
        base: corpus(&base_scores),
        stock,
        submodel: sub_scores.as_deref().map(corpus),
        ci95: interval.as_ref().map(|i| i.ci95),
        verdict: interval.map(|i| i.verdict),
        utterances: rows,
        normalizer: if norm.enabled { "english" } else { "none" },
        errors: Vec::new(),
    })
}
