//! `scripts/mix_submodels.py`, the measuring tool behind the README's seed-soup, interpolation
//! and output-scale figures: its files must load in attune (digests recomputed) and mean what
//! they say, checked with the real binary, base and a sample speaker: a submodel mixed with
//! itself (½ + ½) scores as the submodel, the same with its up-projections zeroed (`--only`)
//! scores exactly as the base (a residual adapter with W_up = 0 is the identity), and a file
//! changed without new digests is refused. Needs python3 (CI installs it).

use std::path::Path;
use std::process::Command;

mod enroll_common;
use enroll_common::{attune_ok, repo};

fn mix(args: &[&str]) {
    let out = Command::new("python3")
        .arg(repo("scripts/mix_submodels.py"))
        .args(args)
        .output()
        .expect("python3 runs (apt-get install python3; CI installs it)");
    assert!(
        out.status.success(),
        "mix_submodels.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// (base WER, submodel WER) of `submodel` (an id or a file) on the speaker's test part.
fn wers(home: &Path, submodel: &str) -> (f64, f64) {
    let out = attune_ok(
        home,
        &[
            "eval",
            "--speaker",
            "tremor",
            "--submodel",
            submodel,
            "--json",
        ],
    );
    let j: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    (
        j["base"]["wer"].as_f64().unwrap(),
        j["submodel"]["wer"].as_f64().unwrap(),
    )
}

#[test]
fn mixed_submodels_load_and_mean_what_they_say() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let data = repo("sample_data/speakers/tremor");
    attune_ok(h, &["speaker", "new", "tremor"]);
    attune_ok(
        h,
        &[
            "enroll",
            "import",
            "--speaker",
            "tremor",
            data.to_str().unwrap(),
        ],
    );
    attune_ok(
        h,
        &[
            "train",
            "--speaker",
            "tremor",
            "--max-steps",
            "2",
            "--no-speed",
            "--json",
        ],
    );
    let trained = h.join("library/tremor-v1.safetensors");
    let t = trained.to_str().unwrap();
    let (base, own) = wers(h, "tremor-v1");
    assert!(
        own < base,
        "the trained submodel should beat the base: {own} vs {base}"
    );

    let half = h.join("half.safetensors");
    mix(&[half.to_str().unwrap(), "0.5", t, "0.5", t]);
    assert_eq!(wers(h, half.to_str().unwrap()), (base, own));

    let zeroed = h.join("zeroed.safetensors");
    mix(&["--only", ".up,.up_b", zeroed.to_str().unwrap(), "0", t]);
    assert_eq!(wers(h, zeroed.to_str().unwrap()), (base, base));

    // The same bytes change without new digests: attune refuses the file, naming it.
    let mut bytes = std::fs::read(&zeroed).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    let tampered = h.join("tampered.safetensors");
    std::fs::write(&tampered, bytes).unwrap();
    let out = enroll_common::attune(
        h,
        &[
            "eval",
            "--speaker",
            "tremor",
            "--submodel",
            tampered.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("tampered.safetensors"), "{err}");
}
