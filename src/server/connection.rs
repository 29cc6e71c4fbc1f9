//! The connection actor: one task per client connection that `select!`s over the
//! stream (plain TCP or TLS, see `transport`), the session's bounded event
//! outbox, the shutdown signal and its timeouts. Reads go into a buffer that
//! exists only while a frame is partial, and the write buffer is released once
//! it is written, so an idle plain-TCP connection holds no I/O buffers.
//!
//! Writes never make the actor wait: what the socket does not take stays in
//! the send queue while the actor goes on taking events and commands, and a
//! connection whose send queue grows past `limits.send_queue_bytes` is
//! disconnected as a slow reader. Senders only ever `try_send` to the event
//! queue, so nobody else slows down.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use tokio_util::codec::Decoder;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use super::gate::{self, Asker, ConnRole, Stage};
use super::limits::{CommandRate, Limits};
use super::outbox::Outbox;
use super::transport::{self, Io, Transport};
use crate::core::event_queue::EventReceiver;
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

/// Runs one connection to its end, over plain TCP or TLS, inside its own
/// `conn` span (fields `peer`, `role`, and `user` once logged in: see
/// [`record_user`]). The session is boxed so the task's own state (which
/// every idle connection keeps) stays small.
pub async fn run<S: Session, T: Transport>(
    stream: T,
    peer: SocketAddr,
    session: Box<S>,
    events: EventReceiver,
    close: CancellationToken,
    shutdown: CancellationToken,
    limits: ConnectionLimits,
) {
    let span = tracing::info_span!(
        "conn",
        %peer,
        role = session.role().label(),
        user = tracing::field::Empty,
    );
    run_in_span(stream, peer, session, events, close, shutdown, limits)
        .instrument(span)
        .await;
}

/// Names the logged-in account in the current connection's span.
pub fn record_user(email: &str) {
    tracing::Span::current().record("user", email);
}

