//! The Compare screen: base vs the speaker's newest submodel on a test set (its test part, all of
//! it, or any folder / manifest) — corpus WER / CER with substitutions, deletions and insertions
//! for the stock base (30 s window), the base and the submodel, the paired-bootstrap interval and
//! verdict, per-utterance rows with the errors highlighted, the words the submodel fixed and
//! broke, and WER by submodel version.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState};

use crate::eval::CorpusScore;
use crate::eval::bootstrap::Verdict;
use crate::tui::app::App;
use crate::tui::msg::{CompareData, SpeakerRow};
use crate::tui::widgets::text::{flow, wrap};
use crate::tui::widgets::{bad, dim, good, selected, title, wer};

/// Held-out WER against the number of enrollment utterances, when the speaker's submodels were
/// trained on at least two different amounts (the newest submodel per amount); otherwise the
/// test WER of each version.
fn learning_curve(s: &SpeakerRow) -> (&'static str, Vec<String>) {
    let mut by_n: std::collections::BTreeMap<usize, f64> = std::collections::BTreeMap::new();
    for m in s
        .submodels
        .iter()
        .filter_map(|(_, m)| m.as_ref())
        .filter(|m| m.train_utterances > 0)
    {
        by_n.insert(m.train_utterances, m.wer);
    }
    if by_n.len() >= 2 {
        let base = s
            .submodels
            .iter()
            .rev()
            .find_map(|(_, m)| m.as_ref())
            .map(|m| m.base_wer);
        let mut points: Vec<String> = base.map(|b| format!("0 utt {b:.2}")).into_iter().collect();
        points.extend(by_n.iter().map(|(n, w)| format!("{n} utt {w:.2}")));
        return ("test WER vs enrollment utterances: ", points);
    }
    let points = s
        .submodels
        .iter()
        .filter_map(|(id, m)| m.as_ref().map(|m| format!("{id} {:.2}", m.wer)))
        .collect();
    ("test WER by version: ", points)
}

pub fn render(app: &App, f: &mut Frame, area: Rect) {
    let block = Block::bordered().title(Line::styled(" Compare ", title()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let speaker = app.speaker();
    let (curve_label, versions) = speaker.map_or(("test WER by version: ", vec![]), learning_curve);
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
    top_lines.extend(wrap(
        &Line::from(vec![
            Span::styled(curve_label, dim()),
            Span::raw(if versions.is_empty() {
                "no submodel yet".into()
            } else {
                versions.join(" · ")
            }),
        ]),
        w,
    ));
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
