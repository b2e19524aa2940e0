//! Fused CPU kernels with their own backward for the element-wise work of the base: softmax over
//! the last dim, exact (erf) GELU, layer norm with frozen scale and shift, and the training
//! loss's per-token negative log-likelihood over the vocabulary. candle's versions
//! are chains of tensor ops (training) or scalar libm calls (`expf`, f64 `erf`); these run each
//! row in one pass with branch-free `exp` / `erf` approximations the compiler vectorises (sums
//! and maxima over 8 lanes), compiled for AVX-512 / AVX2 + FMA / the baseline and picked at
//! run time ([`Dispatch`]), rows in parallel on rayon's pool, and each backward is one more
//! pass. Every output is flushed to zero where it would be subnormal ([`flush`]). Other dtypes
//! and devices fall back to candle's ops.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, DType, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// `e^x` for f32, relative error below 2e-7 on [-80, 88] (inputs beyond are clamped: `exp` of
/// -inf is ~1e-38, not 0). Range reduction `x = n ln2 + r`, |r| ≤ ln2/2, a degree-7 Taylor
/// polynomial for `e^r`, and `2^n` built in the exponent bits, so a loop over it vectorises.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split in two so that n·LN2_HI is exact for |n| < 2^9.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding 1.5·2^23 rounds to an integer held in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let k = x * LOG2E + ROUND;
    let n = k - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.0 / 5040.0;
    for c in [
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    let n_bits = k.to_bits().wrapping_sub(ROUND.to_bits());
    p * f32::from_bits(n_bits.wrapping_add(127) << 23)
}

/// `erf(x)` for f32, absolute error below 6e-7 (Abramowitz & Stegun 7.1.26, 1.5e-7 in exact
/// arithmetic, with [`exp`]).
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    const P: f32 = 0.327_591_1;
    const A: [f32; 5] = [
        0.254_829_6,
        -0.284_496_74,
        1.421_413_8,
        -1.453_152,
        1.061_405_4,
    ];
    let a = x.abs();
    let t = 1.0 / (1.0 + P * a);
    let poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    (1.0 - poly * exp(-a * a)).copysign(x)
}

const FRAC_1_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
/// 1 / √(2π).
const INV_SQRT_2PI: f32 = 0.398_942_3;

/// `x`, or 0 when `x` is subnormal (|x| < 2⁻¹²⁶). Every kernel flushes what it writes: on
/// Intel cores each multiply with a subnormal operand takes a microcode assist, and a GELU's
/// gradient is subnormal wherever its input is far below zero (`g · x φ(x)` with `φ` near
/// 1e-38), about half of the first MLP layer's gradient. The GEMM that takes that gradient back
/// through the layer ran ~40× slower than on normal numbers (423 ms against 11 ms for
/// `[1750, 1536] × [1536, 384]` on one Xeon core; README, "Speed on an Intel Xeon"). The values
/// dropped are below 1.2e-38.
#[inline(always)]
fn flush(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE { 0.0 } else { x }
}

/// Lanes of the vectorisable reductions.
const LANES: usize = 8;
/// Elements below which a kernel runs on the calling thread.
const PARALLEL_MIN: usize = 1 << 14;

/// `Σ f(x)` over [`LANES`] partial sums (a single running sum would not vectorise).
#[inline(always)]
fn sum_map(xs: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0f32; LANES];
    let chunks = xs.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().map(|&x| f(x)).sum();
    for c in chunks {
        acc.iter_mut().zip(c).for_each(|(a, &x)| *a += f(x));
    }
    acc.iter().sum::<f32>() + tail
}

#[inline(always)]
fn sum(xs: &[f32]) -> f32 {
    sum_map(xs, |x| x)
}

/// `max xs` over [`LANES`] partial maxima.
#[inline(always)]
fn max(xs: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let chunks = xs.chunks_exact(LANES);
    let tail = chunks
        .remainder()
        .iter()
        .copied()
        .fold(f32::NEG_INFINITY, f32::max);
    for c in chunks {
        acc.iter_mut().zip(c).for_each(|(a, &x)| *a = a.max(x));
    }
    acc.into_iter().fold(tail, f32::max)
}

