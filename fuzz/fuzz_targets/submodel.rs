//! Fuzz target: the submodel file reader (`Submodel::from_bytes`)
//! must refuse any bad input with an error: no panic, no abort, no outsized allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = attune::fuzzing::run("submodel", data);
});
