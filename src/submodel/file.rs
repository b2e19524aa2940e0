//! The submodel file: one safetensors file whose header metadata holds the JSON record (kind,
//! rank, targets, base hash, speaker, data hash, hyper-parameters, metrics, lineage, checksum).

use std::collections::BTreeMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::{AdapterTable, Spec, SubmodelError};
use crate::tensor_io;
use crate::util::hash::sha256_hex;

/// Version of the submodel file layout. 2: the checksum covers every metadata field and every
/// tensor (name, shape, bytes) through per-field digests; 1: tensor bytes only (still read).
pub const FORMAT_VERSION: u32 = 2;
const META_KEY: &str = "attune_submodel";

/// Figures recorded when a submodel is trained. `base_wer` / `wer` are on the speaker's **test**
/// part, which nothing in training or selection read (`protocol` = `"train/dev/test"`); files
/// from before that protocol hold held-out figures that also chose the version (`protocol` empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// The base at attune's runtime context on the test part.
    pub base_wer: f64,
    /// The submodel on the test part.
    pub wer: f64,
    #[serde(alias = "heldout_utterances")]
    pub test_utterances: usize,
    /// Training utterances the submodel saw (0 in files written before this was recorded).
    #[serde(default)]
    pub train_utterances: usize,
    #[serde(default)]
    pub protocol: String,
    /// Best dev WER (the figure that chose the version and the stopping step).
    #[serde(default)]
    pub dev_wer: Option<f64>,
    #[serde(default)]
    pub dev_utterances: usize,
    /// The base at Whisper's standard 30 s window on the test part ("stock").
    #[serde(default)]
    pub stock_wer: Option<f64>,
    /// 95 % paired-bootstrap interval of base − submodel test WER, and its verdict.
    #[serde(default)]
    pub ci95: Option<[f64; 2]>,
    #[serde(default)]
    pub verdict: Option<String>,
    /// Ordinary speech (the shipped real clips): base and submodel WER.
    #[serde(default)]
    pub generic: Option<GenericWer>,
}

impl Metrics {
    /// One line for people: `test WER 0.441 → 0.221 (17 utt.), better, 95 % CI [0.08, 0.36];
    /// stock 0.452; ordinary speech 0.061 → 0.070`.
    pub fn summary(&self) -> String {
        if self.protocol != TEST_PROTOCOL {
            return format!(
                "held-out WER {:.3} → {:.3} ({} utt., older protocol: also chose the version)",
                self.base_wer, self.wer, self.test_utterances
            );
        }
        let mut out = format!(
            "test WER {:.3} → {:.3} ({} utt.)",
            self.base_wer, self.wer, self.test_utterances
        );
        if let (Some(v), Some([lo, hi])) = (&self.verdict, self.ci95) {
            out.push_str(&format!(", {v}, 95 % CI [{lo:.2}, {hi:.2}]"));
        }
        if let Some(st) = self.stock_wer {
            out.push_str(&format!("; stock {st:.3}"));
        }
        if let Some(g) = self.generic {
            out.push_str(&format!(
                "; ordinary speech {:.3} → {:.3}{}",
                g.base_wer,
                g.wer,
                if g.regressed() { " WORSE" } else { "" }
            ));
        }
        out
    }
}

/// WER on ordinary (generic) speech, to catch a submodel that breaks everything else.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GenericWer {
    pub base_wer: f64,
    pub wer: f64,
}

impl GenericWer {
    /// Clearly worse on ordinary speech: more than 5 points and 50 % relative above the base.
    pub fn regressed(&self) -> bool {
        self.wer > self.base_wer + 0.05 && self.wer > self.base_wer * 1.5
    }
}

/// The protocol label of metrics measured on an untouched test part.
pub const TEST_PROTOCOL: &str = "train/dev/test";

