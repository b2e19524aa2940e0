//! The ground floor: generic helpers every other module may use and that use nothing of attune's
//! own — private atomic file writes, a bounds-checked byte reader, wall-clock time and civil dates, hashing, a seeded RNG, quantiles.

pub mod atomic;
pub mod bytes;
pub mod hash;
pub mod names;
pub mod rng;
pub mod runtime_env;
pub mod stats;
pub mod time;
