//! `relay --pairs P --window W --size S --duration T`: in each of P
//! switchboards one client sends MSGs to the other, keeping W in flight. The
//! payload carries its send time, so the receiver measures the one-way
//! latency; with `--ack A` the sender also measures MSG -> ACK round trips.
//! Rates and server CPU are taken over T seconds after a one-second warm-up.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{Ctx, Outcome, server_json};
use crate::Error;
use crate::conn::{Conn, Reader, Writer};
use crate::session::{message_body, message_payload};
use crate::stats::Latencies;

/// Digits of each number stamped into a payload.
const FIELD: usize = 20;
/// Seconds the tasks get to finish after the measurement.
const GRACE: Duration = Duration::from_secs(10);

/// The clock every stamp is relative to.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Microseconds since [`epoch`].
fn now_us() -> u64 {
    epoch().elapsed().as_micros() as u64
}

/// Counters shared by every pair.
#[derive(Debug, Default)]
pub struct Shared {
    /// Messages received by receivers.
    pub delivered: AtomicU64,
    /// Messages sent.
    pub sent: AtomicU64,
    /// NAKs and other failures.
    pub errors: AtomicU64,
    /// Set when senders must stop.
    pub stop: AtomicBool,
}

/// A connected pair: the sender's and the receiver's switchboard connections.
#[derive(Debug)]
pub struct Pair {
    /// The sender's switchboard connection.
    pub sender: Conn,
    /// The receiver's switchboard connection.
    pub receiver: Conn,
    /// Their notification connections, held open.
    pub ns: (Conn, Conn),
}

/// Logs `a` and `b` in and puts them in one switchboard (a calls b).
pub async fn connect_pair(
    ctx: &Ctx<'_>,
    a: &crate::session::Account,
    b: &crate::session::Account,
) -> Result<Pair, Error> {
    let client = ctx.client;
    let ns = ctx.target.ns;
    let mut na = client.login(ns, a).await?;
    client.sync(&mut na, 5).await?;
    client.set_status(&mut na, 6, "NLN").await?;
    let mut nb = client.login(ns, b).await?;
    client.sync(&mut nb, 5).await?;
    client.set_status(&mut nb, 6, "NLN").await?;
    let mut sa = client
        .open_switchboard(&mut na, 7, &a.email, &b.email)
        .await?;
    let ring = client.wait_ring(&mut nb).await?;
    let sb = client.answer(&ring, &b.email).await?;
    sa.read_until(None, |l| l.verb() == "JOI").await?;
    Ok(Pair {
        sender: sa,
        receiver: sb,
        ns: (na, nb),
    })
}

/// A payload template of `size` bytes whose body starts with two stamp fields.
fn template(size: usize) -> (Vec<u8>, usize) {
    let body = "0".repeat(FIELD * 2);
    let p = message_payload(size, &format!("{body} "));
    let at = p.len() - message_body(&p).len();
    (p, at)
}