/// A kernel's work on one row (or block) of its inputs `a`, `b` into `out`. Implementations mark
/// `row` `#[inline(always)]`: it is then compiled inside [`Dispatch`], once per instruction set.
trait Row2: Sync {
    fn row(&self, a: &[f32], b: &[f32], out: &mut [f32]);
}

/// [`Row2`] for a kernel of one input.
trait Row1: Sync {
    fn row(&self, a: &[f32], out: &mut [f32]);
}

/// A [`Row1`] as a [`Row2`] that ignores its second input.
struct One<'k, K>(&'k K);

impl<K: Row1> Row2 for One<'_, K> {
    #[inline(always)]
    fn row(&self, a: &[f32], _: &[f32], out: &mut [f32]) {
        self.0.row(a, out)
    }
}

/// One row of a kernel, run through `pulp`'s safe dispatch: compiled for AVX-512, for AVX2 +
/// FMA and for the build's baseline, and the best one this CPU has picked at run time (detected
/// once). The loops the kernels are written as vectorise to that width; built for the baseline
/// alone they ran as 4-lane SSE without FMA (a GELU gradient's `exp` and `erf` were 13 % of a
/// training step).
struct Dispatch<'a, K>(&'a K, &'a [f32], &'a [f32], &'a mut [f32]);

impl<K: Row2> pulp::WithSimd for Dispatch<'_, K> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        self.0.row(self.1, self.2, self.3)
    }
}

/// The best instruction set of this CPU that `pulp` can dispatch to.
fn arch() -> pulp::Arch {
    static ARCH: std::sync::OnceLock<pulp::Arch> = std::sync::OnceLock::new();
    *ARCH.get_or_init(pulp::Arch::new)
}

/// Runs `k` over rows of `n` elements of `a`, `b` and the output, in parallel when large.
fn rows2(a: &[f32], b: &[f32], n: usize, k: &impl Row2) -> Vec<f32> {
    let mut out = vec![0f32; a.len()];
    let n = n.max(1);
    let arch = arch();
    if a.len() < PARALLEL_MIN {
        for ((a, b), o) in a.chunks(n).zip(b.chunks(n)).zip(out.chunks_mut(n)) {
            arch.dispatch(Dispatch(k, a, b, o));
        }
    } else {
        a.par_chunks(n)
            .zip(b.par_chunks(n))
            .zip(out.par_chunks_mut(n))
            .for_each(|((a, b), o)| arch.dispatch(Dispatch(k, a, b, o)));
    }
    out
}

/// [`rows2`] for a kernel of one input.
fn rows(a: &[f32], n: usize, k: &impl Row1) -> Vec<f32> {
    rows2(a, a, n, &One(k))
}

/// Element-wise kernels run over blocks of this many elements.
const BLOCK: usize = 4096;

/// The f32 contents of a contiguous CPU tensor's storage.
pub(crate) fn slice<'a>(storage: &'a CpuStorage, layout: &Layout, op: &str) -> Result<&'a [f32]> {
    let CpuStorage::F32(data) = storage else {
        candle_core::bail!("{op}: f32 only")
    };
    let (start, end) = layout
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg(format!("{op}: input not contiguous")))?;
    Ok(&data[start..end])
}

/// True when the fused kernels apply: f32 on the CPU.
pub(crate) fn fused(x: &Tensor) -> bool {
    x.device().is_cpu() && x.dtype() == DType::F32
}

/// Softmax over the last dim.
pub fn softmax(x: &Tensor) -> Result<Tensor> {
    if !fused(x) {
        return candle_nn::ops::softmax(x, candle_core::D::Minus1);
    }
    x.contiguous()?.apply_op1(Softmax)
}

/// Exact GELU, `x Φ(x) = x (1 + erf(x/√2)) / 2`.
pub fn gelu(x: &Tensor) -> Result<Tensor> {
    if !fused(x) {
        return x.gelu_erf();
    }
    x.contiguous()?.apply_op1(Gelu)
}

/// The softmax's input gradient `y ⊙ (g − Σ g⊙y)` from its output `y`, outside autograd (f32
/// CPU tensors).
pub(crate) fn softmax_grad(y: &Tensor, g: &Tensor) -> Result<Tensor> {
    apply_backward(y, g, SoftmaxGrad)
}

