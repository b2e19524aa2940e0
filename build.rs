//! Build script: lists the files the binary carries inside it (the shipped base, the sample
//! speakers, the ordinary-speech clips, the speaker-embedding space) as `include_bytes!` tables
//! with a content key per part, so the installed binary never needs its source tree
//! (`src/shipped.rs` installs them).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// (part name, folder relative to the package root, file name suffixes carried).
const PARTS: &[(&str, &str, &[&str])] = &[
    ("base", "assets/base/tiny.en", &[".safetensors", ".json"]),
    (
        "speakers",
        "sample_data/speakers",
        &[".wav", ".txt", ".jsonl"],
    ),
    ("clips", "sample_data/real", &[".wav", ".txt", ".jsonl"]),
    ("space", "assets/space", &[".safetensors"]),
];

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let mut out = String::new();
    for (name, rel, suffixes) in PARTS {
        let dir = root.join(rel);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files = Vec::new();
        walk(&dir, &dir, suffixes, &mut files);
        files.sort();
        // FNV-1a over names, lengths and contents: identifies what this build carries.
        let mut key: u64 = 0xcbf2_9ce4_8422_2325;
        let mut table = String::new();
        for rel_file in &files {
            let path = dir.join(rel_file);
            println!("cargo:rerun-if-changed={}", path.display());
            let bytes = std::fs::read(&path).expect("reading a shipped file");
            for b in rel_file
                .as_bytes()
                .iter()
                .chain(&(bytes.len() as u64).to_le_bytes())
                .chain(&bytes)
            {
                key = (key ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
            }
            writeln!(
                table,
                "        ({rel_file:?}, include_bytes!({:?})),",
                path.display().to_string()
            )
            .unwrap();
        }
        let upper = name.to_uppercase();
        writeln!(
            out,
            "/// The shipped `{rel}` files.\npub static {upper}: Part = Part {{\n    name: {name:?},\n    key: \"{key:016x}\",\n    files: &[\n{table}    ],\n}};"
        )
        .unwrap();
    }
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("shipped.rs");
    std::fs::write(dest, out).expect("writing the shipped table");
}

/// Every file under `dir` whose name ends with one of `suffixes`, as `/`-joined relative paths.
fn walk(base: &Path, dir: &Path, suffixes: &[&str], out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).expect("reading a shipped folder") {
        let path = e.expect("reading a shipped folder").path();
        if path.is_dir() {
            walk(base, &path, suffixes, out);
        } else if suffixes.iter().any(|s| path.to_string_lossy().ends_with(s)) {
            let rel = path.strip_prefix(base).expect("under base");
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(parts.join("/"));
        }
    }
}
