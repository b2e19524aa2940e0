//! `attune bench personalize`: the README's results table, reproducible. Imports the sample
//! speakers into a scratch home, personalizes each with the default recipe in its own
//! `attune train` process (so its wall time and peak memory are the whole job's: data
//! preparation, training, dev evaluation and the test report), and prints test-part figures:
//! base, stock, submodel, the 95 % interval of the difference, the verdict, ordinary speech;
//! with `--seeds`, once per seed and the mean; with `--against`, another system's runs beside
//! the speaker's submodels.

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
    /// One JSON object per run (the train result plus process_seconds, and seed with --seeds); a
    /// speaker's last run carries "against", scored over all its runs
    #[arg(long)]
    json: bool,
    /// Training seeds: each speaker is personalized once per seed (`--seed N`) and the table
    /// gives each run and their mean [default: the recipe's seed, one run]
    #[arg(long, value_delimiter = ',', value_name = "N,N,…")]
    seeds: Vec<u64>,
    /// Another system's test-part hypotheses per speaker, JSON lines {"id", "text"}, as a path
    /// with `{speaker}` in it (e.g. what scripts/peft_baseline.py writes): scored beside the
    /// speaker's submodels with the 95 % interval of (other − submodel) WER. Repeat it for
    /// several runs of the other system (e.g. its seeds): the interval is then of the means
    #[arg(long, value_name = "PATTERN")]
    against: Vec<String>,
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
    let seeds: Vec<Option<u64>> = if args.seeds.is_empty() {
        vec![None]
    } else {
        args.seeds.iter().copied().map(Some).collect()
    };
    let mut rows = Vec::new();
    for id in &ids {
        let mut runs = Vec::new();
        for seed in &seeds {
            let mut cmd = Process::new(&exe);
            cmd.arg("--home").arg(&root);
            if let Some(b) = &ws.base {
                cmd.arg("--base").arg(b);
            }
            cmd.args(["train", "--speaker", id, "--json"]);
            if let Some(seed) = seed {
                cmd.args(["--seed", &seed.to_string()]);
            }
            cmd.args(args.train_args.split_whitespace());
            let mut row = train(cmd, id)?;
            if let Some(seed) = seed {
                row["seed"] = (*seed).into();
            }
            runs.push(row);
        }
        if !args.against.is_empty() {
            let patterns: Vec<String> = args
                .against
                .iter()
                .map(|p| p.replace("{speaker}", id))
                .collect();
            let a = against(&exe, &root, id, &runs, &patterns)?;
            if let Some(last) = runs.last_mut() {
                last["against"] = a;
            }
        }
        if args.json {
            runs.iter().for_each(|r| println!("{r}"));
        }
        rows.extend(runs);
    }
    if !args.json {
        print!("{}", table(&rows));
        if seeds.len() > 1 {
            print!("{}", means(&rows));
        }
        if !args.against.is_empty() {
            print!("{}", against_table(&rows));
        }
    }
    if args.keep.is_none() {
        let _ = std::fs::remove_dir_all(&root);
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs one `attune train` and returns its result line with the process's wall time.
fn train(mut cmd: Process, id: &str) -> anyhow::Result<Value> {
    let t = Instant::now();
    let out = cmd.output().context("running attune train")?;
    let wall = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        out.status.success(),
        "attune train --speaker {id} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut row: Value = stdout
        .lines()
        .rev()
        .find_map(|l| {
            serde_json::from_str::<Value>(l)
                .ok()
                .filter(|v| v.get("submodel").is_some())
        })
        .context("attune train printed no result line")?;
    row["process_seconds"] = wall.into();
    Ok(row)
}

/// `attune eval --hypotheses F… --submodel S…`: the other system's runs and the speaker's
/// submodels on its test part, with the paired interval of the means.
fn against(
    exe: &std::path::Path,
    root: &std::path::Path,
    id: &str,
    runs: &[Value],
    files: &[String],
) -> anyhow::Result<Value> {
    let mut cmd = Process::new(exe);
    cmd.arg("--home")
        .arg(root)
        .args(["eval", "--json", "--speaker", id]);
    for run in runs {
        let sub = run["submodel"]
            .as_str()
            .context("the result names no submodel")?;
        cmd.args(["--submodel", sub]);
    }
    for file in files {
        cmd.args(["--hypotheses", file]);
    }
    let out = cmd.output().context("running attune eval")?;
    anyhow::ensure!(
        out.status.success(),
        "attune eval --hypotheses {} failed: {}",
        files.join(" --hypotheses "),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).context("attune eval printed no JSON")
}

/// Per speaker: each seed's test WER and their mean.
fn means(rows: &[Value]) -> String {
    let mut out =
        String::from("\n| speaker | seeds | test WER per seed | mean |\n|---|---|---|---|\n");
    for runs in rows.chunk_by(|a, b| a["speaker"] == b["speaker"]) {
        let wers: Vec<f64> = runs.iter().filter_map(|r| r["wer"].as_f64()).collect();
        let seeds: Vec<String> = runs.iter().map(|r| r["seed"].to_string()).collect();
        out += &format!(
            "| {} | {} | {} | {:.3} |\n",
            runs[0]["speaker"].as_str().unwrap_or("?"),
            seeds.join(", "),
            wers.iter()
                .map(|w| format!("{w:.3}"))
                .collect::<Vec<_>>()
                .join(" / "),
            wers.iter().sum::<f64>() / wers.len().max(1) as f64,
        );
    }
    out
}

/// Per speaker: the other system's runs against the speaker's submodels (`--against`).
fn against_table(rows: &[Value]) -> String {
    let mut out = String::from(
        "\n| speaker | other runs | other | submodels | submodel | other − sub, 95 % CI | submodel is |\n|---|---|---|---|---|---|---|\n",
    );
    for r in rows.iter().filter(|r| r["against"].is_object()) {
        let a = &r["against"];
        let ci = a["ci95"].as_array().map_or("n/a".into(), |c| {
            format!("[{}, {}]", fmt(&c[0]), fmt(&c[1]))
        });
        let runs = |key: &str| a[key].as_array().map_or(1, Vec::len);
        out += &format!(
            "| {} | {} | {} | {} | {} | {ci} | {} |\n",
            r["speaker"].as_str().unwrap_or("?"),
            runs("hypotheses_runs"),
            fmt(&a["hypotheses"]["wer"]),
            runs("submodel_runs"),
            fmt(&a["submodel"]["wer"]),
            a["verdict"].as_str().unwrap_or("n/a"),
        );
    }
    out
}

/// A private scratch folder under the system temp dir (removed afterwards).
fn scratch_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("attune-bench-personalize-{}", std::process::id()));
    crate::util::atomic::create_private_dir_all(&dir)?;
    Ok(dir)
}

