//! The recognizer everything else calls: a loaded base + tokenizer + front end, transcribing
//! many utterances in batches bucketed by encoder context so batching never changes a result,
//! at the loaded context or at either context per call; segments without speech give no text.
//! The base's transcripts can be memoised in memory (never on disk: they transcribe health data)
//! so that scoring a speaker's next submodel does not decode the unchanged base again.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use candle_core::Device;
use sha2::{Digest, Sha256};

use crate::features::{self, MelFrontend};
use crate::model::decode::{self, DecodeOptions, Transcript};
use crate::model::int8::Compute;
use crate::model::{Hooks, ModelError, Tokenizer, Whisper, no_speech};
use crate::submodel::{Gathered, Submodel};

/// Base model ready to transcribe.
#[derive(Clone)]
pub struct Recognizer {
    pub model: Whisper,
    pub tokenizer: Tokenizer,
    pub frontend: MelFrontend,
    pub options: DecodeOptions,
    /// The base's transcripts by utterance, shared by clones (same model).
    memo: Arc<Mutex<HashMap<MemoKey, Transcript>>>,
}

/// One utterance's memo key: the options it was decoded with and the SHA-256 of its samples.
type MemoKey = (DecodeOptions, [u8; 32]);

/// Most base transcripts kept in memory; the memo starts over when full.
const MEMO_CAPACITY: usize = 4096;

/// Groups utterance indices into batches of at most `batch` whose members need the same encoder
/// context (and are ≤ 30 s), so that a batched decode equals decoding each alone. Longer audio
/// gets a batch of its own.
pub fn plan_batches(lengths: &[usize], batch: usize, full_context: bool) -> Vec<Vec<usize>> {
    let max = features::FULL_FRAMES * features::HOP;
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| (features::context_frames(lengths[i], full_context), i));
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut key = None;
    for i in order {
        let k = features::context_frames(lengths[i], full_context);
        let fits = lengths[i] <= max;
        match out.last_mut() {
            Some(b) if fits && key == Some(k) && b.len() < batch.max(1) => b.push(i),
            _ => out.push(vec![i]),
        }
        key = if fits { Some(k) } else { None };
    }
    out
}

impl Recognizer {
    /// Loads the base stored in `dir` on the CPU with the default compute (int8 decoder).
    pub fn load(dir: &Path, options: DecodeOptions) -> Result<Self, ModelError> {
        Self::load_with(dir, options, Compute::default())
    }

    /// Loads the base stored in `dir` on the CPU, `compute` choosing the int8 matrices.
    pub fn load_with(
        dir: &Path,
        options: DecodeOptions,
        compute: Compute,
    ) -> Result<Self, ModelError> {
        let (model, tokenizer) = Whisper::load_with(dir, &Device::Cpu, compute)?;
        Ok(Self::new(model, tokenizer, options))
    }

    /// A recognizer over an already built model (e.g. a random one in tests).
    pub fn new(model: Whisper, tokenizer: Tokenizer, options: DecodeOptions) -> Self {
        Self {
            frontend: MelFrontend::new(model.config.n_mels),
            model,
            tokenizer,
            options,
            memo: Arc::default(),
        }
    }

    /// Transcribes `audios` with the base (`hooks = None`) or with per-utterance adapters
    /// chosen by `hooks_for(utterance index of each batch row)`, with `self.options`.
    pub fn transcribe_with(
        &self,
        audios: &[&[f32]],
        batch: usize,
        hooks_for: impl FnMut(&[usize]) -> Result<Option<Gathered>, ModelError>,
    ) -> Result<Vec<Transcript>, ModelError> {
        self.transcribe_with_options(audios, batch, self.options, hooks_for)
    }

    /// [`Self::transcribe_with`] with `options` for this call instead of `self.options`: one
    /// loaded base scores both attune's dynamic context and the stock 30 s window.
    pub fn transcribe_with_options(
        &self,
        audios: &[&[f32]],
        batch: usize,
        options: DecodeOptions,
        mut hooks_for: impl FnMut(&[usize]) -> Result<Option<Gathered>, ModelError>,
    ) -> Result<Vec<Transcript>, ModelError> {
        let lengths: Vec<usize> = audios.iter().map(|a| a.len()).collect();
        let mut out: Vec<Option<Transcript>> = vec![None; audios.len()];
        for group in plan_batches(&lengths, batch, options.full_context) {
            // A lone utterance may be longer than 30 s: one row per segment, same adapter.
            let (items, rows): (Vec<&[f32]>, Vec<usize>) = match group.as_slice() {
                [i] => decode::split_segments(audios[*i])
                    .into_iter()
                    .map(|s| (s, *i))
                    .unzip(),
                _ => group.iter().map(|&i| (audios[i], i)).unzip(),
            };
            let hooks = hooks_for(&rows)?;
            let hooks: &dyn Hooks = match &hooks {
                Some(g) => g,
                None => &crate::model::NoHooks,
            };
            let decoded =
                decode::decode_segments(&self.model, &self.frontend, &items, hooks, options)?;
            for (i, mut seg) in rows.into_iter().zip(decoded) {
                if !seg.stats.no_speech
                    && no_speech::is_wordless_no_speech(
                        seg.stats.no_speech_prob,
                        &self.tokenizer.decode(&seg.tokens)?,
                    )
                {
                    seg.tokens.clear();
                    seg.stats.no_speech = true;
                }
                let t = out[i].get_or_insert_with(Transcript::default);
                t.tokens.extend(seg.tokens);
                t.stops.push(seg.stop);
                t.segments.push(seg.stats);
            }
        }
        for t in out.iter_mut().flatten() {
            t.text = self.tokenizer.decode(&t.tokens)?.trim().to_string();
            t.no_speech = t.segments.iter().all(|s| s.no_speech);
        }
        Ok(out
            .into_iter()
            .map(|t| t.expect("every utterance is in one batch"))
            .collect())
    }