/// [`gelu`] of contiguous f32 values, outside autograd.
pub(crate) fn gelu_values(x: &[f32]) -> Vec<f32> {
    rows(x, BLOCK, &Gelu)
}

/// The GELU's input gradient `g (Φ(x) + x φ(x))`, outside autograd (f32 CPU tensors).
pub(crate) fn gelu_grad(x: &Tensor, g: &Tensor) -> Result<Tensor> {
    apply_backward(x, g, GeluGrad)
}

/// Layer norm over the last dim with frozen `weight` and `bias`: the backward returns the input's
/// gradient only.
pub fn layer_norm(x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f32) -> Result<Tensor> {
    if !fused(x) {
        return candle_nn::ops::layer_norm_slow(x, weight, bias, eps);
    }
    x.contiguous()?.apply_op1(LayerNorm {
        weight: weight.to_vec1()?,
        bias: bias.to_vec1()?,
        eps,
    })
}

/// Per-token negative log-likelihood `logsumexp(x) − x[target]` of `logits: [B, L, V]` at
/// `targets: [B, L]` (u32) → `[B, L]`, without materialising the log-softmax.
pub fn token_nll(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    if !fused(logits) {
        let logp = candle_nn::ops::log_softmax(logits, candle_core::D::Minus1)?;
        return logp.gather(&targets.unsqueeze(2)?, 2)?.squeeze(2)?.neg();
    }
    let op = TokenNll {
        targets: targets.flatten_all()?.to_vec1()?,
    };
    logits.contiguous()?.apply_op1(op)
}

/// A backward kernel: the input's gradient from a tensor the forward kept (its input or its
/// output) and the output's gradient `g`, both contiguous f32.
trait Backward {
    const NAME: &'static str;
    fn grad(&self, kept: &[f32], g: &[f32], layout: &Layout) -> Result<Vec<f32>>;
}

/// A [`Backward`] run as a candle op (itself without a backward).
struct Grad<B>(B);

impl<B: Backward> CustomOp2 for Grad<B> {
    fn name(&self) -> &'static str {
        B::NAME
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let kept = slice(s1, l1, B::NAME)?;
        let g = slice(s2, l2, B::NAME)?;
        Ok((
            CpuStorage::F32(self.0.grad(kept, g, l1)?),
            l1.shape().clone(),
        ))
    }
}

/// `b` applied to the kept tensor and the output's gradient, as a tensor outside autograd.
fn apply_backward(kept: &Tensor, grad: &Tensor, b: impl Backward) -> Result<Tensor> {
    kept.contiguous()?
        .apply_op2_no_bwd(&grad.contiguous()?, &Grad(b))
}

/// The input gradient of a fused op (a candle `bwd`): [`apply_backward`].
fn backward(kept: &Tensor, grad: &Tensor, b: impl Backward) -> Result<Option<Tensor>> {
    apply_backward(kept, grad, b).map(Some)
}

struct Softmax;

/// A row: `ys = exp(xs − max) / Σ`.
impl Row1 for Softmax {
    #[inline(always)]
    fn row(&self, xs: &[f32], ys: &mut [f32]) {
        let max = max(xs);
        ys.iter_mut().zip(xs).for_each(|(y, &x)| *y = exp(x - max));
        let inv = 1.0 / sum(ys);
        ys.iter_mut().for_each(|y| *y = flush(*y * inv));
    }
}

impl CustomOp1 for Softmax {
    fn name(&self) -> &'static str {
        "fused-softmax"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = slice(storage, layout, self.name())?;
        let n = layout.shape().dims().last().copied().unwrap_or(1);
        let y = rows(x, n, self);
        Ok((CpuStorage::F32(y), layout.shape().clone()))
    }

    fn bwd(&self, _arg: &Tensor, res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        backward(res, grad, SoftmaxGrad)
    }
}

/// `∂L/∂x = y ⊙ (g − Σ g⊙y)` per row, from the softmax output `y` and the gradient `g`.
struct SoftmaxGrad;

impl Row2 for SoftmaxGrad {
    #[inline(always)]
    fn row(&self, ys: &[f32], gs: &[f32], ds: &mut [f32]) {
        ds.iter_mut()
            .zip(ys)
            .zip(gs)
            .for_each(|((d, y), g)| *d = y * g);
        let dot = sum(ds);
        ds.iter_mut()
            .zip(ys)
            .zip(gs)
            .for_each(|((d, y), g)| *d = flush(y * (g - dot)));
    }
}

