//! The Whisper text decoder: token + learned position embeddings, causal self-attention with a
//! key/value cache, cross-attention over the audio features, logits tied to the embeddings.

use candle_core::{D, Result, Tensor};

use super::config::WhisperConfig;
use super::layers::{Attention, AttnKind, Hooks, LayerNorm, Linear, Mlp, Stack, causal_mask};
use super::weights::Weights;

#[derive(Clone, Debug)]
struct Block {
    attn: Attention,
    attn_ln: LayerNorm,
    cross: Attention,
    cross_ln: LayerNorm,
    mlp: Mlp,
    mlp_ln: LayerNorm,
}

/// Per-layer state of an incremental decode: cross-attention K/V (fixed) and self-attention K/V
/// (grown by one position per step).
pub struct LayerCache {
    cross_k: Tensor,
    cross_v: Tensor,
    self_kv: Option<(Tensor, Tensor)>,
}

/// Cache for a whole decode of one batch.
pub struct DecodeCache {
    layers: Vec<LayerCache>,
    /// Number of positions already in the self-attention cache.
    pub offset: usize,
}

impl Block {
    fn load(w: &Weights, p: &str, n_head: usize, layer: usize) -> Result<Self> {
        let site = |kind| (Stack::Decoder, layer, kind);
        Ok(Self {
            attn: Attention::load(
                w,
                &format!("{p}.self_attn"),
                n_head,
                site(AttnKind::SelfAttn),
            )?,
            attn_ln: LayerNorm::load(w, &format!("{p}.self_attn_layer_norm"))?,
            cross: Attention::load(
                w,
                &format!("{p}.encoder_attn"),
                n_head,
                site(AttnKind::Cross),
            )?,
            cross_ln: LayerNorm::load(w, &format!("{p}.encoder_attn_layer_norm"))?,
            mlp: Mlp::load(w, p)?,
            mlp_ln: LayerNorm::load(w, &format!("{p}.final_layer_norm"))?,
        })
    }

    fn forward(
        &self,
        x: &Tensor,
        audio: CrossSource,
        mask: Option<&Tensor>,
        cache: Option<&mut LayerCache>,
        hooks: &dyn Hooks,
        grad: bool,
    ) -> Result<Tensor> {
        let h = self.attn_ln.forward(x, grad)?;
        let q = self.attn.query(&h, hooks)?;
        let (mut k, mut v) = self.attn.key_value(&h, hooks)?;
        let (cross_k, cross_v) = match (audio, cache) {
            (CrossSource::Cached, Some(c)) => {
                if let Some((pk, pv)) = &c.self_kv {
                    k = Tensor::cat(&[pk, &k], 1)?;
                    v = Tensor::cat(&[pv, &v], 1)?;
                }
                c.self_kv = Some((k.clone(), v.clone()));
                (c.cross_k.clone(), c.cross_v.clone())
            }
            (CrossSource::Features(a), _) => self.cross.key_value(a, hooks)?,
            (CrossSource::Cached, None) => {
                candle_core::bail!("decoder: cached step without a cache")
            }
        };
        let x = (x + self.attn.attend(&q, &k, &v, mask)?)?;
        let h = self.cross_ln.forward(&x, grad)?;
        let q = self.cross.query(&h, hooks)?;
        let x = (&x + self.cross.attend(&q, &cross_k, &cross_v, None)?)?;
        let h = self.mlp_ln.forward(&x, grad)?;
        x + self.mlp.forward(&h)?
    }
}

#[derive(Clone, Copy)]
enum CrossSource<'a> {
    Features(&'a Tensor),
    Cached,
}

/// Decoder weights.
#[derive(Clone, Debug)]
pub struct Decoder {
    embed: Tensor,
    /// The output projection: the token embedding, tied.
    out: Linear,
    positions: Tensor,
    blocks: Vec<Block>,
    ln: LayerNorm,
}

impl Decoder {
    pub fn load(w: &Weights, cfg: &WhisperConfig) -> Result<Self> {
        let blocks = (0..cfg.n_text_layer)
            .map(|i| Block::load(w, &format!("model.decoder.layers.{i}"), cfg.n_text_head, i))
            .collect::<Result<_>>()?;
        let embed = w.get("model.decoder.embed_tokens.weight")?;
        Ok(Self {
            out: Linear::of(w, "model.decoder.embed_tokens.weight", None)?,
            embed,
            positions: w.get("model.decoder.embed_positions.weight")?,
            blocks,
            ln: LayerNorm::load(w, "model.decoder.layer_norm")?,
        })
    }

