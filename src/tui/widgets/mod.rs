//! Small widgets the screens share: the live level meter, the waveform of a take, the training
//! charts, text fitting (`text`), and the styles. Each renders into a `Buffer` area and is
//! tested that way.

pub mod chart;
pub mod level;
pub mod text;
pub mod waveform;

use ratatui::style::{Color, Modifier, Style};

/// The accent for titles and the active tab (readable on dark and light backgrounds).
pub const ACCENT: Color = Color::Cyan;

pub fn title() -> Style {
    Style::new().fg(ACCENT).add_modifier(Modifier::BOLD)
}
pub fn selected() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}
pub fn bad() -> Style {
    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
}
pub fn good() -> Style {
    Style::new().fg(Color::Green).add_modifier(Modifier::BOLD)
}
pub fn dim() -> Style {
    Style::new().add_modifier(Modifier::DIM)
}

/// `0.412` as `0.41`, or `–`.
pub fn wer(w: Option<f64>) -> String {
    w.map_or("–".into(), |w| format!("{w:.2}"))
}
