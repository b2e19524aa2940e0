//! English text normalisation applied to reference and hypothesis before scoring, in the
//! spirit of Whisper's `EnglishTextNormalizer`.
//!
//! With [`Normalizer::english`] (the default) text goes through these steps, in order:
//!
//! 1. **Case** — lower-cased.
//! 2. **Annotations** — spans in `[...]`, `<...>` and `(...)` are removed (`[music]`,
//!    `<unk>`, `(laughs)`).
//! 3. **Punctuation** — apostrophes (`'`, `’`) are kept only inside a word (`don't`,
//!    `it's`; but `'cause` → `cause`, `students'` → `students`); hyphens and every other
//!    symbol become spaces (`well-known` → `well known`), `&` becomes `and`. Inside
//!    numbers `,` between digits is a group separator and dropped (`1,000` → `1000`) and
//!    `.` between digits is kept as a decimal point (`3.5`). `$`, `£`, `€` before a digit
//!    and `%`, `¢` after one are kept for step 6. Common Latin accents are folded
//!    (`café` → `cafe`).
//! 4. **Words** — the fillers `hmm mhm mm mmm uh um` are dropped; the titles
//!    `mr mrs dr prof jr sr` are spelled out (`mister`, `missus`, …); about 65 common
//!    British spellings become American (`colour` → `color`, `favourite` → `favorite`,
//!    `centre` → `center`, `realise` → `realize`, `grey` → `gray`, …).
//! 5. **Contractions** are left as they are (`don't` ≠ `do not`).
//! 6. **Numbers** — spelled-out numbers are converted **to digits** (the form Whisper
//!    usually prints), so both spellings meet in one canonical form: `twenty five` and
//!    `25` → `25`; `1,000`, `one thousand`, `a thousand` → `1000`; `three point five` →
//!    `3.5`; `5 million` → `5000000`; `first`, `1st` → `1st`; `nineteen ninety nine` →
//!    `1999`; `$5`, `five dollars` → `5 dollars`; `50%`, `fifty percent` → `50 percent`.
//!    Full rules in the `numbers` module.
//! 7. **Whitespace** — collapsed to single spaces, trimmed.
//!
//! With [`Normalizer::none`] the text is compared raw: only trimmed and
//! whitespace-collapsed, case and punctuation preserved.

use serde::{Deserialize, Serialize};

use super::{numbers, spelling};

/// Text normaliser used before computing WER/CER.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Normalizer {
    /// `true`: full English normalisation (module docs); `false`: whitespace only.
    pub enabled: bool,
}

impl Default for Normalizer {
    fn default() -> Self {
        Self::english()
    }
}

impl Normalizer {
    /// Full English normalisation.
    pub const fn english() -> Self {
        Self { enabled: true }
    }

    /// Raw comparison: trim and collapse whitespace only.
    pub const fn none() -> Self {
        Self { enabled: false }
    }

    /// Normalises `text`; the result has single spaces between tokens and none at the ends.
    pub fn apply(&self, text: &str) -> String {
        if !self.enabled {
            return text.split_whitespace().collect::<Vec<_>>().join(" ");
        }
        let lowered = text.to_lowercase();
        let cleaned = strip_punctuation(&remove_annotations(&lowered));
        let tokens: Vec<String> = cleaned
            .split_whitespace()
            .filter(|t| !spelling::is_filler(t))
            .map(|t| {
                spelling::americanize(t)
                    .or_else(|| spelling::expand_title(t))
                    .unwrap_or(t)
                    .to_owned()
            })
            .collect();
        numbers::standardize(&tokens).join(" ")
    }
}

/// Removes `[...]`, `<...>` and `(...)` spans (non-greedy); an unmatched opener is
/// replaced by a space.
fn remove_annotations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(['[', '(', '<']) {
        out.push_str(&rest[..pos]);
        out.push(' ');
        let close = match rest.as_bytes()[pos] {
            b'[' => ']',
            b'(' => ')',
            _ => '>',
        };
        let after = &rest[pos + 1..];
        rest = match after.find(close) {
            Some(end) => &after[end + 1..],
            None => after,
        };
    }
    out.push_str(rest);
    out
}

fn is_digit(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_ascii_digit())
}

/// Maps punctuation to spaces while keeping word-internal apostrophes, decimal points,
/// currency/percent signs next to digits; drops digit-group commas; folds accents.
fn strip_punctuation(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (k, &c) in chars.iter().enumerate() {
        let prev = k.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(k + 1).copied();
        match c {
            c if c.is_alphanumeric() => push_folded(&mut out, c),
            '\'' | '\u{2019}' | '\u{2018}' | '\u{02bc}'
                if prev.is_some_and(char::is_alphanumeric)
                    && next.is_some_and(char::is_alphabetic) =>
            {
                out.push('\'');
            }
            '.' if is_digit(prev) && is_digit(next) => out.push('.'),
            ',' if is_digit(prev) && is_digit(next) => {}
            '$' | '£' | '€' if is_digit(next) => {
                out.push(' ');
                out.push(c);
                out.push(' ');
            }
            '%' if is_digit(prev) => out.push_str(" percent "),
            '¢' if is_digit(prev) => out.push_str(" cents "),
            '&' => out.push_str(" and "),
            _ => out.push(' '),
        }
    }
    out
}

