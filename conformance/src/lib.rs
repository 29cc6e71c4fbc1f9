//! msnp-conform: a conformance suite for MSNP servers.
//!
//! It has its own MSNP client (`client`), a transcript case format (`case`,
//! files `cases/<role>/<area>/*.msnp`), a manifest describing the server under
//! test (`manifest`), the runner (`runner`), reports (`report`: human, JUnit
//! XML, JSON lines), the comparison of two reports (`compare`), and the verb
//! coverage of the cases (`registry`, `coverage`). It does not depend on
//! msnpd: any MSNP server with a manifest can be tested.
#![forbid(unsafe_code)]

pub mod case;
pub mod client;
pub mod compare;
pub mod coverage;
pub mod dialect;
pub mod manifest;
pub mod registry;
pub mod report;
pub mod runner;

pub use case::{Case, filter_cases, load_cases, parse_case};
pub use dialect::{Dialect, DialectSet};
pub use manifest::Manifest;
pub use runner::{CaseResult, Failure, Outcome, run_case, run_cases, run_cases_with};

/// The directory of the cases shipped with this crate.
pub fn shipped_cases_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")
}

/// Where `msnp-conform coverage` looks for the verb registry by default:
/// `protocol-spec/registry.toml` in the repository that holds this crate.
pub fn default_registry_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("protocol-spec")
        .join("registry.toml")
}
