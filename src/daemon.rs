//! Running the daemon: open the store, bind every enabled listener (or take
//! the socket passed for it), write the ready file, tell systemd `READY=1`,
//! serve (reloading on request) until shutdown, then stop accepting, drain
//! connections within `shutdown.drain_timeout_secs` and close the store.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::admin;
use crate::config::{Config, LiveConfig, Role};
use crate::core::switchboard::SwitchboardHub;
use crate::handover;
use crate::notify;
use crate::obs::readiness::Readiness;
use crate::reload::Reloader;
use crate::route::Router;
use crate::server::context::ServerContext;
use crate::server::http::admin::AdminState;
use crate::server::http::{self, HttpContext};
use crate::server::limits::Limits;
use crate::server::listener::{self, MsnpRole};
use crate::server::offline::OfflineState;
use crate::store::StoreError;
use crate::tls::{ListenerTls, TlsError, TlsListeners};

/// How `serve` is run beyond its configuration.
#[derive(Debug, Default)]
pub struct ServeOptions {
    /// Once every listener is bound, write a JSON object mapping listener
    /// name to its bound `ip:port` here.
    pub ready_file: Option<PathBuf>,
    /// Listening sockets passed in (socket activation), by listener name;
    /// those listeners use them instead of binding.
    pub inherited: BTreeMap<String, std::net::TcpListener>,
    /// Reload requests (one per SIGHUP) and how to reload.
    pub reload: Option<(mpsc::Receiver<()>, Reloader)>,
    /// Hand-over requests (one per SIGUSR2): start a new process on the
    /// same listening sockets, then shut down (see [`crate::handover`]).
    pub handover: Option<mpsc::Receiver<()>>,
}

/// Why the daemon could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store could not be opened or migrated.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A listener could not be bound.
    #[error("listener `{name}`: cannot bind {addr}: {source}")]
    Bind {
        /// Listener name.
        name: String,
        /// Address.
        addr: String,
        /// Cause.
        source: std::io::Error,
    },
    /// A TLS listener's certificate, key or client CA is unusable.
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
    /// The configuration asks for something this build cannot do.
    #[error("{0}")]
    Config(String),
    /// The ready file could not be written.
    #[error("ready file {path}: {source}")]
    ReadyFile {
        /// Path.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
}

struct Bound {
    name: String,
    role: Role,
    tls: Option<Arc<ListenerTls>>,
    listener: TcpListener,
    advertised: String,
    target: Option<String>,
}

/// Runs the server described by `config` until `shutdown` is cancelled. Writes
/// `ready_file` (JSON: listener name → bound `ip:port`) once every listener is bound.
pub async fn serve(
    config: Config,
    ready_file: Option<PathBuf>,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let options = ServeOptions {
        ready_file,
        ..ServeOptions::default()
    };
    serve_with(config, options, shutdown).await
}

