//! Merged exports: a LoRA submodel folded into the base's weights (`merge`) and written for other
//! Whisper runtimes — CTranslate2 / faster-whisper (`ct2`), whisper.cpp (`ggml`), Hugging Face
//! `transformers` (`hf`) — plus the token list they all need (`vocab`).

pub mod ct2;
pub mod ggml;
pub mod hf;
pub mod merge;
pub mod vocab;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::model::WhisperConfig;
pub use crate::model::weights::Precision;
use crate::model::weights::RawTensor;
use crate::submodel::Kind;

/// Where a submodel can go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// attune's own file: weights + metadata + checksum, importable with `library import`
    File,
    /// Hugging Face PEFT adapter (LoRA): adapter_config.json + adapter_model.safetensors
    Peft,
    /// the base with the LoRA merged in, as a CTranslate2 directory (faster-whisper)
    Ct2,
    /// the base with the LoRA merged in, as a whisper.cpp ggml model file
    Ggml,
    /// the base with the LoRA merged in, as a Hugging Face transformers directory
    Hf,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::File,
        Format::Peft,
        Format::Ct2,
        Format::Ggml,
        Format::Hf,
    ];

    /// Whether the base is written with the submodel merged into it.
    pub fn merged(self) -> bool {
        matches!(self, Format::Ct2 | Format::Ggml | Format::Hf)
    }

    /// The formats a submodel of `kind` can be exported to: every kind has its own file; only
    /// pure LoRA updates are a PEFT type and fold into Whisper's projections (a hybrid's
    /// residual half has no place in Whisper's layers).
    pub fn for_kind(kind: Kind) -> Vec<Format> {
        match kind {
            Kind::Lora => Self::ALL.to_vec(),
            Kind::Residual | Kind::Embedding | Kind::Hybrid => vec![Format::File],
        }
    }

    /// One line for a chooser: the name and what it is for.
    pub fn describe(self) -> &'static str {
        match self {
            Format::File => "file — attune's own submodel file (library import)",
            Format::Peft => "peft — LoRA adapter for Hugging Face PEFT / vLLM multi-LoRA",
            Format::Ct2 => "ct2 — merged model directory for faster-whisper (CTranslate2)",
            Format::Ggml => "ggml — merged model file for whisper.cpp",
            Format::Hf => "hf — merged model directory for transformers / vLLM",
        }
    }

    /// A destination name suggested for submodel `id`.
    pub fn default_dest(self, id: &str) -> String {
        match self {
            Format::File => format!("{id}.safetensors"),
            Format::Ggml => format!("ggml-{id}.bin"),
            other => format!("{id}-{other}"),
        }
    }

    /// What the destination is.
    pub fn dest_kind(self) -> &'static str {
        match self {
            Format::File => "a file, or an existing folder",
            Format::Ggml => "a file, e.g. ggml-alice.bin",
            Format::Peft | Format::Ct2 | Format::Hf => "a folder (created if missing)",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::File => "file",
            Format::Peft => "peft",
            Format::Ct2 => "ct2",
            Format::Ggml => "ggml",
            Format::Hf => "hf",
        })
    }
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(
        "submodel {id} is a {kind} submodel: its adapter is an extra block after each encoder layer, which no Whisper layer has, so it cannot be merged into the base's weights (nor written as {format}); train an exportable one with `attune train --speaker {speaker} --kind lora`, or export this one with --format file"
    )]
    NotMergeable {
        id: String,
        kind: Kind,
        speaker: String,
        format: Format,
    },
    #[error("the {format} export has no {precision} form; use {allowed}")]
    Precision {
        format: Format,
        precision: Precision,
        allowed: &'static str,
    },
    #[error("the merged model lacks tensor {0}")]
    Missing(String),
    #[error("{what}")]
    Shape { what: String },
    #[error("tokenizer.json: {0}")]
    Tokenizer(String),
    #[error("{}: {what}", file.display())]
    BadFile { file: PathBuf, what: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

impl From<crate::util::bytes::Truncated> for ExportError {
    fn from(t: crate::util::bytes::Truncated) -> Self {
        Self::BadFile {
            file: t.file,
            what: format!("truncated at byte {}", t.at),
        }
    }
}

impl ExportError {
    pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| ExportError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// A base with a submodel merged in: HF-named f32 tensors (without the encoder's sinusoidal
/// positions, which every writer recomputes), the config and the base's `tokenizer.json`.
#[derive(Debug, Clone)]
pub struct Merged {
    pub config: WhisperConfig,
    pub tensors: BTreeMap<String, RawTensor>,
    pub tokenizer: Vec<u8>,
}

/// Whisper's feature-extractor settings (`preprocessor_config.json`), read by faster-whisper and
/// `transformers` alike.
pub fn preprocessor_config(cfg: &WhisperConfig) -> serde_json::Value {
    use crate::features::{FULL_FRAMES, HOP, N_FFT, SAMPLE_RATE};
    serde_json::json!({
        "chunk_length": 30,
        "feature_extractor_type": "WhisperFeatureExtractor",
        "feature_size": cfg.n_mels,
        "hop_length": HOP,
        "n_fft": N_FFT,
        "n_samples": SAMPLE_RATE * 30,
        "nb_max_frames": FULL_FRAMES,
        "padding_side": "right",
        "padding_value": 0.0,
        "processor_class": "WhisperProcessor",
        "return_attention_mask": false,
        "sampling_rate": SAMPLE_RATE,
    })
}

/// Writes `bytes` to `path` atomically (temp + fsync + rename, mode 0600).
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<PathBuf, ExportError> {
    crate::util::atomic::write_atomic(path, bytes).map_err(ExportError::io(path))?;
    Ok(path.to_path_buf())
}

/// Writes pretty JSON to `dir/name`.
pub(crate) fn write_json(
    dir: &Path,
    name: &str,
    v: &serde_json::Value,
) -> Result<PathBuf, ExportError> {
    let mut bytes = serde_json::to_vec_pretty(v).expect("JSON values serialize");
    bytes.push(b'\n');
    write_file(&dir.join(name), &bytes)
}

/// Creates the destination directory (0700 for new folders).
pub(crate) fn make_dir(dir: &Path) -> Result<(), ExportError> {
    crate::util::atomic::create_private_dir_all(dir).map_err(ExportError::io(dir))
}
