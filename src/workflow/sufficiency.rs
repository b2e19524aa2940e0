//! The enrollment-sufficiency curve of one speaker: test WER against the number of enrollment
//! (training) utterances used — the instant submodel from the first 10, then submodels refined
//! from it on the first 20, 40 and all of them — each scored on the speaker's untouched test
//! part, so a clinician sees when more recording stops paying. [`run`] trains the missing
//! points; [`points`] reads the curve back from the library.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;

use super::personalize::{self, Overrides, Plan, Request, Saved};
use super::{Result, WorkflowError, Workspace};
use crate::library;
use crate::recognizer::Recognizer;
use crate::store::speakers::SpeakerStore;
use crate::submodel::Kind;
use crate::train::TrainEvent;

/// Utterances the instant submodel is fitted on, and the refined points before "all".
pub const INSTANT_AT: usize = 10;
pub const REFINED_AT: [usize; 2] = [20, 40];

/// How a point's submodel was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Fitted in a speaker-embedding space (only the embedding trains).
    Instant,
    /// An adapter trained from an instant submodel.
    Refined,
    /// An adapter trained from a fresh start.
    FromZero,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Origin::Instant => "instant",
            Origin::Refined => "refined",
            Origin::FromZero => "from zero",
        })
    }
}

/// One submodel on the curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Training utterances it learned from.
    pub utterances: usize,
    pub origin: Origin,
    pub submodel: String,
    pub base_wer: f64,
    pub wer: f64,
    pub test_utterances: usize,
    /// Paired-bootstrap 95 % interval of (base − submodel).
    pub ci95: Option<[f64; 2]>,
}

impl Point {
    /// Library entry `e` as a point made as `origin` (`None` when it has no test figures).
    pub fn of(e: &library::Entry, origin: Origin) -> Option<Self> {
        let m = e.meta.metrics.as_ref()?;
        Some(Self {
            utterances: m.train_utterances,
            origin,
            submodel: e.id.clone(),
            base_wer: m.base_wer,
            wer: m.wer,
            test_utterances: m.test_utterances,
            ci95: m.ci95,
        })
    }
}

/// The jobs of a curve for a speaker with `train` training utterances: the instant fit on the
/// first 10, then refines (from the instant submodel, filled in when it exists) on 20, 40 and
/// all, with `overrides` (e.g. a step budget) applied to the refines.
pub fn plan(
    speaker: &str,
    train: usize,
    space: Option<&str>,
    overrides: &Overrides,
) -> Vec<Request> {
    let mut instant = Request::new(vec![speaker.to_string()]);
    instant.plan = Plan::FromSpace {
        name: space.map(str::to_string),
    };
    instant.limit = Some(INSTANT_AT);
    let mut jobs = vec![instant];
    let refine = Request {
        overrides: overrides.clone(),
        ..Request::new(vec![speaker.to_string()])
    };
    for n in REFINED_AT.iter().copied().filter(|&n| n < train) {
        jobs.push(Request {
            limit: Some(n),
            ..refine.clone()
        });
    }
    if train > INSTANT_AT {
        jobs.push(refine);
    }
    jobs
}

/// Trains the curve's submodels for `speaker` in order (see [`plan`]) and returns what each
/// saved; `stage(i, n, job)` announces job `i` of `n`. A cancelled job ends the curve early.
#[allow(clippy::too_many_arguments)]
pub fn run(
    ws: &Workspace,
    rec: &Recognizer,
    speaker: &str,
    space: Option<&str>,
    overrides: &Overrides,
    stage: &mut dyn FnMut(usize, usize, &Request),
    progress: &mut dyn FnMut(TrainEvent),
    cancel: &AtomicBool,
) -> Result<Vec<Saved>> {
    let sp = SpeakerStore::new(&ws.home).open(speaker)?;
    let train = crate::enroll::split::partition(sp.utterances()?)
        .train
        .len();
    if train < INSTANT_AT {
        return Err(WorkflowError::Invalid(format!(
            "{speaker} has {train} training utterances; the curve starts at {INSTANT_AT}"
        )));
    }
    let mut jobs = plan(speaker, train, space, overrides);
    let n = jobs.len();
    let mut saved: Vec<Saved> = Vec::new();
    for (i, job) in jobs.iter_mut().enumerate() {
        if i > 0 {
            job.start = saved.first().map(|s| s.submodel.clone());
        }
        stage(i, n, job);
        let out = personalize::run(ws, rec, job, false, progress, cancel)?;
        if out.cancelled {
            break;
        }
        saved.extend(out.saved);
    }
    Ok(saved)
}

/// `speaker`'s curve from the library: every submodel with test figures, by utterances used
/// (instant before refined before from-zero at equal counts, then by id).
pub fn points(ws: &Workspace, speaker: &str) -> Result<Vec<Point>> {
    Ok(all_points(ws)?.remove(speaker).unwrap_or_default())
}

/// Every speaker's curve (see [`points`]), from one read of the library.
pub fn all_points(ws: &Workspace) -> Result<BTreeMap<String, Vec<Point>>> {
    let (entries, _) = library::list(&ws.home)?;
    let kinds: std::collections::HashMap<&str, Kind> = entries
        .iter()
        .map(|e| (e.id.as_str(), e.meta.spec.kind))
        .collect();
    let mut out: BTreeMap<String, Vec<Point>> = BTreeMap::new();
    for e in &entries {
        // Refined: from a stored instant submodel (a refine job; a parent is also just the
        // previous version), or from the one the default recipe fits itself.
        let refine_job = e
            .meta
            .hyper
            .get("recipe")
            .and_then(|r| r.as_str())
            .is_some_and(|r| r.contains(", refined from "));
        let from_instant = refine_job
            && e.meta.parent.as_deref().and_then(|p| kinds.get(p)) == Some(&Kind::Embedding)
            || e.meta.hyper.contains_key("instant_start");
        let origin = match (e.meta.spec.kind, from_instant) {
            (Kind::Embedding, _) => Origin::Instant,
            (_, true) => Origin::Refined,
            _ => Origin::FromZero,
        };
        if let Some(p) = Point::of(e, origin) {
            out.entry(e.meta.speaker.clone()).or_default().push(p);
        }
    }
    let rank = |o: Origin| o as u8;
    for curve in out.values_mut() {
        curve.sort_by(|a, b| {
            (a.utterances, rank(a.origin), &a.submodel).cmp(&(
                b.utterances,
                rank(b.origin),
                &b.submodel,
            ))
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_is_instant_at_10_then_refines_at_20_40_and_all() {
        let steps = Overrides {
            max_steps: Some(7),
            ..Overrides::default()
        };
        let jobs = plan("s", 55, None, &steps);
        let limits: Vec<Option<usize>> = jobs.iter().map(|j| j.limit).collect();
        assert_eq!(limits, [Some(10), Some(20), Some(40), None]);
        assert_eq!(jobs[0].plan, Plan::FromSpace { name: None });
        assert_eq!(
            jobs[0].overrides,
            Overrides::default(),
            "the fit keeps its own steps"
        );
        assert!(
            jobs[1..]
                .iter()
                .all(|j| j.plan == Plan::default() && j.overrides == steps)
        );
        // Fewer utterances: only the points below what there is, then all.
        let none = Overrides::default();
        let limits: Vec<Option<usize>> = plan("s", 25, Some("v"), &none)
            .iter()
            .map(|j| j.limit)
            .collect();
        assert_eq!(limits, [Some(10), Some(20), None]);
        assert_eq!(
            plan("s", 10, None, &none).len(),
            1,
            "exactly 10: the instant point only"
        );
    }
}
