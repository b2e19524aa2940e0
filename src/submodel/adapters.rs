//! Submodel math: an adapter table `[S, …]` with one row per speaker, gathered per example into a
//! batch that plugs into the base through `Hooks` (residual adapters and LoRA updates).

use std::collections::BTreeMap;

use candle_core::{D, Device, Result, Tensor, Var};

use super::Spec;
use crate::model::WhisperConfig;
use crate::model::layers::{AttnKind, Hooks, Proj, Site, Stack};
use crate::util::rng::Rng;

/// Every LoRA site of a config: q and v of encoder self-attention and of decoder self- and
/// cross-attention (PEFT `target_modules = ["q_proj", "v_proj"]`).
pub fn lora_sites(cfg: &WhisperConfig) -> Vec<Site> {
    let mut sites = Vec::new();
    let enc = (0..cfg.n_audio_layer).map(|l| (Stack::Encoder, l, AttnKind::SelfAttn));
    let dec = (0..cfg.n_text_layer).flat_map(|l| {
        [
            (Stack::Decoder, l, AttnKind::SelfAttn),
            (Stack::Decoder, l, AttnKind::Cross),
        ]
    });
    for (stack, layer, attn) in enc.chain(dec) {
        for proj in [Proj::Q, Proj::V] {
            sites.push(Site {
                stack,
                layer,
                attn,
                proj,
            });
        }
    }
    sites
}

/// Stable tensor-name stem of a LoRA site, e.g. `dec.2.cross.v`.
pub fn site_name(s: &Site) -> String {
    let stack = match s.stack {
        Stack::Encoder => "enc",
        Stack::Decoder => "dec",
    };
    let attn = match s.attn {
        AttnKind::SelfAttn => "self",
        AttnKind::Cross => "cross",
    };
    let proj = match s.proj {
        Proj::Q => "q",
        Proj::V => "v",
    };
    format!("{stack}.{}.{attn}.{proj}", s.layer)
}

/// Names and per-row shapes (without the leading speaker axis) of a kind's tensors.
pub fn tensor_shapes(spec: &Spec, cfg: &WhisperConfig) -> Vec<(String, Vec<usize>)> {
    let (d, r) = (cfg.n_audio_state, spec.rank);
    let residual_layers = if spec.has_residual() {
        cfg.n_audio_layer
    } else {
        0
    };
    let residual = (0..residual_layers).flat_map(|l| {
        [
            (format!("res.{l}.ln_w"), vec![d]),
            (format!("res.{l}.ln_b"), vec![d]),
            (format!("res.{l}.down"), vec![d, r]),
            (format!("res.{l}.down_b"), vec![r]),
            (format!("res.{l}.up"), vec![r, d]),
            (format!("res.{l}.up_b"), vec![d]),
        ]
    });
    let lr = spec.lora_rank();
    let lora = spec.lora_sites(cfg).into_iter().flat_map(move |s| {
        let n = site_name(&s);
        [
            (format!("{n}.a"), vec![d, lr]),
            (format!("{n}.b"), vec![lr, d]),
        ]
    });
    residual.chain(lora).collect()
}

/// Whether a tensor is in an adapter's output half (residual `up` and `up_b`, LoRA `B`): zero in
/// a fresh adapter, which then computes exactly the base.
pub fn is_output_half(name: &str) -> bool {
    name.ends_with(".up") || name.ends_with(".up_b") || name.ends_with(".b")
}

/// Fresh values for one tensor: the half that reads the input is random (uniform with
/// fan-in scaling), the half that writes the output is zero, LN scales are one — so a fresh
/// submodel computes exactly the base.
fn init_values(name: &str, shape: &[usize], rng: &mut Rng) -> Vec<f32> {
    let n: usize = shape.iter().product();
    if name.ends_with(".ln_w") {
        vec![1.0; n]
    } else if name.ends_with(".down") || name.ends_with(".a") {
        let bound = (1.0 / shape[0] as f32).sqrt();
        (0..n).map(|_| rng.uniform() * bound).collect()
    } else {
        vec![0.0; n]
    }
}

/// Adapter weights of `S` speakers: every tensor has a leading speaker axis.
#[derive(Clone, Debug)]
pub struct AdapterTable {
    pub spec: Spec,
    pub tensors: BTreeMap<String, Tensor>,
    pub speakers: usize,
}

impl AdapterTable {
    /// Fresh (identity) adapters for `speakers` speakers, row `i` seeded with `seed + i`.
    pub fn init(
        spec: &Spec,
        cfg: &WhisperConfig,
        speakers: usize,
        seed: u64,
        dev: &Device,
    ) -> Result<Self> {
        let mut tensors = BTreeMap::new();
        let shapes = tensor_shapes(spec, cfg);
        let mut rows: Vec<Vec<Vec<f32>>> = vec![Vec::new(); shapes.len()];
        for s in 0..speakers {
            let mut rng = Rng::new(seed + s as u64);
            for (i, (name, shape)) in shapes.iter().enumerate() {
                rows[i].push(init_values(name, shape, &mut rng));
            }
        }
        for ((name, shape), rows) in shapes.into_iter().zip(rows) {
            let mut full = vec![speakers];
            full.extend(&shape);
            let data: Vec<f32> = rows.into_iter().flatten().collect();
            tensors.insert(name, Tensor::from_vec(data, full, dev)?);
        }
        Ok(Self {
            spec: spec.clone(),
            tensors,
            speakers,
        })
    }

