//! The submodel cache: hot-loads from the library, evicts the least recently used, refuses
//! submodels of another base, and keeps handed-out submodels valid after eviction.

use std::sync::Arc;

use attune::library::latest_by_speaker;
use attune::library::{self, LibraryError};
use attune::model::WhisperConfig;
use attune::serve::{CacheStats, SubmodelCache, synthetic};
use attune::store::Home;
use attune::submodel::{Kind, Spec, SubmodelError};
use candle_core::Device;

fn library_with(speakers: &[&str], base: &str) -> (tempfile::TempDir, Home) {
    let dir = tempfile::tempdir().unwrap();
    let home = Home {
        root: dir.path().to_path_buf(),
    };
    let cfg = WhisperConfig::tiny_test();
    for (i, s) in speakers.iter().enumerate() {
        let spec = Spec::new(Kind::Lora, 2);
        let mut sub =
            synthetic::submodel(&spec, (&cfg, base, "test"), s, i as u64, 0.1, &Device::Cpu)
                .unwrap();
        library::add(&home, &mut sub).unwrap();
    }
    (dir, home)
}

#[test]
fn evicts_the_least_recently_used() {
    let (_t, home) = library_with(&["a", "b", "c", "d"], "H");
    let cache = SubmodelCache::new(home, "H", Device::Cpu, 2);
    let a = cache.get("a-v1").unwrap();
    cache.get("b-v1").unwrap();
    assert!(
        Arc::ptr_eq(&a, &cache.get("a-v1").unwrap()),
        "a hit returns the same submodel"
    );
    assert_eq!(cache.resident(), ["b-v1", "a-v1"]);
    cache.get("c-v1").unwrap(); // b is the least recently used
    assert_eq!(cache.resident(), ["a-v1", "c-v1"]);
    cache.get("a-v1").unwrap();
    cache.get("d-v1").unwrap(); // now c is
    assert_eq!(cache.resident(), ["a-v1", "d-v1"]);
    assert_eq!(
        cache.stats(),
        CacheStats {
            hits: 2,
            misses: 4,
            evictions: 2
        }
    );
    cache.get("b-v1").unwrap(); // reloaded from disk
    assert_eq!(cache.resident(), ["d-v1", "b-v1"]);
    assert_eq!(
        a.meta.speaker, "a",
        "an evicted submodel handed out stays usable"
    );
    cache.invalidate("d-v1");
    assert_eq!(cache.resident(), ["b-v1"]);
}

#[test]
fn capacity_zero_always_loads() {
    let (_t, home) = library_with(&["a"], "H");
    let cache = SubmodelCache::new(home, "H", Device::Cpu, 0);
    let (x, y) = (cache.get("a-v1").unwrap(), cache.get("a-v1").unwrap());
    assert!(!Arc::ptr_eq(&x, &y));
    assert!(cache.resident().is_empty());
    assert_eq!(cache.stats().misses, 2);
}

#[test]
fn refuses_missing_and_other_base_submodels() {
    let (_t, home) = library_with(&["a"], "OTHER");
    let cache = SubmodelCache::new(home.clone(), "H", Device::Cpu, 4);
    let err = cache.get("a-v1").unwrap_err();
    assert!(
        matches!(err, LibraryError::Submodel(SubmodelError::WrongBase { .. })),
        "{err}"
    );
    assert!(matches!(
        cache.get("zed-v1").unwrap_err(),
        LibraryError::NotFound { .. }
    ));
    assert!(cache.resident().is_empty());
}

#[test]
fn each_speaker_is_served_by_its_newest_version() {
    let (_t, home) = library_with(&["a", "b", "a", "a"], "H");
    let latest = latest_by_speaker(&home).unwrap();
    assert_eq!(latest["a"], "a-v3");
    assert_eq!(latest["b"], "b-v1");
    assert_eq!(latest.len(), 2);
}
