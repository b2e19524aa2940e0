//! What a job trains: an adapter table directly (one row per speaker), or the embeddings of
//! speakers in a frozen speaker-embedding space.

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
    },
}

impl Params {
    /// A fit in a frozen space: `e` holds the job's speakers' starting embeddings.
    pub fn space(space: Space, cfg: &WhisperConfig, e: &candle_core::Tensor) -> Result<Self> {
        Ok(Self::Space {
            shapes: space.shapes(cfg),
            e: Var::from_tensor(e)?,
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

    /// Every speaker's adapter, differentiable with respect to the vars.
    pub fn table(&self) -> Result<AdapterTable> {
        match self {
            Params::Table(t) => Ok(t.clone()),
            Params::Space { space, shapes, e } => {
                generate(&space.meta.spec, shapes, e.as_tensor(), &space.g, &space.b)
            }
        }
    }

    /// The space with the fitted embeddings as its `E`, for fits.
    pub fn current_space(&self) -> Result<Option<Space>> {
        let Params::Space { space, e, .. } = self else {
            return Ok(None);
        };
        let mut out = (**space).clone();
        out.e = e.as_tensor().detach().copy()?;
        Ok(Some(out))
    }
}
