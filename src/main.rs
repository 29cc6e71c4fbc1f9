//! The `msnpd` command line: `serve`, account administration (`user`), `ticket`,
//! `migrate`, `check-config`, `gen-cert`, the operator commands that talk to
//! the running server's admin listener (`kick`, `broadcast`, `stats`) and the
//! health check `probe`. Every subcommand reads the configuration the same way
//! (`--config`, `MSNPD__*` env, `-O`), so admin commands find the same store
//! and admin listener as the server. Exit codes: 0 success, 1 runtime failure
//! (or a failed probe), 2 usage or configuration error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use msnpd::config::{Config, LogFormat, Role, TlsMode, loader};
use msnpd::reload::{ReloadHook, Reloader};
use msnpd::tls::{TlsListeners, gen_cert};
use msnpd::{admin, admin_client, probe};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Registry, reload};

/// A server for the MSN Messenger protocol family (MSNP).
#[derive(Debug, Parser)]
#[command(name = "msnpd", version, about)]
struct Cli {
    /// TOML configuration file (default: the embedded default configuration).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Sets one configuration key, e.g. `-O store.url=sqlite://./x.sqlite`
    /// (repeatable; wins over the file and `MSNPD__SECTION__KEY` variables).
    #[arg(short = 'O', global = true, value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the server until SIGINT or SIGTERM; SIGHUP reloads the
    /// configuration; SIGUSR2 hands the listening sockets to a new msnpd and
    /// then shuts down. Listening sockets passed by systemd socket activation
    /// (LISTEN_FDS, LISTEN_FDNAMES) are used instead of binding.
    Serve {
        /// Once every listener is bound, write a JSON object mapping listener
        /// name to its bound ip:port to this file.
        #[arg(long, value_name = "PATH")]
        ready_file: Option<PathBuf>,
    },
    /// Manages accounts (works while the server runs).
    #[command(subcommand)]
    User(UserCommand),
    /// Prints a valid login ticket for an account, alone on stdout. With several
    /// accounts, prints one ticket per line in the order given (for load tests).
    Ticket {
        /// The account(s).
        #[arg(required = true, num_args = 1..)]
        emails: Vec<String>,
    },
    /// Creates or upgrades the store's tables.
    Migrate,
    /// Checks the configuration (and loads every TLS listener's certificate,
    /// key and client CA): prints `config ok` or the problems.
    CheckConfig,
    /// Ends a user's session on the running server (`OUT OTH`).
    Kick {
        /// The account.
        email: String,
    },
    /// Sends every online user a notice on the running server.
    Broadcast {
        /// The text (an alert in MSNP5+ clients; MSNP2-4 have no alerts).
        text: Option<String>,
        /// Also announce maintenance in this many minutes (every dialect).
        #[arg(long, value_name = "MINUTES")]
        maintenance: Option<u32>,
    },
    /// Prints the running server's figures: online users, connections,
    /// switchboards, uptime.
    Stats {
        /// Print the JSON the server sent.
        #[arg(long)]
        json: bool,
    },
    /// Logs two probe accounts in at ADDR, checks presence and a switchboard
    /// message; prints one line and exits 0 (ok) or 1 (failed).
    Probe {
        /// The dispatch or notification listener, host:port (its host is the
        /// TLS server name with --tls).
        addr: String,
        /// The nexus (http listener), host:port, or https://host:port for
        /// HTTPS (default: probe.nexus, else the http listener of the
        /// configuration).
        #[arg(long, value_name = "[https://]HOST:PORT")]
        nexus: Option<String>,
        /// The first probe account (default: probe.account_a).
        #[arg(long, value_name = "EMAIL")]
        account_a: Option<String>,
        /// The second probe account (default: probe.account_b).
        #[arg(long, value_name = "EMAIL")]
        account_b: Option<String>,
        /// The probe accounts' password (default: probe.password). Prefer
        /// the configuration or MSNPD__PROBE__PASSWORD: flags show in `ps`.
        #[arg(long)]
        password: Option<String>,
        /// Use TLS on every MSNP connection (dispatch, notification,
        /// switchboard) (default: probe.tls). Needs --ca-file.
        #[arg(long)]
        tls: bool,
        /// PEM file of the CA certificates trusted for TLS and for
        /// https:// nexus URLs (default: probe.ca_file). No system roots.
        #[arg(long, value_name = "PEM")]
        ca_file: Option<PathBuf>,
    },
    /// Writes a self-signed test certificate (`DIR/cert.pem`) and its key
    /// (`DIR/key.pem`, mode 0600) for a TLS listener.
    GenCert {
        /// Directory to write into (created).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// A DNS name or IP address the certificate is for (repeatable; the
        /// first is also the common name). Default: localhost, 127.0.0.1, ::1.
        #[arg(long = "name", value_name = "HOST")]
        names: Vec<String>,
        /// Replace existing files.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Creates an account.
    Add {
        /// The account name (an email address; stored in lower case).
        email: String,
        /// Its password.
        #[arg(long)]
        password: String,
        /// Its friendly name (default: the email).
        #[arg(long)]
        nick: Option<String>,
    },
    /// Changes an account's password.
    Passwd {
        /// The account.
        email: String,
        /// The new password.
        #[arg(long)]
        password: String,
    },
    /// Creates numbered test accounts PREFIX<n>@DOMAIN for n in
    /// FIRST..FIRST+COUNT, all with the same password, hashed once (for load
    /// tests and benchmarks; existing accounts are left as they are).
    AddMany {
        /// Name before the number, e.g. `load` gives load0@example.com, ...
        #[arg(long)]
        prefix: String,
        /// How many accounts.
        #[arg(long)]
        count: u32,
        /// Number of the first account.
        #[arg(long, default_value_t = 0)]
        first: u32,
        /// Domain of the accounts.
        #[arg(long, default_value = "example.com")]
        domain: String,
        /// The password of every account.
        #[arg(long)]
        password: String,
    },
    /// Deletes an account and every list entry naming it.
    Del {
        /// The account.
        email: String,
    },
    /// Lists accounts, one `email<TAB>nick` per line.
    List,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match loader::load_from_process(cli.config.as_deref(), &cli.overrides) {
        Ok(config) => config,
        Err(e) => {
            let message = e.to_string();
            if message.contains('\n') {
                eprintln!(
                    "msnpd: bad configuration:\n  {}",
                    message.replace('\n', "\n  ")
                );
            } else {
                eprintln!("msnpd: bad configuration: {message}");
            }
            return ExitCode::from(2);
        }
    };
    if let Command::CheckConfig = cli.command {
        if let Err(e) = TlsListeners::load(&config.listeners) {
            eprintln!("msnpd: bad configuration: TLS: {e}");
            return ExitCode::from(2);
        }
        println!("config ok");
        return ExitCode::SUCCESS;
    }
    if let Command::Probe {
        addr,
        nexus,
        account_a,
        account_b,
        password,
        tls,
        ca_file,
    } = &cli.command
    {
        let flags = ProbeFlags {
            nexus: nexus.clone(),
            account_a: account_a.clone(),
            account_b: account_b.clone(),
            password: password.clone(),
            tls: *tls,
            ca_file: ca_file.clone(),
        };
        let settings = match probe_settings(&config, addr, flags) {
            Ok(settings) => settings,
            Err(e) => {
                eprintln!("msnpd: {e}");
                return ExitCode::from(2);
            }
        };
        return probe(&settings);
    }
    if let Command::GenCert { out, names, force } = &cli.command {
        return match gen_cert::write(out, names, *force) {
            Ok(written) => {
                println!("certificate {}", written.cert.display());
                println!("private key {}", written.key.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("msnpd: gen-cert: {e}");
                ExitCode::from(1)
            }
        };
    }
    // Passed sockets are taken while the process has one thread.
    let inherited = match cli.command {
        Command::Serve { .. } => match msnpd::activation::inherited_listeners(&config) {
            Ok(inherited) => inherited,
            Err(e) => {
                eprintln!("msnpd: {e}");
                return ExitCode::from(2);
            }
        },
        _ => BTreeMap::new(),
    };
    let source = ConfigSource {
        file: cli.config.clone(),
        overrides: cli.overrides.clone(),
    };
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .and_then(|runtime| runtime.block_on(run(cli.command, config, source, inherited)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("msnpd: {e:#}");
            let config_problem = e
                .downcast_ref::<admin_client::AdminCallError>()
                .is_some_and(admin_client::AdminCallError::is_config);
            ExitCode::from(if config_problem { 2 } else { 1 })
        }
    }
}

/// Where the configuration came from, to read it again on reload.
#[derive(Debug, Clone)]
struct ConfigSource {
    file: Option<PathBuf>,
    overrides: Vec<String>,
}

async fn run(
    command: Command,
    config: Config,
    source: ConfigSource,
    inherited: BTreeMap<String, std::net::TcpListener>,
) -> anyhow::Result<()> {
    match command {
        Command::Serve { ready_file } => serve(config, ready_file, source, inherited).await,
        Command::CheckConfig | Command::GenCert { .. } => Ok(()),
        Command::Migrate => {
            let store = open_store(&config).await?;
            store.close().await;
            println!("store {} is up to date", config.store.url);
            Ok(())
        }
        Command::Ticket { emails } => {
            let store = open_store(&config).await?;
            let tickets = admin::issue_tickets(&store, &config, &emails).await;
            store.close().await;
            let mut out = String::new();
            for ticket in tickets? {
                out.push_str(&ticket);
                out.push('\n');
            }
            print!("{out}");
            Ok(())
        }
        Command::Kick { email } => {
            let answer = admin_call(&config, "POST", &kick_path(&email), b"").await?;
            let kicked: serde_json::Value =
                serde_json::from_str(&answer).context("the server's answer is not JSON")?;
            if kicked["kicked"] == serde_json::Value::Bool(true) {
                println!("{} kicked", email.to_ascii_lowercase());
                Ok(())
            } else {
                anyhow::bail!("{} is not online", email.to_ascii_lowercase())
            }
        }
        Command::Broadcast { text, maintenance } => {
            let path = match maintenance {
                Some(m) => format!("/admin/broadcast?maintenance={m}"),
                None => "/admin/broadcast".to_string(),
            };
            let body = text.unwrap_or_default();
            let answer = admin_call(&config, "POST", &path, body.as_bytes()).await?;
            let outcome: serde_json::Value =
                serde_json::from_str(&answer).context("the server's answer is not JSON")?;
            println!(
                "broadcast sent to {} online users ({} could not take it)",
                outcome["sent"], outcome["failed"]
            );
            Ok(())
        }
        Command::Stats { json } => {
            let answer = admin_call(&config, "GET", "/admin/stats", b"").await?;
            if json {
                println!("{answer}");
                return Ok(());
            }
            let stats: serde_json::Value =
                serde_json::from_str(&answer).context("the server's answer is not JSON")?;
            println!("online_users {}", stats["online_users"]);
            println!("connections {}", stats["connections"]);
            if let Some(rows) = stats["connections_by_dialect"].as_array() {
                for row in rows {
                    println!(
                        "connections.{}.{} {}",
                        row["role"].as_str().unwrap_or("?"),
                        row["dialect"].as_str().unwrap_or("?"),
                        row["open"]
                    );
                }
            }
            println!("switchboards {}", stats["switchboards"]);
            println!("uptime_secs {}", stats["uptime_secs"]);
            Ok(())
        }
        Command::Probe { .. } => Ok(()),
        Command::User(user) => {
            let store = open_store(&config).await?;
            let result = user_command(&store, &config, user).await;
            store.close().await;
            result
        }
    }
}

async fn user_command(
    store: &msnpd::store::Store,
    config: &Config,
    command: UserCommand,
) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            email,
            password,
            nick,
        } => {
            let account =
                admin::add_user(store, config, &email, &password, nick.as_deref()).await?;
            println!("user {} added", account.email);
        }
        UserCommand::AddMany {
            prefix,
            count,
            first,
            domain,
            password,
        } => {
            let emails: Vec<String> = (first..first.saturating_add(count))
                .map(|n| format!("{prefix}{n}@{domain}"))
                .collect();
            let added = admin::add_many_users(store, config, &emails, &password).await?;
            println!(
                "{added} users added, {} already existed",
                emails.len() - added
            );
        }
        UserCommand::Passwd { email, password } => {
            admin::set_password(store, config, &email, &password).await?;
            println!("password of {} changed", email.to_ascii_lowercase());
        }
        UserCommand::Del { email } => {
            admin::delete_user(store, &email).await?;
            println!("user {} deleted", email.to_ascii_lowercase());
            disconnect_deleted(config, &email).await;
        }
        UserCommand::List => {
            for account in admin::list_users(store).await? {
                println!("{}\t{}", account.email, account.nick);
            }
        }
    }
    Ok(())
}

