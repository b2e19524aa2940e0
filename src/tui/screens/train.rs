//! The Train screen: the speakers (marked ones for a multi-speaker job), the job's settings (step
//! budget, adapter kind, the embedding spaces: the shipped one and the home's), the job itself
//! (resumed or not, or a curve's stage), and its progress bar (ETA), loss and dev WER.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Gauge, List, ListItem, ListState, Paragraph};

use crate::tui::app::App;
use crate::tui::widgets::chart::StepChart;
use crate::tui::widgets::text::{flow, wrap};
use crate::tui::widgets::{ACCENT, bad, dim, good, selected, title};

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
    let settings_lines = settings(app, inner.width as usize);
    let result_line = match &app.train.result {
        Some(Ok(s)) if s.cancelled && s.saved.is_empty() => {
            Line::styled("cancelled: nothing saved", bad())
        }
        Some(Ok(s)) if s.cancelled => {
            Line::styled(format!("cancelled, kept: {}", s.describe()), bad())
        }
        Some(Ok(s)) => Line::styled(format!("done: {}", s.describe()), good()),
        Some(Err(e)) => Line::styled(format!("failed: {e}"), bad()),
        None => Line::raw(""),
    };
    let result_lines = wrap(&result_line, inner.width as usize);
    let [settings, gauge, result, charts] = Layout::vertical([
        Constraint::Length(settings_lines.len() as u16),
        Constraint::Length(1),
        Constraint::Length(result_lines.len().max(2) as u16),
        Constraint::Min(0),
    ])
    .areas(inner);
    f.render_widget(Paragraph::new(settings_lines), settings);
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
    f.render_widget(Paragraph::new(result_lines), result);
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
            title: " dev WER ",
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

/// The job's settings, each a field with the key that changes it, flowed into the width whole
/// (a new option is one more field here), then the keys that act on the job.
fn settings(app: &App, width: usize) -> Vec<Line<'static>> {
    let who = if app.train.marked.is_empty() {
        app.speaker().map_or("–".into(), |s| s.id.clone())
    } else {
        format!("{} marked", app.train.marked.len())
    };
    let field =
        |name: &str, value: String| vec![Span::styled(format!("{name} "), dim()), Span::raw(value)];
    let spaces = format!("{} (f fit · e new)", app.fit_spaces().join(", "));
    let mut lines = flow(
        vec![
            field("speakers", who),
            field("steps", format!("{} (+/-)", app.train.steps)),
            field("kind", format!("{} (a)", app.train.kind)),
            field("spaces", spaces),
        ],
        "   ",
        width,
    );
    let hint = |s: &str| vec![Span::styled(s.to_string(), dim())];
    lines.extend(flow(
        vec![
            hint("Enter starts"),
            hint("Space marks speakers"),
            hint("c cancels"),
        ],
        " · ",
        width,
    ));
    if let Some(job) = &app.train.job {
        let mut items = vec![field("job", job.clone())];
        let progress = app.train.progress.as_ref();
        if let Some(step) = progress.and_then(|p| p.resumed) {
            items.push(vec![Span::styled(
                format!("resumed at step {step}"),
                good(),
            )]);
        }
        if progress.is_some_and(|p| p.fitting_start()) {
            items.push(vec![Span::styled("fitting instant start…", good())]);
        }
        lines.extend(flow(items, " · ", width));
    }
    lines
}
