//! Listening sockets handed to msnpd instead of bound by it: systemd socket
//! activation (`msnpd.socket`) or any other process that passes them the
//! same way (`LISTEN_FDS` descriptors from fd 3 on, `LISTEN_PID` unset or
//! this process, `LISTEN_FDNAMES` colon-separated). Since the sockets belong
//! to whoever passed them, they stay open while msnpd restarts: connection
//! attempts meanwhile wait in the listen backlog instead of being refused.
//!
//! Matching: when every passed name is the name of a configured listener
//! (`FileDescriptorName=ns` ...), by name; otherwise in order, the first
//! socket to the first enabled listener by name (`admin`, `http`, `ns`, `sb`
//! in the default configuration).

use std::collections::BTreeMap;
use std::net::TcpListener;

use crate::config::Config;

/// Takes the listening sockets passed in the environment, by listener name.
/// Call it before any thread starts (the crate that takes the descriptors
/// clears `LISTEN_FDS` and `LISTEN_PID` so children do not take them again).
pub fn inherited_listeners(config: &Config) -> Result<BTreeMap<String, TcpListener>, String> {
    let names = std::env::var("LISTEN_FDNAMES").ok();
    let mut fds = listenfd::ListenFd::from_env();
    let count = fds.len();
    if count == 0 {
        return Ok(BTreeMap::new());
    }
    let names: Vec<String> = names
        .map(|n| n.split(':').map(str::to_owned).collect())
        .unwrap_or_default();
    let enabled: Vec<&String> = config
        .listeners
        .iter()
        .filter(|(_, l)| l.enabled)
        .map(|(name, _)| name)
        .collect();
    let by_name = names.len() == count && names.iter().all(|n| config.listeners.contains_key(n));
    let mut out = BTreeMap::new();
    for index in 0..count {
        let name = if by_name {
            names.get(index).cloned()
        } else {
            enabled.get(index).map(|name| (*name).clone())
        };
        let Some(name) = name else {
            return Err(format!(
                "{count} sockets were passed (LISTEN_FDS) but only {} listeners are enabled",
                enabled.len()
            ));
        };
        let listener = fds
            .take_tcp_listener(index)
            .map_err(|e| format!("passed socket {index} (listener `{name}`): {e}"))?
            .ok_or_else(|| format!("passed socket {index} (listener `{name}`) is gone"))?;
        if out.insert(name.clone(), listener).is_some() {
            return Err(format!("two passed sockets are named `{name}`"));
        }
    }
    Ok(out)
}
