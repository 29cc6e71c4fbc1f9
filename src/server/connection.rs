//! The connection actor: one task per client connection that waits, in one
//! hand-written select, on the shutdown signal, the session's bounded event
//! queue (which also carries close requests), the stream (plain TCP or TLS,
//! see `transport`) and its timeouts. Reads go into a buffer that exists only
//! while a frame is partial, and the write buffer is released once it is
//! written, so an idle plain-TCP connection holds no I/O buffers.
//!
//! The task lives as long as the connection, so its size is every idle
//! client's cost: what has to wait (session handlers, the close) runs in a
//! boxed future per wake-up, and `listener::tests` keeps the task under 1 KB.
//!
//! Writes never make the actor wait: what the socket does not take stays in
//! the send queue while the actor goes on taking events and commands, and a
//! connection whose send queue grows past `limits.send_queue_bytes` is
//! disconnected as a slow reader. Senders only ever `try_send` to the event
//! queue, so nobody else slows down.

use std::future::{Future, poll_fn};
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use tokio_util::codec::Decoder;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use super::gate::{self, Asker, ConnRole, Stage};
use super::limits::{CommandRate, ConnectionPermit, Limits};
use super::outbox::Outbox;
use super::transport::{self, Io, Transport};
use crate::core::event_queue::{EventReceiver, Next};
use crate::core::events::Event;
use crate::proto::{self, Command, Dialect, Frame, FrameLimits, MsnpCodec, ParseError, Reply};

/// Most queued events handled before one write.
const EVENT_BATCH: usize = 64;
/// How long the send queue may make no progress before the peer is treated as dead.
const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the last lines (an error, `OUT SSD`) may take to write before a close.
const CLOSE_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a connection closed by shutdown waits for the client to close its side.
const LINGER_TIMEOUT: Duration = Duration::from_secs(2);

/// A protocol session driven by the connection actor (notification or switchboard).
pub trait Session: Send {
    /// The role, for the gate.
    fn role(&self) -> ConnRole;
    /// The session's stage, for the gate and the timeouts.
    fn stage(&self) -> Stage;
    /// The negotiated dialect, once known.
    fn dialect(&self) -> Option<Dialect>;
    /// The account this session acts for, where the gate applies per-account
    /// limits (switchboard invitations). Default: none.
    fn account(&self) -> Option<&str> {
        None
    }
    /// Handles one command the gate allowed.
    fn handle(
        &mut self,
        command: Command,
        out: &mut Outbox,
    ) -> impl std::future::Future<Output = ()> + Send;
    /// Handles an event from another session or a switchboard.
    fn on_event(
        &mut self,
        event: Event,
        out: &mut Outbox,
    ) -> impl std::future::Future<Output = ()> + Send;
    /// Whether events already queued for this connection are handled before
    /// the goodbye at shutdown (switchboards: messages relayed to it and its
    /// ACKs). Default false: presence noise of a server going down is dropped.
    fn drains_on_shutdown(&self) -> bool {
        false
    }
    /// The server is shutting down: say goodbye (e.g. `OUT SSD`).
    fn on_shutdown(&mut self, out: &mut Outbox);
    /// The connection is gone: leave rooms, unregister, tell watchers.
    fn on_close(&mut self) -> impl std::future::Future<Output = ()> + Send;
}

/// Per-connection settings.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Frame limits for the decoder.
    pub frame: FrameLimits,
    /// Time allowed before authentication.
    pub preauth_timeout: Duration,
    /// Time allowed without a complete command.
    pub idle_timeout: Duration,
    /// Most bytes waiting to be written before the peer is disconnected.
    pub send_queue_bytes: usize,
    /// The server's shared limiters (command rate quota, invitations).
    pub shared: Arc<Limits>,
}

/// What woke the connection actor, in the order it looks.
enum Wake {
    /// The server is shutting down.
    Shutdown,
    /// A close request or an event from the session's queue.
    Queue(Next),
    /// The stream read, wrote or flushed.
    Io(Io),
    /// The idle, pre-auth or write-stall deadline passed.
    Timeout,
}

/// Why the actor ended a connection (for the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The peer closed, or the socket failed.
    Peer,
    /// The session or the server asked for it.
    Closed,
    /// Pre-auth or idle timeout, or the send queue stalled.
    Timeout,
    /// The send queue grew past its limit.
    SlowReader,
}

