//! What a job trains: an adapter table directly (one row per speaker), or the embeddings of
//! speakers in a speaker-embedding space, with the space's generator frozen (a fit) or trained
//! jointly with them (learning the space).

use std::collections::BTreeMap;

use candle_core::{Result, Var};

use crate::model::WhisperConfig;
use crate::submodel::AdapterTable;
use crate::submodel::space::{Space, generate};

/// Trainable parameters of a job and how they become each speaker's adapter.
pub enum Params {
    Table(AdapterTable),
    Space {
        space: Box<Space>,
        shapes: Vec<(String, Vec<usize>)>,
        /// `[S, m]` embeddings of the job's speakers.
        e: Var,
        /// The generator `G.<tensor>` and bias `b.<tensor>` as variables when they train too.
        generator: Option<BTreeMap<String, Var>>,
    },
}

impl Params {
    /// A fit in a frozen space: `e` holds the job's speakers' starting embeddings.
    pub fn space(space: Space, cfg: &WhisperConfig, e: &candle_core::Tensor) -> Result<Self> {
        Ok(Self::Space {
            shapes: space.shapes(cfg),
            e: Var::from_tensor(e)?,
            space: Box::new(space),
            generator: None,
        })
    }

    /// Learning a space: its population embeddings `E`, generator and bias all train.
    pub fn learn_space(space: Space, cfg: &WhisperConfig) -> Result<Self> {
        let mut generator = BTreeMap::new();
        for (k, t) in &space.g {
            generator.insert(format!("G.{k}"), Var::from_tensor(t)?);
        }
        for (k, t) in &space.b {
            generator.insert(format!("b.{k}"), Var::from_tensor(t)?);
        }
        Ok(Self::Space {
            shapes: space.shapes(cfg),
            e: Var::from_tensor(&space.e)?,
            space: Box::new(space),
            generator: Some(generator),
        })
    }

    /// Vars whose first axis is the speaker: updated row by row.
    pub fn row_vars(&mut self) -> Result<BTreeMap<String, Var>> {
        match self {
            Params::Table(t) => t.to_vars(),
            Params::Space { e, .. } => Ok(BTreeMap::from([("E".to_string(), e.clone())])),
        }
    }

    /// Vars every speaker shares (a space's generator while it is learned): updated as a whole.
    pub fn shared_vars(&self) -> BTreeMap<String, Var> {
        match self {
            Params::Space {
                generator: Some(g), ..
            } => g.clone(),
            _ => BTreeMap::new(),
        }
    }

    /// Every speaker's adapter, differentiable with respect to the vars.
    pub fn table(&self) -> Result<AdapterTable> {
        match self {
            Params::Table(t) => Ok(t.clone()),
            Params::Space {
                space,
                shapes,
                e,
                generator,
            } => {
                let spec = &space.meta.spec;
                match generator {
                    Some(vars) => {
                        let (g, b) = split_generator(vars);
                        generate(spec, shapes, e.as_tensor(), &g, &b)
                    }
                    None => generate(spec, shapes, e.as_tensor(), &space.g, &space.b),
                }
            }
        }
    }

    /// The space with the trained embeddings as its `E` (and, when it trained, the generator).
    pub fn current_space(&self) -> Result<Option<Space>> {
        let Params::Space {
            space,
            e,
            generator,
            ..
        } = self
        else {
            return Ok(None);
        };
        let mut out = (**space).clone();
        out.e = e.as_tensor().detach().copy()?;
        if let Some(vars) = generator {
            let (g, b) = split_generator(vars);
            out.g = detach_all(g)?;
            out.b = detach_all(b)?;
        }
        Ok(Some(out))
    }
}

type Tensors = BTreeMap<String, candle_core::Tensor>;

/// The generator's vars as `G` and `b` tensor maps keyed by adapter tensor.
fn split_generator(vars: &BTreeMap<String, Var>) -> (Tensors, Tensors) {
    let (mut g, mut b) = (BTreeMap::new(), BTreeMap::new());
    for (k, v) in vars {
        if let Some(name) = k.strip_prefix("G.") {
            g.insert(name.to_string(), v.as_tensor().clone());
        } else if let Some(name) = k.strip_prefix("b.") {
            b.insert(name.to_string(), v.as_tensor().clone());
        }
    }
    (g, b)
}

fn detach_all(t: Tensors) -> Result<Tensors> {
    t.into_iter()
        .map(|(k, v)| Ok((k, v.detach().copy()?)))
        .collect()
}