/// Everything a submodel file says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubmodelMeta {
    pub format_version: u32,
    pub id: String,
    pub speaker: String,
    pub spec: Spec,
    pub targets: Vec<String>,
    /// SHA-256 of the base file it was trained on.
    pub base_hash: String,
    pub base_name: String,
    /// SHA-256 of the training data manifest.
    pub data_hash: String,
    pub hyper: BTreeMap<String, serde_json::Value>,
    pub metrics: Option<Metrics>,
    /// Seconds since the Unix epoch.
    pub created: u64,
    /// The submodel this one was trained from, if any.
    pub parent: Option<String>,
    /// The utterances it trained on (the store's ids) and the `--limit` that chose them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trained_on: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// Kind `embedding`: the space whose generator made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space: Option<String>,
    /// SHA-256 of every metadata field's JSON (`meta.<field>`) and every tensor's name, shape and
    /// bytes (`tensor.<name>`); a tampered field is named on load.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digests: BTreeMap<String, String>,
    /// SHA-256 over the digests (format 2) or over the tensors' bytes (format 1); checked on load.
    pub checksum: String,
}

/// A one-speaker submodel: metadata plus its adapter table (`S = 1`).
#[derive(Debug, Clone)]
pub struct Submodel {
    pub meta: SubmodelMeta,
    pub table: AdapterTable,
}

/// Format 1's checksum: SHA-256 over every tensor's name and f32 bytes, in name order.
fn tensor_checksum(tensors: &BTreeMap<String, Tensor>) -> candle_core::Result<String> {
    let mut all = Vec::new();
    for (name, t) in tensors {
        all.extend(name.as_bytes());
        all.extend(tensor_io::tensor_bytes(t)?);
    }
    Ok(sha256_hex(&all))
}

/// Format 2's per-field digests: each metadata field (except the digests and checksum
/// themselves) and each tensor with its shape.
fn digests(
    meta: &SubmodelMeta,
    tensors: &BTreeMap<String, Tensor>,
) -> candle_core::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    if let serde_json::Value::Object(fields) =
        serde_json::to_value(meta).expect("metadata serializes")
    {
        for (k, v) in fields {
            if k != "digests" && k != "checksum" {
                out.insert(format!("meta.{k}"), sha256_hex(v.to_string().as_bytes()));
            }
        }
    }
    for (name, t) in tensors {
        let mut all = format!("{name}{:?}", t.dims()).into_bytes();
        all.extend(tensor_io::tensor_bytes(t)?);
        out.insert(format!("tensor.{name}"), sha256_hex(&all));
    }
    Ok(out)
}

/// The checksum over a digest list.
fn digest_checksum(digests: &BTreeMap<String, String>) -> String {
    let mut all = String::new();
    for (k, v) in digests {
        all.push_str(k);
        all.push('=');
        all.push_str(v);
        all.push('\n');
    }
    sha256_hex(all.as_bytes())
}

/// Checks a submodel's integrity: `Err(what)` names the altered field or tensor.
fn verify(meta: &SubmodelMeta, tensors: &BTreeMap<String, Tensor>) -> Result<(), String> {
    if meta.format_version < 2 {
        let ok = tensor_checksum(tensors).map_err(|e| e.to_string())? == meta.checksum;
        return if ok {
            Ok(())
        } else {
            Err("checksum mismatch: the file was altered or damaged".into())
        };
    }
    let now = digests(meta, tensors).map_err(|e| e.to_string())?;
    let changed: Vec<&str> = now
        .keys()
        .chain(meta.digests.keys())
        .filter(|k| now.get(*k) != meta.digests.get(*k))
        .map(String::as_str)
        .collect();
    if let Some(first) = changed.first() {
        let mut names: Vec<&str> = changed.clone();
        names.dedup();
        return Err(format!(
            "checksum mismatch: {} altered ({}); the file was tampered with or damaged",
            if names.len() == 1 { "field" } else { "fields" },
            if names.len() <= 3 {
                names.join(", ")
            } else {
                format!("{first} and {} more", names.len() - 1)
            }
        ));
    }
    if digest_checksum(&meta.digests) != meta.checksum {
        return Err("checksum mismatch: the checksum field itself was altered".into());
    }
    Ok(())
}

