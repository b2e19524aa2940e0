//! The submodel library: versions and lineage, export → import round trip, refusal of
//! tampered / truncated / wrong-base files, no silent overwrite, and `rm` removing everything.

use std::path::Path;

use attune::library::{self, LibraryError};
use attune::model::WhisperConfig;
use attune::serve::synthetic;
use attune::store::Home;
use attune::submodel::{Kind, Spec, Submodel, SubmodelError};
use candle_core::Device;

const BASE: &str = "base-hash-aaaa";

fn home() -> (tempfile::TempDir, Home) {
    let dir = tempfile::tempdir().unwrap();
    let home = Home {
        root: dir.path().join("home"),
    };
    (dir, home)
}

fn fresh(speaker: &str, seed: u64, base: &str) -> Submodel {
    let cfg = WhisperConfig::tiny_test();
    synthetic::submodel(
        &Spec::new(Kind::Residual, 4),
        (&cfg, base, "test"),
        speaker,
        seed,
        0.1,
        &Device::Cpu,
    )
    .unwrap()
}

fn add(home: &Home, speaker: &str, seed: u64) -> String {
    let mut s = fresh(speaker, seed, BASE);
    library::add(home, &mut s).unwrap();
    s.meta.id
}

#[test]
fn retraining_adds_versions_linked_by_parent() {
    let (_t, home) = home();
    assert_eq!(library::next_id(&home, "alice").unwrap(), "alice-v1");
    assert_eq!(add(&home, "alice", 1), "alice-v1");
    assert_eq!(add(&home, "alice", 2), "alice-v2");
    assert_eq!(add(&home, "bob", 3), "bob-v1");
    assert_eq!(add(&home, "alice", 4), "alice-v3");
    assert_eq!(
        library::latest(&home, "alice").unwrap().as_deref(),
        Some("alice-v3")
    );
    assert_eq!(library::latest(&home, "carol").unwrap(), None);

    let (entries, bad) = library::list(&home).unwrap();
    assert!(bad.is_empty());
    let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["alice-v1", "alice-v2", "alice-v3", "bob-v1"]);

    let chain: Vec<String> = library::lineage(&home, "alice-v3")
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(chain, ["alice-v3", "alice-v2", "alice-v1"]);
    assert_eq!(library::entry(&home, "bob-v1").unwrap().meta.parent, None);
}

#[test]
fn export_then_import_is_bit_identical() {
    let (t, home) = home();
    let id = add(&home, "alice", 7);
    let original = std::fs::read(library::existing_path(&home, &id).unwrap()).unwrap();
    let exported = library::export(&home, &id, &t.path().join("alice.safetensors")).unwrap();
    assert_eq!(std::fs::read(&exported).unwrap(), original);

    let (_t2, other) = self::home();
    let e = library::import(&other, &exported, Some(BASE), false).unwrap();
    assert_eq!(e.id, id);
    assert_eq!(std::fs::read(&e.path).unwrap(), original);
    let a = library::load(&home, &id, Some(BASE), &Device::Cpu).unwrap();
    let b = library::load(&other, &id, Some(BASE), &Device::Cpu).unwrap();
    assert_eq!(a.meta, b.meta);
    for (name, ta) in &a.table.tensors {
        let (va, vb) = (
            ta.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            b.table.tensors[name]
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap(),
        );
        assert!(
            va.iter().zip(&vb).all(|(x, y)| x.to_bits() == y.to_bits()),
            "{name} differs"
        );
    }
}

#[test]
fn import_never_overwrites_without_force() {
    let (t, home) = home();
    let id = add(&home, "alice", 1);
    let file = library::export(&home, &id, t.path()).unwrap();
    assert_eq!(file, t.path().join(format!("{id}.safetensors")));
    let err = library::import(&home, &file, Some(BASE), false).unwrap_err();
    assert!(matches!(err, LibraryError::Exists { .. }), "{err}");
    assert!(err.to_string().contains("--force"), "{err}");
    library::import(&home, &file, Some(BASE), true).unwrap();
}

/// Writes `bytes` as a file to import and returns the import error.
fn import_err(home: &Home, dir: &Path, bytes: &[u8], base: &str) -> LibraryError {
    let f = dir.join("incoming.safetensors");
    std::fs::write(&f, bytes).unwrap();
    library::import(home, &f, Some(base), false).unwrap_err()
}

