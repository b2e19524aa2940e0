//! The bodies of the worker's jobs: each calls the use-case layer (`crate::workflow`) and reports
//! through [`Shared::send`]. Errors become messages, never panics.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::msg::{CompareData, Msg, TakeInfo, TestSet, TrainSummary};
use super::shared::Shared;
use crate::audio::endpoint::{End, EndpointConfig, State};
use crate::audio::recorder::Input;
use crate::eval::Normalizer;
use crate::workflow::compare::{self, Part};
use crate::workflow::personalize::{self, Overrides, Request};
use crate::workflow::{enroll, spaces, speakers, sufficiency};

/// Bins of a take's waveform envelope.
const ENVELOPE_BINS: usize = 240;

/// Re-reads the home: speakers and library, embedding spaces, and every speaker's enrollment
/// curve (one more read of the library).
pub fn refresh(s: &Shared) {
    s.send(Msg::Snapshot(speakers::summary(&s.ws)));
    s.send(Msg::Spaces(spaces::spaces(&s.ws)));
    let curves = sufficiency::all_points(&s.ws).unwrap_or_else(|e| {
        tracing::warn!("the enrollment curves: {e}");
        BTreeMap::new()
    });
    s.send(Msg::Curves(curves));
}

/// Reports a short operation's outcome, then re-reads the home.
pub fn then_refresh(s: &Shared, r: Result<String, String>) {
    s.send(Msg::Done(r));
    refresh(s);
}

pub fn create_speaker(s: &Shared, id: &str) -> Result<String, String> {
    speakers::create(&s.ws, id, None, "", None, None)
        .map(|_| format!("created speaker {id}; c adds a consent note, Enter enrolls"))
        .map_err(|e| e.to_string())
}

pub fn set_consent(s: &Shared, id: &str, text: &str) -> Result<String, String> {
    speakers::set_consent(&s.ws, id, text)
        .map(|()| format!("consent note of {id} saved"))
        .map_err(|e| e.to_string())
}

pub fn delete_speaker(s: &Shared, id: &str) -> Result<String, String> {
    speakers::delete(&s.ws, id)
        .map(|d| {
            format!(
                "deleted speaker {id}, its recordings and {} submodel(s)",
                d.submodels.len()
            )
        })
        .map_err(|e| e.to_string())
}

/// Imports one set into one speaker; returns (stored, skipped).
fn import_one(s: &Shared, speaker: &str, path: &Path) -> Result<(usize, usize), String> {
    let (mut done, mut skipped) = (0, 0);
    let mut last = Instant::now();
    let report = enroll::import(&s.ws, speaker, path, |item| {
        match item {
            Ok(_) => done += 1,
            Err(e) => {
                skipped += 1;
                tracing::info!("import skipped {e}");
            }
        }
        if last.elapsed() > Duration::from_millis(100) {
            last = Instant::now();
            s.send(Msg::ImportProgress {
                speaker: speaker.to_string(),
                done,
                skipped,
            });
        }
    })
    .map_err(|e| e.to_string())?;
    Ok((report.imported.len(), report.skipped.len()))
}

pub fn import(s: &Shared, speaker: &str, path: &Path) {
    let r = import_one(s, speaker, path).and_then(|(n, skipped)| {
        if n == 0 {
            Err(format!(
                "nothing imported from {} ({skipped} skipped; see the log)",
                path.display()
            ))
        } else {
            Ok(format!(
                "imported {n} utterance(s) into {speaker}, {skipped} skipped"
            ))
        }
    });
    s.send(Msg::ImportDone(r));
    refresh(s);
}

/// Creates and fills each sample speaker not yet present.
pub fn import_samples(s: &Shared) {
    let r = enroll::add_samples(&s.ws, &[], |_, _| refresh(s))
        .map(|a| {
            format!(
                "added {} sample speaker(s) with {} utterances; 3 trains, 4 compares",
                a.speakers, a.utterances
            )
        })
        .map_err(|e| e.to_string());
    s.send(Msg::ImportDone(r));
    refresh(s);
}

/// Whether a microphone can be opened (it is closed again at once).
pub fn probe_input() -> Result<String, String> {
    Input::device(None)
        .map(|i| i.name().to_string())
        .map_err(|e| e.to_string())
}

/// The peak envelope of a take in `bins` bins.
pub fn envelope(samples: &[f32], bins: usize) -> Vec<f32> {
    if samples.is_empty() {
        return Vec::new();
    }
    let per = samples.len().div_ceil(bins).max(1);
    samples
        .chunks(per)
        .map(|c| c.iter().fold(0.0f32, |m, x| m.max(x.abs())))
        .collect()
}

