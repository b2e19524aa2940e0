//! End to end: little-data enrollment in the real binary (tmux). A sample speaker with 30
//! utterances (about 20 in its train part) is offered the instant submodel on the Enroll screen;
//! `f` fits it into the shipped space in one job, the submodel appears in the Library as an
//! embedding of `shipped:population`, and Compare's curve shows it as `inst`; then `u` trains the
//! enrollment curve (instant on 10, refined on 20 and all) and the refined point appears. Needs the
//! shipped space (`assets/space/population.safetensors`) built into the binary.

mod tui_common;

use tui_common::{MINUTE, Tmux, sample_speaker};

fn finished(s: &str) -> bool {
    s.contains(" finished: ") || s.contains(" failed: ")
}

#[test]
fn enroll_f_makes_an_instant_submodel_and_compare_u_its_curve() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    sample_speaker(&home, "tremor", 30);
    let t = Tmux::start("instant", &home, &["--train-steps", "2"], &[]);
    t.wait("the speakers", MINUTE, |s| s.contains("tremor"));

    t.keys(&["2"]);
    t.wait("the instant offer", MINUTE, |s| {
        s.contains("f instant submodel from the shipped space (seconds)")
    });
    t.keys(&["f"]);
    let done = t.wait("the instant fit to finish", 20 * MINUTE, finished);
    assert!(
        done.contains("training finished: tremor-v1"),
        "the fit failed (is assets/space/population.safetensors built in?):\n{done}"
    );

    // The Library lists it as an embedding submodel of the shipped space.
    t.keys(&["5"]);
    let lib = t.wait("tremor-v1's details", MINUTE, |s| {
        s.contains("tremor-v1: speaker tremor, space shipped:population")
    });
    let row = lib.lines().find(|l| l.contains("│tremor-v1 ")).unwrap();
    assert!(row.contains("embedding"), "{lib}");

    // Compare's curve shows it as instant, then `u` adds the refined point.
    t.keys(&["4"]);
    t.wait("the instant point", MINUTE, |s| s.contains(" inst "));
    t.keys(&["u"]);
    t.wait("the curve's first stage", MINUTE, |s| {
        s.contains("curve 1/")
    });
    // The instant fit's " finished: " may still be on screen; wait for the curve's own result.
    let done = t.wait("the curve to finish", 20 * MINUTE, |s| {
        s.contains(" failed: ") || s.contains("the curve of tremor finished")
    });
    assert!(done.contains("the curve of tremor finished"), "{done}");
    t.keys(&["4"]); // dismisses the notice over the curve
    let curve = t.wait("the refined point", MINUTE, |s| s.contains(" ref "));
    assert!(
        curve.contains("test WER by training utterances (u): base"),
        "{curve}"
    );
    t.quit();
    assert!(home.join("library/tremor-v3.safetensors").is_file());
}