#[test]
fn tampered_truncated_and_wrong_base_files_are_refused() {
    let (t, home) = home();
    let (_t2, other) = self::home();
    let id = add(&home, "alice", 1);
    let good = std::fs::read(library::existing_path(&home, &id).unwrap()).unwrap();

    // One flipped bit in the last weight.
    let mut tampered = good.clone();
    *tampered.last_mut().unwrap() ^= 0x01;
    let err = import_err(&other, t.path(), &tampered, BASE);
    assert!(err.to_string().contains("checksum mismatch"), "{err}");

    // Cut short: the header promises more bytes than there are.
    let err = import_err(&other, t.path(), &good[..good.len() - 100], BASE);
    assert!(
        matches!(err, LibraryError::Submodel(SubmodelError::BadFile { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("incoming.safetensors"), "{err}");
    let err = import_err(&other, t.path(), &good[..5], BASE);
    assert!(err.to_string().contains("not a submodel file"), "{err}");

    // Made for another base.
    let err = import_err(&other, t.path(), &good, "another-base");
    assert!(
        matches!(err, LibraryError::Submodel(SubmodelError::WrongBase { .. })),
        "{err}"
    );
    assert!(
        err.to_string().contains("use the base it was trained on"),
        "{err}"
    );

    // Nothing got in.
    assert!(library::list(&other).unwrap().0.is_empty());
    // Loading a damaged library file is refused the same way.
    std::fs::write(library::existing_path(&home, &id).unwrap(), &tampered).unwrap();
    let err = library::load(&home, &id, Some(BASE), &Device::Cpu).unwrap_err();
    assert!(err.to_string().contains("checksum mismatch"), "{err}");
    let (entries, bad) = library::list(&home).unwrap();
    assert_eq!(
        (entries.len(), bad.len()),
        (1, 0),
        "metadata is still readable"
    );
}

#[test]
fn rm_removes_every_file_of_that_submodel_only() {
    let (_t, home) = home();
    let v1 = add(&home, "alice", 1);
    let mut v10 = String::new();
    for seed in 2..=10 {
        v10 = add(&home, "alice", seed);
    }
    assert_eq!(v10, "alice-v10");
    let lib = home.library_dir();
    std::fs::write(lib.join(format!("{v1}.log")), b"training log").unwrap();
    std::fs::create_dir(lib.join(format!("{v1}.peft"))).unwrap();
    std::fs::write(lib.join(format!("{v1}.peft/adapter_config.json")), b"{}").unwrap();
    std::fs::write(lib.join(format!(".{v1}.safetensors.tmp-1-2-3")), b"partial").unwrap();

    let removed = library::remove(&home, &v1).unwrap();
    assert_eq!(removed.len(), 4, "{removed:?}");
    let left: Vec<String> = std::fs::read_dir(&lib)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        left.iter()
            .all(|n| !n.contains(&format!("{v1}.")) || n.starts_with(&v10)),
        "{left:?}"
    );
    assert_eq!(left.len(), 9, "alice-v2..v10 stay: {left:?}");
    assert!(matches!(
        library::remove(&home, &v1).unwrap_err(),
        LibraryError::NotFound { .. }
    ));
    assert!(matches!(
        library::remove(&home, "../etc").unwrap_err(),
        LibraryError::BadName(_)
    ));
}

/// Rewrites the attune metadata JSON inside a submodel file with `edit` (header only: the
/// tensor data and its offsets stay as they are).
fn with_meta(bytes: &[u8], edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let meta_str = header["__metadata__"]["attune_submodel"].as_str().unwrap();
    let mut meta: serde_json::Value = serde_json::from_str(meta_str).unwrap();
    edit(&mut meta);
    header["__metadata__"]["attune_submodel"] = meta.to_string().into();
    let h = header.to_string().into_bytes();
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend(h);
    out.extend(&bytes[8 + n..]);
    out
}

#[test]
fn tampering_with_any_metadata_field_is_refused_and_named() {
    let (t, home) = home();
    let (_t2, other) = self::home();
    let id = add(&home, "alice", 1);
    let good = std::fs::read(library::existing_path(&home, &id).unwrap()).unwrap();
    // The untouched file (header re-serialized) still imports.
    let same = with_meta(&good, |_| {});
    let f = t.path().join("same.safetensors");
    std::fs::write(&f, &same).unwrap();
    library::import(&other, &f, Some(BASE), false).unwrap();
    library::remove(&other, &id).unwrap();
    type Edit = fn(&mut serde_json::Value);
    let cases: [(&str, Edit); 5] = [
        ("speaker", |m| m["speaker"] = "mallory".into()),
        ("spec", |m| m["spec"]["rank"] = 8.into()),
        ("base_hash", |m| m["base_hash"] = "base-hash-bbbb".into()),
        (
            "metrics",
            |m| {
                m["metrics"] =
                    serde_json::json!({"base_wer": 0.9, "wer": 0.1, "test_utterances": 20})
            },
        ),
        ("created", |m| m["created"] = 12345.into()),
    ];
    for (field, edit) in cases {
        let err = import_err(&other, t.path(), &with_meta(&good, edit), BASE).to_string();
        assert!(err.contains(&format!("meta.{field}")), "{field}: {err}");
    }
    // Forging the digests too is caught by the checksum over them.
    let forged = with_meta(&good, |m| {
        m["digests"]["meta.created"] = "00".into();
        m["created"] = 1.into();
    });
    let err = import_err(&other, t.path(), &forged, BASE).to_string();
    assert!(err.contains("checksum mismatch"), "{err}");
    assert!(
        library::list(&other).unwrap().0.is_empty(),
        "nothing got in"
    );
}

#[test]
fn an_import_whose_id_does_not_belong_to_its_speaker_is_refused() {
    let (t, home) = home();
    let (_t2, other) = self::home();
    let id = add(&home, "alice", 1);
    let mut sub = library::load(&home, &id, Some(BASE), &Device::Cpu).unwrap();
    sub.meta.id = "bob-v1".into();
    let f = t.path().join("bob-v1.safetensors");
    sub.save(&f).unwrap();
    let err = library::import(&other, &f, Some(BASE), false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("bob-v1") && err.contains("alice"), "{err}");
    assert!(library::list(&other).unwrap().0.is_empty());
}

/// Homes from before the train/dev/test protocol keep working: a format-1 submodel (tensor-only
/// checksum, held-out metrics) loads, and its figures are labelled as the older protocol.
#[test]
fn format_1_submodels_still_load_and_say_which_protocol_they_used() {
    use sha2::Digest;
    let (t, home) = home();
    let (_t2, other) = self::home();
    let id = add(&home, "alice", 1);
    let path = library::existing_path(&home, &id).unwrap();
    let good = std::fs::read(&path).unwrap();
    let sub = library::load(&home, &id, Some(BASE), &Device::Cpu).unwrap();
    let mut all = Vec::new();
    for (name, t) in &sub.table.tensors {
        all.extend(name.as_bytes());
        all.extend(attune::tensor_io::tensor_bytes(t).unwrap());
    }
    let old_sum: String = sha2::Sha256::digest(&all)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let v1 = with_meta(&good, |m| {
        m["format_version"] = 1.into();
        m.as_object_mut().unwrap().remove("digests");
        m["checksum"] = old_sum.clone().into();
        m["metrics"] = serde_json::json!({
            "base_wer": 0.7, "wer": 0.3, "heldout_utterances": 17, "train_utterances": 80
        });
    });
    let f = t.path().join(format!("{id}.safetensors"));
    std::fs::write(&f, &v1).unwrap();
    let e = library::import(&other, &f, Some(BASE), false).unwrap();
    let m = e.meta.metrics.unwrap();
    assert_eq!((m.test_utterances, m.protocol.as_str()), (17, ""));
    assert!(m.summary().contains("older protocol"), "{}", m.summary());
    library::load(&other, &id, Some(BASE), &Device::Cpu).unwrap();
}

/// Metrics are computed ratios (WERs, bootstrap bounds): whatever their digits, a saved submodel
/// must verify when loaded again (the digests hash each metadata field as JSON, so every float
/// has to read back bit-exactly).
#[test]
fn computed_metrics_survive_save_and_load() {
    let (t, _home) = home();
    for i in 1..300u32 {
        let mut sub = fresh("alice", 1, BASE);
        let x = |k: u32| f64::from(i * k % 997) / f64::from(13 + i % 89);
        sub.meta.metrics = Some(attune::submodel::file::Metrics {
            base_wer: x(3),
            wer: x(7) / 3.0,
            test_utterances: 17,
            train_utterances: 64,
            protocol: attune::submodel::file::TEST_PROTOCOL.into(),
            dev_wer: Some(x(11) * 0.1),
            dev_utterances: 15,
            stock_wer: Some(x(5) / 68.0),
            ci95: Some([x(2) / 7.0 - 0.3, x(9) / 17.0]),
            verdict: Some("better".into()),
            generic: Some(attune::submodel::file::GenericWer {
                base_wer: 6.0 / 99.0,
                wer: x(4) / 99.0,
            }),
        });
        sub.meta.id = "alice-v1".into();
        let f = t.path().join("m.safetensors");
        sub.save(&f).unwrap();
        Submodel::load(&f, Some(BASE), &Device::Cpu).unwrap_or_else(|e| panic!("case {i}: {e}"));
    }
}
