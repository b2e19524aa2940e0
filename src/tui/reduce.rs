//! Folds worker messages into the app state (the "reduce" half of each background job): progress
//! updates the screen that shows it, finished jobs post a notice, failures go to the status line.

use super::app::{App, Avail, Command};
use super::worker::Msg;

/// Applies one worker message; may ask for a follow-up command.
pub fn reduce(app: &mut App, msg: Msg) -> Option<Command> {
    match msg {
        Msg::Snapshot(s) => app.apply_snapshot(s),
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
            app.info(line);
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
            let line = match &r {
                Ok(s) if s.cancelled => "training cancelled; nothing was saved".to_string(),
                Ok(s) => format!("training finished: {}", s.describe()),
                Err(e) => format!("training failed: {e}"),
            };
            if r.is_err() {
                app.error(line.clone());
            } else {
                app.info(line.clone());
            }
            app.notice = Some(line);
            app.train.result = Some(r);
        }
        Msg::Compare(r) => {
            app.compare.running = false;
            app.compare.row = 0;
            match r {
                Ok(d) => {
                    app.info(format!(
                        "scored {} utterance(s) of {}",
                        d.report.utterances.len(),
                        d.speaker
                    ));
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