/// One row per training: the speaker (and its seed, under `--seeds`), base and submodel WER,
/// the paired interval, ordinary speech, the process's time and peak memory.
fn table(rows: &[Value]) -> String {
    let mut out = String::from(
        "| speaker | test utt. | stock | base | submodel | base − sub, 95 % CI | verdict | ordinary speech base → sub | train s | peak MiB |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
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
        let speaker = r["speaker"].as_str().unwrap_or("?");
        let who = match r["seed"].as_u64() {
            Some(seed) => format!("{speaker} (seed {seed})"),
            None => speaker.to_string(),
        };
        out += &format!(
            "| {who} | {} | {} | {} | {} | {ci} | {} | {generic} | {:.0} | {} |\n",
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Under `--seeds` each training's row names its seed, and the means table gives each
    /// speaker's seeds, their WERs and the mean; without seeds a row is the speaker alone.
    #[test]
    fn the_tables_name_each_rows_seed_and_each_speakers_mean() {
        let row = |speaker: &str, seed: Option<u64>, wer: f64| {
            let mut r = serde_json::json!({
                "speaker": speaker, "test_utterances": 4, "wer": wer, "base_wer": 0.5,
                "process_seconds": 3.0, "peak_rss_mib": 100.0,
            });
            if let Some(seed) = seed {
                r["seed"] = seed.into();
            }
            r
        };
        let rows = [
            row("a", Some(17), 0.25),
            row("a", Some(18), 0.15),
            row("b", None, 0.5),
        ];
        let t = table(&rows);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 5, "{t}");
        assert!(
            lines[2].starts_with("| a (seed 17) | 4 | n/a | 0.500 | 0.250 |"),
            "{t}"
        );
        assert!(lines[3].starts_with("| a (seed 18) |"), "{t}");
        assert!(lines[4].starts_with("| b | 4 |"), "{t}");
        let m = means(&rows[..2]);
        assert!(m.contains("| a | 17, 18 | 0.250 / 0.150 | 0.200 |"), "{m}");
    }
}