    /// Whether every row computes exactly the base (its output half is all zero).
    pub fn is_identity(&self) -> Result<bool> {
        for (_, t) in self.tensors.iter().filter(|(k, _)| is_output_half(k)) {
            if t.abs()?.max_all()?.to_scalar::<f32>()? != 0.0 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Turns every tensor into a trainable `Var` (same values); returns them by name.
    pub fn to_vars(&mut self) -> Result<BTreeMap<String, Var>> {
        let mut vars = BTreeMap::new();
        for (name, t) in self.tensors.iter_mut() {
            let v = Var::from_tensor(t)?;
            *t = v.as_tensor().clone();
            vars.insert(name.clone(), v);
        }
        Ok(vars)
    }

    /// Each example's adapter: `ids[i]` is example `i`'s row in this table.
    pub fn gather(&self, ids: &[u32]) -> Result<Gathered> {
        let dev = self
            .tensors
            .values()
            .next()
            .map_or(Device::Cpu, |t| t.device().clone());
        let idx = Tensor::new(ids, &dev)?;
        let tensors = self
            .tensors
            .iter()
            .map(|(k, t)| Ok((k.clone(), t.index_select(&idx, 0)?)))
            .collect::<Result<_>>()?;
        Ok(Gathered {
            spec: self.spec.clone(),
            tensors,
        })
    }

    /// Row `i` alone as a one-speaker table.
    pub fn row(&self, i: usize) -> Result<Self> {
        let tensors = self
            .tensors
            .iter()
            .map(|(k, t)| Ok((k.clone(), t.narrow(0, i, 1)?.copy()?)))
            .collect::<Result<_>>()?;
        Ok(Self {
            spec: self.spec.clone(),
            tensors,
            speakers: 1,
        })
    }

    /// Stacks one-speaker (or any) tables of the same spec along the speaker axis.
    pub fn stack(tables: &[&Self]) -> Result<Self> {
        let first = tables
            .first()
            .ok_or_else(|| candle_core::Error::Msg("no tables to stack".into()))?;
        let mut tensors = BTreeMap::new();
        // Only what every table has: an embedding-kind row carries its embedding along, which
        // the forward pass never reads (and an identity row for base utterances does not have).
        for name in first
            .tensors
            .keys()
            .filter(|k| tables.iter().all(|t| t.tensors.contains_key(*k)))
        {
            let parts: Vec<&Tensor> = tables.iter().map(|t| &t.tensors[name]).collect();
            tensors.insert(name.clone(), Tensor::cat(&parts, 0)?);
        }
        let speakers = tables.iter().map(|t| t.speakers).sum();
        Ok(Self {
            spec: first.spec.clone(),
            tensors,
            speakers,
        })
    }

    /// Copies of the tensors cut from any autograd graph (for evaluation and saving).
    pub fn detached(&self) -> Result<BTreeMap<String, Tensor>> {
        self.tensors
            .iter()
            .map(|(k, t)| Ok((k.clone(), t.detach().copy()?)))
            .collect()
    }

    /// Number of adapter parameters per speaker.
    pub fn params_per_speaker(&self) -> usize {
        self.tensors
            .values()
            .map(|t| t.elem_count() / self.speakers.max(1))
            .sum()
    }
}

/// Per-example adapter tensors `[B, …]` for one forward pass.
pub struct Gathered {
    spec: Spec,
    tensors: BTreeMap<String, Tensor>,
}

impl Gathered {
    fn get(&self, name: &str) -> Result<&Tensor> {
        self.tensors
            .get(name)
            .ok_or_else(|| candle_core::Error::Msg(format!("submodel lacks tensor {name}")))
    }
}

/// Per-example layer norm: `x: [B, T, d]`, `w, b: [B, d]`.
fn layer_norm(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    let mean = x.mean_keepdim(D::Minus1)?;
    let xc = x.broadcast_sub(&mean)?;
    let var = xc.sqr()?.mean_keepdim(D::Minus1)?;
    let xn = xc.broadcast_div(&(var + 1e-5)?.sqrt()?)?;
    xn.broadcast_mul(&w.unsqueeze(1)?)?
        .broadcast_add(&b.unsqueeze(1)?)
}

impl Hooks for Gathered {
    /// Residual adapter: `h + up(relu(down(LN(h))))`, each example with its own weights.
    fn encoder_block_out(&self, layer: usize, h: &Tensor) -> Result<Tensor> {
        if !self.spec.has_residual() {
            return Ok(h.clone());
        }
        let p = |n: &str| self.get(&format!("res.{layer}.{n}"));
        let z = layer_norm(h, p("ln_w")?, p("ln_b")?)?;
        let z = z
            .matmul(p("down")?)?
            .broadcast_add(&p("down_b")?.unsqueeze(1)?)?
            .relu()?; // [B, T, r]
        let z = z
            .matmul(p("up")?)?
            .broadcast_add(&p("up_b")?.unsqueeze(1)?)?; // [B, T, d]
        h + z
    }

    /// LoRA: `(x A) B · α/r`, each example with its own `A: [d_in, r]`, `B: [r, d_out]`.
    fn projection_delta(&self, site: Site, x: &Tensor) -> Result<Option<Tensor>> {
        if !self.spec.lora_at(&site) {
            return Ok(None);
        }
        let n = site_name(&site);
        let a = self.get(&format!("{n}.a"))?;
        let b = self.get(&format!("{n}.b"))?;
        let scale = self.spec.alpha / self.spec.lora_rank() as f64;
        Ok(Some((x.matmul(a)?.matmul(b)? * scale)?))
    }
}
