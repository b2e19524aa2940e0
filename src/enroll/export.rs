//! `enroll export`: writes a speaker's utterances to a folder as `<id>.wav` files, a NeMo
//! `manifest.jsonl` (re-importable with `enroll import`) and an sclite reference `<speaker>.trn`.

use std::path::{Path, PathBuf};

use super::EnrollError;
use crate::store::speakers::{Speaker, StoreError, StoredUtterance};
use crate::util::atomic::{create_private_dir_all, write_atomic};

/// What an export wrote.
#[derive(Debug)]
pub struct ExportReport {
    pub utterances: usize,
    pub manifest: PathBuf,
    pub trn: PathBuf,
}

/// One sclite `trn` line: `transcript (speaker_uttid)`. Parentheses in the text would end the
/// transcript early, so they become spaces.
pub fn trn_line(speaker: &str, utt: &str, text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if matches!(c, '(' | ')') { ' ' } else { c })
        .collect();
    let words: Vec<&str> = clean.split_whitespace().collect();
    format!("{} ({speaker}_{utt})", words.join(" "))
}

/// Exports `speaker` into `dir`, which must be missing or empty.
pub fn export(speaker: &Speaker, dir: &Path) -> Result<ExportReport, EnrollError> {
    if dir.read_dir().is_ok_and(|mut d| d.next().is_some()) {
        return Err(EnrollError::Target {
            path: dir.to_path_buf(),
            what: "folder is not empty; export into a new or empty folder".into(),
        });
    }
    create_private_dir_all(dir).map_err(StoreError::io(dir))?;
    let stored = speaker.manifest()?;
    let mut manifest = String::new();
    let mut trn = String::new();
    for u in &stored {
        let id = u.id();
        let src = speaker.dir.join(&u.line.audio_filepath);
        let bytes = std::fs::read(&src).map_err(StoreError::io(&src))?;
        let dst = dir.join(format!("{id}.wav"));
        write_atomic(&dst, &bytes).map_err(StoreError::io(&dst))?;
        let mut line: StoredUtterance = u.clone();
        line.line.audio_filepath = format!("{id}.wav");
        manifest.push_str(&serde_json::to_string(&line).expect("manifest line serializes"));
        manifest.push('\n');
        trn.push_str(&trn_line(&speaker.id, &id, &u.line.text));
        trn.push('\n');
    }
    let manifest_path = dir.join("manifest.jsonl");
    write_atomic(&manifest_path, manifest.as_bytes()).map_err(StoreError::io(&manifest_path))?;
    let trn_path = dir.join(format!("{}.trn", speaker.id));
    write_atomic(&trn_path, trn.as_bytes()).map_err(StoreError::io(&trn_path))?;
    Ok(ExportReport {
        utterances: stored.len(),
        manifest: manifest_path,
        trn: trn_path,
    })
}

#[cfg(test)]
mod tests {
    use super::trn_line;

    #[test]
    fn trn_lines_are_sclite_shaped() {
        assert_eq!(
            trn_line("alice", "00003", " Call (me)  later. "),
            "Call me later. (alice_00003)"
        );
    }
}
