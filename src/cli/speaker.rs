//! `attune speaker new|list|rm`: create, list and remove speakers (with their submodels).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use super::Context;
use crate::enroll::prompts;
use crate::enroll::split::Split;
use crate::store::speakers::{Consent, SpeakerInfo, SpeakerStore, date_of, now_secs, submodels_of};

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
        /// A JSON list of objects: id, name, utterances, train, heldout, seconds, submodels, created
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

pub fn run(ctx: &Context, cmd: Command) -> anyhow::Result<ExitCode> {
    let store = SpeakerStore::new(&ctx.home);
    match cmd {
        Command::New {
            id,
            name,
            notes,
            consent,
            consent_date,
            prompts: script,
        } => {
            // Read the script first: a bad file must not leave a half-made speaker.
            let script = script
                .map(|p| {
                    prompts::read(&p)?;
                    std::fs::read_to_string(&p).with_context(|| p.display().to_string())
                })
                .transpose()?;
            ctx.home.ensure()?;
            let mut info = SpeakerInfo::new(&id, name.as_deref());
            info.notes = notes;
            info.consent = consent.map(|text| Consent {
                text,
                date: consent_date.unwrap_or_else(|| date_of(now_secs())),
            });
            let sp = store.create(&info)?;
            if let Some(s) = script {
                sp.set_prompts(&s)?;
            }
            println!("created speaker {id} in {}", sp.dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::List { json } => list(ctx, &store, json),
        Command::Rm { id, yes } => {
            let sp = store.open(&id)?;
            if !yes && std::io::stdin().is_terminal() {
                let n = sp.manifest()?.len();
                let subs = submodels_of(&ctx.home, &id)?.len();
                print!("Remove speaker {id}: {n} recordings and {subs} submodels? [y/N] ");
                std::io::stdout().flush()?;
                let mut answer = String::new();
                std::io::stdin().lock().read_line(&mut answer)?;
                if !matches!(answer.trim(), "y" | "Y" | "yes") {
                    println!("kept {id}");
                    return Ok(ExitCode::FAILURE);
                }
            }
            let removed = store.remove(&id)?;
            println!("removed speaker {id} and {} submodel(s)", removed.len());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn list(ctx: &Context, store: &SpeakerStore, json: bool) -> anyhow::Result<ExitCode> {
    let (submodels, _unreadable) = crate::library::list(&ctx.home)?;
    let mut rows = Vec::new();
    for sp in store.list()? {
        let info = sp.info()?;
        let manifest = sp.manifest()?;
        let heldout = manifest
            .iter()
            .filter(|u| u.split == Split::Heldout)
            .count();
        let seconds: f64 = manifest.iter().filter_map(|u| u.line.duration).sum();
        rows.push(serde_json::json!({
            "id": sp.id,
            "name": info.name,
            "utterances": manifest.len(),
            "train": manifest.len() - heldout,
            "heldout": heldout,
            "seconds": (seconds * 10.0).round() / 10.0,
            "submodels": submodels.iter().filter(|e| e.meta.speaker == sp.id).count(),
            "created": info.created,
        }));
    }
    if json {
        println!("{}", serde_json::Value::Array(rows));
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("no speakers yet: create one with `attune speaker new ID`");
    }
    for r in rows {
        println!(
            "{:<20} {:<24} {:>4} utterances ({} held out, {:.0} s)  {} submodel(s)",
            r["id"].as_str().unwrap_or_default(),
            r["name"].as_str().unwrap_or_default(),
            r["utterances"],
            r["heldout"],
            r["seconds"].as_f64().unwrap_or_default(),
            r["submodels"]
        );
    }
    Ok(ExitCode::SUCCESS)
}
