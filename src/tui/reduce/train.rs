//! The Train screen's acts and its jobs: the step budget and adapter kind, marking speakers,
//! starting adapter / embedding-space (fewer dimensions than speakers) / from-space jobs (the
//! shipped space or the home's), one job at a time, cancelling (also from Compare), and offering
//! an interrupted job (quit or crash) for resuming.

use crate::train::{DEFAULT_RANK, recipe_max_steps};
use crate::tui::app::{App, ChooseFor, InputFor, Modal, RESUME_OPTIONS, Screen, TRAIN_KINDS};
use crate::tui::keymap::Act;
use crate::tui::msg::Command;
use crate::workflow::personalize::{Overrides, Plan, Request};
use crate::workflow::spaces::SHIPPED_NAME;

/// Largest step budget the more-steps key reaches.
pub const MAX_STEPS: u64 = 5000;

/// Size of a new embedding space's speaker vectors (fewer over fewer speakers: at most one less
/// than their number).
pub const SPACE_DIM: usize = 8;

/// The next budget up or down: fine steps while small, coarser when large.
pub fn bump(steps: u64, up: bool) -> u64 {
    let by = if steps < 20 {
        2
    } else if steps < 200 {
        10
    } else {
        100
    };
    if up {
        (steps + by).min(MAX_STEPS)
    } else {
        steps.saturating_sub(by).max(2)
    }
}

pub fn train(app: &mut App, act: Act) -> Option<Command> {
    let n = app.speakers.len();
    match act {
        Act::Up => app.sel = App::step(app.sel, n, -1),
        Act::Down => app.sel = App::step(app.sel, n, 1),
        Act::Kind => {
            let at = TRAIN_KINDS.iter().position(|k| *k == app.train.kind);
            let next = TRAIN_KINDS[at.map_or(0, |i| (i + 1) % TRAIN_KINDS.len())];
            // A budget left at one kind's recipe follows the next kind's; a chosen one stays.
            if app.train.budget().is_none() {
                app.train.steps = recipe_max_steps(next);
            }
            app.train.kind = next;
        }
        Act::MoreSteps => app.train.steps = bump(app.train.steps, true),
        Act::FewerSteps => app.train.steps = bump(app.train.steps, false),
        Act::Mark => {
            let id = app.speaker()?.id.clone();
            if !app.train.marked.remove(&id) {
                app.train.marked.insert(id);
            }
        }
        Act::Cancel => return cancel(app),
        Act::Start => {
            let speakers = trainable(app)?;
            let plan = Plan::Adapters {
                kind: app.train.kind,
                rank: DEFAULT_RANK,
            };
            return start(app, request(speakers, app.train.budget(), plan));
        }
        Act::TrainSpace => {
            let speakers = trainable(app)?;
            if speakers.len() < 2 {
                app.error(
                    "an embedding space is learned over two or more speakers: \
                     mark them with Space, then press e",
                );
                return None;
            }
            return app.input(
                &format!(
                    "Name of the new embedding space over {} (letters, digits, . _ -)",
                    speakers.join(", ")
                ),
                "",
                InputFor::SpaceName { speakers },
            );
        }
        Act::FromSpace => {
            let speakers = trainable(app)?;
            let options = app.fit_spaces();
            app.modal = Some(Modal::Choose {
                title: format!(
                    "Fit {} into which embedding space? Only the speaker's embedding trains.",
                    speakers.join(", ")
                ),
                options,
                sel: 0,
                purpose: ChooseFor::FromSpace { speakers },
            });
        }
        _ => {}
    }
    None
}

/// The marked speakers (or the selected one), if no job runs and each has training data;
/// otherwise says why not.
fn trainable(app: &mut App) -> Option<Vec<String>> {
    free(app)?;
    let speakers: Vec<String> = if app.train.marked.is_empty() {
        vec![app.speaker()?.id.clone()]
    } else {
        app.train.marked.iter().cloned().collect()
    };
    if let Some(empty) = app
        .speakers
        .iter()
        .find(|s| speakers.contains(&s.id) && s.train == 0)
    {
        let msg = format!("{} has no training utterances: enroll first", empty.id);
        app.error(msg);
        return None;
    }
    Some(speakers)
}

