//! The `msnpd` command line: `serve`, account administration (`user`), `ticket`,
//! `migrate` and `check-config`. Every subcommand reads the configuration the same
//! way (`--config`, `MSNPD__*` env, `-O`), so admin commands find the same store
//! as the server. Exit codes: 0 success, 1 runtime failure, 2 usage or
//! configuration error.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use msnpd::admin;
use msnpd::config::{Config, LogFormat, loader};
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

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
    /// Runs the server until SIGINT or SIGTERM.
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
    /// Checks the configuration: prints `config ok` or the problems.
    CheckConfig,
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
        println!("config ok");
        return ExitCode::SUCCESS;
    }
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .and_then(|runtime| runtime.block_on(run(cli.command, config)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("msnpd: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { ready_file } => serve(config, ready_file).await,
        Command::CheckConfig => Ok(()),
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
        }
        UserCommand::List => {
            for account in admin::list_users(store).await? {
                println!("{}\t{}", account.email, account.nick);
            }
        }
    }
    Ok(())
}

async fn open_store(config: &Config) -> anyhow::Result<msnpd::store::Store> {
    admin::open_store(config)
        .await
        .with_context(|| format!("cannot open the store {}", config.store.url))
}

async fn serve(config: Config, ready_file: Option<PathBuf>) -> anyhow::Result<()> {
    init_logging(&config)?;
    let shutdown = CancellationToken::new();
    watch_signals(shutdown.clone())?;
    msnpd::serve(config, ready_file, shutdown).await?;
    Ok(())
}

/// Logs to stderr (journald keeps it under systemd) at `log.level`, as text or
/// JSON lines.
fn init_logging(config: &Config) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log.level)
        .with_context(|| format!("bad log.level `{}`", config.log.level))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match config.log.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    installed.map_err(|e| anyhow::anyhow!("cannot set up logging: {e}"))
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
