//! `attune enroll import` through the real binary: every supported layout, format conversion,
//! the catalogue of bad items (each skipped with its reason), the store left untouched when an
//! import fails, and a deterministic train/held-out split.

mod enroll_common;

use std::path::Path;

use enroll_common::{
    attune, attune_ok, checksums, copy_items, manifest, repo, wav_info, write_wav,
};

fn new_speaker(home: &Path, id: &str) {
    attune_ok(home, &["speaker", "new", id]);
}

fn import(home: &Path, id: &str, set: &Path) -> (bool, String) {
    let out = attune(
        home,
        &["enroll", "import", "--speaker", id, set.to_str().unwrap()],
    );
    (out.status.success(), String::from_utf8(out.stdout).unwrap())
}

fn assert_store_format(home: &Path, id: &str) {
    for line in manifest(home, id) {
        let rel = line["audio_filepath"].as_str().unwrap();
        assert!(rel.starts_with("recordings/"), "{rel}");
        let (spec, len) = wav_info(&home.join("speakers").join(id).join(rel));
        assert_eq!(
            (spec.sample_rate, spec.channels, spec.bits_per_sample),
            (16_000, 1, 16)
        );
        assert_eq!(spec.sample_format, hound::SampleFormat::Int);
        let duration = line["duration"].as_f64().unwrap();
        assert!((duration - f64::from(len) / 16_000.0).abs() < 0.001);
        assert_eq!(line["speaker"], id);
        assert!(matches!(
            line["split"].as_str(),
            Some("train" | "dev" | "test")
        ));
    }
}

#[test]
fn folder_manifest_and_kaldi_layouts_import() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    new_speaker(h, "p1");

    // A folder of x.wav + x.txt.
    let folder = h.join("in/folder");
    copy_items("accent-de", &["001", "002", "003", "004"], &folder);
    let (ok, out) = import(h, "p1", &folder);
    assert!(ok && out.contains("4 imported, 0 skipped"), "{out}");

    // A NeMo manifest (real speech, paths relative to the manifest).
    let (ok, out) = import(h, "p1", &repo("sample_data/real/manifest.jsonl"));
    assert!(ok && out.contains("9 imported, 0 skipped"), "{out}");

    // A Kaldi dir: absolute and relative paths, utt2spk, a piped command, a missing transcript.
    let kaldi = h.join("in/kaldi");
    copy_items("tremor", &["005", "006"], &kaldi.join("wavs"));
    let abs = repo("sample_data/speakers/tremor/007.wav");
    let scp = format!(
        "u5 wavs/005.wav\nu6 {}\nu7 sox in.flac -t wav - |\nu8 {}\n",
        kaldi.join("wavs/006.wav").display(),
        abs.display()
    );
    std::fs::write(kaldi.join("wav.scp"), scp).unwrap();
    std::fs::write(
        kaldi.join("text"),
        "u5 hello there\nu6 good night\nu7 piped\n",
    )
    .unwrap();
    std::fs::write(kaldi.join("utt2spk"), "u5 t\nu6 t\nu7 t\nu8 t\n").unwrap();
    let (ok, out) = import(h, "p1", &kaldi);
    assert!(ok && out.contains("2 imported, 2 skipped"), "{out}");
    assert!(
        out.contains("u7: wav.scp entry is a piped command"),
        "{out}"
    );
    assert!(out.contains("u8: no transcript"), "{out}");

    let lines = manifest(h, "p1");
    assert_eq!(lines.len(), 15);
    assert_eq!(lines[13]["text"], "hello there");
    assert_eq!(lines[14]["text"], "good night");
    assert_store_format(h, "p1");
    let listed: serde_json::Value =
        serde_json::from_str(&attune_ok(h, &["speaker", "list", "--json"])).unwrap();
    assert_eq!(listed[0]["utterances"], 15);
}