/// Calls the running server's admin API; non-2xx answers are errors.
async fn admin_call(
    config: &Config,
    method: &str,
    path: &str,
    body: &[u8],
) -> anyhow::Result<String> {
    let answer = admin_client::call(config, method, path, body).await?;
    if !(200..300).contains(&answer.status) {
        anyhow::bail!(
            "the server answered HTTP {}: {}",
            answer.status,
            answer.body.trim()
        );
    }
    Ok(answer.body)
}

/// `/admin/kick?user=EMAIL`, the email percent-encoded.
fn kick_path(email: &str) -> String {
    let encoded = percent_encoding::utf8_percent_encode(email, percent_encoding::NON_ALPHANUMERIC);
    format!("/admin/kick?user={encoded}")
}

/// After `user del`: ends the user's session on the running server, if there
/// is one and an admin token is configured; otherwise says why not.
async fn disconnect_deleted(config: &Config, email: &str) {
    match admin_client::call(config, "POST", &kick_path(email), b"").await {
        Ok(answer) if answer.body.contains("\"kicked\":true") => {
            println!(
                "{} was online and has been disconnected",
                email.to_ascii_lowercase()
            );
        }
        Ok(answer) if (200..300).contains(&answer.status) => {}
        Ok(answer) => eprintln!(
            "msnpd: could not disconnect {email}: HTTP {} {}",
            answer.status,
            answer.body.trim()
        ),
        Err(admin_client::AdminCallError::Unreachable { .. }) => {}
        Err(e) => eprintln!("msnpd: note: not disconnecting {email} if online: {e}"),
    }
}

