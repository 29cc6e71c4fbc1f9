//! `presence K`: K watchers have one subject on their forward list and are
//! online; the subject changes status `repeats` times. For each change: the
//! time from sending `CHG` until each watcher read the `NLN`, and until the
//! last one did (p50/p99 over repeats).

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::{Ctx, Outcome, server_json};
use crate::Error;
use crate::conn::Conn;
use crate::stats::Latencies;

/// Statuses the subject cycles through (it starts online, NLN).
const STATUSES: [&str; 3] = ["AWY", "BSY", "NLN"];
/// Longest wait for every watcher to see one change.
const CHANGE_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads one watcher's connection and reports each status of `subject`.
async fn watch(
    mut c: Conn,
    subject: String,
    tx: mpsc::Sender<(String, Instant)>,
    deadline: Instant,
) {
    while Instant::now() < deadline {
        let Ok(Ok(line)) = tokio::time::timeout(Duration::from_millis(500), c.read()).await else {
            if tx.is_closed() {
                break;
            }
            continue;
        };
        if line.verb() == "NLN" && line.token(2) == subject {
            let status = line.token(1).to_owned();
            if tx.send((status, Instant::now())).await.is_err() {
                break;
            }
        }
    }
}

/// Runs the workload.
pub async fn run(ctx: &Ctx<'_>, k: u32, repeats: u32) -> Result<Outcome, Error> {
    let client = ctx.client;
    let subject = ctx.accounts("s", 1).await?;
    let subject = subject
        .first()
        .ok_or_else(|| Error("no subject account".into()))?
        .clone();
    let watchers = ctx.accounts("w", k).await?;
    // Watchers log in and put the subject on their forward list.
    let mut conns = ctx.login_all(&watchers, 64, false).await.all()?;
    for c in &mut conns {
        client.add_contact(c, 7, &subject.email).await?;
        client.set_status(c, 8, "NLN").await?;
    }
    let deadline = Instant::now() + CHANGE_TIMEOUT * (repeats + 2) + Duration::from_secs(30);
    let (tx, mut rx) = mpsc::channel(4096);
    let mut tasks = JoinSet::new();
    for c in conns {
        tasks.spawn(watch(c, subject.email.clone(), tx.clone(), deadline));
    }
    drop(tx);
    let mut s = client.login(ctx.target.ns, &subject).await?;
    client.sync(&mut s, 5).await?;
    // The first NLN: every watcher must see the subject come online.
    let mut missing_total = 0u64;
    let mut last = Latencies::default();
    let mut each = Latencies::default();
    let before = ctx.sample();
    let mut trid = 10;
    for round in 0..=repeats {
        let status = if round == 0 {
            "NLN"
        } else {
            STATUSES[(round as usize - 1) % STATUSES.len()]
        };
        let sent = Instant::now();
        trid += 1;
        client.set_status(&mut s, trid, status).await?;
        let mut seen = 0u32;
        let mut latest = Duration::ZERO;
        let round_end = sent + CHANGE_TIMEOUT;
        while seen < k {
            let Ok(Some((got, at))) = tokio::time::timeout_at(round_end.into(), rx.recv()).await
            else {
                break;
            };
            if got != status {
                continue;
            }
            seen += 1;
            let took = at.saturating_duration_since(sent);
            latest = latest.max(took);
            if round > 0 {
                each.record(took.as_micros() as u64);
            }
        }
        if round > 0 {
            missing_total += u64::from(k - seen);
            last.record(latest.as_micros() as u64);
        }
    }
    let after = ctx.sample();
    let changes = u64::from(repeats);
    let cpu = after.cpu_us.saturating_sub(before.cpu_us);
    let _ = s.send("OUT").await;
    tasks.abort_all();
    let results = json!({
        "changes": changes,
        "last_watcher": last.summary(),
        "each_watcher": each.summary(),
        "missing_notifications": missing_total,
        "server_cpu_us_per_change": if changes > 0 { cpu as f64 / changes as f64 } else { 0.0 },
    });
    Ok((
        json!({"k": k, "repeats": repeats}),
        results,
        server_json(ctx.target.pid, before, after),
    ))
}
