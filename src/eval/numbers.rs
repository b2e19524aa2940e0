//! Rewrites English number expressions, spelled out or in digits, into one canonical
//! digit form so that "twenty five" and "25" compare equal (used by the normaliser).
//!
//! Input is the normaliser's token list (lower-case, punctuation already handled: digit
//! groups like `1,000` arrive as `1000`, `$`/`£`/`€` arrive as their own token right
//! before a number, `%` arrives as the word `percent`). Canonical output:
//!
//! * cardinals become digits: `twenty five` → `25`, `one hundred and five` → `105`,
//!   `a thousand` → `1000`, `two million three hundred thousand` → `2300000`;
//! * a number followed by scale words it cannot absorb is multiplied out:
//!   `5 million` → `5000000`, `2.5 billion` → `2500000000`, `twenty thousand million`
//!   → `20000000000` (so normalising twice gives the same result);
//! * decimals: `three point one four` → `3.14` (digits stay as written: `3.50`);
//! * years spoken in pairs: `nineteen ninety nine` → `1999`, `twenty twenty four` →
//!   `2024` (only for a first word thirteen…twenty, so clock times such as
//!   `twelve thirty` stay `12 30`, like `12:30`);
//! * ordinals: `first`/`1st` → `1st`, `twenty first` → `21st`, `hundredth` → `100th`
//!   (`second` directly after a number is the time unit and stays a word);
//! * currency and percent: `$5`, `5 dollars`, `five dollars` → `5 dollars`
//!   (likewise `£`→`pounds`, `€`→`euros`, `dollar`/`pound`/`euro`/`cent` after a number
//!   are pluralised); `5%`, `five percent`, `five per cent` → `5 percent`.
//!
//! Sequences of single digits are not joined (`one two three` → `1 2 3`), so the word
//! count of digit-by-digit speech is preserved.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Word {
    Ones(u64),
    Teen(u64),
    Tens(u64),
    Hundred,
    /// Power of ten: 3 (thousand), 6, 9, 12.
    Scale(u32),
}

/// Classifies a number word; the flag is true for ordinal forms ("fifth").
fn classify(w: &str) -> Option<(Word, bool)> {
    use Word::*;
    let (word, ordinal) = match w {
        "zero" => (Ones(0), false),
        "one" => (Ones(1), false),
        "two" => (Ones(2), false),
        "three" => (Ones(3), false),
        "four" => (Ones(4), false),
        "five" => (Ones(5), false),
        "six" => (Ones(6), false),
        "seven" => (Ones(7), false),
        "eight" => (Ones(8), false),
        "nine" => (Ones(9), false),
        "ten" => (Teen(10), false),
        "eleven" => (Teen(11), false),
        "twelve" => (Teen(12), false),
        "thirteen" => (Teen(13), false),
        "fourteen" => (Teen(14), false),
        "fifteen" => (Teen(15), false),
        "sixteen" => (Teen(16), false),
        "seventeen" => (Teen(17), false),
        "eighteen" => (Teen(18), false),
        "nineteen" => (Teen(19), false),
        "twenty" => (Tens(20), false),
        "thirty" => (Tens(30), false),
        "forty" => (Tens(40), false),
        "fifty" => (Tens(50), false),
        "sixty" => (Tens(60), false),
        "seventy" => (Tens(70), false),
        "eighty" => (Tens(80), false),
        "ninety" => (Tens(90), false),
        "hundred" => (Hundred, false),
        "thousand" => (Scale(3), false),
        "million" => (Scale(6), false),
        "billion" => (Scale(9), false),
        "trillion" => (Scale(12), false),
        "zeroth" => (Ones(0), true),
        "first" => (Ones(1), true),
        "second" => (Ones(2), true),
        "third" => (Ones(3), true),
        "fourth" => (Ones(4), true),
        "fifth" => (Ones(5), true),
        "sixth" => (Ones(6), true),
        "seventh" => (Ones(7), true),
        "eighth" => (Ones(8), true),
        "ninth" => (Ones(9), true),
        "tenth" => (Teen(10), true),
        "eleventh" => (Teen(11), true),
        "twelfth" => (Teen(12), true),
        "thirteenth" => (Teen(13), true),
        "fourteenth" => (Teen(14), true),
        "fifteenth" => (Teen(15), true),
        "sixteenth" => (Teen(16), true),
        "seventeenth" => (Teen(17), true),
        "eighteenth" => (Teen(18), true),
        "nineteenth" => (Teen(19), true),
        "twentieth" => (Tens(20), true),
        "thirtieth" => (Tens(30), true),
        "fortieth" => (Tens(40), true),
        "fiftieth" => (Tens(50), true),
        "sixtieth" => (Tens(60), true),
        "seventieth" => (Tens(70), true),
        "eightieth" => (Tens(80), true),
        "ninetieth" => (Tens(90), true),
        "hundredth" => (Hundred, true),
        "thousandth" => (Scale(3), true),
        "millionth" => (Scale(6), true),
        "billionth" => (Scale(9), true),
        "trillionth" => (Scale(12), true),
        _ => return None,
    };
    Some((word, ordinal))
}

