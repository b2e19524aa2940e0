//! Fitting text to a width without cutting a word: styled word wrap, a flow of atomic items
//! (settings, key hints) that move to the next line whole, and a word-boundary ellipsis for
//! text that must stay within a number of lines.

use ratatui::text::{Line, Span};
/// Display width of a string.
pub fn width(s: &str) -> usize {
    Span::raw(s).width()
}

/// Splits `s` into words and the spaces between them.
fn tokens(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut space = None;
    for (i, ch) in s.char_indices() {
        let is_space = ch == ' ';
        if space.is_some_and(|sp| sp != is_space) {
            out.push(&s[start..i]);
            start = i;
        }
        space = Some(is_space);
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// Wraps a styled line at word boundaries to `width` columns; spaces at a break are dropped. A
/// word wider than a whole line is split (a long path cannot be kept whole).
pub fn wrap(line: &Line<'_>, width: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let mut out: Vec<Line<'static>> = Vec::new();
    let mut cur: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    let mut pending_space: Option<Span<'static>> = None;
    for span in &line.spans {
        for tok in tokens(&span.content) {
            if tok.starts_with(' ') {
                pending_space = Some(Span::styled(tok.to_string(), span.style));
                continue;
            }
            let space = pending_space.take();
            let sw = space.as_ref().map_or(0, |s| self::width(&s.content));
            let tw = self::width(tok);
            if used > 0 && used + sw + tw > width {
                out.push(Line::from(std::mem::take(&mut cur)));
                used = 0;
            } else if let Some(s) = space {
                used += sw;
                cur.push(s);
            }
            let mut rest = tok;
            while used + self::width(rest) > width {
                let mut take = 0;
                for (i, ch) in rest.char_indices() {
                    if used + self::width(&rest[..i + ch.len_utf8()]) > width {
                        break;
                    }
                    take = i + ch.len_utf8();
                }
                if take == 0 && used == 0 {
                    take = rest.chars().next().map_or(rest.len(), char::len_utf8);
                }
                if take > 0 {
                    cur.push(Span::styled(rest[..take].to_string(), span.style));
                }
                out.push(Line::from(std::mem::take(&mut cur)));
                used = 0;
                rest = &rest[take..];
            }
            if !rest.is_empty() {
                used += self::width(rest);
                cur.push(Span::styled(rest.to_string(), span.style));
            }
        }
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(Line::from(cur));
    }
    out
}

/// Wraps several lines; the result's length is the height they need.
pub fn wrap_all(lines: &[Line<'_>], width: usize) -> Vec<Line<'static>> {
    lines.iter().flat_map(|l| wrap(l, width)).collect()
}

/// Lays out items left to right with `sep` between them; an item that does not fit on the line
/// starts the next one whole (and only an item wider than a line is wrapped inside).
pub fn flow(items: Vec<Vec<Span<'static>>>, sep: &str, width: usize) -> Vec<Line<'static>> {
    let mut out: Vec<Line<'static>> = Vec::new();
    let mut cur: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for item in items {
        let w: usize = item.iter().map(|s| self::width(&s.content)).sum();
        if used > 0 && used + self::width(sep) + w <= width {
            cur.push(Span::raw(sep.to_string()));
            used += self::width(sep);
        } else if used > 0 {
            out.push(Line::from(std::mem::take(&mut cur)));
            used = 0;
        }
        if w > width {
            let mut lines = wrap(&Line::from(item), width);
            let last = lines.pop().unwrap_or_default();
            out.extend(lines);
            used = last.width();
            cur = last.spans;
        } else {
            used += w;
            cur.extend(item);
        }
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(Line::from(cur));
    }
    out
}

/// Keeps at most `max` lines; if some are left out, the last kept line ends at a word boundary
/// with `more` (e.g. `… m: all`) appended within `width`.
pub fn ellipsize(
    mut lines: Vec<Line<'static>>,
    max: usize,
    width: usize,
    more: &str,
) -> Vec<Line<'static>> {
    if lines.len() <= max || max == 0 {
        return lines;
    }
    lines.truncate(max);
    let last = lines.pop().unwrap_or_default();
    let style = last.style;
    let mut spans: Vec<Span<'static>> = Vec::new();
    for span in last.spans {
        for tok in tokens(&span.content) {
            spans.push(Span::styled(tok.to_string(), span.style));
        }
    }
    let fits = |spans: &[Span<'static>]| {
        spans.iter().map(|s| width_of(s)).sum::<usize>() + self::width(more) <= width
    };
    while !spans.is_empty()
        && (!fits(&spans) || spans.last().is_some_and(|s| s.content.starts_with(' ')))
    {
        spans.pop();
    }
    spans.push(Span::raw(more.to_string()));
    lines.push(Line::from(spans).style(style));
    lines
}

fn width_of(s: &Span<'_>) -> usize {
    width(&s.content)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Line<'_>]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn wrap_breaks_between_words_and_keeps_styles() {
        let line = Line::from(vec![
            Span::styled("error: ", ratatui::style::Style::new().bold()),
            Span::raw("added 5 sample speaker(s) with 492 utterances; 3 trains, 4 compares"),
        ]);
        let lines = wrap(&line, 30);
        assert_eq!(
            text(&lines),
            [
                "error: added 5 sample",
                "speaker(s) with 492",
                "utterances; 3 trains, 4",
                "compares"
            ]
        );
        assert!(
            lines[0].spans[0]
                .style
                .add_modifier
                .contains(ratatui::style::Modifier::BOLD)
        );
        assert!(lines.iter().all(|l| l.width() <= 30));
        // A word wider than the line is split rather than lost.
        assert_eq!(
            text(&wrap(&Line::raw("/a/very/long/path"), 8)),
            ["/a/very/", "long/pat", "h"]
        );
    }

    #[test]
    fn flow_moves_whole_items() {
        let item = |s: &str| vec![Span::raw(s.to_string())];
        let lines = flow(
            vec![item("steps 40 (+/-)"), item("kind residual (a)")],
            "   ",
            30,
        );
        assert_eq!(text(&lines), ["steps 40 (+/-)", "kind residual (a)"]);
        let lines = flow(vec![item("a b"), item("c")], " · ", 30);
        assert_eq!(text(&lines), ["a b · c"]);
    }

    #[test]
    fn ellipsis_falls_on_a_word_boundary() {
        let lines = wrap(&Line::raw("one two three four five six seven"), 10);
        let cut = ellipsize(lines, 2, 10, " …");
        assert_eq!(text(&cut), ["one two", "three …"]);
    }
}