impl Backward for SoftmaxGrad {
    const NAME: &'static str = "fused-softmax-grad";

    fn grad(&self, kept: &[f32], g: &[f32], layout: &Layout) -> Result<Vec<f32>> {
        let n = layout.shape().dims().last().copied().unwrap_or(1);
        Ok(rows2(kept, g, n, self))
    }
}

struct Gelu;

/// Exact GELU, `x Φ(x)`, of a block.
impl Row1 for Gelu {
    #[inline(always)]
    fn row(&self, xs: &[f32], ys: &mut [f32]) {
        ys.iter_mut()
            .zip(xs)
            .for_each(|(y, &x)| *y = flush(0.5 * x * (1.0 + erf(x * FRAC_1_SQRT_2))));
    }
}

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "fused-gelu"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = slice(storage, layout, self.name())?;
        let y = rows(x, BLOCK, self);
        Ok((CpuStorage::F32(y), layout.shape().clone()))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        backward(arg, grad, GeluGrad)
    }
}

/// `∂L/∂x = g (Φ(x) + x φ(x))` from the GELU's input `x` and the gradient `g`.
struct GeluGrad;

impl Row2 for GeluGrad {
    #[inline(always)]
    fn row(&self, xs: &[f32], gs: &[f32], ds: &mut [f32]) {
        for ((d, &x), &g) in ds.iter_mut().zip(xs).zip(gs) {
            let cdf = 0.5 * (1.0 + erf(x * FRAC_1_SQRT_2));
            let pdf = INV_SQRT_2PI * exp(-0.5 * x * x);
            *d = flush(g * (cdf + x * pdf));
        }
    }
}

impl Backward for GeluGrad {
    const NAME: &'static str = "fused-gelu-grad";

    fn grad(&self, kept: &[f32], g: &[f32], _: &Layout) -> Result<Vec<f32>> {
        Ok(rows2(kept, g, BLOCK, self))
    }
}

struct LayerNorm {
    weight: Vec<f32>,
    bias: Vec<f32>,
    eps: f32,
}

impl LayerNorm {
    /// A row's mean and 1/σ (statistics accumulated in f64).
    #[inline(always)]
    fn stats(&self, xs: &[f32]) -> (f32, f32) {
        let n = xs.len() as f64;
        let mean = xs.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = xs.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        (mean as f32, (1.0 / (var + self.eps as f64).sqrt()) as f32)
    }

    fn width(&self, layout: &Layout) -> Result<usize> {
        let n = layout.shape().dims().last().copied().unwrap_or(0);
        if n != self.weight.len() || n == 0 {
            candle_core::bail!(
                "fused-layer-norm: last dim {n}, weight has {}",
                self.weight.len()
            )
        }
        Ok(n)
    }
}

impl Row1 for LayerNorm {
    #[inline(always)]
    fn row(&self, xs: &[f32], ys: &mut [f32]) {
        let (mean, inv) = self.stats(xs);
        for (((y, x), w), b) in ys.iter_mut().zip(xs).zip(&self.weight).zip(&self.bias) {
            *y = (x - mean) * inv * w + b;
        }
    }
}

impl CustomOp1 for LayerNorm {
    fn name(&self) -> &'static str {
        "fused-layer-norm"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = slice(storage, layout, self.name())?;
        let n = self.width(layout)?;
        let y = rows(x, n, self);
        Ok((CpuStorage::F32(y), layout.shape().clone()))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        backward(arg, grad, LayerNormGrad(self))
    }
}

/// `∂L/∂x = (ĝ − mean(ĝ) − x̂ · mean(ĝ ⊙ x̂)) / σ` with `ĝ = g ⊙ weight` and `x̂` the normalised
/// input, from the layer norm's input and the gradient.
struct LayerNormGrad<'a>(&'a LayerNorm);

impl Backward for LayerNormGrad<'_> {
    const NAME: &'static str = "fused-layer-norm-grad";

    fn grad(&self, kept: &[f32], g: &[f32], layout: &Layout) -> Result<Vec<f32>> {
        Ok(rows2(kept, g, self.0.width(layout)?, self))
    }
}

