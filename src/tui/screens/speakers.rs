//! The Speakers screen: the list with utterance, split and submodel counts and test WER; a
//! detail pane (notes, consent, submodels), or a welcome that offers the sample speakers.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState, Wrap};

use crate::tui::app::App;
use crate::tui::widgets::{dim, selected, title, wer};

pub fn render(app: &App, f: &mut Frame, area: Rect) {
    if !app.loaded {
        f.render_widget(Paragraph::new("reading the home…"), area);
        return;
    }
    if app.speakers.is_empty() {
        return welcome(app, f, area);
    }
    let [list, detail] =
        Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)]).areas(area);
    let rows = app.speakers.iter().map(|s| {
        let best = s
            .submodels
            .last()
            .and_then(|(_, m)| m.as_ref())
            .map(|m| (m.base_wer, m.wer));
        Row::new(vec![
            s.id.clone(),
            s.train.to_string(),
            s.test.to_string(),
            s.submodels.len().to_string(),
            best.map_or("–".into(), |(b, w)| format!("{b:.2}→{w:.2}")),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Min(10),
            Constraint::Length(5),
            Constraint::Length(5),
            Constraint::Length(4),
            Constraint::Length(10),
        ],
    )
    .header(Row::new(["speaker", "train", "test", "subs", "WER"]).style(title()))
    .row_highlight_style(selected())
    .block(Block::bordered().title(Line::styled(" Speakers ", title())));
    let mut state = TableState::default().with_selected(Some(app.sel));
    f.render_stateful_widget(table, list, &mut state);
    let Some(s) = app.speaker() else { return };
    let mut lines = vec![
        Line::from(vec![Span::styled("name     ", dim()), Span::raw(&s.name)]),
        Line::from(vec![
            Span::styled("consent  ", dim()),
            Span::raw(s.consent.as_deref().unwrap_or("none recorded (c adds one)")),
        ]),
        Line::from(vec![
            Span::styled("enrolled ", dim()),
            Span::raw(format!(
                "{} of {} prompts, {} train / {} dev / {} test",
                s.script_len - s.pending.len().min(s.script_len),
                s.script_len,
                s.train,
                s.dev,
                s.test
            )),
        ]),
    ];
    if !s.notes.is_empty() {
        lines.push(Line::from(vec![
            Span::styled("notes    ", dim()),
            Span::raw(&s.notes),
        ]));
    }
    lines.push(Line::styled(
        "submodels (test WER base → submodel)",
        title(),
    ));
    if s.submodels.is_empty() {
        lines.push(Line::styled("  none yet: train on screen 3", dim()));
    }
    for (id, m) in &s.submodels {
        lines.push(Line::raw(format!(
            "  {id:<18} {} → {}",
            wer(m.as_ref().map(|m| m.base_wer)),
            wer(m.as_ref().map(|m| m.wer))
        )));
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(Line::styled(format!(" {} ", s.id), title()))),
        detail,
    );
}

fn welcome(app: &App, f: &mut Frame, area: Rect) {
    let mut lines = vec![
        Line::styled("Welcome to attune", title()),
        Line::raw(""),
        Line::raw("No speakers yet."),
        Line::raw(""),
    ];
    if app.samples {
        lines.push(Line::from(vec![
            Span::styled(" a ", selected()),
            Span::raw(" add the 5 sample speakers (simulated accents, dysarthria-like"),
        ]));
        lines.push(Line::raw(
            "     and tremor voices), carried in this attune binary",
        ));
        lines.push(Line::raw(
            "     — a demo runs end to end with no microphone.",
        ));
        lines.push(Line::raw(""));
    }
    lines.push(Line::from(vec![
        Span::styled(" n ", selected()),
        Span::raw(" create a speaker, then record or import their phrases"),
    ]));
    lines.push(Line::raw(""));
    lines.push(Line::styled("? shows every key", dim()));
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(Line::styled(" Speakers ", title()))),
        area,
    );
}
