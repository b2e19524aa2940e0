//! `attune bench serve`: serving throughput with many submodels in one run — mixed-speaker
//! batches vs swapping one submodel per request vs one batch per speaker vs the base alone —
//! and submodel hot-load time (from disk and cached).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;

use crate::dataset::load_set;
use crate::features::SAMPLE_RATE;
use crate::library;
use crate::model::decode::Transcript;
use crate::serve::{SubmodelCache, synthetic, transcribe_mixed};
use crate::store::Home;
use crate::submodel::{Kind, Spec};
use crate::workflow::Workspace;

#[derive(clap::Args)]
pub struct Args {
    /// Distinct submodels (synthetic, random) the utterances are spread over
    #[arg(long, default_value_t = 16)]
    speakers: usize,
    /// Utterances transcribed per mode (taken round-robin from sample_data/speakers)
    #[arg(long, default_value_t = 64)]
    utterances: usize,
    /// Batch size of the batched modes
    #[arg(long, default_value_t = 8)]
    batch: usize,
    #[arg(long, value_enum, default_value_t = Kind::Residual)]
    kind: Kind,
    /// Bottleneck (residual) or rank (LoRA)
    #[arg(long, default_value_t = 32)]
    rank: usize,
    /// Size of the random output half of the adapters (residual up, LoRA B); 0 keeps every
    /// output equal to the base's, so all modes decode the same tokens (e.g. 0.01 perturbs them)
    #[arg(long, default_value_t = 0.0)]
    scale: f32,
    /// Timed runs of each mode (median reported), in rotating order
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Timed hot-loads for the load figures
    #[arg(long, default_value_t = 200)]
    loads: usize,
    #[arg(long)]
    json: bool,
}

/// Throughput of one serving mode.
#[derive(Serialize)]
struct Mode {
    /// Median wall time of one run over all utterances.
    seconds: f64,
    /// Tokens decoded: modes are comparable when these are close.
    tokens: usize,
    utterances_per_s: f64,
    audio_seconds_per_s: f64,
}

/// Removes the bench's temporary library when dropped.
struct TempHome(Home);
impl Drop for TempHome {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0.root);
    }
}

