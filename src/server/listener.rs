//! Accept loops for the MSNP roles: each accepted socket is first admitted by
//! the connection limiter (connect rate and open connections per IP, the global
//! cap; one over gets `600 0` and is closed at once, before any task or buffer
//! exists for it), then gets its own connection task. Accept errors (such as
//! running out of file descriptors) back off briefly instead of spinning, and
//! the loop stops on shutdown. On a TLS listener the handshake runs in the
//! connection's task, bounded by its timeout; a failed one closes only that
//! connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::connection::{self, ConnectionLimits, Wiring};
use super::context::ServerContext;
use super::limits::{ConnectionPermit, ListenerKind, Refusal};
use super::ns::NsSession;
use super::sb::SbSession;
use super::transport::Transport;
use crate::core::event_queue;
use crate::proto::FrameLimits;
use crate::tls::ListenerTls;

/// Pause after a failed `accept` (e.g. `EMFILE`, out of file descriptors)
/// before trying again; existing connections keep being served meanwhile.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// What a refused MSNP connection is told before the close: `600` ("server
/// busy") with TrID 0, since the client has sent nothing yet.
const REFUSAL_LINE: &[u8] = b"600 0\r\n";

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

/// An admitted connection before its session starts: everything but the
/// stream, with the limits read from the configuration once, at accept.
struct Admitted {
    peer: SocketAddr,
    role: MsnpRole,
    ctx: Arc<ServerContext>,
    shutdown: CancellationToken,
    limits: ConnectionLimits,
    /// Bound of the session's event queue (`limits.outbox_lines`).
    outbox_lines: usize,
    permit: ConnectionPermit,
}

impl Admitted {
    /// Reads the per-connection limits from the current configuration, so a
    /// reload holds for connections accepted after it.
    fn new(
        peer: SocketAddr,
        role: MsnpRole,
        ctx: Arc<ServerContext>,
        shutdown: CancellationToken,
        permit: ConnectionPermit,
    ) -> Self {
        let config = ctx.config.get();
        let l = &config.limits;
        let limits = ConnectionLimits {
            frame: FrameLimits {
                max_line: l.max_line_bytes,
                max_msg_payload: l.max_msg_payload_bytes,
                max_other_payload: l.max_other_payload_bytes,
            },
            preauth_timeout: Duration::from_secs(l.preauth_timeout_secs),
            idle_timeout: Duration::from_secs(l.idle_timeout_secs),
            send_queue_bytes: l.send_queue_bytes,
            shared: Arc::clone(&ctx.limits),
        };
        Admitted {
            peer,
            role,
            ctx,
            shutdown,
            limits,
            outbox_lines: l.outbox_lines,
            permit,
        }
    }
}

/// Accepts connections until `shutdown`, running each in `tracker`. With
/// `tls`, each connection's task first runs the TLS handshake (bounded by the
/// listener's handshake timeout); the accept loop never waits on a client.
pub async fn run(
    listener: TcpListener,
    role: MsnpRole,
    tls: Option<Arc<ListenerTls>>,
    ctx: Arc<ServerContext>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                tracing::warn!(%error, "accept failed; backing off");
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                }
            }
        };
        let permit = match ctx.limits.connections.admit(peer.ip(), ListenerKind::Msnp) {
            Ok(permit) => permit,
            Err(refusal) => {
                refuse(stream, peer, refusal, tls.is_some());
                continue;
            }
        };
        let admitted = Admitted::new(
            peer,
            role.clone(),
            Arc::clone(&ctx),
            shutdown.clone(),
            permit,
        );
        let _ = stream.set_nodelay(true);
        match &tls {
            // A plain connection's task is the actor itself: every layer of
            // `async fn` around it would keep another copy of its arguments
            // for as long as the connection is open.
            None => match start(stream, admitted) {
                Actor::Notification(actor) => drop(tracker.spawn(actor)),
                Actor::Switchboard(actor) => drop(tracker.spawn(actor)),
            },
            // Boxed as a whole: the handshake, the TLS stream and the session
            // on it would otherwise be part of every connection task.
            Some(tls) => {
                drop(tracker.spawn(Box::pin(serve_tls(stream, Arc::clone(tls), admitted))))
            }
        }
    }
}

/// A connection actor, by the session it runs.
enum Actor<N, S> {
    /// Notification or dispatch.
    Notification(N),
    /// Switchboard.
    Switchboard(S),
}

/// The session of the connection's role and its actor on an established
/// (and, on a TLS listener, handshaken) stream.
fn start<T: Transport + 'static>(
    stream: T,
    admitted: Admitted,
) -> Actor<impl Future<Output = ()> + Send, impl Future<Output = ()> + Send> {
    let Admitted {
        peer,
        role,
        ctx,
        shutdown,
        limits,
        outbox_lines,
        permit,
    } = admitted;
    let (tx, events) = event_queue::channel(outbox_lines);
    let wiring = Wiring {
        peer,
        events,
        shutdown,
        limits,
        permit: Some(permit),
    };
    match role {
        MsnpRole::Notification => {
            let session = NsSession::notification(ctx, peer, tx);
            Actor::Notification(connection::run(stream, Box::new(session), wiring))
        }
        MsnpRole::Dispatch { ns_addr, own_addr } => {
            let session = NsSession::dispatch(ctx, peer, ns_addr, own_addr, tx);
            Actor::Notification(connection::run(stream, Box::new(session), wiring))
        }
        MsnpRole::Switchboard => {
            let session = SbSession::new(ctx, peer, tx);
            Actor::Switchboard(connection::run(stream, Box::new(session), wiring))
        }
    }
}

/// The TLS handshake (bounded by the listener's timeout), then the session.
async fn serve_tls(stream: TcpStream, tls: Arc<ListenerTls>, admitted: Admitted) {
    let Some(stream) = tls.accept(stream, admitted.peer).await else {
        return;
    };
    match start(stream, admitted) {
        Actor::Notification(actor) => actor.await,
        Actor::Switchboard(actor) => actor.await,
    }
}

/// Tells a refused client why in one best-effort write (a fresh socket's send
/// buffer always has room) and closes it; nothing waits on the client. A TLS
/// client cannot read plain text before its handshake, so it is just closed.
fn refuse(stream: TcpStream, peer: SocketAddr, refusal: Refusal, tls: bool) {
    tracing::debug!(%peer, %refusal, "connection refused");
    if !tls {
        let _ = stream.try_write(REFUSAL_LINE);
    }
}

#[cfg(test)]
mod tests {
    //! Every connection, idle or not, keeps its task for as long as it is
    //! open: DESIGN §5 allows an idle client about 4 KB of server memory in
    //! all, so the real connection task (with the real sessions, not a test
    //! double) must stay small. Handler, event and TLS futures are boxed for
    //! that; an un-boxed one shows up here as kilobytes.

    use super::*;

    /// The size of the future a function of three arguments returns.
    fn future_size<A, B, C, R>(_: impl Fn(A, B, C) -> R) -> usize {
        std::mem::size_of::<R>()
    }

    #[test]
    fn the_real_connection_tasks_stay_small() {
        let ns = future_size(connection::run::<NsSession, TcpStream>);
        let sb = future_size(connection::run::<SbSession, TcpStream>);
        println!("notification actor {ns} B, switchboard actor {sb} B");
        for size in [ns, sb] {
            assert!(size <= 960, "a connection task's future is {size} bytes");
        }
    }
}
