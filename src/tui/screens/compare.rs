//! The Compare screen: base vs the speaker's newest submodel on a test set (its test part, all of
//! it, or any folder / manifest) — corpus WER / CER with substitutions, deletions and insertions
//! for the stock base (30 s window), the base and the submodel, the paired-bootstrap interval and
//! verdict, per-utterance rows with the errors highlighted, the words the submodel fixed and
//! broke, and the speaker's enrollment-sufficiency curve: test WER by the utterances each
//! submodel learned from, instant next to refined and from-zero ones (`u` computes it).

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState};

use crate::eval::CorpusScore;
use crate::eval::bootstrap::Verdict;
use crate::library::Entry;
use crate::tui::app::App;
use crate::tui::msg::{CompareData, CurvePoint, SpeakerRow};
use crate::tui::widgets::text::{ellipsize, flow};
use crate::tui::widgets::{bad, dim, good, selected, title, wer};
use crate::workflow::sufficiency::Origin;

/// Lines the enrollment curve may take before it is cut.
const CURVE_LINES: usize = 3;

/// How a curve point's submodel was made, in a word.
fn origin(o: Origin) -> &'static str {
    match o {
        Origin::Instant => "inst",
        Origin::Refined => "ref",
        Origin::FromZero => "zero",
    }
}

/// The enrollment-sufficiency curve as items: the base's test WER, then each submodel's by the
/// training utterances it learned from and how it was made (`10 inst 0.42`, `20 ref 0.31`,
/// `55 zero 0.24`), the newest in `library` order where several share both.
pub fn curve_items(points: &[CurvePoint], library: &[Entry]) -> Vec<String> {
    let age = |p: &CurvePoint| library.iter().position(|e| e.id == p.submodel);
    let mut newest: BTreeMap<(usize, u8), &CurvePoint> = BTreeMap::new();
    for p in points {
        let slot = newest.entry((p.utterances, p.origin as u8)).or_insert(p);
        if age(slot) <= age(p) {
            *slot = p;
        }
    }
    let base = points.iter().max_by_key(|p| age(p)).map(|p| p.base_wer);
    base.map(|b| format!("base {b:.2}"))
        .into_iter()
        .chain(
            newest
                .values()
                .map(|p| format!("{} {} {:.2}", p.utterances, origin(p.origin), p.wer)),
        )
        .collect()
}

/// The selected speaker's curve (or why there is none yet), with the curve job's stage while it
/// runs for this speaker, flowed into `width` without splitting a point.
fn curve_lines(app: &App, s: Option<&SpeakerRow>, width: usize) -> Vec<Line<'static>> {
    let points = s.and_then(|s| app.compare.curves.get(&s.id));
    let mut items: Vec<Vec<Span<'static>>> = points
        .map_or_else(Vec::new, |p| curve_items(p, &app.library))
        .into_iter()
        .map(|i| vec![Span::raw(i)])
        .collect();
    if items.is_empty() {
        let why = match s {
            Some(s) if !s.submodels.is_empty() => "no test figures yet",
            _ => "no submodel yet",
        };
        items.push(vec![Span::raw(why)]);
    }
    let label = Span::styled("test WER by training utterances (u): ", dim());
    items[0].insert(0, label);
    let running = app.train.curve.as_ref();
    if let Some(c) = running.filter(|c| s.is_some_and(|s| s.id == c.speaker)) {
        items.push(vec![Span::styled(
            format!("{} running, c cancels", c.label()),
            good(),
        )]);
    }
    ellipsize(flow(items, " · ", width), CURVE_LINES, width, " …")
}

