//! The personalize workflow's requests and data split: recipes and overrides as recorded,
//! job keys and descriptions, and that training never reads a test utterance.

use super::*;
use crate::enroll::split::{Split, split_for};
use crate::train::{HYBRID_RECIPE_VERSION, RECIPE_VERSION, RESIDUAL_RECIPE_VERSION};

/// By construction: what a job trains and selects on never includes a test phrase, and the
/// test part is exactly the rest.
#[test]
fn training_never_reads_a_test_utterance() {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::scratch(dir.path());
    crate::workflow::speakers::create(&ws, "s", None, "", None, None).unwrap();
    let sp = SpeakerStore::new(&ws.home).open("s").unwrap();
    let mut batch = sp.begin().unwrap();
    let phrases = crate::enroll::prompts::default_prompts();
    for p in &phrases[..60] {
        batch.add(&[0.1; 1600], p, None, "").unwrap();
    }
    batch.commit().unwrap();
    let stored = speaker_sets(&ws, &["s".into()], Some(1000)).unwrap();
    let set = &stored.sets[0];
    assert!(!set.train.is_empty() && !set.dev.is_empty());
    assert!(set.train.iter().all(|u| split_for(&u.text) == Split::Train));
    assert!(set.dev.iter().all(|u| split_for(&u.text) == Split::Dev));
    let test = &stored.tests["s"].test;
    assert!(!test.is_empty() && test.iter().all(|u| split_for(&u.text) == Split::Test));
    assert_eq!(set.train.len() + set.dev.len() + test.len(), 60);
    // --limit keeps the first N training utterances only.
    let limited = speaker_sets(&ws, &["s".into()], Some(5)).unwrap();
    assert_eq!(limited.sets[0].train.len(), 5);
    assert_eq!(limited.sets[0].dev.len(), set.dev.len());
}

/// The recipe name a submodel's metadata records: the default says so, a departure is listed.
#[test]
fn the_recipe_name_records_the_recipe_and_every_override() {
    let mut req = Request::new(vec!["s".into()]);
    let default = req.config();
    assert_eq!(
        default.recipe,
        format!("{DEFAULT_KIND}-{RESIDUAL_RECIPE_VERSION} (default)")
    );
    req.overrides.lr = Some(1e-3);
    req.overrides.max_steps = Some(40);
    req.overrides.batch = Some(default.batch); // the recipe's own value: no departure
    assert_eq!(
        req.config().recipe,
        format!("{DEFAULT_KIND}-{RESIDUAL_RECIPE_VERSION} (default), max steps 40, lr 0.001")
    );
    // The default averages over the second half of whichever budget it runs.
    assert_eq!(default.average_from, Some(default.max_steps / 2));
    assert_eq!(req.config().average_from, Some(20));
    // Recipe 5 perturbs the speed by default: the same factors are no departure.
    assert_eq!(default.speeds, crate::train::DEFAULT_SPEEDS);
    req.overrides.speeds = Some(vec![0.9, 1.1]);
    assert!(!req.config().recipe.contains("speed"));
    req.overrides.average_from = Some(30);
    req.overrides.speeds = Some(vec![0.8, 1.2]);
    let c = req.config();
    assert_eq!(
        (c.average_from, c.speeds.as_slice()),
        (Some(30), &[0.8, 1.2][..])
    );
    assert!(
        c.recipe
            .ends_with("mean of evaluations from step 30, speeds 0.8/1.2"),
        "{}",
        c.recipe
    );
    req.overrides.speeds = Some(Vec::new());
    let c = req.config();
    assert!(c.speeds.is_empty());
    assert!(c.recipe.ends_with("no speed perturbation"), "{}", c.recipe);
    req.plan = Plan::Adapters {
        kind: Kind::Lora,
        rank: 8,
    };
    req.overrides = Overrides::default();
    assert_eq!(
        req.config().recipe,
        format!("lora-{RECIPE_VERSION}, rank 8")
    );
    assert_eq!(
        (req.config().average_from, req.config().speeds.len()),
        (None, 0),
        "only the residual recipe averages and perturbs the speed"
    );
    req.plan = Plan::FromSpace { name: None };
    assert_eq!(
        req.config().recipe,
        format!("embedding-fit-{}", crate::train::FIT_VERSION)
    );
    req.plan = Plan::default();
    req.start = Some("s-v1".into());
    assert_eq!(
        req.config().recipe,
        format!("{DEFAULT_KIND}-{RESIDUAL_RECIPE_VERSION} (default), refined from s-v1")
    );
    let json = serde_json::to_value(&default).unwrap();
    assert_eq!(
        json["recipe"],
        default.recipe.as_str(),
        "saved with the hyper-parameters"
    );
}