    /// Transcribes with the base alone, or with one submodel for every utterance.
    pub fn transcribe(
        &self,
        audios: &[&[f32]],
        submodel: Option<&Submodel>,
        batch: usize,
    ) -> Result<Vec<Transcript>, ModelError> {
        self.transcribe_options(audios, submodel, batch, self.options)
    }

    /// [`Self::transcribe`] with `options` for this call (e.g. `full_context: true` for the
    /// "stock" reference column next to the base at its runtime context).
    pub fn transcribe_options(
        &self,
        audios: &[&[f32]],
        submodel: Option<&Submodel>,
        batch: usize,
        options: DecodeOptions,
    ) -> Result<Vec<Transcript>, ModelError> {
        self.transcribe_with_options(audios, batch, options, |group| {
            submodel
                .map(|s| s.table.gather(&vec![0; group.len()]))
                .transpose()
                .map_err(ModelError::from)
        })
    }

    /// The base at Whisper's standard 30 s window: what a stock recognizer transcribes.
    pub fn transcribe_stock(
        &self,
        audios: &[&[f32]],
        batch: usize,
    ) -> Result<Vec<Transcript>, ModelError> {
        self.transcribe_options(audios, None, batch, DecodeOptions { full_context: true })
    }

    /// The base alone with `options`, memoised: utterances this recognizer has already decoded
    /// with the same options (same samples) are not decoded again. Equal to
    /// [`Self::transcribe_options`] with no submodel, since batching never changes a result.
    /// Benchmarks call the unmemoised methods.
    pub fn transcribe_base_memo(
        &self,
        audios: &[&[f32]],
        batch: usize,
        options: DecodeOptions,
    ) -> Result<Vec<Transcript>, ModelError> {
        let keys: Vec<MemoKey> = audios.iter().map(|a| (options, digest(a))).collect();
        let mut out: Vec<Option<Transcript>> = {
            let memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
            keys.iter().map(|k| memo.get(k).cloned()).collect()
        };
        let missing: Vec<usize> = (0..audios.len()).filter(|&i| out[i].is_none()).collect();
        if !missing.is_empty() {
            let todo: Vec<&[f32]> = missing.iter().map(|&i| audios[i]).collect();
            let decoded = self.transcribe_options(&todo, None, batch, options)?;
            let mut memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
            if memo.len() + missing.len() > MEMO_CAPACITY {
                memo.clear();
            }
            for (i, t) in missing.into_iter().zip(decoded) {
                memo.insert(keys[i], t.clone());
                out[i] = Some(t);
            }
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// How many base transcripts are memoised.
    pub fn memoised(&self) -> usize {
        self.memo.lock().map(|m| m.len()).unwrap_or(0)
    }
}

/// SHA-256 of the samples' bits: the memo's key for one utterance.
fn digest(audio: &[f32]) -> [u8; 32] {
    let mut h = Sha256::new();
    for chunk in audio.chunks(4096) {
        let bytes: Vec<u8> = chunk.iter().flat_map(|x| x.to_le_bytes()).collect();
        h.update(&bytes);
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_share_one_context_and_respect_the_size() {
        let s = 16_000;
        // 1 s → 400 frames; 1.2 s and 1.1 s → 500; 2 s → 500; 3 s → 600; 40 s alone.
        let plan = plan_batches(
            &[s, s * 12 / 10, 3 * s, s * 11 / 10, 40 * s, 2 * s],
            2,
            false,
        );
        assert_eq!(plan, vec![vec![0], vec![1, 3], vec![5], vec![2], vec![4]]);
    }

    #[test]
    fn memoised_base_transcripts_equal_fresh_ones_and_are_not_decoded_twice() {
        let cfg = crate::model::WhisperConfig {
            n_audio_ctx: 200,
            ..crate::model::WhisperConfig::tiny_test()
        };
        let model = Whisper::random(&cfg, 5, &Device::Cpu).unwrap();
        let tok = Tokenizer::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/base/tiny.en/tokenizer.json"),
        )
        .unwrap();
        let rec = Recognizer::new(model, tok, DecodeOptions::default());
        let mut rng = crate::util::rng::Rng::new(1);
        let noise = |rng: &mut crate::util::rng::Rng, n: usize| -> Vec<f32> {
            (0..n).map(|_| 0.2 * rng.uniform() - 0.1).collect()
        };
        let (a, b, c) = (
            noise(&mut rng, 4000),
            noise(&mut rng, 6000),
            noise(&mut rng, 4000),
        );
        let opts = rec.options;
        let first = rec.transcribe_base_memo(&[&a, &b], 2, opts).unwrap();
        assert_eq!(rec.memoised(), 2);
        let again = rec.transcribe_base_memo(&[&b, &c, &a], 2, opts).unwrap();
        assert_eq!(rec.memoised(), 3, "a and b come from the memo");
        let fresh = rec
            .transcribe_options(&[&b, &c, &a], None, 1, opts)
            .unwrap();
        let texts = |v: &[Transcript]| -> Vec<(String, Vec<u32>)> {
            v.iter()
                .map(|t| (t.text.clone(), t.tokens.clone()))
                .collect()
        };
        assert_eq!(texts(&again), texts(&fresh));
        assert_eq!(texts(&first), texts(&[fresh[2].clone(), fresh[0].clone()]));
        // Clones share the memo.
        let d = noise(&mut rng, 5000);
        rec.clone().transcribe_base_memo(&[&d], 1, opts).unwrap();
        assert_eq!(rec.memoised(), 4);
    }
}
