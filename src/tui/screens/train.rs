//! The Train screen: pick one speaker or mark several, set the step budget and adapter kind,
//! start / cancel a background job, and watch its progress bar (ETA), loss and held-out WER.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Gauge, List, ListItem, ListState, Paragraph, Wrap};

use crate::submodel::Kind;
use crate::tui::app::{App, Command};
use crate::tui::widgets::chart::StepChart;
use crate::tui::widgets::{ACCENT, bad, dim, good, selected, title};

/// Largest step budget the `+` key reaches.
const MAX_STEPS: u64 = 5000;

/// The next budget up or down: fine steps while small, coarser when large.
fn bump(steps: u64, up: bool) -> u64 {
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

pub fn on_key(app: &mut App, k: KeyEvent) -> Option<Command> {
    let n = app.speakers.len();
    match k.code {
        KeyCode::Up | KeyCode::Char('k') => app.sel = App::step(app.sel, n, -1),
        KeyCode::Char('a') => {
            app.train.kind = match app.train.kind {
                Kind::Residual => Kind::Lora,
                _ => Kind::Residual,
            }
        }
        KeyCode::Down | KeyCode::Char('j') => app.sel = App::step(app.sel, n, 1),
        KeyCode::Char('+' | '=') => app.train.steps = bump(app.train.steps, true),
        KeyCode::Char('-') => app.train.steps = bump(app.train.steps, false),
        KeyCode::Char(' ') => {
            let id = app.speaker()?.id.clone();
            if !app.train.marked.remove(&id) {
                app.train.marked.insert(id);
            }
        }
        KeyCode::Char('c') if app.train.running => {
            app.info("cancelling after the current step…");
            return Some(Command::CancelTrain);
        }
        KeyCode::Enter | KeyCode::Char('t') => return start(app),
        _ => {}
    }
    None
}

fn start(app: &mut App) -> Option<Command> {
    if app.train.running {
        app.error("a training job is running; c cancels it");
        return None;
    }
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
    app.train.running = true;
    app.train.progress = None;
    app.train.result = None;
    app.info(format!(
        "training {} for up to {} steps; the job keeps running on other screens",
        speakers.join(", "),
        app.train.steps
    ));
    Some(Command::Train {
        speakers,
        steps: app.train.steps,
        kind: app.train.kind,
    })
}

pub fn render(app: &App, f: &mut Frame, area: Rect) {
    let [left, right] =
        Layout::horizontal([Constraint::Length(26), Constraint::Min(30)]).areas(area);
    let items: Vec<ListItem> = app
        .speakers
        .iter()
        .map(|s| {
            let mark = if app.train.marked.contains(&s.id) {
                "[x]"
            } else {
                "[ ]"
            };
            ListItem::new(format!("{mark} {} ({})", s.id, s.train))
        })
        .collect();
    let mut state = ListState::default().with_selected(Some(app.sel));
    f.render_stateful_widget(
        List::new(items)
            .highlight_style(selected())
            .block(Block::bordered().title(Line::styled(" Speakers ", title()))),
        left,
        &mut state,
    );
    let block = Block::bordered().title(Line::styled(" Train ", title()));
    let inner = block.inner(right);
    f.render_widget(block, right);
    let [settings, gauge, result, charts] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Min(0),
    ])
    .areas(inner);
    let who = if app.train.marked.is_empty() {
        app.speaker().map_or("–".into(), |s| s.id.clone())
    } else {
        format!("{} marked", app.train.marked.len())
    };
    f.render_widget(
        Paragraph::new(vec![
            Line::from(vec![
                Span::styled("speakers ", dim()),
                Span::raw(format!("{who}   ")),
                Span::styled("steps ", dim()),
                Span::raw(format!("{} (+/-)   ", app.train.steps)),
                Span::styled("kind ", dim()),
                Span::raw(format!("{} (a)", app.train.kind)),
            ]),
            Line::styled("Enter starts · Space marks speakers · c cancels", dim()),
        ]),
        settings,
    );
    let p = app.train.progress.as_ref();
    let (ratio, label) = match p {
        Some(p) if p.max_steps > 0 => (
            (p.step as f64 / p.max_steps as f64).clamp(0.0, 1.0),
            format!(
                "step {}/{} · loss {} · {:.0} s · ETA {}",
                p.step,
                p.max_steps,
                p.loss.map_or("–".into(), |l| format!("{l:.3}")),
                p.elapsed,
                p.eta.map_or("–".into(), |e| format!("{e:.0} s"))
            ),
        ),
        _ if app.train.running => (0.0, "preparing: loading audio and the base…".into()),
        _ => (0.0, "no job yet".into()),
    };
    f.render_widget(
        Gauge::default()
            .ratio(ratio)
            .label(label)
            .gauge_style(Style::new().fg(ACCENT).add_modifier(Modifier::BOLD)),
        gauge,
    );
    let result_line = match &app.train.result {
        Some(Ok(s)) if s.cancelled => Line::styled("cancelled: nothing saved", bad()),
        Some(Ok(s)) => Line::styled(format!("done: {}", s.describe()), good()),
        Some(Err(e)) => Line::styled(format!("failed: {e}"), bad()),
        None => Line::raw(""),
    };
    f.render_widget(
        Paragraph::new(result_line).wrap(Wrap { trim: true }),
        result,
    );
    let [loss, wer] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(charts);
    let max_x = p.map_or(app.train.steps, |p| p.max_steps) as f64;
    let empty: &[(f64, f64)] = &[];
    f.render_widget(
        StepChart {
            title: " loss ",
            series: vec![("loss", p.map_or(empty, |p| p.losses.as_slice()))],
            max_x,
            y: None,
        },
        loss,
    );
    f.render_widget(
        StepChart {
            title: " held-out WER ",
            series: p.map_or_else(Vec::new, |p| {
                p.wers
                    .iter()
                    .map(|(s, v)| (s.as_str(), v.as_slice()))
                    .collect()
            }),
            max_x,
            y: Some([0.0, 1.0]),
        },
        wer,
    );
}

#[cfg(test)]
mod tests {
    use super::bump;

    #[test]
    fn step_budget_moves_in_sensible_increments() {
        assert_eq!(bump(6, true), 8);
        assert_eq!(bump(2, false), 2);
        assert_eq!(bump(120, true), 130);
        assert_eq!(bump(MAX, true), MAX);
    }
    const MAX: u64 = super::MAX_STEPS;
}
