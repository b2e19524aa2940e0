//! Serving many speakers through one base: an LRU cache of loaded submodels (hot-loaded from the
//! library) and mixed-speaker batched transcription, where each row of a batch gathers its own
//! speaker's adapter from a stack of the batch's distinct submodels.

pub mod synthetic;
pub mod workload;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use candle_core::Device;
use serde::Serialize;

use crate::library::{self, LibraryError};
use crate::model::ModelError;
use crate::model::decode::Transcript;
use crate::recognizer::Recognizer;
use crate::store::Home;
use crate::submodel::{AdapterTable, Gathered, Spec, Submodel};

/// Errors while serving.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Library(#[from] LibraryError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("{ids} utterances but {audios} audio inputs")]
    Mismatch { ids: usize, audios: usize },
}

/// Counters of a cache's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
}

#[derive(Default)]
struct Lru {
    /// id → (submodel, last use tick)
    entries: HashMap<String, (Arc<Submodel>, u64)>,
    tick: u64,
    stats: CacheStats,
}

/// Loaded submodels of one base, at most `capacity` resident, least recently used evicted
/// first. Shared between threads; a submodel handed out stays valid after eviction.
pub struct SubmodelCache {
    home: Home,
    base_hash: String,
    device: Device,
    capacity: usize,
    lru: Mutex<Lru>,
}

impl SubmodelCache {
    /// A cache over `home`'s library for the base with hash `base_hash`; `capacity` 0 caches
    /// nothing (every `get` loads from disk).
    pub fn new(home: Home, base_hash: &str, device: Device, capacity: usize) -> Self {
        Self {
            home,
            base_hash: base_hash.to_string(),
            device,
            capacity,
            lru: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Lru> {
        self.lru.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Submodel `id`: from memory, else hot-loaded (verified) from the library.
    pub fn get(&self, id: &str) -> Result<Arc<Submodel>, LibraryError> {
        {
            let mut lru = self.lock();
            lru.tick += 1;
            let tick = lru.tick;
            if let Some((sub, used)) = lru.entries.get_mut(id) {
                *used = tick;
                let sub = Arc::clone(sub);
                lru.stats.hits += 1;
                return Ok(sub);
            }
            lru.stats.misses += 1;
        }
        // Loaded without holding the lock, so other ids are served meanwhile.
        let sub = Arc::new(library::load(
            &self.home,
            id,
            Some(&self.base_hash),
            &self.device,
        )?);
        if self.capacity > 0 {
            let mut lru = self.lock();
            lru.tick += 1;
            let tick = lru.tick;
            lru.entries.insert(id.to_string(), (Arc::clone(&sub), tick));
            while lru.entries.len() > self.capacity {
                let oldest = lru
                    .entries
                    .iter()
                    .min_by_key(|(_, (_, t))| *t)
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    lru.entries.remove(&k);
                    lru.stats.evictions += 1;
                }
            }
        }
        Ok(sub)
    }

    /// Ids in memory, least recently used first.
    pub fn resident(&self) -> Vec<String> {
        let lru = self.lock();
        let mut v: Vec<(&String, u64)> = lru.entries.iter().map(|(k, (_, t))| (k, *t)).collect();
        v.sort_by_key(|(_, t)| *t);
        v.into_iter().map(|(k, _)| k.clone()).collect()
    }

    /// Drops `id` from memory (after `library rm`, or a re-import with `--force`).
    pub fn invalidate(&self, id: &str) {
        self.lock().entries.remove(id);
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn stats(&self) -> CacheStats {
        self.lock().stats
    }
}

/// Per-row adapters of one batch: the batch's distinct submodels (plus an identity row for
/// rows served by the base) stacked into one table, gathered by row. `identity` must be given
/// when a row has no submodel.
pub fn gather_rows(
    rows: &[Option<&Arc<Submodel>>],
    identity: Option<&AdapterTable>,
) -> candle_core::Result<Gathered> {
    let mut tables: Vec<&AdapterTable> = Vec::new();
    let mut ids: Vec<u32> = Vec::with_capacity(rows.len());
    for row in rows {
        let table = match row {
            Some(sub) => &sub.table,
            None => identity.ok_or_else(|| {
                candle_core::Error::Msg("a base row needs an identity adapter".into())
            })?,
        };
        let at = match tables.iter().position(|t| std::ptr::eq(*t, table)) {
            Some(at) => at,
            None => {
                tables.push(table);
                tables.len() - 1
            }
        };
        ids.push(at as u32);
    }
    match tables.as_slice() {
        [one] => one.gather(&ids),
        _ => AdapterTable::stack(&tables)?.gather(&ids),
    }
}

/// Transcribes utterances of many speakers together: `ids[i]` names utterance `i`'s submodel
/// (`None`: the base). Utterances whose submodels share a spec share batches (mixed speakers,
/// one base forward per batch); base utterances ride along with an identity adapter row, which
/// computes exactly the base. Results are in input order and equal one-by-one transcription.
pub fn transcribe_mixed(
    rec: &Recognizer,
    cache: &SubmodelCache,
    audios: &[&[f32]],
    ids: &[Option<String>],
    batch: usize,
) -> Result<Vec<Transcript>, ServeError> {
    if ids.len() != audios.len() {
        return Err(ServeError::Mismatch {
            ids: ids.len(),
            audios: audios.len(),
        });
    }
    // Resolve every submodel first: a missing or damaged one fails before any decoding.
    let mut subs: HashMap<&str, Arc<Submodel>> = HashMap::new();
    for id in ids.iter().flatten() {
        if !subs.contains_key(id.as_str()) {
            subs.insert(id, cache.get(id)?);
        }
    }
    let row_sub = |i: usize| ids[i].as_deref().map(|id| &subs[id]);
    let mut groups: Vec<(Option<Spec>, Vec<usize>)> = Vec::new();
    for i in 0..ids.len() {
        let spec = row_sub(i).map(|s| s.table.spec.clone());
        match groups.iter_mut().find(|(s, _)| *s == spec) {
            Some((_, members)) => members.push(i),
            None => groups.push((spec, vec![i])),
        }
    }
    if groups.len() > 1
        && let Some(at) = groups.iter().position(|(s, _)| s.is_none())
    {
        let base = groups.remove(at).1;
        let largest = groups
            .iter_mut()
            .max_by_key(|(_, m)| m.len())
            .expect("another group exists");
        largest.1.extend(base);
        largest.1.sort_unstable();
    }
    let mut out: Vec<Option<Transcript>> = vec![None; audios.len()];
    for (spec, members) in groups {
        let identity = spec
            .map(|s| AdapterTable::init(&s, &rec.model.config, 1, 0, rec.model.device()))
            .transpose()
            .map_err(ModelError::from)?;
        let group_audio: Vec<&[f32]> = members.iter().map(|&i| audios[i]).collect();
        let texts = rec.transcribe_with(&group_audio, batch, |rows| {
            let Some(identity) = &identity else {
                return Ok(None);
            };
            let rows: Vec<_> = rows.iter().map(|&r| row_sub(members[r])).collect();
            Ok(Some(gather_rows(&rows, Some(identity))?))
        })?;
        for (&i, t) in members.iter().zip(texts) {
            out[i] = Some(t);
        }
    }
    Ok(out
        .into_iter()
        .map(|t| t.expect("every utterance is in one group"))
        .collect())
}
