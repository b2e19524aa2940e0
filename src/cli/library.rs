//! `attune library list|show|export|import|rm`: the submodel library at the terminal.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::export::{Format, Precision};
use crate::library::{self, Entry};
use crate::model::weights::model_file;
use crate::util::hash::sha256_hex;
use crate::workflow::{Workspace, export};

#[derive(clap::Subcommand)]
pub enum Command {
    /// List every submodel (speaker, version, kind, size, WER, base, created)
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one submodel: lineage, base and data hashes, hyper-parameters, metrics, integrity
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Write a submodel to DEST: attune's own file (default), a PEFT adapter, or — LoRA
    /// submodels — the base with the submodel merged in, for faster-whisper (ct2),
    /// whisper.cpp (ggml) or Hugging Face transformers (hf)
    Export {
        id: String,
        /// Destination: a file or existing folder (file), a file (ggml), a folder (peft, ct2, hf)
        dest: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::File)]
        format: Format,
        /// Weights of a merged export: f16, int8 (ct2: per-row int8; ggml: q8_0) or f32 (hf: f16
        /// or f32)
        #[arg(long, value_enum, default_value_t = Precision::F16)]
        precision: Precision,
        /// Hugging Face id of the base for adapter_config.json [default: from the base name,
        /// e.g. openai/whisper-tiny.en]
        #[arg(long, value_name = "HF_ID")]
        hf_base: Option<String>,
    },
    /// Add an exported submodel file to the library (verified; made for the chosen base)
    Import {
        file: PathBuf,
        /// Replace a submodel of the same id
        #[arg(long)]
        force: bool,
    },
    /// Remove a submodel and every file belonging to it
    Rm { id: String },
}

/// `YYYY-MM-DD HH:MM` (UTC) of seconds since the Unix epoch.
pub fn fmt_utc(secs: u64) -> String {
    let rem = secs % 86_400;
    let date = crate::util::time::date_of(secs);
    format!("{date} {:02}:{:02}", rem / 3600, rem % 3600 / 60)
}

fn entry_json(e: &Entry) -> serde_json::Value {
    serde_json::json!({ "id": e.id, "path": e.path, "bytes": e.bytes, "meta": e.meta })
}

fn wer_cell(e: &Entry) -> String {
    e.meta.metrics.as_ref().map_or("-".into(), |m| {
        format!("{:.1}→{:.1}", m.base_wer * 100.0, m.wer * 100.0)
    })
}

/// SHA-256 of the chosen base's weights file (what submodels record), without decoding it.
fn base_hash(ws: &Workspace) -> anyhow::Result<String> {
    let file = model_file(&ws.base_dir()?);
    let bytes = std::fs::read(&file).with_context(|| format!("reading base {}", file.display()))?;
    Ok(sha256_hex(&bytes))
}