async fn run_in_span<S: Session, T: Transport>(
    mut stream: T,
    peer: SocketAddr,
    mut session: Box<S>,
    mut events: EventReceiver,
    close: CancellationToken,
    shutdown: CancellationToken,
    limits: ConnectionLimits,
) {
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
        tokio::select! {
            biased;
            _ = shutdown.cancelled(), if !shutting_down => {
                shutting_down = true;
                // What others already handed a switchboard connection (a
                // relayed message, the outcome that ACKs its sender's) is
                // written before the close; bounded by `limits.outbox_lines`.
                while session.drains_on_shutdown()
                    && let Ok(event) = events.try_recv()
                {
                    // Boxed like every session future: inlined, the event
                    // handler's state would make every connection task large.
                    Box::pin(session.on_event(event, &mut out)).await;
                }
                session.on_shutdown(&mut out);
                out.close();
            }
            _ = close.cancelled() => break 'conn End::Closed,
            Some(event) = events.recv() => {
                Box::pin(session.on_event(event, &mut out)).await;
                // Take what else is queued so one write carries a burst.
                for _ in 0..EVENT_BATCH {
                    match events.try_recv() {
                        Ok(event) => Box::pin(session.on_event(event, &mut out)).await,
                        Err(_) => break,
                    }
                }
            }
            io = poll_fn(|cx| {
                transport::poll_io(&mut stream, cx, &mut rbuf, out.pending(), needs_flush)
            }) => match io {
                Io::Wrote(Ok(0) | Err(_)) | Io::Flushed(Err(_)) => break 'conn End::Peer,
                Io::Wrote(Ok(n)) => {
                    out.advance(n);
                    needs_flush = true;
                    progressed = true;
                }
                Io::Flushed(Ok(())) => {
                    needs_flush = false;
                    progressed = true;
                }
                Io::Read(Ok(0) | Err(_)) => break 'conn End::Peer,
                Io::Read(Ok(_)) => {
                    loop {
                        match codec.decode(&mut rbuf) {
                            Ok(Some(frame)) => {
                                last_command = Instant::now();
                                dispatch(&mut session, frame, &mut out, &commands, &limits.shared)
                                    .await;
                                if out.is_closing() {
                                    break;
                                }
                            }
                            Ok(None) => break,
                            Err(error) => {
                                tracing::debug!(%peer, %error, "framing error");
                                if let (Some(code), Some(trid)) = (error.error_code(), error.trid()) {
                                    out.send(Reply::Error { code, trid });
                                }
                                out.close();
                                break;
                            }
                        }
                    }
                    if rbuf.is_empty() {
                        rbuf = BytesMut::new();
                    }
                }
            },
            _ = tokio::time::sleep_until(deadline) => break 'conn End::Timeout,
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
            let flush = async {
                stream.write_all(out.pending()).await?;
                stream.flush().await
            };
            if let Ok(Ok(())) = tokio::time::timeout(CLOSE_FLUSH_TIMEOUT, flush).await {
                out.written();
            }
            break 'conn End::Closed;
        }
    };
    match end {
        End::SlowReader => tracing::warn!(
            %peer,
            queued = out.pending_len(),
            limit = limits.send_queue_bytes,
            "send queue over its limit: disconnecting a slow reader"
        ),
        End::Timeout => tracing::debug!(%peer, "timeout"),
        End::Peer | End::Closed => tracing::debug!(%peer, ?end, "connection ended"),
    }
    Box::pin(session.on_close()).await;
    if end != End::SlowReader {
        let _ = tokio::time::timeout(Duration::from_secs(1), stream.shutdown()).await;
        if shutting_down {
            linger(&mut stream).await;
        }
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

/// Charges the command rate, parses a frame, asks the gate, and hands the
/// command to the session.
async fn dispatch<S: Session>(
    session: &mut Box<S>,
    frame: Frame,
    out: &mut Outbox,
    commands: &CommandRate,
    shared: &Limits,
) {
    let verb = frame.line.split(' ').next().unwrap_or_default();
    let within_rate = gate::charge(verb, commands);
    let dialect = session.dialect();
    let command = match proto::parse(dialect, &frame) {
        Ok(command) => command,
        Err(_) if !within_rate => {
            out.close();
            return;
        }
        Err(ParseError::Syntax { trid }) => {
            out.send(Reply::Error {
                code: proto::ErrorCode::SyntaxError,
                trid: trid.unwrap_or(0),
            });
            return;
        }
        Err(ParseError::InvalidParameter { trid }) => {
            out.send(Reply::Error {
                code: proto::ErrorCode::InvalidParameter,
                trid,
            });
            return;
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
        return;
    }
    crate::obs::metrics().command(command.verb());
    // Boxed: the handlers' futures (store queries among them) are large, and
    // inlined they would make every connection task, idle or not, that large.
    Box::pin(session.handle(command, out)).await;
}

#[cfg(test)]
mod tests {
    //! The event-queue bound (`limits.outbox_lines`) with the real actor: a
    //! session blocked in a handler (as on a slow store) while events arrive.

    use std::collections::HashMap;
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
        let close = CancellationToken::new();
        let handle = SessionHandle {
            id: 1,
            tx,
            close: close.clone(),
            shared: Arc::new(Mutex::new(SharedState {
                status: Status::Online,
                nick: "n".into(),
                capabilities: 0,
                msn_object: None,
                personal_message: None,
                privacy: Privacy::AllowAll,
                lists: HashMap::new(),
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
        tokio::spawn(run(
            server,
            peer,
            session,
            rx,
            close,
            CancellationToken::new(),
            limits,
        ));
        (client, handle)
    }

    /// Every connection, idle or not, keeps its task's future: DESIGN §5 allows
    /// an idle client about 4 KB of server memory in all, so the future must
    /// stay small (sessions and handler futures are boxed for that).
    #[tokio::test]
    async fn the_connection_future_stays_small() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let _client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, peer) = listener.accept().await.unwrap();
        let (_tx, rx) = crate::core::event_queue::channel(8);
        let (entered, _entered_rx) = oneshot::channel();
        let session = Box::new(Blocking {
            entered: Some(entered),
            release: Arc::new(Notify::new()),
        });
        let config = LimitsConfig::default();
        let limits = ConnectionLimits {
            frame: FrameLimits {
                max_line: 2048,
                max_msg_payload: 1664,
                max_other_payload: 8192,
            },
            preauth_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(60),
            send_queue_bytes: 1024,
            shared: Arc::new(Limits::new(&config)),
        };
        let future = run(
            server,
            peer,
            session,
            rx,
            CancellationToken::new(),
            CancellationToken::new(),
            limits,
        );
        let size = std::mem::size_of_val(&future);
        println!("connection future: {size} bytes");
        assert!(size <= 2048, "connection future is {size} bytes");
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
        assert!(offender_handle.close.is_cancelled());
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
        assert!(!bystander_handle.close.is_cancelled());
    }
}
