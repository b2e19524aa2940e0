//! Exporting a library submodel, the one operation `library export` and the Library screen's `x`
//! both call: attune's own file, a PEFT adapter, or the base with a LoRA merged in (CTranslate2,
//! ggml, Hugging Face) — residual and embedding submodels are refused for the merged formats.

use std::path::PathBuf;

use super::{Result, WorkflowError, Workspace};
use crate::export::{self, Format, Precision};
use crate::model::Whisper;
use crate::submodel::peft;

/// What to export where.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub id: String,
    pub dest: PathBuf,
    pub format: Format,
    /// Merged formats only (ct2: f16 / int8 / f32; ggml: f16 / int8 = q8_0 / f32; hf: f16 / f32).
    pub precision: Precision,
    /// PEFT only: the Hugging Face id of the base for `adapter_config.json`.
    pub hf_base: Option<String>,
}

impl Request {
    pub fn new(id: &str, dest: impl Into<PathBuf>, format: Format) -> Self {
        Self {
            id: id.to_string(),
            dest: dest.into(),
            format,
            precision: Precision::default(),
            hf_base: None,
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    pub files: Vec<PathBuf>,
    /// One line for the user: `alice-v2 (lora) merged into tiny.en → out/ (ct2, f16)`.
    pub summary: String,
}

/// Exports library entry `req.id` as `req.format`.
pub fn export(ws: &Workspace, req: &Request) -> Result<Exported> {
    let home = &ws.home;
    let id = &req.id;
    let dev = candle_core::Device::Cpu;
    let dest = req.dest.display();
    match req.format {
        Format::File => {
            let path = crate::library::export(home, id, &req.dest)?;
            Ok(Exported {
                summary: format!("exported {id} → {}", path.display()),
                files: vec![path],
            })
        }
        Format::Peft => {
            let sub = crate::library::load(home, id, None, &dev)?;
            let files = peft::export_peft(&sub, &req.dest, req.hf_base.as_deref())
                .map_err(|e| WorkflowError::Invalid(e.to_string()))?;
            Ok(Exported {
                summary: format!("exported {id} (PEFT LoRA) → {dest}"),
                files: files.to_vec(),
            })
        }
        format => {
            // A non-LoRA submodel is refused before the base is loaded.
            let sub = crate::library::load(home, id, None, &dev)?;
            export::merge::check_mergeable(&sub, format)?;
            let base_dir = ws.base_dir()?;
            let (model, _) = Whisper::load(&base_dir, &dev)?;
            if sub.meta.base_hash != model.hash {
                return Err(crate::submodel::SubmodelError::WrongBase {
                    file: crate::library::existing_path(home, id)?,
                    found: sub.meta.base_hash.clone(),
                    expected: model.hash.clone(),
                }
                .into());
            }
            let tok_path = crate::model::weights::tokenizer_file(&base_dir);
            let tokenizer = std::fs::read(&tok_path).map_err(WorkflowError::io(&tok_path))?;
            let merged = export::merge::merge(&model, &sub, tokenizer, format)?;
            let p = req.precision;
            let files = match format {
                Format::Ct2 => export::ct2::write(&merged, &req.dest, p)?,
                Format::Ggml => export::ggml::write(&merged, &req.dest, p)?,
                _ => export::hf::write(&merged, &req.dest, p)?,
            };
            Ok(Exported {
                summary: format!(
                    "exported {id} ({}) merged into {} → {dest} ({format}, {p})",
                    sub.table.spec.kind, model.config.name
                ),
                files,
            })
        }
    }
}
