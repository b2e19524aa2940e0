//! Two processes on one home never overwrite each other: two `attune train` runs of the same
//! speaker started at the same moment (identical requests, so they would share a checkpoint if
//! jobs had no slots) end with two intact, distinct library versions and no leftover job files.

use std::path::Path;
use std::process::{Command, Stdio};

fn attune(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_attune"));
    c.arg("--home").arg(home);
    c
}

#[test]
fn two_trainings_of_one_speaker_at_once_give_two_versions() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    // A small speaker (the first 16 tremor utterances) keeps this quick.
    let data = dir.path().join("small");
    std::fs::create_dir(&data).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/speakers/tremor");
    for i in 1..=16 {
        for ext in ["wav", "txt"] {
            let name = format!("{i:03}.{ext}");
            std::fs::copy(src.join(&name), data.join(&name)).unwrap();
        }
    }
    assert!(
        attune(&home)
            .args(["speaker", "new", "tremor"])
            .status()
            .unwrap()
            .success()
    );
    assert!(
        attune(&home)
            .args(["enroll", "import", "--speaker", "tremor"])
            .arg(&data)
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success()
    );
    let train = || {
        attune(&home)
            // From zero: the instant start (tested elsewhere) is not what races here.
            .args([
                "train",
                "--speaker",
                "tremor",
                "--max-steps",
                "2",
                "--from-zero",
            ])
            .arg("--json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (train(), train());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    for o in [&a, &b] {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let last = |o: &std::process::Output| -> serde_json::Value {
        let s = String::from_utf8_lossy(&o.stdout).to_string();
        serde_json::from_str(s.lines().last().unwrap()).unwrap()
    };
    let mut ids = vec![
        last(&a)["submodel"].as_str().unwrap().to_string(),
        last(&b)["submodel"].as_str().unwrap().to_string(),
    ];
    ids.sort();
    assert_eq!(ids, ["tremor-v1", "tremor-v2"]);
    let (entries, bad) = attune::library::list(&attune::store::Home::resolve(Some(&home))).unwrap();
    assert_eq!((entries.len(), bad.len()), (2, 0), "two intact versions");
    for id in &ids {
        let path =
            attune::library::existing_path(&attune::store::Home::resolve(Some(&home)), id).unwrap();
        attune::submodel::Submodel::load(&path, None, &candle_core::Device::Cpu).unwrap();
    }
    let left: Vec<_> = std::fs::read_dir(home.join("jobs")).unwrap().collect();
    assert!(left.is_empty(), "job files left behind: {left:?}");
}
