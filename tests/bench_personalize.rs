//! `attune bench personalize --seeds --against`: another system's runs of test hypotheses per speaker are scored
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
    std::fs::write(dir.path().join("control.jsonl"), &lines).unwrap();
    // A second run of the other system: one inserted word in every utterance.
    let mut second = String::new();
    for line in lines.lines() {
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        v["text"] = format!("{} extra", v["text"].as_str().unwrap()).into();
        second.push_str(&format!("{v}\n"));
    }
    std::fs::write(dir.path().join("control-2.jsonl"), second).unwrap();
    // Two seeds of attune against the two runs.
    let out = Command::new(env!("CARGO_BIN_EXE_attune"))
        .args(["bench", "personalize", "--json", "--speakers", "control"])
        .args([
            "--train-args",
            "--max-steps 1 --patience 0",
            "--seeds",
            "3,4",
        ])
        .arg("--against")
        .arg(dir.path().join("{speaker}.jsonl"))
        .arg("--against")
        .arg(dir.path().join("{speaker}-2.jsonl"))
        .arg("--keep")
        .arg(dir.path().join("home"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "one row per seed");
    assert_eq!(
        (rows[0]["seed"].as_u64(), rows[1]["seed"].as_u64()),
        (Some(3), Some(4))
    );
    assert_ne!(rows[0]["submodel"], rows[1]["submodel"]);
    assert!(
        rows[0].get("against").is_none(),
        "the speaker's last run carries it"
    );
    let row = &rows[1];
    let a = &row["against"];
    let runs = |key: &str| a[key].as_array().map_or(0, Vec::len);
    assert_eq!(
        (runs("hypotheses_runs"), runs("submodel_runs")),
        (2, 2),
        "{a}"
    );
    assert_eq!(a["hypotheses_runs"][0]["wer"], 0.0, "{a}");
    assert_eq!(a["hypotheses_runs"][1]["ins"], a["utterances"], "{a}");
    // Each submodel's figure is the one its training report gave for the same test part, and
    // the total is their mean.
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(a["submodel_runs"][i]["wer"], r["wer"], "{a}");
    }
    let mean = (rows[0]["wer"].as_f64().unwrap() + rows[1]["wer"].as_f64().unwrap()) / 2.0;
    assert!(
        (a["submodel"]["wer"].as_f64().unwrap() - mean).abs() < 1e-12,
        "{a}"
    );
    assert_eq!(a["utterances"], row["test_utterances"], "{row}");
    // The interval is of the two means and holds their difference.
    let point = a["hypotheses"]["wer"].as_f64().unwrap() - mean;
    let ci = a["ci95"].as_array().expect("an interval");
    let (lo, hi) = (ci[0].as_f64().unwrap(), ci[1].as_f64().unwrap());
    assert!(lo <= point && point <= hi && lo < hi, "{point} outside {a}");
}
