//! `scripts/make_population.sh`, the simulated speaker population for a speaker-embedding
//! space: a small run (3 speakers × 2 utterances) must give 16 kHz mono 16-bit, non-silent,
//! short WAVs with NeMo manifests whose texts come from the prompt script, a `population.tsv`
//! of 3 recipes none of which reuses a held-out sample speaker's voice, and byte-identical files
//! when run again (into a fresh folder, and in place). Needs espeak-ng, sox and flite (CI installs
//! them); without them the test fails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const SPEAKERS: usize = 3;
const N: usize = 2;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Fails with an install hint when a synthesis tool is missing.
fn require_tools() {
    for tool in ["espeak-ng", "sox", "soxi", "flite"] {
        let found = Command::new(tool).arg("--version").output().is_ok();
        assert!(
            found,
            "{tool} not found: the population script needs espeak-ng, sox and flite \
             (apt-get install espeak-ng sox flite; CI installs them)"
        );
    }
}

fn run_script(out: &Path) {
    let res = Command::new(repo("scripts/make_population.sh"))
        .arg(out)
        .env("SPEAKERS", SPEAKERS.to_string())
        .env("N", N.to_string())
        .env("JOBS", "2")
        .env_remove("PROMPTS")
        .env_remove("MAXW")
        .env_remove("PAD")
        .output()
        .expect("run scripts/make_population.sh");
    assert!(
        res.status.success(),
        "make_population.sh failed:\n{}",
        String::from_utf8_lossy(&res.stderr)
    );
}

/// Every file under `dir` (relative path → bytes).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, acc: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, acc);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_path_buf();
                acc.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut acc = BTreeMap::new();
    walk(dir, dir, &mut acc);
    acc
}

fn prompts() -> BTreeSet<String> {
    std::fs::read_to_string(repo("assets/prompts/default.txt"))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

/// The recipe lines of `population.tsv`, split into their 8 fields.
fn recipes(out: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(out.join("population.tsv"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<String> = l.split('\t').map(String::from).collect();
            assert_eq!(
                f.len(),
                8,
                "id engine voice variant rate pitch effect channel: {l}"
            );
            f
        })
        .collect()
}

/// The held-out sample speakers' (engine, voice, variant); `*` any variant, `-` none.
const SAMPLE_VOICES: [(&str, &str, &str); 5] = [
    ("flite", "slt", "*"),
    ("espeak-ng", "de", "-"),
    ("espeak-ng", "fr", "f2"),
    ("espeak-ng", "en-us", "croak"),
    ("espeak-ng", "en-us", "m7"),
];

fn check_speaker(dir: &Path, id: &str, prompts: &BTreeSet<String>) {
    let manifest = std::fs::read_to_string(dir.join("manifest.jsonl")).unwrap();
    let lines: Vec<&str> = manifest.lines().collect();
    assert_eq!(lines.len(), N, "{id}: {manifest}");
    for (i, line) in lines.iter().enumerate() {
        let item: serde_json::Value = serde_json::from_str(line).unwrap();
        let name = format!("{:03}", i + 1);
        assert_eq!(
            item["audio_filepath"],
            format!("{name}.wav"),
            "{id}: {line}"
        );
        assert_eq!(item["speaker"], id, "{id}: {line}");
        let text = item["text"].as_str().unwrap();
        assert!(prompts.contains(text), "{id}: {text:?} is not a prompt");
        let txt = std::fs::read_to_string(dir.join(format!("{name}.txt"))).unwrap();
        assert_eq!(txt, format!("{text}\n"), "{id}/{name}.txt");

        let wav = dir.join(format!("{name}.wav"));
        let mut reader = hound::WavReader::open(&wav).unwrap();
        let spec = reader.spec();
        assert_eq!(
            (spec.sample_rate, spec.channels, spec.bits_per_sample),
            (16_000, 1, 16),
            "{}",
            wav.display()
        );
        assert_eq!(spec.sample_format, hound::SampleFormat::Int);
        let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
        let secs = samples.len() as f64 / 16_000.0;
        assert!((0.3..6.0).contains(&secs), "{}: {secs} s", wav.display());
        let duration = item["duration"].as_f64().unwrap();
        assert!(
            (duration - secs).abs() < 0.002,
            "{id}: {duration} vs {secs}"
        );
        let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap();
        let rms = (samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>()
            / samples.len() as f64)
            .sqrt();
        assert!(peak > 16_000, "{}: peak {peak}", wav.display());
        assert!(rms > 500.0, "{}: silent (rms {rms})", wav.display());
    }
}

#[test]
fn small_population_is_valid_held_out_and_deterministic() {
    require_tools();
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_script(&a);

    let recipes = recipes(&a);
    assert_eq!(recipes.len(), SPEAKERS, "{recipes:?}");
    let prompts = prompts();
    for (k, r) in recipes.iter().enumerate() {
        let id = format!("p{:03}", k + 1);
        assert_eq!(r[0], id, "{r:?}");
        for (engine, voice, variant) in SAMPLE_VOICES {
            let hit = r[1] == engine && r[2] == voice && (variant == "*" || r[3] == variant);
            assert!(!hit, "{id} reuses a held-out sample speaker's voice: {r:?}");
        }
        check_speaker(&a.join(&id), &id, &prompts);
    }
    let speakers: Vec<String> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with('.') && n != "population.tsv")
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(speakers, ["p001", "p002", "p003"]);

    // Determinism: a fresh run elsewhere, and a rerun in place, give the same bytes.
    let first = snapshot(&a);
    run_script(&b);
    assert!(first == snapshot(&b), "a second run differs from the first");
    run_script(&a);
    assert!(first == snapshot(&a), "a rerun in place changed the files");
}
