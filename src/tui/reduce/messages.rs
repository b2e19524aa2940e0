//! Folds worker messages into the state (the "reduce" half of each background job): progress
//! updates the screen that shows it, finished jobs post a notice, failures go to the status line.

use std::collections::BTreeSet;

use super::sufficiency;
use super::train::offer_unfinished;
use crate::train::TrainEvent;
use crate::tui::app::{App, Avail, TrainProgress};
use crate::tui::msg::{Command, Msg, Snapshot};

/// Applies one worker message; may ask for a follow-up command.
pub fn reduce(app: &mut App, msg: Msg) -> Option<Command> {
    match msg {
        Msg::Snapshot(s) => apply_snapshot(app, s),
        Msg::Base(r) => {
            app.base = match r {
                Ok(name) => Avail::Ready(name),
                Err(e) => {
                    app.error(format!("base model: {e}"));
                    Avail::Missing(e)
                }
            }
        }
        Msg::Audio(r) => {
            app.audio = match r {
                Ok(name) => Avail::Ready(name),
                Err(e) => Avail::Missing(e),
            }
        }
        Msg::ImportProgress {
            speaker,
            done,
            skipped,
        } => {
            app.importing = true;
            let line = format!("importing {speaker}: {done} stored, {skipped} skipped");
            app.enroll.import = Some(line.clone());
            app.progress(line);
        }
        Msg::ImportDone(r) => {
            app.importing = false;
            match r {
                Ok(summary) => {
                    app.enroll.import = Some(summary.clone());
                    app.info(summary);
                }
                Err(e) => {
                    app.enroll.import = None;
                    app.error(e);
                }
            }
        }
        Msg::Level {
            peak_dbfs,
            rms_dbfs,
            speaking,
        } => app.enroll.level = Some((peak_dbfs, rms_dbfs, speaking)),
        Msg::Take(r) => {
            app.enroll.recording = false;
            app.enroll.level = None;
            match r {
                Ok(t) => {
                    app.info(format!(
                        "take: {:.1} s — Enter keeps it, p plays it back, r records again",
                        t.seconds
                    ));
                    app.enroll.take = Some(t);
                }
                Err(e) => app.error(format!("recording: {e}")),
            }
        }
        Msg::Stored(r) => match r {
            Ok(what) => {
                app.enroll.take = None;
                app.info(what);
            }
            Err(e) => app.error(e),
        },
        Msg::Train(e) => {
            app.train.running = true;
            app.train
                .progress
                .get_or_insert_with(Default::default)
                .reduce(&e);
        }
        Msg::TrainDone(r) => {
            app.train.running = false;
            let what = match app.train.curve.take() {
                Some(c) => format!("the curve of {}", c.speaker),
                None => "training".into(),
            };
            let line = match &r {
                Ok(s) if s.cancelled && s.saved.is_empty() => {
                    format!("{what} cancelled; nothing was saved")
                }
                Ok(s) if s.cancelled => format!("{what} cancelled; kept {}", s.describe()),
                Ok(s) => format!("{what} finished: {}", s.describe()),
                Err(e) => format!("{what} failed: {e}"),
            };
            if r.is_err() {
                app.error(line.clone());
            } else {
                app.info(line.clone());
            }
            app.notice = Some(line);
            app.train.result = Some(r);
            offer_unfinished(app);
        }
        Msg::Unfinished(jobs) => {
            app.unfinished = jobs;
            offer_unfinished(app);
        }
        Msg::CurveStage { stage, stages, job } => sufficiency::stage(app, stage, stages, job),
        Msg::Curves(curves) => app.compare.curves = curves,
        Msg::Spaces(names) => app.spaces = names,
        Msg::Compare(r) => {
            app.compare.running = false;
            app.compare.row = 0;
            match r {
                Ok(d) => {
                    let unread = match d.report.errors.len() {
                        0 => String::new(),
                        n => format!("; {n} unreadable item(s) skipped, see the log"),
                    };
                    app.info(format!(
                        "scored {} utterance(s) of {} for {}{unread}",
                        d.report.utterances.len(),
                        d.set.label(),
                        d.speaker
                    ));
                    for e in d.report.errors.iter().take(5) {
                        tracing::info!("compare skipped {e}");
                    }
                    app.compare.data = Some(*d);
                }
                Err(e) => app.error(format!("compare: {e}")),
            }
        }
        Msg::Lineage(r) => match r {
            Ok(chain) => app.lineage = Some(chain),
            Err(e) => app.error(e),
        },
        Msg::Done(r) => match r {
            Ok(text) => app.info(text),
            Err(e) => app.error(e),
        },
    }
    None
}

