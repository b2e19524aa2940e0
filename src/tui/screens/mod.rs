//! Drawing: the frame (tabs, job indicator, status line), the current screen, and overlays
//! (help, dialogs, notices). Pure functions of `&App`.

pub mod compare;
pub mod enroll;
pub mod library;
pub mod speakers;
pub mod train;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::app::{App, Avail, Modal, Screen};
use super::help;
use super::widgets::{bad, dim, good, selected, title};

const SPINNER: [&str; 4] = ["|", "/", "-", "\\"];

/// Draws the whole UI.
pub fn render(app: &App, f: &mut Frame) {
    let [head, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(f.area());
    header(app, f, head);
    match app.screen {
        Screen::Speakers => speakers::render(app, f, body),
        Screen::Enroll => enroll::render(app, f, body),
        Screen::Train => train::render(app, f, body),
        Screen::Compare => compare::render(app, f, body),
        Screen::Library => library::render(app, f, body),
    }
    status_line(app, f, status);
    if let Some(n) = &app.notice {
        let w = (n.chars().count() as u16 + 4).min(body.width);
        let area = Rect::new(body.right().saturating_sub(w), body.y, w, 3);
        f.render_widget(Clear, area);
        f.render_widget(
            Paragraph::new(Line::styled(n.as_str(), good())).block(Block::bordered()),
            area,
        );
    }
    if app.help {
        help_overlay(app, f, body);
    }
    if let Some(m) = &app.modal {
        modal(m, f, body);
    }
}

fn header(app: &App, f: &mut Frame, area: Rect) {
    let mut spans = vec![Span::styled("attune ", title())];
    for (i, s) in Screen::ALL.iter().enumerate() {
        let label = format!(" {} {} ", i + 1, s.title());
        spans.push(if *s == app.screen {
            Span::styled(label, selected().add_modifier(Modifier::BOLD))
        } else {
            Span::raw(label)
        });
    }
    let spin = SPINNER[(app.ticks % 4) as usize];
    let job = if let Some(p) = app.train.progress.as_ref().filter(|_| app.train.running) {
        format!(" {spin} training {}/{}", p.step, p.max_steps)
    } else if app.train.running {
        format!(" {spin} training: preparing")
    } else if app.importing {
        format!(" {spin} importing")
    } else if app.compare.running {
        format!(" {spin} scoring")
    } else if app.enroll.recording {
        " ● recording".to_string()
    } else {
        String::new()
    };
    spans.push(Span::styled(job, good()));
    f.render_widget(Line::from(spans), area);
}

fn status_line(app: &App, f: &mut Frame, area: Rect) {
    let base = match &app.base {
        Avail::Checking => "base: loading".to_string(),
        Avail::Ready(n) => format!("base: {n}"),
        Avail::Missing(_) => "base: missing".to_string(),
    };
    let right = format!(" {base} │ ? help ");
    let [left, r] = Layout::horizontal([
        Constraint::Min(0),
        Constraint::Length(right.chars().count() as u16),
    ])
    .areas(area);
    let line = if app.status.error {
        Line::from(vec![
            Span::styled("error: ", bad()),
            Span::raw(app.status.text.as_str()),
        ])
    } else {
        Line::raw(app.status.text.as_str())
    };
    f.render_widget(line, left);
    f.render_widget(Line::styled(right, dim()), r);
}

/// A rectangle of at most `w`×`h` centred in `area`.
pub fn centred(area: Rect, w: u16, h: u16) -> Rect {
    let (w, h) = (w.min(area.width), h.min(area.height));
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn help_overlay(app: &App, f: &mut Frame, body: Rect) {
    let key_line = |(k, what): &(&'static str, &'static str)| {
        Line::from(vec![
            Span::styled(
                format!("{k:>14}  "),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(*what),
        ])
    };
    let mut lines: Vec<Line> = vec![Line::styled(app.screen.title(), title())];
    lines.extend(help::keys(app.screen).iter().map(key_line));
    lines.push(Line::styled("Everywhere", title()));
    lines.extend(help::GLOBAL.iter().map(key_line));
    let area = centred(body, 66, lines.len() as u16 + 2);
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" keys ")),
        area,
    );
}

fn modal(m: &Modal, f: &mut Frame, body: Rect) {
    let (heading, text, hint) = match m {
        Modal::Input { title, value, .. } => (
            title.as_str(),
            format!("{value}▏"),
            "Enter: OK   Esc: cancel",
        ),
        Modal::Confirm { question, .. } => (question.as_str(), String::new(), "y: yes   n: no"),
    };
    let area = centred(body, 70, 6);
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(vec![
            Line::styled(heading, Style::new().add_modifier(Modifier::BOLD)),
            Line::raw(text),
            Line::styled(hint, dim()),
        ])
        .wrap(Wrap { trim: false })
        .block(Block::bordered()),
        area,
    );
}