/// The flags of `msnpd probe` (besides ADDR).
struct ProbeFlags {
    nexus: Option<String>,
    account_a: Option<String>,
    account_b: Option<String>,
    password: Option<String>,
    tls: bool,
    ca_file: Option<PathBuf>,
}

/// The probe's settings: flags, then `[probe]`, then the configuration's
/// http listener for the nexus.
fn probe_settings(
    config: &Config,
    addr: &str,
    flags: ProbeFlags,
) -> Result<probe::ProbeSettings, String> {
    let ProbeFlags {
        nexus,
        account_a,
        account_b,
        password,
        tls,
        ca_file,
    } = flags;
    let p = &config.probe;
    let pick = |flag: Option<String>, key: &str, value: &str| {
        flag.or_else(|| (!value.is_empty()).then(|| value.to_owned()))
            .ok_or_else(|| format!("probe: set probe.{key} or --{}", key.replace('_', "-")))
    };
    let nexus = nexus
        .or_else(|| (!p.nexus.is_empty()).then(|| p.nexus.clone()))
        .or_else(|| {
            config
                .listeners
                .values()
                .find(|l| l.enabled && l.role == Role::Http)
                .map(|l| {
                    let addr = admin_client::loopback_if_unspecified(
                        l.advertise.as_deref().unwrap_or(&l.bind),
                    );
                    match l.tls {
                        TlsMode::Implicit => format!("https://{addr}"),
                        TlsMode::None => addr,
                    }
                })
        })
        .ok_or("probe: set probe.nexus or --nexus (no http listener configured)")?;
    let tls = tls || p.tls;
    let ca_file = ca_file.or_else(|| (!p.ca_file.is_empty()).then(|| PathBuf::from(&p.ca_file)));
    let roots = match ca_file {
        Some(path) => Some(probe::Roots::from_pem_file(&path).map_err(|e| format!("probe: {e}"))?),
        None if tls => return Err("probe: --tls needs --ca-file (or probe.ca_file)".into()),
        None if nexus.starts_with("https://") => {
            return Err(format!(
                "probe: the nexus {nexus} needs --ca-file (or probe.ca_file)"
            ));
        }
        None => None,
    };
    Ok(probe::ProbeSettings {
        addr: addr.to_owned(),
        nexus,
        account_a: pick(account_a, "account_a", &p.account_a)?,
        account_b: pick(account_b, "account_b", &p.account_b)?,
        password: pick(password, "password", &p.password)?,
        timeout: std::time::Duration::from_secs(p.timeout_secs),
        tls,
        roots,
    })
}

