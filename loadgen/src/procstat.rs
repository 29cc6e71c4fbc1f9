//! Server process statistics from /proc: CPU time (user + system, all
//! threads), resident memory, open file descriptors, threads.

use std::sync::OnceLock;

use serde_json::{Value, json};

/// One sample of a process.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcSample {
    /// User + system CPU time in microseconds.
    pub cpu_us: u64,
    /// Resident set size in KiB (VmRSS).
    pub rss_kib: u64,
    /// Peak resident set size in KiB (VmHWM).
    pub hwm_kib: u64,
    /// Open file descriptors.
    pub fds: u64,
    /// Threads.
    pub threads: u64,
}

impl ProcSample {
    /// The sample as JSON.
    pub fn to_json(self) -> Value {
        json!({
            "cpu_us": self.cpu_us,
            "rss_kib": self.rss_kib,
            "hwm_kib": self.hwm_kib,
            "fds": self.fds,
            "threads": self.threads,
        })
    }
}

/// Clock ticks per second of /proc/PID/stat times (`getconf CLK_TCK`, else 100).
fn clock_ticks() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|&t| t > 0)
            .unwrap_or(100)
    })
}

/// Samples process `pid`; `None` when it is gone or /proc is unreadable.
pub fn sample(pid: u32) -> Option<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 here.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    let cpu_us = (utime + stime) * 1_000_000 / clock_ticks();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count() as u64)
        .unwrap_or(0);
    Some(ProcSample {
        cpu_us,
        rss_kib: field("VmRSS:"),
        hwm_kib: field("VmHWM:"),
        fds,
        threads: field("Threads:"),
    })
}

/// The 1, 5 and 15 minute load averages of the machine.
pub fn load_average() -> Vec<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| {
            s.split_whitespace()
                .take(3)
                .filter_map(|v| v.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_this_process() {
        let s = sample(std::process::id()).unwrap();
        assert!(s.rss_kib > 0 && s.fds > 0 && s.threads > 0);
        assert_eq!(load_average().len(), 3);
    }
}
