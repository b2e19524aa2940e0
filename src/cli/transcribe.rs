//! `attune transcribe`: text of each WAV file, with the base or a submodel; JSON lines with `--json`;
//! with `--manifest`, many speakers' utterances batched together, each with its speaker's submodel.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use super::read_audio_files;
use crate::dataset::load_set;
use crate::features::SAMPLE_RATE;
use crate::library::latest_by_speaker;
use crate::recognizer::Recognizer;
use crate::serve::{SubmodelCache, transcribe_mixed};
use crate::workflow::Workspace;

#[derive(clap::Args)]
pub struct Args {
    /// WAV files to transcribe
    #[arg(required_unless_present = "manifest")]
    files: Vec<PathBuf>,
    /// Submodel id from the library (or a .safetensors path)
    #[arg(long, value_name = "ID", conflicts_with = "manifest")]
    submodel: Option<String>,
    /// A NeMo manifest (.jsonl) whose lines name their `speaker`: each utterance is transcribed
    /// with its speaker's newest submodel in the library (the base if it has none), speakers
    /// mixed in batches
    #[arg(long, value_name = "FILE", conflicts_with = "files")]
    manifest: Option<PathBuf>,
    /// Utterances per batch with --manifest
    #[arg(long, value_name = "N", default_value_t = 8)]
    batch: usize,
    /// Submodels kept loaded with --manifest
    #[arg(long, value_name = "N", default_value_t = 64)]
    cache: usize,
    /// One JSON object per line: {"file", "text", "seconds" (audio length), "decode_seconds",
    /// "no_speech" (silence or noise: no text)}
    #[arg(long)]
    json: bool,
    /// Pad every input to Whisper's 30 s window instead of encoding only what the audio needs
    #[arg(long)]
    full_context: bool,
}

pub fn run(ws: &Workspace, args: Args) -> anyhow::Result<ExitCode> {
    let rec = ws.recognizer(args.full_context)?;
    if let Some(manifest) = &args.manifest {
        return run_manifest(ws, &rec, manifest, &args);
    }
    let sub = args
        .submodel
        .as_deref()
        .map(|id| ws.submodel(id, &rec))
        .transpose()?;
    let (good, failed) = read_audio_files(&args.files);
    for (i, samples) in good {
        let start = Instant::now();
        let t = rec.transcribe(&[&samples], sub.as_ref(), 1)?.remove(0);
        let wall = start.elapsed().as_secs_f64();
        let file = args.files[i].display().to_string();
        let seconds = samples.len() as f64 / SAMPLE_RATE as f64;
        if args.json {
            let line = serde_json::json!({
                "file": file, "text": t.text, "seconds": seconds, "decode_seconds": wall,
                "no_speech": t.no_speech,
            });
            println!("{line}");
        } else {
            let text = if t.no_speech { "(no speech)" } else { &t.text };
            println!("{file}\t{text}\t({seconds:.2} s audio, {wall:.2} s)");
        }
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `--manifest`: every utterance with its speaker's newest submodel, speakers mixed in batches.
fn run_manifest(
    ws: &Workspace,
    rec: &Recognizer,
    manifest: &Path,
    args: &Args,
) -> anyhow::Result<ExitCode> {
    let (utts, bad) = load_set(manifest)?;
    for e in &bad {
        eprintln!("error: {e}");
    }
    let latest = latest_by_speaker(&ws.home)?;
    let paths: Vec<PathBuf> = utts.iter().map(|u| u.audio.clone()).collect();
    let (good, failed) = read_audio_files(&paths);
    let audios: Vec<&[f32]> = good.iter().map(|(_, s)| s.as_slice()).collect();
    let ids: Vec<Option<String>> = good
        .iter()
        .map(|(i, _)| {
            utts[*i]
                .speaker
                .as_ref()
                .and_then(|s| latest.get(s).cloned())
        })
        .collect();
    let cache = SubmodelCache::new(
        ws.home.clone(),
        &rec.model.hash,
        rec.model.device().clone(),
        args.cache,
    );
    let start = Instant::now();
    let texts = transcribe_mixed(rec, &cache, &audios, &ids, args.batch)?;
    let wall = start.elapsed().as_secs_f64();
    let mut audio_seconds = 0.0;
    for (((i, samples), id), t) in good.iter().zip(&ids).zip(texts) {
        let u = &utts[*i];
        let seconds = samples.len() as f64 / SAMPLE_RATE as f64;
        audio_seconds += seconds;
        let (speaker, submodel) = (
            u.speaker.as_deref().unwrap_or("-"),
            id.as_deref().unwrap_or("base"),
        );
        if args.json {
            let line = serde_json::json!({
                "id": u.id, "file": u.audio, "speaker": u.speaker, "submodel": id,
                "text": t.text, "seconds": seconds, "no_speech": t.no_speech,
            });
            println!("{line}");
        } else {
            println!("{}\t{speaker}\t{submodel}\t{}", u.id, t.text);
        }
    }
    let personal = ids
        .iter()
        .flatten()
        .collect::<std::collections::HashSet<_>>()
        .len();
    eprintln!(
        "{} utterances ({audio_seconds:.1} s audio), {personal} submodels, batch {}: {wall:.2} s ({:.1} utterances/s)",
        audios.len(),
        args.batch,
        audios.len() as f64 / wall.max(1e-9)
    );
    Ok(if failed > 0 || !bad.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
