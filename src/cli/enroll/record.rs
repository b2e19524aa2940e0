//! `attune enroll record`: a headless prompted recording session. For each prompt not yet
//! recorded: show it, record until the speaker pauses, store the take (or, interactively,
//! re-record, play back, skip or quit).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use anyhow::Context as _;

use crate::audio::capture::redirect_stderr;
use crate::audio::endpoint::{End, EndpointConfig, Levels, State};
use crate::audio::playback::play;
use crate::audio::recorder::{Input, Take};
use crate::store::speakers::{Speaker, SpeakerStore};
use crate::workflow::{Workspace, enroll};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, value_name = "ID")]
    speaker: String,
    /// Prompt script [default: the speaker's own prompts.txt, else the built-in English script]
    #[arg(long, value_name = "FILE")]
    prompts: Option<PathBuf>,
    /// Input device: id or name, or part of one (see `attune devices`) [default: the default input]
    #[arg(long, value_name = "NAME")]
    device: Option<String>,
    /// Output device for listen-back [default: the default output]
    #[arg(long, value_name = "NAME")]
    output: Option<String>,
    /// Stop after storing this many takes
    #[arg(long, value_name = "N")]
    max_utterances: Option<usize>,
    /// Seconds of silence that end a take (atypical speakers may need more)
    #[arg(long, value_name = "S", default_value_t = 1.5)]
    silence_timeout: f32,
    /// Seconds to wait for speech before skipping a prompt
    #[arg(long, value_name = "S", default_value_t = 10.0)]
    no_speech_timeout: f32,
    /// Also prompt phrases this speaker has already recorded
    #[arg(long)]
    all: bool,
    /// Non-interactive: start each prompt at once and keep every take (also when stdin is not a
    /// terminal)
    #[arg(long)]
    yes: bool,
    /// Play this WAV file into the recorder instead of using a device (for tests and demos)
    #[arg(long, value_name = "WAV", conflicts_with = "device")]
    input_file: Option<PathBuf>,
}

/// What the user chose after a take (or before one).
enum Choice {
    Keep,
    Again,
    Play,
    Skip,
    Quit,
}

fn ask(question: &str) -> anyhow::Result<Choice> {
    print!("  {question} ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line)? == 0 {
        return Ok(Choice::Quit);
    }
    Ok(match line.trim() {
        "r" | "R" => Choice::Again,
        "p" | "P" => Choice::Play,
        "s" | "S" => Choice::Skip,
        "q" | "Q" => Choice::Quit,
        _ => Choice::Keep,
    })
}

/// The phrases to prompt, in script order.
fn load_prompts(sp: &Speaker, args: &Args) -> anyhow::Result<Vec<String>> {
    let script = enroll::script(sp, args.prompts.as_deref())?;
    if args.all {
        return Ok(script);
    }
    Ok(enroll::pending(sp, script)?)
}

/// A one-line level meter on stderr, when stderr is a terminal.
fn meter(levels: Levels, state: State) {
    let bars = ((levels.peak_dbfs + 60.0) / 3.0).clamp(0.0, 20.0) as usize;
    let flag = if levels.clipping() { " CLIP" } else { "" };
    let what = if state == State::Waiting {
        "waiting"
    } else {
        "speech "
    };
    eprint!(
        "\r  {what} [{:<20}] {:>6.1} dBFS{flag}   ",
        "#".repeat(bars),
        levels.peak_dbfs
    );
}

fn describe(take: &Take) -> String {
    let mut notes = Vec::new();
    if take.quality.too_quiet {
        notes.push("too quiet: move closer or raise the input gain");
    }
    if take.quality.clipped {
        notes.push("clipped: move back or lower the input gain");
    }
    if take.end == End::MaxLength {
        notes.push("cut at the maximum length");
    }
    if take.dropped > 0 {
        notes.push("some audio was lost (system too busy)");
    }
    let mut s = format!(
        "{:.2} s, peak {:.1} dBFS",
        take.seconds(),
        take.quality.levels.peak_dbfs
    );
    for n in notes {
        s.push_str("; ");
        s.push_str(n);
    }
    s
}

/// Stores a take as what was said for `prompt`.
fn store(ws: &Workspace, sp: &Speaker, take: &Take, prompt: &str) -> anyhow::Result<()> {
    let stored = enroll::store_take(ws, &sp.id, &take.samples, prompt, prompt)
        .context("storing the take")?;
    println!(
        "  stored {} ({})",
        stored.utterance.line.audio_filepath, stored.split
    );
    Ok(())
}

pub fn run(ws: &Workspace, args: Args) -> anyhow::Result<ExitCode> {
    let sp = SpeakerStore::new(&ws.home).open(&args.speaker)?;
    let pending = load_prompts(&sp, &args)?;
    let interactive = !args.yes && std::io::stdin().is_terminal();
    let show_meter = std::io::stderr().is_terminal();
    let input = match &args.input_file {
        Some(f) => Input::file(f, 48_000, 2, true)?,
        None => {
            // ALSA complains on stderr while probing devices: keep that in the log.
            let _quiet = redirect_stderr(&ws.home.log_dir().join("audio.log")).ok();
            Input::device(args.device.as_deref())?
        }
    };
    let cfg = EndpointConfig {
        silence_timeout: args.silence_timeout,
        no_speech_timeout: args.no_speech_timeout,
        ..Default::default()
    };
    println!(
        "recording {} from {} at {} Hz; {} s of silence ends a take; {} prompt(s) to go",
        sp.id,
        input.name(),
        input.rate(),
        cfg.silence_timeout,
        pending.len()
    );
    let limit = args.max_utterances.unwrap_or(usize::MAX);
    let stop = AtomicBool::new(false);
    let mut kept = 0;
    'prompts: for (i, prompt) in pending.iter().enumerate() {
        if kept >= limit {
            break;
        }
        println!("[{}/{}] {prompt}", i + 1, pending.len());
        if interactive {
            match ask("Enter: record, s: skip, q: quit >")? {
                Choice::Skip => continue,
                Choice::Quit => break,
                _ => {}
            }
        }
        loop {
            if input.ended() {
                println!("  the input ended ({})", input.name());
                break 'prompts;
            }
            println!(
                "  listening: say the phrase ({} s of silence ends the take)",
                cfg.silence_timeout
            );
            let take = input.record_take(&cfg, &stop, |l, s| {
                if show_meter {
                    meter(l, s)
                }
            })?;
            if show_meter {
                eprintln!();
            }
            if take.end == End::NoSpeech || take.samples.is_empty() {
                println!("  no speech heard within {} s", cfg.no_speech_timeout);
                if !interactive {
                    continue 'prompts;
                }
            } else {
                println!("  take: {}", describe(&take));
            }
            const MENU: &str = "Enter: keep, r: re-record, p: play back, s: skip, q: quit >";
            let mut choice = if interactive {
                ask(MENU)?
            } else {
                Choice::Keep
            };
            while let Choice::Play = choice {
                if let Err(e) = play(&take.samples, args.output.as_deref()) {
                    println!("  cannot play back: {e}");
                }
                choice = ask(MENU)?;
            }
            match choice {
                Choice::Keep if !take.samples.is_empty() => {
                    store(ws, &sp, &take, prompt)?;
                    kept += 1;
                    break;
                }
                Choice::Skip => break,
                Choice::Quit => break 'prompts,
                Choice::Keep | Choice::Again | Choice::Play => {}
            }
        }
    }
    println!("{kept} take(s) stored for {}", sp.id);
    Ok(if kept == 0 && !pending.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
