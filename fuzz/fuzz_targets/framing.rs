//! Fuzz target `framing`: MsnpCodec fed arbitrary bytes whole, byte by byte and in pseudo-random
//! pieces: no panic, bounded buffering, split-independent outcome, well-formed frames.
//! The checks live in `msnpd::proto::fuzzing`, shared with the corpus replay test.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| msnpd::proto::fuzzing::framing(data));
