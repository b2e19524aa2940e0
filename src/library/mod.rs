//! The submodel library under the home: one self-describing file per submodel version
//! (`library/<speaker>-v<N>.safetensors`), listed by reading each file's metadata; adding,
//! exporting, importing and removing submodels, every write atomic and every read verified.

use std::path::{Path, PathBuf};

use candle_core::Device;

use crate::store::Home;
use crate::submodel::{Submodel, SubmodelError, SubmodelMeta};
use crate::util::atomic;

/// File extension of library entries.
const EXT: &str = "safetensors";

/// Errors of library operations.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("no submodel {id} in the library ({}); see `attune library list`", dir.display())]
    NotFound { id: String, dir: PathBuf },
    #[error("submodel {id} is already in the library ({}); pass --force to replace it", path.display())]
    Exists { id: String, path: PathBuf },
    #[error("{0}")]
    BadName(String),
    #[error("{}: {what}; refused", file.display())]
    Inconsistent { file: PathBuf, what: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Submodel(#[from] SubmodelError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LibraryError + '_ {
    move |source| LibraryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One submodel of the library, as its metadata describes it (tensors not decoded).
#[derive(Debug, Clone)]
pub struct Entry {
    /// The library id: the file name without `.safetensors`.
    pub id: String,
    pub path: PathBuf,
    /// File size in bytes.
    pub bytes: u64,
    pub meta: SubmodelMeta,
}

impl Entry {
    /// The version number when the id has the `<speaker>-v<N>` form.
    pub fn version(&self) -> Option<u32> {
        split_id(&self.id).map(|(_, v)| v)
    }
}

/// Refuses names that could escape the library ([`crate::util::names::check`]).
pub fn check_name(name: &str) -> Result<(), LibraryError> {
    crate::util::names::check(name).map_err(|e| LibraryError::BadName(e.to_string()))
}

/// `alice-v3` → `("alice", 3)`; `None` for ids without a version suffix.
pub fn split_id(id: &str) -> Option<(&str, u32)> {
    let (speaker, v) = id.rsplit_once("-v")?;
    if speaker.is_empty() || v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok().map(|n| (speaker, n))
}

/// Path of library entry `id` (whether or not it exists).
pub fn path_of(home: &Home, id: &str) -> Result<PathBuf, LibraryError> {
    check_name(id)?;
    Ok(home.library_dir().join(format!("{id}.{EXT}")))
}

/// Path of an existing library entry, or `NotFound`.
pub fn existing_path(home: &Home, id: &str) -> Result<PathBuf, LibraryError> {
    let path = path_of(home, id)?;
    if path.is_file() {
        Ok(path)
    } else {
        Err(LibraryError::NotFound {
            id: id.to_string(),
            dir: home.library_dir(),
        })
    }
}

/// Ids of the library's files (no metadata read), unsorted; empty when there is no library.
fn ids(home: &Home) -> Result<Vec<String>, LibraryError> {
    let dir = home.library_dir();
    let read = match std::fs::read_dir(&dir) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(&dir)(e)),
    };
    let mut out = Vec::new();
    for entry in read {
        let name = entry
            .map_err(io(&dir))?
            .file_name()
            .to_string_lossy()
            .into_owned();
        if let Some(id) = name.strip_suffix(&format!(".{EXT}"))
            && check_name(id).is_ok()
        {
            out.push(id.to_string());
        }
    }
    Ok(out)
}

/// Every submodel of the library, sorted by speaker then version; files that cannot be read are
/// returned beside them (the rest of the library stays usable).
pub fn list(home: &Home) -> Result<(Vec<Entry>, Vec<SubmodelError>), LibraryError> {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for id in ids(home)? {
        let path = path_of(home, &id)?;
        match Submodel::read_meta(&path) {
            Ok(meta) => {
                let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                good.push(Entry {
                    id,
                    path,
                    bytes,
                    meta,
                });
            }
            Err(e) => bad.push(e),
        }
    }
    good.sort_by(|a, b| {
        (&a.meta.speaker, a.version(), &a.id).cmp(&(&b.meta.speaker, b.version(), &b.id))
    });
    Ok((good, bad))
}

/// Metadata of one entry.
pub fn entry(home: &Home, id: &str) -> Result<Entry, LibraryError> {
    let path = existing_path(home, id)?;
    let meta = Submodel::read_meta(&path)?;
    let bytes = std::fs::metadata(&path).map_err(io(&path))?.len();
    Ok(Entry {
        id: id.to_string(),
        path,
        bytes,
        meta,
    })
}

