//! `storm N --concurrency C`: N pre-created users log in (VER, CVR, USR TWN
//! I/S, up to the profile message), C at a time, then sign out; logins/s,
//! latency and errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::json;
use tokio::task::JoinSet;

use super::{Ctx, Outcome, first_errors, server_json};
use crate::Error;
use crate::stats::Latencies;

/// Runs the workload.
pub async fn run(ctx: &Ctx<'_>, n: u32, concurrency: u32) -> Result<Outcome, Error> {
    let accounts = Arc::new(ctx.accounts("", n).await?);
    let next = Arc::new(AtomicUsize::new(0));
    let before = ctx.sample();
    let start = Instant::now();
    let mut set = JoinSet::new();
    for _ in 0..concurrency.clamp(1, n.max(1)) {
        let accounts = Arc::clone(&accounts);
        let next = Arc::clone(&next);
        let client = ctx.client;
        let ns = ctx.target.ns;
        set.spawn(async move {
            let mut latencies = Latencies::default();
            let mut errors = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(account) = accounts.get(i) else {
                    break;
                };
                let t = Instant::now();
                match client.login(ns, account).await {
                    Ok(mut c) => {
                        latencies.record(t.elapsed().as_micros() as u64);
                        let _ = c.send("OUT").await;
                    }
                    Err(e) => errors.push(format!("{}: {e}", account.email)),
                }
            }
            (latencies, errors)
        });
    }
    let mut latencies = Latencies::default();
    let mut errors = Vec::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((l, e)) => {
                latencies.merge(l);
                errors.extend(e);
            }
            Err(_) => errors.push("login task panicked".into()),
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let after = ctx.sample();
    let ok = latencies.count();
    let cpu = after.cpu_us.saturating_sub(before.cpu_us);
    let results = json!({
        "logins": ok,
        "errors": errors.len(),
        "first_errors": first_errors(&errors),
        "secs": secs,
        "logins_per_sec": ok as f64 / secs.max(1e-9),
        "latency": latencies.summary(),
        "server_cpu_us_per_login": if ok > 0 { cpu as f64 / ok as f64 } else { 0.0 },
    });
    Ok((
        json!({"n": n, "concurrency": concurrency}),
        results,
        server_json(ctx.target.pid, before, after),
    ))
}
