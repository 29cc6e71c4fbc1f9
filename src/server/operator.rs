//! What an operator can do to the running server through the admin API:
//! end a user's session ([`kick`]), send every online user a notice
//! ([`broadcast`]), and read the figures behind `msnpd stats` ([`stats`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

use super::context::ServerContext;
use crate::core::events::{Event, KickReason, Notice};
use crate::obs::metrics;

/// Ends the notification session of `email` (compared lower-cased) with
/// `OUT OTH`; its switchboards see it leave as the connection closes.
/// Returns whether the user was online.
pub fn kick(ctx: &ServerContext, email: &str) -> bool {
    let email = email.to_ascii_lowercase();
    let Some(session) = ctx.router.session(&email) else {
        return false;
    };
    if !session.deliver(Event::Kick(KickReason::Admin)) {
        // The session's queue is full or closed: close it directly.
        session.tx.close();
    }
    metrics().kick();
    tracing::info!(user = %email, "kicked by an operator");
    true
}

/// Who a broadcast reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BroadcastOutcome {
    /// Online users the notice was queued for.
    pub sent: usize,
    /// Online users whose session could not take it (closed or full).
    pub failed: usize,
}

/// Sends every online user a notice: free `text` (an alert, MSNP5+) and/or a
/// maintenance warning in `maintenance_minutes` (every dialect).
pub fn broadcast(
    ctx: &ServerContext,
    text: Option<String>,
    maintenance_minutes: Option<u32>,
) -> BroadcastOutcome {
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);
    let notice = Arc::new(Notice {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        text,
        maintenance_minutes,
    });
    let mut outcome = BroadcastOutcome::default();
    for session in ctx.router.registry().all() {
        if session.deliver(Event::Notice(Arc::clone(&notice))) {
            outcome.sent += 1;
        } else {
            outcome.failed += 1;
        }
    }
    metrics().broadcast();
    tracing::info!(
        sent = outcome.sent,
        failed = outcome.failed,
        maintenance_minutes,
        "operator broadcast sent"
    );
    outcome
}

/// Open connections of one role and dialect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionCount {
    /// `dispatch`, `ns` or `sb`.
    pub role: &'static str,
    /// `MSNP8`, ..., or `none` before `VER`.
    pub dialect: &'static str,
    /// How many.
    pub open: i64,
}

/// The figures of `msnpd stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Users logged in to a notification listener.
    pub online_users: usize,
    /// Open MSNP connections, all roles.
    pub connections: i64,
    /// Open MSNP connections by role and dialect.
    pub connections_by_dialect: Vec<ConnectionCount>,
    /// Open switchboards.
    pub switchboards: usize,
    /// Seconds since the server started.
    pub uptime_secs: u64,
}

/// The current figures; `uptime` is how long the server has run.
pub fn stats(ctx: &ServerContext, uptime: Duration) -> Stats {
    let by_dialect: Vec<ConnectionCount> = metrics()
        .connection_counts()
        .into_iter()
        .map(|(role, dialect, open)| ConnectionCount {
            role,
            dialect,
            open,
        })
        .collect();
    Stats {
        online_users: ctx.router.registry().len(),
        connections: by_dialect.iter().map(|c| c.open).sum(),
        connections_by_dialect: by_dialect,
        switchboards: ctx.hub.room_count(),
        uptime_secs: uptime.as_secs(),
    }
}
