//! The UI stays responsive while training runs: keys pressed through the real event loop, worker
//! and App (drawing into a TestBackend) while a real training job computes, each answered by a
//! frame well within 100 ms at the 95th percentile. (`attune bench tui` prints the figures.)

mod base_common;
use base_common::shipped_base;

use attune::store::Home;
use attune::tui::bench::{key_latency, seed_speaker};
use attune::workflow::Workspace;

#[test]
fn keys_are_answered_quickly_while_a_training_job_runs() {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::at(Home::resolve(Some(dir.path())), &shipped_base());
    seed_speaker(&ws, "tremor").unwrap();
    let l = key_latency(&ws, 40, 1000).unwrap();
    eprintln!(
        "key-to-frame while training (step {}): p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        l.steps_seen,
        l.quantile(0.5),
        l.quantile(0.95),
        l.quantile(1.0)
    );
    assert_eq!(l.samples_ms.len(), 40);
    assert!(l.steps_seen >= 1, "the keys were pressed while steps ran");
    assert!(l.quantile(0.95) < 100.0, "p95 {:.1} ms", l.quantile(0.95));
}
