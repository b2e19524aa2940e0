//! Synthetic submodels and spaces for tests and benchmarks: a fresh adapter whose zero half
//! (residual up projection, LoRA `B`) is filled with small random values, so it really changes
//! the output.

use std::collections::BTreeMap;

use candle_core::{Device, Tensor};

use crate::model::WhisperConfig;
use crate::submodel::adapters::is_output_half;
use crate::submodel::file::FORMAT_VERSION;
use crate::submodel::space::Space;
use crate::submodel::{AdapterTable, Kind, Spec, Submodel, SubmodelMeta};
use crate::util::rng::Rng;

/// A one-speaker submodel for `speaker` on the base `(cfg, base_hash, base_name)`: fresh
/// adapters seeded with `seed`, output half uniform in `[-scale, scale)`. Id and checksum are
/// filled in when it is added to a library.
pub fn submodel(
    spec: &Spec,
    base: (&WhisperConfig, &str, &str),
    speaker: &str,
    seed: u64,
    scale: f32,
    dev: &Device,
) -> candle_core::Result<Submodel> {
    let (cfg, base_hash, base_name) = base;
    let mut table = AdapterTable::init(spec, cfg, 1, seed, dev)?;
    let mut rng = Rng::new(seed ^ 0x5EED_CAFE);
    for (name, t) in table.tensors.iter_mut() {
        if is_output_half(name) {
            let values: Vec<f32> = (0..t.elem_count()).map(|_| rng.uniform() * scale).collect();
            *t = Tensor::from_vec(values, t.dims(), dev)?;
        }
    }
    let hyper = BTreeMap::from([
        ("synthetic".to_string(), serde_json::json!(true)),
        ("seed".to_string(), serde_json::json!(seed)),
        ("scale".to_string(), serde_json::json!(scale)),
    ]);
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let meta = SubmodelMeta {
        format_version: FORMAT_VERSION,
        id: String::new(),
        speaker: speaker.to_string(),
        spec: spec.clone(),
        targets: spec.targets(),
        base_hash: base_hash.to_string(),
        base_name: base_name.to_string(),
        data_hash: String::new(),
        hyper,
        metrics: None,
        created,
        parent: None,
        trained_on: Vec::new(),
        limit: None,
        space: None,
        digests: Default::default(),
        checksum: String::new(),
    };
    Ok(Submodel { meta, table })
}

/// A speaker-embedding space over synthetic residual adapters (bottleneck `rank`), one per
/// speaker in `speakers` (at least two), of dimension `speakers.len() − 1`: every speaker's
/// embedding regenerates its adapter.
pub fn space(
    name: &str,
    rank: usize,
    base: (&WhisperConfig, &str),
    speakers: &[String],
    seed: u64,
    dev: &Device,
) -> candle_core::Result<Space> {
    let (cfg, base_hash) = base;
    let spec = Spec::new(Kind::Residual, rank);
    let adapters = speakers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            // One common starting point, different output halves: comparable adapters.
            let sub = submodel(&spec, (cfg, base_hash, ""), s, seed, 0.1, dev)?;
            let mut rng = Rng::new(seed + 1 + i as u64);
            let mut table = sub.table;
            for (tname, t) in table.tensors.iter_mut() {
                if is_output_half(tname) {
                    let v: Vec<f32> = (0..t.elem_count()).map(|_| rng.uniform() * 0.1).collect();
                    *t = Tensor::from_vec(v, t.dims(), dev)?;
                }
            }
            Ok(table)
        })
        .collect::<candle_core::Result<Vec<_>>>()?;
    let dim = speakers.len().saturating_sub(1).max(1);
    Space::from_adapters(name, dim, cfg, &adapters, speakers, base_hash)
}
