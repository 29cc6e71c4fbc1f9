//! Fuzzing and property-test harnesses for the codec: functions that take
//! arbitrary bytes, run them through the framer and the parser, and panic when an
//! invariant breaks. The cargo-fuzz targets in `fuzz/`, the corpus replay test and
//! the proptest suite all call these same functions, so a crash found by one is
//! reproduced by the others.
//!
//! Not part of msnpd's API: hidden from the docs, and it panics by design.

mod encode;
mod framing;
mod parse;
mod reference;

pub use encode::{encode_command, frame_bytes};
pub use framing::{
    End, Outcome, PRODUCTION_LIMITS, TINY_LIMITS, check_frame, decode_pieces, framing,
    pseudo_random_pieces,
};
pub use parse::{check_parse, check_roundtrip, dialects, frames_of, parse, roundtrip};
pub use reference::reference_decode;

/// A harness: takes arbitrary bytes, panics if an invariant breaks.
pub type Harness = fn(&[u8]);

/// Every fuzz target: its name (the `fuzz/fuzz_targets/` file and the
/// `fuzz/corpus/` directory) and the harness it runs.
pub const TARGETS: [(&str, Harness); 3] = [
    ("framing", framing),
    ("parse", parse),
    ("roundtrip", roundtrip),
];
