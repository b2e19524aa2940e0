//! GPT-2 byte-level BPE from the base's `tokenizer.json` (via the `tokenizers` crate).

use std::path::Path;

use super::ModelError;

/// Text ↔ token ids for one base.
#[derive(Clone)]
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
}

impl Tokenizer {
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let inner = tokenizers::Tokenizer::from_file(path).map_err(|e| ModelError::BadFile {
            file: path.to_path_buf(),
            what: format!("not a usable tokenizer.json: {e}"),
        })?;
        Ok(Self { inner })
    }

    /// Token ids of `text` without any special tokens.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        let enc = self
            .inner
            .encode(text, false)
            .map_err(|e| ModelError::Tokenizer(e.to_string()))?;
        Ok(enc.get_ids().to_vec())
    }

    /// Id of a token given its exact text (e.g. `<|nospeech|>`), if the vocabulary has it.
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Text of `ids`, special tokens dropped.
    pub fn decode(&self, ids: &[u32]) -> Result<String, ModelError> {
        self.inner
            .decode(ids, true)
            .map_err(|e| ModelError::Tokenizer(e.to_string()))
    }
}