/// Pushes `c` with common Latin diacritics removed.
fn push_folded(out: &mut String, c: char) {
    let folded = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => "a",
        'ç' | 'ć' | 'č' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'ē' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'ī' => "i",
        'ñ' | 'ń' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' => "u",
        'ý' | 'ÿ' => "y",
        'š' => "s",
        'ž' => "z",
        'æ' => "ae",
        'œ' => "oe",
        'ß' => "ss",
        _ => {
            out.push(c);
            return;
        }
    };
    out.push_str(folded);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn en(s: &str) -> String {
        Normalizer::english().apply(s)
    }

    #[test]
    fn case_punctuation_whitespace() {
        assert_eq!(en("Hello, World!"), "hello world");
        assert_eq!(
            en("  Hello,\tworld...  how ARE you?? "),
            "hello world how are you"
        );
        assert_eq!(en(""), "");
        assert_eq!(en(" ?! "), "");
    }

    #[test]
    fn apostrophes_and_hyphens() {
        assert_eq!(en("Don't stop, it's fine"), "don't stop it's fine");
        assert_eq!(en("Don\u{2019}t"), "don't");
        assert_eq!(en("'cause the students' books"), "cause the students books");
        assert_eq!(en("a well-known e-mail"), "a well known e mail");
        assert_eq!(en("rock 'n' roll"), "rock n roll");
        assert_eq!(en("He said 'yes'"), "he said yes");
    }

    #[test]
    fn contractions_are_left_alone() {
        assert_eq!(en("I can't, won't, shouldn't"), "i can't won't shouldn't");
        assert_ne!(en("do not"), en("don't"));
    }

    #[test]
    fn annotations_and_fillers() {
        assert_eq!(en("[Music] so, um, yeah (laughs) <unk> ok"), "so yeah ok");
        assert_eq!(en("unclosed (paren here"), "unclosed paren here");
        assert_eq!(en("Uh, hmm. Right."), "right");
    }

    #[test]
    fn titles_accents_ampersand() {
        assert_eq!(
            en("Mr. Smith and Dr. Jones"),
            "mister smith and doctor jones"
        );
        assert_eq!(en("Café Über naïve"), "cafe uber naive");
        assert_eq!(en("rock & roll"), "rock and roll");
    }

    #[test]
    fn british_spelling() {
        assert_eq!(
            en("My favourite colour is grey; I realised at the theatre centre."),
            "my favorite color is gray i realized at the theater center"
        );
        assert_eq!(en("Colour"), en("color"));
    }

    #[test]
    fn numbers_digits_and_words_meet() {
        assert_eq!(en("I have 25 apples"), "i have 25 apples");
        assert_eq!(en("i have twenty five apples"), "i have 25 apples");
        assert_eq!(en("twenty-five"), "25");
        assert_eq!(en("1,000 people"), en("one thousand people"));
        assert_eq!(en("1,000 people"), "1000 people");
        assert_eq!(en("A thousand people."), "1000 people");
        assert_eq!(en("It costs $5."), "it costs 5 dollars");
        assert_eq!(en("it costs five dollars"), "it costs 5 dollars");
        assert_eq!(en("$1,250,000"), "1250000 dollars");
        assert_eq!(en("3.5"), en("three point five"));
        assert_eq!(en("Pi is 3.14."), "pi is 3.14");
        assert_eq!(en("the 1st place"), en("the first place"));
        assert_eq!(en("the twenty-first century"), "the 21st century");
        assert_eq!(en("50%"), en("fifty percent"));
        assert_eq!(en("50% off"), "50 percent off");
        assert_eq!(en("In 1999."), en("in nineteen ninety nine"));
        assert_eq!(en("2.5 million"), en("two point five million"));
        assert_eq!(en("99¢"), "99 cents");
        assert_eq!(en("at 12:30"), en("at twelve thirty"));
    }

    #[test]
    fn disabled_only_collapses_whitespace() {
        let raw = Normalizer::none();
        assert_eq!(raw.apply("  Hello,   World!\n"), "Hello, World!");
        assert_eq!(raw.apply("colour 25 [music]"), "colour 25 [music]");
        assert_eq!(raw.apply(" \t "), "");
        assert_ne!(raw.apply("Hello, World!"), raw.apply("hello world"));
    }

    #[test]
    fn default_and_serde() {
        assert_eq!(Normalizer::default(), Normalizer::english());
        let json = serde_json::to_string(&Normalizer::none()).unwrap();
        assert_eq!(json, r#"{"enabled":false}"#);
        let back: Normalizer = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Normalizer::none());
    }

    #[test]
    fn idempotent() {
        for s in [
            "Hello, World! I have $5 and 25% of 1,000 colours.",
            "twenty first of March, nineteen ninety nine",
            "Mr. O'Neil's e-mail [noise] um",
        ] {
            let once = en(s);
            assert_eq!(en(&once), once, "{s}");
        }
    }
}
