//! `attune speaker new|list|rm`: create, list and remove speakers (with their submodels).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::store::speakers::SpeakerStore;
use crate::workflow::{Workspace, speakers};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create a speaker
    New {
        /// Speaker id: letters, digits, '.', '_', '-' (used as a folder name)
        id: String,
        /// Display name [default: the id]
        #[arg(long)]
        name: Option<String>,
        /// Free-text notes
        #[arg(long, default_value = "")]
        notes: String,
        /// Consent note to keep with the data (dated today unless --consent-date is given)
        #[arg(long, value_name = "TEXT")]
        consent: Option<String>,
        /// Date of the consent note (YYYY-MM-DD)
        #[arg(long, value_name = "DATE", requires = "consent")]
        consent_date: Option<String>,
        /// A custom prompt script for this speaker (one phrase per line, '#' comments)
        #[arg(long, value_name = "FILE")]
        prompts: Option<PathBuf>,
    },
    /// List speakers with their utterance and submodel counts
    List {
        /// A JSON list of objects: id, name, utterances, train, dev, test, seconds, submodels, created
        #[arg(long)]
        json: bool,
    },
    /// Remove a speaker: recordings, manifest and all of its submodels
    Rm {
        id: String,
        /// Do not ask for confirmation (it is asked only on a terminal)
        #[arg(long)]
        yes: bool,
    },
}

pub fn run(ws: &Workspace, cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::New {
            id,
            name,
            notes,
            consent,
            consent_date,
            prompts,
        } => {
            let dir = speakers::create(
                ws,
                &id,
                name.as_deref(),
                &notes,
                consent.map(|c| (c, consent_date)),
                prompts.as_deref(),
            )?;
            println!("created speaker {id} in {}", dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::List { json } => list(ws, json),
        Command::Rm { id, yes } => {
            let sp = SpeakerStore::new(&ws.home).open(&id)?;
            if !yes && std::io::stdin().is_terminal() {
                let n = sp.manifest()?.len();
                let subs = crate::library::of_speaker(&ws.home, &id)?.len();
                print!("Remove speaker {id}: {n} recordings and {subs} submodels? [y/N] ");
                std::io::stdout().flush()?;
                let mut answer = String::new();
                std::io::stdin().lock().read_line(&mut answer)?;
                if !matches!(answer.trim(), "y" | "Y" | "yes") {
                    println!("kept {id}");
                    return Ok(ExitCode::FAILURE);
                }
            }
            let removed = speakers::delete(ws, &id)?;
            println!(
                "removed speaker {id} and {} submodel(s)",
                removed.submodels.len()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn list(ws: &Workspace, json: bool) -> anyhow::Result<ExitCode> {
    let summary = speakers::summary(ws);
    if let Some(p) = summary.problems.first() {
        anyhow::bail!("{p}");
    }
    let rows: Vec<serde_json::Value> = summary
        .speakers
        .iter()
        .map(|sp| {
            serde_json::json!({
                "id": sp.id,
                "name": sp.name,
                "utterances": sp.train + sp.dev + sp.test,
                "train": sp.train,
                "dev": sp.dev,
                "test": sp.test,
                "seconds": (sp.seconds * 10.0).round() / 10.0,
                "submodels": sp.submodels.len(),
                "created": sp.created,
            })
        })
        .collect();
    if json {
        println!("{}", serde_json::Value::Array(rows));
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("no speakers yet: create one with `attune speaker new ID`");
    }
    for r in rows {
        println!(
            "{:<20} {:<24} {:>4} utterances ({} train / {} dev / {} test, {:.0} s)  {} submodel(s)",
            r["id"].as_str().unwrap_or_default(),
            r["name"].as_str().unwrap_or_default(),
            r["utterances"],
            r["train"],
            r["dev"],
            r["test"],
            r["seconds"].as_f64().unwrap_or_default(),
            r["submodels"]
        );
    }
    Ok(ExitCode::SUCCESS)
}
