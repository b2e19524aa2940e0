//! The Whisper audio encoder: two convolutions, sinusoidal positions, pre-norm transformer blocks,
//! with a residual-adapter hook after every block.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Conv1d, Conv1dConfig};

use super::config::WhisperConfig;
use super::kernels;
use super::layers::{Attention, AttnKind, Hooks, LayerNorm, Mlp, Stack};
use super::weights::Weights;

#[derive(Clone, Debug)]
struct Block {
    attn: Attention,
    attn_ln: LayerNorm,
    mlp: Mlp,
    mlp_ln: LayerNorm,
}

impl Block {
    fn load(w: &Weights, p: &str, n_head: usize, layer: usize) -> Result<Self> {
        let site = (Stack::Encoder, layer, AttnKind::SelfAttn);
        Ok(Self {
            attn: Attention::load(w, &format!("{p}.self_attn"), n_head, site)?,
            attn_ln: LayerNorm::load(w, &format!("{p}.self_attn_layer_norm"))?,
            mlp: Mlp::load(w, p)?,
            mlp_ln: LayerNorm::load(w, &format!("{p}.final_layer_norm"))?,
        })
    }

    fn forward(&self, x: &Tensor, hooks: &dyn Hooks, grad: bool) -> Result<Tensor> {
        let h = self.attn_ln.forward(x, grad)?;
        let x = (x + self.attn.self_attend(&h, None, hooks)?)?;
        let h = self.mlp_ln.forward(&x, grad)?;
        x + self.mlp.forward(&h)?
    }
}

/// Encoder weights; `forward` maps a log-mel batch to audio features.
#[derive(Clone, Debug)]
pub struct Encoder {
    conv1: Conv1d,
    conv2: Conv1d,
    positions: Tensor,
    blocks: Vec<Block>,
    ln_post: LayerNorm,
}

impl Encoder {
    pub fn load(w: &Weights, cfg: &WhisperConfig) -> Result<Self> {
        let conv = |name: &str, stride| -> Result<Conv1d> {
            let c = Conv1dConfig {
                padding: 1,
                stride,
                ..Default::default()
            };
            let weight = w.get(&format!("model.encoder.{name}.weight"))?;
            let bias = w.get(&format!("model.encoder.{name}.bias"))?;
            Ok(Conv1d::new(weight, Some(bias), c))
        };
        let blocks = (0..cfg.n_audio_layer)
            .map(|i| Block::load(w, &format!("model.encoder.layers.{i}"), cfg.n_audio_head, i))
            .collect::<Result<_>>()?;
        Ok(Self {
            conv1: conv("conv1", 1)?,
            conv2: conv("conv2", 2)?,
            positions: w.get("model.encoder.embed_positions.weight")?,
            blocks,
            ln_post: LayerNorm::load(w, "model.encoder.layer_norm")?,
        })
    }

    /// `mel: [B, n_mels, F]` (F even, F/2 ≤ n_audio_ctx) → `[B, F/2, d]`.
    pub fn forward(&self, mel: &Tensor, hooks: &dyn Hooks, grad: bool) -> Result<Tensor> {
        let x = self.first_block()?.forward(&self.stem(mel)?, hooks, grad)?;
        self.after_first_block(x, hooks, grad)
    }

    /// What the frozen base computes before any residual adapter: the stem and block 0, up to
    /// the hook after it. Submodels without LoRA updates in block 0 (residual, embedding,
    /// hybrid) continue from it with [`Encoder::forward_from_prefix`], so a job that sees the same
    /// utterances every step (an embedding fit) computes it once.
    pub fn frozen_prefix(&self, mel: &Tensor) -> Result<Tensor> {
        self.first_block()?
            .forward(&self.stem(mel)?, &super::layers::NoHooks, false)
    }

    /// The rest of [`Encoder::forward`] from a [`Encoder::frozen_prefix`]; equal to `forward`
    /// for hooks that leave block 0's projections alone.
    pub fn forward_from_prefix(
        &self,
        prefix: &Tensor,
        hooks: &dyn Hooks,
        grad: bool,
    ) -> Result<Tensor> {
        self.after_first_block(prefix.clone(), hooks, grad)
    }

    /// Convolutions with GELU, then positions: `[B, n_mels, F]` → `[B, F/2, d]`.
    fn stem(&self, mel: &Tensor) -> Result<Tensor> {
        let x = kernels::gelu(&self.conv1.forward(mel)?)?; // [B, d, F]
        let x = kernels::gelu(&self.conv2.forward(&x)?)?; // [B, d, F/2]
        let x = x.transpose(1, 2)?; // [B, F/2, d]
        let t = x.dim(1)?;
        x.broadcast_add(&self.positions.narrow(0, 0, t)?)
    }

    fn first_block(&self) -> Result<&Block> {
        self.blocks
            .first()
            .ok_or_else(|| candle_core::Error::Msg("encoder without blocks".into()))
    }

    /// The hook after block 0, blocks 1.. with theirs, the final norm.
    fn after_first_block(&self, x: Tensor, hooks: &dyn Hooks, grad: bool) -> Result<Tensor> {
        let mut x = hooks.encoder_block_out(0, &x)?;
        for (i, block) in self.blocks.iter().enumerate().skip(1) {
            x = block.forward(&x, hooks, grad)?;
            x = hooks.encoder_block_out(i, &x)?;
        }
        self.ln_post.forward(&x, grad)
    }
}
