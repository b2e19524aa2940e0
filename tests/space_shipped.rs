//! The shipped speaker-embedding space with the shipped base and a real sample speaker: it loads
//! for its base (and is refused for another), holds none of the sample speakers, an instant fit
//! changes only the embedding (the space file is untouched and the adapter is exactly what the
//! space generates from it), a refine starts from the instant submodel's adapter, and the
//! default recipe (a fused job too) starts from each speaker's instant fit on its own, as does a
//! hybrid's residual part (its decoder LoRA fresh).

use std::sync::atomic::AtomicBool;

use attune::library;
use attune::submodel::space::{EMBEDDING, Space, generate};
use attune::submodel::{AdapterTable, Kind, SubmodelError};
use attune::train::{DEFAULT_RANK, START_FIT_BATCH, START_FIT_STEPS, TrainEvent};
use attune::workflow::Workspace;
use attune::workflow::enroll::add_samples;
use attune::workflow::personalize::{self, Plan, Request};
use attune::workflow::spaces::{self, SHIPPED_FILE, SHIPPED_NAME};
use candle_core::{Device, Tensor};

const SAMPLES: [&str; 5] = [
    "accent-de",
    "accent-fr",
    "control",
    "slow-muffled",
    "tremor",
];

fn max_diff(a: &AdapterTable, b: &AdapterTable) -> f32 {
    assert_eq!(
        a.tensors.keys().collect::<Vec<_>>(),
        b.tensors.keys().collect::<Vec<_>>()
    );
    a.tensors
        .iter()
        .map(|(k, t)| {
            let d = (t - &b.tensors[k]).unwrap().abs().unwrap().flatten_all();
            d.unwrap().max(0).unwrap().to_scalar::<f32>().unwrap()
        })
        .fold(0.0, f32::max)
}

fn without_embedding(t: &AdapterTable) -> AdapterTable {
    let mut t = t.clone();
    t.tensors.remove(EMBEDDING);
    t
}

#[test]
fn the_shipped_space_loads_for_its_base_and_holds_no_sample_speaker() {
    let home = tempfile::tempdir().unwrap();
    let ws = Workspace::new(Some(home.path()), None);
    let rec = ws.recognizer(false).unwrap();
    let (space, label) = spaces::load(&ws, &rec, None).unwrap();
    assert_eq!(label, SHIPPED_NAME);
    assert_eq!(space.meta.base_hash, rec.model.hash);
    assert_eq!(space.meta.spec.kind, Kind::Embedding);
    let m = space.meta.dim;
    assert!(m >= 2 && m < space.meta.speakers.len(), "m = {m}");
    assert_eq!(space.e.dims(), &[space.meta.speakers.len(), m]);
    for s in &space.meta.speakers {
        assert!(!SAMPLES.contains(&s.as_str()), "{s} is a sample speaker");
    }
    let explained = &space.meta.explained;
    assert_eq!(explained.len(), m);
    assert!(explained.windows(2).all(|w| w[0] >= w[1]) && explained.iter().sum::<f64>() <= 1.0);
    for (name, shape) in space.shapes(&rec.model.config) {
        let n: usize = shape.iter().product();
        assert_eq!(space.g[&name].dims(), &[m, n], "G.{name}");
        assert_eq!(space.b[&name].dims(), &[n], "b.{name}");
    }
    // The fit starts at the prior mean: the population's mean adapter, `b` itself.
    let zero = space.start_embedding().unwrap();
    let start = generate(
        &space.meta.spec,
        &space.shapes(&rec.model.config),
        &zero,
        &space.g,
        &space.b,
    )
    .unwrap();
    for (name, b) in &space.b {
        let flat = start.tensors[name].flatten_all().unwrap();
        let d: f32 = (flat - b)
            .unwrap()
            .abs()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar()
            .unwrap();
        assert_eq!(d, 0.0, "{name}");
    }
    // Refused for another base, naming the file.
    let path = ws.shipped_space_dir().unwrap().join(SHIPPED_FILE);
    match Space::load(&path, "another-base", &Device::Cpu) {
        Err(SubmodelError::WrongBase { file, .. }) => assert_eq!(file, path),
        other => panic!("expected WrongBase, got {other:?}"),
    }
}

