//! Building blocks shared by the encoder and decoder: linear, layer norm, attention, MLP, and the
//! adapter hook points (`Hooks`) where a submodel plugs into the frozen base.

use candle_core::quantized::QMatMul;
use candle_core::{Result, Tensor};
use candle_nn::Module;

use super::frozen::{AttentionCore, FrozenLinear, FrozenMlp};
use super::kernels;
use super::weights::Weights;

/// Which stack an attention projection lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stack {
    Encoder,
    Decoder,
}

/// Self-attention or (decoder only) cross-attention over the encoder output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AttnKind {
    SelfAttn,
    Cross,
}

/// Which projection of an attention module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proj {
    Q,
    V,
}

/// One place a low-rank (LoRA) update can attach: stack, layer, attention kind, projection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Site {
    pub stack: Stack,
    pub layer: usize,
    pub attn: AttnKind,
    pub proj: Proj,
}

/// Insertion points of a submodel into the base forward pass. Every method sees the whole batch
/// (`[B, T, d]`), so an implementation may use a different adapter per example.
pub trait Hooks {
    /// Called with the output of encoder block `layer`; returns the (possibly adapted) output.
    fn encoder_block_out(&self, _layer: usize, h: &Tensor) -> Result<Tensor> {
        Ok(h.clone())
    }
    /// An additive update for a projection's output given its input `x: [B, T, d_in]`.
    fn projection_delta(&self, _site: Site, _x: &Tensor) -> Result<Option<Tensor>> {
        Ok(None)
    }
}

/// The base model alone: no submodel.
pub struct NoHooks;
impl Hooks for NoHooks {}

/// Layer norm (eps 1e-5) with learned scale and shift.
#[derive(Clone, Debug)]
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
}

impl LayerNorm {
    pub fn load(w: &Weights, prefix: &str) -> Result<Self> {
        Ok(Self {
            weight: w.get(&format!("{prefix}.weight"))?,
            bias: w.get(&format!("{prefix}.bias"))?,
        })
    }

    pub fn forward(&self, x: &Tensor, grad: bool) -> Result<Tensor> {
        if grad {
            kernels::layer_norm(x, &self.weight, &self.bias, 1e-5)
        } else {
            candle_nn::ops::layer_norm(&x.contiguous()?, &self.weight, &self.bias, 1e-5)
        }
    }
}

/// `y = x Wᵀ + b` on frozen weights; int8 × int8 at inference where the base has a Q8_0 copy.
#[derive(Clone, Debug)]
pub struct Linear {
    f32: candle_nn::Linear,
    int8: Option<QMatMul>,
}

impl Linear {
    /// A plain f32 linear on `weight: [out, in]`.
    pub fn new(weight: Tensor, bias: Option<Tensor>) -> Self {
        Self {
            f32: candle_nn::Linear::new(weight, bias),
            int8: None,
        }
    }

    /// Wraps the weight `name` `[out, in]` of `w` (e.g. the tied output projection).
    pub fn of(w: &Weights, name: &str, bias: Option<Tensor>) -> Result<Self> {
        Ok(Self {
            f32: candle_nn::Linear::new(w.get(name)?, bias),
            int8: w
                .int8
                .get(name)
                .cloned()
                .map(QMatMul::from_arc)
                .transpose()?,
        })
    }

    pub fn load(w: &Weights, prefix: &str, bias: bool) -> Result<Self> {
        let bias = if bias {
            Some(w.get(&format!("{prefix}.bias"))?)
        } else {
            None
        };
        Self::of(w, &format!("{prefix}.weight"), bias)
    }

    /// `x Wᵀ + b`. When `x` carries gradient (training), the product runs as [`FrozenLinear`] so
    /// that backward computes only the input gradient, not a wasted one for the frozen weight;
    /// otherwise in int8 when the weight has a Q8_0 copy, else as one f32 GEMM.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if x.track_op() {
            return x.contiguous()?.apply_op1(FrozenLinear(self.f32.clone()));
        }
        match &self.int8 {
            Some(q) => {
                let y = q.forward(&x.contiguous()?)?;
                match self.f32.bias() {
                    Some(b) => y.broadcast_add(b),
                    None => Ok(y),
                }
            }
            None => gemm_rows(&self.f32, x),
        }
    }
}