/// Records one take from the default microphone.
pub fn record(s: &Shared, stop: &AtomicBool) {
    let run = || -> Result<TakeInfo, String> {
        let input = Input::device(None).map_err(|e| e.to_string())?;
        let mut last = Instant::now();
        let take = input
            .record_take(&EndpointConfig::default(), stop, |l, st| {
                if last.elapsed() >= Duration::from_millis(40) {
                    last = Instant::now();
                    s.send(Msg::Level {
                        peak_dbfs: l.peak_dbfs,
                        rms_dbfs: l.rms_dbfs,
                        speaking: st == State::Speaking,
                    });
                }
            })
            .map_err(|e| e.to_string())?;
        let info = TakeInfo {
            seconds: take.seconds(),
            peak_dbfs: take.quality.levels.peak_dbfs,
            envelope: envelope(&take.samples, ENVELOPE_BINS),
            too_quiet: take.quality.too_quiet,
            clipped: take.quality.clipped,
            no_speech: take.end == End::NoSpeech || take.samples.is_empty(),
        };
        *s.take.lock().expect("take lock") = Some(take.samples);
        Ok(info)
    };
    s.send(Msg::Take(run()));
}

fn play(s: &Shared, samples: &[f32]) {
    let r = crate::audio::playback::play(samples, None)
        .map(|()| "played".to_string())
        .map_err(|e| format!("cannot play: {e}"));
    s.send(Msg::Done(r));
}

pub fn play_take(s: &Shared) {
    let take = s.take.lock().expect("take lock").clone();
    match take {
        Some(t) => play(s, &t),
        None => s.send(Msg::Done(Err("no take to play; r records one".into()))),
    }
}

pub fn play_file(s: &Shared, path: &Path) {
    match crate::audio::read_wav(path) {
        Ok(a) => play(s, &a),
        Err(e) => s.send(Msg::Done(Err(e.to_string()))),
    }
}

pub fn store_take(s: &Shared, speaker: &str, text: &str, prompt: &str) {
    let run = || -> Result<String, String> {
        let take = s.take.lock().expect("take lock").clone();
        let samples = take.ok_or("no take to keep; r records one")?;
        let stored = enroll::store_take(&s.ws, speaker, &samples, text, prompt)
            .map_err(|e| e.to_string())?;
        *s.take.lock().expect("take lock") = None;
        Ok(format!(
            "stored {} ({}) for {speaker}",
            stored.utterance.line.audio_filepath, stored.split
        ))
    };
    s.send(Msg::Stored(run()));
    refresh(s);
}

/// Runs a training job (resuming from its checkpoint when `resume`) and adds the results to
/// the library.
pub fn train(s: &Shared, req: &Request, resume: bool, cancel: &AtomicBool) {
    let run = || -> Result<TrainSummary, String> {
        let rec = s.recognizer()?;
        let out = personalize::run(
            &s.ws,
            &rec,
            req,
            resume,
            &mut |e| s.send(Msg::Train(e)),
            cancel,
        )
        .map_err(|e| e.to_string())?;
        Ok(TrainSummary {
            saved: out.saved,
            cancelled: out.cancelled,
            seconds: out.seconds,
        })
    };
    s.send(Msg::TrainDone(run()));
    refresh(s);
}

/// Trains `speaker`'s enrollment-sufficiency curve (the instant submodel, then refines with
/// `overrides`), announcing each stage, and adds the results to the library.
pub fn curve(s: &Shared, speaker: &str, overrides: &Overrides, cancel: &AtomicBool) {
    let started = Instant::now();
    let run = || -> Result<TrainSummary, String> {
        let rec = s.recognizer()?;
        let saved = sufficiency::run(
            &s.ws,
            &rec,
            speaker,
            None,
            overrides,
            &mut |stage, stages, job| {
                s.send(Msg::CurveStage {
                    stage,
                    stages,
                    job: job.describe(),
                })
            },
            &mut |e| s.send(Msg::Train(e)),
            cancel,
        )
        .map_err(|e| e.to_string())?;
        Ok(TrainSummary {
            saved,
            cancelled: cancel.load(Ordering::Relaxed),
            seconds: started.elapsed().as_secs_f64(),
        })
    };
    s.send(Msg::TrainDone(run()));
    refresh(s);
}

/// Scores the base and the speaker's newest submodel on one of its test sets or on any folder /
/// manifest / Kaldi dir.
pub fn compare(s: &Shared, speaker: &str, set: &TestSet) {
    let run = || -> Result<Box<CompareData>, String> {
        let part = |part| compare::TestSet::Speaker {
            id: speaker.to_string(),
            part,
        };
        let test = match set {
            TestSet::Test => part(Part::Test),
            TestSet::All => part(Part::All),
            TestSet::Path(p) => compare::TestSet::Path(p.clone()),
        };
        let rec = s.recognizer()?;
        let (submodel, report, paths) =
            compare::compare_newest(&s.ws, &rec, speaker, &test, Normalizer::english())
                .map_err(|e| e.to_string())?;
        Ok(Box::new(CompareData {
            speaker: speaker.to_string(),
            set: set.clone(),
            submodel,
            report,
            paths,
        }))
    };
    s.send(Msg::Compare(run()));
}

pub fn library_import(s: &Shared, path: &Path) -> Result<String, String> {
    let base = s.recognizer().ok().map(|r| r.model.hash.clone());
    crate::library::import(&s.ws.home, path, base.as_deref(), false)
        .map(|e| format!("imported {} into the library", e.id))
        .map_err(|e| e.to_string())
}