/// Highest version number used by any file named `<speaker>-v<N>` (so a new id never collides).
fn latest_version(home: &Home, speaker: &str) -> Result<Option<u32>, LibraryError> {
    Ok(ids(home)?
        .iter()
        .filter_map(|id| split_id(id).filter(|(s, _)| *s == speaker).map(|(_, v)| v))
        .max())
}

/// The one definition of "a speaker's newest submodel": among the entries whose metadata names
/// the speaker, the highest version (ids without a version count as 0), then the latest created.
fn newest<'a>(entries: impl Iterator<Item = &'a Entry>) -> Option<&'a Entry> {
    entries.max_by_key(|e| (e.version().unwrap_or(0), e.meta.created, e.id.clone()))
}

/// Id of `speaker`'s newest submodel, if any (see [`newest`]).
pub fn latest(home: &Home, speaker: &str) -> Result<Option<String>, LibraryError> {
    check_name(speaker)?;
    let (entries, _) = list(home)?;
    Ok(newest(entries.iter().filter(|e| e.meta.speaker == speaker)).map(|e| e.id.clone()))
}

/// Every speaker's newest submodel id, by speaker (the same rule as [`latest`]).
pub fn latest_by_speaker(
    home: &Home,
) -> Result<std::collections::HashMap<String, String>, LibraryError> {
    let (entries, _) = list(home)?;
    let mut speakers: Vec<&str> = entries.iter().map(|e| e.meta.speaker.as_str()).collect();
    speakers.dedup();
    Ok(speakers
        .into_iter()
        .filter_map(|s| {
            newest(entries.iter().filter(|e| e.meta.speaker == s))
                .map(|e| (s.to_string(), e.id.clone()))
        })
        .collect())
}

/// Ids of the submodels whose metadata names speaker `speaker` (unreadable files are ignored).
pub fn of_speaker(home: &Home, speaker: &str) -> Result<Vec<String>, LibraryError> {
    let (entries, _unreadable) = list(home)?;
    Ok(entries
        .into_iter()
        .filter(|e| e.meta.speaker == speaker)
        .map(|e| e.id)
        .collect())
}

/// What a user names a submodel by: a library id, or the path of a `.safetensors` file outside
/// the library. Returns the file to load.
pub fn resolve(home: &Home, id_or_path: &str) -> Result<PathBuf, LibraryError> {
    let p = Path::new(id_or_path);
    if p.extension().is_some_and(|e| e == EXT) && p.is_file() {
        return Ok(p.to_path_buf());
    }
    existing_path(home, id_or_path)
}

/// Id the next version of `speaker` gets: `<speaker>-v<N+1>` (`-v1` for a new speaker).
pub fn next_id(home: &Home, speaker: &str) -> Result<String, LibraryError> {
    check_name(speaker)?;
    Ok(format!(
        "{speaker}-v{}",
        latest_version(home, speaker)?.unwrap_or(0) + 1
    ))
}

/// Holds the home's exclusive lock (a `flock` on `<home>/.lock`) until dropped, so that
/// allocating a version and writing it is one step for every attune process on this home.
pub struct LibraryLock {
    _file: std::fs::File,
}

/// Takes the library lock, waiting for another process that holds it.
pub fn lock(home: &Home) -> Result<LibraryLock, LibraryError> {
    let dir = home.library_dir();
    atomic::create_private_dir_all(&dir).map_err(io(&dir))?;
    let path = home.lock_path();
    let file = atomic::open_private(&path).map_err(io(&path))?;
    rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| io(&path)(e.into()))?;
    Ok(LibraryLock { _file: file })
}

/// Adds a freshly trained submodel as the next version of its speaker: assigns `meta.id`, sets
/// `meta.parent` to the previous version when the trainer left it empty (the lineage chain),
/// saves atomically and returns the path — all under the library lock, so two jobs of one
/// speaker get two versions.
pub fn add(home: &Home, sub: &mut Submodel) -> Result<PathBuf, LibraryError> {
    let _lock = lock(home)?;
    let speaker = sub.meta.speaker.clone();
    let previous = latest(home, &speaker)?;
    let id = next_id(home, &speaker)?;
    let path = path_of(home, &id)?;
    sub.meta.id = id;
    if sub.meta.parent.is_none() {
        sub.meta.parent = previous;
    }
    sub.save(&path)?;
    Ok(path)
}

/// Loads and verifies entry `id`, refusing one made for another base when `base_hash` is given.
pub fn load(
    home: &Home,
    id: &str,
    base_hash: Option<&str>,
    dev: &Device,
) -> Result<Submodel, LibraryError> {
    Ok(Submodel::load(&existing_path(home, id)?, base_hash, dev)?)
}

