//! msnpd: a server for the MSN Messenger protocol family (MSNP2–MSNP12).
//!
//! Layers (see DESIGN §3): `proto` (codec, no I/O), `core` (domain rules), `server`
//! (listeners, connection actors, role handlers), `store` (SQLite/PostgreSQL),
//! `route` (how events reach users), `config`.
#![forbid(unsafe_code)]

pub mod admin;
pub mod config;
pub mod core;
pub mod proto;
pub mod store;

// ---- TEMPORARY (branch wt-config) ---------------------------------------------
// Placeholder so that `src/main.rs` compiles before the real `serve` is merged.
// The lead engineer replaces everything between these markers with the real
// `serve` and its `ServeError` at merge. It serves nothing: it fails at once.

/// Why the server stopped with an error (placeholder).
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The real server is not merged into this branch.
    #[error("this build has no server yet (placeholder `serve` of branch wt-config)")]
    NotMerged,
}

/// Runs the daemon until `shutdown` is cancelled (placeholder: fails at once).
pub async fn serve(
    config: config::Config,
    ready_file: Option<std::path::PathBuf>,
    shutdown: tokio_util::sync::CancellationToken,
) -> Result<(), ServeError> {
    let _ = (config, ready_file, shutdown);
    Err(ServeError::NotMerged)
}
// ---- end TEMPORARY --------------------------------------------------------------
