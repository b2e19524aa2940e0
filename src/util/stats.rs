//! Order statistics of measured values (bootstrap differences, latencies, timings): one quantile
//! rule for every figure attune reports.

/// The `q` quantile (0..=1) of `sorted` (ascending), linear between order statistics (NumPy's
/// default); NaN for no values.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// [`quantile_sorted`] of `values` in any order.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    quantile_sorted(&v, q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_between_order_statistics() {
        let x = [4.0, 0.0, 3.0, 1.0, 2.0];
        assert_eq!(quantile(&x, 0.0), 0.0);
        assert_eq!(quantile(&x, 0.5), 2.0);
        assert_eq!(quantile(&x, 0.975), 3.9);
        assert_eq!(quantile(&x, 1.0), 4.0);
        assert_eq!(quantile(&[0.0, 1.0], 0.5), 0.5);
        assert_eq!(quantile(&[3.0], 0.95), 3.0);
        assert!(quantile(&[], 0.5).is_nan());
    }
}