/// Recipe 4: the default residual adapter (and a hybrid since its recipe 4) starts from an
/// instant fit in the shipped space; `from_zero`, another rank (the space generates r32) or a
/// refine start elsewhere, and LoRA never fits.
#[test]
fn the_residual_recipes_start_from_an_instant_fit() {
    let mut req = Request::new(vec!["s".into()]);
    assert_eq!(
        req.config().instant_start.as_deref(),
        Some(spaces::SHIPPED_NAME)
    );
    assert_eq!(
        req.describe(),
        "s: residual r32 from an instant fit, 240 steps"
    );
    let plain = serde_json::to_string(&req.overrides).unwrap();
    assert!(!plain.contains("from_zero"), "{plain}");
    req.overrides.from_zero = true;
    let c = req.config();
    assert_eq!(c.instant_start, None);
    assert_eq!(
        c.recipe,
        format!("residual-{RESIDUAL_RECIPE_VERSION} (default), from zero")
    );
    assert_eq!(req.describe(), "s: residual r32, 240 steps");
    req.overrides.from_zero = false;
    req.plan = Plan::Adapters {
        kind: Kind::Residual,
        rank: 16,
    };
    let c = req.config();
    assert_eq!(c.instant_start, None);
    assert!(c.recipe.ends_with("rank 16, from zero"), "{}", c.recipe);
    req.plan = Plan::Adapters {
        kind: Kind::Lora,
        rank: DEFAULT_RANK,
    };
    let c = req.config();
    assert_eq!(c.instant_start, None);
    assert_eq!(c.recipe, format!("lora-{RECIPE_VERSION}"));
    // Hybrid recipe 4: the residual recipe for its residual part.
    req.plan = Plan::Adapters {
        kind: Kind::Hybrid,
        rank: DEFAULT_RANK,
    };
    let c = req.config();
    assert_eq!(c.instant_start.as_deref(), Some(spaces::SHIPPED_NAME));
    assert_eq!(c.recipe, format!("hybrid-{HYBRID_RECIPE_VERSION}"));
    let residual = TrainConfig::recipe(Kind::Residual, DEFAULT_RANK);
    assert_eq!(c.speeds, residual.speeds);
    assert_eq!(
        (c.lr, residual.lr),
        (2e-3, 3e-3),
        "the hybrid keeps the rate its recipe 4 was measured with; residual recipe 10 peaks at 3e-3"
    );
    assert_eq!((c.max_steps, c.average_from), (180, Some(90)));
    assert_eq!(
        req.describe(),
        "s: hybrid r32 from an instant fit, 180 steps"
    );
    req.plan = Plan::default();
    req.start = Some("s-v1".into());
    assert_eq!(req.config().instant_start, None);
}

/// `lora_alpha` scales a hybrid's or LoRA's updates and is named in the recipe; a kind without
/// LoRA updates, or a scale that is not positive, is refused before anything runs. Without it
/// a request serializes as before the option existed (same job key, so older jobs resume).
#[test]
fn lora_alpha_scales_the_lora_kinds_and_is_refused_elsewhere() {
    let mut req = Request::new(vec!["s".into()]);
    let plain = serde_json::to_string(&req.overrides).unwrap();
    assert!(!plain.contains("lora_alpha"), "{plain}");
    req.plan = Plan::Adapters {
        kind: Kind::Hybrid,
        rank: DEFAULT_RANK,
    };
    assert_eq!(
        req.config().spec.alpha,
        8.0,
        "hybrid default: its LoRA rank"
    );
    req.overrides.lora_alpha = Some(2.0);
    let c = req.config();
    assert_eq!(c.spec.alpha, 2.0);
    assert_eq!(c.spec.lora_rank(), 8);
    assert_eq!(
        c.recipe,
        format!("hybrid-{HYBRID_RECIPE_VERSION}, lora alpha 2")
    );
    assert!(req.check().is_ok());
    req.overrides.lora_alpha = Some(8.0);
    assert_eq!(
        req.config().recipe,
        format!("hybrid-{HYBRID_RECIPE_VERSION}")
    );
    for bad in [0.0, -1.0, f64::NAN] {
        req.overrides.lora_alpha = Some(bad);
        let e = req.check().unwrap_err().to_string();
        assert!(e.contains("positive"), "{e}");
    }
    req.overrides.lora_alpha = Some(2.0);
    req.plan = Plan::default();
    let e = req.check().unwrap_err().to_string();
    assert!(e.contains("residual submodel has no LoRA"), "{e}");
    req.plan = Plan::Adapters {
        kind: Kind::Lora,
        rank: 4,
    };
    assert_eq!(req.config().spec.alpha, 2.0);
    assert!(req.check().is_ok());
}

