//! The parser entry points under fuzzing, by target name: the one place that says what each fuzz
//! target (`fuzz/fuzz_targets/*.rs`) feeds its bytes to, so that the targets and the regression
//! tests over their crash inputs (`tests/fuzz_regressions.rs`) run exactly the same code.

use std::path::Path;

use candle_core::Device;

/// Every fuzz target's name, in the order `scripts/fuzz.sh` runs them.
pub const TARGETS: [&str; 7] = [
    "wav",
    "manifest",
    "stored_manifest",
    "kaldi",
    "submodel",
    "base",
    "ct2",
];

/// Feeds `data` to the parser(s) of `target`: `Err` carries the first parser's refusal.
/// Panics only on an unknown target name — or when a parser panics, which is what fuzzing finds.
pub fn run(target: &str, data: &[u8]) -> Result<(), String> {
    match target {
        "wav" => crate::audio::decode_wav_bytes(data, Path::new("fuzz.wav"))
            .map(drop)
            .map_err(|e| e.to_string()),
        "manifest" => {
            // The reader takes the file as UTF-8 text; the lossy form also covers other bytes.
            let text = String::from_utf8_lossy(data);
            let lines = crate::dataset::parse_manifest(&text, Path::new("manifest.jsonl"));
            match lines.into_iter().find_map(Result::err) {
                Some(e) => Err(e.to_string()),
                None => Ok(()),
            }
        }
        "stored_manifest" => {
            let text = String::from_utf8_lossy(data);
            crate::store::recordings::parse_manifest(&text, Path::new("manifest.jsonl"))
                .map(drop)
                .map_err(|e| e.to_string())
        }
        "kaldi" => {
            let table = crate::dataset::parse_kaldi_table(data);
            match table.iter().find(|(_, rest)| rest.is_err()) {
                Some((key, _)) => Err(format!("{key}: line is not UTF-8")),
                None => Ok(()),
            }
        }
        "submodel" => {
            let file = Path::new("fuzz.submodel");
            crate::submodel::Submodel::from_bytes(data, file, None, &Device::Cpu)
                .map(drop)
                .map_err(|e| e.to_string())
        }
        "base" => {
            let file = Path::new("fuzz.safetensors");
            crate::model::weights::decode_base(data, file, &Device::Cpu)
                .map(drop)
                .map_err(|e| e.to_string())
        }
        "ct2" => {
            // The importer minus file I/O and the tokenizer: parse, map to HF names, encode.
            let (config, tensors) = crate::model::import::ct2_model(data, Path::new("model.bin"))
                .map_err(|e| e.to_string())?;
            crate::model::weights::encode_base(&config, &tensors)
                .map(drop)
                .map_err(|e| e.to_string())
        }
        other => panic!("no fuzz target named {other:?} (known: {TARGETS:?})"),
    }
}
