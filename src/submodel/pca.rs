//! Principal components of a few long vectors (one adapter per population speaker, ~10⁵
//! numbers each): the eigen-decomposition of their small Gram matrix by cyclic Jacobi rotations,
//! so the cost is `S² · n` for `S` speakers, never `n²`.

/// The mean of the rows, the top principal axes and every row's coordinates on them.
#[derive(Debug, Clone)]
pub struct Components {
    pub mean: Vec<f32>,
    /// `m` axes of length `n`, each scaled by the standard deviation of the rows along it, so
    /// that `mean + Σₖ coords[s][k] · axes[k]` approximates row `s` and the coordinates of the
    /// rows have unit variance (a new row's prior is `N(0, I)`).
    pub axes: Vec<Vec<f32>>,
    /// `S × m` coordinates of the rows.
    pub coords: Vec<Vec<f32>>,
    /// The fraction of the rows' variance each axis explains.
    pub explained: Vec<f64>,
}

/// The top `m` principal components of `rows` (all the same length). Axes along which the rows
/// do not vary (at most `S − 1` can) are zero, with zero coordinates.
pub fn principal(rows: &[Vec<f32>], m: usize) -> Components {
    let s = rows.len();
    let n = rows.first().map_or(0, Vec::len);
    assert!(rows.iter().all(|r| r.len() == n), "rows of unequal length");
    let mut mean = vec![0f64; n];
    for r in rows {
        for (acc, &v) in mean.iter_mut().zip(r) {
            *acc += v as f64;
        }
    }
    mean.iter_mut().for_each(|v| *v /= s.max(1) as f64);
    let centred: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| r.iter().zip(&mean).map(|(&v, &mu)| v as f64 - mu).collect())
        .collect();
    let mut gram = vec![vec![0f64; s]; s];
    for i in 0..s {
        for j in i..s {
            let d: f64 = centred[i].iter().zip(&centred[j]).map(|(a, b)| a * b).sum();
            gram[i][j] = d;
            gram[j][i] = d;
        }
    }
    let (values, vectors) = symmetric_eigen(gram);
    let total: f64 = values.iter().map(|v| v.max(0.0)).sum();
    let mut order: Vec<usize> = (0..s).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    let root_s = (s as f64).sqrt();
    let mut axes = Vec::with_capacity(m);
    let mut coords = vec![vec![0f32; m]; s];
    let mut explained = Vec::with_capacity(m);
    for k in 0..m {
        let lambda = order.get(k).map_or(0.0, |&i| values[i]);
        if lambda <= total * 1e-9 || lambda <= 0.0 {
            axes.push(vec![0f32; n]);
            explained.push(0.0);
            continue;
        }
        let u: Vec<f64> = (0..s).map(|t| vectors[t][order[k]]).collect();
        // axis = Σₜ uₜ (xₜ − μ) / √S; row s's coordinate = u_s √S (unit variance over rows).
        let mut axis = vec![0f64; n];
        for (ut, row) in u.iter().zip(&centred) {
            for (a, &v) in axis.iter_mut().zip(row) {
                *a += ut * v;
            }
        }
        axes.push(axis.iter().map(|&a| (a / root_s) as f32).collect());
        for (c, ut) in coords.iter_mut().zip(&u) {
            c[k] = (ut * root_s) as f32;
        }
        explained.push(lambda / total);
    }
    Components {
        mean: mean.iter().map(|&v| v as f32).collect(),
        axes,
        coords,
        explained,
    }
}

/// Eigenvalues and eigenvectors (columns: `vectors[row][k]` belongs to value `k`) of a
/// symmetric matrix, by cyclic Jacobi rotations.
fn symmetric_eigen(mut a: Vec<Vec<f64>>) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut v: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    let scale: f64 = a.iter().flatten().map(|x| x * x).sum::<f64>().sqrt();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum::<f64>()
            .sqrt();
        if off <= 1e-14 * scale.max(f64::MIN_POSITIVE) {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[p][q] == 0.0 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                // signum(0) is 1: equal diagonal entries rotate by 45°.
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let (c, s) = (1.0 / (t * t + 1.0).sqrt(), t / (t * t + 1.0).sqrt());
                let rotate = |x: &mut f64, y: &mut f64| {
                    let (xp, yq) = (*x, *y);
                    *x = c * xp - s * yq;
                    *y = s * xp + c * yq;
                };
                // A ← Jᵀ A J (columns p, q, then rows p, q), V ← V J.
                for row in a.iter_mut().chain(v.iter_mut()) {
                    let (head, tail) = row.split_at_mut(q);
                    rotate(&mut head[p], &mut tail[0]);
                }
                let (head, tail) = a.split_at_mut(q);
                for (x, y) in head[p].iter_mut().zip(tail[0].iter_mut()) {
                    rotate(x, y);
                }
            }
        }
    }
    ((0..n).map(|i| a[i][i]).collect(), v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::rng::Rng;

    fn random_rows(s: usize, n: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut rng = Rng::new(seed);
        (0..s)
            .map(|_| (0..n).map(|_| rng.uniform()).collect())
            .collect()
    }

    fn reconstruct(c: &Components, s: usize) -> Vec<f32> {
        let mut out = c.mean.clone();
        for (k, axis) in c.axes.iter().enumerate() {
            for (o, a) in out.iter_mut().zip(axis) {
                *o += c.coords[s][k] * a;
            }
        }
        out
    }

    #[test]
    fn all_components_reconstruct_every_row_and_coordinates_are_standardised() {
        let rows = random_rows(5, 40, 3);
        let c = principal(&rows, 4); // S − 1 axes span the centred rows
        for (s, row) in rows.iter().enumerate() {
            let back = reconstruct(&c, s);
            let err = back
                .iter()
                .zip(row)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(err < 1e-4, "row {s} off by {err}");
        }
        for k in 0..4 {
            let mean: f32 = c.coords.iter().map(|r| r[k]).sum::<f32>() / 5.0;
            let var: f32 = c.coords.iter().map(|r| r[k] * r[k]).sum::<f32>() / 5.0;
            assert!(mean.abs() < 1e-4 && (var - 1.0).abs() < 1e-3, "axis {k}");
        }
        let total: f64 = c.explained.iter().sum();
        assert!((total - 1.0).abs() < 1e-6, "explained {total}");
        assert!(c.explained.windows(2).all(|w| w[0] >= w[1]), "sorted");
    }

    #[test]
    fn the_first_axis_is_the_direction_of_largest_spread_and_extra_axes_are_zero() {
        // Rows spread along e₀ (±3) much more than along e₁ (±1).
        let rows = vec![
            vec![3.0, 1.0, 0.0],
            vec![-3.0, 1.0, 0.0],
            vec![3.0, -1.0, 0.0],
            vec![-3.0, -1.0, 0.0],
        ];
        let c = principal(&rows, 5);
        assert!(c.axes[0][0].abs() > 2.9 && c.axes[0][1].abs() < 1e-5);
        assert!(c.axes[1][1].abs() > 0.99 && c.axes[1][0].abs() < 1e-5);
        for k in 2..5 {
            assert!(c.axes[k].iter().all(|&a| a == 0.0), "axis {k} not zero");
            assert!(c.coords.iter().all(|r| r[k] == 0.0));
        }
    }
}