#[test]
fn an_instant_fit_changes_only_the_embedding_and_a_refine_starts_from_it() {
    let home = tempfile::tempdir().unwrap();
    let ws = Workspace::new(Some(home.path()), None);
    add_samples(&ws, &["control".into(), "tremor".into()], |_, _| {}).unwrap();
    let rec = ws.recognizer(false).unwrap();
    let space_path = ws.shipped_space_dir().unwrap().join(SHIPPED_FILE);
    let before = std::fs::read(&space_path).unwrap();
    let never = AtomicBool::new(false);
    let mut quiet = |_: TrainEvent| {};

    // Fit 4's settings (the default recipe's start, compared with below) on the instant fit.
    let mut fit = Request::new(vec!["control".into()]);
    fit.plan = Plan::FromSpace { name: None };
    fit.limit = Some(10);
    fit.overrides.max_steps = Some(START_FIT_STEPS);
    fit.overrides.batch = Some(START_FIT_BATCH);
    let out = personalize::run(&ws, &rec, &fit, false, &mut quiet, &never).unwrap();
    let instant_id = out.saved[0].submodel.clone();
    let instant = ws.submodel(&instant_id, &rec).unwrap();
    assert_eq!(instant.meta.spec.kind, Kind::Embedding);
    assert_eq!(instant.meta.space.as_deref(), Some(SHIPPED_NAME));
    assert_eq!(instant.meta.trained_on.len(), 10);
    assert!(instant.meta.metrics.is_some(), "scored on the test part");
    assert_eq!(
        std::fs::read(&space_path).unwrap(),
        before,
        "the space file changed"
    );
    // Only the embedding moved: the adapter is exactly the space's image of it.
    let (space, _) = spaces::load(&ws, &rec, None).unwrap();
    let e: &Tensor = &instant.table.tensors[EMBEDDING];
    let moved: f32 = e.abs().unwrap().sum_all().unwrap().to_scalar().unwrap();
    assert!(moved > 0.0, "the embedding did not train");
    let want = generate(
        &space.meta.spec,
        &space.shapes(&rec.model.config),
        e,
        &space.g,
        &space.b,
    )
    .unwrap();
    assert!(max_diff(&instant.table, &want) < 1e-6);

    // Refine with no steps: the result is the instant submodel's adapter, as a residual one.
    let mut refine = Request::new(vec!["control".into()]);
    refine.start = Some(instant_id.clone());
    refine.overrides.max_steps = Some(0);
    let out = personalize::run(&ws, &rec, &refine, false, &mut quiet, &never).unwrap();
    let refined = ws.submodel(&out.saved[0].submodel, &rec).unwrap();
    assert_eq!(refined.meta.spec.kind, Kind::Residual);
    assert_eq!(refined.meta.spec.rank, instant.meta.spec.rank);
    assert_eq!(refined.meta.parent.as_deref(), Some(instant_id.as_str()));
    let recipe = refined.meta.hyper["recipe"].as_str().unwrap().to_string();
    assert!(
        recipe.contains(&format!(", refined from {instant_id}")),
        "{recipe}"
    );
    assert_eq!(
        max_diff(&refined.table, &without_embedding(&instant.table)),
        0.0
    );

    // The default recipe fits its own start: with no steps, a fused job's adapters are each
    // speaker's instant submodel (control's is the one above), recorded as such.
    let mut default = Request::new(vec!["control".into(), "tremor".into()]);
    default.overrides.max_steps = Some(0);
    let mut events = Vec::new();
    let out =
        personalize::run(&ws, &rec, &default, false, &mut |e| events.push(e), &never).unwrap();
    assert!(events.iter().any(|e| matches!(
        e,
        TrainEvent::InstantStart { space, speakers: 2, utterances: 10 } if space == SHIPPED_NAME
    )));
    let started = ws.submodel(&out.saved[0].submodel, &rec).unwrap();
    assert_eq!(started.meta.speaker, "control");
    assert_eq!(started.meta.spec.kind, Kind::Residual);
    assert_eq!(started.meta.hyper["instant_start"], SHIPPED_NAME);
    let recipe = started.meta.hyper["recipe"].as_str().unwrap();
    assert_eq!(recipe, "residual-10 (default), max steps 0");
    assert!(max_diff(&started.table, &without_embedding(&instant.table)) < 1e-5);
    let tremor = ws.submodel(&out.saved[1].submodel, &rec).unwrap();
    assert!(
        !tremor.table.is_identity().unwrap(),
        "tremor started from zero"
    );
    assert!(
        max_diff(&tremor.table, &started.table) > 1e-3,
        "one start for both"
    );

    // A hybrid (since its recipe 4) starts the same way: its residual part is each speaker's
    // fit, its decoder LoRA exactly as fresh as a job from zero makes it (its output half zero,
    // so the start computes what the fit does); a refine of the instant submodel likewise.
    let mut hybrid = default.clone();
    hybrid.plan = Plan::Adapters {
        kind: Kind::Hybrid,
        rank: DEFAULT_RANK,
    };
    let mut zero = hybrid.clone();
    zero.overrides.from_zero = true;
    let mut refine_hybrid = hybrid.clone();
    refine_hybrid.speakers = vec!["control".into()];
    refine_hybrid.start = Some(instant_id.clone());
    let [hybrid, zero, refined] = [hybrid, zero, refine_hybrid].map(|req| {
        let out = personalize::run(&ws, &rec, &req, false, &mut quiet, &never).unwrap();
        ws.submodel(&out.saved[0].submodel, &rec).unwrap()
    });
    assert_eq!(hybrid.meta.spec.kind, Kind::Hybrid);
    assert_eq!(hybrid.meta.hyper["instant_start"], SHIPPED_NAME);
    let recipe = hybrid.meta.hyper["recipe"].as_str().unwrap();
    assert_eq!(recipe, "hybrid-4, max steps 0");
    assert!(zero.table.is_identity().unwrap(), "from zero is the base");
    let (lora, residual): (Vec<_>, Vec<_>) = hybrid
        .table
        .tensors
        .keys()
        .cloned()
        .partition(|k| !k.starts_with("res."));
    assert!(!lora.is_empty() && !residual.is_empty(), "{residual:?}");
    let part = |t: &AdapterTable, names: &[String]| AdapterTable {
        spec: t.spec.clone(),
        speakers: t.speakers,
        tensors: names
            .iter()
            .map(|k| (k.clone(), t.tensors[k].clone()))
            .collect(),
    };
    for h in [&hybrid, &refined] {
        assert_eq!(
            max_diff(&part(&h.table, &lora), &part(&zero.table, &lora)),
            0.0
        );
    }
    assert_eq!(
        max_diff(&part(&hybrid.table, &residual), &started.table),
        0.0,
        "the hybrid's residual part is the residual job's start"
    );
    assert_eq!(
        max_diff(
            &part(&refined.table, &residual),
            &without_embedding(&instant.table)
        ),
        0.0
    );

    // Another speaker's submodel cannot start tremor's job; nothing is added.
    let count = library::list(&ws.home).unwrap().0.len();
    refine.speakers = vec!["tremor".into()];
    let err = personalize::run(&ws, &rec, &refine, false, &mut quiet, &never).unwrap_err();
    assert!(err.to_string().contains("control's submodel"), "{err}");
    assert_eq!(library::list(&ws.home).unwrap().0.len(), count);
}