/// What a connection actor runs with, besides its stream and its session.
#[derive(Debug)]
pub struct Wiring {
    /// The client's address.
    pub peer: SocketAddr,
    /// The session's event queue (its outbox input); a close request on it
    /// (kick, slow reader, ...) ends the connection.
    pub events: EventReceiver,
    /// Cancelled when the server shuts down.
    pub shutdown: CancellationToken,
    /// Frame limits, timeouts, send queue bound, shared limiters.
    pub limits: ConnectionLimits,
    /// The connection's place in the connection limiter, held until it ends.
    pub permit: Option<ConnectionPermit>,
}

/// Runs one connection to its end, over plain TCP or TLS, inside its own
/// `conn` span (fields `peer`, `role`, and `user` once logged in: see
/// [`record_user`]). The session is boxed so the task's own state (which
/// every idle connection keeps) stays small.
pub fn run<S: Session, T: Transport>(
    stream: T,
    session: Box<S>,
    wiring: Wiring,
) -> impl Future<Output = ()> + Send {
    let span = tracing::info_span!(
        "conn",
        peer = %wiring.peer,
        role = session.role().label(),
        user = tracing::field::Empty,
    );
    actor(stream, session, wiring).instrument(span)
}

/// Names the logged-in account in the current connection's span.
pub fn record_user(email: &str) {
    tracing::Span::current().record("user", email);
}

