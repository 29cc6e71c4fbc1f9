//! The byte stream under a connection actor: plain TCP or TLS, anything
//! [`AsyncRead`] + [`AsyncWrite`]. The actor never waits on a write: it polls
//! reads, writes and flushes together in one future ([`poll_io`]) and pushes
//! what the stream takes at once with a no-op waker ([`try_write`],
//! [`try_flush`]).
//!
//! Reads go through a stack chunk and are appended to the actor's buffer only
//! when bytes arrive, so a connection waiting for input holds no read buffer.
//! A TLS stream keeps its own buffers (rustls: at most 64 KiB of unsent
//! records per connection on top of the actor's send queue).

use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How much is read from the stream at a time.
pub const READ_CHUNK: usize = 1024;

/// A stream a connection actor can run on.
pub trait Transport: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Transport for T {}

/// What one [`poll_io`] did.
#[derive(Debug)]
pub enum Io {
    /// Bytes were read into the buffer (`Ok(0)`: end of stream).
    Read(io::Result<usize>),
    /// So many bytes of the pending output were taken by the stream.
    Wrote(io::Result<usize>),
    /// The stream flushed what it had buffered (TLS records).
    Flushed(io::Result<()>),
}

/// Writes `pending` if there is any, else flushes if `flush`; whenever the
/// stream cannot take output now, reads into `rbuf` instead. Cancel-safe:
/// each poll either completes an operation or does nothing.
pub fn poll_io<T: Transport>(
    stream: &mut T,
    cx: &mut Context<'_>,
    rbuf: &mut BytesMut,
    pending: &[u8],
    flush: bool,
) -> Poll<Io> {
    if !pending.is_empty() {
        if let Poll::Ready(result) = Pin::new(&mut *stream).poll_write(cx, pending) {
            return Poll::Ready(Io::Wrote(result));
        }
    } else if flush && let Poll::Ready(result) = Pin::new(&mut *stream).poll_flush(cx) {
        return Poll::Ready(Io::Flushed(result));
    }
    poll_read_into(stream, cx, rbuf).map(Io::Read)
}

/// Reads at most [`READ_CHUNK`] bytes and appends them to `rbuf`.
fn poll_read_into<T: Transport>(
    stream: &mut T,
    cx: &mut Context<'_>,
    rbuf: &mut BytesMut,
) -> Poll<io::Result<usize>> {
    let mut chunk = [MaybeUninit::<u8>::uninit(); READ_CHUNK];
    let mut buf = ReadBuf::uninit(&mut chunk);
    match Pin::new(stream).poll_read(cx, &mut buf) {
        Poll::Ready(Ok(())) => {
            rbuf.extend_from_slice(buf.filled());
            Poll::Ready(Ok(buf.filled().len()))
        }
        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        Poll::Pending => Poll::Pending,
    }
}

/// Writes what the stream takes now; `None` when it takes nothing without
/// waiting.
pub fn try_write<T: Transport>(stream: &mut T, bytes: &[u8]) -> Option<io::Result<usize>> {
    let mut cx = Context::from_waker(Waker::noop());
    match Pin::new(stream).poll_write(&mut cx, bytes) {
        Poll::Ready(result) => Some(result),
        Poll::Pending => None,
    }
}

/// Flushes what the stream buffers (TLS records) as far as it goes now;
/// `None` when something is still waiting for the socket.
pub fn try_flush<T: Transport>(stream: &mut T) -> Option<io::Result<()>> {
    let mut cx = Context::from_waker(Waker::noop());
    match Pin::new(stream).poll_flush(&mut cx) {
        Poll::Ready(result) => Some(result),
        Poll::Pending => None,
    }
}
