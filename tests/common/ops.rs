//! Harness for the operations tests: runs `msnpd --config FILE serve` with a
//! config file the test may rewrite, a `NOTIFY_SOCKET` the test listens on
//! (so it sees `READY=1`, `RELOADING=1`, ...), and its stderr collected line
//! by line, and sends it signals.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::msnpd_bin;

/// A unix datagram socket standing in for systemd's notification socket.
pub struct NotifySocket {
    socket: UnixDatagram,
    /// Its path, for `NOTIFY_SOCKET`.
    pub path: PathBuf,
}

impl NotifySocket {
    /// Binds a fresh socket in `dir`.
    pub fn bind(dir: &std::path::Path) -> NotifySocket {
        let path = dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).expect("bind notify socket");
        NotifySocket { socket, path }
    }

    /// The next datagram's `KEY=VALUE` lines, or `None` after `wait`.
    pub fn recv_within(&self, wait: Duration) -> Option<Vec<String>> {
        self.socket.set_read_timeout(Some(wait)).ok()?;
        let mut buf = vec![0u8; 4096];
        let n = self.socket.recv(&mut buf).ok()?;
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        Some(text.lines().map(str::to_owned).collect())
    }

    /// Reads datagrams until one holds `line` (skipping `WATCHDOG=1` and
    /// anything else); returns that datagram. Panics after 20 s.
    pub fn expect(&self, line: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no `{line}` from msnpd on NOTIFY_SOCKET");
            if let Some(datagram) = self.recv_within(left)
                && datagram.iter().any(|l| l == line)
            {
                return datagram;
            }
        }
    }
}

/// A running `msnpd --config FILE serve`.
pub struct OpsServer {
    child: Child,
    /// Holds the store, config file, ready file and notify socket.
    pub dir: tempfile::TempDir,
    /// The config file.
    pub config: PathBuf,
    /// Listener name → `ip:port`.
    pub addrs: HashMap<String, String>,
    /// systemd's side of the notification socket.
    pub notify: NotifySocket,
    stderr: mpsc::Receiver<String>,
    /// Every stderr line read so far.
    pub log: Vec<String>,
}

/// The base config: a private SQLite store and every listener on port 0,
/// followed by `extra` (more TOML sections).
pub fn config_text(dir: &std::path::Path, extra: &str) -> String {
    format!(
        "[store]\nurl = \"sqlite://{}\"\n\n\
         [listeners.ns]\nbind = \"127.0.0.1:0\"\n[listeners.sb]\nbind = \"127.0.0.1:0\"\n\
         [listeners.http]\nbind = \"127.0.0.1:0\"\n[listeners.admin]\nbind = \"127.0.0.1:0\"\n\n{extra}\n",
        dir.join("msnpd.sqlite").display()
    )
}

impl OpsServer {
    /// Writes `config` (see [`config_text`]) and starts msnpd on it with the
    /// extra environment `env`; waits for the ready file.
    pub fn start(extra_config: &str, env: &[(&str, &str)]) -> OpsServer {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("msnpd.toml");
        std::fs::write(&config, config_text(dir.path(), extra_config)).unwrap();
        let notify = NotifySocket::bind(dir.path());
        let ready = dir.path().join("ready.json");
        let mut cmd = Command::new(msnpd_bin());
        cmd.arg("--config")
            .arg(&config)
            .arg("serve")
            .arg("--ready-file")
            .arg(&ready)
            .env("NOTIFY_SOCKET", &notify.path)
            .stdin(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn msnpd");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                eprintln!("[msnpd] {line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let addrs = super::wait_for_ready_file(&mut child, &ready);
        OpsServer {
            child,
            dir,
            config,
            addrs,
            notify,
            stderr: rx,
            log: Vec::new(),
        }
    }

    /// `ip:port` of a listener.
    pub fn addr(&self, name: &str) -> &str {
        &self.addrs[name]
    }

    /// Sends a signal (`HUP`, `TERM`, ...).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Rewrites the config file (base plus `extra`), sends SIGHUP and waits
    /// for `RELOADING=1` then `READY=1`; returns the `READY=1` datagram.
    pub fn reload(&self, extra_config: &str) -> Vec<String> {
        std::fs::write(&self.config, config_text(self.dir.path(), extra_config)).unwrap();
        self.signal("HUP");
        let reloading = self.notify.expect("RELOADING=1");
        assert!(
            reloading.iter().any(|l| l.starts_with("MONOTONIC_USEC=")),
            "{reloading:?}"
        );
        self.notify.expect("READY=1")
    }

    /// Waits (bounded) for a stderr line containing `text`; returns it.
    pub fn expect_log(&mut self, text: &str) -> String {
        if let Some(line) = self.log.iter().find(|l| l.contains(text)) {
            return line.clone();
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .stderr
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no log line with `{text}`"));
            let line = strip_ansi(&line);
            self.log.push(line.clone());
            if line.contains(text) {
                return line;
            }
        }
    }

    /// Takes the stderr lines that arrived so far (without waiting).
    pub fn drain_log(&mut self) {
        while let Ok(line) = self.stderr.try_recv() {
            self.log.push(strip_ansi(&line));
        }
    }

    /// The pid of the msnpd process.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `wait` for the process to exit.
    pub fn wait_within(&mut self, wait: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + wait;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for OpsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `line` without terminal colour sequences (`ESC [ ... m`).
pub fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
