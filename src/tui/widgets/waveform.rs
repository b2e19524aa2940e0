//! The waveform of the last take: a mirrored peak envelope drawn with block characters, one
//! column per slice of the take.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;

use super::ACCENT;

/// Draws `envelope` (peaks 0–1) across the area, centred vertically.
pub struct Waveform<'a> {
    pub envelope: &'a [f32],
}

impl Widget for Waveform<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if self.envelope.is_empty() || area.is_empty() {
            return;
        }
        let w = area.width as usize;
        let half = f32::from(area.height) / 2.0;
        for x in 0..w {
            // The loudest bin that falls into this column.
            let lo = x * self.envelope.len() / w;
            let hi = ((x + 1) * self.envelope.len() / w).max(lo + 1);
            let peak = self.envelope[lo..hi.min(self.envelope.len())]
                .iter()
                .fold(0.0f32, |m, v| m.max(*v));
            let reach = (peak.clamp(0.0, 1.0) * half).max(0.5);
            for y in 0..area.height {
                let dist = (f32::from(y) + 0.5 - half).abs();
                if dist <= reach {
                    buf[(area.x + x as u16, area.y + y)]
                        .set_symbol("█")
                        .set_fg(ACCENT);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loud_parts_are_taller_than_quiet_parts() {
        let area = Rect::new(0, 0, 4, 6);
        let mut buf = Buffer::empty(area);
        Waveform {
            envelope: &[0.0, 1.0, 0.5, 0.0],
        }
        .render(area, &mut buf);
        let height = |x| (0..6).filter(|&y| buf[(x, y)].symbol() == "█").count();
        assert!(height(1) > height(2) && height(2) > height(0), "{buf:?}");
        assert_eq!(height(1), 6);
    }
}