/// Nothing, while no training job runs; otherwise says so (one job at a time).
pub(super) fn free(app: &mut App) -> Option<()> {
    if app.train.running {
        app.error("a training job is running; c cancels it");
        return None;
    }
    Some(())
}

/// Asks the running training job (or curve) to stop after its current step.
pub(super) fn cancel(app: &mut App) -> Option<Command> {
    if !app.train.running {
        return None;
    }
    app.info("cancelling after the current step…");
    Some(Command::CancelTrain)
}

/// The Train screen's request: `plan` for `speakers`, `steps` at most (none: the recipe's).
pub fn request(speakers: Vec<String>, steps: Option<u64>, plan: Plan) -> Request {
    // An instant fit has its own few steps; the step budget is for adapter training.
    let max_steps = steps.filter(|_| !matches!(plan, Plan::FromSpace { .. }));
    Request {
        speakers,
        plan,
        overrides: Overrides {
            max_steps,
            ..Overrides::default()
        },
        limit: None,
        start: None,
    }
}

/// Starts a new job.
pub fn start(app: &mut App, request: Request) -> Option<Command> {
    free(app)?;
    begin(app, request.describe());
    app.info(format!(
        "training {}; the job keeps running on other screens",
        request.describe()
    ));
    Some(Command::Train {
        request,
        resume: false,
    })
}

/// A space named by the user: a new one over `speakers`, unless the name is taken.
pub fn start_space(app: &mut App, name: String, speakers: Vec<String>) -> Option<Command> {
    if crate::library::check_name(&name).is_err() {
        app.error(format!(
            "{name:?} is not a valid space name (letters, digits, . _ -; not starting with . or -)"
        ));
        return None;
    }
    if app.spaces.contains(&name) {
        app.error(format!(
            "an embedding space named {name} exists already; choose another name"
        ));
        return None;
    }
    // The space is the speakers' principal subspace: fewer dimensions than speakers.
    let plan = Plan::Space {
        name,
        dim: SPACE_DIM.min(speakers.len().saturating_sub(1)).max(1),
        rank: DEFAULT_RANK,
        joint_steps: 0,
    };
    start(app, request(speakers, app.train.budget(), plan))
}

/// Fits `speakers` into space `name`.
pub fn start_from_space(app: &mut App, name: String, speakers: Vec<String>) -> Option<Command> {
    start(
        app,
        request(
            speakers,
            app.train.budget(),
            Plan::FromSpace {
                name: (name != SHIPPED_NAME).then_some(name),
            },
        ),
    )
}

/// Shows job `job` as running (a fresh progress bar, no result yet).
pub(super) fn begin(app: &mut App, job: String) {
    app.train.running = true;
    app.train.progress = None;
    app.train.result = None;
    app.train.curve = None;
    app.train.job = Some(job);
}

/// Offers the first interrupted job, unless a dialog is open or a job runs.
pub fn offer_unfinished(app: &mut App) {
    if app.modal.is_some() || app.train.running || app.unfinished.is_empty() {
        return;
    }
    let request = app.unfinished.remove(0);
    app.modal = Some(Modal::Choose {
        title: format!(
            "A training job was interrupted (quit or crash): {}",
            request.describe()
        ),
        options: RESUME_OPTIONS.iter().map(|o| o.to_string()).collect(),
        sel: 0,
        purpose: ChooseFor::Unfinished {
            request: Box::new(request),
        },
    });
}

/// The answer to an interrupted job's offer: option `i` of [`RESUME_OPTIONS`].
pub fn answer_unfinished(app: &mut App, request: Request, i: usize) -> Option<Command> {
    match i {
        0 => {
            app.screen = Screen::Train;
            begin(app, request.describe());
            app.info(format!("resuming {}", request.describe()));
            Some(Command::Train {
                request,
                resume: true,
            })
        }
        1 => {
            app.info(format!("discarding {}", request.describe()));
            Some(Command::DiscardJob { request })
        }
        _ => {
            app.info("the interrupted job stays; it is offered again at the next start");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{MAX_STEPS, bump};

    #[test]
    fn step_budget_moves_in_sensible_increments() {
        assert_eq!(bump(6, true), 8);
        assert_eq!(bump(2, false), 2);
        assert_eq!(bump(120, true), 130);
        assert_eq!(bump(MAX_STEPS, true), MAX_STEPS);
    }
}
