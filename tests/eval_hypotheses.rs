//! `attune eval --hypotheses`: another engine's output scored with attune's normaliser and corpus
//! WER (how `scripts/check_exports.py` scores faster-whisper and whisper.cpp); a missing
//! utterance is an error that names it.

use std::path::Path;
use std::process::Command;

fn real() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/real")
}

fn eval(hyps: &Path) -> std::process::Output {
    let home = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_attune"))
        .arg("--home")
        .arg(home.path())
        .args(["eval", "--json", "--set"])
        .arg(real())
        .arg("--hypotheses")
        .arg(hyps)
        .output()
        .unwrap()
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
