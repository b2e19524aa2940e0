//! The Library screen: every submodel with kind, size, base, created date and test metrics
//! (flagged `!` when ordinary speech got worse); the selected one's details, the formats it can be
//! exported to, report card and lineage.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState};

use crate::export::Format;
use crate::library::Entry;
use crate::submodel::Kind;
use crate::tui::app::App;
use crate::tui::widgets::text::wrap_all;
use crate::tui::widgets::{bad, dim, selected, title, wer};
use crate::util::time::date_of;

/// Whether the submodel made ordinary (generic) speech clearly worse.
fn regressed(e: &Entry) -> bool {
    e.meta
        .metrics
        .as_ref()
        .and_then(|m| m.generic)
        .is_some_and(|g| g.regressed())
}

fn metrics(e: &Entry) -> String {
    e.meta.metrics.as_ref().map_or("–".into(), |m| {
        let flag = if regressed(e) { "!" } else { "" };
        format!("{}→{}{flag}", wer(Some(m.base_wer)), wer(Some(m.wer)))
    })
}

/// The selected submodel's details: identity, its report card, and a warning when it hurts
/// ordinary speech.
fn details(e: &Entry) -> Vec<Line<'static>> {
    let space = e
        .meta
        .space
        .as_ref()
        .map(|s| format!(", space {s}"))
        .unwrap_or_default();
    let mut l = vec![Line::raw(format!(
        "{}: speaker {}{space}, base {}…, data {}…",
        e.id,
        e.meta.speaker,
        &e.meta.base_hash.get(..12).unwrap_or(""),
        &e.meta.data_hash.get(..12).unwrap_or(""),
    ))];
    let formats: Vec<String> = Format::for_kind(e.meta.spec.kind)
        .iter()
        .map(|f| f.to_string())
        .collect();
    l.push(match e.meta.spec.kind {
        Kind::Lora => Line::raw(format!("exports to: {}", formats.join(", "))),
        _ => Line::styled(
            "exports to: file only — merged formats (ct2, ggml, hf) need a LoRA submodel",
            dim(),
        ),
    });
    l.push(match &e.meta.metrics {
        Some(m) => Line::raw(m.summary()),
        None => Line::styled("no test figures (imported without them)", dim()),
    });
    if regressed(e) {
        l.push(Line::styled(
            "! ordinary speech got worse: use this submodel only for its speaker",
            bad(),
        ));
    }
    l
}

pub fn render(app: &App, f: &mut Frame, area: Rect) {
    let lines = match (app.library.get(app.lib_sel), &app.lineage) {
        (None, _) => vec![Line::raw(
            "The library is empty: train a speaker (screen 3) or i imports a submodel file.",
        )],
        (Some(e), lineage) => {
            let mut l = details(e);
            match lineage
                .as_ref()
                .filter(|c| c.first().is_some_and(|c| c.id == e.id))
            {
                Some(chain) => {
                    l.push(Line::styled("lineage (newest first)", title()));
                    for c in chain {
                        l.push(Line::raw(format!(
                            "  {} · {} · WER {}",
                            c.id,
                            date_of(c.meta.created),
                            metrics(c)
                        )));
                    }
                }
                None => l.push(Line::styled(
                    "Enter shows lineage · x exports · i imports · d deletes",
                    dim(),
                )),
            }
            l
        }
    };
    // The detail pane grows with a long lineage, leaving the table at least its header and a row.
    let lines = wrap_all(&lines, area.width.saturating_sub(2) as usize);
    let height = (lines.len() as u16 + 2).clamp(8, area.height.saturating_sub(4).max(8));
    let [table_area, detail] =
        Layout::vertical([Constraint::Min(4), Constraint::Length(height)]).areas(area);
    let rows = app.library.iter().map(|e| {
        Row::new(vec![
            e.id.clone(),
            format!("{} r{}", e.meta.spec.kind, e.meta.spec.rank),
            format!("{} KiB", e.bytes.div_ceil(1024)),
            e.meta.base_name.clone(),
            date_of(e.meta.created),
            metrics(e),
        ])
    });
    let mut state = TableState::default().with_selected(Some(app.lib_sel));
    let table = Table::new(
        rows,
        [
            Constraint::Min(14),
            Constraint::Length(13),
            Constraint::Length(8),
            Constraint::Length(9),
            Constraint::Length(10),
            Constraint::Length(10),
        ],
    )
    .header(Row::new(["submodel", "kind", "size", "base", "created", "WER"]).style(title()))
    .row_highlight_style(selected())
    .block(Block::bordered().title(Line::styled(" Library ", title())));
    f.render_stateful_widget(table, table_area, &mut state);
    f.render_widget(Paragraph::new(lines).block(Block::bordered()), detail);
}
