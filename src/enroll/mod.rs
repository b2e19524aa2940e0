//! Enrollment: getting a speaker's recordings into the store — importing existing sets
//! (`import`), exporting them (`export`), prompt scripts (`prompts`), the train/held-out split
//! (`split`) and prompted recording sessions (`session`).

pub mod export;
pub mod import;
pub mod prompts;
pub mod split;

use crate::dataset::SetError;
use crate::store::speakers::StoreError;

/// Why an enrollment operation failed as a whole (per-item problems are reported, not raised).
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Set(#[from] SetError),
    #[error("{}: {what}", path.display())]
    Target {
        path: std::path::PathBuf,
        what: String,
    },
}
