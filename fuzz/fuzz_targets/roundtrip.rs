//! Fuzz target `roundtrip`: every command the parser accepts, in every dialect, survives
//! parse ∘ encode (client-side encoder) through the codec.
//! The checks live in `msnpd::proto::fuzzing`, shared with the corpus replay test.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| msnpd::proto::fuzzing::roundtrip(data));
