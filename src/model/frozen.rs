//! Training-time autograd ops over the base's frozen weights. Their backward computes only the
//! input's gradient (candle's matmul backward would also compute a weight gradient nobody
//! reads), and the MLP runs as one op, so candle's backward does not zero and accumulate
//! gradients for its two hidden activations (each 4 × the model width).

use std::sync::Mutex;

use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};

use super::kernels;
use super::layers::with_last_dim;

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
