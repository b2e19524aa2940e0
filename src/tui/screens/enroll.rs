//! The Enroll screen: the current prompt large and centred, progress through the script, the
//! instant submodel once there are enough training utterances (or how far off it is), a live
//! level meter, the last take's waveform and its quality, the microphone (or why recording is
//! off and import still works) and the last import's outcome.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::tui::app::{App, Avail};
use crate::tui::msg::SpeakerRow;
use crate::tui::widgets::level::LevelMeter;
use crate::tui::widgets::text::{flow, wrap, wrap_all};
use crate::tui::widgets::waveform::Waveform;
use crate::tui::widgets::{bad, dim, good, title};
use crate::workflow::sufficiency::INSTANT_AT;

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
    let w = inner.width as usize;
    let done = s.script_len - s.pending.len().min(s.script_len);
    let at = (app.enroll.prompt.min(s.pending.len().saturating_sub(1))) + done + 1;
    let top_lines = flow(
        vec![
            vec![
                Span::styled(format!("{} ", s.id), title()),
                Span::styled("(← →)", dim()),
            ],
            vec![Span::raw(format!(
                "prompt {}/{} · {} stored ({} train, {} dev, {} test)",
                at.min(s.script_len),
                s.script_len,
                s.train + s.dev + s.test,
                s.train,
                s.dev,
                s.test
            ))],
        ],
        "  ",
        w,
    );
    let instant_lines = instant_lines(s, w);
    let take_lines = take_lines(app, w);
    let mic_lines = mic_lines(app, w);
    let [top, instant, prompt_area, meter, wave, take, mic] = Layout::vertical([
        Constraint::Length(top_lines.len() as u16),
        Constraint::Length(instant_lines.len() as u16),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(4),
        Constraint::Length(take_lines.len() as u16),
        Constraint::Length(mic_lines.len() as u16),
    ])
    .areas(inner);
    f.render_widget(Paragraph::new(top_lines), top);
    f.render_widget(Paragraph::new(instant_lines), instant);
    let text = app
        .prompt()
        .unwrap_or("Every prompt of the script is recorded.");
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
    }
    f.render_widget(Paragraph::new(take_lines), take);
    f.render_widget(Paragraph::new(mic_lines), mic);
}

/// The instant submodel: offered (with its key) once the speaker has enough training
/// utterances, otherwise how far it is.
fn instant_lines(s: &SpeakerRow, width: usize) -> Vec<Line<'static>> {
    let line = if s.train >= INSTANT_AT {
        Line::from(vec![
            Span::styled("f ", Style::new().add_modifier(Modifier::BOLD)),
            Span::styled("instant submodel", good()),
            Span::raw(" from the shipped space (seconds)"),
        ])
    } else {
        Line::styled(
            format!(
                "instant submodel from {INSTANT_AT} training utterances ({} so far)",
                s.train
            ),
            dim(),
        )
    };
    wrap(&line, width)
}

/// The last take's length, level and problems, and what can be done with it.
fn take_lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let Some(t) = &app.enroll.take else {
        return vec![Line::styled("no take yet: r records", dim())];
    };
    let mut items = vec![vec![Span::raw(format!(
        "last take {:.1} s, peak {:.1} dBFS",
        t.seconds, t.peak_dbfs
    ))]];
    for (on, what) in [
        (t.no_speech, "no speech heard"),
        (t.too_quiet, "too quiet: move closer"),
        (t.clipped, "clipped: move back"),
    ] {
        if on {
            items.push(vec![Span::styled(what, bad())]);
        }
    }
    items.push(vec![Span::styled(
        " Enter keep · e edit · p play · r again",
        dim(),
    )]);
    flow(items, "  ", width)
}

/// The microphone (or why recording is off, and that import still works) and the last import.
fn mic_lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let mic = match &app.audio {
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
    let mut lines = vec![mic];
    if let Some(i) = &app.enroll.import {
        lines.push(Line::styled(i.clone(), dim()));
    }
    wrap_all(&lines, width)
}
