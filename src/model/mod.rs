//! The Whisper base model written for attune: config, weights format, importer, encoder/decoder
//! with submodel hook points, tokenizer and the greedy decode loop.

pub mod config;
pub mod ct2;
pub mod decode;
pub mod decoder;
pub mod encoder;
mod frozen;
pub mod import;
pub mod int8;
pub mod kernels;
pub mod layers;
pub mod no_speech;
pub mod repetition;
pub mod testing;
pub mod tokenizer;
pub mod weights;

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};

pub use config::WhisperConfig;
pub use layers::{Hooks, NoHooks, Site};
pub use tokenizer::Tokenizer;

/// Names of Whisper's no-speech token: current vocabularies, then the `.en` ones.
pub const NO_SPEECH_TOKENS: [&str; 2] = ["<|nospeech|>", "<|nocaptions|>"];

/// Errors loading, importing or running a base model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{}: {what}", file.display())]
    BadFile { file: PathBuf, what: String },
    #[error("{}: {source}", file.display())]
    Io {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("base format: {0}")]
    Format(String),
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

impl From<crate::util::bytes::Truncated> for ModelError {
    fn from(t: crate::util::bytes::Truncated) -> Self {
        Self::BadFile {
            file: t.file,
            what: format!("truncated at byte {}", t.at),
        }
    }
}

impl ModelError {
    pub fn io(file: &Path, source: std::io::Error) -> Self {
        Self::Io {
            file: file.to_path_buf(),
            source,
        }
    }
}

/// A loaded base: weights (f32, frozen), encoder, decoder, tokenizer and identity.
#[derive(Clone)]
pub struct Whisper {
    pub config: WhisperConfig,
    pub encoder: encoder::Encoder,
    pub decoder: decoder::Decoder,
    pub weights: weights::Weights,
    /// SHA-256 of the base file: submodels record it and refuse other bases.
    pub hash: String,
    pub dir: PathBuf,
}

impl Whisper {
    /// Loads the base stored in `dir` (`model.safetensors` + `tokenizer.json`) with every
    /// product in f32 (exports and exact comparisons; inference goes through
    /// [`crate::recognizer::Recognizer::load`], which adds the int8 decoder).
    pub fn load(dir: &Path, device: &Device) -> Result<(Self, Tokenizer), ModelError> {
        Self::load_with(dir, device, int8::Compute::F32)
    }

    /// Like [`Whisper::load`], with the matrices `compute` covers also kept as Q8_0 for int8 ×
    /// int8 inference.
    pub fn load_with(
        dir: &Path,
        device: &Device,
        compute: int8::Compute,
    ) -> Result<(Self, Tokenizer), ModelError> {
        let file = weights::model_file(dir);
        let bytes = std::fs::read(&file).map_err(|e| ModelError::io(&file, e))?;
        let hash = crate::util::hash::sha256_hex(&bytes);
        let (mut config, mut weights) = weights::decode_base(&bytes, &file, device)?;
        drop(bytes);
        int8::attach(&mut weights, compute)?;
        let tokenizer = Tokenizer::load(&weights::tokenizer_file(dir))?;
        if config.tokens.no_speech.is_none() {
            config.tokens.no_speech = NO_SPEECH_TOKENS
                .iter()
                .find_map(|t| tokenizer.token_id(t))
                .filter(|&id| (id as usize) < config.n_vocab);
        }
        let model = Self::from_weights(config, weights, hash, dir.to_path_buf())?;
        Ok((model, tokenizer))
    }

    /// Builds the modules from already-loaded weights (also used by tests with random weights).
    pub fn from_weights(
        config: WhisperConfig,
        weights: weights::Weights,
        hash: String,
        dir: PathBuf,
    ) -> Result<Self, ModelError> {
        Ok(Self {
            encoder: encoder::Encoder::load(&weights, &config)?,
            decoder: decoder::Decoder::load(&weights, &config)?,
            config,
            weights,
            hash,
            dir,
        })
    }

    pub fn device(&self) -> &Device {
        &self.weights.device
    }

    /// Encodes `mel: [B, n_mels, F]`; `grad` selects backward-capable ops (training).
    pub fn encode(
        &self,
        mel: &Tensor,
        hooks: &dyn Hooks,
        grad: bool,
    ) -> candle_core::Result<Tensor> {
        self.encoder.forward(mel, hooks, grad)
    }
}