/// Applies a new snapshot of the home, keeping selections on the same ids.
fn apply_snapshot(app: &mut App, s: Snapshot) {
    let keep = app.speaker().map(|r| r.id.clone());
    let keep_lib = app.library.get(app.lib_sel).map(|e| e.id.clone());
    app.speakers = s.speakers;
    app.library = s.library;
    app.sel = keep
        .and_then(|id| app.speakers.iter().position(|r| r.id == id))
        .unwrap_or(app.sel.min(app.speakers.len().saturating_sub(1)));
    app.lib_sel = keep_lib
        .and_then(|id| app.library.iter().position(|e| e.id == id))
        .unwrap_or(app.lib_sel.min(app.library.len().saturating_sub(1)));
    let ids: BTreeSet<String> = app.speakers.iter().map(|r| r.id.clone()).collect();
    app.train.marked.retain(|m| ids.contains(m));
    if let Some(p) = s.problems.first() {
        app.error(p.clone());
    } else if !app.loaded {
        app.info(if app.speakers.is_empty() {
            "no speakers yet  ? shows the keys"
        } else {
            "ready  ? keys · 1-5 or Tab switch screens · q quits"
        });
    }
    app.loaded = true;
}

impl TrainProgress {
    /// Folds one training event in.
    pub fn reduce(&mut self, e: &TrainEvent) {
        match e {
            TrainEvent::Started {
                speakers,
                max_steps,
                ..
            } => {
                self.speakers = speakers.clone();
                self.max_steps = *max_steps;
            }
            TrainEvent::Resumed { step } => {
                self.step = *step;
                self.resumed = Some(*step);
            }
            TrainEvent::InstantStart { .. } => self.instant_start = true,
            TrainEvent::Step {
                step,
                loss,
                elapsed,
                eta,
                ..
            } => {
                self.step = *step;
                self.loss = Some(*loss);
                self.elapsed = *elapsed;
                self.eta = Some(*eta);
                self.losses.push((*step as f64, *loss));
            }
            TrainEvent::Eval {
                step, speaker, wer, ..
            } => self.dev_point(speaker, *step, *wer),
            TrainEvent::SpeakerStopped { speaker, .. } => self.stopped.push(speaker.clone()),
            // The averaged adapter's dev WER ends the speaker's curve (the residual recipe
            // decodes dev only at its start and here).
            TrainEvent::Averaged { speaker, wer, .. } => self.dev_point(speaker, self.step, *wer),
        }
    }

    fn dev_point(&mut self, speaker: &str, step: u64, wer: f64) {
        let pos = self.wers.iter().position(|(s, _)| s == speaker);
        let i = pos.unwrap_or_else(|| {
            self.wers.push((speaker.to_owned(), Vec::new()));
            self.wers.len() - 1
        });
        self.wers[i].1.push((step as f64, wer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An averaging job decodes dev at its start and for the mean only: the chart's curve is the
    /// start's point and the mean's, at the step the job ended on.
    #[test]
    fn the_averaged_dev_wer_ends_the_speakers_curve() {
        let mut p = TrainProgress::default();
        let eval = TrainEvent::Eval {
            step: 0,
            speaker: "ana".into(),
            wer: 0.5,
            best_wer: 0.5,
        };
        let step = TrainEvent::Step {
            step: 240,
            loss: 0.1,
            losses: vec![Some(0.1)],
            elapsed: 1.0,
            eta: 0.0,
        };
        let mean = TrainEvent::Averaged {
            speaker: "ana".into(),
            evals: 13,
            wer: 0.25,
        };
        for e in [eval, step, mean] {
            p.reduce(&e);
        }
        assert_eq!(
            p.wers,
            [("ana".to_string(), vec![(0.0, 0.5), (240.0, 0.25)])]
        );
    }
}