/// `spec_augment` sets the widths of the recipe's two time and two frequency masks and is named
/// in the recipe; the recipe's own widths change nothing; `(0, 0)` turns masking off.
#[test]
fn spec_augment_widths_are_named_in_the_recipe() {
    let mut req = Request::new(vec!["s".into()]);
    let plain = serde_json::to_string(&req.overrides).unwrap();
    assert!(!plain.contains("spec_augment"), "{plain}");
    let recipe = req.config();
    let a = recipe.augment;
    assert_eq!(
        (a.time_masks, a.max_time, a.freq_masks, a.max_freq),
        (2, 20, 2, 8)
    );
    req.overrides.spec_augment = Some((40, 15));
    let c = req.config();
    let a = c.augment;
    assert_eq!(
        (a.time_masks, a.max_time, a.freq_masks, a.max_freq),
        (2, 40, 2, 15)
    );
    assert_eq!(c.recipe, format!("{}, spec augment 40/15", recipe.recipe));
    req.overrides.spec_augment = Some((20, 8));
    assert_eq!(req.config().recipe, recipe.recipe);
    req.overrides.spec_augment = Some((0, 0));
    let c = req.config();
    assert!(c.augment.is_off());
    assert!(c.recipe.ends_with("spec augment 0/0"), "{}", c.recipe);
}

/// A learning-rate floor departs from the recipe (named in it) and must be a fraction in (0, 1].
#[test]
fn lr_floor_is_named_and_checked() {
    let mut req = Request::new(vec!["s".into()]);
    let recipe = req.config();
    assert_eq!(
        recipe.lr_floor, 1.0,
        "residual recipes 9 and 10 keep their peak rate"
    );
    assert_eq!(
        recipe.lr_floor,
        crate::train::recipe_lr_floor(recipe.spec.kind)
    );
    req.overrides.lr_floor = Some(1.0);
    assert_eq!(req.config().recipe, recipe.recipe);
    req.overrides.lr_floor = Some(0.1);
    let c = req.config();
    assert_eq!(c.lr_floor, 0.1);
    assert_eq!(c.recipe, format!("{}, lr floor 0.1", recipe.recipe));
    assert!(req.check().is_ok());
    for bad in [0.0, -0.5, 1.5, f64::NAN] {
        req.overrides.lr_floor = Some(bad);
        let e = req.check().unwrap_err().to_string();
        assert!(e.contains("lr floor"), "{e}");
    }
}

/// Masks that would blank a whole utterance are refused, naming the base's limits; the widest
/// that still leave something (and none at all) pass.
#[test]
fn spec_augment_widths_must_fit_the_base() {
    let wcfg = crate::model::config::WhisperConfig::tiny_test(); // 8 mel bins, 64 frames
    let mut req = Request::new(vec!["s".into()]);
    assert!(req.check_masks(&wcfg).is_ok());
    for ok in [(63, 7), (0, 0)] {
        req.overrides.spec_augment = Some(ok);
        assert!(req.check_masks(&wcfg).is_ok(), "{ok:?}");
    }
    for bad in [(64, 0), (0, 8), (3000, 80)] {
        req.overrides.spec_augment = Some(bad);
        let e = req.check_masks(&wcfg).unwrap_err().to_string();
        assert!(e.contains("64 frames") && e.contains("8 mel bins"), "{e}");
    }
}

/// A space job's joint steps are recorded in its recipe and description; without them the
/// request serializes as before the option existed, so an older interrupted job resumes.
#[test]
fn a_space_jobs_joint_steps_are_recorded_and_zero_keeps_older_job_keys() {
    let mut req = Request::new(vec!["a".into(), "b".into(), "c".into()]);
    req.plan = Plan::Space {
        name: "pop".into(),
        dim: 2,
        rank: DEFAULT_RANK,
        joint_steps: 0,
    };
    let plain = serde_json::to_string(&req.plan).unwrap();
    assert_eq!(plain, r#"{"mode":"space","name":"pop","dim":2,"rank":32}"#);
    assert!(!req.config().recipe.contains("joint"));
    assert_eq!(
        req.describe(),
        "3 speakers (a, b, c): space pop (m = 2), 120 steps"
    );
    let Plan::Space { joint_steps, .. } = &mut req.plan else {
        unreachable!()
    };
    *joint_steps = 20;
    assert!(req.config().recipe.ends_with("then 20 joint steps"));
    assert!(req.describe().contains("space pop (m = 2, 20 joint steps)"));
    let back: Plan = serde_json::from_str(&plain).unwrap();
    assert!(matches!(back, Plan::Space { joint_steps: 0, .. }));
}
