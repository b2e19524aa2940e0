//! The use-case layer: every workflow a front end offers, written once. `cli/` parses arguments
//! and formats what these return; `tui/` turns their results and progress events into messages.
//! Below this layer are the engines (model, train, eval, audio, enroll) and the stores (store,
//! library); cascades that span them (deleting a speaker's submodels with the speaker) live here.
//!
//! - [`workspace`]: the home, the base choice and the sample speakers; loading models
//! - [`personalize`]: training jobs (one speaker, many fused, an embedding space, a fit from a
//!   space) with checkpoints (`job_slots`), resume, cancel and progress events; the default
//!   recipe, whose adapters start from each speaker's instant fit in the shipped space (`start`)
//! - [`compare`]: base vs submodel on a test set, the report Compare and `eval` show
//! - [`export`]: a library submodel to attune's file, PEFT, or merged into the base for
//!   faster-whisper (CTranslate2), whisper.cpp (ggml) and Hugging Face
//! - [`enroll`]: pending prompts, storing a take, importing sets and the sample speakers
//! - [`speakers`]: the per-speaker summary, creating, consent notes, deleting completely

pub mod compare;
pub mod enroll;
pub mod export;
mod job_slots;
pub mod personalize;
pub mod spaces;
pub mod speakers;
mod start;
pub mod sufficiency;
pub mod workspace;

pub use workspace::Workspace;

/// Why a workflow failed. Each message is one line naming what it concerns.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] crate::store::speakers::StoreError),
    #[error(transparent)]
    Library(#[from] crate::library::LibraryError),
    #[error(transparent)]
    Train(#[from] crate::train::TrainError),
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    #[error(transparent)]
    Submodel(#[from] crate::submodel::SubmodelError),
    #[error(transparent)]
    Enroll(#[from] crate::enroll::EnrollError),
    #[error(transparent)]
    Set(#[from] crate::dataset::SetError),
    #[error(transparent)]
    Audio(#[from] crate::audio::AudioError),
    #[error(transparent)]
    Prompts(#[from] crate::enroll::prompts::PromptError),
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    #[error("{}: {source}", path.display())]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

impl WorkflowError {
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| WorkflowError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, WorkflowError>;
