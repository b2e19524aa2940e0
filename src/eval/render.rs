//! Renders a word alignment as sclite-style REF/HYP/EVAL text lines.

use super::align::AlignedPair;

/// Renders an alignment as three column-aligned lines `(REF, HYP, EVAL)` in the style of
/// sclite: erroneous words are upper-cased, a missing side is shown as `*`s as wide as
/// the column, and EVAL carries `S`/`D`/`I` under each error (blank for a match).
/// Columns are separated by one space; trailing spaces are trimmed; no labels are added.
pub fn render_alignment(alignment: &[AlignedPair]) -> (String, String, String) {
    let mut lines = [String::new(), String::new(), String::new()];
    for (n, p) in alignment.iter().enumerate() {
        let show = |w: &Option<String>| {
            w.as_deref().map(|w| {
                if p.op.is_error() {
                    w.to_uppercase()
                } else {
                    w.to_owned()
                }
            })
        };
        let (r, h) = (show(&p.reference), show(&p.hypothesis));
        let len = |s: &Option<String>| s.as_deref().map_or(0, |s| s.chars().count());
        let width = len(&r).max(len(&h)).max(1);
        let stars = "*".repeat(width);
        let cells = [
            r.unwrap_or_else(|| stars.clone()),
            h.unwrap_or_else(|| stars.clone()),
            p.op.code().to_owned(),
        ];
        for (line, cell) in lines.iter_mut().zip(cells) {
            if n > 0 {
                line.push(' ');
            }
            line.push_str(&cell);
            let pad = width - cell.chars().count();
            line.extend(std::iter::repeat_n(' ', pad));
        }
    }
    let [r, h, e] = lines.map(|l| l.trim_end().to_owned());
    (r, h, e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{Normalizer, score};

    const EN: Normalizer = Normalizer::english();

    #[test]
    fn render_sclite_style() {
        let s = score("the cat sat down", "the bat sat", &EN);
        let (r, h, e) = render_alignment(&s.alignment);
        assert_eq!(r, "the CAT sat DOWN");
        assert_eq!(h, "the BAT sat ****");
        assert_eq!(e, "    S       D");

        let s = score("a", "a bee", &EN);
        let (r, h, e) = render_alignment(&s.alignment);
        assert_eq!(r, "a ***");
        assert_eq!(h, "a BEE");
        assert_eq!(e, "  I");

        assert_eq!(
            render_alignment(&[]),
            (String::new(), String::new(), String::new())
        );
    }
}
