//! `attune bench serve`: serving figures for many submodels over one base. A burst of requests
//! from many speakers is served by mixed-speaker batches, by one batch per speaker, one request
//! at a time with its submodel loaded from disk (or cached), and by the base alone; throughput,
//! request latency, batch fill, decoded tokens and submodel hot-load time are printed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;

use crate::audio::read_wav;
use crate::dataset::{Utterance, load_set};
use crate::eval::{Normalizer, corpus, score};
use crate::features::{SAMPLE_RATE, context_frames};
use crate::library;
use crate::model::decode::Transcript;
use crate::recognizer::Recognizer;
use crate::serve::workload::{self, Grouping, Request};
use crate::serve::{SubmodelCache, synthetic, transcribe_mixed};
use crate::store::Home;
use crate::submodel::{Kind, Spec};
use crate::util::stats::quantile;
use crate::workflow::Workspace;

/// What `--help` says after the options: the workload, the modes and what the figures mean.
const AFTER_HELP: &str = "\
Workload: one burst of requests, all arriving at t=0, round-robin over the speakers; each
speaker's clips (from the sample speakers, reused as needed) come in runs of --batch clips of one
encoder context, so a speaker's requests can fill its batches. The submodels are synthetic
(random adapters) and written to a scratch library that is removed afterwards.

Modes:
  base         the base alone, batched (no adapters)
  mixed        batches of any speakers, each row its own submodel (all submodels resident)
  per_speaker  batches of one speaker's requests (all submodels resident)
  swap         one request at a time; its submodel is loaded from its library file for every
               request (no in-process cache; the OS page cache is warm)
  swap_cached  one request at a time; its submodel from the in-memory cache

Every mode's time includes data preparation: reading the burst's WAV files before the first
batch (resampled to 16 kHz when they are not; the sample clips already are) and each batch's
log-mel. Batched modes run shorter encoder contexts first. Latency of a request: time from t=0
until its transcript is ready (the end of its batch); p50/p95 are over the burst's requests.
Fill: mean share of the --batch rows each decoder batch used (one-at-a-time modes use one).
Changed / WER/base: requests whose tokens differ from the base's, and the word error rate
against the base's transcripts; WER: against the sample clips' reference texts. Figures are
from the round with the median wall time.";

#[derive(clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Distinct submodels (synthetic, random) the requests are spread over
    #[arg(long, default_value_t = 16)]
    speakers: usize,
    /// Requests in the burst, round-robin over the speakers [default: speakers × batch, one
    /// full batch per speaker]
    #[arg(long)]
    utterances: Option<usize>,
    /// Batch size of the batched modes
    #[arg(long, default_value_t = 8)]
    batch: usize,
    #[arg(long, value_enum, default_value_t = Kind::Residual)]
    kind: Kind,
    /// Bottleneck (residual) or rank (LoRA)
    #[arg(long, default_value_t = 32)]
    rank: usize,
    /// Size of the random output half of the adapters (residual up, LoRA B): each submodel
    /// changes some of the base's words; 0 makes every adapter an identity, so all modes
    /// decode the base's tokens
    #[arg(long, default_value_t = 0.01)]
    scale: f64,
    /// Timed runs of each mode, in rotating order (the median run is reported)
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Timed hot-loads for the load figures
    #[arg(long, default_value_t = 200)]
    loads: usize,
    /// One JSON line instead of the table
    #[arg(long)]
    json: bool,
}

/// A way of serving the burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Mode {
    Base,
    Mixed,
    PerSpeaker,
    Swap,
    SwapCached,
}

impl Mode {
    const ALL: [Mode; 5] = [
        Mode::Base,
        Mode::Mixed,
        Mode::PerSpeaker,
        Mode::Swap,
        Mode::SwapCached,
    ];

    fn name(self) -> &'static str {
        match self {
            Mode::Base => "base",
            Mode::Mixed => "mixed",
            Mode::PerSpeaker => "per_speaker",
            Mode::Swap => "swap",
            Mode::SwapCached => "swap_cached",
        }
    }

    fn grouping(self) -> Grouping {
        match self {
            Mode::Base | Mode::Mixed => Grouping::Mixed,
            Mode::PerSpeaker => Grouping::PerSpeaker,
            Mode::Swap | Mode::SwapCached => Grouping::Single,
        }
    }
}