pub fn render(app: &App, f: &mut Frame, area: Rect) {
    let block = Block::bordered().title(Line::styled(" Compare ", title()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let speaker = app.speaker();
    let w = inner.width as usize;
    let mut top_lines = flow(
        vec![
            vec![
                Span::styled(
                    speaker.map_or("no speaker", |s| s.id.as_str()).to_string(),
                    title(),
                ),
                Span::styled(" (← →)", dim()),
            ],
            vec![
                Span::styled("test set ", dim()),
                Span::raw(app.test_set().label()),
                Span::styled(" (s)", dim()),
            ],
            vec![Span::styled("Enter scores · f folder · p plays", dim())],
        ],
        "  ",
        w,
    );
    top_lines.extend(curve_lines(app, speaker, w));
    let d = app
        .compare
        .data
        .as_ref()
        .filter(|d| speaker.is_some_and(|s| s.id == d.speaker));
    // Header, stock, base, submodel, then the interval.
    let head_rows = d.map_or(1, |d| 3 + u16::from(d.report.stock.is_some()));
    let [top, head, interval, body] = Layout::vertical([
        Constraint::Length(top_lines.len() as u16),
        Constraint::Length(head_rows),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(inner);
    f.render_widget(Paragraph::new(top_lines), top);
    let Some(d) = d else {
        let msg = if app.compare.running {
            "scoring…"
        } else {
            "Enter scores the base and this speaker's newest submodel side by side."
        };
        f.render_widget(Paragraph::new(msg), head);
        return;
    };
    let r = &d.report;
    let line = |name: &str, c: &CorpusScore| {
        Row::new(vec![
            name.to_string(),
            format!("{:.3}", c.wer),
            format!("{:.3}", c.cer),
            c.sub.to_string(),
            c.del.to_string(),
            c.ins.to_string(),
            c.words.to_string(),
        ])
    };
    let mut rows: Vec<Row> = r.stock.iter().map(|st| line("stock", st)).collect();
    rows.push(line("base", &r.base));
    match (&r.submodel, &d.submodel) {
        (Some(s), Some(id)) => rows.push(line(id, s)),
        _ => rows.push(Row::new(vec!["no submodel: train first".to_string()])),
    }
    f.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(18),
                Constraint::Length(7),
                Constraint::Length(7),
                Constraint::Length(5),
                Constraint::Length(5),
                Constraint::Length(5),
                Constraint::Length(6),
            ],
        )
        .header(Row::new(["system", "WER", "CER", "sub", "del", "ins", "words"]).style(title())),
        head,
    );
    f.render_widget(verdict(d), interval);
    let [list, detail] =
        Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(body);
    let utt_rows = r.utterances.iter().map(|u| {
        let change = match u.submodel_wer {
            Some(s) if s < u.base_wer => Span::styled("better", good()),
            Some(s) if s > u.base_wer => Span::styled("worse", bad()),
            _ => Span::raw(""),
        };
        Row::new(vec![
            Line::raw(u.id.clone()),
            Line::raw(wer(Some(u.base_wer))),
            Line::raw(wer(u.submodel_wer)),
            Line::from(change),
            Line::raw(u.reference.clone()),
        ])
    });
    let mut state = TableState::default().with_selected(Some(app.compare.row));
    f.render_stateful_widget(
        Table::new(
            utt_rows,
            [
                Constraint::Length(6),
                Constraint::Length(5),
                Constraint::Length(5),
                Constraint::Length(6),
                Constraint::Min(10),
            ],
        )
        .header(Row::new(["utt", "base", "sub", "", "reference"]).style(title()))
        .row_highlight_style(selected()),
        list,
        &mut state,
    );
    if let Some(u) = r.utterances.get(app.compare.row) {
        let w = detail.width as usize;
        let mut lines = vec![Line::styled("base", title())];
        lines.extend(aligned(&u.base_alignment, w));
        if let Some(a) = &u.submodel_alignment {
            lines.push(Line::styled("submodel", title()));
            lines.extend(aligned(a, w));
            lines.push(Line::from(vec![
                Span::styled("fixed: ", good()),
                Span::raw(u.fixed.join(" ")),
                Span::styled("   broken: ", bad()),
                Span::raw(u.broken.join(" ")),
            ]));
        }
        f.render_widget(Paragraph::new(lines), detail);
    }
}

/// The paired-bootstrap interval of base − submodel WER and what it says, under the table.
fn verdict(d: &CompareData) -> Line<'static> {
    let r = &d.report;
    match (r.ci95, r.verdict) {
        (Some([lo, hi]), Some(v)) => {
            let style = match v {
                Verdict::Better => good(),
                Verdict::Worse => bad(),
                Verdict::NoClearDifference => Style::new(),
            };
            Line::from(vec![
                Span::styled("base − submodel WER, 95 % interval ", dim()),
                Span::raw(format!("[{lo:.2}, {hi:.2}]: ")),
                Span::styled(v.to_string(), style.add_modifier(Modifier::BOLD)),
            ])
        }
        _ if r.submodel.is_some() => Line::styled("too few utterances for an interval", dim()),
        _ => Line::raw(""),
    }
}

/// Style of an error column by its sclite code.
fn code_style(code: char) -> Style {
    match code {
        'S' => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        'D' => Style::new()
            .fg(Color::Red)
            .add_modifier(Modifier::BOLD | Modifier::CROSSED_OUT),
        'I' => Style::new()
            .fg(Color::Magenta)
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
        _ => Style::new(),
    }
}

/// REF / HYP lines with each word styled by the EVAL code under it, wrapped at column
/// boundaries to `width` (the EVAL line itself is folded into the styling).
pub fn aligned(a: &[String; 3], width: usize) -> Vec<Line<'static>> {
    let chars: Vec<Vec<char>> = a.iter().map(|l| l.chars().collect()).collect();
    let len = chars[0].len().max(chars[1].len());
    let at = |l: usize, i: usize| chars[l].get(i).copied().unwrap_or(' ');
    // Column starts: positions after a space in both REF and HYP (or 0).
    let starts: Vec<usize> = (0..len)
        .filter(|&i| i == 0 || (at(0, i - 1) == ' ' && at(1, i - 1) == ' '))
        .collect();
    let mut out = Vec::new();
    let mut chunk_start = 0;
    let avail = width.saturating_sub(5).max(8);
    let flush = |from: usize, to: usize, out: &mut Vec<Line<'static>>| {
        for (l, label) in [(0, "REF: "), (1, "HYP: ")] {
            let mut spans = vec![Span::styled(label, dim())];
            for (k, &s) in starts
                .iter()
                .enumerate()
                .filter(|(_, s)| **s >= from && **s < to)
            {
                let end = starts.get(k + 1).copied().unwrap_or(len).min(to);
                let text: String = (s..end).map(|i| at(l, i)).collect();
                spans.push(Span::styled(text, code_style(at(2, s))));
            }
            out.push(Line::from(spans));
        }
    };
    for (k, &s) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(len);
        if end - chunk_start > avail && s > chunk_start {
            flush(chunk_start, s, &mut out);
            chunk_start = s;
        }
    }
    flush(chunk_start, len, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_styled_by_their_code_and_long_lines_wrap_at_columns() {
        let a = [
            "the CAT sat".to_string(),
            "the BAT sat".to_string(),
            "    S".to_string(),
        ];
        let lines = aligned(&a, 80);
        assert_eq!(lines.len(), 2);
        let cat = &lines[0].spans[2];
        assert_eq!(cat.content, "CAT ");
        assert_eq!(cat.style, code_style('S'));
        let long = "the cat sat on the mat and the dog sat".to_string();
        let wrapped = aligned(&[long.clone(), long, String::new()], 20);
        assert!(
            wrapped.len() >= 6 && wrapped.len().is_multiple_of(2),
            "{wrapped:?}"
        );
        assert!(wrapped.iter().all(|l| l.width() <= 20), "{wrapped:?}");
    }
}
