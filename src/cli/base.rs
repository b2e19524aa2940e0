//! `attune base import|info`: convert a CTranslate2 or Hugging Face Whisper directory into
//! attune's base format; show what a base is.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::model::import::{import_dir, write_base_as};
use crate::model::weights::Precision;
use crate::workflow::Workspace;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Import a CTranslate2 (model.bin) or Hugging Face (model.safetensors) Whisper directory
    Import {
        /// Directory holding model.bin or model.safetensors, config.json and tokenizer.json
        path: PathBuf,
        /// Name of the imported base [default: the directory's name]
        #[arg(long)]
        name: Option<String>,
        /// Output directory [default: <home>/bases/<name>]
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// How matrices are stored: int8 rows (smallest; what the shipped base uses), or f16 /
        /// f32 (keep a merged submodel's small weight changes exactly)
        #[arg(long, value_enum, default_value_t = Precision::Int8)]
        precision: Precision,
    },
    /// Print the chosen base's configuration and hash
    Info,
}

pub fn run(ws: &Workspace, cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Import {
            path,
            name,
            out,
            precision,
        } => {
            let name = name.unwrap_or_else(|| {
                path.file_name()
                    .map_or("base".into(), |n| n.to_string_lossy().into_owned())
            });
            let imported = import_dir(&path, &name)?;
            let out = match out {
                Some(o) => o,
                None => {
                    crate::util::names::check(&name)?;
                    ws.home.bases_dir().join(&name)
                }
            };
            let file = write_base_as(&imported, &out, precision)?;
            let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            let c = &imported.config;
            println!(
                "imported {name}: {}+{} layers, d={}, vocab {}, {precision} → {} ({:.1} MiB)",
                c.n_audio_layer,
                c.n_text_layer,
                c.n_audio_state,
                c.n_vocab,
                file.display(),
                bytes as f64 / (1 << 20) as f64
            );
        }
        Command::Info => {
            let dir = ws.base_dir()?;
            let (model, _) = crate::model::Whisper::load(&dir, &candle_core::Device::Cpu)
                .with_context(|| format!("loading {}", dir.display()))?;
            println!("base     {}", dir.display());
            println!("sha256   {}", model.hash);
            println!("{}", serde_json::to_string_pretty(&model.config)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
