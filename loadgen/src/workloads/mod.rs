//! The workloads, and what they share: the run context, logging many clients
//! in with bounded concurrency, and server samples around a measurement.

mod idle;
mod offline;
mod presence;
mod relay;
mod soak;
mod storm;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::Error;
use crate::cli::Workload;
use crate::conn::Conn;
use crate::procstat::{ProcSample, sample};
use crate::session::{Account, Client};
use crate::target::Target;

/// What every workload gets.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// The server.
    pub target: &'a Target,
    /// Dialect and timeouts of the clients.
    pub client: Client,
    /// Account name prefix of this workload.
    pub prefix: String,
}

/// Parameters, results and server figures of one run.
pub type Outcome = (Value, Value, Value);

/// Runs one workload.
pub async fn run(ctx: &Ctx<'_>, workload: &Workload) -> Result<Outcome, Error> {
    match workload {
        Workload::Idle {
            n,
            concurrency,
            hold,
        } => idle::run(ctx, *n, *concurrency, *hold).await,
        Workload::Relay {
            pairs,
            window,
            size,
            duration,
            ack,
        } => relay::run(ctx, *pairs, *window, *size, *duration, ack).await,
        Workload::Storm { n, concurrency } => storm::run(ctx, *n, *concurrency).await,
        Workload::Presence { k, repeats } => presence::run(ctx, *k, *repeats).await,
        Workload::Offline {
            m,
            senders,
            window,
            size,
        } => offline::run(ctx, *m, *senders, *window, *size).await,
        Workload::Soak {
            duration,
            clients,
            pairs,
        } => soak::run(ctx, *duration, *clients, *pairs).await,
    }
}

impl Ctx<'_> {
    /// A sample of the server process (zeros when it cannot be read).
    pub fn sample(&self) -> ProcSample {
        sample(self.target.pid).unwrap_or_default()
    }

    /// Creates (when missing) `count` accounts of this workload's `role`.
    pub async fn accounts(&self, role: &str, count: u32) -> Result<Vec<Account>, Error> {
        self.target
            .accounts(&format!("{}{role}", self.prefix), count)
            .await
    }

    /// Logs every account in (login, `SYN`, then `CHG NLN` when `online`),
    /// `concurrency` at a time. Returns the connections in account order
    /// (`None` for failed ones), the errors, and each login's latency.
    pub async fn login_all(
        &self,
        accounts: &[Account],
        concurrency: u32,
        online: bool,
    ) -> LoginBatch {
        let accounts: Arc<Vec<Account>> = Arc::new(accounts.to_vec());
        let next = Arc::new(AtomicUsize::new(0));
        let mut set = JoinSet::new();
        for _ in 0..concurrency.max(1).min(accounts.len() as u32) {
            let accounts = Arc::clone(&accounts);
            let next = Arc::clone(&next);
            let client = self.client;
            let ns = self.target.ns;
            set.spawn(async move {
                let mut done = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(account) = accounts.get(i) else {
                        break;
                    };
                    let start = Instant::now();
                    let result = async {
                        let mut c = client.login(ns, account).await?;
                        client.sync(&mut c, 5).await?;
                        if online {
                            client.set_status(&mut c, 6, "NLN").await?;
                        }
                        Ok::<Conn, Error>(c)
                    }
                    .await;
                    done.push((i, result, start.elapsed()));
                }
                done
            });
        }
        let mut batch = LoginBatch {
            conns: (0..accounts.len()).map(|_| None).collect(),
            errors: Vec::new(),
            latencies: crate::stats::Latencies::default(),
        };
        while let Some(joined) = set.join_next().await {
            let Ok(done) = joined else {
                batch.errors.push("login task panicked".into());
                continue;
            };
            for (i, result, took) in done {
                match result {
                    Ok(c) => {
                        batch.latencies.record(took.as_micros() as u64);
                        batch.conns[i] = Some(c);
                    }
                    Err(e) => batch.errors.push(format!("{}: {e}", accounts[i].email)),
                }
            }
        }
        batch
    }
}

/// Clients logged in together.
#[derive(Debug)]
pub struct LoginBatch {
    /// Connections in account order; `None` where the login failed.
    pub conns: Vec<Option<Conn>>,
    /// One message per failed login.
    pub errors: Vec<String>,
    /// Latency of each successful login (with SYN and CHG).
    pub latencies: crate::stats::Latencies,
}

impl LoginBatch {
    /// Fails with the first error when any login failed.
    pub fn all(self) -> Result<Vec<Conn>, Error> {
        if let Some(first) = self.errors.first() {
            return Err(Error(format!(
                "{} of {} logins failed; first: {first}",
                self.errors.len(),
                self.conns.len()
            )));
        }
        Ok(self.conns.into_iter().flatten().collect())
    }
}

/// The first few errors, for the report.
pub fn first_errors(errors: &[String]) -> Value {
    json!(errors.iter().take(5).collect::<Vec<_>>())
}

/// `before`/`after` samples and the CPU between them.
pub fn server_json(pid: u32, before: ProcSample, after: ProcSample) -> Value {
    json!({
        "pid": pid,
        "before": before.to_json(),
        "after": after.to_json(),
        "cpu_us": after.cpu_us.saturating_sub(before.cpu_us),
    })
}
