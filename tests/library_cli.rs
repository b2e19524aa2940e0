//! The `attune library …` and `attune transcribe --manifest` commands end to end through the real
//! binary: list/show/export/import/rm with clear refusals, PEFT export, and a mixed-speaker
//! manifest where each speaker gets its newest submodel.

mod base_common;
use base_common::shipped_base;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use attune::library;
use attune::model::WhisperConfig;
use attune::model::weights::model_file;
use attune::serve::synthetic;
use attune::store::Home;
use attune::submodel::{Kind, Spec};
use attune::util::hash::sha256_hex;
use candle_core::Device;

fn attune(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_attune"))
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("ATTUNE_BASE")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// A library with LoRA submodels for the shipped base: `accent-de` v1 and v2, `tremor` v1.
fn library() -> (tempfile::TempDir, Home) {
    let dir = tempfile::tempdir().unwrap();
    let home = Home {
        root: dir.path().join("home"),
    };
    let hash = sha256_hex(&std::fs::read(model_file(&shipped_base())).unwrap());
    let cfg: WhisperConfig = attune::model::Whisper::load(&shipped_base(), &Device::Cpu)
        .unwrap()
        .0
        .config;
    for (i, speaker) in ["accent-de", "accent-de", "tremor"].iter().enumerate() {
        let spec = Spec::new(Kind::Lora, 4);
        let base = (&cfg, hash.as_str(), cfg.name.as_str());
        let mut sub =
            synthetic::submodel(&spec, base, speaker, i as u64, 0.04, &Device::Cpu).unwrap();
        library::add(&home, &mut sub).unwrap();
    }
    (dir, home)
}

#[test]
fn library_commands_round_trip_and_refuse_clearly() {
    let (dir, home) = library();
    let h = &home.root;
    let list: serde_json::Value =
        serde_json::from_str(&stdout(&attune(h, &["library", "list", "--json"]))).unwrap();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["accent-de-v1", "accent-de-v2", "tremor-v1"]);
    let table = stdout(&attune(h, &["library", "list"]));
    assert!(
        table.contains("accent-de-v2") && table.contains("accent-de-v1"),
        "{table}"
    );

    let show = stdout(&attune(h, &["library", "show", "accent-de-v2"]));
    assert!(
        show.contains("lineage     accent-de-v2 ← accent-de-v1"),
        "{show}"
    );
    assert!(
        show.contains("(the chosen base)") && show.contains("checksum ok"),
        "{show}"
    );

    let file = dir.path().join("out.safetensors");
    let f = file.to_str().unwrap();
    stdout(&attune(h, &["library", "export", "tremor-v1", f]));
    let again = attune(h, &["library", "import", f]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    stdout(&attune(h, &["library", "import", f, "--force"]));

    let peft: PathBuf = dir.path().join("peft");
    stdout(&attune(
        h,
        &[
            "library",
            "export",
            "tremor-v1",
            peft.to_str().unwrap(),
            "--format",
            "peft",
        ],
    ));
    assert!(
        peft.join("adapter_config.json").is_file()
            && peft.join("adapter_model.safetensors").is_file()
    );

    let rm = stdout(&attune(h, &["library", "rm", "tremor-v1"]));
    assert!(rm.contains("tremor-v1.safetensors"), "{rm}");
    let gone = attune(h, &["library", "show", "tremor-v1"]);
    assert!(String::from_utf8_lossy(&gone.stderr).contains("no submodel tremor-v1"));
}

#[test]
fn manifest_transcription_uses_each_speakers_newest_submodel() {
    let (dir, home) = library();
    let speakers = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/speakers");
    let mut lines = String::new();
    for (speaker, n) in [
        ("accent-de", "001"),
        ("control", "001"),
        ("tremor", "002"),
        ("accent-de", "003"),
    ] {
        let audio = speakers.join(speaker).join(format!("{n}.wav"));
        let line = serde_json::json!({"audio_filepath": audio, "text": "", "speaker": speaker});
        lines.push_str(&format!("{line}\n"));
    }
    let manifest = dir.path().join("mixed.jsonl");
    std::fs::write(&manifest, lines).unwrap();
    let out = stdout(&attune(
        &home.root,
        &[
            "transcribe",
            "--manifest",
            manifest.to_str().unwrap(),
            "--batch",
            "4",
            "--json",
        ],
    ));
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let used: Vec<&serde_json::Value> = rows.iter().map(|r| &r["submodel"]).collect();
    assert_eq!(
        used,
        [
            &serde_json::json!("accent-de-v2"),
            &serde_json::Value::Null,
            &serde_json::json!("tremor-v1"),
            &serde_json::json!("accent-de-v2")
        ]
    );
    assert!(
        rows.iter().all(|r| !r["text"].as_str().unwrap().is_empty()),
        "{out}"
    );
}
