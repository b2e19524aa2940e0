//! Test and enrollment sets on disk: a folder of `x.wav` + `x.txt`, a NeMo-style
//! `manifest.jsonl` (`audio_filepath` relative to the manifest, `text`, optional `speaker`), or a
//! Kaldi data dir (`wav.scp` + `text`, optional `utt2spk`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One utterance of a set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Utterance {
    /// Stable id: the file stem (folder) or the manifest's path without extension.
    pub id: String,
    pub audio: PathBuf,
    pub text: String,
    pub speaker: Option<String>,
}

/// A problem with one item of a set; the rest of the set is still usable.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {what}", path.display())]
pub struct ItemError {
    pub path: PathBuf,
    pub what: String,
}

/// A whole set that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum SetError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{}: neither a folder of .wav + .txt files, a manifest.jsonl, nor a Kaldi dir (wav.scp + text)",
        path.display()
    )]
    Unknown { path: PathBuf },
}

/// One line of a NeMo-style manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestLine {
    pub audio_filepath: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
}

/// Loads a set; items that cannot be used are returned as errors beside the good ones.
pub fn load_set(path: &Path) -> Result<(Vec<Utterance>, Vec<ItemError>), SetError> {
    let io = |source| SetError::Io {
        path: path.to_path_buf(),
        source,
    };
    if path.is_dir() {
        let manifest = path.join("manifest.jsonl");
        if manifest.is_file() {
            return load_manifest(&manifest);
        }
        if path.join("wav.scp").is_file() {
            return load_kaldi(path);
        }
        return load_folder(path);
    }
    if path
        .extension()
        .is_some_and(|e| e == "jsonl" || e == "json")
    {
        return load_manifest(path);
    }
    if path.file_name().is_some_and(|n| n == "wav.scp") {
        return load_kaldi(path.parent().unwrap_or(Path::new(".")));
    }
    if !path.exists() {
        return Err(io(std::io::Error::from(std::io::ErrorKind::NotFound)));
    }
    Err(SetError::Unknown {
        path: path.to_path_buf(),
    })
}

fn load_folder(dir: &Path) -> Result<(Vec<Utterance>, Vec<ItemError>), SetError> {
    let io = |source| SetError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut wavs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("wav")))
        .collect();
    wavs.sort();
    if wavs.is_empty() {
        return Err(SetError::Unknown {
            path: dir.to_path_buf(),
        });
    }
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for wav in wavs {
        let txt = wav.with_extension("txt");
        match std::fs::read(&txt) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => good.push(Utterance {
                    id: wav
                        .file_stem()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned(),
                    audio: wav,
                    text: text.trim().to_string(),
                    speaker: None,
                }),
                Err(_) => bad.push(ItemError {
                    path: txt,
                    what: "transcript is not UTF-8 text".into(),
                }),
            },
            Err(_) => bad.push(ItemError {
                path: wav,
                what: format!("no transcript ({} missing)", txt.display()),
            }),
        }
    }
    Ok((good, bad))
}

fn load_manifest(file: &Path) -> Result<(Vec<Utterance>, Vec<ItemError>), SetError> {
    let text = std::fs::read_to_string(file).map_err(|source| SetError::Io {
        path: file.to_path_buf(),
        source,
    })?;
    let base = file.parent().unwrap_or(Path::new("."));
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for entry in parse_manifest(&text, file) {
        let (at, m) = match entry {
            Ok(ok) => ok,
            Err(e) => {
                bad.push(e);
                continue;
            }
        };
        let audio = base.join(&m.audio_filepath);
        if !audio.is_file() {
            bad.push(ItemError {
                path: at,
                what: format!("audio file {} is missing", audio.display()),
            });
            continue;
        }
        let id = Path::new(&m.audio_filepath)
            .with_extension("")
            .to_string_lossy()
            .into_owned();
        good.push(Utterance {
            id,
            audio,
            text: m.text.trim().to_string(),
            speaker: m.speaker,
        });
    }
    Ok((good, bad))
}

