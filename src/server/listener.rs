//! Accept loops for the MSNP roles: each accepted socket gets its own connection
//! task. Accept errors (such as running out of file descriptors) back off
//! briefly instead of spinning, and the loop stops on shutdown.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::connection::{self, ConnectionLimits};
use super::context::ServerContext;
use super::ns::NsSession;
use super::sb::SbSession;
use crate::proto::FrameLimits;

/// What an MSNP listener serves.
#[derive(Debug, Clone)]
pub enum MsnpRole {
    /// Notification.
    Notification,
    /// Dispatch, sending clients to `ns_addr` and advertising `own_addr`.
    Dispatch {
        /// Where clients are sent.
        ns_addr: String,
        /// This listener's advertised address.
        own_addr: String,
    },
    /// Switchboard.
    Switchboard,
}

/// The per-connection limits from the configuration.
pub fn connection_limits(ctx: &ServerContext) -> ConnectionLimits {
    let l = &ctx.config.limits;
    ConnectionLimits {
        frame: FrameLimits {
            max_line: l.max_line_bytes,
            max_msg_payload: l.max_msg_payload_bytes,
            max_other_payload: l.max_other_payload_bytes,
        },
        preauth_timeout: Duration::from_secs(l.preauth_timeout_secs),
        idle_timeout: Duration::from_secs(l.idle_timeout_secs),
    }
}

/// Accepts connections until `shutdown`, running each in `tracker`.
pub async fn run(
    listener: TcpListener,
    role: MsnpRole,
    ctx: Arc<ServerContext>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    let limits = connection_limits(&ctx);
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                tracing::warn!(%error, "accept failed; backing off");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (tx, rx) = mpsc::channel(ctx.config.limits.outbox_lines.max(1));
        let close = CancellationToken::new();
        let ctx = Arc::clone(&ctx);
        let shutdown = shutdown.clone();
        match &role {
            MsnpRole::Notification => {
                let session = NsSession::notification(ctx, peer, tx, close.clone());
                tracker.spawn(connection::run(
                    stream, peer, session, rx, close, shutdown, limits,
                ));
            }
            MsnpRole::Dispatch { ns_addr, own_addr } => {
                let session = NsSession::dispatch(
                    ctx,
                    peer,
                    ns_addr.clone(),
                    own_addr.clone(),
                    tx,
                    close.clone(),
                );
                tracker.spawn(connection::run(
                    stream, peer, session, rx, close, shutdown, limits,
                ));
            }
            MsnpRole::Switchboard => {
                let session = SbSession::new(ctx, peer, tx, close.clone());
                tracker.spawn(connection::run(
                    stream, peer, session, rx, close, shutdown, limits,
                ));
            }
        }
    }
}
