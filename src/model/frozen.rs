//! Training-time autograd ops for the frozen base: linear layers and the MLP whose backward
//! computes only the input's gradient (candle's matmul backward would also compute a weight
//! gradient nobody reads), and the MLP and attention each as one op, so that candle's backward
//! does not zero-fill and add a gradient buffer for every intermediate tensor.

use std::sync::Mutex;

use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};

use super::kernels;
use super::layers::{hd_scale, merge_heads, split_heads, with_last_dim};

/// `x Wᵀ + b` for contiguous `x: [..., k]` straight on the input's and the weight's storage (no
/// copy of either), then the bias added in place.
fn linear(lin: &candle_nn::Linear, x: &CpuStorage, layout: &Layout) -> Result<(Vec<f32>, Shape)> {
    use candle_core::backend::BackendStorage as _;
    let (start, _) = layout
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg("frozen linear: input not contiguous".into()))?;
    let weight = lin.weight();
    let (n, k) = weight.dims2()?;
    let m = layout.shape().elem_count() / k.max(1);
    let (w, w_layout) = weight.storage_and_layout();
    let candle_core::Storage::Cpu(w) = &*w else {
        candle_core::bail!("frozen linear: weight not on the CPU")
    };
    let x_layout = Layout::contiguous_with_offset((m, k), start);
    let y = x.matmul(w, (1, m, n, k), &x_layout, &w_layout.transpose(0, 1)?)?;
    let CpuStorage::F32(mut y) = y else {
        candle_core::bail!("frozen linear: f32 only")
    };
    if let Some(b) = lin.bias() {
        let b = b.to_vec1::<f32>()?;
        for row in y.chunks_mut(n) {
            row.iter_mut().zip(&b).for_each(|(o, b)| *o += b);
        }
    }
    Ok((y, with_last_dim(layout.shape().dims(), n).into()))
}

/// A linear layer with frozen weights as one autograd op: its backward returns `∂L/∂x = g W`.
pub(super) struct FrozenLinear(pub candle_nn::Linear);

impl CustomOp1 for FrozenLinear {
    fn name(&self) -> &'static str {
        "frozen-linear"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (y, shape) = linear(&self.0, storage, layout)?;
        Ok((CpuStorage::F32(y), shape))
    }

    fn bwd(&self, _arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(grad.broadcast_matmul(self.0.weight())?))
    }
}

/// The MLP `fc2(GELU(fc1(x)))` on frozen weights as one autograd op. It keeps fc1's output `h`
/// for its backward, `∂L/∂x = (GELU'(h) ⊙ g W₂) W₁`: the same arithmetic as three separate ops,
/// without the zero-filled gradient buffers and additions candle's backward makes for the two
/// hidden activations, and with one of them kept instead of two.
pub(super) struct FrozenMlp {
    fc1: candle_nn::Linear,
    fc2: candle_nn::Linear,
    hidden: Mutex<Option<Tensor>>,
}

impl FrozenMlp {
    pub fn new(fc1: candle_nn::Linear, fc2: candle_nn::Linear) -> Self {
        Self {
            fc1,
            fc2,
            hidden: Mutex::new(None),
        }
    }
}

impl CustomOp1 for FrozenMlp {
    fn name(&self) -> &'static str {
        "frozen-mlp"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (h, h_shape) = linear(&self.fc1, storage, layout)?;
        let a = CpuStorage::F32(kernels::gelu_values(&h));
        let (y, shape) = linear(&self.fc2, &a, &Layout::contiguous(&h_shape))?;
        let h = Tensor::from_vec(h, h_shape, &candle_core::Device::Cpu)?;
        *self.hidden.lock().unwrap_or_else(|e| e.into_inner()) = Some(h);
        Ok((CpuStorage::F32(y), shape))
    }

    fn bwd(&self, _arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let h = self
            .hidden
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| candle_core::Error::Msg("frozen-mlp: backward before forward".into()))?;
        let g_a = grad.broadcast_matmul(self.fc2.weight())?;
        let g_h = kernels::gelu_grad(&h, &g_a)?;
        Ok(Some(g_h.broadcast_matmul(self.fc1.weight())?))
    }
}