fn cardinal_scale_exp(w: &str) -> Option<u32> {
    match classify(w)? {
        (Word::Hundred, false) => Some(2),
        (Word::Scale(e), false) => Some(e),
        _ => None,
    }
}

/// Accumulates the value of a run of number words.
#[derive(Default)]
struct Acc {
    total: u64,
    current: u64,
    last: Option<Word>,
    last_scale: Option<u32>,
    year_prefix: Option<u64>,
    words: usize,
}

impl Acc {
    /// Adds `w` if it continues the number; returns false (state unchanged) otherwise.
    fn accept(&mut self, w: Word) -> bool {
        use Word::*;
        let after_boundary = matches!(self.last, None | Some(Hundred | Scale(_)));
        let ok = match w {
            Ones(0) => self.words == 0,
            Ones(v) if after_boundary || matches!(self.last, Some(Tens(_))) => {
                self.current += v;
                true
            }
            Teen(v) | Tens(v) if after_boundary => {
                self.current += v;
                true
            }
            Teen(v) | Tens(v) if self.year_start_ok() => {
                self.year_prefix = Some(self.current);
                self.current = v;
                true
            }
            Hundred if self.year_prefix.is_none() && (1..=99).contains(&self.current) => {
                self.current *= 100;
                true
            }
            Scale(e)
                if self.year_prefix.is_none()
                    && self.current > 0
                    && self.last_scale.is_none_or(|l| e < l) =>
            {
                self.total += self.current * 10u64.pow(e);
                self.current = 0;
                self.last_scale = Some(e);
                true
            }
            _ => false,
        };
        if ok {
            self.last = Some(w);
            self.words += 1;
        }
        ok
    }

    /// "nineteen ninety", "twenty twenty": a single first word from 13 to 20.
    fn year_start_ok(&self) -> bool {
        self.words == 1 && self.year_prefix.is_none() && (13..=20).contains(&self.current)
    }

    fn can_take_and(&self) -> bool {
        self.year_prefix.is_none() && matches!(self.last, Some(Word::Hundred | Word::Scale(_)))
    }

    fn value(&self) -> u64 {
        match self.year_prefix {
            Some(p) => p * 100 + self.current,
            None => self.total + self.current,
        }
    }
}

fn ordinal_suffix(n: u64) -> &'static str {
    if (11..=13).contains(&(n % 100)) {
        return "th";
    }
    match n % 10 {
        1 => "st",
        2 => "nd",
        3 => "rd",
        _ => "th",
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `int.frac × 10^exp` written without exponent, e.g. ("2", "5", 6) → "2500000".
fn shift_decimal(int: &str, frac: &str, exp: u32) -> String {
    let mut digits = format!("{int}{frac}");
    let point = int.len() + exp as usize;
    while digits.len() < point {
        digits.push('0');
    }
    let (i, f) = digits.split_at(point);
    let i = i.trim_start_matches('0');
    let i = if i.is_empty() { "0" } else { i };
    let f = f.trim_end_matches('0');
    if f.is_empty() {
        i.to_owned()
    } else {
        format!("{i}.{f}")
    }
}

/// A number written in digits at `tokens[i]`: "25", "3.5", "21st", optionally followed
/// by a scale word ("5 million").
fn parse_digits(tokens: &[String], i: usize) -> Option<(String, usize)> {
    let t = tokens[i].as_str();
    for suffix in ["st", "nd", "rd", "th"] {
        if let Some(num) = t.strip_suffix(suffix)
            && all_digits(num)
        {
            let text = match num.parse::<u64>() {
                Ok(n) => format!("{n}{}", ordinal_suffix(n)),
                Err(_) => t.to_owned(),
            };
            return Some((text, i + 1));
        }
    }
    let (int, frac) = match t.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (t, None),
    };
    if !all_digits(int) || frac.is_some_and(|f| !all_digits(f)) {
        return None;
    }
    Some(with_scales(tokens, int, frac.unwrap_or(""), i + 1))
}

