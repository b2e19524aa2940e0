//! `attune bench serve` with the real binary and base at tiny sizes: its JSON holds every mode,
//! swap really loads one submodel file per request, per-speaker batches fill, latencies are
//! ordered, and `--scale 0` keeps the base's tokens. Figures are never asserted as speed targets.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

const MODES: [&str; 5] = ["base", "mixed", "per_speaker", "swap", "swap_cached"];

/// Runs `attune bench serve ARGS --json` in a fresh `ATTUNE_HOME`; the parsed line, and whether
/// the bench's scratch library was removed afterwards.
fn bench_serve(args: &[&str]) -> (Value, bool) {
    let home = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_attune"))
        .env("ATTUNE_HOME", home.path())
        .args(["bench", "serve", "--rounds", "1", "--loads", "2", "--json"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let scratch = std::env::temp_dir().join(format!("attune-bench-serve-{}", child.id()));
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench serve {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("not one JSON line ({e}): {stdout}"));
    (json, !Path::new(&scratch).exists())
}

fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {v}"))
}

#[test]
fn every_mode_serves_the_burst_with_full_batches_and_real_loads() {
    let (j, cleaned) = bench_serve(&["--speakers", "2", "--utterances", "4", "--batch", "2"]);
    assert!(cleaned, "the scratch library is removed");
    assert_eq!(j["utterances"], 4);
    assert_eq!(j["scale"], 0.01, "non-identity adapters by default");
    let modes = j["modes"].as_object().expect("modes");
    assert_eq!(modes.len(), MODES.len(), "{modes:?}");
    for name in MODES {
        let m = &modes[name];
        assert!(num(m, "tokens") > 0.0, "{name} decoded nothing");
        let (p50, p95) = (num(m, "latency_p50_s"), num(m, "latency_p95_s"));
        assert!(0.0 < p50 && p50 <= p95, "{name}: p50 {p50} p95 {p95}");
        assert!(
            p95 <= num(m, "seconds"),
            "{name}: p95 beyond the run's wall"
        );
        let loads = if name == "swap" { 4.0 } else { 0.0 };
        assert_eq!(num(m, "disk_loads"), loads, "{name}: submodel files read");
    }
    // 2 requests per speaker, batch 2: every batched mode fills its batches.
    for name in ["base", "mixed", "per_speaker"] {
        assert_eq!(num(&modes[name], "batches"), 2.0, "{name}");
        assert_eq!(num(&modes[name], "mean_fill"), 1.0, "{name}");
    }
    assert_eq!(num(&modes["swap"], "batches"), 4.0);
    // Each request gets its own speaker's adapter however it is batched.
    for name in ["per_speaker", "swap", "swap_cached"] {
        for key in ["tokens", "changed_vs_base"] {
            assert_eq!(modes[name][key], modes["mixed"][key], "{name} {key}");
        }
    }
    for key in ["mixed_vs_base", "mixed_vs_swap", "mixed_vs_per_speaker"] {
        assert!(num(&j["ratios"], key) > 0.0, "{key}");
    }
}

#[test]
fn scale_zero_adapters_decode_the_base_tokens() {
    let (j, _) = bench_serve(&[
        "--speakers",
        "1",
        "--utterances",
        "1",
        "--batch",
        "1",
        "--scale",
        "0",
    ]);
    for name in MODES {
        let m = &j["modes"][name];
        assert_eq!(m["changed_vs_base"], 0, "{name}");
        assert_eq!(m["tokens"], j["modes"]["base"]["tokens"], "{name}");
        assert_eq!(num(m, "mean_fill"), 1.0, "{name}");
    }
}
