//! `offline M --senders S --window W`: S senders each open a switchboard, call
//! an offline recipient (RINGING: offline messages are on) and send M/S
//! messages in mode A, W awaiting their ACK; an ACK means the message is
//! committed (synchronous=FULL on SQLite). Then the recipients log in and set
//! NLN; the drain time runs until the last stored message arrived.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::task::JoinSet;

use super::{Ctx, Outcome};
use crate::Error;
use crate::conn::Conn;
use crate::session::{Account, Client, message_payload};
use crate::stats::Latencies;

/// Longest a whole phase (enqueue or drain) may take.
const PHASE_LIMIT: Duration = Duration::from_secs(600);

/// Sends `count` messages in mode A with `window` in flight; returns ACK
/// latencies and NAKs.
async fn enqueue(
    mut sb: Conn,
    count: u32,
    window: u32,
    size: usize,
) -> Result<(Latencies, u64), Error> {
    let payload = message_payload(size, "offline message ");
    let header = format!("A {}", payload.len());
    let mut lat = Latencies::default();
    let mut naks = 0u64;
    let mut sent_at = std::collections::VecDeque::new();
    let (mut sent, mut done) = (0u32, 0u32);
    let deadline = Instant::now() + PHASE_LIMIT;
    while done < count {
        if Instant::now() > deadline {
            return Err(Error("offline enqueue did not finish in time".into()));
        }
        while sent < count && sent - done < window.max(1) {
            sent += 1;
            sent_at.push_back((sent + 10, Instant::now()));
            sb.writer
                .send_payload(&format!("MSG {} {header}", sent + 10), &payload)
                .await?;
        }
        let line = sb.read().await?;
        let verb = line.verb();
        if verb != "ACK" && verb != "NAK" {
            continue;
        }
        let Ok(trid) = line.token(1).parse::<u32>() else {
            continue;
        };
        if verb == "NAK" {
            naks += 1;
        }
        if let Some(pos) = sent_at.iter().position(|(t, _)| *t == trid)
            && let Some((_, at)) = sent_at.remove(pos)
        {
            lat.record(at.elapsed().as_micros() as u64);
        }
        done += 1;
    }
    Ok((lat, naks))
}

/// Logs the recipient in, sets NLN, and answers rings until `expect`
/// messages arrived; returns how many arrived and when the last did.
async fn drain(
    client: Client,
    ns_addr: std::net::SocketAddr,
    account: Account,
    expect: u32,
) -> Result<(u32, Instant, Instant), Error> {
    let mut ns = client.login(ns_addr, &account).await?;
    client.sync(&mut ns, 5).await?;
    let start = Instant::now();
    client.set_status(&mut ns, 6, "NLN").await?;
    let mut got = 0u32;
    let mut last = start;
    let deadline = start + PHASE_LIMIT;
    // Each round brings at most 100 messages; allow generous slack.
    for _ in 0..(expect / 50 + 20) {
        if got >= expect || Instant::now() > deadline {
            break;
        }
        let ring = client.wait_ring(&mut ns).await?;
        let mut sb = client.answer(&ring, &account.email).await?;
        loop {
            let line = sb.read().await?;
            match line.verb() {
                "MSG" => {
                    got += 1;
                    last = Instant::now();
                }
                "BYE" => break,
                _ => {}
            }
        }
        let _ = sb.send("OUT").await;
    }
    Ok((got, start, last))
}

/// Runs the workload.
pub async fn run(
    ctx: &Ctx<'_>,
    m: u32,
    senders: u32,
    window: u32,
    size: usize,
) -> Result<Outcome, Error> {
    let client = ctx.client;
    let senders = senders.clamp(1, m.max(1));
    let from = ctx.accounts("s", senders).await?;
    let to = ctx.accounts("r", senders).await?;
    let per: Vec<u32> = (0..senders)
        .map(|i| m / senders + u32::from(i < m % senders))
        .collect();
    // Senders log in and call their (offline) recipient.
    let mut ns_conns = ctx.login_all(&from, 16, true).await.all()?;
    let mut sbs = Vec::new();
    for (i, ns) in ns_conns.iter_mut().enumerate() {
        sbs.push(
            client
                .open_switchboard(ns, 7, &from[i].email, &to[i].email)
                .await?,
        );
    }
    let before = ctx.sample();
    let start = Instant::now();
    let mut set = JoinSet::new();
    for (sb, count) in sbs.into_iter().zip(per.iter().copied()) {
        set.spawn(enqueue(sb, count, window, size));
    }
    let mut ack = Latencies::default();
    let mut naks = 0;
    let mut errors = Vec::new();
    while let Some(r) = set.join_next().await {
        match r {
            Ok(Ok((l, n))) => {
                ack.merge(l);
                naks += n;
            }
            Ok(Err(e)) => errors.push(e.0),
            Err(_) => errors.push("sender task panicked".into()),
        }
    }
    let enqueue_secs = start.elapsed().as_secs_f64();
    let mid = ctx.sample();
    let stored = ack.count().saturating_sub(naks);
    // Recipients come online and take their messages.
    let mut set = JoinSet::new();
    for (account, count) in to.iter().cloned().zip(per.iter().copied()) {
        set.spawn(drain(client, ctx.target.ns, account, count));
    }
    let mut received = 0u64;
    let mut first_start: Option<Instant> = None;
    let mut last_msg: Option<Instant> = None;
    while let Some(r) = set.join_next().await {
        match r {
            Ok(Ok((got, s, l))) => {
                received += u64::from(got);
                first_start = Some(first_start.map_or(s, |f| f.min(s)));
                last_msg = Some(last_msg.map_or(l, |x| x.max(l)));
            }
            Ok(Err(e)) => errors.push(e.0),
            Err(_) => errors.push("recipient task panicked".into()),
        }
    }
    let after = ctx.sample();
    let drain_secs = match (first_start, last_msg) {
        (Some(s), Some(l)) => l.saturating_duration_since(s).as_secs_f64(),
        _ => 0.0,
    };
    drop(ns_conns);
    let enqueue_cpu = mid.cpu_us.saturating_sub(before.cpu_us);
    let results = json!({
        "stored": stored,
        "naks": naks,
        "enqueue_secs": enqueue_secs,
        "enqueue_per_sec": stored as f64 / enqueue_secs.max(1e-9),
        "ack_latency": ack.summary(),
        "server_cpu_us_per_enqueue": if stored > 0 { enqueue_cpu as f64 / stored as f64 } else { 0.0 },
        "received": received,
        "drain_secs": drain_secs,
        "drain_per_sec": if drain_secs > 0.0 { received as f64 / drain_secs } else { 0.0 },
        "errors": errors.len(),
        "first_errors": super::first_errors(&errors),
    });
    Ok((
        json!({"m": m, "senders": senders, "window": window, "size": size}),
        results,
        json!({
            "pid": ctx.target.pid,
            "before": before.to_json(),
            "after_enqueue": mid.to_json(),
            "after": after.to_json(),
            "enqueue_cpu_us": enqueue_cpu,
            "drain_cpu_us": after.cpu_us.saturating_sub(mid.cpu_us),
            "cpu_us": after.cpu_us.saturating_sub(before.cpu_us),
        }),
    ))
}
