//! The server under load: spawned by loadgen (temporary directory, ready file,
//! listeners on 127.0.0.1:0) or attached by address and pid. Accounts and
//! tickets come from the msnpd binary's own commands on the same store
//! (`user add-many`, `ticket`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::Error;
use crate::conn::loopback;
use crate::session::Account;

/// Password of every account loadgen creates.
pub const PASSWORD: &str = "loadgen-password";
/// Tickets asked for per `msnpd ticket` call.
const TICKET_CHUNK: usize = 2000;

/// A server to drive.
#[derive(Debug)]
pub struct Target {
    /// The notification listener.
    pub ns: SocketAddr,
    /// Its process id.
    pub pid: u32,
    /// The msnpd binary for account commands (none: accounts cannot be made).
    msnpd: Option<PathBuf>,
    /// `-O` options of account commands (same store as the server).
    overrides: Vec<String>,
    /// `sqlite` or `postgres`.
    pub store_kind: &'static str,
    child: Option<Child>,
    /// A spawned server's log file (its stderr).
    log: Option<PathBuf>,
    _dir: Option<tempfile::TempDir>,
}

fn store_kind(url: &str) -> &'static str {
    if url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    }
}

impl Target {
    /// Starts `msnpd serve` with loadgen's overrides, then `extra` (the user's
    /// `-O`, which win), and waits up to 60 s for its ready file.
    pub async fn spawn(
        msnpd: PathBuf,
        store: Option<String>,
        ours: Vec<String>,
        extra: &[String],
    ) -> Result<Target, Error> {
        let dir = tempfile::tempdir()?;
        let url = store
            .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("msnpd.sqlite").display()));
        let mut overrides = vec![
            format!("store.url={url}"),
            "listeners.ns.bind=127.0.0.1:0".to_string(),
            "listeners.sb.bind=127.0.0.1:0".to_string(),
            "listeners.http.bind=127.0.0.1:0".to_string(),
            "listeners.admin.bind=127.0.0.1:0".to_string(),
            "log.level=warn".to_string(),
        ];
        overrides.extend(ours);
        overrides.extend(extra.iter().cloned());
        let ready = dir.path().join("ready.json");
        let log_path = dir.path().join("msnpd.log");
        let log = std::fs::File::create(&log_path)?;
        let mut cmd = Command::new(&msnpd);
        for o in &overrides {
            cmd.arg("-O").arg(o);
        }
        cmd.arg("serve")
            .arg("--ready-file")
            .arg(&ready)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .map_err(|e| Error(format!("cannot start {}: {e}", msnpd.display())))?;
        let pid = child
            .id()
            .ok_or_else(|| Error("spawned msnpd has no pid".into()))?;
        let deadline = Instant::now() + Duration::from_secs(60);
        let addrs = loop {
            if let Ok(text) = std::fs::read_to_string(&ready)
                && let Ok(map) = serde_json::from_str::<HashMap<String, String>>(&text)
            {
                break map;
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(Error(format!("msnpd exited early: {status}")));
            }
            if Instant::now() > deadline {
                return Err(Error("msnpd did not become ready within 60 s".into()));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let ns = addrs
            .get("ns")
            .ok_or_else(|| Error("ready file names no `ns` listener".into()))?;
        Ok(Target {
            ns: loopback(ns)?,
            pid,
            msnpd: Some(msnpd),
            overrides,
            store_kind: store_kind(&url),
            child: Some(child),
            log: Some(log_path),
            _dir: Some(dir),
        })
    }

    /// A running server at `addr` with process `pid`; `msnpd` (with the
    /// `-O` options that find its store) makes the accounts.
    pub fn attach(
        addr: &str,
        pid: u32,
        msnpd: Option<PathBuf>,
        overrides: Vec<String>,
    ) -> Result<Target, Error> {
        let kind = overrides
            .iter()
            .rev()
            .find_map(|o| o.strip_prefix("store.url="))
            .map_or("sqlite", store_kind);
        Ok(Target {
            ns: loopback(addr)?,
            pid,
            msnpd,
            overrides,
            store_kind: kind,
            child: None,
            log: None,
            _dir: None,
        })
    }

    /// Runs `msnpd -O... ARGS`; returns stdout.
    async fn msnpd(&self, args: &[String]) -> Result<String, Error> {
        let bin = self.msnpd.as_ref().ok_or_else(|| {
            Error("attached without --msnpd: cannot create accounts or tickets".into())
        })?;
        let mut cmd = Command::new(bin);
        for o in &self.overrides {
            cmd.arg("-O").arg(o);
        }
        let out = cmd.args(args).stdin(Stdio::null()).output().await?;
        if !out.status.success() {
            return Err(Error(format!(
                "msnpd {} failed: {}",
                args.first().map_or("", String::as_str),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        String::from_utf8(out.stdout).map_err(|_| Error("msnpd printed non-UTF-8".into()))
    }

    /// Accounts `{prefix}0@loadgen.test` .. `{prefix}{count-1}@loadgen.test`,
    /// created when missing, each with a fresh ticket.
    pub async fn accounts(&self, prefix: &str, count: u32) -> Result<Vec<Account>, Error> {
        if count == 0 {
            return Ok(Vec::new());
        }
        self.msnpd(&[
            "user".into(),
            "add-many".into(),
            "--prefix".into(),
            prefix.into(),
            "--count".into(),
            count.to_string(),
            "--domain".into(),
            "loadgen.test".into(),
            "--password".into(),
            PASSWORD.into(),
        ])
        .await?;
        let emails: Vec<String> = (0..count)
            .map(|n| format!("{prefix}{n}@loadgen.test"))
            .collect();
        let mut accounts = Vec::with_capacity(emails.len());
        for chunk in emails.chunks(TICKET_CHUNK) {
            let mut args = vec!["ticket".to_string()];
            args.extend(chunk.iter().cloned());
            let out = self.msnpd(&args).await?;
            let tickets: Vec<&str> = out.lines().collect();
            if tickets.len() != chunk.len() {
                return Err(Error(format!(
                    "msnpd ticket printed {} tickets for {} accounts",
                    tickets.len(),
                    chunk.len()
                )));
            }
            for (email, ticket) in chunk.iter().zip(tickets) {
                accounts.push(Account {
                    email: email.clone(),
                    ticket: ticket.to_owned(),
                });
            }
        }
        Ok(accounts)
    }

    /// A spawned server's log so far: how many lines at WARN or ERROR, and the
    /// first of them.
    pub fn log_summary(&self) -> serde_json::Value {
        let Some(text) = self
            .log
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
        else {
            return serde_json::Value::Null;
        };
        let bad: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("WARN") || l.contains("ERROR"))
            .collect();
        serde_json::json!({
            "lines": text.lines().count(),
            "warn_or_error_lines": bad.len(),
            "first_warn_or_error": bad.first(),
        })
    }

    /// Stops a spawned server (SIGTERM, then SIGKILL after 20 s); returns
    /// whether it exited cleanly. Attached servers are left running.
    pub async fn stop(&mut self) -> Option<bool> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status()
            .await;
        match tokio::time::timeout(Duration::from_secs(20), child.wait()).await {
            Ok(Ok(status)) => Some(status.success()),
            _ => {
                let _ = child.kill().await;
                Some(false)
            }
        }
    }
}
