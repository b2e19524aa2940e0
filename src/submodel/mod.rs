//! Per-speaker submodels: adapter kinds and hyper-parameters, the adapter table and its
//! per-example gather (`adapters`), and the on-disk file format (`file`).

pub mod adapters;
pub mod file;
pub mod peft;
pub mod space;

use serde::{Deserialize, Serialize};

pub use adapters::{AdapterTable, Gathered};
pub use file::{Submodel, SubmodelMeta};

/// The kind of adapter a submodel holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// After each encoder block: `h + W_up · relu(W_down · LN(h))` (Tomanek et al. 2021).
    Residual,
    /// Low-rank updates of q/v projections in encoder and decoder attention (PEFT-compatible).
    Lora,
    /// A residual adapter generated from a speaker embedding by a shared space (`space.rs`);
    /// the file holds the embedding and the generated adapter, and names its space.
    Embedding,
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Residual => "residual",
            Kind::Lora => "lora",
            Kind::Embedding => "embedding",
        })
    }
}

/// Shape of a submodel: kind, bottleneck/rank and (LoRA) scaling numerator α.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub kind: Kind,
    pub rank: usize,
    pub alpha: f64,
}

impl Spec {
    pub fn new(kind: Kind, rank: usize) -> Self {
        Self {
            kind,
            rank,
            alpha: rank as f64,
        }
    }

    /// Where the adapters attach, as recorded in the metadata.
    pub fn targets(&self) -> Vec<String> {
        match self.kind {
            Kind::Residual | Kind::Embedding => vec!["encoder.blocks.*.output".into()],
            Kind::Lora => [
                "encoder.self_attn",
                "decoder.self_attn",
                "decoder.encoder_attn",
            ]
            .iter()
            .flat_map(|m| [format!("{m}.q_proj"), format!("{m}.v_proj")])
            .collect(),
        }
    }
}

/// Errors reading or writing submodel files.
#[derive(Debug, thiserror::Error)]
pub enum SubmodelError {
    #[error("{}: {what}", file.display())]
    BadFile {
        file: std::path::PathBuf,
        what: String,
    },
    #[error(
        "{}: made for base {found:.12}…, but the loaded base is {expected:.12}… — use the base it was trained on",
        file.display()
    )]
    WrongBase {
        file: std::path::PathBuf,
        found: String,
        expected: String,
    },
    #[error("{}: {source}", file.display())]
    Io {
        file: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}
