//! Drawing: the frame (tabs, job indicator, status line), the current screen, and overlays (key
//! help and dialog hints rendered from the key map, message history, dialogs, notices). Pure
//! functions of `&App`; every text fits 80×24 by wrapping at words, never by cutting one.

pub mod compare;
pub mod enroll;
pub mod library;
pub mod speakers;
pub mod train;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::app::{App, Avail, Modal, Screen};
use super::keymap::{self, Binding, Scope};
use super::widgets::text::{ellipsize, width, wrap, wrap_all};
use super::widgets::{bad, dim, good, selected, title};

const SPINNER: [&str; 4] = ["|", "/", "-", "\\"];

/// Lines the status line may take before it is cut (at a word, pointing to the history).
pub const STATUS_LINES: usize = 2;

/// What ends a status line that had to be cut.
pub const STATUS_MORE: &str = " … m: all";

/// Draws the whole UI.
pub fn render(app: &App, f: &mut Frame) {
    let right = status_right(app);
    let left_w = (f.area().width as usize).saturating_sub(width(&right));
    let status_lines = status_lines(app, left_w);
    let [head, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(status_lines.len() as u16),
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
    let [left, r] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(width(&right) as u16)])
            .areas(status);
    f.render_widget(Paragraph::new(status_lines), left);
    f.render_widget(Line::styled(right, dim()), r);
    if let Some(n) = &app.notice {
        notice(n, f, body);
    }
    if app.help {
        help_overlay(app, f, body);
    }
    if app.messages {
        messages_overlay(app, f, body);
    }
    if let Some(m) = &app.modal {
        modal(m, f, body);
    }
}

/// The tabs and the running job; the name and then the inactive tabs' titles give way when the
/// job indicator would not fit.
fn header(app: &App, f: &mut Frame, area: Rect) {
    let spin = SPINNER[(app.ticks % 4) as usize];
    let curve = app
        .train
        .curve
        .as_ref()
        .map(|c| format!("{} ", c.label()))
        .unwrap_or_default();
    let job = if let Some(p) = app.train.progress.as_ref().filter(|_| app.train.running) {
        if p.fitting_start() {
            format!(" {spin} {curve}training: fitting start")
        } else {
            format!(" {spin} {curve}training {}/{}", p.step, p.max_steps)
        }
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
    let spans = |brand: bool, short: bool| {
        let mut spans = vec![];
        if brand {
            spans.push(Span::styled("attune ", title()));
        }
        for (i, s) in Screen::ALL.iter().enumerate() {
            spans.push(if *s == app.screen {
                Span::styled(
                    format!(" {} {} ", i + 1, s.title()),
                    selected().add_modifier(Modifier::BOLD),
                )
            } else if short {
                Span::raw(format!(" {} ", i + 1))
            } else {
                Span::raw(format!(" {} {} ", i + 1, s.title()))
            });
        }
        spans.push(Span::styled(job.clone(), good()));
        Line::from(spans)
    };
    let line = [(true, false), (false, false), (false, true)]
        .into_iter()
        .map(|(brand, short)| spans(brand, short))
        .find(|l| l.width() <= area.width as usize)
        .unwrap_or_else(|| spans(false, true));
    f.render_widget(line, area);
}

fn status_right(app: &App) -> String {
    let base = match &app.base {
        Avail::Checking => "base: loading".to_string(),
        Avail::Ready(n) => format!("base: {n}"),
        Avail::Missing(_) => "base: missing".to_string(),
    };
    format!(" {base} │ ? help ")
}

/// The status text wrapped at words into at most [`STATUS_LINES`] lines of `width`; if it needs
/// more, the last ends at a word with [`STATUS_MORE`] (the history, `m`, has the whole text).
pub fn status_lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let mut spans = Vec::new();
    if app.status.error {
        spans.push(Span::styled("error: ", bad()));
    }
    spans.push(Span::raw(app.status.text.clone()));
    let lines = wrap(&Line::from(spans), width);
    ellipsize(lines, STATUS_LINES, width, STATUS_MORE)
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

/// A finished job's notice, top right, wrapped to the body's width.
fn notice(text: &str, f: &mut Frame, body: Rect) {
    let inner = body.width.saturating_sub(2) as usize;
    let lines = wrap(&Line::styled(text.to_string(), good()), inner);
    let w = (lines.iter().map(Line::width).max().unwrap_or(0) as u16 + 2).min(body.width);
    let area = Rect::new(
        body.right().saturating_sub(w),
        body.y,
        w,
        (lines.len() as u16 + 2).min(body.height),
    );
    f.render_widget(Clear, area);
    f.render_widget(Paragraph::new(lines).block(Block::bordered()), area);
}

/// Width of the help's key column.
const KEY_COLUMN: usize = 14;

/// A help row: keys right-aligned, then what they do.
fn key_line(b: &Binding) -> Line<'static> {
    Line::from(vec![
        Span::styled(
            format!("{:>KEY_COLUMN$}  ", b.label()),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::raw(b.help),
    ])
}

/// The help of `screen`, from the key map: its keys, then the keys that work everywhere.
pub fn help_lines(screen: Screen) -> Vec<Line<'static>> {
    let mut lines: Vec<Line> = vec![Line::styled(screen.title(), title())];
    lines.extend(keymap::rows(Scope::Screen(screen)).map(key_line));
    lines.push(Line::styled("Everywhere", title()));
    lines.extend(keymap::rows(Scope::Global).map(key_line));
    lines.extend(keymap::rows(Scope::Always).map(key_line));
    lines
}