/// Reads a submodel file's bytes and verifies them (checksum, format, optionally the base).
fn read_verified(
    path: &Path,
    base_hash: Option<&str>,
) -> Result<(Vec<u8>, Submodel), LibraryError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let sub = Submodel::from_bytes(&bytes, path, base_hash, &Device::Cpu)?;
    Ok((bytes, sub))
}

/// Copies entry `id`, verified, to `dest` (a file, or a directory to put `<id>.safetensors` in;
/// missing parent folders are created 0700); the copy is byte-identical and self-contained
/// (weights, metadata, checksum), written 0600.
pub fn export(home: &Home, id: &str, dest: &Path) -> Result<PathBuf, LibraryError> {
    let (bytes, _) = read_verified(&existing_path(home, id)?, None)?;
    let dest = if dest.is_dir() {
        dest.join(format!("{id}.{EXT}"))
    } else {
        dest.to_path_buf()
    };
    atomic::write_private_file(&dest, &bytes).map_err(io(&dest))?;
    Ok(dest)
}

/// Imports an exported submodel file under its own id after verifying it (and its base when
/// `base_hash` is given); never replaces an existing entry unless `force`.
pub fn import(
    home: &Home,
    file: &Path,
    base_hash: Option<&str>,
    force: bool,
) -> Result<Entry, LibraryError> {
    let (bytes, sub) = read_verified(file, base_hash)?;
    let id = sub.meta.id.clone();
    if split_id(&id).map(|(s, _)| s) != Some(sub.meta.speaker.as_str()) {
        return Err(LibraryError::Inconsistent {
            file: file.to_path_buf(),
            what: format!(
                "its id {id:?} is not a version of its speaker {:?} (<speaker>-v<N>)",
                sub.meta.speaker
            ),
        });
    }
    let path = path_of(home, &id)?;
    let _lock = lock(home)?;
    if path.exists() && !force {
        return Err(LibraryError::Exists { id, path });
    }
    atomic::write_atomic(&path, &bytes).map_err(io(&path))?;
    Ok(Entry {
        id,
        path,
        bytes: bytes.len() as u64,
        meta: sub.meta,
    })
}

/// Removes every file of entry `id`: the submodel, side files named `<id>.*` and leftover temp
/// files of interrupted writes. Returns what was removed.
pub fn remove(home: &Home, id: &str) -> Result<Vec<PathBuf>, LibraryError> {
    let main = existing_path(home, id)?;
    let _lock = lock(home)?;
    let dir = home.library_dir();
    let (side, temp) = (format!("{id}."), format!(".{id}.{EXT}.tmp-"));
    let mut removed = Vec::new();
    for e in std::fs::read_dir(&dir).map_err(io(&dir))? {
        let e = e.map_err(io(&dir))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let other_entry = name.ends_with(&format!(".{EXT}")); // e.g. `<id>.5-v1.safetensors`
        if other_entry || !(name.starts_with(&side) || name.starts_with(&temp)) {
            continue;
        }
        let path = e.path();
        let gone = if e.file_type().map_err(io(&path))?.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        gone.map_err(io(&path))?;
        removed.push(path);
    }
    // The submodel itself last, so that a failure above leaves it listed and retryable.
    std::fs::remove_file(&main).map_err(io(&main))?;
    removed.push(main);
    Ok(removed)
}

/// The lineage of `id`: itself, its parent, its parent's parent… while they are in the library.
pub fn lineage(home: &Home, id: &str) -> Result<Vec<Entry>, LibraryError> {
    let mut chain = vec![entry(home, id)?];
    while let Some(parent) = chain.last().and_then(|e| e.meta.parent.clone()) {
        if chain.iter().any(|e| e.id == parent) || chain.len() > 1000 {
            break; // a cycle: stop rather than loop
        }
        match entry(home, &parent) {
            Ok(e) => chain.push(e),
            Err(LibraryError::NotFound { .. } | LibraryError::BadName(_)) => break,
            Err(e) => return Err(e),
        }
    }
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_split_into_speaker_and_version() {
        assert_eq!(split_id("alice-v3"), Some(("alice", 3)));
        assert_eq!(split_id("accent-de-v12"), Some(("accent-de", 12)));
        assert_eq!(split_id("alice"), None);
        assert_eq!(split_id("alice-v"), None);
        assert_eq!(split_id("-v2"), None);
        assert_eq!(split_id("alice-vx"), None);
    }

    #[test]
    fn names_cannot_escape_the_library() {
        for bad in ["", "../x", "a/b", ".hidden", "-v1", "a b"] {
            assert!(check_name(bad).is_err(), "{bad:?} accepted");
        }
        check_name("accent-de_2.x-v1").unwrap();
    }
}
