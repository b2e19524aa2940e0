//! What a job trains: an adapter table directly (one row per speaker), or a speaker-embedding
//! space (embeddings per speaker, plus — unless frozen — the shared generator).

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
        /// Generator and bias as vars when the space itself trains; `None` when frozen.
        shared: Option<(BTreeMap<String, Var>, BTreeMap<String, Var>)>,
    },
}

impl Params {
    /// A space job: `e` holds the job's speakers' starting embeddings.
    pub fn space(
        space: Space,
        cfg: &WhisperConfig,
        e: &candle_core::Tensor,
        train_generator: bool,
    ) -> Result<Self> {
        let shapes = space.shapes(cfg);
        let to_vars = |m: &BTreeMap<String, candle_core::Tensor>| -> Result<BTreeMap<String, Var>> {
            m.iter()
                .map(|(k, t)| Ok((k.clone(), Var::from_tensor(t)?)))
                .collect()
        };
        let shared = if train_generator {
            Some((to_vars(&space.g)?, to_vars(&space.b)?))
        } else {
            None
        };
        Ok(Self::Space {
            shapes,
            e: Var::from_tensor(e)?,
            shared,
            space: Box::new(space),
        })
    }

    /// Vars whose first axis is the speaker: updated row by row.
    pub fn row_vars(&mut self) -> Result<BTreeMap<String, Var>> {
        match self {
            Params::Table(t) => t.to_vars(),
            Params::Space { e, .. } => Ok(BTreeMap::from([("E".to_string(), e.clone())])),
        }
    }

    /// Vars shared by all speakers (the generator), updated whenever any speaker trains.
    pub fn shared_vars(&self) -> BTreeMap<String, Var> {
        match self {
            Params::Space {
                shared: Some((g, b)),
                ..
            } => g
                .iter()
                .map(|(k, v)| (format!("G.{k}"), v.clone()))
                .chain(b.iter().map(|(k, v)| (format!("b.{k}"), v.clone())))
                .collect(),
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
                shared,
            } => {
                let (g, b) = match shared {
                    Some((g, b)) => (
                        g.iter()
                            .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
                            .collect(),
                        b.iter()
                            .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
                            .collect(),
                    ),
                    None => (space.g.clone(), space.b.clone()),
                };
                generate(&space.meta.spec, shapes, e.as_tensor(), &g, &b)
            }
        }
    }

    /// The trained space (current generator and embeddings), for space jobs.
    pub fn current_space(&self) -> Result<Option<Space>> {
        let Params::Space {
            space, e, shared, ..
        } = self
        else {
            return Ok(None);
        };
        let mut out = (**space).clone();
        out.e = e.as_tensor().detach().copy()?;
        if let Some((g, b)) = shared {
            out.g = g
                .iter()
                .map(|(k, v)| Ok((k.clone(), v.as_tensor().detach().copy()?)))
                .collect::<Result<_>>()?;
            out.b = b
                .iter()
                .map(|(k, v)| Ok((k.clone(), v.as_tensor().detach().copy()?)))
                .collect::<Result<_>>()?;
        }
        Ok(Some(out))
    }
}