/// Parses the text of a NeMo manifest named `file`: one entry per non-blank line, either the
/// line's position (`file:line`) with what it holds, or why it is not a manifest line.
pub fn parse_manifest(text: &str, file: &Path) -> Vec<Result<(PathBuf, ManifestLine), ItemError>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, line)| {
            let at = PathBuf::from(format!("{}:{}", file.display(), n + 1));
            match serde_json::from_str::<ManifestLine>(line) {
                Ok(m) => Ok((at, m)),
                Err(e) => Err(ItemError {
                    path: at,
                    what: format!("not a manifest line: {e}"),
                }),
            }
        })
        .collect()
}

/// One line of a Kaldi table: the key, and the rest of the line (`Err` when not UTF-8).
pub type KaldiLine = (String, Result<String, ()>);

/// Reads the Kaldi table `file` (see [`parse_kaldi_table`]).
fn kaldi_table(file: &Path) -> Result<Vec<KaldiLine>, SetError> {
    let bytes = std::fs::read(file).map_err(|source| SetError::Io {
        path: file.to_path_buf(),
        source,
    })?;
    Ok(parse_kaldi_table(&bytes))
}

/// Parses a Kaldi table (`key rest-of-line` per line) from raw bytes: lines that are not UTF-8
/// are kept (with `Err`) so that the item they describe can be reported.
pub fn parse_kaldi_table(bytes: &[u8]) -> Vec<KaldiLine> {
    let mut out = Vec::new();
    for line in bytes.split(|&b| b == b'\n') {
        let (key, rest) = match line.iter().position(|b| b.is_ascii_whitespace()) {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => (line, &[][..]),
        };
        let key = String::from_utf8_lossy(key).trim().to_string();
        if key.is_empty() {
            continue;
        }
        out.push((
            key,
            std::str::from_utf8(rest)
                .map(|r| r.trim().to_string())
                .map_err(|_| ()),
        ));
    }
    out
}

/// Resolves a `wav.scp` path: absolute, else relative to the data dir or one of its two parents
/// (Kaldi recipes write paths relative to the recipe root, usually `data/<set>/../..`).
fn kaldi_audio_path(dir: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    dir.ancestors()
        .take(3)
        .map(|d| d.join(p))
        .find(|c| c.is_file())
        .unwrap_or_else(|| dir.join(p))
}

/// Loads a Kaldi data dir. `wav.scp` entries must be plain paths: piped commands (`... |`) are
/// refused per item, since attune never runs commands found in data files.
fn load_kaldi(dir: &Path) -> Result<(Vec<Utterance>, Vec<ItemError>), SetError> {
    let scp = dir.join("wav.scp");
    let text_file = dir.join("text");
    let texts: std::collections::HashMap<_, _> = kaldi_table(&text_file)?.into_iter().collect();
    let spk_file = dir.join("utt2spk");
    let speakers: std::collections::HashMap<_, _> = if spk_file.is_file() {
        kaldi_table(&spk_file)?.into_iter().collect()
    } else {
        Default::default()
    };
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for (id, rest) in kaldi_table(&scp)? {
        let at = PathBuf::from(format!("{}: {id}", scp.display()));
        let item = |what: String| ItemError {
            path: at.clone(),
            what,
        };
        let Ok(audio) = rest else {
            bad.push(item("wav.scp path is not UTF-8".into()));
            continue;
        };
        if audio.ends_with('|') || audio.starts_with('|') {
            bad.push(item(
                "wav.scp entry is a piped command, not a file: convert it to a WAV file first"
                    .into(),
            ));
            continue;
        }
        if audio.is_empty() {
            bad.push(item("wav.scp entry has no path".into()));
            continue;
        }
        let audio = kaldi_audio_path(dir, &audio);
        if !audio.is_file() {
            bad.push(item(format!("audio file {} is missing", audio.display())));
            continue;
        }
        match texts.get(&id) {
            None => bad.push(item(format!("no transcript in {}", text_file.display()))),
            Some(Err(())) => bad.push(item(format!(
                "transcript in {} is not UTF-8 text",
                text_file.display()
            ))),
            Some(Ok(text)) => good.push(Utterance {
                id: id.clone(),
                audio,
                text: text.clone(),
                speaker: speakers.get(&id).and_then(|s| s.clone().ok()),
            }),
        }
    }
    Ok((good, bad))
}