fn stamp(buf: &mut [u8], mut value: u64) {
    for b in buf.iter_mut().rev() {
        *b = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

fn read_stamp(buf: &[u8]) -> Option<u64> {
    std::str::from_utf8(buf.get(..FIELD)?).ok()?.parse().ok()
}

/// Sends until told to stop, keeping `window` messages in flight.
#[allow(clippy::too_many_arguments)]
pub async fn sender(
    mut w: Writer,
    window: Arc<Semaphore>,
    shared: Arc<Shared>,
    size: usize,
    mode: String,
    acks: Arc<Mutex<HashMap<u32, u64>>>,
    pace: Option<Duration>,
    deadline: Instant,
) -> Result<(), Error> {
    let (mut payload, at) = template(size);
    let mut trid: u32 = 10;
    while !shared.stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        let permit = match tokio::time::timeout(Duration::from_millis(200), window.acquire()).await
        {
            Ok(Ok(p)) => p,
            Ok(Err(_)) => break,
            Err(_) => continue,
        };
        permit.forget();
        trid = trid.wrapping_add(1).max(10);
        let t = now_us();
        stamp(&mut payload[at..at + FIELD], u64::from(trid));
        stamp(&mut payload[at + FIELD..at + 2 * FIELD], t);
        if mode == "A"
            && let Ok(mut map) = acks.lock()
        {
            map.insert(trid, t);
        }
        w.send_payload(&format!("MSG {trid} {mode} {}", payload.len()), &payload)
            .await?;
        shared.sent.fetch_add(1, Ordering::Relaxed);
        if let Some(pace) = pace {
            tokio::time::sleep(pace).await;
        }
    }
    Ok(())
}

/// Receives messages until told to stop, recording one-way latencies.
pub async fn receiver(
    mut r: Reader,
    window: Arc<Semaphore>,
    shared: Arc<Shared>,
    deadline: Instant,
) -> Latencies {
    let mut lat = Latencies::default();
    while Instant::now() < deadline {
        if shared.stop.load(Ordering::Relaxed)
            && shared.delivered.load(Ordering::Relaxed) >= shared.sent.load(Ordering::Relaxed)
        {
            break;
        }
        let Ok(Ok(line)) = tokio::time::timeout(Duration::from_millis(200), r.read()).await else {
            continue;
        };
        if line.verb() != "MSG" {
            continue;
        }
        let body = line.payload.as_deref().map(message_body).unwrap_or(&[]);
        if let Some(t) = body.get(FIELD..).and_then(read_stamp) {
            lat.record(now_us().saturating_sub(t));
        }
        shared.delivered.fetch_add(1, Ordering::Relaxed);
        window.add_permits(1);
    }
    lat
}

/// Reads the sender's switchboard: ACK round trips, NAKs.
async fn ack_reader(
    mut r: Reader,
    shared: Arc<Shared>,
    acks: Arc<Mutex<HashMap<u32, u64>>>,
    deadline: Instant,
) -> Latencies {
    let mut lat = Latencies::default();
    while Instant::now() < deadline && !shared.stop.load(Ordering::Relaxed) {
        let Ok(Ok(line)) = tokio::time::timeout(Duration::from_millis(200), r.read()).await else {
            continue;
        };
        match line.verb() {
            "ACK" => {
                let sent = line
                    .token(1)
                    .parse::<u32>()
                    .ok()
                    .and_then(|t| acks.lock().ok()?.remove(&t));
                if let Some(t) = sent {
                    lat.record(now_us().saturating_sub(t));
                }
            }
            "NAK" => {
                shared.errors.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
    lat
}

/// Runs the workload.
pub async fn run(
    ctx: &Ctx<'_>,
    pairs: u32,
    window: u32,
    size: usize,
    duration: u64,
    ack: &str,
) -> Result<Outcome, Error> {
    let mode = ack.to_ascii_uppercase();
    if !["N", "A", "U"].contains(&mode.as_str()) {
        return Err(Error(format!("--ack must be N, A or U, not `{ack}`")));
    }
    if size < template(0).0.len() + 1 {
        return Err(Error(format!(
            "--size must be at least {} bytes",
            template(0).0.len() + 1
        )));
    }
    let pairs = pairs.max(1);
    let accounts = ctx.accounts("", pairs * 2).await?;
    let mut connected = Vec::new();
    for chunk in accounts.chunks(2) {
        connected.push(connect_pair(ctx, &chunk[0], &chunk[1]).await?);
    }
    let shared = Arc::new(Shared::default());
    let _ = epoch();
    let warmup = Duration::from_secs(1);
    let measure = Duration::from_secs(duration.max(1));
    let end = Instant::now() + warmup + measure;
    let mut senders = JoinSet::new();
    let mut receivers = JoinSet::new();
    let mut ackers = JoinSet::new();
    let mut holds = Vec::new();
    for pair in connected {
        let win = Arc::new(Semaphore::new(window.max(1) as usize));
        let acks = Arc::new(Mutex::new(HashMap::new()));
        receivers.spawn(receiver(
            pair.receiver.reader,
            Arc::clone(&win),
            Arc::clone(&shared),
            end + GRACE,
        ));
        ackers.spawn(ack_reader(
            pair.sender.reader,
            Arc::clone(&shared),
            Arc::clone(&acks),
            end + GRACE,
        ));
        senders.spawn(sender(
            pair.sender.writer,
            win,
            Arc::clone(&shared),
            size,
            mode.clone(),
            acks,
            None,
            end,
        ));
        holds.push((pair.receiver.writer, pair.ns));
    }
    tokio::time::sleep(warmup).await;
    let before = ctx.sample();
    let d0 = shared.delivered.load(Ordering::Relaxed);
    let t0 = Instant::now();
    tokio::time::sleep(measure).await;
    let d1 = shared.delivered.load(Ordering::Relaxed);
    let secs = t0.elapsed().as_secs_f64();
    let after = ctx.sample();
    shared.stop.store(true, Ordering::Relaxed);
    let mut send_errors = Vec::new();
    while let Some(r) = senders.join_next().await {
        if let Ok(Err(e)) = r {
            send_errors.push(e.0);
        }
    }
    let mut one_way = Latencies::default();
    let mut rtt = Latencies::default();
    while let Some(r) = receivers.join_next().await {
        if let Ok(l) = r {
            one_way.merge(l);
        }
    }
    while let Some(r) = ackers.join_next().await {
        if let Ok(l) = r {
            rtt.merge(l);
        }
    }
    drop(holds);
    let delivered = d1.saturating_sub(d0);
    let cpu = after.cpu_us.saturating_sub(before.cpu_us);
    let results = json!({
        "delivered": delivered,
        "secs": secs,
        "msgs_per_sec": delivered as f64 / secs.max(1e-9),
        "server_cpu_us_per_msg": if delivered > 0 { cpu as f64 / delivered as f64 } else { 0.0 },
        "latency": one_way.summary(),
        "ack_rtt": if mode == "A" { rtt.summary() } else { serde_json::Value::Null },
        "sent_total": shared.sent.load(Ordering::Relaxed),
        "delivered_total": shared.delivered.load(Ordering::Relaxed),
        "naks": shared.errors.load(Ordering::Relaxed),
        "send_errors": send_errors.len(),
        "first_send_errors": super::first_errors(&send_errors),
    });
    Ok((
        json!({"pairs": pairs, "window": window, "size": size, "duration_secs": duration, "ack": mode}),
        results,
        server_json(ctx.target.pid, before, after),
    ))
}