impl Row2 for LayerNormGrad<'_> {
    #[inline(always)]
    fn row(&self, xs: &[f32], gs: &[f32], ds: &mut [f32]) {
        let w = &self.0.weight;
        let n = xs.len() as f64;
        let (mean, inv) = self.0.stats(xs);
        let (mut sum_g, mut sum_gx) = (0f64, 0f64);
        for ((x, g), w) in xs.iter().zip(gs).zip(w) {
            let gw = (g * w) as f64;
            sum_g += gw;
            sum_gx += gw * ((x - mean) * inv) as f64;
        }
        let (mean_g, mean_gx) = ((sum_g / n) as f32, (sum_gx / n) as f32);
        for (((d, x), g), w) in ds.iter_mut().zip(xs).zip(gs).zip(w) {
            *d = flush((g * w - mean_g - (x - mean) * inv * mean_gx) * inv);
        }
    }
}

struct TokenNll {
    targets: Vec<u32>,
}

impl TokenNll {
    /// The rows of `V` logits and their targets, checked against each other.
    fn rows<'a>(
        &'a self,
        x: &'a [f32],
        layout: &Layout,
    ) -> Result<impl Iterator<Item = (&'a [f32], usize)>> {
        let v = layout.shape().dims().last().copied().unwrap_or(0).max(1);
        if x.len() != v * self.targets.len() || self.targets.iter().any(|&t| t as usize >= v) {
            candle_core::bail!(
                "token-nll: targets do not match logits {:?}",
                layout.shape()
            )
        }
        Ok(x.chunks_exact(v)
            .zip(self.targets.iter().map(|&t| t as usize)))
    }
}

/// `max` and `Σ exp(x − max)` of a row.
#[inline(always)]
fn max_and_sum_exp(xs: &[f32]) -> (f32, f32) {
    let max = max(xs);
    (max, sum_map(xs, |x| exp(x - max)))
}

impl CustomOp1 for TokenNll {
    fn name(&self) -> &'static str {
        "fused-token-nll"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = slice(storage, layout, self.name())?;
        let nll = self
            .rows(x, layout)?
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|(xs, t)| {
                let (max, sum) = arch().dispatch(MaxSumExp(xs));
                max + sum.ln() - xs[t]
            })
            .collect();
        let dims = layout.shape().dims();
        Ok((CpuStorage::F32(nll), dims[..dims.len() - 1].into()))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        backward(arg, grad, TokenNllGrad(self))
    }
}

/// [`max_and_sum_exp`] of a row, dispatched like the row kernels ([`Dispatch`]).
struct MaxSumExp<'a>(&'a [f32]);

impl pulp::WithSimd for MaxSumExp<'_> {
    type Output = (f32, f32);

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) -> (f32, f32) {
        max_and_sum_exp(self.0)
    }
}

/// `g · softmax(x)` of a row of logits (the one-hot part is subtracted after).
struct NllRow(f32);

impl Row2 for NllRow {
    #[inline(always)]
    fn row(&self, xs: &[f32], _: &[f32], ds: &mut [f32]) {
        let (max, sum) = max_and_sum_exp(xs);
        let scale = self.0 / sum;
        ds.iter_mut()
            .zip(xs)
            .for_each(|(d, &x)| *d = flush(scale * exp(x - max)));
    }
}

/// `∂L/∂x = g · (softmax(x) − onehot(target))` per row, from the logits and the per-token
/// gradient `g: [B, L]`.
struct TokenNllGrad<'a>(&'a TokenNll);

impl Backward for TokenNllGrad<'_> {
    const NAME: &'static str = "fused-token-nll-grad";

    fn grad(&self, kept: &[f32], g: &[f32], layout: &Layout) -> Result<Vec<f32>> {
        let v = kept.len() / self.0.targets.len().max(1);
        let mut dx = vec![0f32; kept.len()];
        let rows: Vec<_> = self.0.rows(kept, layout)?.zip(g).collect();
        rows.into_par_iter()
            .zip(dx.par_chunks_mut(v.max(1)))
            .for_each(|(((xs, t), &g), ds)| {
                arch().dispatch(Dispatch(&NllRow(g), xs, xs, ds));
                ds[t] -= g;
            });
        Ok(dx)
    }
}

#[cfg(test)]
mod tests;