/// [`serve`] with every option.
pub async fn serve_with(
    config: Config,
    options: ServeOptions,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let ServeOptions {
        ready_file,
        mut inherited,
        reload,
        handover,
    } = options;

    let started = std::time::Instant::now();
    let admin_token = config.admin.load_token().map_err(ServeError::Config)?;
    let tls = TlsListeners::load(&config.listeners)?;
    let store = admin::open_store(&config).await?;
    let tickets = admin::ticket_key(&store, &config).await?;

    let mut bound = Vec::new();
    for (name, l) in config.listeners.iter().filter(|(_, l)| l.enabled) {
        let bind_error = |source| ServeError::Bind {
            name: name.clone(),
            addr: l.bind.clone(),
            source,
        };
        let listener = match inherited.remove(name) {
            Some(passed) => {
                passed.set_nonblocking(true).map_err(bind_error)?;
                TcpListener::from_std(passed).map_err(bind_error)?
            }
            None => TcpListener::bind(&l.bind).await.map_err(bind_error)?,
        };
        let local: SocketAddr = listener.local_addr().map_err(|source| ServeError::Bind {
            name: name.clone(),
            addr: l.bind.clone(),
            source,
        })?;
        bound.push(Bound {
            name: name.clone(),
            role: l.role,
            tls: tls.get(name),
            listener,
            advertised: l.advertise.clone().unwrap_or_else(|| local.to_string()),
            target: l.target.clone(),
        });
    }
    let by_name: BTreeMap<String, (Role, String)> = bound
        .iter()
        .map(|b| (b.name.clone(), (b.role, b.advertised.clone())))
        .collect();
    let advertised = |name: &str| by_name.get(name).map(|(_, a)| a.clone());
    let first_of = |role: Role| {
        by_name
            .values()
            .find(|(r, _)| *r == role)
            .map(|(_, a)| a.clone())
    };
    let sb_addr = first_of(Role::Switchboard).unwrap_or_default();
    if sb_addr.is_empty() && bound.iter().any(|b| b.role == Role::Notification) {
        return Err(ServeError::Config(
            "a notification listener needs a switchboard listener in the same process".into(),
        ));
    }
    let mut addresses = BTreeMap::new();
    for b in &bound {
        let local = b
            .listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        addresses.insert(b.name.clone(), local);
    }

    let lifetime = config.protocol.cookie_lifetime_secs;
    let max_users = config.limits.max_switchboard_users;
    let limits = Arc::new(Limits::new(&config.limits));
    let ctx = Arc::new(ServerContext {
        limits: Arc::clone(&limits),
        store: store.clone(),
        router: Router::new(),
        hub: SwitchboardHub::new(
            Duration::from_secs(lifetime),
            max_users,
            config.offline.enabled,
        ),
        tickets: tickets.clone(),
        sb_addr,
        offline: OfflineState::new(),
        config: LiveConfig::new(config),
    });
    for name in inherited.keys() {
        tracing::warn!(listener = %name, "a socket was passed for a listener that is not enabled; closing it");
    }
    drop(inherited);
    // Second descriptors of the listening sockets, for a hand-over.
    let mut sockets = Vec::new();
    for b in &bound {
        match b.listener.as_fd().try_clone_to_owned() {
            Ok(fd) => sockets.push((b.name.clone(), fd)),
            Err(error) => {
                tracing::warn!(listener = %b.name, %error, "cannot keep the socket for a hand-over")
            }
        }
    }
    let tracker = TaskTracker::new();
    let readiness = Arc::new(Readiness::new());
    for b in bound {
        let shutdown = shutdown.clone();
        let msnp_role = match b.role {
            Role::Notification => MsnpRole::Notification,
            Role::Switchboard => MsnpRole::Switchboard,
            Role::Dispatch => MsnpRole::Dispatch {
                ns_addr: b
                    .target
                    .as_deref()
                    .and_then(&advertised)
                    .or_else(|| first_of(Role::Notification))
                    .ok_or_else(|| {
                        ServeError::Config(format!(
                            "dispatch listener `{}` has no notification listener to send clients to",
                            b.name
                        ))
                    })?,
                own_addr: b.advertised.clone(),
            },
            Role::Http => {
                let http_ctx = Arc::new(HttpContext {
                    store: store.clone(),
                    tickets: tickets.clone(),
                    ticket_lifetime_secs: ctx.config.get().auth.ticket_lifetime_secs,
                    login_url: format!(
                        "{}://{}/login2.srf",
                        if b.tls.is_some() { "https" } else { "http" },
                        b.advertised
                    ),
                    limits: Arc::clone(&limits),
                });
                tracker.spawn(http::serve_nexus(b.listener, b.tls, http_ctx, shutdown));
                continue;
            }
            Role::Admin => {
                let state = Arc::new(AdminState {
                    ctx: Arc::clone(&ctx),
                    readiness: Arc::clone(&readiness),
                    started,
                    token: admin_token.clone(),
                });
                tracker.spawn(http::serve_admin(b.listener, b.tls, state, shutdown));
                continue;
            }
        };
        let ctx = Arc::clone(&ctx);
        tracker.spawn(listener::run(
            b.listener,
            msnp_role,
            b.tls,
            ctx,
            shutdown,
            tracker.clone(),
        ));
    }

    if let Some(path) = ready_file {
        write_ready_file(&path, &addresses)?;
    }
    readiness.set_serving(true);
    tracing::info!(listeners = ?addresses, "msnpd ready");
    notify::ready("serving");
    handover::report_ready();
    let stopped = CancellationToken::new();
    let watchdog = notify::watchdog_interval()
        .map(|interval| tokio::spawn(notify::watchdog(interval, stopped.clone())));
    if let Some((requests, reloader)) = reload {
        // Certificates are read again on every reload (see `TlsListeners`).
        let reloader = if tls.is_empty() {
            reloader
        } else {
            reloader.with_hook(Arc::new(tls))
        };
        tokio::spawn(reload_loop(
            requests,
            reloader,
            Arc::clone(&ctx),
            stopped.clone(),
        ));
    }
    match handover {
        Some(requests) => {
            tokio::spawn(handover_loop(requests, sockets, shutdown.clone()));
        }
        None => drop(sockets),
    }

    shutdown.cancelled().await;
    notify::stopping();
    let drain = Duration::from_secs(ctx.config.get().shutdown.drain_timeout_secs);
    tracing::info!(drain_timeout_secs = drain.as_secs(), "shutting down");
    readiness.set_serving(false);
    tracker.close();
    if tokio::time::timeout(drain, tracker.wait()).await.is_err() {
        tracing::warn!("connections still open after the drain deadline");
    }
    store.close().await;
    stopped.cancel();
    if let Some(watchdog) = watchdog {
        let _ = watchdog.await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// On each request, hands the listening sockets to a new process; once it is
/// ready, shuts this one down.
async fn handover_loop(
    mut requests: mpsc::Receiver<()>,
    sockets: Vec<(String, std::os::fd::OwnedFd)>,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            request = requests.recv() => if request.is_none() { return },
        }
        match handover::hand_over(&sockets).await {
            Ok(pid) => {
                tracing::info!(pid, "handed over to the new process; shutting down");
                shutdown.cancel();
                return;
            }
            Err(error) => tracing::error!(%error, "hand-over failed; still serving"),
        }
    }
}

/// Runs one reload per request until `stopped`, bracketed by `RELOADING=1`
/// and `READY=1`.
async fn reload_loop(
    mut requests: mpsc::Receiver<()>,
    reloader: Reloader,
    ctx: Arc<ServerContext>,
    stopped: CancellationToken,
) {
    let reloader = Arc::new(reloader);
    loop {
        tokio::select! {
            _ = stopped.cancelled() => return,
            request = requests.recv() => if request.is_none() { return },
        }
        notify::reloading();
        let (reloader, ctx_ref) = (Arc::clone(&reloader), Arc::clone(&ctx));
        let report =
            tokio::task::spawn_blocking(move || reloader.reload(&ctx_ref.config, &ctx_ref.limits))
                .await;
        let summary = match report {
            Ok(report) => report.summary(),
            Err(error) => format!("reload failed: {error}"),
        };
        tracing::info!("{summary}");
        notify::ready(&summary);
    }
}

/// Writes the ready file atomically (temporary file, then rename).
fn write_ready_file(
    path: &PathBuf,
    addresses: &BTreeMap<String, String>,
) -> Result<(), ServeError> {
    let err = |source| ServeError::ReadyFile {
        path: path.display().to_string(),
        source,
    };
    let json =
        serde_json::to_string(addresses).map_err(|e| err(std::io::Error::other(e.to_string())))?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, json).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}