/// Runs the probe and prints its one line: exit 0 when it passed, 1 when not.
fn probe(settings: &probe::ProbeSettings) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            println!("probe FAILED step=start error=cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(probe::run(settings)) {
        Ok(timings) => {
            println!("{timings}");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            println!("{failure}");
            ExitCode::from(1)
        }
    }
}

async fn open_store(config: &Config) -> anyhow::Result<msnpd::store::Store> {
    admin::open_store(config)
        .await
        .with_context(|| format!("cannot open the store {}", config.store.url))
}

async fn serve(
    config: Config,
    ready_file: Option<PathBuf>,
    source: ConfigSource,
    inherited: BTreeMap<String, std::net::TcpListener>,
) -> anyhow::Result<()> {
    let log_filter = init_logging(&config)?;
    // Test builds only: failpoints from the FAILPOINTS variable (src/failpoints.rs).
    #[cfg(feature = "failpoints")]
    let _failpoints = fail::FailScenario::setup();
    let shutdown = CancellationToken::new();
    watch_signals(shutdown.clone())?;
    let requests = watch_reload_signal()?;
    let handover = watch_signal(
        SignalKind::user_defined2(),
        "SIGUSR2",
        "handing over to a new process",
    )?;
    let reloader = Reloader::new(Box::new(move || {
        loader::load_from_process(source.file.as_deref().map(Path::new), &source.overrides)
    }))
    .with_hook(log_filter);
    let options = msnpd::ServeOptions {
        ready_file,
        inherited,
        reload: Some((requests, reloader)),
        handover: Some(handover),
    };
    msnpd::serve_with(config, options, shutdown).await?;
    Ok(())
}

