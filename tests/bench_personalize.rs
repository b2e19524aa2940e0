//! `attune bench personalize --against`: another system's test hypotheses per speaker are scored
//! beside each new submodel, with the paired interval of (other − submodel) WER — how the README
//! compares attune's default with the PEFT reference (`scripts/peft_baseline.py`).

use std::path::Path;
use std::process::Command;

#[test]
fn another_systems_hypotheses_are_compared_with_each_new_submodel() {
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/speakers/control");
    // Perfect hypotheses for every recording, ids as the import numbers them (00001 = 001.wav).
    let mut lines = String::new();
    for n in 1..=100 {
        let text = std::fs::read_to_string(data.join(format!("{n:03}.txt"))).unwrap();
        let line = serde_json::json!({ "id": format!("{n:05}"), "text": text.trim() });
        lines.push_str(&format!("{line}\n"));
    }
    std::fs::write(dir.path().join("control.jsonl"), lines).unwrap();
    let pattern = dir.path().join("{speaker}.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_attune"))
        .args(["bench", "personalize", "--json", "--speakers", "control"])
        .args(["--train-args", "--max-steps 1 --patience 0"])
        .arg("--against")
        .arg(&pattern)
        .arg("--keep")
        .arg(dir.path().join("home"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let a = &row["against"];
    assert_eq!(a["hypotheses"]["wer"], 0.0, "{a}");
    // The submodel's figure is the one the training report gave for the same test part.
    assert_eq!(a["submodel"]["wer"], row["wer"], "{row}");
    assert_eq!(a["utterances"], row["test_utterances"], "{row}");
    let ci = a["ci95"].as_array().expect("an interval");
    assert!(
        ci[1].as_f64().unwrap() <= 0.0,
        "perfect text cannot trail: {a}"
    );
}
