//! Helpers shared by the enrollment, speaker and recording tests: running the real binary with a
//! private home, locating sample data, checksumming a folder tree, writing test WAVs.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};

/// A file or folder of the source tree.
pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// `attune --home HOME ARGS…`, not yet run (the shipped base: `ATTUNE_BASE` removed).
pub fn command(home: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_attune"));
    cmd.arg("--home")
        .arg(home)
        .args(args)
        .env_remove("ATTUNE_BASE");
    cmd
}

/// Runs `attune --home HOME ARGS…` and returns its output.
pub fn attune(home: &Path, args: &[&str]) -> Output {
    let out = command(home, args).output().expect("runs attune");
    eprintln!(
        "$ attune {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Like [`attune`], asserting success; returns stdout.
pub fn attune_ok(home: &Path, args: &[&str]) -> String {
    let out = attune(home, args);
    assert!(out.status.success(), "attune {args:?} failed");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// SHA-256 of every file under `dir`, by relative path.
pub fn checksums(dir: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let bytes = std::fs::read(&p).expect("readable");
                let rel = p.strip_prefix(root).expect("under root").to_path_buf();
                out.insert(rel, format!("{:x}", Sha256::digest(&bytes)));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Copies `NAME.wav` + `NAME.txt` of a sample speaker into `dst`.
pub fn copy_items(speaker: &str, names: &[&str], dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    let src = repo(&format!("sample_data/speakers/{speaker}"));
    for n in names {
        for ext in ["wav", "txt"] {
            std::fs::copy(
                src.join(format!("{n}.{ext}")),
                dst.join(format!("{n}.{ext}")),
            )
            .unwrap();
        }
    }
}

/// Writes `mono` samples as a WAV with the given format (channels duplicated).
pub fn write_wav(path: &Path, mono: &[f32], rate: u32, channels: u16, bits: u16, float: bool) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let max = ((1i64 << (bits - 1)) - 1) as f32;
    for &s in mono {
        for _ in 0..channels {
            if float {
                w.write_sample(s).unwrap();
            } else {
                w.write_sample((s.clamp(-1.0, 1.0) * max).round() as i32)
                    .unwrap();
            }
        }
    }
    w.finalize().unwrap();
}

/// The spec and sample count of a WAV file.
pub fn wav_info(path: &Path) -> (hound::WavSpec, u32) {
    let r = hound::WavReader::open(path).unwrap();
    (r.spec(), r.len())
}

/// The lines of a speaker's manifest, parsed.
pub fn manifest(home: &Path, speaker: &str) -> Vec<serde_json::Value> {
    let p = home.join("speakers").join(speaker).join("manifest.jsonl");
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
