//! AdamW over an adapter table that updates only the rows (speakers) that had examples in the
//! step: absent rows keep their weights, moments and step count, so a fused multi-speaker job
//! reproduces separate single-speaker jobs.

use std::collections::BTreeMap;

use candle_core::{Result, Tensor, Var};

/// AdamW hyper-parameters.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct AdamW {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for AdamW {
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }
}

/// Moments of one table tensor.
pub struct Moments {
    pub m: Tensor,
    pub v: Tensor,
}

/// Per-row AdamW state for every tensor of a table.
pub struct RowAdamW {
    pub params: AdamW,
    pub moments: BTreeMap<String, Moments>,
    /// Updates applied to each row so far (its own Adam step count).
    pub steps: Vec<u64>,
}

/// `[S, 1, …, 1]` tensor of per-row values, broadcastable against a table tensor.
fn per_row(values: &[f32], like: &Tensor) -> Result<Tensor> {
    let mut shape = vec![values.len()];
    shape.extend(std::iter::repeat_n(1, like.rank() - 1));
    Tensor::from_slice(values, shape, like.device())
}

impl RowAdamW {
    pub fn new(params: AdamW, vars: &BTreeMap<String, Var>, rows: usize) -> Result<Self> {
        let moments = vars
            .iter()
            .map(|(k, v)| {
                Ok((
                    k.clone(),
                    Moments {
                        m: v.zeros_like()?,
                        v: v.zeros_like()?,
                    },
                ))
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            params,
            moments,
            steps: vec![0; rows],
        })
    }

    /// One update. `lr[s]` is row `s`'s learning rate; rows with `present[s] == false` are not
    /// touched at all.
    pub fn step(
        &mut self,
        vars: &BTreeMap<String, Var>,
        grads: &candle_core::backprop::GradStore,
        present: &[bool],
        lr: &[f64],
    ) -> Result<()> {
        let p = self.params;
        for (s, &on) in present.iter().enumerate() {
            if on {
                self.steps[s] += 1;
            }
        }
        let mask: Vec<f32> = present.iter().map(|&b| if b { 1.0 } else { 0.0 }).collect();
        let c1: Vec<f32> = self
            .steps
            .iter()
            .map(|&t| (1.0 - p.beta1.powi(t.max(1) as i32)) as f32)
            .collect();
        let c2: Vec<f32> = self
            .steps
            .iter()
            .map(|&t| (1.0 - p.beta2.powi(t.max(1) as i32)) as f32)
            .collect();
        let lr_masked: Vec<f32> = lr.iter().zip(&mask).map(|(l, m)| *l as f32 * m).collect();
        for (name, var) in vars {
            let theta = var.as_tensor();
            let Some(g) = grads.get(theta) else { continue };
            let mo = self
                .moments
                .get_mut(name)
                .expect("moments exist for every var");
            let mask_t = per_row(&mask, theta)?;
            // m ← m + mask·(1-β1)(g - m);  v ← v + mask·(1-β2)(g² - v)
            let m = (&mo.m + mask_t.broadcast_mul(&((g - &mo.m)? * (1.0 - p.beta1))?)?)?;
            let v = (&mo.v + mask_t.broadcast_mul(&((g.sqr()? - &mo.v)? * (1.0 - p.beta2))?)?)?;
            let m_hat = m.broadcast_div(&per_row(&c1, theta)?)?;
            let v_hat = v.broadcast_div(&per_row(&c2, theta)?)?;
            let adam = (m_hat / (v_hat.sqrt()? + p.eps)?)?;
            let update = (adam + (theta * p.weight_decay)?)?;
            let next = (theta - update.broadcast_mul(&per_row(&lr_masked, theta)?)?)?;
            var.set(&next)?;
            mo.m = m;
            mo.v = v;
        }
        Ok(())
    }
}

/// Linear warm-up to `peak` over `warmup` steps, then linear decay to `floor` × `peak` at `total`.
pub fn schedule(step: u64, warmup: u64, total: u64, peak: f64, floor: f64) -> f64 {
    if step < warmup {
        return peak * (step + 1) as f64 / warmup as f64;
    }
    let span = total.saturating_sub(warmup).max(1) as f64;
    let done = ((step - warmup) as f64 / span).min(1.0);
    peak * (1.0 - (1.0 - floor) * done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    #[test]
    fn absent_rows_are_untouched_and_present_rows_move_like_adam() {
        let dev = Device::Cpu;
        let w =
            Var::from_tensor(&Tensor::new(&[[1.0f32, 2.0], [3.0, 4.0]], &dev).unwrap()).unwrap();
        let vars = BTreeMap::from([("w".to_string(), w.clone())]);
        let mut opt = RowAdamW::new(
            AdamW {
                weight_decay: 0.0,
                ..Default::default()
            },
            &vars,
            2,
        )
        .unwrap();
        let loss = w.as_tensor().sum_all().unwrap(); // gradient 1 everywhere
        let grads = loss.backward().unwrap();
        opt.step(&vars, &grads, &[true, false], &[0.1, 0.1])
            .unwrap();
        let after = w.as_tensor().to_vec2::<f32>().unwrap();
        // First Adam step moves by lr·sign(g) = 0.1 (bias-corrected m/√v = 1).
        assert!((after[0][0] - 0.9).abs() < 1e-5 && (after[0][1] - 1.9).abs() < 1e-5);
        assert_eq!(after[1], vec![3.0, 4.0]);
        assert_eq!(opt.steps, vec![1, 0]);
        let m = opt.moments["w"].m.to_vec2::<f32>().unwrap();
        assert_eq!(m[1], vec![0.0, 0.0]);
    }

    #[test]
    fn schedule_warms_up_then_decays() {
        assert!((schedule(0, 10, 100, 1.0, 0.1) - 0.1).abs() < 1e-9);
        assert!((schedule(9, 10, 100, 1.0, 0.1) - 1.0).abs() < 1e-9);
        assert!((schedule(55, 10, 100, 1.0, 0.1) - 0.55).abs() < 1e-9);
        assert!((schedule(100, 10, 100, 1.0, 0.1) - 0.1).abs() < 1e-9);
        assert!((schedule(55, 10, 100, 2.0, 0.5) - 1.5).abs() < 1e-9);
        assert!((schedule(100, 10, 100, 2.0, 0.5) - 1.0).abs() < 1e-9);
    }
}
