//! loadgen: drives an MSNP server (msnpd) with one workload and reports one
//! JSON line: the workload, its parameters, the results, the server process's
//! CPU/RSS/fd figures from /proc and the git commit. It has its own small MSNP
//! client (MSNP8 and MSNP11) and talks only to loopback addresses. Every loop
//! is bounded in count and time. See docs/benchmarks.md for the workloads.
#![forbid(unsafe_code)]

pub mod cli;
pub mod conn;
pub mod procstat;
pub mod report;
pub mod session;
pub mod stats;
pub mod target;
pub mod workloads;

use std::time::Duration;

use cli::{Cli, Workload};
use session::Client;
use target::Target;

/// Why a run failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Error(pub String);

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error(format!("i/o error: {e}"))
    }
}

/// Raises the soft open-file limit to the hard one (thousands of client
/// sockets); returns the limit now in force.
pub fn raise_fd_limit() -> u64 {
    match rlimit::Resource::NOFILE.get() {
        Ok((soft, hard)) if soft < hard => {
            if rlimit::Resource::NOFILE.set(hard, hard).is_ok() {
                hard
            } else {
                soft
            }
        }
        Ok((soft, _)) => soft,
        Err(_) => 0,
    }
}

/// Runs the workload `cli` names and returns its JSON line.
pub fn run(cli: Cli) -> Result<String, Error> {
    let fd_limit = raise_fd_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.threads.max(1))
        .enable_all()
        .build()?;
    runtime.block_on(run_async(cli, fd_limit))
}

/// Configuration loadgen gives a server it spawns: limits meant for many
/// clients on one address and fast senders, and what the workload needs.
fn spawn_overrides(workload: &Workload) -> Vec<String> {
    let mut o: Vec<String> = [
        "limits.max_connections=60000",
        "limits.commands_per_sec=1000000",
        "limits.command_burst=1000000",
        "limits.invites_per_minute=1000000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    match workload {
        Workload::Offline { m, senders, .. } => {
            o.push("offline.enabled=true".into());
            let per = m.div_ceil((*senders).max(1)) + 16;
            o.push(format!("offline.max_queued_per_user={per}"));
        }
        Workload::Soak { .. } => o.push("offline.enabled=true".into()),
        _ => {}
    }
    o
}

async fn run_async(cli: Cli, fd_limit: u64) -> Result<String, Error> {
    let mut target = match (&cli.spawn, &cli.addr, cli.pid) {
        (Some(bin), _, _) => {
            Target::spawn(
                bin.clone(),
                cli.store.clone(),
                spawn_overrides(&cli.workload),
                &cli.overrides,
            )
            .await?
        }
        (None, Some(addr), Some(pid)) => {
            Target::attach(addr, pid, cli.msnpd.clone(), cli.overrides.clone())?
        }
        _ => return Err(Error("give --spawn MSNPD, or --addr and --pid".into())),
    };
    let client = Client {
        dialect: cli.dialect,
        timeout: Duration::from_secs(cli.line_timeout.max(1)),
    };
    let ctx = workloads::Ctx {
        target: &target,
        client,
        prefix: format!("{}{}", cli.prefix, cli.workload.name()),
    };
    let outcome = workloads::run(&ctx, &cli.workload).await;
    let spawned = cli.spawn.is_some();
    let store = target.store_kind;
    let clean_exit = target.stop().await;
    let (params, results, mut server) = outcome?;
    if let Some(obj) = server.as_object_mut() {
        obj.insert("log".into(), target.log_summary());
    }
    Ok(report::line(report::Report {
        workload: cli.workload.name(),
        dialect: cli.dialect,
        store,
        spawned,
        params,
        results,
        server,
        server_clean_exit: clean_exit,
        fd_limit,
    }))
}
