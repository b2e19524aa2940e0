//! `attune bench personalize`: the README's results table, reproducible. Imports the sample
//! speakers into a scratch home, personalizes each with the default recipe in its own
//! `attune train` process (so its wall time and peak memory are the whole job's: data
//! preparation, training, dev evaluation and the test report), and prints test-part figures:
//! base, stock, submodel, the 95 % interval of the difference, the verdict, ordinary speech.

use std::path::PathBuf;
use std::process::{Command as Process, ExitCode};
use std::time::Instant;

use anyhow::Context as _;
use serde_json::Value;

use crate::workflow::{Workspace, enroll};

#[derive(clap::Args)]
pub struct Args {
    /// Sample speakers to personalize [default: all of them]
    #[arg(long, value_delimiter = ',')]
    speakers: Vec<String>,
    /// Extra arguments for every `attune train` (e.g. "--kind lora"), split on spaces
    #[arg(
        long,
        value_name = "ARGS",
        default_value = "",
        allow_hyphen_values = true
    )]
    train_args: String,
    /// Keep the scratch home here instead of a temporary folder
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// One JSON object per speaker (the train result plus process_seconds)
    #[arg(long)]
    json: bool,
    /// Another system's test-part hypotheses per speaker, JSON lines {"id", "text"}, as a path
    /// with `{speaker}` in it (e.g. what scripts/peft_baseline.py writes): each is scored beside
    /// the submodel with the 95 % interval of (other − submodel) WER
    #[arg(long, value_name = "PATTERN")]
    against: Option<String>,
}

fn fmt(v: &Value) -> String {
    v.as_f64().map_or("n/a".into(), |x| format!("{x:.3}"))
}

pub fn run(ws: &Workspace, args: Args) -> anyhow::Result<ExitCode> {
    let root = match &args.keep {
        Some(dir) => dir.clone(),
        None => scratch_dir()?,
    };
    let scratch = Workspace {
        home: crate::store::Home::resolve(Some(&root)),
        ..ws.clone()
    };
    scratch
        .home
        .ensure()
        .with_context(|| root.display().to_string())?;
    enroll::add_samples(&scratch, &args.speakers, |id, n| {
        eprintln!("imported {id}: {n} utterances")
    })?;
    let ids: Vec<String> = crate::workflow::speakers::summary(&scratch)
        .speakers
        .into_iter()
        .map(|s| s.id)
        .collect();
    let exe = std::env::current_exe().context("locating the attune binary")?;
    let mut rows = Vec::new();
    for id in &ids {
        let mut cmd = Process::new(&exe);
        cmd.arg("--home").arg(&root);
        if let Some(b) = &ws.base {
            cmd.arg("--base").arg(b);
        }
        cmd.args(["train", "--speaker", id, "--json"]);
        cmd.args(args.train_args.split_whitespace());
        let t = Instant::now();
        let out = cmd.output().context("running attune train")?;
        let wall = t.elapsed().as_secs_f64();
        anyhow::ensure!(
            out.status.success(),
            "attune train --speaker {id} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let last: Value = stdout
            .lines()
            .rev()
            .find_map(|l| {
                serde_json::from_str::<Value>(l)
                    .ok()
                    .filter(|v| v.get("submodel").is_some())
            })
            .context("attune train printed no result line")?;
        let mut row = last;
        row["process_seconds"] = wall.into();
        if let Some(pattern) = &args.against {
            row["against"] = against(&exe, &root, id, &row, &pattern.replace("{speaker}", id))?;
        }
        if args.json {
            println!("{row}");
        }
        rows.push(row);
    }
    if !args.json {
        print_table(&rows);
        if args.against.is_some() {
            print_against(&rows);
        }
    }
    if args.keep.is_none() {
        let _ = std::fs::remove_dir_all(&root);
    }
    Ok(ExitCode::SUCCESS)
}

/// `attune eval --hypotheses FILE --submodel S`: the other system's and the submodel's scores on
/// the speaker's test part, with the paired interval.
fn against(
    exe: &std::path::Path,
    root: &std::path::Path,
    id: &str,
    row: &Value,
    file: &str,
) -> anyhow::Result<Value> {
    let sub = row["submodel"]
        .as_str()
        .context("the result names no submodel")?;
    let out = Process::new(exe)
        .arg("--home")
        .arg(root)
        .args(["eval", "--json", "--speaker", id, "--submodel", sub])
        .args(["--hypotheses", file])
        .output()
        .context("running attune eval")?;
    anyhow::ensure!(
        out.status.success(),
        "attune eval --hypotheses {file} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).context("attune eval printed no JSON")
}

fn print_against(rows: &[Value]) {
    println!();
    println!("| speaker | other | submodel | other − sub, 95 % CI | submodel is |");
    println!("|---|---|---|---|---|");
    for r in rows {
        let a = &r["against"];
        let ci = a["ci95"].as_array().map_or("n/a".into(), |c| {
            format!("[{}, {}]", fmt(&c[0]), fmt(&c[1]))
        });
        println!(
            "| {} | {} | {} | {ci} | {} |",
            r["speaker"].as_str().unwrap_or("?"),
            fmt(&a["hypotheses"]["wer"]),
            fmt(&a["submodel"]["wer"]),
            a["verdict"].as_str().unwrap_or("n/a"),
        );
    }
}

/// A private scratch folder under the system temp dir (removed afterwards).
fn scratch_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("attune-bench-personalize-{}", std::process::id()));
    crate::util::atomic::create_private_dir_all(&dir)?;
    Ok(dir)
}

fn print_table(rows: &[Value]) {
    println!(
        "| speaker | test utt. | stock | base | submodel | base − sub, 95 % CI | verdict | ordinary speech base → sub | train s | peak MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let ci = r["ci95"].as_array().map_or("n/a".into(), |a| {
            format!("[{}, {}]", fmt(&a[0]), fmt(&a[1]))
        });
        let generic = if r["generic"].is_object() {
            format!(
                "{} → {}",
                fmt(&r["generic"]["base_wer"]),
                fmt(&r["generic"]["wer"])
            )
        } else {
            "n/a".into()
        };
        println!(
            "| {} | {} | {} | {} | {} | {ci} | {} | {generic} | {:.0} | {} |",
            r["speaker"].as_str().unwrap_or("?"),
            r["test_utterances"],
            fmt(&r["stock_wer"]),
            fmt(&r["base_wer"]),
            fmt(&r["wer"]),
            r["verdict"].as_str().unwrap_or("n/a"),
            r["process_seconds"].as_f64().unwrap_or(f64::NAN),
            r["peak_rss_mib"]
                .as_f64()
                .map_or("n/a".into(), |m| format!("{m:.0}")),
        );
    }
}
