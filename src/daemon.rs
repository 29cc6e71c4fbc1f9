//! Running the daemon: open the store, bind every enabled listener, write the
//! ready file, serve until shutdown, then drain connections and close the store.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::admin;
use crate::config::{Config, ListenerConfig, Role};
use crate::core::switchboard::SwitchboardHub;
use crate::obs::readiness::Readiness;
use crate::route::Router;
use crate::server::context::ServerContext;
use crate::server::http::admin::AdminState;
use crate::server::http::{self, HttpContext};
use crate::server::limits::Limits;
use crate::server::listener::{self, MsnpRole};
use crate::server::offline::OfflineState;
use crate::store::StoreError;
use crate::tls::{ListenerTls, TlsError, TlsListeners};

/// How long shutdown waits for connections to finish.
const DRAIN_DEADLINE: Duration = Duration::from_secs(10);

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
    let started = std::time::Instant::now();
    let admin_token = config.admin.load_token().map_err(ServeError::Config)?;
    let tls = TlsListeners::load(&config.listeners)?;
    let store = admin::open_store(&config).await?;
    let tickets = admin::ticket_key(&store, &config).await?;

    let mut bound = Vec::new();
    for (name, l) in config.listeners.iter().filter(|(_, l)| l.enabled) {
        let listener = TcpListener::bind(&l.bind)
            .await
            .map_err(|source| ServeError::Bind {
                name: name.clone(),
                addr: l.bind.clone(),
                source,
            })?;
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
        config,
    });
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
                    ticket_lifetime_secs: ctx.config.auth.ticket_lifetime_secs,
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

    if !tls.is_empty() {
        reload_tls_on_sighup(tls, ctx.config.listeners.clone(), shutdown.clone());
    }
    if let Some(path) = ready_file {
        write_ready_file(&path, &addresses)?;
    }
    readiness.set_serving(true);
    tracing::info!(listeners = ?addresses, "msnpd ready");

    shutdown.cancelled().await;
    readiness.set_serving(false);
    tracing::info!("shutting down");
    tracker.close();
    if tokio::time::timeout(DRAIN_DEADLINE, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the drain deadline");
    }
    store.close().await;
    Ok(())
}

/// Re-reads every TLS listener's certificate files on each SIGHUP until
/// `shutdown` (see [`TlsListeners::reload_tls`]): new handshakes get the new
/// certificate, established connections keep theirs, and a listener whose
/// files are broken keeps its old certificate (logged naming the file).
/// `listeners` is the configuration whose paths are re-read.
///
/// Kept apart so that a general SIGHUP configuration reload can call
/// `reload_tls` with the reloaded listener settings instead.
fn reload_tls_on_sighup(
    tls: TlsListeners,
    listeners: BTreeMap<String, ListenerConfig>,
    shutdown: CancellationToken,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangup = match signal(SignalKind::hangup()) {
        Ok(hangup) => hangup,
        Err(error) => {
            tracing::warn!(%error, "cannot watch SIGHUP; TLS certificates will not be reloaded");
            return;
        }
    };
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                received = hangup.recv() => {
                    if received.is_none() {
                        break;
                    }
                    tracing::info!("SIGHUP received, reloading TLS certificates");
                    tls.reload_tls(&listeners);
                }
            }
        }
    });
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
