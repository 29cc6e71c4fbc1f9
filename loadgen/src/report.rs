//! The one JSON line of a run: workload, parameters, results, server process
//! figures, machine load, time and git commit.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::procstat::load_average;

/// What a run measured.
#[derive(Debug)]
pub struct Report {
    /// Workload name.
    pub workload: &'static str,
    /// Dialect of the clients.
    pub dialect: u8,
    /// `sqlite` or `postgres`.
    pub store: &'static str,
    /// Whether loadgen started the server.
    pub spawned: bool,
    /// Workload parameters.
    pub params: Value,
    /// Workload results.
    pub results: Value,
    /// Server process figures (`before`, `after`, derived values).
    pub server: Value,
    /// For a spawned server: whether it exited cleanly on SIGTERM.
    pub server_clean_exit: Option<bool>,
    /// loadgen's own open-file limit.
    pub fd_limit: u64,
}

/// The git commit of the source tree loadgen was built from (`-dirty` when it
/// has uncommitted changes), or `unknown`.
pub fn git_commit() -> String {
    let dir = env!("CARGO_MANIFEST_DIR");
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
    };
    match run(&["rev-parse", "--short=12", "HEAD"]) {
        Some(hash) => {
            let dirty = run(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.trim().is_empty());
            format!("{}{}", hash.trim(), if dirty { "-dirty" } else { "" })
        }
        None => "unknown".into(),
    }
}

/// Renders the report as one line of JSON.
pub fn line(r: Report) -> String {
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    json!({
        "workload": r.workload,
        "params": r.params,
        "results": r.results,
        "server": r.server,
        "dialect": format!("MSNP{}", r.dialect),
        "store": r.store,
        "spawned": r.spawned,
        "server_clean_exit": r.server_clean_exit,
        "loadgen_fd_limit": r.fd_limit,
        "loadavg": load_average(),
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "unix_time": unix,
        "commit": git_commit(),
    })
    .to_string()
}
