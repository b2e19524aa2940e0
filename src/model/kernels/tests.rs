//! The fused kernels against candle's reference ops: values and gradients, masked rows,
//! non-contiguous inputs.

use candle_core::{D, Device, Tensor, Var};

use super::*;
use crate::model::testing::max_abs_diff;

/// Random `[2, 3, 37]` input (σ = 3) as a variable, and random coefficients for a loss
/// `Σ c ⊙ f(x)` whose gradient is `c` pulled back through `f`.
fn input(seed: u64) -> (Var, Tensor) {
    let dev = Device::Cpu;
    let mut rng = crate::util::rng::Rng::new(seed);
    let mut draw = |n: usize, scale: f32| -> Vec<f32> {
        (0..n).map(|_| rng.uniform() * scale).collect::<Vec<_>>()
    };
    let x = Tensor::from_vec(draw(2 * 3 * 37, 6.0), (2, 3, 37), &dev).unwrap();
    let c = Tensor::from_vec(draw(2 * 3 * 37, 1.0), (2, 3, 37), &dev).unwrap();
    (Var::from_tensor(&x).unwrap(), c)
}

/// Values and input gradients of `fused` and `reference` on the same input agree within `tol`.
fn agrees(
    fused: impl Fn(&Tensor) -> candle_core::Result<Tensor>,
    reference: impl Fn(&Tensor) -> candle_core::Result<Tensor>,
    tol: f32,
) {
    for seed in [1, 2, 3] {
        let (x, c) = input(seed);
        let (yf, yr) = (
            fused(x.as_tensor()).unwrap(),
            reference(x.as_tensor()).unwrap(),
        );
        assert!(max_abs_diff(&yf, &yr) < tol, "values differ (seed {seed})");
        let grad = |y: &Tensor| {
            let g = (y * &c).unwrap().sum_all().unwrap().backward().unwrap();
            g.get(x.as_tensor()).unwrap().clone()
        };
        let d = max_abs_diff(&grad(&yf), &grad(&yr));
        assert!(d < tol, "gradients differ by {d} (seed {seed})");
    }
}

#[test]
fn exp_is_accurate_over_the_whole_range() {
    let mut worst = (0f64, 0f32);
    // Below e^-80 the results get close to f32's subnormals, where relative precision ends.
    for i in 0..=168_000 {
        let x = (-80.0 + i as f64 * 0.001) as f32;
        let want = (x as f64).exp();
        let err = ((exp(x) as f64 - want) / want).abs();
        if err > worst.0 {
            worst = (err, x);
        }
    }
    assert!(worst.0 < 2e-7, "relative error {} at {}", worst.0, worst.1);
    assert_eq!(exp(0.0), 1.0);
    assert!(exp(f32::NEG_INFINITY) < 1e-37 && exp(f32::NEG_INFINITY) >= 0.0);
}

#[test]
fn erf_is_accurate() {
    let mut worst = 0f64;
    for i in -60_000..=60_000 {
        let x = i as f32 * 1e-4;
        let want = candle_core::cpu::erf::erf_f64(x as f64);
        worst = worst.max((erf(x) as f64 - want).abs());
    }
    assert!(worst < 6e-7, "absolute error {worst}");
    assert_eq!(erf(10.0), 1.0);
    assert_eq!(erf(-10.0), -1.0);
}

#[test]
fn softmax_matches_candle_in_value_and_gradient() {
    agrees(softmax, |x| candle_nn::ops::softmax(x, D::Minus1), 1e-6);
    // Rows with masked (-inf) entries, as in causal attention: those entries are exactly 0.
    let dev = Device::Cpu;
    let x = Tensor::new(
        &[
            [1f32, f32::NEG_INFINITY, 3.0],
            [0.5, 0.5, f32::NEG_INFINITY],
        ],
        &dev,
    )
    .unwrap();
    let y = softmax(&x).unwrap().to_vec2::<f32>().unwrap();
    assert!(y[0][1] < 1e-30 && (y[1][0] - 0.5).abs() < 1e-7);
    assert!((y[0][2] - 1.0 / (1.0 + (-2f32).exp())).abs() < 1e-6);
}

#[test]
fn gelu_matches_candle_in_value_and_gradient() {
    agrees(gelu, |x| x.gelu_erf(), 1e-6);
}

#[test]
fn layer_norm_matches_candle_in_value_and_gradient() {
    let dev = Device::Cpu;
    let w = Tensor::from_vec((0..37).map(|i| 0.5 + i as f32 * 0.05).collect(), 37, &dev).unwrap();
    let b = Tensor::from_vec((0..37).map(|i| i as f32 * 0.1 - 1.0).collect(), 37, &dev).unwrap();
    agrees(
        |x| layer_norm(x, &w, &b, 1e-5),
        |x| candle_nn::ops::layer_norm_slow(x, &w, &b, 1e-5),
        2e-5,
    );
}

