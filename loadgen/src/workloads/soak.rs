//! `soak --duration T`: a bounded mix for T seconds: idle clients that ping,
//! relay pairs at a modest pace, a pool of accounts logging in and out, and
//! status changes; the server's RSS and fd count are sampled every second.
//! Memory or descriptors that keep growing under a steady mix are a leak.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::relay::{Shared, connect_pair, receiver, sender};
use super::{Ctx, Outcome, server_json};
use crate::Error;
use crate::conn::Conn;
use crate::session::{Account, Client};
use crate::stats::Latencies;

/// Accounts that log in and out in a loop.
const CHURN_ACCOUNTS: u32 = 20;
/// Pause between two messages of one relay pair.
const RELAY_PACE: Duration = Duration::from_millis(2);

/// Holds an idle client: a PNG every 30 s, and now and then a status change.
async fn idle_client(mut c: Conn, client: Client, index: u32, deadline: Instant) -> u64 {
    let mut changes = 0;
    let mut trid = 100;
    let mut tick = 0u32;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(1).min(deadline - Instant::now().min(deadline)))
            .await;
        tick += 1;
        if tick.is_multiple_of(30) && c.send("PNG").await.is_err() {
            break;
        }
        if (tick + index).is_multiple_of(20) {
            trid += 1;
            let status = if trid % 2 == 0 { "AWY" } else { "NLN" };
            if client.set_status(&mut c, trid, status).await.is_err() {
                break;
            }
            changes += 1;
        }
    }
    changes
}

/// Logs the churn accounts in and out until the deadline.
async fn churn(
    client: Client,
    ns: std::net::SocketAddr,
    accounts: Vec<Account>,
    count: Arc<AtomicU64>,
    errors: Arc<AtomicU64>,
    deadline: Instant,
) {
    let mut i = 0usize;
    while Instant::now() < deadline && !accounts.is_empty() {
        let account = &accounts[i % accounts.len()];
        i += 1;
        let r = async {
            let mut c = client.login(ns, account).await?;
            client.sync(&mut c, 5).await?;
            client.set_status(&mut c, 6, "NLN").await?;
            c.send("OUT").await
        }
        .await;
        match r {
            Ok(()) => count.fetch_add(1, Ordering::Relaxed),
            Err(_) => errors.fetch_add(1, Ordering::Relaxed),
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs the workload.
pub async fn run(ctx: &Ctx<'_>, duration: u64, clients: u32, pairs: u32) -> Result<Outcome, Error> {
    let client = ctx.client;
    let idle_accounts = ctx.accounts("i", clients).await?;
    let pair_accounts = ctx.accounts("p", pairs * 2).await?;
    let churn_accounts = ctx.accounts("c", CHURN_ACCOUNTS).await?;
    let before = ctx.sample();
    let idle = ctx.login_all(&idle_accounts, 32, true).await.all()?;
    let mut connected = Vec::new();
    for chunk in pair_accounts.chunks(2) {
        connected.push(connect_pair(ctx, &chunk[0], &chunk[1]).await?);
    }
    let start = Instant::now();
    let end = start + Duration::from_secs(duration.max(1));
    let mut tasks = JoinSet::new();
    for (i, c) in idle.into_iter().enumerate() {
        tasks.spawn(async move { (idle_client(c, client, i as u32, end).await, 0) });
    }
    let shared = Arc::new(Shared::default());
    let mut holds = Vec::new();
    let mut relay_tasks = JoinSet::new();
    for pair in connected {
        let win = Arc::new(Semaphore::new(4));
        relay_tasks.spawn(receiver(
            pair.receiver.reader,
            Arc::clone(&win),
            Arc::clone(&shared),
            end + Duration::from_secs(5),
        ));
        let shared = Arc::clone(&shared);
        let writer = pair.sender.writer;
        relay_tasks.spawn(async move {
            let acks = Arc::new(Mutex::new(HashMap::new()));
            let sent = sender(
                writer,
                win,
                Arc::clone(&shared),
                256,
                "N".into(),
                acks,
                Some(RELAY_PACE),
                end,
            )
            .await;
            if sent.is_err() {
                shared.errors.fetch_add(1, Ordering::Relaxed);
            }
            Latencies::default()
        });
        holds.push((pair.receiver.writer, pair.ns, pair.sender.reader));
    }
    let logins = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    tasks.spawn({
        let (logins, errors) = (Arc::clone(&logins), Arc::clone(&errors));
        let ns = ctx.target.ns;
        async move {
            churn(client, ns, churn_accounts, logins, errors, end).await;
            (0, 0)
        }
    });
    let mut samples = Vec::new();
    while Instant::now() < end {
        let s = ctx.sample();
        samples.push(json!({
            "t": start.elapsed().as_secs(),
            "rss_kib": s.rss_kib,
            "fds": s.fds,
        }));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    shared.stop.store(true, Ordering::Relaxed);
    let mut latency = Latencies::default();
    while let Some(r) = relay_tasks.join_next().await {
        if let Ok(l) = r {
            latency.merge(l);
        }
    }
    drop(holds);
    let mut changes = 0;
    while let Some(r) = tasks.join_next().await {
        if let Ok((c, _)) = r {
            changes += c;
        }
    }
    let after = ctx.sample();
    let results = json!({
        "samples": samples,
        "status_changes": changes,
        "churn_logins": logins.load(Ordering::Relaxed),
        "churn_errors": errors.load(Ordering::Relaxed),
        "relayed": shared.delivered.load(Ordering::Relaxed),
        "relay_errors": shared.errors.load(Ordering::Relaxed),
        "relay_latency": latency.summary(),
    });
    Ok((
        json!({"duration_secs": duration, "clients": clients, "pairs": pairs}),
        results,
        server_json(ctx.target.pid, before, after),
    ))
}
