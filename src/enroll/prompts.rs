//! Prompt scripts: the phrases a speaker reads while enrolling. One phrase per line, `#` starts a
//! comment line, blank lines are ignored (format in `assets/prompts/README.md`).

use std::path::{Path, PathBuf};

/// The built-in English enrollment script (`assets/prompts/default.txt`), compiled in so that
/// the binary works from any directory.
pub const DEFAULT_SCRIPT: &str = include_str!("../../assets/prompts/default.txt");

/// A prompt file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not UTF-8 text", path.display())]
    NotUtf8 { path: PathBuf },
    #[error("{}: no phrases (one per line; '#' lines are comments)", path.display())]
    Empty { path: PathBuf },
}

/// The phrases of a script's text, in order.
pub fn parse(script: &str) -> Vec<String> {
    script
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// The phrases of the built-in script.
pub fn default_prompts() -> Vec<String> {
    parse(DEFAULT_SCRIPT)
}

/// Reads a prompt file; refuses one that is not UTF-8 or holds no phrase.
pub fn read(path: &Path) -> Result<Vec<String>, PromptError> {
    let bytes = std::fs::read(path).map_err(|source| PromptError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| PromptError::NotUtf8 {
        path: path.to_path_buf(),
    })?;
    let phrases = parse(&text);
    if phrases.is_empty() {
        return Err(PromptError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(phrases)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_script_has_enough_phrases() {
        let p = default_prompts();
        assert!(p.len() >= 150, "{} phrases", p.len());
        assert!(p.iter().all(|l| !l.starts_with('#') && !l.is_empty()));
    }

    #[test]
    fn comments_and_blanks_are_skipped() {
        assert_eq!(
            parse("# x\n\n  Hello there \n#y\nBye"),
            ["Hello there", "Bye"]
        );
    }
}
