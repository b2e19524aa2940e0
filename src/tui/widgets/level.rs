//! The live input level meter: a bar for the peak level (−60 … 0 dBFS) with the figure, and the
//! flags a clinician acts on: too quiet, clipping, speech heard.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::{bad, dim, good};
use crate::audio::endpoint::TOO_QUIET_PEAK_DBFS;

/// Peak at or above this counts as clipping on the meter.
const CLIP_DBFS: f32 = -0.1;

/// One line: `[██████······] -12.0 dBFS  speech`.
pub struct LevelMeter {
    /// Peak and rms dBFS and whether speech is heard; `None` when not recording.
    pub level: Option<(f32, f32, bool)>,
}

impl Widget for LevelMeter {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let Some((peak, _rms, speaking)) = self.level else {
            Line::styled("level  (not recording)", dim()).render(area, buf);
            return;
        };
        let bar_w = area.width.saturating_sub(34).max(10) as usize;
        let filled = (((peak + 60.0) / 60.0).clamp(0.0, 1.0) * bar_w as f32).round() as usize;
        let colour = if peak >= CLIP_DBFS {
            Color::Red
        } else if peak < TOO_QUIET_PEAK_DBFS {
            Color::Reset
        } else {
            Color::Green
        };
        let flag = if peak >= CLIP_DBFS {
            Span::styled(" CLIPPING", bad())
        } else if peak < TOO_QUIET_PEAK_DBFS {
            Span::styled(" too quiet", bad())
        } else if speaking {
            Span::styled(" speech", good())
        } else {
            Span::raw(" waiting")
        };
        Line::from(vec![
            Span::raw("level ["),
            Span::styled("█".repeat(filled), Style::new().fg(colour)),
            Span::styled("·".repeat(bar_w - filled), dim()),
            Span::raw(format!("] {peak:>6.1} dBFS")),
            flag,
        ])
        .render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(level: Option<(f32, f32, bool)>) -> String {
        let area = Rect::new(0, 0, 50, 1);
        let mut buf = Buffer::empty(area);
        LevelMeter { level }.render(area, &mut buf);
        (0..50).map(|x| buf[(x, 0)].symbol()).collect()
    }

    #[test]
    fn flags_quiet_clipping_and_speech() {
        assert!(line(Some((-45.0, -50.0, false))).contains("too quiet"));
        assert!(line(Some((0.0, -3.0, true))).contains("CLIPPING"));
        let s = line(Some((-12.0, -20.0, true)));
        assert!(s.contains("speech") && s.contains("-12.0 dBFS"), "{s}");
        assert!(line(None).contains("not recording"));
    }
}
