//! Where a workflow runs: the home, which base to load and where the sample speakers are; loading
//! the recognizer and resolving submodels through the library (the one owner of submodel ids).

use std::path::{Path, PathBuf};

use super::{Result, WorkflowError};
use crate::model::decode::DecodeOptions;
use crate::recognizer::Recognizer;
use crate::store::Home;
use crate::submodel::Submodel;

/// The shipped default base, inside the source tree.
pub fn shipped_base() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/base/tiny.en")
}

/// The sample speakers shipped in the source tree.
pub fn sample_speakers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/speakers")
}

/// Real, ordinary speech shipped with attune: every new submodel is also scored on it.
pub fn generic_clips_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/real")
}

/// The home, the base choice, the sample speakers' folder and the ordinary-speech clips.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub home: Home,
    /// `--base`: a directory, or the name of a base imported into the home; `None`: shipped.
    pub base: Option<String>,
    pub samples: PathBuf,
    pub generic: PathBuf,
}

impl Workspace {
    pub fn new(home: Option<&Path>, base: Option<&str>) -> Self {
        Self {
            home: Home::resolve(home),
            base: base.map(str::to_string),
            samples: sample_speakers_dir(),
            generic: generic_clips_dir(),
        }
    }

    /// A workspace on an explicit home and base directory (tests, benches).
    pub fn at(home: Home, base_dir: &Path) -> Self {
        Self {
            home,
            base: Some(base_dir.to_string_lossy().into_owned()),
            samples: sample_speakers_dir(),
            generic: generic_clips_dir(),
        }
    }

    /// The base directory: `--base` as an existing directory, else as a (checked) name under the
    /// home's `bases/`, else the shipped tiny.en.
    pub fn base_dir(&self) -> Result<PathBuf> {
        Ok(match &self.base {
            Some(b) if Path::new(b).is_dir() => PathBuf::from(b),
            Some(b) => {
                crate::util::names::check(b).map_err(|e| {
                    WorkflowError::Invalid(format!("--base: {e}, and not an existing directory"))
                })?;
                self.home.bases_dir().join(b)
            }
            None => shipped_base(),
        })
    }

    /// Housekeeping before any work on an existing home: tightens loose permissions, removes
    /// stale temp files and finishes deletes a crash interrupted. A missing home is left alone.
    /// Returns how many loose permissions were tightened.
    pub fn open_home(&self) -> Result<usize> {
        if !self.home.root.is_dir() {
            return Ok(0);
        }
        let changed = self
            .home
            .tighten()
            .map_err(WorkflowError::io(&self.home.root))?;
        self.home
            .empty_trash()
            .map_err(WorkflowError::io(&self.home.trash_dir()))?;
        Ok(changed)
    }

    /// Loads the base at the runtime (dynamic) context, or at Whisper's 30 s window.
    pub fn recognizer(&self, full_context: bool) -> Result<Recognizer> {
        let dir = self.base_dir()?;
        Recognizer::load(&dir, DecodeOptions { full_context }).map_err(|e| {
            WorkflowError::Invalid(format!("loading base model from {}: {e}", dir.display()))
        })
    }

    /// Loads a submodel by library id (or `.safetensors` path), refusing one made for another
    /// base.
    pub fn submodel(&self, id: &str, rec: &Recognizer) -> Result<Submodel> {
        let path = crate::library::resolve(&self.home, id)?;
        Ok(Submodel::load(
            &path,
            Some(&rec.model.hash),
            rec.model.device(),
        )?)
    }
}