/// The actor's loop. Not an `async fn`: those keep their arguments twice in
/// the future (as captures and as locals), and this future lives as long as
/// the connection; an `async move` block uses its captures in place.
fn actor<S: Session, T: Transport>(
    mut stream: T,
    mut session: Box<S>,
    wiring: Wiring,
) -> impl Future<Output = ()> + Send {
    // The peer's address is in the span, not needed here.
    let Wiring {
        peer: _,
        mut events,
        shutdown,
        limits,
        permit,
    } = wiring;
    async move {
        let _permit = permit;
        let mut codec = MsnpCodec::new(limits.frame);
        let mut out = Outbox::new(session.dialect().unwrap_or(Dialect::MSNP8));
        let commands = limits.shared.command_rate();
        let mut rbuf = BytesMut::new();
        let started = Instant::now();
        let mut last_command = Instant::now();
        let mut stalled_since: Option<Instant> = None;
        let mut shutting_down = false;
        let mut gauge = crate::obs::metrics().connection_opened(session.role());
        // The stream holds written bytes it has not sent yet (TLS records).
        let mut needs_flush = false;

        let end = 'conn: loop {
            let mut deadline = if session.stage() == Stage::Authenticated {
                last_command + limits.idle_timeout
            } else {
                (started + limits.preauth_timeout).min(last_command + limits.idle_timeout)
            };
            if let Some(since) = stalled_since {
                deadline = deadline.min(since + WRITE_STALL_TIMEOUT);
            }
            let mut progressed = false;
            // One hand-written `select`, in priority order: `tokio::select!`
            // keeps each branch's future twice in the task's state, which
            // every idle connection would pay for. The timer and the shutdown
            // signal exist only while waiting, not while a handler runs.
            let wake = {
                let mut shutdown_signal = pin!(shutdown.cancelled());
                let mut timer = pin!(tokio::time::sleep_until(deadline));
                poll_fn(|cx| {
                    if !shutting_down && shutdown_signal.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Wake::Shutdown);
                    }
                    // `Disconnected` cannot happen while the session keeps its
                    // sender; if it did, there would be nothing to wait for.
                    if let Poll::Ready(next @ (Next::Close | Next::Event(_))) = events.poll_next(cx)
                    {
                        return Poll::Ready(Wake::Queue(next));
                    }
                    if let Poll::Ready(io) =
                        transport::poll_io(&mut stream, cx, &mut rbuf, out.pending(), needs_flush)
                    {
                        return Poll::Ready(Wake::Io(io));
                    }
                    timer.as_mut().poll(cx).map(|()| Wake::Timeout)
                })
                .await
            };
            // What needs awaiting runs in one boxed future per wake-up, so
            // no handler's state (nor the wake-up itself) is part of the task.
            {
                let work: Option<Work<'_>> = match wake {
                    Wake::Shutdown => {
                        shutting_down = true;
                        Some(Box::pin(drain_for_shutdown(
                            &mut *session,
                            &mut events,
                            &mut out,
                        )))
                    }
                    Wake::Queue(Next::Event(event)) => Some(Box::pin(take_events(
                        &mut *session,
                        &mut events,
                        event,
                        &mut out,
                    ))),
                    Wake::Queue(_) => break 'conn End::Closed,
                    Wake::Io(Io::Wrote(Ok(0) | Err(_)) | Io::Flushed(Err(_))) => {
                        break 'conn End::Peer;
                    }
                    Wake::Io(Io::Wrote(Ok(n))) => {
                        out.advance(n);
                        needs_flush = true;
                        progressed = true;
                        None
                    }
                    Wake::Io(Io::Flushed(Ok(()))) => {
                        needs_flush = false;
                        progressed = true;
                        None
                    }
                    Wake::Io(Io::Read(Ok(0) | Err(_))) => break 'conn End::Peer,
                    Wake::Io(Io::Read(Ok(_))) => Some(Box::pin(take_input(
                        &mut *session,
                        &mut codec,
                        &mut rbuf,
                        &mut out,
                        &commands,
                        &limits.shared,
                        &mut last_command,
                    ))),
                    Wake::Timeout => break 'conn End::Timeout,
                };
                if let Some(work) = work {
                    work.await;
                }
            }
            if rbuf.is_empty() {
                rbuf = BytesMut::new();
            }
            // Write what the stream takes now, without waiting for it.
            while out.has_pending() {
                match transport::try_write(&mut stream, out.pending()) {
                    Some(Ok(0) | Err(_)) => break 'conn End::Peer,
                    Some(Ok(n)) => {
                        out.advance(n);
                        needs_flush = true;
                        progressed = true;
                    }
                    None => break,
                }
            }
            if needs_flush {
                match transport::try_flush(&mut stream) {
                    Some(Ok(())) => needs_flush = false,
                    Some(Err(_)) => break 'conn End::Peer,
                    None => {}
                }
            }
            stalled_since = match (out.has_pending() || needs_flush, progressed) {
                (false, _) => None,
                (true, true) => Some(Instant::now()),
                (true, false) => stalled_since.or_else(|| Some(Instant::now())),
            };
            gauge.set_dialect(session.dialect());
            gauge.set_queued(out.pending_len());
            if out.pending_len() > limits.send_queue_bytes {
                crate::obs::metrics().limit_rejection(crate::obs::Limit::SendQueue);
                break 'conn End::SlowReader;
            }
            if out.is_closing() {
                // Boxed, as every rarely taken wait: inlined, its state would
                // be part of every connection's task.
                Box::pin(write_last(&mut stream, &mut out)).await;
                break 'conn End::Closed;
            }
        };
        match end {
            End::SlowReader => tracing::warn!(
                queued = out.pending_len(),
                limit = limits.send_queue_bytes,
                "send queue over its limit: disconnecting a slow reader"
            ),
            End::Timeout => tracing::debug!("timeout"),
            End::Peer | End::Closed => tracing::debug!(?end, "connection ended"),
        }
        Box::pin(session.on_close()).await;
        if end != End::SlowReader {
            Box::pin(say_goodbye(&mut stream, shutting_down)).await;
        }
    }
}

/// The work of one wake-up that has to wait (session handlers), boxed.
type Work<'a> = std::pin::Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// At shutdown: what others already handed a switchboard connection (a
/// relayed message, the outcome that ACKs its sender's) is handled before the
/// goodbye (bounded by `limits.outbox_lines`); then the goodbye and the close.
async fn drain_for_shutdown<S: Session>(
    session: &mut S,
    events: &mut EventReceiver,
    out: &mut Outbox,
) {
    while session.drains_on_shutdown()
        && let Ok(event) = events.try_recv()
    {
        session.on_event(event, out).await;
    }
    session.on_shutdown(out);
    out.close();
}

/// Handles `first` and what else is queued (at most [`EVENT_BATCH`] more),
/// so one write carries a burst.
async fn take_events<S: Session>(
    session: &mut S,
    events: &mut EventReceiver,
    first: Event,
    out: &mut Outbox,
) {
    session.on_event(first, out).await;
    for _ in 0..EVENT_BATCH {
        match events.try_recv() {
            Ok(event) => session.on_event(event, out).await,
            Err(_) => break,
        }
    }
}

