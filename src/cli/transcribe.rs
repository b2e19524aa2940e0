//! `attune transcribe`: text of each WAV file, with the base or a submodel; JSON lines with `--json`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use super::{Context, read_audio_files};
use crate::features::SAMPLE_RATE;

#[derive(clap::Args)]
pub struct Args {
    /// WAV files to transcribe
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Submodel id from the library (or a .safetensors path)
    #[arg(long, value_name = "ID")]
    submodel: Option<String>,
    /// One JSON object per line: {"file", "text", "seconds" (audio length), "decode_seconds"}
    #[arg(long)]
    json: bool,
    /// Pad every input to Whisper's 30 s window instead of encoding only what the audio needs
    #[arg(long)]
    full_context: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let rec = ctx.recognizer(args.full_context)?;
    let sub = args
        .submodel
        .as_deref()
        .map(|id| ctx.submodel(id, &rec))
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
            });
            println!("{line}");
        } else {
            println!("{file}\t{}\t({seconds:.2} s audio, {wall:.2} s)", t.text);
        }
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
