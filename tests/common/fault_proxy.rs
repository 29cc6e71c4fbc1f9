//! An in-repo TCP fault proxy for tests: listens on 127.0.0.1:0, forwards every
//! accepted connection to a target, and applies one toxic to it — added latency,
//! 1-byte slicing, a reset mid-stream after N client bytes, or a half-open peer
//! (forwarding stops after N client bytes and neither side is ever closed).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy does to the traffic of every connection.
#[derive(Clone, Copy, Debug)]
pub enum Toxic {
    /// Each chunk, in both directions, waits this long before it is forwarded.
    Latency(Duration),
    /// Every byte, in both directions, goes out in its own segment.
    OneByteSlices,
    /// After this many client→server bytes, both sockets are closed with RST.
    ResetAfter(usize),
    /// After this many client→server bytes, nothing more is forwarded either
    /// way and no socket is ever closed (until the proxy is dropped).
    HalfOpenAfter(usize),
}

/// A running proxy; dropping it stops accepting (open connections keep running
/// until one of their ends closes).
pub struct FaultProxy {
    /// The `ip:port` clients connect to.
    pub addr: String,
    stop: Arc<AtomicBool>,
    /// Sockets held open by half-open connections.
    held: Arc<Mutex<Vec<TcpStream>>>,
}

impl FaultProxy {
    /// Starts a proxy in front of `target` applying `toxic`.
    pub fn start(target: &str, toxic: Toxic) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let held = Arc::new(Mutex::new(Vec::new()));
        let target = target.to_string();
        {
            let stop = Arc::clone(&stop);
            let held = Arc::clone(&held);
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    if stop.load(Ordering::Acquire) {
                        return;
                    }
                    let Ok(client) = client else { continue };
                    let Ok(server) = TcpStream::connect(&target) else {
                        continue;
                    };
                    run_connection(client, server, toxic, Arc::clone(&held));
                }
            });
        }
        FaultProxy { addr, stop, held }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wake the accept loop so it sees `stop`.
        let _ = TcpStream::connect(&self.addr);
        for s in self.held.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// Shared state of one proxied connection.
struct Link {
    toxic: Toxic,
    /// Client→server bytes forwarded so far.
    upstream_bytes: AtomicUsize,
    /// Set once the reset or half-open point is reached.
    tripped: AtomicBool,
    client: TcpStream,
    server: TcpStream,
    held: Arc<Mutex<Vec<TcpStream>>>,
}

fn run_connection(
    client: TcpStream,
    server: TcpStream,
    toxic: Toxic,
    held: Arc<Mutex<Vec<TcpStream>>>,
) {
    client.set_nodelay(true).unwrap();
    server.set_nodelay(true).unwrap();
    let link = Arc::new(Link {
        toxic,
        upstream_bytes: AtomicUsize::new(0),
        tripped: AtomicBool::new(false),
        client: client.try_clone().unwrap(),
        server: server.try_clone().unwrap(),
        held,
    });
    let up = (client.try_clone().unwrap(), server.try_clone().unwrap());
    {
        let link = Arc::clone(&link);
        std::thread::spawn(move || pump(&link, up.0, up.1, true));
    }
    std::thread::spawn(move || pump(&link, server, client, false));
}

/// Copies `from` → `to` under the link's toxic.
fn pump(link: &Link, mut from: TcpStream, mut to: TcpStream, upstream: bool) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => {
                if !link.tripped.load(Ordering::Acquire) {
                    let _ = to.shutdown(Shutdown::Write);
                }
                return;
            }
            Ok(n) => n,
        };
        if link.tripped.load(Ordering::Acquire) {
            continue; // half-open: swallow everything
        }
        let mut chunk = &buf[..n];
        if upstream && let Toxic::ResetAfter(limit) | Toxic::HalfOpenAfter(limit) = link.toxic {
            let sent = link.upstream_bytes.load(Ordering::Acquire);
            let room = limit.saturating_sub(sent);
            if room < chunk.len() {
                if to.write_all(&chunk[..room]).is_err() {
                    return;
                }
                link.upstream_bytes.store(limit, Ordering::Release);
                trip(link);
                if matches!(link.toxic, Toxic::ResetAfter(_)) {
                    return;
                }
                continue;
            }
            link.upstream_bytes
                .store(sent + chunk.len(), Ordering::Release);
        }
        match link.toxic {
            Toxic::Latency(delay) => {
                std::thread::sleep(delay);
                if to.write_all(chunk).is_err() {
                    return;
                }
            }
            Toxic::OneByteSlices => {
                while let Some((first, rest)) = chunk.split_first() {
                    if to.write_all(std::slice::from_ref(first)).is_err() {
                        return;
                    }
                    let _ = to.flush();
                    chunk = rest;
                }
            }
            Toxic::ResetAfter(_) | Toxic::HalfOpenAfter(_) => {
                if to.write_all(chunk).is_err() {
                    return;
                }
            }
        }
    }
}

/// Reaches the reset / half-open point: resets both sockets, or holds them open.
fn trip(link: &Link) {
    link.tripped.store(true, Ordering::Release);
    match link.toxic {
        Toxic::ResetAfter(_) => {
            for s in [&link.client, &link.server] {
                reset(s);
            }
        }
        Toxic::HalfOpenAfter(_) => {
            let mut held = link.held.lock().unwrap();
            held.push(link.client.try_clone().unwrap());
            held.push(link.server.try_clone().unwrap());
        }
        _ => {}
    }
}

/// Closes `stream` with RST (SO_LINGER 0), via tokio since std has no stable
/// `set_linger`.
fn reset(stream: &TcpStream) {
    let Ok(copy) = stream.try_clone() else { return };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    let _ = copy.set_nonblocking(true);
    if let Ok(tokio_stream) = tokio::net::TcpStream::from_std(copy) {
        let _ = tokio_stream.set_zero_linger();
        drop(tokio_stream);
    }
    // SHUT_RD sends nothing on Linux but wakes the pumps blocked reading; when
    // they and the link drop the last descriptor, the kernel sends RST.
    let _ = stream.shutdown(Shutdown::Read);
}