#[test]
fn any_wav_format_is_converted_to_16k_mono_16_bit() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    new_speaker(h, "conv");
    let src = repo("sample_data/speakers/control/010.wav");
    let text = std::fs::read_to_string(src.with_extension("txt")).unwrap();
    let mono = attune::audio::read_wav(&src).unwrap();
    let at_44k = attune::audio::resample(&mono, 16_000, 44_100).unwrap();
    let dir = h.join("in");
    std::fs::create_dir_all(&dir).unwrap();
    let formats = [
        ("stereo44k24", 44_100, 2, 24, false),
        ("mono16k8", 16_000, 1, 8, false),
        ("stereo16k32", 16_000, 2, 32, false),
        ("float44k", 44_100, 1, 32, true),
    ];
    for (name, rate, ch, bits, float) in formats {
        let samples = if rate == 44_100 { &at_44k } else { &mono };
        write_wav(
            &dir.join(format!("{name}.wav")),
            samples,
            rate,
            ch,
            bits,
            float,
        );
        std::fs::write(dir.join(format!("{name}.txt")), &text).unwrap();
    }
    let (ok, out) = import(h, "conv", &dir);
    assert!(ok && out.contains("4 imported, 0 skipped"), "{out}");
    assert_store_format(h, "conv");
    for line in manifest(h, "conv") {
        let stored = h
            .join("speakers/conv")
            .join(line["audio_filepath"].as_str().unwrap());
        let got = attune::audio::read_wav(&stored).unwrap();
        assert_eq!(got.len(), mono.len(), "length kept");
        let err = got
            .iter()
            .zip(&mono)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 0.02, "{stored:?} differs by {err}");
    }
}

#[test]
fn every_bad_item_is_skipped_with_its_reason() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    new_speaker(h, "bad");
    let dir = h.join("in");
    copy_items("control", &["001", "002", "003"], &dir);
    let real = std::fs::read(repo("sample_data/speakers/control/004.wav")).unwrap();
    let say = |name: &str| std::fs::write(dir.join(format!("{name}.txt")), "some words").unwrap();

    std::fs::write(dir.join("notaudio.wav"), "this is a text file, not audio\n").unwrap();
    say("notaudio");
    std::fs::write(dir.join("truncated.wav"), &real[..real.len() / 2]).unwrap();
    say("truncated");
    write_wav(&dir.join("empty.wav"), &[], 16_000, 1, 16, false);
    say("empty");
    write_wav(
        &dir.join("silence.wav"),
        &[0.0; 16_000],
        16_000,
        1,
        16,
        false,
    );
    say("silence");
    let mut nan = attune::audio::read_wav(&repo("sample_data/speakers/control/004.wav")).unwrap();
    nan[100] = f32::NAN;
    write_wav(&dir.join("nan.wav"), &nan, 16_000, 1, 32, true);
    say("nan");
    std::fs::write(dir.join("orphan.wav"), &real).unwrap();
    std::fs::write(dir.join("latin1.wav"), &real).unwrap();
    std::fs::write(dir.join("latin1.txt"), b"caf\xe9 au lait").unwrap();
    std::fs::write(dir.join("blank.wav"), &real).unwrap();
    std::fs::write(dir.join("blank.txt"), "  \n").unwrap();

    let (ok, out) = import(h, "bad", &dir);
    assert!(ok, "some items were good: {out}");
    assert!(out.contains("3 imported, 8 skipped"), "{out}");
    let expect = [
        ("notaudio.wav", "not a WAV file"),
        ("truncated.wav", "truncated"),
        ("empty.wav", "no audio samples"),
        ("silence.wav", "silence only"),
        ("nan.wav", "non-finite sample"),
        ("orphan.wav", "no transcript"),
        ("latin1.txt", "not UTF-8"),
        ("blank.wav", "empty transcript"),
    ];
    for (file, reason) in expect {
        assert!(
            out.lines()
                .any(|l| l.starts_with("skipped") && l.contains(file) && l.contains(reason)),
            "no skip line for {file} ({reason}) in:\n{out}"
        );
    }

    // A manifest naming a file that is not there.
    let m = h.join("in2");
    copy_items("control", &["005"], &m);
    std::fs::write(
        m.join("manifest.jsonl"),
        "{\"audio_filepath\": \"005.wav\", \"text\": \"ok\"}\n{\"audio_filepath\": \"gone.wav\", \"text\": \"x\"}\nnot json\n",
    )
    .unwrap();
    let (ok, out) = import(h, "bad", &m);
    assert!(ok && out.contains("1 imported, 2 skipped"), "{out}");
    assert!(out.contains("gone.wav is missing"), "{out}");
    assert!(
        out.contains("manifest.jsonl:3: not a manifest line"),
        "{out}"
    );
}

