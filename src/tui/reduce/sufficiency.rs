//! Little-data enrollment from the screens: the Enroll screen's instant submodel (a fit into the
//! shipped space, started like any Train job) and the Compare screen's enrollment-sufficiency
//! curve (a training job of several stages, with the step budget for its refines), and the curve
//! job's stages as they start. What each trains is `workflow::sufficiency`'s.

use super::train::{begin, free, request, start};
use crate::tui::app::{App, CurveRun};
use crate::tui::msg::Command;
use crate::workflow::personalize::{Overrides, Plan};
use crate::workflow::sufficiency::INSTANT_AT;

/// The selected speaker's id when it has the training utterances `what` needs; otherwise says
/// how many are missing.
fn enough(app: &mut App, what: &str) -> Option<String> {
    let s = app.speaker()?;
    if s.train < INSTANT_AT {
        let msg = format!(
            "{what} needs {INSTANT_AT} training utterances; {} has {}: record or import more",
            s.id, s.train
        );
        app.error(msg);
        return None;
    }
    Some(s.id.clone())
}

/// Fits the selected speaker into the shipped space: an instant submodel, in seconds.
pub fn start_instant(app: &mut App) -> Option<Command> {
    let id = enough(app, "an instant submodel")?;
    let plan = Plan::FromSpace { name: None };
    start(app, request(vec![id], app.train.budget(), plan))
}

/// Trains the selected speaker's enrollment curve: instant at 10 utterances, then refined at 20,
/// 40 and all, each refine with the step budget.
pub fn start_curve(app: &mut App) -> Option<Command> {
    free(app)?;
    let speaker = enough(app, "the enrollment curve")?;
    begin(app, format!("curve of {speaker}"));
    app.train.curve = Some(CurveRun {
        speaker: speaker.clone(),
        ..CurveRun::default()
    });
    app.info(format!(
        "computing the enrollment curve of {speaker}: instant at {INSTANT_AT} utterances, then \
         refined; minutes, c cancels"
    ));
    Some(Command::Curve {
        speaker,
        overrides: Overrides {
            max_steps: app.train.budget(),
            ..Overrides::default()
        },
    })
}

/// A curve job starts its job `stage` (from 0) of `stages`, described `job`.
pub fn stage(app: &mut App, stage: usize, stages: usize, job: String) {
    let line = format!("curve {}/{stages}: {job}", stage + 1);
    app.train.progress = None;
    if let Some(c) = app.train.curve.as_mut() {
        c.stage = stage + 1;
        c.stages = stages;
    }
    app.train.job = Some(line.clone());
    app.info(line);
}
