//! The token list of a base's `tokenizer.json` (byte-level BPE vocabulary + added special tokens)
//! padded with Whisper's timestamp tokens to the model's vocabulary size — what CTranslate2 and
//! ggml files list — and the GPT-2 byte decoding of a token's text.

use std::collections::HashMap;

use serde_json::Value;

use super::ExportError;

/// Whisper's timestamp resolution: `<|0.00|>`, `<|0.02|>`, …
const TIMESTAMP_STEP: f64 = 0.02;

fn parse(tokenizer_json: &[u8]) -> Result<Value, ExportError> {
    serde_json::from_slice(tokenizer_json).map_err(|e| ExportError::Tokenizer(e.to_string()))
}

/// The BPE vocabulary (`model.vocab`) in id order: ids `0..len` without gaps.
pub fn bpe_tokens(tokenizer_json: &[u8]) -> Result<Vec<String>, ExportError> {
    let v = parse(tokenizer_json)?;
    let vocab = v["model"]["vocab"]
        .as_object()
        .ok_or_else(|| ExportError::Tokenizer("no model.vocab".into()))?;
    let mut out = vec![None; vocab.len()];
    for (tok, id) in vocab {
        let id = id.as_u64().unwrap_or(u64::MAX) as usize;
        let slot = out
            .get_mut(id)
            .ok_or_else(|| ExportError::Tokenizer(format!("{tok}: id {id} out of range")))?;
        *slot = Some(tok.clone());
    }
    out.into_iter()
        .enumerate()
        .map(|(i, t)| t.ok_or_else(|| ExportError::Tokenizer(format!("no token with id {i}"))))
        .collect()
}

/// Every token's text for ids `0..n_vocab`: the BPE vocabulary, the added tokens, then
/// timestamps `<|t|>` from the first id after `<|notimestamps|>`; an id none of these cover is
/// named `<|extra_ID|>`.
pub fn tokens(tokenizer_json: &[u8], n_vocab: usize) -> Result<Vec<String>, ExportError> {
    let mut out: Vec<Option<String>> = bpe_tokens(tokenizer_json)?.into_iter().map(Some).collect();
    out.resize(n_vocab.max(out.len()), None);
    let v = parse(tokenizer_json)?;
    let mut no_timestamps = None;
    for t in v["added_tokens"].as_array().into_iter().flatten() {
        let (Some(id), Some(content)) = (t["id"].as_u64(), t["content"].as_str()) else {
            continue;
        };
        if content == "<|notimestamps|>" {
            no_timestamps = Some(id as usize);
        }
        if let Some(slot) = out.get_mut(id as usize) {
            *slot = Some(content.to_string());
        }
    }
    let first_ts = no_timestamps.map(|i| i + 1);
    out.truncate(n_vocab);
    Ok(out
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            t.unwrap_or_else(|| match first_ts {
                Some(b) if i >= b => format!("<|{:.2}|>", (i - b) as f64 * TIMESTAMP_STEP),
                _ => format!("<|extra_{i}|>"),
            })
        })
        .collect())
}

/// Ids of the language tokens: the `<|xx|>` tokens right after `<|startoftranscript|>`.
pub fn language_ids(tokens: &[String], sot: u32) -> Vec<u32> {
    (sot as usize + 1..tokens.len())
        .take_while(|&i| {
            let t = &tokens[i];
            t.strip_prefix("<|")
                .and_then(|t| t.strip_suffix("|>"))
                .is_some_and(|code| {
                    (2..=3).contains(&code.len()) && code.chars().all(|c| c.is_ascii_lowercase())
                })
        })
        .map(|i| i as u32)
        .collect()
}

/// GPT-2's byte ↔ printable character table, inverted: character → byte.
fn byte_decoder() -> HashMap<char, u8> {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    let mut next = 256u32;
    (0..=255u8)
        .map(|b| {
            let c = if printable(b) {
                b as u32
            } else {
                next += 1;
                next - 1
            };
            (char::from_u32(c).unwrap_or('\u{FFFD}'), b)
        })
        .collect()
}

/// The raw bytes a byte-level token stands for (`Ġthe` → ` the`); a special token is kept as it
/// is written.
pub fn token_bytes(tokens: &[String]) -> Vec<Vec<u8>> {
    let dec = byte_decoder();
    tokens
        .iter()
        .map(|t| {
            t.chars()
                .map(|c| dec.get(&c).copied())
                .collect::<Option<Vec<u8>>>()
                .unwrap_or_else(|| t.as_bytes().to_vec())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_level_tokens_decode_to_their_bytes() {
        let toks = vec!["Ġthe".to_string(), "Ċ".into(), "<|endoftext|>".into()];
        let b = token_bytes(&toks);
        assert_eq!(b[0], b" the");
        assert_eq!(b[1], b"\n");
        assert_eq!(b[2], b"<|endoftext|>");
    }

    #[test]
    fn shipped_tokenizer_lists_whisper_tiny_en_tokens() {
        let (_, json) = crate::shipped::BASE
            .files
            .iter()
            .find(|(name, _)| *name == "tokenizer.json")
            .unwrap();
        let t = tokens(json, 51864).unwrap();
        assert_eq!(t.len(), 51864);
        assert_eq!(t[50256], "<|endoftext|>");
        assert_eq!(t[50257], "<|startoftranscript|>");
        assert_eq!(t[50362], "<|notimestamps|>");
        assert_eq!(t[50363], "<|0.00|>");
        assert_eq!(t[51863], "<|30.00|>");
        let langs = language_ids(&t, 50257);
        assert_eq!(langs.first(), Some(&50258), "<|en|>");
        assert_eq!(langs.len(), 99);
        assert_eq!(bpe_tokens(json).unwrap().len(), 50257);
    }
}