/// Applies `lin` to every row of `x: [..., d_in]` as one GEMM, so the weight is read once
/// (candle's 3-D path would re-read it for every batch element).
fn gemm_rows(lin: &candle_nn::Linear, x: &Tensor) -> Result<Tensor> {
    let dims = x.dims().to_vec();
    let d_in = *dims.last().unwrap_or(&1);
    let y = lin.forward(&x.reshape((x.elem_count() / d_in.max(1), d_in))?)?;
    y.reshape(with_last_dim(&dims, y.dim(1)?))
}

/// `dims` with its last entry replaced by `n`: the shape of a linear layer's output.
pub(super) fn with_last_dim(dims: &[usize], n: usize) -> Vec<usize> {
    let mut out = dims.to_vec();
    if let Some(last) = out.last_mut() {
        *last = n;
    }
    out
}

/// Multi-head attention with the HF Whisper layout (`q/k/v/out_proj`, k without bias).
#[derive(Clone, Debug)]
pub struct Attention {
    q: Linear,
    k: Linear,
    v: Linear,
    out: Linear,
    n_head: usize,
    stack: Stack,
    layer: usize,
    kind: AttnKind,
}

impl Attention {
    pub fn load(
        w: &Weights,
        prefix: &str,
        n_head: usize,
        (stack, layer, kind): (Stack, usize, AttnKind),
    ) -> Result<Self> {
        Ok(Self {
            q: Linear::load(w, &format!("{prefix}.q_proj"), true)?,
            k: Linear::load(w, &format!("{prefix}.k_proj"), false)?,
            v: Linear::load(w, &format!("{prefix}.v_proj"), true)?,
            out: Linear::load(w, &format!("{prefix}.out_proj"), true)?,
            n_head,
            stack,
            layer,
            kind,
        })
    }

    fn site(&self, proj: Proj) -> Site {
        Site {
            stack: self.stack,
            layer: self.layer,
            attn: self.kind,
            proj,
        }
    }

    fn adapted(&self, lin: &Linear, proj: Proj, x: &Tensor, hooks: &dyn Hooks) -> Result<Tensor> {
        let y = lin.forward(x)?;
        match hooks.projection_delta(self.site(proj), x)? {
            Some(delta) => y + delta,
            None => Ok(y),
        }
    }

    /// Query projection of `x: [B, T, d]`.
    pub fn query(&self, x: &Tensor, hooks: &dyn Hooks) -> Result<Tensor> {
        self.adapted(&self.q, Proj::Q, x, hooks)
    }

    /// Key and value projections of `x: [B, S, d]`.
    pub fn key_value(&self, x: &Tensor, hooks: &dyn Hooks) -> Result<(Tensor, Tensor)> {
        let k = self.k.forward(x)?;
        let v = self.adapted(&self.v, Proj::V, x, hooks)?;
        Ok((k, v))
    }

