//! Fuzz target `parse`: every framed line parsed before VER and in MSNP2..=12: no panic, errors
//! carry the line's TrID, commands carry its verb, TrID and payload.
//! The checks live in `msnpd::proto::fuzzing`, shared with the corpus replay test.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| msnpd::proto::fuzzing::parse(data));