pub fn run(ws: &Workspace, cmd: Command) -> anyhow::Result<ExitCode> {
    let home = &ws.home;
    match cmd {
        Command::List { json } => {
            let (entries, bad) = library::list(home)?;
            for e in &bad {
                eprintln!("warning: unreadable library file: {e}");
            }
            if json {
                let rows: Vec<_> = entries.iter().map(entry_json).collect();
                println!("{}", serde_json::Value::Array(rows));
            } else if entries.is_empty() {
                println!("the library ({}) is empty", home.library_dir().display());
            } else {
                println!(
                    "{:<24} {:<16} {:<9} {:>4} {:>8} {:>11} {:<12} {:<16} PARENT",
                    "ID", "SPEAKER", "KIND", "RANK", "KiB", "WER %", "BASE", "CREATED (UTC)"
                );
                for e in &entries {
                    let m = &e.meta;
                    println!(
                        "{:<24} {:<16} {:<9} {:>4} {:>8.0} {:>11} {:<12.12} {:<16} {}",
                        e.id,
                        m.speaker,
                        m.spec.kind.to_string(),
                        m.spec.rank,
                        e.bytes as f64 / 1024.0,
                        wer_cell(e),
                        m.base_hash,
                        fmt_utc(m.created),
                        m.parent.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        Command::Show { id, json } => {
            // A full load verifies the checksum; the base is compared separately to say so.
            let sub = library::load(home, &id, None, &candle_core::Device::Cpu)?;
            let chain = library::lineage(home, &id)?;
            let versions: Vec<String> = library::list(home)?
                .0
                .into_iter()
                .filter(|e| e.meta.speaker == sub.meta.speaker)
                .map(|e| e.id)
                .collect();
            let base_ok = base_hash(ws).map(|h| h == sub.meta.base_hash).ok();
            let params = sub.table.params_per_speaker();
            if json {
                let line = serde_json::json!({
                    "entry": entry_json(&chain[0]), "params": params, "checksum_ok": true,
                    "matches_base": base_ok,
                    "lineage": chain.iter().map(|e| &e.id).collect::<Vec<_>>(), "versions": versions,
                });
                println!("{line}");
                return Ok(ExitCode::SUCCESS);
            }
            let m = &sub.meta;
            println!("id          {}  ({})", chain[0].id, chain[0].path.display());
            println!(
                "speaker     {}   versions: {}",
                m.speaker,
                versions.join(", ")
            );
            let lora = m
                .spec
                .lora_rank
                .map(|r| format!("  decoder LoRA rank {r}"))
                .unwrap_or_default();
            println!(
                "kind        {}  rank {}{lora}  alpha {}  ({params} parameters)",
                m.spec.kind, m.spec.rank, m.spec.alpha
            );
            let recipe = m.hyper.get("recipe").and_then(|r| r.as_str());
            println!("recipe      {}", recipe.unwrap_or("-"));
            println!("targets     {}", m.targets.join(", "));
            let base_note = match base_ok {
                Some(true) => "the chosen base",
                Some(false) => "NOT the chosen base",
                None => "chosen base unreadable",
            };
            println!("base        {} {} ({base_note})", m.base_name, m.base_hash);
            println!(
                "data        {}",
                if m.data_hash.is_empty() {
                    "-"
                } else {
                    &m.data_hash
                }
            );
            println!("hyper       {}", serde_json::to_string(&m.hyper)?);
            match &m.metrics {
                Some(x) => println!("metrics     {}", x.summary()),
                None => println!("metrics     -"),
            }
            println!(
                "created     {} UTC   format v{}",
                fmt_utc(m.created),
                m.format_version
            );
            let lineage: Vec<&str> = chain.iter().map(|e| e.id.as_str()).collect();
            let missing = chain
                .last()
                .and_then(|e| e.meta.parent.as_deref())
                .filter(|p| !lineage.contains(p));
            let tail = missing.map_or(String::new(), |p| format!(" ← {p} (not in the library)"));
            println!("lineage     {}{tail}", lineage.join(" ← "));
            println!("integrity   checksum ok ({})", m.checksum);
        }
        Command::Export {
            id,
            dest,
            format,
            precision,
            hf_base,
        } => {
            let req = export::Request {
                id,
                dest,
                format,
                precision,
                hf_base,
            };
            let done = export::export(ws, &req)?;
            println!("{}", done.summary);
            for f in &done.files {
                println!("  {}", f.display());
            }
        }
        Command::Import { file, force } => {
            let base = base_hash(ws)?;
            let e = library::import(home, &file, Some(&base), force)?;
            println!(
                "imported {} (speaker {}) → {}",
                e.id,
                e.meta.speaker,
                e.path.display()
            );
        }
        Command::Rm { id } => {
            for p in library::remove(home, &id)? {
                println!("removed {}", p.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::fmt_utc;

    #[test]
    fn utc_dates() {
        assert_eq!(fmt_utc(0), "1970-01-01 00:00");
        assert_eq!(fmt_utc(951_782_400 + 3_660), "2000-02-29 01:01");
        assert_eq!(fmt_utc(1_798_761_600), "2027-01-01 00:00");
    }
}
