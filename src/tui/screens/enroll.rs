//! The Enroll screen: the current prompt large and centred, progress through the script, a live
//! level meter, the last take's waveform, single keys to record / stop / listen / keep / edit /
//! skip, and import from a path (which works without a sound card).

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::tui::app::{App, Avail, Command, InputFor};
use crate::tui::widgets::level::LevelMeter;
use crate::tui::widgets::waveform::Waveform;
use crate::tui::widgets::{bad, dim, title};

/// The prompt being recorded, if any.
pub fn prompt(app: &App) -> Option<&str> {
    let s = app.speaker()?;
    s.pending
        .get(app.enroll.prompt.min(s.pending.len().saturating_sub(1)))
        .map(String::as_str)
}

pub fn on_key(app: &mut App, k: KeyEvent) -> Option<Command> {
    let n = app.speakers.len();
    let id = app.speaker()?.id.clone();
    let pending = app.speaker()?.pending.len();
    match k.code {
        KeyCode::Left => app.sel = App::step(app.sel, n, -1),
        KeyCode::Right => app.sel = App::step(app.sel, n, 1),
        KeyCode::Char('i') => {
            return app.input(
                &format!("Import into {id}: folder of x.wav+x.txt, manifest.jsonl or Kaldi dir"),
                "",
                InputFor::ImportPath { speaker: id },
            );
        }
        KeyCode::Char('s') => app.enroll.prompt = App::step(app.enroll.prompt, pending, 1),
        KeyCode::Char('b') => app.enroll.prompt = App::step(app.enroll.prompt, pending, -1),
        KeyCode::Char('r' | ' ') if app.enroll.recording => return Some(Command::StopRecording),
        KeyCode::Char('r' | ' ') => {
            if let Avail::Missing(why) = &app.audio {
                let why = format!("recording is off: {why}; i imports instead");
                app.error(why);
                return None;
            }
            prompt(app)?;
            app.enroll.recording = true;
            app.enroll.take = None;
            app.info("listening: say the phrase; a pause ends the take (r stops)");
            return Some(Command::Record);
        }
        KeyCode::Char('p') if app.enroll.take.is_some() => return Some(Command::PlayTake),
        KeyCode::Enter | KeyCode::Char('e') if app.enroll.take.is_some() => {
            let p = prompt(app)?.to_string();
            if k.code == KeyCode::Char('e') {
                return app.input(
                    "What was actually said",
                    &p,
                    InputFor::Said {
                        speaker: id,
                        prompt: p.clone(),
                    },
                );
            }
            return Some(Command::StoreTake {
                speaker: id,
                text: p.clone(),
                prompt: p,
            });
        }
        _ => {}
    }
    None
}

pub fn render(app: &App, f: &mut Frame, area: Rect) {
    let block = Block::bordered().title(Line::styled(" Enroll ", title()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(s) = app.speaker() else {
        f.render_widget(
            Paragraph::new("No speaker: create one or add the samples on screen 1."),
            inner,
        );
        return;
    };
    let [top, prompt_area, meter, wave, take, mic] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(4),
        Constraint::Length(1),
        Constraint::Length(2),
    ])
    .areas(inner);
    let done = s.script_len - s.pending.len().min(s.script_len);
    let at = (app.enroll.prompt.min(s.pending.len().saturating_sub(1))) + done + 1;
    f.render_widget(
        Line::from(vec![
            Span::styled(format!("{} ", s.id), title()),
            Span::styled("(← →)  ", dim()),
            Span::raw(format!(
                "prompt {}/{} · {} stored ({} train, {} held-out)",
                at.min(s.script_len),
                s.script_len,
                s.train + s.heldout,
                s.train,
                s.heldout
            )),
        ]),
        top,
    );
    let text = prompt(app).unwrap_or("Every prompt of the script is recorded.");
    let pad = prompt_area.height.saturating_sub(3) / 2;
    let mut lines = vec![Line::raw(""); pad as usize];
    lines.push(Line::styled(
        text.to_uppercase(),
        Style::new().add_modifier(Modifier::BOLD),
    ));
    lines.push(Line::raw(""));
    lines.push(Line::styled(text, dim()));
    f.render_widget(
        Paragraph::new(lines)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        prompt_area,
    );
    f.render_widget(
        LevelMeter {
            level: app.enroll.level,
        },
        meter,
    );
    if let Some(t) = &app.enroll.take {
        f.render_widget(
            Waveform {
                envelope: &t.envelope,
            },
            wave,
        );
        let mut spans = vec![Span::raw(format!(
            "last take {:.1} s, peak {:.1} dBFS",
            t.seconds, t.peak_dbfs
        ))];
        for (on, what) in [
            (t.no_speech, "  no speech heard"),
            (t.too_quiet, "  too quiet: move closer"),
            (t.clipped, "  clipped: move back"),
        ] {
            if on {
                spans.push(Span::styled(what, bad()));
            }
        }
        spans.push(Span::styled(
            "   Enter keep · e edit · p play · r again",
            dim(),
        ));
        f.render_widget(Line::from(spans), take);
    } else {
        f.render_widget(Line::styled("no take yet: r records", dim()), take);
    }
    let mic_line = match &app.audio {
        Avail::Checking => Line::styled("microphone: checking…", dim()),
        Avail::Ready(name) => Line::raw(format!(
            "microphone: {name}   r/Space record · s skip · b back · i import"
        )),
        Avail::Missing(why) => Line::from(vec![
            Span::styled("Recording is off: ", bad()),
            Span::raw(format!(
                "{why}. Import still works: i imports a folder, manifest or Kaldi dir."
            )),
        ]),
    };
    let mut lines = vec![mic_line];
    if let Some(i) = &app.enroll.import {
        lines.push(Line::styled(i.as_str(), dim()));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), mic);
}
