//! Fuzz target: the CTranslate2 importer (`model::import::ct2_model`, then `encode_base`)
//! must refuse any bad input with an error: no panic, no abort, no outsized allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = attune::fuzzing::run("ct2", data);
});