#[test]
fn a_failed_import_leaves_the_store_untouched() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    new_speaker(h, "keep");
    let good = h.join("good");
    copy_items("slow-muffled", &["001", "002", "003", "004", "005"], &good);
    assert!(import(h, "keep", &good).0);
    let store = h.join("speakers/keep");
    let before = checksums(&store);
    let old_manifest = std::fs::read_to_string(store.join("manifest.jsonl")).unwrap();

    // Nothing usable: exit status ≠ 0, every stored byte the same, no staging left behind.
    let bad = h.join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("a.wav"), "not audio").unwrap();
    std::fs::write(bad.join("a.txt"), "words").unwrap();
    write_wav(&bad.join("b.wav"), &[0.0; 8000], 16_000, 1, 16, false);
    std::fs::write(bad.join("b.txt"), "words").unwrap();
    let (ok, out) = import(h, "keep", &bad);
    assert!(!ok && out.contains("0 imported, 2 skipped"), "{out}");
    assert_eq!(checksums(&store), before);
    assert!(!import(h, "keep", &h.join("no/such/dir")).0);
    assert_eq!(checksums(&store), before);
    let unknown = attune(
        h,
        &[
            "enroll",
            "import",
            "--speaker",
            "nobody",
            good.to_str().unwrap(),
        ],
    );
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("attune speaker new nobody"));

    // A partly bad import adds files but changes none of those already stored.
    std::fs::copy(good.join("001.wav"), bad.join("c.wav")).unwrap();
    std::fs::write(bad.join("c.txt"), "one more").unwrap();
    assert!(import(h, "keep", &bad).0);
    let after = checksums(&store);
    for (path, sum) in &before {
        if path != Path::new("manifest.jsonl") {
            assert_eq!(after.get(path), Some(sum), "{path:?} changed");
        }
    }
    assert_eq!(after.len(), before.len() + 1);
    let new_manifest = std::fs::read_to_string(store.join("manifest.jsonl")).unwrap();
    assert!(new_manifest.starts_with(&old_manifest));
}

#[test]
fn the_split_is_deterministic_and_stable() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let control = repo("sample_data/speakers/control");
    for id in ["s1", "s2"] {
        new_speaker(h, id);
        assert!(import(h, id, &control).0);
    }
    let split = |id| {
        manifest(h, id)
            .into_iter()
            .map(|l| (l["text"].as_str().unwrap().to_string(), l["split"].clone()))
            .collect::<Vec<_>>()
    };
    let (a, b) = (split("s1"), split("s2"));
    assert_eq!(a, b, "same phrases, same split");
    let held = a.iter().filter(|(_, s)| s == "test").count();
    let dev = a.iter().filter(|(_, s)| s == "dev").count();
    println!(
        "control: {held} test and {dev} dev of {} utterances",
        a.len()
    );
    assert!((10..=30).contains(&held), "{held} test");
    assert!((7..=25).contains(&dev), "{dev} dev");

    // Adding utterances never moves old ones.
    assert!(import(h, "s1", &repo("sample_data/real")).0);
    let grown = split("s1");
    assert_eq!(&grown[..a.len()], &a[..]);

    // The training API returns the same partition.
    let home_dir = attune::store::Home::resolve(Some(h));
    let all = attune::store::speakers::SpeakerStore::new(&home_dir)
        .open("s2")
        .and_then(|sp| sp.utterances())
        .unwrap();
    let parts = attune::enroll::split::partition(all);
    assert_eq!(parts.test.len(), held);
    assert_eq!(parts.dev.len(), dev);
    assert_eq!(parts.train.len() + parts.dev.len() + parts.test.len(), 100);
    assert!(
        parts
            .train
            .iter()
            .chain(&parts.dev)
            .chain(&parts.test)
            .all(|u| u.audio.is_file() && u.speaker.as_deref() == Some("s2"))
    );
}
