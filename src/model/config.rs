//! Whisper hyper-parameters and decoding constants of one base model, stored beside its weights.

use serde::{Deserialize, Serialize};

/// Shape of a Whisper model (OpenAI's `ModelDimensions` names) plus the token ids decoding needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhisperConfig {
    /// Human-readable name, e.g. `tiny.en`.
    pub name: String,
    pub n_mels: usize,
    pub n_audio_ctx: usize,
    pub n_audio_state: usize,
    pub n_audio_head: usize,
    pub n_audio_layer: usize,
    pub n_vocab: usize,
    pub n_text_ctx: usize,
    pub n_text_state: usize,
    pub n_text_head: usize,
    pub n_text_layer: usize,
    pub tokens: SpecialTokens,
    /// Token ids never emitted (Whisper's `suppress_tokens`).
    pub suppress: Vec<u32>,
    /// Token ids not allowed as the first emitted token (Whisper's `begin_suppress_tokens`).
    pub suppress_at_begin: Vec<u32>,
}

/// Special token ids, resolved from the tokenizer at import time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecialTokens {
    pub eot: u32,
    pub sot: u32,
    pub no_timestamps: u32,
    /// `<|en|>` and `<|transcribe|>` for multilingual models; absent for `.en` models.
    pub english: Option<u32>,
    pub transcribe: Option<u32>,
    /// First timestamp token; everything from here up is suppressed (no timestamps mode).
    pub timestamp_begin: u32,
    /// `<|nospeech|>` (`<|nocaptions|>` in the `.en` vocabularies). Not stored in bases written
    /// before it existed: [`super::Whisper::load`] resolves it from the tokenizer. `None`
    /// disables the no-speech rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_speech: Option<u32>,
}

impl WhisperConfig {
    /// The prompt that starts every transcription: `<|sot|>[<|en|><|transcribe|>]<|notimestamps|>`.
    pub fn prompt(&self) -> Vec<u32> {
        let t = &self.tokens;
        let mut p = vec![t.sot];
        p.extend(t.english);
        p.extend(t.transcribe);
        p.push(t.no_timestamps);
        p
    }

    /// Head width of the encoder attention.
    pub fn audio_head_dim(&self) -> usize {
        self.n_audio_state / self.n_audio_head
    }

    /// A tiny random-weight configuration for numeric tests (2+2 layers, d=16).
    pub fn tiny_test() -> Self {
        Self {
            name: "test".into(),
            n_mels: 8,
            n_audio_ctx: 32,
            n_audio_state: 16,
            n_audio_head: 2,
            n_audio_layer: 2,
            n_vocab: 40,
            n_text_ctx: 24,
            n_text_state: 16,
            n_text_head: 2,
            n_text_layer: 2,
            tokens: SpecialTokens {
                eot: 30,
                sot: 31,
                no_timestamps: 32,
                english: None,
                transcribe: None,
                timestamp_begin: 33,
                no_speech: None,
            },
            suppress: vec![],
            suppress_at_begin: vec![30],
        }
    }
}
