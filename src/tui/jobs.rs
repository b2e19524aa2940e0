//! The bodies of the worker's jobs: each calls an engine (store, enroll, audio, train, eval,
//! library) and reports through [`Shared::send`]. Errors become messages, never panics.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use super::msg::{CompareData, Msg, Snapshot, SpeakerRow, TakeInfo, TestSet, TrainSummary};
use super::shared::Shared;
use crate::audio::endpoint::{End, EndpointConfig, State};
use crate::audio::recorder::Input;
use crate::enroll::{import as enroll_import, prompts};
use crate::eval::Normalizer;
use crate::store::speakers::{Consent, SpeakerInfo, SpeakerStore, date_of, now_secs};
use crate::submodel::Kind;
use crate::train::prepare::prepare;
use crate::train::save::{save_results, speaker_sets};
use crate::train::{TrainConfig, job};

/// Bins of a take's waveform envelope.
const ENVELOPE_BINS: usize = 240;

/// Reads the home: speakers with their counts, prompts and submodels, and the library.
pub fn snapshot(s: &Shared) -> Snapshot {
    let home = &s.paths.home;
    let mut out = Snapshot::default();
    let library = match crate::library::list(home) {
        Ok((entries, bad)) => {
            out.problems.extend(bad.iter().map(ToString::to_string));
            entries
        }
        Err(e) => {
            out.problems.push(e.to_string());
            Vec::new()
        }
    };
    let speakers = SpeakerStore::new(home).list().unwrap_or_else(|e| {
        out.problems.push(e.to_string());
        Vec::new()
    });
    for sp in speakers {
        let info = sp.info();
        let manifest = sp.manifest().unwrap_or_else(|e| {
            out.problems.push(e.to_string());
            Vec::new()
        });
        let own = sp.prompts_path();
        let script = if own.is_file() {
            prompts::read(&own).unwrap_or_else(|_| prompts::default_prompts())
        } else {
            prompts::default_prompts()
        };
        let said: std::collections::HashSet<&str> = manifest
            .iter()
            .map(|u| u.prompt.as_deref().unwrap_or(&u.line.text))
            .collect();
        let heldout = manifest
            .iter()
            .filter(|u| u.split == crate::enroll::split::Split::Heldout)
            .count();
        let (name, notes, consent) = match info {
            Ok(i) => (
                i.name,
                i.notes,
                i.consent.map(|c| format!("{} ({})", c.text, c.date)),
            ),
            Err(e) => {
                out.problems.push(e.to_string());
                (sp.id.clone(), String::new(), None)
            }
        };
        out.speakers.push(SpeakerRow {
            submodels: library
                .iter()
                .filter(|e| e.meta.speaker == sp.id)
                .map(|e| (e.id.clone(), e.meta.metrics.clone()))
                .collect(),
            pending: script
                .iter()
                .filter(|p| !said.contains(p.as_str()))
                .cloned()
                .collect(),
            script_len: script.len(),
            train: manifest.len() - heldout,
            heldout,
            id: sp.id,
            name,
            notes,
            consent,
        });
    }
    out.library = library;
    out
}

pub fn refresh(s: &Shared) {
    s.send(Msg::Snapshot(snapshot(s)));
}

/// Reports a short operation's outcome, then re-reads the home.
pub fn then_refresh(s: &Shared, r: Result<String, String>) {
    s.send(Msg::Done(r));
    refresh(s);
}

pub fn create_speaker(s: &Shared, id: &str) -> Result<String, String> {
    SpeakerStore::new(&s.paths.home)
        .create(&SpeakerInfo::new(id, None))
        .map(|_| format!("created speaker {id}; c adds a consent note, Enter enrolls"))
        .map_err(|e| e.to_string())
}

pub fn set_consent(s: &Shared, id: &str, text: &str) -> Result<String, String> {
    let sp = SpeakerStore::new(&s.paths.home)
        .open(id)
        .map_err(|e| e.to_string())?;
    let mut info = sp.info().map_err(|e| e.to_string())?;
    info.consent = (!text.is_empty()).then(|| Consent {
        text: text.to_string(),
        date: date_of(now_secs()),
    });
    sp.write_info(&info).map_err(|e| e.to_string())?;
    Ok(format!("consent note of {id} saved"))
}

pub fn delete_speaker(s: &Shared, id: &str) -> Result<String, String> {
    SpeakerStore::new(&s.paths.home)
        .remove(id)
        .map(|subs| {
            format!(
                "deleted speaker {id}, its recordings and {} submodel(s)",
                subs.len()
            )
        })
        .map_err(|e| e.to_string())
}