/// One timed run of one mode over the burst.
struct Run {
    wall: f64,
    /// Seconds from t=0 until each request's transcript was ready.
    latencies: Vec<f64>,
    transcripts: Vec<Transcript>,
    batches: usize,
    fill: f64,
    /// Submodels read from disk during the run.
    loads: u64,
}

/// The reported figures of one mode.
#[derive(Serialize)]
struct Figures {
    /// Wall time of the median run over the whole burst (data preparation included).
    seconds: f64,
    utterances_per_s: f64,
    audio_seconds_per_s: f64,
    /// Request latency (from t=0, when every request arrived) at the 50th/95th percentile.
    latency_p50_s: f64,
    latency_p95_s: f64,
    /// Decoder batches and the mean share of their `--batch` rows filled.
    batches: usize,
    mean_fill: f64,
    /// Submodel files read from disk during the run.
    disk_loads: u64,
    /// Tokens decoded: modes did comparable work when these are close.
    tokens: usize,
    /// Requests whose tokens differ from the base's.
    changed_vs_base: usize,
    /// Word error rate against the base's transcripts and against the reference texts.
    wer_vs_base: f64,
    wer: f64,
}

/// Removes the bench's scratch home when dropped.
struct TempHome(Home);
impl Drop for TempHome {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0.root);
    }
}

/// Every utterance of the sample speakers, round-robin across speakers.
fn sample_pool(ws: &Workspace) -> anyhow::Result<Vec<Utterance>> {
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
    Ok((0..longest)
        .flat_map(|i| sets.iter().filter_map(move |s| s.get(i).cloned()))
        .collect())
}

/// The base, the scratch library and the clip pool every mode serves from.
struct Bench<'a> {
    rec: &'a Recognizer,
    home: &'a Home,
    /// Submodel id of each speaker.
    ids: &'a [String],
    pool: &'a [Utterance],
    /// Every submodel loaded, as a server keeps them.
    resident: SubmodelCache,
    batch: usize,
}

impl Bench<'_> {
    /// Serves `requests` (all arriving at t=0) in `mode`, timing from t=0.
    fn run(&self, mode: Mode, requests: &[Request]) -> anyhow::Result<Run> {
        let dev = self.rec.model.device();
        let cold = SubmodelCache::new(self.home.clone(), &self.rec.model.hash, dev.clone(), 0);
        let start = Instant::now();
        let audio = requests
            .iter()
            .map(|r| read_wav(&self.pool[r.clip].audio))
            .collect::<Result<Vec<_>, _>>()?;
        let lengths: Vec<usize> = audio.iter().map(Vec::len).collect();
        let full = self.rec.options.full_context;
        let plan = workload::batches(requests, &lengths, self.batch, full, mode.grouping());
        let mut done: Vec<Option<(Transcript, f64)>> = vec![None; requests.len()];
        for b in &plan {
            let audios: Vec<&[f32]> = b.iter().map(|&i| audio[i].as_slice()).collect();
            let id = |i: usize| &self.ids[requests[i].speaker];
            let out = match mode {
                Mode::Base => self.rec.transcribe(&audios, None, self.batch)?,
                Mode::Mixed => {
                    let rows: Vec<Option<String>> =
                        b.iter().map(|&i| Some(id(i).clone())).collect();
                    transcribe_mixed(self.rec, &self.resident, &audios, &rows, self.batch)?
                }
                Mode::PerSpeaker | Mode::Swap | Mode::SwapCached => {
                    let cache = if mode == Mode::Swap {
                        &cold
                    } else {
                        &self.resident
                    };
                    let sub = cache.get(id(b[0]))?;
                    self.rec.transcribe(&audios, Some(&sub), self.batch)?
                }
            };
            let at = start.elapsed().as_secs_f64();
            for (&i, t) in b.iter().zip(out) {
                done[i] = Some((t, at));
            }
        }
        let wall = start.elapsed().as_secs_f64();
        let (transcripts, latencies) = done
            .into_iter()
            .map(|d| d.expect("every request is in one batch"))
            .unzip();
        Ok(Run {
            wall,
            latencies,
            transcripts,
            batches: plan.len(),
            fill: workload::mean_fill(&plan, self.batch),
            loads: cold.stats().misses,
        })
    }
}