/// Writes `int.frac` multiplied by every cardinal scale word from `tokens[j]` on
/// ("5 million", "twenty thousand million"); returns the text and the next index.
fn with_scales(tokens: &[String], int: &str, frac: &str, mut j: usize) -> (String, usize) {
    let mut exp = 0;
    while let Some(e) = tokens.get(j).and_then(|w| cardinal_scale_exp(w)) {
        exp += e;
        j += 1;
    }
    let text = match (exp, frac) {
        (0, "") => int.to_owned(),
        (0, _) => format!("{int}.{frac}"),
        _ => shift_decimal(int, frac, exp),
    };
    (text, j)
}

/// A spelled-out number starting at `tokens[i]`.
fn parse_words(tokens: &[String], i: usize) -> Option<(String, usize)> {
    let mut acc = Acc::default();
    let mut j = i;
    if tokens[i] == "a"
        && tokens
            .get(i + 1)
            .is_some_and(|w| cardinal_scale_exp(w).is_some())
    {
        acc.accept(Word::Ones(1));
        j += 1;
    }
    let mut ordinal = false;
    while let Some(t) = tokens.get(j) {
        if t == "and" && acc.can_take_and() {
            let next = tokens.get(j + 1).and_then(|w| classify(w));
            if matches!(
                next,
                Some((Word::Ones(1..) | Word::Teen(_) | Word::Tens(_), _))
            ) {
                j += 1;
                continue;
            }
            break;
        }
        let Some((w, is_ordinal)) = classify(t) else {
            break;
        };
        if !acc.accept(w) {
            break;
        }
        j += 1;
        if is_ordinal {
            ordinal = true;
            break;
        }
    }
    if acc.words == 0 {
        return None;
    }
    let value = acc.value();
    if ordinal {
        return Some((format!("{value}{}", ordinal_suffix(value)), j));
    }
    let int = value.to_string();
    if acc.year_prefix.is_none() && tokens.get(j).is_some_and(|t| t == "point") {
        let mut k = j + 1;
        let mut frac = String::new();
        while let Some((Word::Ones(d), false)) = tokens.get(k).and_then(|w| classify(w)) {
            frac.push_str(&d.to_string());
            k += 1;
        }
        if !frac.is_empty() {
            return Some(with_scales(tokens, &int, &frac, k));
        }
    }
    Some(with_scales(tokens, &int, "", j))
}

fn parse_number(tokens: &[String], i: usize, after_number: bool) -> Option<(String, usize)> {
    if i >= tokens.len() {
        return None;
    }
    if after_number && tokens[i] == "second" {
        return None;
    }
    parse_digits(tokens, i).or_else(|| parse_words(tokens, i))
}

fn currency_unit(symbol: &str) -> Option<&'static str> {
    match symbol {
        "$" => Some("dollars"),
        "£" => Some("pounds"),
        "€" => Some("euros"),
        _ => None,
    }
}

fn unit_word(w: &str) -> Option<&'static str> {
    match w {
        "dollar" | "dollars" => Some("dollars"),
        "pound" | "pounds" => Some("pounds"),
        "euro" | "euros" => Some("euros"),
        "cent" | "cents" => Some("cents"),
        "percent" => Some("percent"),
        _ => None,
    }
}

fn is_number_text(s: &str) -> bool {
    s.bytes().last().is_some_and(|b| b.is_ascii_digit())
}