/// Imports one set into one speaker; returns (stored, skipped).
fn import_one(s: &Shared, speaker: &str, path: &Path) -> Result<(usize, usize), String> {
    let sp = SpeakerStore::new(&s.paths.home)
        .open(speaker)
        .map_err(|e| e.to_string())?;
    let (mut done, mut skipped) = (0, 0);
    let mut last = Instant::now();
    let report = enroll_import::import(&sp, path, |item| {
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

/// Creates and fills each sample speaker (folders of `sample_data/speakers/`) not yet present.
pub fn import_samples(s: &Shared) {
    let run = || -> Result<String, String> {
        let dir = &s.paths.samples;
        let mut ids: Vec<String> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        ids.sort();
        let store = SpeakerStore::new(&s.paths.home);
        let (mut added, mut total) = (0, 0);
        for id in &ids {
            if store.open(id).is_ok() {
                continue;
            }
            let mut info = SpeakerInfo::new(id, None);
            info.notes =
                "Simulated sample speaker (sample_data/speakers), not a real person".into();
            store.create(&info).map_err(|e| e.to_string())?;
            let (n, _) = import_one(s, id, &dir.join(id))?;
            added += 1;
            total += n;
            refresh(s);
        }
        Ok(format!(
            "added {added} sample speaker(s) with {total} utterances; 3 trains, 4 compares"
        ))
    };
    s.send(Msg::ImportDone(run()));
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
        let sp = SpeakerStore::new(&s.paths.home)
            .open(speaker)
            .map_err(|e| e.to_string())?;
        let mut batch = sp.begin().map_err(|e| e.to_string())?;
        let stored = batch
            .add(&samples, text, Some(prompt))
            .map_err(|e| e.to_string())?
            .clone();
        batch.commit().map_err(|e| e.to_string())?;
        *s.take.lock().expect("take lock") = None;
        Ok(format!(
            "stored {} ({}) for {speaker}",
            stored.line.audio_filepath, stored.split
        ))
    };
    s.send(Msg::Stored(run()));
    refresh(s);
}

/// Trains the speakers together in one job and adds the results to the library.
pub fn train(s: &Shared, ids: &[String], steps: u64, kind: Kind, cancel: &AtomicBool) {
    let run = || -> Result<TrainSummary, String> {
        let rec = s.recognizer()?;
        let mut cfg = TrainConfig::recipe(kind, 32);
        cfg.max_steps = steps;
        let stored = speaker_sets(&s.paths.home, ids, None).map_err(|e| e.to_string())?;
        let data = prepare(&rec, &stored.sets).map_err(|e| e.to_string())?;
        let out = job::run(
            &rec,
            &data,
            &cfg,
            None,
            None,
            &mut |e| s.send(Msg::Train(e)),
            cancel,
        )
        .map_err(|e| e.to_string())?;
        let saved = if out.cancelled {
            Vec::new()
        } else {
            save_results(&s.paths.home, &rec, &cfg, &stored, &out).map_err(|e| e.to_string())?
        };
        Ok(TrainSummary {
            saved,
            cancelled: out.cancelled,
            seconds: out.seconds,
        })
    };
    s.send(Msg::TrainDone(run()));
    refresh(s);
}

/// Scores the base and the speaker's newest submodel on one of its test sets.
pub fn compare(s: &Shared, speaker: &str, set: TestSet) {
    let run = || -> Result<Box<CompareData>, String> {
        let home = &s.paths.home;
        let sp = SpeakerStore::new(home)
            .open(speaker)
            .map_err(|e| e.to_string())?;
        let (train, heldout) = sp.utterances().map_err(|e| e.to_string())?;
        let utts = match set {
            TestSet::Heldout => heldout,
            TestSet::All => heldout.into_iter().chain(train).collect(),
        };
        if utts.is_empty() {
            return Err(format!("{speaker} has no {} utterances", set.label()));
        }
        let mut loaded = Vec::new();
        for u in utts {
            let a = crate::audio::read_wav(&u.audio).map_err(|e| e.to_string())?;
            loaded.push((u, a));
        }
        let rec = s.recognizer()?;
        let latest = crate::library::latest(home, speaker).map_err(|e| e.to_string())?;
        let sub = latest
            .as_deref()
            .map(|id| crate::library::load(home, id, Some(&rec.model.hash), rec.model.device()))
            .transpose()
            .map_err(|e| e.to_string())?;
        let report =
            crate::cli::eval::evaluate(&rec, sub.as_ref(), &loaded, Normalizer::english(), 8)
                .map_err(|e| format!("{e:#}"))?;
        Ok(Box::new(CompareData {
            speaker: speaker.to_string(),
            set,
            submodel: latest,
            report,
            paths: loaded.into_iter().map(|(u, _)| u.audio).collect(),
        }))
    };
    s.send(Msg::Compare(run()));
}

pub fn library_import(s: &Shared, path: &Path) -> Result<String, String> {
    let base = s.recognizer().ok().map(|r| r.model.hash.clone());
    crate::library::import(&s.paths.home, path, base.as_deref(), false)
        .map(|e| format!("imported {} into the library", e.id))
        .map_err(|e| e.to_string())
}
