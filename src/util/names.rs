//! The one rule for every name a user gives attune — speakers, submodels, spaces, bases: it must
//! be safe as a single file or folder name inside the home, so no path can escape it.

/// Longest accepted name.
pub const MAX_LEN: usize = 64;

/// Why a name was refused (one line, for the error message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} is not a valid name: {why}")]
pub struct BadName {
    pub name: String,
    pub why: &'static str,
}

/// Checks `name`: 1–64 characters from `A–Z a–z 0–9 . _ -`, not starting with `.` or `-`, no
/// `..` (so no hidden files, no path separators, no parent directories, nothing read as an
/// option).
pub fn check(name: &str) -> Result<(), BadName> {
    let bad = |why| {
        Err(BadName {
            name: name.to_string(),
            why,
        })
    };
    if name.is_empty() || name.len() > MAX_LEN {
        return bad("must be 1 to 64 characters");
    }
    if name.starts_with('.') || name.starts_with('-') {
        return bad("must not start with '.' or '-'");
    }
    if name.contains("..") {
        return bad("must not contain '..'");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return bad("only letters, digits, '.', '_' and '-' are allowed (no path separators)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_escape_the_home_are_refused() {
        for bad in [
            "", "..", "a/b", "../x", "../../x", "a\\b", ".hidden", "-rf", "a..b", "é", "a b",
            "/abs",
        ] {
            assert!(check(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["alice", "client-07", "p_3.v2", "A1", "accent-de_2.x-v1"] {
            check(good).unwrap();
        }
        assert!(check(&"x".repeat(65)).is_err());
    }
}
