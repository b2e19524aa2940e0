//! The one error type of the audio module; every variant names the file (or
//! `<in-memory audio>`) it concerns and renders as a single line.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// Placeholder "file name" used when audio did not come from a file.
pub const IN_MEMORY: &str = "<in-memory audio>";

/// Why audio could not be read, converted or written.
#[derive(Debug, Error)]
pub enum AudioError {
    /// The file could not be opened, read or written.
    #[error("{}: I/O error: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a RIFF/WAVE file at all (e.g. a text file).
    #[error("{}: not a WAV file ({reason})", path.display())]
    NotWav { path: PathBuf, reason: String },
    /// The file ends before the amount of data its header declares.
    #[error("{}: truncated WAV file ({detail})", path.display())]
    Truncated { path: PathBuf, detail: String },
    /// The WAV structure is malformed.
    #[error("{}: corrupt WAV file ({detail})", path.display())]
    Corrupt { path: PathBuf, detail: String },
    /// A valid WAV in an encoding this crate cannot decode (e.g. 64-bit float).
    #[error("{}: unsupported WAV format ({detail})", path.display())]
    Unsupported { path: PathBuf, detail: String },
    /// The file is well-formed but holds zero samples.
    #[error("{}: WAV file contains no audio samples", path.display())]
    Empty { path: PathBuf },
    /// A float sample is NaN or infinite.
    #[error("{}: non-finite sample value (NaN or infinity) at sample index {index}", path.display())]
    NonFinite { path: PathBuf, index: usize },
    /// The sample-rate converter failed.
    #[error("{}: resampling {from_hz} Hz to {to_hz} Hz failed ({detail})", path.display())]
    Resample {
        path: PathBuf,
        from_hz: u32,
        to_hz: u32,
        detail: String,
    },
}

impl AudioError {
    /// The file this error is about.
    pub fn path(&self) -> &Path {
        match self {
            AudioError::Io { path, .. }
            | AudioError::NotWav { path, .. }
            | AudioError::Truncated { path, .. }
            | AudioError::Corrupt { path, .. }
            | AudioError::Unsupported { path, .. }
            | AudioError::Empty { path }
            | AudioError::NonFinite { path, .. }
            | AudioError::Resample { path, .. } => path,
        }
    }
}
