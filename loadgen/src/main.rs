//! The `loadgen` command: parses the workload, raises the open-file limit, runs
//! it and prints its one JSON line on stdout. Exit code 0 when the workload ran
//! (its results may still count errors), 1 when it could not run, 2 on usage
//! errors.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = loadgen::cli::Cli::parse();
    match loadgen::run(cli) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::from(1)
        }
    }
}
