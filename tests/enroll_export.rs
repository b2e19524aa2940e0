//! `attune enroll export`: WAVs + manifest + sclite trn, re-importable without loss.

mod enroll_common;

use enroll_common::{attune, attune_ok, copy_items, manifest, wav_info};

#[test]
fn export_then_import_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path();
    attune_ok(h, &["speaker", "new", "eve"]);
    let set = h.join("set");
    copy_items("control", &["011", "012", "013", "014", "015", "016"], &set);
    attune_ok(
        h,
        &[
            "enroll",
            "import",
            "--speaker",
            "eve",
            set.to_str().unwrap(),
        ],
    );

    let out = h.join("out");
    let said = attune_ok(
        h,
        &[
            "enroll",
            "export",
            "--speaker",
            "eve",
            out.to_str().unwrap(),
        ],
    );
    assert!(said.contains("exported 6 utterances"), "{said}");
    let trn = std::fs::read_to_string(out.join("eve.trn")).unwrap();
    let first_text = std::fs::read_to_string(set.join("011.txt")).unwrap();
    assert_eq!(trn.lines().count(), 6);
    assert_eq!(
        trn.lines().next().unwrap(),
        format!("{} (eve_00001)", first_text.trim())
    );
    for n in 1..=6 {
        let (spec, _) = wav_info(&out.join(format!("0000{n}.wav")));
        assert_eq!(
            (spec.sample_rate, spec.channels, spec.bits_per_sample),
            (16_000, 1, 16)
        );
    }
    // Exporting over an existing export is refused.
    assert!(
        !attune(
            h,
            &[
                "enroll",
                "export",
                "--speaker",
                "eve",
                out.to_str().unwrap()
            ]
        )
        .status
        .success()
    );

    attune_ok(h, &["speaker", "new", "eve2"]);
    attune_ok(
        h,
        &[
            "enroll",
            "import",
            "--speaker",
            "eve2",
            out.to_str().unwrap(),
        ],
    );
    let (a, b) = (manifest(h, "eve"), manifest(h, "eve2"));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            (&x["text"], &x["split"], &x["duration"]),
            (&y["text"], &y["split"], &y["duration"])
        );
        let read = |id: &str, rel: &serde_json::Value| {
            attune::audio::read_wav(&h.join("speakers").join(id).join(rel.as_str().unwrap()))
                .unwrap()
        };
        let (sa, sb) = (
            read("eve", &x["audio_filepath"]),
            read("eve2", &y["audio_filepath"]),
        );
        let lsb = 2.0 / 32768.0;
        assert!(sa.iter().zip(&sb).all(|(p, q)| (p - q).abs() <= lsb));
    }
}