    /// Scaled dot-product attention of `q: [B, T, d]` over `k, v: [B, S, d]`, then the output
    /// projection. `mask` (`[T, S]`, 0 or -inf) makes it causal.
    pub fn attend(
        &self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        mask: Option<&Tensor>,
    ) -> Result<Tensor> {
        let (b, t, d) = q.dims3()?;
        let s = k.dim(1)?;
        let tracked = q.track_op() || k.track_op() || v.track_op();
        if tracked && kernels::fused(q) {
            let core = AttentionCore::new(self.n_head, mask.cloned());
            let y = q
                .contiguous()?
                .apply_op3(&k.contiguous()?, &v.contiguous()?, core)?;
            return self.out.forward(&y);
        }
        let split = |x: &Tensor, n: usize| split_heads(x, n, self.n_head);
        let q = (split(q, t)? * hd_scale(d / self.n_head))?;
        let k = split(k, s)?;
        let v = split(v, s)?;
        let y = if tracked || b * self.n_head * t * s <= SCORE_BUDGET {
            weigh_values(&q, &k, &v, mask)?
        } else {
            // Inference over long contexts (the 30 s window: 8 × 6 × 1500² scores, 432 MB):
            // one example and a block of query rows at a time, each row computed as before.
            let rows = (SCORE_BUDGET / (self.n_head * s)).max(1);
            let mut examples = Vec::with_capacity(b);
            for i in 0..b {
                let (qi, ki, vi) = (q.narrow(0, i, 1)?, k.narrow(0, i, 1)?, v.narrow(0, i, 1)?);
                let mut blocks = Vec::with_capacity(t.div_ceil(rows));
                for start in (0..t).step_by(rows) {
                    let n = rows.min(t - start);
                    let qb = qi.narrow(2, start, n)?.contiguous()?;
                    let mb = mask.map(|m| m.narrow(0, start, n)).transpose()?;
                    blocks.push(weigh_values(&qb, &ki, &vi, mb.as_ref())?);
                }
                examples.push(Tensor::cat(&blocks, 2)?);
            }
            Tensor::cat(&examples, 0)?
        }; // [B, H, T, hd]
        self.out.forward(&merge_heads(&y)?)
    }

    /// Self-attention without cache: `x: [B, T, d]` attends to itself.
    pub fn self_attend(
        &self,
        x: &Tensor,
        mask: Option<&Tensor>,
        hooks: &dyn Hooks,
    ) -> Result<Tensor> {
        let q = self.query(x, hooks)?;
        let (k, v) = self.key_value(x, hooks)?;
        self.attend(&q, &k, &v, mask)
    }
}

/// Most attention scores an inference pass holds at once (8 MiB of f32): above it, attention
/// runs one example and a block of query rows at a time. Unblocked, the 30 s window's scores
/// were fresh memory on every call, and zeroing those pages was 30 % of a stock pass.
const SCORE_BUDGET: usize = 1 << 21;

/// Attention's query scale `1/√hd` for heads of `hd` dims.
pub(super) fn hd_scale(hd: usize) -> f64 {
    (hd as f64).powf(-0.5)
}

/// `x: [B, n, H·hd]` → `[B, H, n, hd]`, contiguous.
pub(super) fn split_heads(x: &Tensor, n: usize, n_head: usize) -> Result<Tensor> {
    let (b, _, d) = x.dims3()?;
    x.reshape((b, n, n_head, d / n_head))?
        .transpose(1, 2)?
        .contiguous()
}

/// `[B, H, n, hd]` → `[B, n, H·hd]`.
pub(super) fn merge_heads(x: &Tensor) -> Result<Tensor> {
    let (b, h, n, hd) = x.dims4()?;
    x.transpose(1, 2)?.reshape((b, n, h * hd))
}

/// `softmax(q kᵀ + mask) v` for `q: [B, H, T, hd]`, `k, v: [B, H, S, hd]`, `mask: [T, S]`.
pub(super) fn weigh_values(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: Option<&Tensor>,
) -> Result<Tensor> {
    let mut att = q.matmul(&k.t()?)?; // [B, H, T, S]
    if let Some(mask) = mask {
        att = att.broadcast_add(mask)?;
    }
    kernels::softmax(&att)?.matmul(v)
}

/// The feed-forward block: fc1 → GELU (erf) → fc2.
#[derive(Clone, Debug)]
pub struct Mlp {
    fc1: Linear,
    fc2: Linear,
}

impl Mlp {
    pub fn load(w: &Weights, prefix: &str) -> Result<Self> {
        Ok(Self {
            fc1: Linear::load(w, &format!("{prefix}.fc1"), true)?,
            fc2: Linear::load(w, &format!("{prefix}.fc2"), true)?,
        })
    }