/// The figures of `run` over `requests` (`audio_s` seconds of audio), its transcripts compared
/// with the base's and with the reference texts.
fn figures(
    run: &Run,
    base: &Run,
    requests: &[Request],
    pool: &[Utterance],
    audio_s: f64,
) -> Figures {
    let norm = Normalizer::default();
    let pairs = || run.transcripts.iter().zip(&base.transcripts);
    let vs_base: Vec<_> = pairs()
        .map(|(t, b)| score(&b.text, &t.text, &norm))
        .collect();
    let vs_ref: Vec<_> = run
        .transcripts
        .iter()
        .zip(requests)
        .map(|(t, r)| score(&pool[r.clip].text, &t.text, &norm))
        .collect();
    let n = requests.len() as f64;
    Figures {
        seconds: run.wall,
        utterances_per_s: n / run.wall,
        audio_seconds_per_s: audio_s / run.wall,
        latency_p50_s: quantile(&run.latencies, 0.5),
        latency_p95_s: quantile(&run.latencies, 0.95),
        batches: run.batches,
        mean_fill: run.fill,
        disk_loads: run.loads,
        tokens: run.transcripts.iter().map(|t| t.tokens.len()).sum(),
        changed_vs_base: pairs().filter(|(t, b)| t.tokens != b.tokens).count(),
        wer_vs_base: corpus(&vs_base).wer,
        wer: corpus(&vs_ref).wer,
    }
}

