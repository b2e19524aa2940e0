//! `attune devices`: the audio input and output devices attune can use.

use std::process::ExitCode;

use crate::audio::capture::{list_devices, redirect_stderr};
use crate::workflow::Workspace;

#[derive(clap::Args)]
pub struct Args {
    /// A JSON list of objects: host, id, name, input, output, default_input, default_output,
    /// input_format
    #[arg(long)]
    json: bool,
}

pub fn run(ws: &Workspace, args: Args) -> anyhow::Result<ExitCode> {
    let log = ws.home.log_dir().join("audio.log");
    let (devices, problems) = {
        // ALSA prints its complaints about missing cards to stderr: keep them in the log.
        let _quiet = redirect_stderr(&log).ok();
        list_devices()
    };
    if args.json {
        println!("{}", serde_json::to_string(&devices)?);
        return Ok(ExitCode::SUCCESS);
    }
    for p in &problems {
        println!("unavailable: {p}");
    }
    if devices.is_empty() {
        println!("no audio devices found (details in {})", log.display());
    }
    for d in &devices {
        let dir = match (d.input, d.output) {
            (true, true) => "in/out",
            (true, false) => "in",
            (false, true) => "out",
            (false, false) => "-",
        };
        let default = match (d.default_input, d.default_output) {
            (true, true) => " [default in/out]",
            (true, false) => " [default in]",
            (false, true) => " [default out]",
            (false, false) => "",
        };
        let format = d.input_format.as_deref().unwrap_or("");
        println!(
            "{:<10} {:<6} {:<32} {}{default}  {format}",
            d.host, dir, d.id, d.name
        );
    }
    Ok(ExitCode::SUCCESS)
}