    /// In training (`x` carries gradient) one [`FrozenMlp`] op; otherwise layer by layer (int8
    /// where the base has Q8_0 copies).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if x.track_op() && kernels::fused(x) {
            let op = FrozenMlp::new(self.fc1.f32.clone(), self.fc2.f32.clone());
            return x.contiguous()?.apply_op1(op);
        }
        self.fc2.forward(&kernels::gelu(&self.fc1.forward(x)?)?)
    }
}

/// `[T, T]` causal mask: 0 on and below the diagonal, -inf above.
pub fn causal_mask(t: usize, device: &candle_core::Device) -> Result<Tensor> {
    let mask: Vec<f32> = (0..t)
        .flat_map(|i| (0..t).map(move |j| if j > i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(mask, (t, t), device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    #[test]
    fn the_fused_training_mlp_equals_its_three_ops_exactly() {
        let dev = Device::Cpu;
        let lin = |o: usize, i: usize| {
            let w = Tensor::randn(0f32, 0.5, (o, i), &dev).unwrap();
            Linear::new(w, Some(Tensor::randn(0f32, 0.5, o, &dev).unwrap()))
        };
        let mlp = Mlp {
            fc1: lin(32, 8),
            fc2: lin(8, 32),
        };
        let x = Var::from_tensor(&Tensor::randn(0f32, 2.0, (3, 5, 8), &dev).unwrap()).unwrap();
        let coef = Tensor::randn(0f32, 1.0, (3, 5, 8), &dev).unwrap();
        let run = |y: Tensor| {
            let g = (&y * &coef).unwrap().sum_all().unwrap().backward().unwrap();
            let gx = g.get(x.as_tensor()).unwrap().flatten_all().unwrap();
            (
                y.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
                gx.to_vec1::<f32>().unwrap(),
            )
        };
        let fused = run(mlp.forward(x.as_tensor()).unwrap());
        let h = mlp.fc1.forward(x.as_tensor()).unwrap();
        let apart = run(mlp.fc2.forward(&kernels::gelu(&h).unwrap()).unwrap());
        assert_eq!(fused, apart);
        assert!(fused.1.iter().any(|g| *g != 0.0));
    }

    #[test]
    fn the_fused_training_attention_equals_candle_ops_exactly() {
        let dev = Device::Cpu;
        let (b, t, s, d, h) = (2, 5, 7, 8, 2);
        let var = |n| Var::from_tensor(&Tensor::randn(0f32, 1.0, (b, n, d), &dev).unwrap());
        let (q, k, v) = (var(t).unwrap(), var(s).unwrap(), var(s).unwrap());
        let mask = causal_mask(t, &dev)
            .unwrap()
            .pad_with_zeros(1, 0, s - t)
            .unwrap();
        let coef = Tensor::randn(0f32, 1.0, (b, t, d), &dev).unwrap();
        let run = |y: Tensor| {
            let g = (&y * &coef).unwrap().sum_all().unwrap().backward().unwrap();
            let flat = |x: &Tensor| x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let grads: Vec<_> = [&q, &k, &v]
                .iter()
                .map(|x| flat(g.get(x.as_tensor()).unwrap()))
                .collect();
            (flat(&y), grads)
        };
        for m in [None, Some(&mask)] {
            let (q, k, v) = (q.as_tensor(), k.as_tensor(), v.as_tensor());
            let core = AttentionCore::new(h, m.cloned());
            let fused = run(q.apply_op3(k, v, core).unwrap());
            let qh = (split_heads(q, t, h).unwrap() * hd_scale(d / h)).unwrap();
            let (kh, vh) = (split_heads(k, s, h).unwrap(), split_heads(v, s, h).unwrap());
            let y = weigh_values(&qh, &kh, &vh, m).unwrap();
            let apart = run(merge_heads(&y).unwrap());
            assert_eq!(fused, apart, "mask {}", m.is_some());
            assert!(fused.1.iter().all(|g| g.iter().any(|x| *x != 0.0)));
        }
    }

    #[test]
    fn long_inference_attention_in_blocks_equals_one_pass() {
        let dev = Device::Cpu;
        let (b, t, d) = (2, 1100, 8);
        let lin = |o: f32| {
            let w = Tensor::randn(0f32, 0.5, (d, d), &dev).unwrap();
            Linear::new(w, Some(Tensor::full(o, d, &dev).unwrap()))
        };
        let attn = Attention {
            q: lin(0.1),
            k: lin(0.0),
            v: lin(-0.2),
            out: lin(0.3),
            n_head: 2,
            stack: Stack::Encoder,
            layer: 0,
            kind: AttnKind::SelfAttn,
        };
        assert!(b * 2 * t * t > SCORE_BUDGET, "the blocked path must run");
        let x = |scale: f64| (Tensor::randn(0f32, 1.0, (b, t, d), &dev).unwrap() * scale).unwrap();
        let (q, k, v) = (x(3.0), x(3.0), x(1.0));
        let mask = causal_mask(t, &dev).unwrap();
        for m in [None, Some(&mask)] {
            let blocked = attn.attend(&q, &k, &v, m).unwrap();
            // A tracked input takes the one-pass path (training).
            let tracked = Var::from_tensor(&q).unwrap();
            let whole = attn.attend(tracked.as_tensor(), &k, &v, m).unwrap();
            let diff = (blocked - whole).unwrap().abs().unwrap();
            let max = diff.flatten_all().unwrap().max(0).unwrap();
            assert!(
                max.to_scalar::<f32>().unwrap() <= 1e-6,
                "mask {}",
                m.is_some()
            );
        }
    }

    #[test]
    fn frozen_linear_gives_the_input_gradient_of_a_plain_matmul() {
        let dev = Device::Cpu;
        let w = Tensor::new(&[[1f32, 2.0, 3.0], [-1.0, 0.5, 2.0]], &dev).unwrap(); // [out 2, in 3]
        let b = Tensor::new(&[0.5f32, -0.5], &dev).unwrap();
        let lin = Linear::new(w.clone(), Some(b));
        let x = Var::new(&[[[1f32, 0.0, -1.0], [2.0, 1.0, 0.0]]], &dev).unwrap(); // [1, 2, 3]
        let y = lin.forward(x.as_tensor()).unwrap();
        // y = x Wᵀ + b: row 0 → [1-3+0.5, -1-2-0.5] = [-1.5, -3.5]; row 1 → [2+2+0.5, -2+0.5-0.5] = [4.5, -2.0]
        assert_eq!(
            y.to_vec3::<f32>().unwrap(),
            vec![vec![vec![-1.5, -3.5], vec![4.5, -2.0]]]
        );
        let coef = Tensor::new(&[[[1f32, 2.0], [3.0, -1.0]]], &dev).unwrap();
        let g = (y * &coef).unwrap().sum_all().unwrap().backward().unwrap();
        let gx = g.get(x.as_tensor()).unwrap().to_vec3::<f32>().unwrap();
        // ∂L/∂x = coef · W: [1,2]·W = [-1, 3, 7]; [3,-1]·W = [4, 5.5, 7]
        assert_eq!(gx, vec![vec![vec![-1.0, 3.0, 7.0], vec![4.0, 5.5, 7.0]]]);

        // The same rows at an offset in a larger storage (a narrowed batch) give the same result.
        let parent = Var::new(
            &[
                [[9f32, 9.0, 9.0], [9.0, 9.0, 9.0]],
                [[1f32, 0.0, -1.0], [2.0, 1.0, 0.0]],
            ],
            &dev,
        )
        .unwrap();
        let narrowed = parent.as_tensor().narrow(0, 1, 1).unwrap();
        let y = lin.forward(&narrowed).unwrap();
        assert_eq!(
            y.to_vec3::<f32>().unwrap(),
            vec![vec![vec![-1.5, -3.5], vec![4.5, -2.0]]]
        );
    }
}
