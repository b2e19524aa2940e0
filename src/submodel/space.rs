//! The speaker-embedding space: a shared generator maps a low-dimensional speaker embedding
//! `e ∈ R^m` to a full residual adapter (`adapter = e·G + b`, per tensor), so a new speaker is
//! enrolled by fitting only `m` numbers. The space is the principal subspace of adapters trained
//! on a population of speakers (eigenvoices), optionally trained further jointly with the
//! population's embeddings (`train::space_job`). Stored as one safetensors file under
//! `<home>/spaces/`, or shipped in the binary (`assets/space/`).

use std::collections::BTreeMap;
use std::path::Path;

use candle_core::{Device, Result, Tensor};
use serde::{Deserialize, Serialize};

use super::adapters::tensor_shapes;
use super::{AdapterTable, Kind, Spec, SubmodelError, pca};
use crate::model::WhisperConfig;
use crate::tensor_io;
use crate::util::atomic::write_private_file;

const HEADER_KEY: &str = "attune_space";

/// Name of the embedding tensor inside a kind-`embedding` submodel.
pub const EMBEDDING: &str = "embedding";

/// What a space file says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpaceMeta {
    pub name: String,
    /// Embedding size `m`.
    pub dim: usize,
    /// The adapter form the generator produces (kind `embedding` submodels use it).
    pub spec: Spec,
    pub base_hash: String,
    /// Speakers whose embeddings trained the generator, in row order of `E`.
    pub speakers: Vec<String>,
    pub created: u64,
    /// Population speakers deleted since the space was learned: their rows of `E` are gone, but
    /// `G` and `b` still carry what was learned from them (retrain the space to remove that).
    #[serde(default)]
    pub deleted_speakers: usize,
    /// The fraction of the population adapters' variance each axis of `G` explains.
    #[serde(default)]
    pub explained: Vec<f64>,
}

/// Generator `G` (`[m, n]` per adapter tensor), bias `b` (`[n]`) and the population embeddings.
#[derive(Debug, Clone)]
pub struct Space {
    pub meta: SpaceMeta,
    pub g: BTreeMap<String, Tensor>,
    pub b: BTreeMap<String, Tensor>,
    /// `[S, m]`: one embedding per population speaker.
    pub e: Tensor,
}

/// Adapter tensors of `S` speakers from embeddings `e: [S, m]` (differentiable in all inputs).
pub fn generate(
    spec: &Spec,
    shapes: &[(String, Vec<usize>)],
    e: &Tensor,
    g: &BTreeMap<String, Tensor>,
    b: &BTreeMap<String, Tensor>,
) -> Result<AdapterTable> {
    let s = e.dim(0)?;
    let mut tensors = BTreeMap::new();
    for (name, shape) in shapes {
        let flat = e.matmul(&g[name])?.broadcast_add(&b[name])?; // [S, n]
        let mut full = vec![s];
        full.extend(shape);
        tensors.insert(name.clone(), flat.reshape(full)?);
    }
    // Carried along so that the best rows a job keeps also record their embedding.
    tensors.insert(EMBEDDING.to_string(), e.clone());
    Ok(AdapterTable {
        spec: spec.clone(),
        tensors,
        speakers: s,
    })
}

impl Space {
    /// The space spanned by `adapters` (one single-row residual table per speaker, all trained
    /// from one common starting point, so that they are comparable weight by weight): `b` is
    /// their mean, `G` their top `dim` principal axes scaled to the population's spread, and `E`
    /// each speaker's coordinates (unit variance per axis, so a new speaker's prior is `N(0, I)`
    /// and the fit starts at the mean adapter).
    pub fn from_adapters(
        name: &str,
        dim: usize,
        cfg: &WhisperConfig,
        adapters: &[AdapterTable],
        speakers: &[String],
        base_hash: &str,
    ) -> Result<Self> {
        let first = adapters
            .first()
            .ok_or_else(|| candle_core::Error::Msg("a space needs adapters".into()))?;
        let dev = first
            .tensors
            .values()
            .next()
            .map_or(Device::Cpu, |t| t.device().clone());
        let spec = Spec::new(Kind::Embedding, first.spec.rank);
        let shapes = tensor_shapes(&spec, cfg);
        let rows = adapters
            .iter()
            .map(|a| {
                let mut flat = Vec::new();
                for (tname, _) in &shapes {
                    flat.extend(a.tensors[tname].flatten_all()?.to_vec1::<f32>()?);
                }
                Ok(flat)
            })
            .collect::<Result<Vec<_>>>()?;
        let pc = pca::principal(&rows, dim);
        let (mut g, mut b, mut at) = (BTreeMap::new(), BTreeMap::new(), 0);
        for (tname, shape) in &shapes {
            let n: usize = shape.iter().product();
            let gv: Vec<f32> = pc
                .axes
                .iter()
                .flat_map(|a| a[at..at + n].to_vec())
                .collect();
            g.insert(tname.clone(), Tensor::from_vec(gv, (dim, n), &dev)?);
            b.insert(
                tname.clone(),
                Tensor::from_slice(&pc.mean[at..at + n], n, &dev)?,
            );
            at += n;
        }
        let ev: Vec<f32> = pc.coords.concat();
        let e = Tensor::from_vec(ev, (adapters.len(), dim), &dev)?;
        let meta = SpaceMeta {
            name: name.into(),
            dim,
            spec,
            base_hash: base_hash.into(),
            speakers: speakers.to_vec(),
            created: crate::util::time::now_secs(),
            deleted_speakers: 0,
            explained: pc.explained,
        };
        Ok(Self { meta, g, b, e })
    }