/// Logs to stderr (journald keeps it under systemd) at `log.level`, as text or
/// JSON lines. Returns the hook that swaps the level filter on reload.
fn init_logging(config: &Config) -> anyhow::Result<Arc<LogFilter>> {
    let filter = EnvFilter::try_new(&config.log.level)
        .with_context(|| format!("bad log.level `{}`", config.log.level))?;
    let (filter, handle) = reload::Layer::new(filter);
    // Colours only on a terminal, not in journald or a log file.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let (text, json) = match config.log.format {
        LogFormat::Text => (
            Some(
                tracing_subscriber::fmt::layer()
                    .with_ansi(ansi)
                    .with_writer(std::io::stderr),
            ),
            None,
        ),
        LogFormat::Json => (
            None,
            Some(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr),
            ),
        ),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(text)
        .with(json)
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot set up logging: {e}"))?;
    Ok(Arc::new(LogFilter {
        handle,
        level: std::sync::Mutex::new(config.log.level.clone()),
    }))
}

/// The reload hook for `log.level`: swaps the filter of the running subscriber.
struct LogFilter {
    handle: reload::Handle<EnvFilter, Registry>,
    level: std::sync::Mutex<String>,
}

impl ReloadHook for LogFilter {
    fn name(&self) -> &str {
        "log filter"
    }

    fn apply(&self, config: &Config) -> Result<(), String> {
        let mut level = self.level.lock().unwrap_or_else(|p| p.into_inner());
        if *level == config.log.level {
            return Ok(());
        }
        let filter = EnvFilter::try_new(&config.log.level).map_err(|e| e.to_string())?;
        self.handle.reload(filter).map_err(|e| e.to_string())?;
        level.clone_from(&config.log.level);
        tracing::info!(level = %config.log.level, "log filter changed");
        Ok(())
    }
}

/// One reload request per SIGHUP (requests arriving during a reload merge
/// into one more reload).
fn watch_reload_signal() -> anyhow::Result<mpsc::Receiver<()>> {
    watch_signal(
        SignalKind::hangup(),
        "SIGHUP",
        "reloading the configuration",
    )
}

/// One request per `kind` signal; requests arriving while one is handled
/// merge into one more.
fn watch_signal(
    kind: SignalKind,
    name: &'static str,
    what: &'static str,
) -> anyhow::Result<mpsc::Receiver<()>> {
    let mut signals = signal(kind).with_context(|| format!("cannot watch {name}"))?;
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        while signals.recv().await.is_some() {
            tracing::info!("{name} received, {what}");
            let _ = tx.try_send(());
        }
    });
    Ok(rx)
}

/// Cancels `shutdown` on the first SIGINT or SIGTERM; a second one exits at once.
fn watch_signals(shutdown: CancellationToken) -> anyhow::Result<()> {
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!("SIGINT received, shutting down"),
            _ = terminate.recv() => tracing::info!("SIGTERM received, shutting down"),
        }
        shutdown.cancel();
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        tracing::warn!("second signal received, exiting without a clean shutdown");
        std::process::exit(1);
    });
    Ok(())
}
