//! `attune speaker new|list|rm` through the real binary: ids that could escape the store are
//! refused, `list --json` counts utterances and submodels, `rm` leaves no file of the speaker
//! behind (its submodels included) and nothing of anyone else goes; a closed stdout ends a listing
//! quietly.

mod enroll_common;

use std::path::Path;

use attune::model::WhisperConfig;
use attune::serve::synthetic;
use attune::store::Home;
use attune::submodel::{Kind, Spec};
use candle_core::Device;
use enroll_common::{attune, attune_ok, checksums, command, copy_items, repo};

/// Puts a (synthetic) submodel for `speaker` into the library; returns its id.
fn add_submodel(home: &Path, speaker: &str, seed: u64) -> String {
    let cfg = WhisperConfig::tiny_test();
    let spec = Spec::new(Kind::Residual, 4);
    let mut sub = synthetic::submodel(
        &spec,
        (&cfg, "base", "test"),
        speaker,
        seed,
        0.1,
        &Device::Cpu,
    )
    .unwrap();
    let home = Home::resolve(Some(home));
    attune::library::add(&home, &mut sub).unwrap();
    sub.meta.id
}

fn list(home: &Path) -> serde_json::Value {
    serde_json::from_str(&attune_ok(home, &["speaker", "list", "--json"])).unwrap()
}

#[test]
fn new_list_rm() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path();
    assert_eq!(list(h), serde_json::json!([]));
    attune_ok(
        h,
        &[
            "speaker",
            "new",
            "ann",
            "--name",
            "Ann Example",
            "--consent",
            "signed form",
        ],
    );
    attune_ok(h, &["speaker", "new", "ben"]);
    assert!(
        !attune(h, &["speaker", "new", "ann"]).status.success(),
        "duplicate id"
    );

    let info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(h.join("speakers/ann/speaker.json")).unwrap())
            .unwrap();
    assert_eq!(info["name"], "Ann Example");
    assert_eq!(info["consent"]["text"], "signed form");
    assert_eq!(info["consent"]["date"].as_str().unwrap().len(), 10);

    let set = h.join("set");
    copy_items("accent-fr", &["001", "002", "003"], &set);
    attune_ok(
        h,
        &[
            "enroll",
            "import",
            "--speaker",
            "ann",
            set.to_str().unwrap(),
        ],
    );
    attune_ok(
        h,
        &[
            "enroll",
            "import",
            "--speaker",
            "ben",
            set.to_str().unwrap(),
        ],
    );
    let ann_subs = [add_submodel(h, "ann", 1), add_submodel(h, "ann", 2)];
    let ben_sub = add_submodel(h, "ben", 3);
    std::fs::write(
        h.join(format!("library/{}.log", ann_subs[0])),
        "training log",
    )
    .unwrap();

    let l = list(h);
    assert_eq!(l.as_array().unwrap().len(), 2);
    assert_eq!(l[0]["id"], "ann");
    assert_eq!(l[0]["name"], "Ann Example");
    assert_eq!(l[0]["utterances"], 3);
    assert_eq!(l[0]["submodels"], 2);
    assert_eq!(l[1]["id"], "ben");
    assert_eq!(l[1]["submodels"], 1);

    let ben_before = checksums(&h.join("speakers/ben"));
    // Not a terminal: no question asked.
    let out = attune_ok(h, &["speaker", "rm", "ann"]);
    assert!(out.contains("2 submodel"), "{out}");
    assert!(!h.join("speakers/ann").exists());
    let left: Vec<String> = checksums(h)
        .keys()
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        left.iter().all(|p| !p.contains("ann")),
        "left behind: {left:?}"
    );
    assert!(
        left.contains(&format!("library/{ben_sub}.safetensors")),
        "{left:?}"
    );
    assert_eq!(checksums(&h.join("speakers/ben")), ben_before);
    assert_eq!(list(h)[0]["id"], "ben");
    assert!(
        !attune(h, &["speaker", "rm", "ann", "--yes"])
            .status
            .success()
    );
}

#[test]
fn ids_that_could_escape_the_store_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path();
    for bad in ["../evil", "a/b", "..", ".hidden", "x\\y"] {
        let out = attune(h, &["speaker", "new", bad]);
        assert!(!out.status.success(), "{bad} accepted");
        assert!(String::from_utf8_lossy(&out.stderr).contains("invalid speaker id"));
        assert!(!attune(h, &["speaker", "rm", "--yes", bad]).status.success());
    }
    assert!(!h.join("evil").exists() && !dir.path().parent().unwrap().join("evil").exists());
    assert!(checksums(h).is_empty(), "{:?}", checksums(h));
}

#[test]
fn a_custom_prompt_script_is_kept_with_the_speaker() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path();
    let script = h.join("mine.txt");
    std::fs::write(&script, "# my phrases\nPass the salt.\nCall my daughter.\n").unwrap();
    attune_ok(
        h,
        &[
            "speaker",
            "new",
            "cat",
            "--prompts",
            script.to_str().unwrap(),
        ],
    );
    let kept = std::fs::read_to_string(h.join("speakers/cat/prompts.txt")).unwrap();
    assert!(kept.contains("Call my daughter."));
    let empty = h.join("empty.txt");
    std::fs::write(&empty, "# nothing\n\n").unwrap();
    assert!(
        !attune(
            h,
            &[
                "speaker",
                "new",
                "dan",
                "--prompts",
                empty.to_str().unwrap()
            ]
        )
        .status
        .success()
    );
    assert!(
        !h.join("speakers/dan").exists(),
        "a bad script leaves no half-made speaker"
    );
    assert!(repo("assets/prompts/default.txt").is_file());
}

/// `attune speaker list | head -0`: the reader is gone before attune writes, so its first line
/// meets a broken pipe; it ends with SIGPIPE's shell status and no panic report.
#[test]
fn closed_stdout_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    attune_ok(dir.path(), &["speaker", "new", "ann"]);
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = command(dir.path(), &["speaker", "list"])
        .stdout(writer)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    // The same listing with a reader still prints it.
    assert!(attune_ok(dir.path(), &["speaker", "list"]).contains("ann"));
}
