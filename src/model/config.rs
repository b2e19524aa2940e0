//! Whisper hyper-parameters and decoding constants of one base model, stored beside its weights.

use serde::{Deserialize, Serialize};

/// Largest accepted model dimension (widths, contexts, vocabulary, layers, mel bins): Whisper's
/// largest is its 51 866-token vocabulary.
pub const MAX_DIM: usize = 1 << 20;
/// Most values in the recomputed encoder position table (large-v3: 1500 × 1280 = 1.9 M).
pub const MAX_AUDIO_POSITIONS: usize = 1 << 24;

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
    /// Names and shapes of every stored tensor of `cfg` (HF Whisper names; the encoder's sinusoidal
    /// positions are not stored).
    pub fn tensor_shapes(&self) -> Vec<(String, Vec<usize>)> {
        let cfg = self;
        let (d, t) = (cfg.n_audio_state, cfg.n_text_state);
        let mut v: Vec<(String, Vec<usize>)> = vec![
            ("model.encoder.conv1.weight".into(), vec![d, cfg.n_mels, 3]),
            ("model.encoder.conv1.bias".into(), vec![d]),
            ("model.encoder.conv2.weight".into(), vec![d, d, 3]),
            ("model.encoder.conv2.bias".into(), vec![d]),
            ("model.encoder.layer_norm.weight".into(), vec![d]),
            ("model.encoder.layer_norm.bias".into(), vec![d]),
            (
                "model.decoder.embed_tokens.weight".into(),
                vec![cfg.n_vocab, t],
            ),
            (
                "model.decoder.embed_positions.weight".into(),
                vec![cfg.n_text_ctx, t],
            ),
            ("model.decoder.layer_norm.weight".into(), vec![t]),
            ("model.decoder.layer_norm.bias".into(), vec![t]),
        ];
        let attn = |v: &mut Vec<(String, Vec<usize>)>, p: String, d: usize| {
            for proj in ["q_proj", "k_proj", "v_proj", "out_proj"] {
                v.push((format!("{p}.{proj}.weight"), vec![d, d]));
                if proj != "k_proj" {
                    v.push((format!("{p}.{proj}.bias"), vec![d]));
                }
            }
            v.push((format!("{p}_layer_norm.weight"), vec![d]));
            v.push((format!("{p}_layer_norm.bias"), vec![d]));
        };
        let mlp = |v: &mut Vec<(String, Vec<usize>)>, p: &str, d: usize| {
            v.push((format!("{p}.fc1.weight"), vec![4 * d, d]));
            v.push((format!("{p}.fc1.bias"), vec![4 * d]));
            v.push((format!("{p}.fc2.weight"), vec![d, 4 * d]));
            v.push((format!("{p}.fc2.bias"), vec![d]));
            v.push((format!("{p}.final_layer_norm.weight"), vec![d]));
            v.push((format!("{p}.final_layer_norm.bias"), vec![d]));
        };
        for i in 0..cfg.n_audio_layer {
            let p = format!("model.encoder.layers.{i}");
            attn(&mut v, format!("{p}.self_attn"), d);
            mlp(&mut v, &p, d);
        }
        for i in 0..cfg.n_text_layer {
            let p = format!("model.decoder.layers.{i}");
            attn(&mut v, format!("{p}.self_attn"), t);
            attn(&mut v, format!("{p}.encoder_attn"), t);
            mlp(&mut v, &p, t);
        }
        v
    }

    /// The prompt that starts every transcription: `<|sot|>[<|en|><|transcribe|>]<|notimestamps|>`.
    pub fn prompt(&self) -> Vec<u32> {
        let t = &self.tokens;
        let mut p = vec![t.sot];
        p.extend(t.english);
        p.extend(t.transcribe);
        p.push(t.no_timestamps);
        p
    }

    /// Checks the dimensions before anything is sized by them: every one positive and at most
    /// [`MAX_DIM`], heads dividing their widths, an even encoder width (sin | cos halves), and an
    /// encoder position table of at most [`MAX_AUDIO_POSITIONS`] values. `Err` names the problem.
    pub fn check(&self) -> Result<(), String> {
        let dims = [
            ("n_mels", self.n_mels),
            ("n_audio_ctx", self.n_audio_ctx),
            ("n_audio_state", self.n_audio_state),
            ("n_audio_head", self.n_audio_head),
            ("n_vocab", self.n_vocab),
            ("n_text_ctx", self.n_text_ctx),
            ("n_text_state", self.n_text_state),
            ("n_text_head", self.n_text_head),
            ("n_audio_layer", self.n_audio_layer),
            ("n_text_layer", self.n_text_layer),
        ];
        for (name, v) in dims {
            if v == 0 || v > MAX_DIM {
                return Err(format!("config: {name} = {v} is not in 1..={MAX_DIM}"));
            }
        }
        for (state, heads, what) in [
            (self.n_audio_state, self.n_audio_head, "n_audio_state"),
            (self.n_text_state, self.n_text_head, "n_text_state"),
        ] {
            if !state.is_multiple_of(heads) {
                return Err(format!(
                    "config: {what} = {state} does not split into {heads} heads"
                ));
            }
        }
        if !self.n_audio_state.is_multiple_of(2) {
            return Err(format!(
                "config: n_audio_state = {} is odd (positions are sin | cos halves)",
                self.n_audio_state
            ));
        }
        if self.n_audio_ctx * self.n_audio_state > MAX_AUDIO_POSITIONS {
            return Err(format!(
                "config: {} × {} encoder positions exceed {MAX_AUDIO_POSITIONS} values",
                self.n_audio_ctx, self.n_audio_state
            ));
        }
        Ok(())
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
