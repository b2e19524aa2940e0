//! Per-speaker submodels: adapter kinds and hyper-parameters, the adapter table and its
//! per-example gather (`adapters`), and the on-disk file format (`file`).

pub mod adapters;
pub mod file;
pub mod pca;
pub mod peft;
pub mod space;

use serde::{Deserialize, Serialize};

use crate::model::WhisperConfig;
use crate::model::layers::{Site, Stack};

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
    /// Residual adapters after each encoder block (the voice) plus low-rank updates of q/v in
    /// decoder self- and cross-attention (the speaker's words and phrasing).
    Hybrid,
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Residual => "residual",
            Kind::Lora => "lora",
            Kind::Embedding => "embedding",
            Kind::Hybrid => "hybrid",
        })
    }
}

/// Rank of a `hybrid` submodel's decoder LoRA (its `rank` is the residual bottleneck).
pub const HYBRID_LORA_RANK: usize = 8;

/// Shape of a submodel: kind, bottleneck/rank and (LoRA) scaling numerator α.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub kind: Kind,
    /// Residual bottleneck, or the LoRA rank of kind `lora`.
    pub rank: usize,
    /// LoRA scaling numerator: updates are scaled by α / LoRA rank.
    pub alpha: f64,
    /// Kind `hybrid`: the rank of its decoder LoRA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lora_rank: Option<usize>,
}

impl Spec {
    pub fn new(kind: Kind, rank: usize) -> Self {
        let lora_rank = (kind == Kind::Hybrid).then_some(HYBRID_LORA_RANK);
        Self {
            kind,
            rank,
            alpha: lora_rank.unwrap_or(rank) as f64,
            lora_rank,
        }
    }

    /// Whether residual adapters follow the encoder blocks.
    pub fn has_residual(&self) -> bool {
        matches!(self.kind, Kind::Residual | Kind::Embedding | Kind::Hybrid)
    }

    /// The rank of the LoRA updates.
    pub fn lora_rank(&self) -> usize {
        self.lora_rank.unwrap_or(self.rank)
    }

    /// Whether the attention projection at `site` gets a LoRA update.
    pub fn lora_at(&self, site: &Site) -> bool {
        match self.kind {
            Kind::Lora => true,
            Kind::Hybrid => site.stack == Stack::Decoder,
            Kind::Residual | Kind::Embedding => false,
        }
    }

    /// The attention projections that get LoRA updates (none for residual kinds).
    pub fn lora_sites(&self, cfg: &WhisperConfig) -> Vec<Site> {
        adapters::lora_sites(cfg)
            .into_iter()
            .filter(|s| self.lora_at(s))
            .collect()
    }

    /// Where the adapters attach, as recorded in the metadata (HF module names; the LoRA ones
    /// follow [`Spec::lora_at`]).
    pub fn targets(&self) -> Vec<String> {
        use crate::model::layers::{AttnKind, Proj};
        let modules = [
            (Stack::Encoder, AttnKind::SelfAttn, "encoder.self_attn"),
            (Stack::Decoder, AttnKind::SelfAttn, "decoder.self_attn"),
            (Stack::Decoder, AttnKind::Cross, "decoder.encoder_attn"),
        ];
        let lora = modules.into_iter().filter(|&(stack, attn, _)| {
            self.lora_at(&Site {
                stack,
                layer: 0,
                attn,
                proj: Proj::Q,
            })
        });
        self.has_residual()
            .then(|| "encoder.blocks.*.output".to_string())
            .into_iter()
            .chain(lora.flat_map(|(_, _, m)| [format!("{m}.q_proj"), format!("{m}.v_proj")]))
            .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The metadata's targets follow the LoRA rule (`lora_at`) and the residual rule.
    #[test]
    fn targets_name_where_each_kind_attaches() {
        let qv = |m: &str| [format!("{m}.q_proj"), format!("{m}.v_proj")];
        let res = "encoder.blocks.*.output".to_string();
        let dec: Vec<String> = ["decoder.self_attn", "decoder.encoder_attn"]
            .iter()
            .flat_map(|m| qv(m))
            .collect();
        let lora: Vec<String> = qv("encoder.self_attn")
            .into_iter()
            .chain(dec.clone())
            .collect();
        assert_eq!(
            Spec::new(Kind::Residual, 4).targets(),
            std::slice::from_ref(&res)
        );
        assert_eq!(
            Spec::new(Kind::Embedding, 4).targets(),
            std::slice::from_ref(&res)
        );
        assert_eq!(Spec::new(Kind::Lora, 4).targets(), lora);
        let hybrid: Vec<String> = std::iter::once(res).chain(dec).collect();
        assert_eq!(Spec::new(Kind::Hybrid, 4).targets(), hybrid);
    }
}
