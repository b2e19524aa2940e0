//! Headless commands behind the `attune` binary (anyhow at this edge), and what they share:
//! locating the base, loading it and submodels, reading audio with per-file errors.

pub mod base;
pub mod bench;
pub mod bench_serve;
pub mod bench_train;
pub mod devices;
pub mod enroll;
pub mod eval;
pub mod library;
pub mod speaker;
pub mod train;
pub mod transcribe;

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::model::decode::DecodeOptions;
use crate::recognizer::Recognizer;
use crate::store::Home;
use crate::submodel::Submodel;

/// The shipped default base, inside the source tree.
pub fn shipped_base() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/base/tiny.en")
}

/// Where the command runs: home and base choice.
pub struct Context {
    pub home: Home,
    pub base: Option<String>,
}

impl Context {
    pub fn new(home: Option<&Path>, base: Option<&str>) -> Self {
        Self {
            home: Home::resolve(home),
            base: base.map(str::to_string),
        }
    }

    /// The base directory: `--base` as a path, else as a name under the home's `bases/`,
    /// else the shipped tiny.en.
    pub fn base_dir(&self) -> PathBuf {
        match &self.base {
            Some(b) if Path::new(b).is_dir() => PathBuf::from(b),
            Some(b) => self.home.bases_dir().join(b),
            None => shipped_base(),
        }
    }

    pub fn recognizer(&self, full_context: bool) -> anyhow::Result<Recognizer> {
        let dir = self.base_dir();
        Recognizer::load(&dir, DecodeOptions { full_context })
            .with_context(|| format!("loading base model from {}", dir.display()))
    }

    /// Loads a submodel from the library (or a path), refusing one made for another base.
    pub fn submodel(&self, id: &str, rec: &Recognizer) -> anyhow::Result<Submodel> {
        let path = self.home.submodel_path(id);
        Ok(Submodel::load(
            &path,
            Some(&rec.model.hash),
            rec.model.device(),
        )?)
    }
}

/// Logs warnings (or `RUST_LOG`) to stderr for headless commands.
pub fn init_stderr_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Reads each file, printing a one-line error for each that fails; returns the good ones
/// (index into `paths`, samples).
pub fn read_audio_files(paths: &[PathBuf]) -> (Vec<(usize, Vec<f32>)>, usize) {
    let mut good = Vec::new();
    let mut failed = 0;
    for (i, p) in paths.iter().enumerate() {
        match crate::audio::read_wav(p) {
            Ok(s) => good.push((i, s)),
            Err(e) => {
                eprintln!("error: {e}");
                failed += 1;
            }
        }
    }
    (good, failed)
}
