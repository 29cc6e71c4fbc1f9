//! `idle N`: N clients log in (SYN, CHG NLN) and stay; the server's RSS growth
//! divided by N is the memory an idle logged-in client costs.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{Ctx, Outcome, first_errors, server_json};
use crate::Error;

/// Runs the workload.
pub async fn run(ctx: &Ctx<'_>, n: u32, concurrency: u32, hold: u64) -> Result<Outcome, Error> {
    let accounts = ctx.accounts("", n).await?;
    let before = ctx.sample();
    let start = Instant::now();
    let mut batch = ctx.login_all(&accounts, concurrency, true).await;
    let login_secs = start.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(hold)).await;
    let after = ctx.sample();
    let online = batch.conns.iter().filter(|c| c.is_some()).count() as u64;
    let grown_kib = after.rss_kib.saturating_sub(before.rss_kib);
    let per_client = if online > 0 {
        grown_kib as f64 * 1024.0 / online as f64
    } else {
        0.0
    };
    let results = json!({
        "clients": online,
        "errors": batch.errors.len(),
        "first_errors": first_errors(&batch.errors),
        "login_secs": login_secs,
        "login_latency": batch.latencies.summary(),
        "rss_growth_kib": grown_kib,
        "rss_bytes_per_client": per_client.round(),
        "fds_per_client": if online > 0 {
            after.fds.saturating_sub(before.fds) as f64 / online as f64
        } else {
            0.0
        },
    });
    drop(batch.conns);
    Ok((
        json!({"n": n, "concurrency": concurrency, "hold_secs": hold}),
        results,
        server_json(ctx.target.pid, before, after),
    ))
}
