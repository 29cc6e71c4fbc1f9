//! Command-line options: where the server is (spawned or attached), the dialect,
//! and one workload with its parameters.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Drives an MSNP server (msnpd) with one workload and prints one JSON line.
#[derive(Debug, Clone, Parser)]
#[command(name = "loadgen", version, about)]
pub struct Cli {
    /// Start this msnpd binary with a temporary directory (SQLite store there
    /// unless --store is given), listeners on 127.0.0.1:0 and a ready file;
    /// stop it at the end.
    #[arg(long, value_name = "MSNPD", conflicts_with_all = ["addr", "pid"])]
    pub spawn: Option<PathBuf>,
    /// Attach to a running server: its notification listener (127.x only).
    #[arg(long, value_name = "IP:PORT", requires = "pid")]
    pub addr: Option<String>,
    /// Attach: the server's process id, for /proc statistics.
    #[arg(long, requires = "addr")]
    pub pid: Option<u32>,
    /// Attach: the msnpd binary used to create accounts and tickets on the
    /// server's store (`user add-many`, `ticket`), given the same -O options.
    #[arg(long, value_name = "MSNPD", requires = "addr")]
    pub msnpd: Option<PathBuf>,
    /// Spawn: the store URL (e.g. postgres://postgres@127.0.0.1:5432/bench);
    /// default: a fresh SQLite file in the temporary directory.
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// Extra msnpd configuration `key=value`, passed to the spawned server and
    /// to every msnpd account command (repeatable; wins over loadgen's own).
    #[arg(short = 'O', value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Dialect the clients speak: 8 (MSNP8) or 11 (MSNP11).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u8).range(8..=11))]
    pub dialect: u8,
    /// Worker threads of the load generator's runtime.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Seconds any single expected server line may take before the run fails.
    #[arg(long, default_value_t = 30)]
    pub line_timeout: u64,
    /// Account name prefix; each workload adds its own part to it.
    #[arg(long, default_value = "lg")]
    pub prefix: String,
    /// The workload.
    #[command(subcommand)]
    pub workload: Workload,
}

/// What to measure.
#[derive(Debug, Clone, Subcommand)]
pub enum Workload {
    /// N clients log in (SYN, CHG NLN) and stay; server RSS per client.
    Idle {
        /// Number of clients.
        n: u32,
        /// Logins running at once while connecting.
        #[arg(long, default_value_t = 64)]
        concurrency: u32,
        /// Seconds to hold every client after the last logged in, before the
        /// final sample.
        #[arg(long, default_value_t = 3)]
        hold: u64,
    },
    /// Switchboard relay between pairs: msgs/s, CPU µs per message, latency.
    Relay {
        /// Sender/receiver pairs, each in its own switchboard.
        #[arg(long, default_value_t = 1)]
        pairs: u32,
        /// Messages in flight per pair (sent, not yet received).
        #[arg(long, default_value_t = 1)]
        window: u32,
        /// MSG payload bytes (MIME header included; at least 128).
        #[arg(long, default_value_t = 256)]
        size: usize,
        /// Seconds of measurement.
        #[arg(long, default_value_t = 10)]
        duration: u64,
        /// Acknowledgement mode of the messages: N, A or U. With A the sender
        /// also measures the round trip MSG -> ACK.
        #[arg(long, default_value = "N")]
        ack: String,
    },
    /// Login storm with pre-created users: logins/s, latency, errors.
    Storm {
        /// Number of logins (distinct users).
        n: u32,
        /// Logins running at once.
        #[arg(long, default_value_t = 64)]
        concurrency: u32,
    },
    /// One user with K online watchers changes status: time until the last
    /// watcher has the NLN.
    Presence {
        /// Number of watchers.
        k: u32,
        /// Status changes measured.
        #[arg(long, default_value_t = 50)]
        repeats: u32,
    },
    /// Durable offline messages: enqueue rate (ACK after commit), then drain
    /// time at the recipients' next login.
    Offline {
        /// Messages in all.
        m: u32,
        /// Sender/recipient pairs sharing the M messages.
        #[arg(long, default_value_t = 8)]
        senders: u32,
        /// Messages awaiting ACK per sender.
        #[arg(long, default_value_t = 64)]
        window: u32,
        /// MSG payload bytes.
        #[arg(long, default_value_t = 200)]
        size: usize,
    },
    /// A bounded mix (idle clients, relay pairs, login churn, status changes)
    /// sampling server RSS and fd count every second.
    Soak {
        /// Seconds to run.
        #[arg(long, default_value_t = 60)]
        duration: u64,
        /// Idle clients held during the run.
        #[arg(long, default_value_t = 200)]
        clients: u32,
        /// Relay pairs (window 4, 256-byte messages).
        #[arg(long, default_value_t = 4)]
        pairs: u32,
    },
}

impl Workload {
    /// The workload's name in the JSON line.
    pub fn name(&self) -> &'static str {
        match self {
            Workload::Idle { .. } => "idle",
            Workload::Relay { .. } => "relay",
            Workload::Storm { .. } => "storm",
            Workload::Presence { .. } => "presence",
            Workload::Offline { .. } => "offline",
            Workload::Soak { .. } => "soak",
        }
    }
}
