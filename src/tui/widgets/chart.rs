//! The Train screen's live charts: training loss by step, and each speaker's dev WER by
//! step (one marker series per speaker).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::Line;
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Widget};

use super::{ACCENT, title};

/// Colours for successive speakers' WER series.
const SERIES: [Color; 4] = [Color::Magenta, Color::Green, Color::Blue, Color::Red];

/// A line chart of named series over steps `0..=max_x`.
pub struct StepChart<'a> {
    pub title: &'a str,
    pub series: Vec<(&'a str, &'a [(f64, f64)])>,
    pub max_x: f64,
    /// Fixed y range, or `None` to fit the data.
    pub y: Option<[f64; 2]>,
}

impl Widget for StepChart<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let points = self.series.iter().flat_map(|(_, p)| p.iter());
        let (lo, hi) = points.fold((f64::MAX, f64::MIN), |(lo, hi), (_, y)| {
            (lo.min(*y), hi.max(*y))
        });
        let [y0, y1] = self.y.unwrap_or(if lo > hi {
            [0.0, 1.0]
        } else {
            [lo.min(0.0), hi.max(lo + 1e-6) * 1.05]
        });
        let datasets = self
            .series
            .iter()
            .enumerate()
            .map(|(i, (name, data))| {
                let colour = if self.series.len() == 1 {
                    ACCENT
                } else {
                    SERIES[i % SERIES.len()]
                };
                Dataset::default()
                    .name(*name)
                    .marker(Marker::Braille)
                    .graph_type(GraphType::Line)
                    .style(Style::new().fg(colour))
                    .data(data)
            })
            .collect();
        let label = |v: f64| Line::from(format!("{v:.2}"));
        Chart::new(datasets)
            .block(Block::bordered().title(Line::styled(self.title, title())))
            .x_axis(
                Axis::default()
                    .bounds([0.0, self.max_x.max(1.0)])
                    .labels([Line::from("0"), Line::from(format!("{}", self.max_x))]),
            )
            .y_axis(
                Axis::default()
                    .bounds([y0, y1])
                    .labels([label(y0), label(y1)]),
            )
            .hidden_legend_constraints((
                ratatui::layout::Constraint::Percentage(60),
                ratatui::layout::Constraint::Percentage(60),
            ))
            .render(area, buf);
    }
}