/// Decodes what arrived and hands each complete command to the session,
/// until the buffer holds no complete frame or the connection is closing.
/// A framing error is answered (where it has a code and a TrID) and closes.
async fn take_input<S: Session>(
    session: &mut S,
    codec: &mut MsnpCodec,
    rbuf: &mut BytesMut,
    out: &mut Outbox,
    commands: &CommandRate,
    shared: &Limits,
    last_command: &mut Instant,
) {
    loop {
        match codec.decode(rbuf) {
            Ok(Some(frame)) => {
                *last_command = Instant::now();
                if let Some(command) = admit(session, &frame, out, commands, shared) {
                    session.handle(command, out).await;
                }
                if out.is_closing() {
                    return;
                }
            }
            Ok(None) => return,
            Err(error) => {
                tracing::debug!(%error, "framing error");
                if let (Some(code), Some(trid)) = (error.error_code(), error.trid()) {
                    out.send(Reply::Error { code, trid });
                }
                out.close();
                return;
            }
        }
    }
}

/// Writes and flushes the last lines before a close (an error, `OUT SSD`),
/// for at most [`CLOSE_FLUSH_TIMEOUT`]; receipts of what went out are confirmed.
async fn write_last<T: Transport>(stream: &mut T, out: &mut Outbox) {
    let flush = async {
        while out.has_pending() {
            let bytes = out.pending();
            stream.write_all(bytes).await?;
            let written = bytes.len();
            out.advance(written);
        }
        stream.flush().await
    };
    let _ = tokio::time::timeout(CLOSE_FLUSH_TIMEOUT, flush).await;
}

/// Shuts our side of the stream down (TLS: `close_notify`); at server
/// shutdown then lingers until the client closes too.
async fn say_goodbye<T: Transport>(stream: &mut T, shutting_down: bool) {
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.shutdown()).await;
    if shutting_down {
        linger(stream).await;
    }
}