fn help_overlay(app: &App, f: &mut Frame, body: Rect) {
    let w = 66.min(body.width);
    let lines = wrap_all(&help_lines(app.screen), w.saturating_sub(2) as usize);
    let area = centred(body, w, lines.len() as u16 + 2);
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" keys ")),
        area,
    );
}

/// The status history, newest at the bottom; what does not fit scrolls off the top.
fn messages_overlay(app: &App, f: &mut Frame, body: Rect) {
    let area = centred(body, body.width.saturating_sub(4).max(20), body.height);
    let inner = area.width.saturating_sub(2) as usize;
    let shown: Vec<Line> = if app.history.is_empty() {
        vec![Line::styled("no messages yet", dim())]
    } else {
        app.history
            .iter()
            .map(|s| {
                if s.error {
                    Line::from(vec![
                        Span::styled("error: ", bad()),
                        Span::raw(s.text.clone()),
                    ])
                } else {
                    Line::raw(s.text.clone())
                }
            })
            .collect()
    };
    let mut lines = wrap_all(&shown, inner);
    let room = area.height.saturating_sub(2) as usize;
    if lines.len() > room {
        lines.drain(..lines.len() - room);
    }
    let area = Rect::new(area.x, area.y, area.width, lines.len() as u16 + 2);
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(" messages (newest last) ")
                .title_bottom(" any key closes "),
        ),
        area,
    );
}

fn modal(m: &Modal, f: &mut Frame, body: Rect) {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let (heading, body_lines, scope) = match m {
        Modal::Input { title, value, .. } => (
            title.as_str(),
            vec![Line::raw(format!("{value}▏"))],
            Scope::Input,
        ),
        Modal::Confirm { question, .. } => (question.as_str(), vec![Line::raw("")], Scope::Confirm),
        Modal::Choose {
            title,
            options,
            sel,
            ..
        } => (
            title.as_str(),
            options
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    if i == *sel {
                        Line::styled(format!("> {o}"), selected())
                    } else {
                        Line::raw(format!("  {o}"))
                    }
                })
                .collect(),
            Scope::Choose,
        ),
    };
    let w = 70.min(body.width);
    let inner = w.saturating_sub(2) as usize;
    let mut lines = vec![Line::styled(heading.to_string(), bold)];
    lines.extend(body_lines);
    lines.push(Line::styled(keymap::hint(scope), dim()));
    let lines = wrap_all(&lines, inner);
    let area = centred(body, w, (lines.len() as u16 + 2).max(6));
    f.render_widget(Clear, area);
    f.render_widget(Paragraph::new(lines).block(Block::bordered()), area);
}
