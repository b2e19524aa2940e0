//! Where a workflow runs: the home, which base to load and where the sample speakers are; loading
//! the recognizer and resolving submodels through the library (the one owner of submodel ids).

use std::path::{Path, PathBuf};

use super::{Result, WorkflowError};
use crate::model::decode::DecodeOptions;
use crate::recognizer::Recognizer;
use crate::shipped::{self, Part};
use crate::store::Home;
use crate::submodel::Submodel;

/// The home and the base choice. The shipped base, sample speakers and ordinary-speech clips
/// are carried in the binary and installed into the home on first use (`crate::shipped`).
#[derive(Debug, Clone)]
pub struct Workspace {
    pub home: Home,
    /// `--base`: a directory, or the name of a base imported into the home; `None`: shipped.
    pub base: Option<String>,
}

impl Workspace {
    pub fn new(home: Option<&Path>, base: Option<&str>) -> Self {
        Self {
            home: Home::resolve(home),
            base: base.map(str::to_string),
        }
    }

    /// A workspace on an explicit home and base directory (tests, benches).
    pub fn at(home: Home, base_dir: &Path) -> Self {
        Self {
            home,
            base: Some(base_dir.to_string_lossy().into_owned()),
        }
    }

    /// A workspace whose home is `dir`, with the shipped base installed there (unit tests).
    #[cfg(test)]
    pub(crate) fn scratch(dir: &Path) -> Self {
        Self::at(
            Home::resolve(Some(dir)),
            &shipped::BASE.install(dir).unwrap(),
        )
    }

    /// The shipped default base (installed into the home on first use).
    pub fn shipped_base(&self) -> Result<PathBuf> {
        install(&shipped::BASE, &self.home)
    }

    /// The sample speakers' folders (installed into the home on first use).
    pub fn samples_dir(&self) -> Result<PathBuf> {
        install(&shipped::SPEAKERS, &self.home)
    }

    /// Real, ordinary speech: every new submodel is also scored on it (installed on first use).
    pub fn generic_dir(&self) -> Result<PathBuf> {
        install(&shipped::CLIPS, &self.home)
    }

    /// The shipped speaker-embedding space's folder (installed on first use).
    pub fn shipped_space_dir(&self) -> Result<PathBuf> {
        install(&shipped::SPACE, &self.home)
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
            None => self.shipped_base()?,
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

/// Installs a shipped part into the home (created private if missing).
fn install(part: &Part, home: &Home) -> Result<PathBuf> {
    part.install(&home.root)
        .map_err(WorkflowError::io(&home.root.join("shipped")))
}
