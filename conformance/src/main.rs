//! The `msnp-conform` command: `run` the cases against a server described by a
//! manifest, or `list` them.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use msnp_conform::report::{failure_details, result_line, totals, totals_line};
use msnp_conform::{Manifest, filter_cases, load_cases, run_cases_with, shipped_cases_dir};

#[derive(Parser)]
#[command(
    name = "msnp-conform",
    version,
    about = "Conformance suite for MSNP servers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run cases against a server; exit 1 if any fails.
    Run {
        /// The server's manifest (TOML).
        #[arg(long)]
        manifest: PathBuf,
        /// Directory of `.msnp` cases (default: the shipped cases).
        #[arg(long)]
        cases: Option<PathBuf>,
        /// Only cases whose path contains this text.
        #[arg(long)]
        filter: Option<String>,
    },
    /// Parse the cases and list them.
    List {
        /// Directory of `.msnp` cases (default: the shipped cases).
        #[arg(long)]
        cases: Option<PathBuf>,
        /// Only cases whose path contains this text.
        #[arg(long)]
        filter: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::List { cases, filter } => {
            let dir = cases.unwrap_or_else(shipped_cases_dir);
            match load_cases(&dir) {
                Ok(all) => {
                    for case in filter_cases(all, filter.as_deref()) {
                        println!("{}  [{}]  {}", case.id, case.dialects, case.title);
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("msnp-conform: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Run {
            manifest,
            cases,
            filter,
        } => {
            let manifest = match Manifest::load(&manifest) {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("msnp-conform: {e}");
                    return ExitCode::from(2);
                }
            };
            let dir = cases.unwrap_or_else(shipped_cases_dir);
            let cases = match load_cases(&dir) {
                Ok(all) => filter_cases(all, filter.as_deref()),
                Err(e) => {
                    eprintln!("msnp-conform: {e}");
                    return ExitCode::from(2);
                }
            };
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("msnp-conform: cannot start the runtime: {e}");
                    return ExitCode::from(2);
                }
            };
            println!("running {} case(s) against {}", cases.len(), manifest.name);
            let results = runtime.block_on(run_cases_with(&manifest, &cases, |r| {
                println!("{}", result_line(r));
            }));
            let t = totals(&results);
            if t.failed > 0 {
                println!("\nfailures:");
                for r in &results {
                    let details = failure_details(r);
                    if !details.is_empty() {
                        println!("{details}");
                    }
                }
            }
            println!("{}", totals_line(&t));
            if t.failed > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}