pub fn run(ws: &Workspace, args: Args) -> anyhow::Result<ExitCode> {
    let n = args.utterances.unwrap_or(args.speakers * args.batch);
    anyhow::ensure!(
        args.speakers > 0 && n > 0 && args.batch > 0,
        "counts must be positive"
    );
    let rec = ws.recognizer(false)?;
    let dev = rec.model.device().clone();
    let home = TempHome(Home {
        root: std::env::temp_dir().join(format!("attune-bench-serve-{}", std::process::id())),
    });
    let spec = Spec::new(args.kind, args.rank);
    let cfg = &rec.model.config;
    let mut ids = Vec::new();
    for k in 0..args.speakers {
        let base = (cfg, rec.model.hash.as_str(), cfg.name.as_str());
        let mut sub = synthetic::submodel(
            &spec,
            base,
            &format!("bench{k:03}"),
            k as u64,
            args.scale as f32,
            &dev,
        )?;
        library::add(&home.0, &mut sub)?;
        ids.push(sub.meta.id);
    }
    // The pool's lengths (read once, untimed) only shape the burst; every run reads its audio.
    let pool = sample_pool(ws)?;
    let pool_lengths = pool
        .iter()
        .map(|u| Ok(read_wav(&u.audio)?.len()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    anyhow::ensure!(!pool.is_empty(), "no sample utterances");
    let contexts: Vec<usize> = pool_lengths
        .iter()
        .map(|&l| context_frames(l, rec.options.full_context))
        .collect();
    let requests = workload::burst(&contexts, args.speakers, n, args.batch);
    let audio_s = requests
        .iter()
        .map(|r| pool_lengths[r.clip] as f64)
        .sum::<f64>()
        / SAMPLE_RATE as f64;
    let bench = Bench {
        rec: &rec,
        home: &home.0,
        ids: &ids,
        pool: &pool,
        resident: SubmodelCache::new(home.0.clone(), &rec.model.hash, dev.clone(), args.speakers),
        batch: args.batch,
    };
    for id in &ids {
        bench.resident.get(id)?; // steady state: every submodel resident
    }
    // Warm-up (allocator, thread pool, page cache) on one batch's worth of requests, untimed.
    let warm = &requests[..n.min(args.batch)];
    for mode in Mode::ALL {
        bench.run(mode, warm)?;
    }
    // Rounds rotate the order so that drift in machine load hits every mode alike.
    let mut runs: BTreeMap<Mode, Vec<Run>> = BTreeMap::new();
    for round in 0..args.rounds.max(1) {
        for k in 0..Mode::ALL.len() {
            let mode = Mode::ALL[(k + round) % Mode::ALL.len()];
            runs.entry(mode)
                .or_default()
                .push(bench.run(mode, &requests)?);
        }
    }
    let median_run = |mode: Mode| -> &Run {
        let mut rs: Vec<&Run> = runs[&mode].iter().collect();
        rs.sort_by(|a, b| a.wall.total_cmp(&b.wall));
        rs[rs.len() / 2]
    };
    let base = median_run(Mode::Base);
    let modes: BTreeMap<&str, Figures> = Mode::ALL
        .iter()
        .map(|&m| {
            let f = figures(median_run(m), base, &requests, &pool, audio_s);
            (m.name(), f)
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
        Ok(quantile(&us, 0.5))
    };
    let (cold_us, cached_us) = (loads(&cold)?, loads(&bench.resident)?);
    let bytes = library::entry(&home.0, &ids[0])?.bytes;

    let ratio = |a: &str, b: &str| modes[a].utterances_per_s / modes[b].utterances_per_s;
    let vs = ["base", "swap", "swap_cached", "per_speaker"];
    let ratios: BTreeMap<String, f64> = vs
        .iter()
        .map(|b| (format!("mixed_vs_{b}"), ratio("mixed", b)))
        .collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load_avg: Option<f64> = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok());
    if args.json {
        let line = serde_json::json!({
            "bench": "serve", "threads": threads, "load_avg_1m": load_avg,
            "speakers": args.speakers, "utterances": n, "batch": args.batch,
            "rounds": args.rounds, "kind": args.kind, "rank": args.rank, "scale": args.scale,
            "audio_seconds": audio_s, "arrival": "all requests at t=0",
            "latency": "seconds from t=0 until the request's transcript is ready",
            "modes": modes, "ratios": ratios,
            "hot_load_us": { "cold_median": cold_us, "cached_median": cached_us, "file_bytes": bytes },
        });
        println!("{line}");
    } else {
        let load = load_avg.map_or(String::new(), |l| format!(", load {l:.2}"));
        println!(
            "{n} requests ({audio_s:.1} s audio) from {} {} r={} submodels (scale {}), all arriving at t=0; batch {}; {threads} threads{load}; median of {} rounds",
            args.speakers, args.kind, args.rank, args.scale, args.batch, args.rounds
        );
        println!(
            "latency: from t=0 until a request's transcript is ready; WAV read and log-mel included in every mode"
        );
        println!(
            "{:<12} {:>7} {:>9} {:>7} {:>7} {:>7} {:>7} {:>5} {:>5} {:>6} {:>7} {:>8} {:>5}",
            "mode",
            "utt/s",
            "audio-s/s",
            "wall s",
            "p50 s",
            "p95 s",
            "batches",
            "fill",
            "loads",
            "tokens",
            "changed",
            "WER/base",
            "WER"
        );
        for (name, m) in &modes {
            println!(
                "{name:<12} {:>7.2} {:>9.2} {:>7.2} {:>7.2} {:>7.2} {:>7} {:>5.2} {:>5} {:>6} {:>7} {:>8.3} {:>5.3}",
                m.utterances_per_s,
                m.audio_seconds_per_s,
                m.seconds,
                m.latency_p50_s,
                m.latency_p95_s,
                m.batches,
                m.mean_fill,
                m.disk_loads,
                m.tokens,
                m.changed_vs_base,
                m.wer_vs_base,
                m.wer
            );
        }
        let shown: Vec<String> = vs
            .iter()
            .map(|b| format!("mixed / {b} {:.2}x", ratio("mixed", b)))
            .collect();
        println!("{}", shown.join("   "));
        println!(
            "hot-load ({:.0} KiB file): cold {cold_us:.0} µs, cached {cached_us:.2} µs (medians of {})",
            bytes as f64 / 1024.0,
            args.loads
        );
    }
    Ok(ExitCode::SUCCESS)
}
