//! Rolling restart without a service manager holding the sockets (SIGUSR2,
//! as nginx does it): the running msnpd starts a new msnpd (the binary named
//! by its `argv[0]`, same arguments, same environment) and passes it its
//! listening sockets the way systemd socket activation does (`LISTEN_FDS`,
//! `LISTEN_FDNAMES`, from fd 3 on). Both processes accept from the same
//! sockets until the new one says `READY=1` on a private notification
//! socket (`MSNPD_HANDOVER_SOCKET`); then the old one shuts down gracefully
//! (`OUT SSD`, drain, exit 0). The listening sockets never close, so no
//! connection attempt is refused. If the new process exits or is not ready
//! in time, the old one keeps serving and says why.

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use command_fds::{CommandFdExt, FdMapping};

/// The variable naming the socket the new process reports `READY=1` on.
pub const HANDOVER_SOCKET_ENV: &str = "MSNPD_HANDOVER_SOCKET";

/// How long the new process may take to become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// The first passed descriptor, as in systemd socket activation.
const FIRST_FD: i32 = 3;

/// Starts the new process with `sockets` (listener name, listening socket)
/// and waits until it is ready; returns its pid.
pub async fn hand_over(sockets: &[(String, OwnedFd)]) -> Result<u32, String> {
    let dir = private_dir()?;
    let result = spawn_and_wait(sockets, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn spawn_and_wait(
    sockets: &[(String, OwnedFd)],
    dir: &std::path::Path,
) -> Result<u32, String> {
    let path = dir.join("ready.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&path)
        .and_then(|s| s.set_nonblocking(true).map(|()| s))
        .and_then(tokio::net::UnixDatagram::from_std)
        .map_err(|e| format!("cannot create the hand-over socket {}: {e}", path.display()))?;

    let mut args: Vec<OsString> = std::env::args_os().collect();
    let argv0 = (!args.is_empty()).then(|| args.remove(0));
    let program = program(argv0)?;
    let mut mappings = Vec::new();
    for (index, (name, fd)) in sockets.iter().enumerate() {
        let parent_fd = fd
            .try_clone()
            .map_err(|e| format!("cannot duplicate the socket of `{name}`: {e}"))?;
        mappings.push(FdMapping {
            parent_fd,
            child_fd: FIRST_FD + index as i32,
        });
    }
    let names: Vec<&str> = sockets.iter().map(|(name, _)| name.as_str()).collect();
    let mut command = Command::new(&program);
    command
        .args(args)
        .env_remove("LISTEN_PID")
        .env_remove("LISTEN_FDS_FIRST_FD")
        .env("LISTEN_FDS", sockets.len().to_string())
        .env("LISTEN_FDNAMES", names.join(":"))
        .env(HANDOVER_SOCKET_ENV, &path);
    command
        .fd_mappings(mappings)
        .map_err(|e| format!("cannot pass the sockets: {e}"))?;
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    let pid = child.id();
    tracing::info!(pid, program = %program.display(), "started the new process; waiting until it is ready");

    let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
    let mut poll = tokio::time::interval(Duration::from_millis(100));
    let mut buf = vec![0u8; 4096];
    loop {
        tokio::select! {
            received = socket.recv(&mut buf) => {
                let n = received.map_err(|e| format!("hand-over socket: {e}"))?;
                if String::from_utf8_lossy(&buf[..n]).lines().any(|l| l == "READY=1") {
                    return Ok(pid);
                }
            }
            _ = poll.tick() => {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!("the new process (pid {pid}) exited before it was ready: {status}"));
                }
            }
            _ = tokio::time::sleep_until(deadline) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "the new process (pid {pid}) was not ready within {} s; stopped it",
                    READY_TIMEOUT.as_secs()
                ));
            }
        }
    }
}

/// The binary to start: `argv[0]` when it is a path (so a binary replaced
/// on disk for an upgrade is the one started), else this process's binary.
fn program(argv0: Option<OsString>) -> Result<PathBuf, String> {
    match argv0.map(PathBuf::from) {
        Some(path) if path.components().count() > 1 => Ok(path),
        _ => std::env::current_exe().map_err(|e| format!("cannot find the msnpd binary: {e}")),
    }
}

/// A fresh directory only this user can enter, for the hand-over socket.
fn private_dir() -> Result<PathBuf, String> {
    use std::os::unix::fs::DirBuilderExt;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("msnpd-handover-{}-{nanos}", std::process::id()));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// Tells the process that started this one by hand-over that it is ready
/// (does nothing when this process was not started so).
pub fn report_ready() {
    let Some(path) = std::env::var_os(HANDOVER_SOCKET_ENV) else {
        return;
    };
    if let Err(error) = crate::notify::send_to(&path, b"READY=1\n") {
        tracing::warn!(%error, "cannot tell the previous process that this one is ready");
    }
}