/// The first `n` utterances of the sample speakers, round-robin across speakers.
fn sample_audio(ws: &Workspace, n: usize) -> anyhow::Result<Vec<Vec<f32>>> {
    let root = ws.samples_dir()?;
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .with_context(|| format!("reading {}", root.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("manifest.jsonl").is_file())
        .collect();
    dirs.sort();
    let sets = dirs
        .iter()
        .map(|d| Ok(load_set(d)?.0))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let longest = sets.iter().map(Vec::len).max().unwrap_or(0);
    let order = (0..longest).flat_map(|i| sets.iter().filter_map(move |s| s.get(i)));
    order
        .take(n)
        .map(|u| Ok(crate::audio::read_wav(&u.audio)?))
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

pub fn run(ws: &Workspace, args: Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.speakers > 0 && args.utterances > 0 && args.batch > 0,
        "counts must be positive"
    );
    let rec = ws.recognizer(false)?;
    let dev = rec.model.device().clone();
    let home = TempHome(Home {
        root: std::env::temp_dir().join(format!("attune-bench-serve-{}", std::process::id())),
    });
    let spec = Spec::new(args.kind, args.rank);
    // Adapter values do not change the compute, only which tokens get decoded (and so how many
    // decoder steps run): at scale 0 every mode decodes exactly the base's tokens, so the ratios
    // measure serving alone.
    let scale = args.scale;
    let cfg = &rec.model.config;
    let mut ids = Vec::new();
    for k in 0..args.speakers {
        let base = (cfg, rec.model.hash.as_str(), cfg.name.as_str());
        let mut sub =
            synthetic::submodel(&spec, base, &format!("bench{k:03}"), k as u64, scale, &dev)?;
        library::add(&home.0, &mut sub)?;
        ids.push(sub.meta.id);
    }
    let clips = sample_audio(ws, args.utterances)?;
    let audios: Vec<&[f32]> = clips.iter().map(Vec::as_slice).collect();
    let n = audios.len();
    let row_ids: Vec<Option<String>> = (0..n).map(|i| Some(ids[i % ids.len()].clone())).collect();
    let audio_s: f64 = audios.iter().map(|a| a.len() as f64).sum::<f64>() / SAMPLE_RATE as f64;
    let cache = SubmodelCache::new(home.0.clone(), &rec.model.hash, dev.clone(), args.speakers);
    for id in &ids {
        cache.get(id)?; // steady state: every submodel resident
    }
    // Warm-up (allocator, thread pool, caches) on one batch, untimed.
    let warm = n.min(args.batch);
    rec.transcribe(&audios[..warm], None, args.batch)?;
    transcribe_mixed(&rec, &cache, &audios[..warm], &row_ids[..warm], args.batch)?;

    let tokens = |ts: Vec<Transcript>| ts.iter().map(|t| t.tokens.len()).sum::<usize>();
    let per_speaker = || -> anyhow::Result<usize> {
        let mut sum = 0;
        for (k, id) in ids.iter().enumerate() {
            let group: Vec<&[f32]> = audios.iter().skip(k).step_by(ids.len()).copied().collect();
            if !group.is_empty() {
                sum += tokens(rec.transcribe(&group, Some(&*cache.get(id)?), args.batch)?);
            }
        }
        Ok(sum)
    };
    let swap = || -> anyhow::Result<usize> {
        let mut sum = 0;
        for (a, id) in audios.iter().zip(&row_ids) {
            let sub = id.as_deref().map(|id| cache.get(id)).transpose()?;
            sum += tokens(rec.transcribe(&[a], sub.as_deref(), 1)?);
        }
        Ok(sum)
    };
    let jobs: [(&str, &dyn Fn() -> anyhow::Result<usize>); 4] = [
        ("base", &|| {
            Ok(tokens(rec.transcribe(&audios, None, args.batch)?))
        }),
        ("mixed", &|| {
            Ok(tokens(transcribe_mixed(
                &rec, &cache, &audios, &row_ids, args.batch,
            )?))
        }),
        ("per_speaker", &per_speaker),
        ("swap", &swap),
    ];
    // Rounds rotate the order so that drift in machine load hits every mode alike.
    let mut walls: BTreeMap<&str, (Vec<f64>, usize)> = BTreeMap::new();
    for round in 0..args.rounds.max(1) {
        for k in 0..jobs.len() {
            let (name, job) = jobs[(k + round) % jobs.len()];
            let start = Instant::now();
            let tokens = job()?;
            let slot = walls.entry(name).or_default();
            slot.0.push(start.elapsed().as_secs_f64());
            slot.1 = tokens;
        }
    }
    let modes: BTreeMap<&str, Mode> = walls
        .into_iter()
        .map(|(name, (w, tokens))| {
            let seconds = median(w);
            let (utterances_per_s, audio_seconds_per_s) = (n as f64 / seconds, audio_s / seconds);
            (
                name,
                Mode {
                    seconds,
                    tokens,
                    utterances_per_s,
                    audio_seconds_per_s,
                },
            )
        })
        .collect();

    // Hot-load: from disk (a cache that keeps nothing) and from memory.
    let cold = SubmodelCache::new(home.0.clone(), &rec.model.hash, dev.clone(), 0);
    let loads = |c: &SubmodelCache| -> anyhow::Result<f64> {
        let mut us = Vec::with_capacity(args.loads);
        for i in 0..args.loads.max(1) {
            let t = Instant::now();
            c.get(&ids[i % ids.len()])?;
            us.push(t.elapsed().as_secs_f64() * 1e6);
        }
        Ok(median(us))
    };
    let (cold_us, cached_us) = (loads(&cold)?, loads(&cache)?);
    let bytes = library::entry(&home.0, &ids[0])?.bytes;

    let ratio = |a: &str, b: &str| modes[a].utterances_per_s / modes[b].utterances_per_s;
    let ratios = serde_json::json!({
        "mixed_vs_base": ratio("mixed", "base"), "mixed_vs_swap": ratio("mixed", "swap"),
        "mixed_vs_per_speaker": ratio("mixed", "per_speaker"),
    });
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if args.json {
        let line = serde_json::json!({
            "bench": "serve", "threads": threads, "speakers": args.speakers, "utterances": n,
            "batch": args.batch, "rounds": args.rounds, "kind": args.kind, "rank": args.rank, "audio_seconds": audio_s,
            "modes": modes, "ratios": ratios,
            "hot_load_us": { "cold_median": cold_us, "cached_median": cached_us, "file_bytes": bytes },
        });
        println!("{line}");
    } else {
        println!(
            "{n} utterances ({audio_s:.1} s audio), {} {} r={} submodels, batch {}, {threads} threads, median of {} rounds",
            args.speakers, args.kind, args.rank, args.batch, args.rounds
        );
        for (name, m) in &modes {
            println!(
                "{name:<12} {:>7.2} utt/s {:>7.2} audio-s/s   ({:.2} s, {} tokens)",
                m.utterances_per_s, m.audio_seconds_per_s, m.seconds, m.tokens
            );
        }
        println!(
            "mixed / base {:.2}x   mixed / swap {:.2}x   mixed / per-speaker {:.2}x",
            ratio("mixed", "base"),
            ratio("mixed", "swap"),
            ratio("mixed", "per_speaker")
        );
        println!(
            "hot-load ({:.0} KiB file): cold {cold_us:.0} µs, cached {cached_us:.2} µs (medians of {})",
            bytes as f64 / 1024.0,
            args.loads
        );
    }
    Ok(ExitCode::SUCCESS)
}
