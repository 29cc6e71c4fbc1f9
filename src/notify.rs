//! Telling the service manager how the daemon is doing (`sd_notify`, through
//! the `sd-notify` crate): `READY=1` once every listener is bound (after the
//! ready file), `RELOADING=1` with `MONOTONIC_USEC` while a reload runs (as
//! `Type=notify-reload` in systemd 253+ wants it) and `READY=1` after it,
//! `STOPPING=1` when shutdown begins, and `WATCHDOG=1` at half the interval
//! systemd asks for in `WATCHDOG_USEC` (`WatchdogSec=`). Without
//! `NOTIFY_SOCKET` (not under systemd) every call does nothing.
//!
//! Sends never wait: a notification the socket cannot take now (its queue
//! is full) is dropped with a log line, so a stuck service manager cannot
//! stall the server.

use std::time::Duration;

use sd_notify::NotifyState;
use tokio_util::sync::CancellationToken;

fn send(states: &[NotifyState]) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let message: String = states.iter().map(|s| format!("{s}\n")).collect();
    if let Err(error) = send_to(&path, message.as_bytes()) {
        tracing::warn!(%error, "cannot notify the service manager");
    }
}

/// One datagram to `path` (a file path, or `@name` in the abstract
/// namespace), without waiting.
pub(crate) fn send_to(path: &std::ffi::OsStr, message: &[u8]) -> std::io::Result<()> {
    use std::os::linux::net::SocketAddrExt as _;
    use std::os::unix::ffi::OsStrExt as _;
    use std::os::unix::net::{SocketAddr, UnixDatagram};

    let socket = UnixDatagram::unbound()?;
    socket.set_nonblocking(true)?;
    let address = match path.as_bytes().strip_prefix(b"@") {
        Some(name) => SocketAddr::from_abstract_name(name)?,
        None => SocketAddr::from_pathname(path)?,
    };
    let sent = socket.send_to_addr(message, &address)?;
    if sent == message.len() {
        Ok(())
    } else {
        Err(std::io::Error::other("notification cut short"))
    }
}

/// Every listener is bound and the server serves; `status` is shown by
/// `systemctl status`.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// A reload has begun.
pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send(&[NotifyState::Reloading, now]),
        Err(_) => send(&[NotifyState::Reloading]),
    }
}

/// Shutdown has begun.
pub fn stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("draining")]);
}

/// The watchdog interval systemd asks for (`WATCHDOG_USEC`, when
/// `WATCHDOG_PID` is unset or this process), if any.
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled().filter(|d| !d.is_zero())
}

/// Sends `WATCHDOG=1` every half `interval` until `stop` is cancelled. It
/// runs on the server's runtime, so pings stop when the runtime stops
/// making progress.
pub async fn watchdog(interval: Duration, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(interval / 2);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticks.tick() => send(&[NotifyState::Watchdog]),
        }
    }
}
