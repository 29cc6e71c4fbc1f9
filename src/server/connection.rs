//! The connection actor: one task per client connection that `select!`s over the
//! socket, the session's bounded event outbox, the shutdown signal and its
//! timeouts. Reads go into a buffer that exists only while a frame is partial,
//! and the write buffer is released after every flush, so an idle connection
//! holds no I/O buffers.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::codec::Decoder;
use tokio_util::sync::CancellationToken;

use super::gate::{self, ConnRole, Stage};
use super::outbox::Outbox;
use crate::core::events::Event;
use crate::proto::{self, Command, Dialect, Frame, FrameLimits, MsnpCodec, ParseError, Reply};

/// How much is read from the socket at a time.
const READ_CHUNK: usize = 1024;
/// Most queued events handled before one write.
const EVENT_BATCH: usize = 64;
/// How long one flush may take before the peer is treated as dead.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// A protocol session driven by the connection actor (notification or switchboard).
pub trait Session: Send {
    /// The role, for the gate.
    fn role(&self) -> ConnRole;
    /// The session's stage, for the gate and the timeouts.
    fn stage(&self) -> Stage;
    /// The negotiated dialect, once known.
    fn dialect(&self) -> Option<Dialect>;
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
    /// The server is shutting down: say goodbye (e.g. `OUT SSD`).
    fn on_shutdown(&mut self, out: &mut Outbox);
    /// The connection is gone: leave rooms, unregister, tell watchers.
    fn on_close(&mut self) -> impl std::future::Future<Output = ()> + Send;
}

/// Per-connection settings.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Frame limits for the decoder.
    pub frame: FrameLimits,
    /// Time allowed before authentication.
    pub preauth_timeout: Duration,
    /// Time allowed without any command.
    pub idle_timeout: Duration,
}

/// Runs one connection to its end.
pub async fn run<S: Session>(
    mut stream: TcpStream,
    peer: SocketAddr,
    mut session: S,
    mut events: mpsc::Receiver<Event>,
    close: CancellationToken,
    shutdown: CancellationToken,
    limits: ConnectionLimits,
) {
    let _ = stream.set_nodelay(true);
    let mut codec = MsnpCodec::new(limits.frame);
    let mut out = Outbox::new(session.dialect().unwrap_or(Dialect::MSNP8));
    let mut rbuf = BytesMut::new();
    let started = Instant::now();
    let mut last_activity = Instant::now();
    let mut shutting_down = false;

    'conn: loop {
        let deadline = if session.stage() == Stage::Authenticated {
            last_activity + limits.idle_timeout
        } else {
            (started + limits.preauth_timeout).min(last_activity + limits.idle_timeout)
        };
        tokio::select! {
            biased;
            _ = shutdown.cancelled(), if !shutting_down => {
                shutting_down = true;
                session.on_shutdown(&mut out);
                out.close();
            }
            _ = close.cancelled() => {
                tracing::debug!(%peer, "session closed by the server");
                break 'conn;
            }
            Some(event) = events.recv() => {
                session.on_event(event, &mut out).await;
                // Drain what else is queued so one write carries a burst.
                for _ in 0..EVENT_BATCH {
                    match events.try_recv() {
                        Ok(event) => session.on_event(event, &mut out).await,
                        Err(_) => break,
                    }
                }
            }
            ready = stream.readable() => {
                if ready.is_err() {
                    break 'conn;
                }
                if rbuf.capacity() - rbuf.len() < READ_CHUNK / 4 {
                    rbuf.reserve(READ_CHUNK);
                }
                match stream.try_read_buf(&mut rbuf) {
                    Ok(0) => break 'conn,
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue 'conn,
                    Err(_) => break 'conn,
                }
                last_activity = Instant::now();
                loop {
                    match codec.decode(&mut rbuf) {
                        Ok(Some(frame)) => {
                            dispatch(&mut session, frame, &mut out).await;
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
            _ = tokio::time::sleep_until(deadline) => {
                tracing::debug!(%peer, "timeout");
                break 'conn;
            }
        }
        if out.has_pending() {
            // A reader too slow to take its lines has its `close` token cancelled
            // by whoever found its queue full: stop waiting for the socket then,
            // instead of holding the session for the whole write timeout.
            let flushed = tokio::select! {
                biased;
                _ = close.cancelled() => false,
                written = tokio::time::timeout(WRITE_TIMEOUT, stream.write_all(out.pending())) => {
                    matches!(written, Ok(Ok(())))
                }
            };
            if !flushed {
                tracing::debug!(%peer, "write abandoned");
                break 'conn;
            }
            out.written();
        }
        if out.is_closing() {
            break 'conn;
        }
    }
    session.on_close().await;
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.shutdown()).await;
}

/// Parses a frame, asks the gate, and hands the command to the session.
async fn dispatch<S: Session>(session: &mut S, frame: Frame, out: &mut Outbox) {
    let dialect = session.dialect();
    let command = match proto::parse(dialect, &frame) {
        Ok(command) => command,
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
    if let Err(code) = gate::check(session.role(), session.stage(), dialect, command.verb()) {
        match command.trid() {
            Some(trid) => out.send(Reply::Error { code, trid }),
            None => out.close(),
        }
        return;
    }
    session.handle(command, out).await;
}
