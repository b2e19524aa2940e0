//! End to end (tmux): the Library screen's `x` on a LoRA submodel lists every format, exports it
//! merged for faster-whisper (ct2) to a typed folder off the UI thread, and reports the result.

mod base_common;
use base_common::shipped_base;

mod tui_common;

use attune::library;
use attune::model::Whisper;
use attune::serve::synthetic;
use attune::store::Home;
use attune::submodel::{Kind, Spec};
use candle_core::Device;
use tui_common::{MINUTE, Tmux, sample_speaker};

#[test]
fn x_exports_a_lora_submodel_merged_for_faster_whisper() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    sample_speaker(&home, "control", 3);
    let (model, _) = Whisper::load(&shipped_base(), &Device::Cpu).unwrap();
    let cfg = &model.config;
    let spec = Spec {
        alpha: 4.0,
        ..Spec::new(Kind::Lora, 4)
    };
    let mut sub = synthetic::submodel(
        &spec,
        (cfg, &model.hash, &cfg.name),
        "control",
        1,
        0.01,
        &Device::Cpu,
    )
    .unwrap();
    library::add(&Home { root: home.clone() }, &mut sub).unwrap();
    let out = dir.path().join("exported-ct2");

    let t = Tmux::start("export", &home, &[], &[]);
    t.wait("the speakers", MINUTE, |s| s.contains("control"));
    t.keys(&["5"]);
    t.wait("the formats of the LoRA submodel", MINUTE, |s| {
        s.contains("exports to: file, peft, ct2, ggml, hf")
    });
    t.keys(&["x"]);
    t.wait("the format chooser", MINUTE, |s| {
        s.contains("Export control-v1 as") && s.contains("ct2 — merged model directory")
    });
    t.keys(&["Down", "Down", "Enter"]);
    t.wait("the destination field", MINUTE, |s| {
        s.contains("as ct2 to (a folder") && s.contains("control-v1-ct2")
    });
    for _ in 0.."control-v1-ct2".len() {
        t.keys(&["BSpace"]);
    }
    t.type_text(&out.display().to_string());
    t.keys(&["Enter"]);
    let done = t.wait("the export to finish", 5 * MINUTE, |s| {
        s.contains("merged into tiny.en") || s.contains("error")
    });
    assert!(done.contains("exported control-v1 (lora)"), "{done}");
    t.quit();
    for f in [
        "model.bin",
        "config.json",
        "vocabulary.json",
        "tokenizer.json",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
}