    /// Where a new speaker's fit starts: the prior mean, zero (the population's mean adapter).
    pub fn start_embedding(&self) -> Result<Tensor> {
        Tensor::zeros((1, self.meta.dim), candle_core::DType::F32, self.e.device())
    }

    pub fn shapes(&self, cfg: &WhisperConfig) -> Vec<(String, Vec<usize>)> {
        tensor_shapes(&self.meta.spec, cfg)
    }

    pub fn save(&self, path: &Path) -> std::result::Result<(), SubmodelError> {
        let bad = |what: String| SubmodelError::BadFile {
            file: path.to_path_buf(),
            what,
        };
        let tensors = (self.g.iter().map(|(k, t)| (format!("G.{k}"), t)))
            .chain(self.b.iter().map(|(k, t)| (format!("b.{k}"), t)))
            .chain(std::iter::once(("E".to_string(), &self.e)));
        let meta = serde_json::to_string(&self.meta).map_err(|e| bad(e.to_string()))?;
        let bytes = tensor_io::serialize(tensors, HEADER_KEY, meta).map_err(bad)?;
        write_private_file(path, &bytes).map_err(|source| SubmodelError::Io {
            file: path.to_path_buf(),
            source,
        })
    }

    /// Removes `speaker`'s embedding row from the space file at `path` (rewritten atomically);
    /// `Ok(false)` when the space does not contain the speaker.
    pub fn forget(path: &Path, speaker: &str) -> std::result::Result<bool, SubmodelError> {
        let bytes = read_file(path)?;
        let meta = meta_of(&bytes, path)?;
        let Some(row) = meta.speakers.iter().position(|s| s == speaker) else {
            return Ok(false);
        };
        let mut space = Self::from_parts(meta, &bytes, path, &Device::Cpu)?;
        let keep: Vec<u32> = (0..space.meta.speakers.len() as u32)
            .filter(|&i| i as usize != row)
            .collect();
        let idx = Tensor::new(keep.as_slice(), &Device::Cpu)?;
        space.e = space.e.index_select(&idx, 0)?;
        space.meta.speakers.remove(row);
        space.meta.deleted_speakers += 1;
        space.save(path)?;
        Ok(true)
    }

    /// Loads a space, refusing one trained on another base.
    pub fn load(
        path: &Path,
        base_hash: &str,
        dev: &Device,
    ) -> std::result::Result<Self, SubmodelError> {
        let bytes = read_file(path)?;
        let meta = meta_of(&bytes, path)?;
        if meta.base_hash != base_hash {
            return Err(SubmodelError::WrongBase {
                file: path.to_path_buf(),
                found: meta.base_hash,
                expected: base_hash.into(),
            });
        }
        Self::from_parts(meta, &bytes, path, dev)
    }

    /// The space whose metadata is `meta` and whose tensors are in `bytes` (read from `path`).
    fn from_parts(
        meta: SpaceMeta,
        bytes: &[u8],
        path: &Path,
        dev: &Device,
    ) -> std::result::Result<Self, SubmodelError> {
        let (mut g, mut b, mut e) = (BTreeMap::new(), BTreeMap::new(), None);
        for (name, t) in tensor_io::read_all(bytes, dev).map_err(|w| bad(path, w))? {
            if let Some(k) = name.strip_prefix("G.") {
                g.insert(k.to_string(), t);
            } else if let Some(k) = name.strip_prefix("b.") {
                b.insert(k.to_string(), t);
            } else if name == "E" {
                e = Some(t);
            }
        }
        let e = e.ok_or_else(|| bad(path, "no embeddings (E)".into()))?;
        Ok(Self { meta, g, b, e })
    }
}

fn bad(path: &Path, what: String) -> SubmodelError {
    SubmodelError::BadFile {
        file: path.to_path_buf(),
        what,
    }
}

fn read_file(path: &Path) -> std::result::Result<Vec<u8>, SubmodelError> {
    std::fs::read(path).map_err(|source| SubmodelError::Io {
        file: path.to_path_buf(),
        source,
    })
}

/// The metadata of a space file's bytes.
fn meta_of(bytes: &[u8], path: &Path) -> std::result::Result<SpaceMeta, SubmodelError> {
    let json = tensor_io::header(bytes, HEADER_KEY)
        .map_err(|e| bad(path, format!("not a space file ({e})")))?
        .ok_or_else(|| bad(path, "not a space file".into()))?;
    serde_json::from_str(&json).map_err(|e| bad(path, e.to_string()))
}