/// Rewrites every number expression in `tokens` into canonical digit form (see the
/// module docs).
pub(crate) fn standardize(tokens: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let after_number = out.last().is_some_and(|t| is_number_text(t));
        if let Some(unit) = currency_unit(&tokens[i]) {
            if let Some((text, next)) = parse_number(tokens, i + 1, false) {
                out.push(text);
                out.push(unit.to_owned());
                i = next;
                if tokens.get(i).and_then(|w| unit_word(w)) == Some(unit) {
                    i += 1; // "$5 dollars"
                }
            } else {
                i += 1; // stray symbol
            }
            continue;
        }
        if let Some((text, next)) = parse_number(tokens, i, after_number) {
            out.push(text);
            i = next;
            if let Some(unit) = tokens.get(i).and_then(|w| unit_word(w)) {
                out.push(unit.to_owned());
                i += 1;
            } else if tokens.get(i).is_some_and(|t| t == "per")
                && tokens.get(i + 1).is_some_and(|t| t == "cent")
            {
                out.push("percent".to_owned());
                i += 2;
            }
            continue;
        }
        out.push(tokens[i].clone());
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn std(s: &str) -> String {
        let tokens: Vec<String> = s.split_whitespace().map(str::to_owned).collect();
        standardize(&tokens).join(" ")
    }

    #[test]
    fn cardinals() {
        assert_eq!(std("zero"), "0");
        assert_eq!(std("twenty five apples"), "25 apples");
        assert_eq!(std("one hundred and five"), "105");
        assert_eq!(std("a hundred people"), "100 people");
        assert_eq!(std("a thousand"), "1000");
        assert_eq!(std("twelve hundred"), "1200");
        assert_eq!(std("two thousand three hundred forty one"), "2341");
        assert_eq!(
            std("two million three hundred thousand and seven"),
            "2300007"
        );
        assert_eq!(std("one billion"), "1000000000");
    }

    #[test]
    fn non_combining_words_stay_separate() {
        assert_eq!(std("one two three"), "1 2 3");
        assert_eq!(std("three thirty"), "3 30");
        assert_eq!(std("twelve thirty"), "12 30");
        assert_eq!(std("three and four"), "3 and 4");
        assert_eq!(std("hundreds of people"), "hundreds of people");
        assert_eq!(std("a cat"), "a cat");
        assert_eq!(std("hundred"), "hundred");
    }

    #[test]
    fn years() {
        assert_eq!(std("nineteen ninety nine"), "1999");
        assert_eq!(std("twenty twenty four"), "2024");
        assert_eq!(std("twenty ten"), "2010");
        assert_eq!(std("two thousand and five"), "2005");
    }

    #[test]
    fn digits_and_scales() {
        assert_eq!(std("25"), "25");
        assert_eq!(std("007"), "007");
        assert_eq!(std("5 million"), "5000000");
        assert_eq!(std("2.5 billion"), "2500000000");
        assert_eq!(std("1.2345 thousand"), "1234.5");
        assert_eq!(std("3 hundred"), "300");
        assert_eq!(std("1.2.3"), "1.2.3");
        assert_eq!(std("5 million million"), "5000000000000");
        assert_eq!(std("twenty thousand million"), "20000000000");
        assert_eq!(std("20000 million"), "20000000000");
        assert_eq!(std("two million point five"), "2000000.5");
    }

    #[test]
    fn decimals() {
        assert_eq!(std("three point five"), "3.5");
        assert_eq!(std("three point one four"), "3.14");
        assert_eq!(std("zero point five"), "0.5");
        assert_eq!(std("two point five million"), "2500000");
        assert_eq!(std("at this point one"), "at this point 1");
    }

    #[test]
    fn ordinals() {
        assert_eq!(std("first"), "1st");
        assert_eq!(std("1st"), "1st");
        assert_eq!(std("twenty first"), "21st");
        assert_eq!(std("twenty second"), "22nd");
        assert_eq!(std("eleventh"), "11th");
        assert_eq!(std("111th"), "111th");
        assert_eq!(std("112nd"), "112th");
        assert_eq!(std("one hundredth"), "100th");
        assert_eq!(std("the third time"), "the 3rd time");
        assert_eq!(std("one second"), "1 second");
        assert_eq!(std("the second time"), "the 2nd time");
    }

    #[test]
    fn currency_and_percent() {
        assert_eq!(std("$ 5"), "5 dollars");
        assert_eq!(std("five dollars"), "5 dollars");
        assert_eq!(std("one dollar"), "1 dollars");
        assert_eq!(std("$ 1"), "1 dollars");
        assert_eq!(std("$ 5 million"), "5000000 dollars");
        assert_eq!(std("five million dollars"), "5000000 dollars");
        assert_eq!(std("£ 20"), "20 pounds");
        assert_eq!(std("twenty pounds"), "20 pounds");
        assert_eq!(std("$ 5 dollars"), "5 dollars");
        assert_eq!(std("25 percent"), "25 percent");
        assert_eq!(std("twenty five per cent"), "25 percent");
        assert_eq!(std("$ alone"), "alone");
    }

    #[test]
    fn shift_decimal_cases() {
        assert_eq!(shift_decimal("2", "5", 6), "2500000");
        assert_eq!(shift_decimal("0", "001", 3), "1");
        assert_eq!(shift_decimal("1", "2345", 3), "1234.5");
        assert_eq!(shift_decimal("12", "", 2), "1200");
    }
}