    fn embed(&self, tokens: &Tensor, offset: usize) -> Result<Tensor> {
        let (b, l) = tokens.dims2()?;
        let tok = self.embed.index_select(&tokens.flatten_all()?, 0)?; // [B·L, d]
        let tok = tok.reshape((b, l, ()))?;
        tok.broadcast_add(&self.positions.narrow(0, offset, l)?)
    }

    /// `x: [..., d]` → logits `[..., vocab]` (tied output projection).
    pub fn logits(&self, x: &Tensor) -> Result<Tensor> {
        // One GEMM over all B·L rows (see `Linear::forward`): a broadcast matmul would read the
        // [vocab, d] embedding once per batch row.
        self.out.forward(x)
    }

    /// Teacher-forced pass: `tokens: [B, L]` over `audio: [B, T, d]` → hidden `[B, L, d]`.
    pub fn forward(
        &self,
        tokens: &Tensor,
        audio: &Tensor,
        hooks: &dyn Hooks,
        grad: bool,
    ) -> Result<Tensor> {
        let mut x = self.embed(tokens, 0)?;
        let mask = causal_mask(tokens.dim(1)?, tokens.device())?;
        for block in &self.blocks {
            x = block.forward(
                &x,
                CrossSource::Features(audio),
                Some(&mask),
                None,
                hooks,
                grad,
            )?;
        }
        self.ln.forward(&x, grad)
    }

    /// Starts an incremental decode: computes every layer's cross-attention K/V once.
    pub fn start(&self, audio: &Tensor, hooks: &dyn Hooks) -> Result<DecodeCache> {
        let layers = self
            .blocks
            .iter()
            .map(|b| {
                let (cross_k, cross_v) = b.cross.key_value(audio, hooks)?;
                Ok(LayerCache {
                    cross_k,
                    cross_v,
                    self_kv: None,
                })
            })
            .collect::<Result<_>>()?;
        Ok(DecodeCache { layers, offset: 0 })
    }

    /// Feeds `tokens: [B, L]` at the cache's offset; returns the last position's logits `[B, vocab]`.
    pub fn step(
        &self,
        tokens: &Tensor,
        cache: &mut DecodeCache,
        hooks: &dyn Hooks,
    ) -> Result<Tensor> {
        let x = self.advance(tokens, cache, hooks)?;
        self.logits_at(&x, x.dim(1)? - 1)
    }

    /// Like [`Self::step`], and also returns the logits `[B, vocab]` at input position `at`
    /// (Whisper reads the no-speech probability at the `<|startoftranscript|>` position of the
    /// prompt). The last position's logits are computed exactly as by `step`.
    pub fn step_also_at(
        &self,
        tokens: &Tensor,
        cache: &mut DecodeCache,
        hooks: &dyn Hooks,
        at: usize,
    ) -> Result<(Tensor, Tensor)> {
        let x = self.advance(tokens, cache, hooks)?;
        Ok((self.logits_at(&x, x.dim(1)? - 1)?, self.logits_at(&x, at)?))
    }

    /// Final layer norm and output projection of position `at` of hidden `x: [B, L, d]`.
    fn logits_at(&self, x: &Tensor, at: usize) -> Result<Tensor> {
        let h = self.ln.forward(&x.narrow(1, at, 1)?, false)?;
        self.logits(&h)?.squeeze(D::Minus2)
    }

    /// Runs the blocks over `tokens: [B, L]` at the cache's offset, growing the cache; returns
    /// the hidden states `[B, L, d]` before the final layer norm.
    fn advance(
        &self,
        tokens: &Tensor,
        cache: &mut DecodeCache,
        hooks: &dyn Hooks,
    ) -> Result<Tensor> {
        let l = tokens.dim(1)?;
        let mut x = self.embed(tokens, cache.offset)?;
        // Only the prompt step (L > 1) needs a mask: later steps see all cached positions.
        let mask = if l > 1 {
            Some(causal_mask(l, tokens.device())?)
        } else {
            None
        };
        for (block, lc) in self.blocks.iter().zip(cache.layers.iter_mut()) {
            x = block.forward(
                &x,
                CrossSource::Cached,
                mask.as_ref(),
                Some(lc),
                hooks,
                false,
            )?;
        }
        cache.offset += l;
        Ok(x)
    }
}