impl Submodel {
    /// Serializes to bytes (always the current format); fills in the digests and the checksum.
    pub fn to_bytes(&mut self) -> Result<Vec<u8>, SubmodelError> {
        self.meta.format_version = FORMAT_VERSION;
        self.meta.digests = digests(&self.meta, &self.table.tensors)?;
        self.meta.checksum = digest_checksum(&self.meta.digests);
        let json = serde_json::to_string(&self.meta).expect("metadata serializes");
        let tensors = self.table.tensors.iter().map(|(k, t)| (k.clone(), t));
        tensor_io::serialize(tensors, META_KEY, json).map_err(|what| SubmodelError::BadFile {
            file: self.meta.id.clone().into(),
            what,
        })
    }

    /// Writes atomically (temp file, fsync, rename), mode 0600.
    pub fn save(&mut self, path: &Path) -> Result<(), SubmodelError> {
        let bytes = self.to_bytes()?;
        crate::util::atomic::write_atomic(path, &bytes).map_err(|source| SubmodelError::Io {
            file: path.to_path_buf(),
            source,
        })
    }

    /// Reads metadata only (fast: no tensor decoding).
    pub fn read_meta(path: &Path) -> Result<SubmodelMeta, SubmodelError> {
        let bytes = std::fs::read(path).map_err(|source| SubmodelError::Io {
            file: path.to_path_buf(),
            source,
        })?;
        meta_of(&bytes, path)
    }

    /// Parses and verifies `bytes` (named `file` in errors); refuses another base when
    /// `expected_base` is given.
    pub fn from_bytes(
        bytes: &[u8],
        file: &Path,
        expected_base: Option<&str>,
        dev: &Device,
    ) -> Result<Self, SubmodelError> {
        let bad = |what: String| SubmodelError::BadFile {
            file: file.to_path_buf(),
            what,
        };
        let meta = meta_of(bytes, file)?;
        let tensors =
            tensor_io::read_all(bytes, dev).map_err(|e| bad(format!("corrupt tensors: {e}")))?;
        // Integrity first: a tampered base hash must read as tampering, not as another base.
        verify(&meta, &tensors).map_err(bad)?;
        if let Some(expected) = expected_base.filter(|e| *e != meta.base_hash) {
            return Err(SubmodelError::WrongBase {
                file: file.to_path_buf(),
                found: meta.base_hash,
                expected: expected.to_string(),
            });
        }
        let speakers = tensors
            .values()
            .next()
            .map_or(0, |t: &Tensor| t.dim(0).unwrap_or(0));
        let table = AdapterTable {
            spec: meta.spec.clone(),
            tensors,
            speakers,
        };
        Ok(Self { meta, table })
    }

    /// Loads and verifies a submodel file.
    pub fn load(
        path: &Path,
        expected_base: Option<&str>,
        dev: &Device,
    ) -> Result<Self, SubmodelError> {
        let bytes = std::fs::read(path).map_err(|source| SubmodelError::Io {
            file: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes, path, expected_base, dev)
    }
}

fn meta_of(bytes: &[u8], file: &Path) -> Result<SubmodelMeta, SubmodelError> {
    let bad = |what: String| SubmodelError::BadFile {
        file: file.to_path_buf(),
        what,
    };
    let json = tensor_io::header(bytes, META_KEY)
        .map_err(|e| bad(format!("not a submodel file ({e})")))?
        .ok_or_else(|| bad("not a submodel file (no attune metadata)".into()))?;
    let meta: SubmodelMeta =
        serde_json::from_str(&json).map_err(|e| bad(format!("metadata: {e}")))?;
    if meta.format_version > FORMAT_VERSION {
        return Err(bad(format!(
            "format version {} is newer than this attune ({FORMAT_VERSION})",
            meta.format_version
        )));
    }
    Ok(meta)
}