#[test]
fn non_contiguous_inputs_are_handled() {
    let (x, _) = input(4);
    let t = x.as_tensor().transpose(1, 2).unwrap(); // [2, 37, 3], strided
    assert!(!t.is_contiguous());
    let want = candle_nn::ops::softmax(&t, D::Minus1).unwrap();
    assert!(max_abs_diff(&softmax(&t).unwrap(), &want) < 1e-6);
    assert!(max_abs_diff(&gelu(&t).unwrap(), &t.gelu_erf().unwrap()) < 1e-6);
}

#[test]
fn token_nll_matches_log_softmax_and_gather_in_value_and_gradient() {
    let dev = Device::Cpu;
    let targets: Vec<u32> = (0..6).map(|i| (i * 11 % 37) as u32).collect();
    let targets = Tensor::from_vec(targets, (2, 3), &dev).unwrap();
    let weights = Tensor::new(&[[0f32, 1.0, 0.5], [2.0, -1.0, 1.0]], &dev).unwrap();
    for seed in [5, 6] {
        let (x, _) = input(seed);
        let fused = token_nll(x.as_tensor(), &targets).unwrap();
        let logp = candle_nn::ops::log_softmax(x.as_tensor(), D::Minus1).unwrap();
        let reference = logp
            .gather(&targets.unsqueeze(2).unwrap(), 2)
            .unwrap()
            .squeeze(2)
            .unwrap()
            .neg()
            .unwrap();
        assert_eq!(fused.dims(), &[2, 3]);
        assert!(max_abs_diff(&fused, &reference) < 1e-5);
        let grad = |y: &Tensor| {
            let g = (y * &weights)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            g.get(x.as_tensor()).unwrap().clone()
        };
        let d = max_abs_diff(&grad(&fused), &grad(&reference));
        assert!(d < 1e-6, "gradients differ by {d}");
    }
    let out_of_range = Tensor::new(&[[37u32, 0, 0], [0, 0, 0]], &dev).unwrap();
    let (x, _) = input(7);
    assert!(token_nll(x.as_tensor(), &out_of_range).is_err());
}

/// `t`'s values that are subnormal.
fn subnormals(t: &Tensor) -> usize {
    let v: Vec<f32> = t.flatten_all().unwrap().to_vec1().unwrap();
    v.iter().filter(|x| x.is_subnormal()).count()
}

#[test]
fn no_kernel_writes_a_subnormal() {
    let dev = Device::Cpu;
    // GELU's gradient at x = -12 for an upstream gradient of 1e-9 is g·(Φ(x) + x φ(x)) ≈ -2.6e-40
    // in exact arithmetic: subnormal, so it must come out as 0.
    let exact = 1e-9 * (-12.0 * (-72f64).exp() / (2.0 * std::f64::consts::PI).sqrt());
    assert!(exact != 0.0 && exact.abs() < f32::MIN_POSITIVE as f64);
    let x = Var::from_tensor(&Tensor::new(&[-12f32, -1.0, 0.5], &dev).unwrap()).unwrap();
    let c = Tensor::new(&[1e-9f32, 1.0, 1.0], &dev).unwrap();
    let g = (gelu(x.as_tensor()).unwrap() * &c)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let dx = g.get(x.as_tensor()).unwrap();
    assert_eq!(dx.to_vec1::<f32>().unwrap()[0], 0.0);
    assert!(dx.to_vec1::<f32>().unwrap()[1] != 0.0);
    // Softmax of a row where one entry is e^-87.5 / 36 of the rest: subnormal unless flushed;
    // its gradient and the token loss's gradient (scaled by a tiny per-token weight) likewise.
    let mut row = vec![0f32; 37];
    row[0] = -87.5;
    let x = Var::from_tensor(&Tensor::from_vec(row, (1, 37), &dev).unwrap()).unwrap();
    let y = softmax(x.as_tensor()).unwrap();
    assert_eq!(subnormals(&y), 0);
    assert_eq!(y.to_vec2::<f32>().unwrap()[0][0], 0.0);
    let w = Tensor::from_vec((0..37).map(|i| i as f32).collect(), (1, 37), &dev).unwrap();
    let g = (y * w).unwrap().sum_all().unwrap().backward().unwrap();
    assert_eq!(subnormals(g.get(x.as_tensor()).unwrap()), 0);
    let targets = Tensor::new(&[[1u32]], &dev).unwrap();
    let logits = x.as_tensor().unsqueeze(0).unwrap();
    let nll = token_nll(&logits, &targets).unwrap();
    let g = (nll * 1e-3).unwrap().sum_all().unwrap().backward().unwrap();
    assert_eq!(subnormals(g.get(x.as_tensor()).unwrap()), 0);
}