/// What [`AttentionCore`]'s backward reads: the heads `q` (scaled), `k`, `v` as `[B, H, n, hd]`
/// and the attention probabilities `p: [B, H, T, S]`.
struct Kept {
    q: Tensor,
    k: Tensor,
    v: Tensor,
    p: Tensor,
}

/// Multi-head scaled dot-product attention `softmax(q kᵀ/√hd + mask) v` of `q: [B, T, d]` over
/// `k, v: [B, S, d]` (heads merged again: `[B, T, d]`) as one autograd op. Its backward is the
/// chain rule of the same candle ops (matmul, softmax, scale, head split and merge) in the order
/// candle's own backward runs them, so the gradients are the same numbers; what goes is the
/// zero-filled buffer and addition candle's backward makes for each of the ~15 intermediate
/// tensors, two of them `[B, H, T, S]`.
pub(super) struct AttentionCore {
    n_head: usize,
    /// `[T, S]`, 0 or -inf (causal self-attention).
    mask: Option<Tensor>,
    kept: Mutex<Option<Kept>>,
}

impl AttentionCore {
    pub fn new(n_head: usize, mask: Option<Tensor>) -> Self {
        Self {
            n_head,
            mask,
            kept: Mutex::new(None),
        }
    }
}

/// A contiguous CPU input of a custom op as a tensor (a copy).
fn input(storage: &CpuStorage, layout: &Layout) -> Result<Tensor> {
    let data = kernels::slice(storage, layout, "attention")?;
    Tensor::from_slice(data, layout.shape(), &candle_core::Device::Cpu)
}

impl candle_core::CustomOp3 for AttentionCore {
    fn name(&self) -> &'static str {
        "attention-core"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (q, k, v) = (input(s1, l1)?, input(s2, l2)?, input(s3, l3)?);
        let (_, t, d) = q.dims3()?;
        let s = k.dim(1)?;
        let q = (split_heads(&q, t, self.n_head)? * hd_scale(d / self.n_head))?;
        let k = split_heads(&k, s, self.n_head)?;
        let v = split_heads(&v, s, self.n_head)?;
        let mut att = q.matmul(&k.t()?)?;
        if let Some(mask) = &self.mask {
            att = att.broadcast_add(mask)?;
        }
        let p = kernels::softmax(&att)?;
        let y = merge_heads(&p.matmul(&v)?)?;
        let shape = y.shape().clone();
        let y = y.flatten_all()?.to_vec1::<f32>()?;
        *self.kept.lock().unwrap_or_else(|e| e.into_inner()) = Some(Kept { q, k, v, p });
        Ok((CpuStorage::F32(y), shape))
    }

    fn bwd(
        &self,
        _q: &Tensor,
        _k: &Tensor,
        _v: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let guard = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let Some(Kept { q, k, v, p }) = guard.as_ref() else {
            candle_core::bail!("attention-core: backward before forward")
        };
        let (_, t, d) = grad.dims3()?;
        let g = split_heads(grad, t, self.n_head)?; // [B, H, T, hd]
        // y = p v
        let g_p = g.matmul(&v.t()?)?;
        let g_v = p.t()?.matmul(&g)?;
        // p = softmax(q kᵀ + mask), q already scaled
        let g_s = kernels::softmax_grad(p, &g_p)?;
        let g_q = g_s
            .matmul(&k.t()?.t()?)?
            .affine(hd_scale(d / self.n_head), 0.)?;
        let g_k = q.t()?.matmul(&g_s)?.t()?;
        Ok((
            Some(merge_heads(&g_q)?),
            Some(merge_heads(&g_k)?),
            Some(merge_heads(&g_v)?),
        ))
    }
}
