//! `attune eval --hypotheses`: another engine's output scored with attune's normaliser and corpus
//! WER (how `scripts/check_exports.py` scores faster-whisper and whisper.cpp); a missing
//! utterance is an error that names it.

use std::path::Path;
use std::process::Command;

fn real() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/real")
}

/// `attune eval --json --set <real clips> --hypotheses FILE` in `home`, plus `extra` arguments.
fn eval_in(home: &Path, hyps: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_attune"))
        .arg("--home")
        .arg(home)
        .args(["eval", "--json", "--set"])
        .arg(real())
        .arg("--hypotheses")
        .arg(hyps)
        .args(extra)
        .output()
        .unwrap()
}

fn eval(hyps: &Path) -> std::process::Output {
    eval_in(tempfile::tempdir().unwrap().path(), hyps, &[])
}

#[test]
fn hypotheses_are_scored_with_the_english_normaliser() {
    let (utts, _) = attune::dataset::load_set(&real()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hyps.jsonl");
    let mut lines = String::new();
    for (i, u) in utts.iter().enumerate() {
        // Upper case and no punctuation: normalised away. One utterance loses its last word.
        let mut text = u.text.to_uppercase().replace(['.', ',', '?', '!'], "");
        if i == 0 {
            text = text.rsplit_once(' ').unwrap().0.to_string();
        }
        lines.push_str(&serde_json::json!({ "id": u.id, "text": text }).to_string());
        lines.push('\n');
    }
    std::fs::write(&file, &lines).unwrap();
    let out = eval(&file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let h = &v["hypotheses"];
    assert_eq!(v["utterances"], utts.len());
    assert_eq!(h["del"], 1, "{v}");
    assert_eq!(
        h["sub"].as_u64().unwrap() + h["ins"].as_u64().unwrap(),
        0,
        "{v}"
    );
    let words = h["words"].as_f64().unwrap();
    assert!(
        (h["wer"].as_f64().unwrap() - 1.0 / words).abs() < 1e-9,
        "{v}"
    );

    // Drop one line: the missing utterance is named.
    let rest: Vec<&str> = lines.lines().skip(1).collect();
    std::fs::write(&file, rest.join("\n")).unwrap();
    let out = eval(&file);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("no hypothesis for utterance {}", utts[0].id)),
        "{err}"
    );
}

/// With `--submodel`, the same utterances are transcribed with it and the paired interval of
/// (other − submodel) WER is printed: perfect hypotheses against a fresh hybrid submodel (which
/// computes the base) can only show the submodel behind.
#[test]
fn hypotheses_are_compared_with_a_submodel_on_the_same_utterances() {
    use attune::submodel::{Kind, Spec};
    let (utts, _) = attune::dataset::load_set(&real()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/base/tiny.en");
    let (model, _) = attune::model::Whisper::load(&base, &candle_core::Device::Cpu).unwrap();
    let cfg = &model.config;
    let mut sub = attune::serve::synthetic::submodel(
        &Spec::new(Kind::Hybrid, 8),
        (cfg, &model.hash, &cfg.name),
        "real",
        1,
        0.0,
        &candle_core::Device::Cpu,
    )
    .unwrap();
    let store = attune::store::Home { root: home.clone() };
    attune::library::add(&store, &mut sub).unwrap();
    let file = dir.path().join("hyps.jsonl");
    let lines: Vec<String> = utts
        .iter()
        .map(|u| serde_json::json!({ "id": u.id, "text": u.text }).to_string())
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = eval_in(&home, &file, &["--submodel", &sub.meta.id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["hypotheses"]["wer"], 0.0, "{v}");
    let sub_wer = v["submodel"]["wer"].as_f64().unwrap();
    // The base's WER on these clips (tests/base_model.rs): 6 errors in 99 words.
    assert!((sub_wer - 6.0 / 99.0).abs() < 1e-9, "{v}");
    let ci = v["ci95"].as_array().unwrap();
    assert!(ci[1].as_f64().unwrap() <= 0.0, "{v}");
    assert!(ci[0].as_f64().unwrap() < 0.0, "{v}");
    assert!(
        v.get("hypotheses_runs").is_none(),
        "one run lists no runs: {v}"
    );

    // Two runs of each side (seeds, say): a second hypotheses file that drops one word, and the
    // submodel twice. Each run is listed; the totals' WER is the runs' mean; the interval is of
    // the means (0.5 errors against 6 in 99 words: the submodel behind).
    let second = dir.path().join("hyps-2.jsonl");
    let mut dropped = lines.clone();
    let first = &utts[0].text;
    dropped[0] = serde_json::json!({ "id": utts[0].id, "text": first.rsplit_once(' ').unwrap().0 })
        .to_string();
    std::fs::write(&second, dropped.join("\n")).unwrap();
    let id = sub.meta.id.as_str();
    let two = [
        "--hypotheses",
        second.to_str().unwrap(),
        "--submodel",
        id,
        "--submodel",
        id,
    ];
    let out = eval_in(&home, &file, &two);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let wers = |key: &str| -> Vec<f64> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["wer"].as_f64().unwrap())
            .collect()
    };
    assert_eq!(wers("hypotheses_runs"), [0.0, 1.0 / 99.0], "{v}");
    assert_eq!(wers("submodel_runs"), [sub_wer, sub_wer], "{v}");
    assert!(
        (v["hypotheses"]["wer"].as_f64().unwrap() - 0.5 / 99.0).abs() < 1e-12,
        "{v}"
    );
    assert!(
        (v["submodel"]["wer"].as_f64().unwrap() - sub_wer).abs() < 1e-12,
        "{v}"
    );
    let ci = v["ci95"].as_array().unwrap();
    assert!(
        ci[0].as_f64().unwrap() < 0.0 && ci[1].as_f64().unwrap() <= 0.0,
        "{v}"
    );
    // The table for people names each run and the means.
    let mut args = vec!["--home", home.to_str().unwrap(), "eval", "--set"];
    let real = real();
    args.push(real.to_str().unwrap());
    args.extend(["--hypotheses", file.to_str().unwrap()]);
    args.extend(two);
    let out = Command::new(env!("CARGO_BIN_EXE_attune"))
        .args(&args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "other 1",
        "other 2",
        "other mean",
        "sub 2",
        "sub mean",
        "interval",
    ] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }

    // Several submodels need --hypotheses to average against.
    let out = Command::new(env!("CARGO_BIN_EXE_attune"))
        .arg("--home")
        .arg(&home)
        .args(["eval", "--set"])
        .arg(real)
        .args(["--submodel", id, "--submodel", id])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--submodel is given once"), "{err}");
}
