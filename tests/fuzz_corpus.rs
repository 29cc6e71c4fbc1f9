//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/*`) through the same
//! harness functions the cargo-fuzz targets run, so `cargo test` catches a
//! regression of any input the fuzzers (or we) ever saved, without cargo-fuzz.

use std::fs;
use std::path::{Path, PathBuf};

use msnpd::proto::fuzzing::TARGETS;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus")
}

/// The files of one target's corpus, sorted.
fn files(target: &str) -> Vec<PathBuf> {
    let dir = corpus_dir().join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_directory_has_a_target() {
    for entry in fs::read_dir(corpus_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            TARGETS.iter().any(|(target, _)| *target == name),
            "fuzz/corpus/{name} has no harness in msnpd::proto::fuzzing::TARGETS"
        );
    }
}

#[test]
fn corpus_replays_without_a_failure() {
    for (target, harness) in TARGETS {
        let files = files(target);
        assert!(files.len() >= 11, "{target}: at least one seed per dialect");
        for path in files {
            let data = fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| harness(&data));
            assert!(outcome.is_ok(), "{target}: {} fails", path.display());
        }
    }
}

/// Every dialect has a real notification-server transcript that parses without
/// a single error in that dialect (the seeds are valid traffic, not noise).
#[test]
fn dialect_seeds_are_valid_traffic() {
    use msnpd::proto::Dialect;
    use msnpd::proto::fuzzing::{check_parse, frames_of};
    for version in 2..=12u8 {
        let dialect = Dialect::new(version).unwrap();
        for role in ["ns", "sb-caller", "sb-callee"] {
            let path = corpus_dir().join(format!("parse/msnp{version:02}-{role}"));
            let data = fs::read(&path).unwrap();
            let frames = frames_of(&data);
            assert!(frames.len() >= 3, "{}", path.display());
            for frame in frames {
                assert!(
                    check_parse(Some(dialect), &frame).is_ok(),
                    "{}: {:?} does not parse in {dialect}",
                    path.display(),
                    frame.line
                );
            }
        }
    }
}
