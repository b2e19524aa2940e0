//! Word-level lookup tables for the English normaliser: British→American spellings,
//! spoken forms of titles, and filler words that are dropped.

/// British spelling → American spelling, sorted by key (binary-searched).
const BRITISH_TO_AMERICAN: &[(&str, &str)] = &[
    ("aeroplane", "airplane"),
    ("aeroplanes", "airplanes"),
    ("aluminium", "aluminum"),
    ("analyse", "analyze"),
    ("analysed", "analyzed"),
    ("analysing", "analyzing"),
    ("apologise", "apologize"),
    ("apologised", "apologized"),
    ("behaviour", "behavior"),
    ("behaviours", "behaviors"),
    ("cancelled", "canceled"),
    ("cancelling", "canceling"),
    ("catalogue", "catalog"),
    ("centre", "center"),
    ("centres", "centers"),
    ("cheque", "check"),
    ("colour", "color"),
    ("coloured", "colored"),
    ("colourful", "colorful"),
    ("colours", "colors"),
    ("defence", "defense"),
    ("favour", "favor"),
    ("favourite", "favorite"),
    ("favourites", "favorites"),
    ("fibre", "fiber"),
    ("flavour", "flavor"),
    ("flavours", "flavors"),
    ("grey", "gray"),
    ("harbour", "harbor"),
    ("honour", "honor"),
    ("humour", "humor"),
    ("jewellery", "jewelry"),
    ("labour", "labor"),
    ("licence", "license"),
    ("litre", "liter"),
    ("litres", "liters"),
    ("manoeuvre", "maneuver"),
    ("metre", "meter"),
    ("metres", "meters"),
    ("mould", "mold"),
    ("neighbour", "neighbor"),
    ("neighbourhood", "neighborhood"),
    ("neighbours", "neighbors"),
    ("offence", "offense"),
    ("organisation", "organization"),
    ("organise", "organize"),
    ("organised", "organized"),
    ("programme", "program"),
    ("programmes", "programs"),
    ("pyjamas", "pajamas"),
    ("realise", "realize"),
    ("realised", "realized"),
    ("realising", "realizing"),
    ("recognise", "recognize"),
    ("recognised", "recognized"),
    ("rumour", "rumor"),
    ("sceptical", "skeptical"),
    ("theatre", "theater"),
    ("theatres", "theaters"),
    ("travelled", "traveled"),
    ("traveller", "traveler"),
    ("travellers", "travelers"),
    ("travelling", "traveling"),
    ("tyre", "tire"),
    ("tyres", "tires"),
];

/// Abbreviated titles → the word as spoken (the trailing dot is already stripped).
const TITLES: &[(&str, &str)] = &[
    ("dr", "doctor"),
    ("jr", "junior"),
    ("mr", "mister"),
    ("mrs", "missus"),
    ("prof", "professor"),
    ("sr", "senior"),
];

/// Hesitation sounds removed before scoring (Whisper's list).
const FILLERS: &[&str] = &["hmm", "mhm", "mm", "mmm", "uh", "um"];

fn lookup(table: &[(&'static str, &'static str)], word: &str) -> Option<&'static str> {
    table
        .binary_search_by(|(k, _)| (*k).cmp(word))
        .ok()
        .map(|i| table[i].1)
}

/// The American spelling of a British-spelled word, if it is in the table.
pub(crate) fn americanize(word: &str) -> Option<&'static str> {
    lookup(BRITISH_TO_AMERICAN, word)
}

/// The spoken form of an abbreviated title ("mr" → "mister").
pub(crate) fn expand_title(word: &str) -> Option<&'static str> {
    lookup(TITLES, word)
}

/// Whether `word` is a filler ("um", "uh", …) that the normaliser drops.
pub(crate) fn is_filler(word: &str) -> bool {
    FILLERS.contains(&word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_unique() {
        for table in [BRITISH_TO_AMERICAN, TITLES] {
            assert!(table.windows(2).all(|w| w[0].0 < w[1].0), "{table:?}");
        }
        assert!(BRITISH_TO_AMERICAN.len() >= 40);
    }

    #[test]
    fn lookups() {
        assert_eq!(americanize("colour"), Some("color"));
        assert_eq!(americanize("favourite"), Some("favorite"));
        assert_eq!(americanize("centre"), Some("center"));
        assert_eq!(americanize("realise"), Some("realize"));
        assert_eq!(americanize("grey"), Some("gray"));
        assert_eq!(americanize("aeroplane"), Some("airplane"));
        assert_eq!(americanize("tyres"), Some("tires"));
        assert_eq!(americanize("color"), None);
        assert_eq!(expand_title("mr"), Some("mister"));
        assert_eq!(expand_title("mister"), None);
        assert!(is_filler("um") && !is_filler("umbrella"));
    }
}