/// After our FIN at shutdown, reads and discards what the client still sends
/// until it closes too (at most [`LINGER_TIMEOUT`]): closing a socket with
/// unread input makes the kernel answer with a reset, which a client sees as
/// a failure instead of the goodbye it was sent.
async fn linger<T: Transport>(stream: &mut T) {
    let mut sink = [0u8; 512];
    let _ = tokio::time::timeout(LINGER_TIMEOUT, async {
        loop {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
}

/// Charges the command rate, parses a frame and asks the gate: the command
/// for the session to handle, or `None` when it was answered (an error) or
/// the connection is to close.
fn admit<S: Session>(
    session: &S,
    frame: &Frame,
    out: &mut Outbox,
    commands: &CommandRate,
    shared: &Limits,
) -> Option<Command> {
    let verb = frame.line.split(' ').next().unwrap_or_default();
    let within_rate = gate::charge(verb, commands);
    let dialect = session.dialect();
    let command = match proto::parse(dialect, frame) {
        Ok(command) => command,
        Err(_) if !within_rate => {
            out.close();
            return None;
        }
        Err(ParseError::Syntax { trid }) => {
            out.send(Reply::Error {
                code: proto::ErrorCode::SyntaxError,
                trid: trid.unwrap_or(0),
            });
            return None;
        }
        Err(ParseError::InvalidParameter { trid }) => {
            out.send(Reply::Error {
                code: proto::ErrorCode::InvalidParameter,
                trid,
            });
            return None;
        }
    };
    let asker = Asker {
        role: session.role(),
        stage: session.stage(),
        dialect,
        account: session.account(),
    };
    if let Err(code) = gate::admit(&asker, command.verb(), within_rate, &shared.invites) {
        match command.trid() {
            Some(trid) => out.send(Reply::Error { code, trid }),
            None => out.close(),
        }
        return None;
    }
    crate::obs::metrics().command(command.verb());
    Some(command)
}

#[cfg(test)]
mod tests {
    //! The event-queue bound (`limits.outbox_lines`) with the real actor: a
    //! session blocked in a handler (as on a slow store) while events arrive.

    use std::sync::Mutex;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::{Notify, oneshot};

    use super::*;
    use crate::config::LimitsConfig;
    use crate::core::lists::Privacy;
    use crate::core::presence::Status;
    use crate::core::registry::{SessionHandle, SharedState};

    /// A logged-in notification session whose handler waits for `release`
    /// (after saying so on `entered`) and which writes `BYE email` per event.
    struct Blocking {
        entered: Option<oneshot::Sender<()>>,
        release: Arc<Notify>,
    }

    impl Session for Blocking {
        fn role(&self) -> ConnRole {
            ConnRole::Notification
        }
        fn stage(&self) -> Stage {
            Stage::Authenticated
        }
        fn dialect(&self) -> Option<Dialect> {
            Dialect::new(8)
        }
        async fn handle(&mut self, _command: Command, _out: &mut Outbox) {
            if let Some(entered) = self.entered.take() {
                let _ = entered.send(());
            }
            self.release.notified().await;
        }
        async fn on_event(&mut self, event: Event, out: &mut Outbox) {
            if let Event::Left { email, idle } = event {
                out.send(Reply::Bye { email, idle });
            }
        }
        fn on_shutdown(&mut self, _out: &mut Outbox) {}
        async fn on_close(&mut self) {}
    }

    fn left(email: &str) -> Event {
        Event::Left {
            email: email.into(),
            idle: false,
        }
    }

    /// Starts an actor with an event queue of `capacity` on a fresh socket pair.
    async fn start(
        capacity: usize,
        entered: oneshot::Sender<()>,
        release: Arc<Notify>,
    ) -> (TcpStream, SessionHandle) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, peer) = listener.accept().await.unwrap();
        let (tx, rx) = crate::core::event_queue::channel(capacity);
        let handle = SessionHandle {
            id: 1,
            tx,
            shared: Arc::new(Mutex::new(SharedState {
                status: Status::Online,
                nick: "n".into(),
                capabilities: 0,
                msn_object: None,
                personal_message: None,
                privacy: Privacy::AllowAll,
                lists: Default::default(),
            })),
        };
        let config = LimitsConfig::default();
        let limits = ConnectionLimits {
            frame: FrameLimits {
                max_line: config.max_line_bytes,
                max_msg_payload: config.max_msg_payload_bytes,
                max_other_payload: config.max_other_payload_bytes,
            },
            preauth_timeout: Duration::from_secs(600),
            idle_timeout: Duration::from_secs(600),
            send_queue_bytes: config.send_queue_bytes,
            shared: Arc::new(Limits::new(&config)),
        };
        let session = Box::new(Blocking {
            entered: Some(entered),
            release,
        });
        let wiring = Wiring {
            peer,
            events: rx,
            shutdown: CancellationToken::new(),
            limits,
            permit: None,
        };
        tokio::spawn(run(server, session, wiring));
        (client, handle)
    }

    #[tokio::test]
    async fn a_full_event_queue_closes_only_its_connection() {
        let release = Arc::new(Notify::new());
        let (entered, entered_rx) = oneshot::channel();
        let (mut offender, offender_handle) = start(1, entered, Arc::clone(&release)).await;
        let (bystander_entered, _) = oneshot::channel();
        let (mut bystander, bystander_handle) =
            start(1, bystander_entered, Arc::new(Notify::new())).await;

        // The offender's actor is busy in a handler...
        offender.write_all(b"CHG 1 NLN 0\r\n").await.unwrap();
        entered_rx.await.unwrap();
        // ...so its queue of one fills, and the next event closes it.
        assert!(offender_handle.deliver(left("x@x.org")));
        assert!(!offender_handle.deliver(left("y@x.org")));
        assert!(offender_handle.tx.close_requested());
        release.notify_one();
        let mut rest = Vec::new();
        offender.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty(), "{rest:?}");

        // The bystander's events flow as before.
        for email in ["a@x.org", "b@x.org"] {
            assert!(bystander_handle.deliver(left(email)));
            let mut buf = vec![0u8; "BYE a@x.org\r\n".len()];
            bystander.read_exact(&mut buf).await.unwrap();
            assert_eq!(buf, format!("BYE {email}\r\n").as_bytes());
        }
        assert!(!bystander_handle.tx.close_requested());
    }
}
