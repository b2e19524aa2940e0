//! `attune enroll import|export|record`: bring recordings into a speaker's store, take them out,
//! or record prompted phrases headlessly.

use std::path::PathBuf;
use std::process::ExitCode;

mod record;

use crate::enroll::export;
use crate::store::speakers::SpeakerStore;
use crate::workflow::{Workspace, enroll};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Import a folder of x.wav + x.txt, a NeMo manifest.jsonl, or a Kaldi dir (wav.scp + text)
    Import {
        #[arg(long, value_name = "ID")]
        speaker: String,
        /// The set to import
        path: PathBuf,
    },
    /// Export a speaker's utterances: WAVs, manifest.jsonl and an sclite .trn
    Export {
        #[arg(long, value_name = "ID")]
        speaker: String,
        /// A new or empty folder
        dir: PathBuf,
    },
    /// Record prompted phrases from a microphone (headless)
    Record(record::Args),
}

pub fn run(ws: &Workspace, cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Import { speaker, path } => {
            let report = enroll::import(ws, &speaker, &path, |item| match item {
                Ok(u) => println!("imported {} \"{}\"", u.line.audio_filepath, u.line.text),
                Err(e) => println!("skipped {e}"),
            })?;
            println!(
                "{} imported, {} skipped into speaker {speaker}",
                report.imported.len(),
                report.skipped.len()
            );
            if report.imported.is_empty() {
                eprintln!("error: nothing imported from {}", path.display());
                return Ok(ExitCode::FAILURE);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { speaker, dir } => {
            let sp = SpeakerStore::new(&ws.home).open(&speaker)?;
            let r = export::export(&sp, &dir)?;
            println!(
                "exported {} utterances of {speaker} to {} ({}, {})",
                r.utterances,
                dir.display(),
                r.manifest.display(),
                r.trn.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Record(args) => record::run(ws, args),
    }
}
