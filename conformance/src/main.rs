//! The `msnp-conform` command: `run` the cases against a server described by a
//! manifest (human summary, `--junit`, `--json`), `list` them, `compare` two
//! JSON lines reports, report verb `coverage` against a registry, and
//! `check-manifest`. Exit codes are documented in `man/msnp-conform.1`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use msnp_conform::compare::compare;
use msnp_conform::coverage::coverage;
use msnp_conform::manifest::ManifestError;
use msnp_conform::registry::Registry;
use msnp_conform::report::jsonl::{read_jsonl, write_jsonl};
use msnp_conform::report::junit::write_junit;
use msnp_conform::report::{failure_details, result_line, totals, totals_line};
use msnp_conform::runner::plan::plan;
use msnp_conform::{
    Case, DialectSet, Manifest, default_registry_path, filter_cases, load_cases, run_cases_with,
    shipped_cases_dir,
};

/// Exit code: the command ran and found nothing wrong.
const OK: u8 = 0;
/// Exit code: a case failed, a regression, a gap (with `--fail-on-gaps`), or
/// an invalid manifest (`check-manifest`).
const FOUND: u8 = 1;
/// Exit code: an input (manifest, case, report, registry) could not be read,
/// a report could not be written, or the command line is wrong.
const BROKEN: u8 = 2;

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
        /// Also write a JUnit XML report to this file.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Also write a JSON lines report to this file.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
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
    /// Compare two JSON lines reports; exit 1 if anything regressed.
    Compare {
        /// The earlier report.
        old: PathBuf,
        /// The later report.
        new: PathBuf,
    },
    /// List the verb x dialect pairs of a registry that no case exercises.
    Coverage {
        /// Directory of `.msnp` cases (default: the shipped cases).
        #[arg(long)]
        cases: Option<PathBuf>,
        /// The verb registry (TOML; default: protocol-spec/registry.toml next
        /// to the conformance crate).
        #[arg(long)]
        registry: Option<PathBuf>,
        /// Report only these dialects, e.g. `MSNP8-12` (default: the dialects
        /// the registry spans).
        #[arg(long, conflicts_with = "manifest")]
        dialects: Option<String>,
        /// Report only the dialects this manifest claims.
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// Exit 1 when a pair has no case.
        #[arg(long)]
        fail_on_gaps: bool,
    },
    /// Check a manifest and show what it claims; exit 1 if it is invalid.
    CheckManifest {
        /// The manifest (TOML).
        manifest: PathBuf,
        /// Also show which of these cases would run or be skipped.
        #[arg(long)]
        cases: Option<PathBuf>,
    },
}

/// A failed command: what to print and the exit code.
struct Failed(u8, String);

type CmdResult = Result<u8, Failed>;

fn broken(e: impl std::fmt::Display) -> Failed {
    Failed(BROKEN, e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            manifest,
            cases,
            filter,
            junit,
            json,
        } => run(&manifest, cases, filter, junit, json),
        Command::List { cases, filter } => list(cases, filter),
        Command::Compare { old, new } => compare_reports(&old, &new),
        Command::Coverage {
            cases,
            registry,
            dialects,
            manifest,
            fail_on_gaps,
        } => report_coverage(cases, registry, dialects, manifest, fail_on_gaps),
        Command::CheckManifest { manifest, cases } => check_manifest(&manifest, cases),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Failed(code, message)) => {
            eprintln!("msnp-conform: {message}");
            ExitCode::from(code)
        }
    }
}

fn load(dir: Option<PathBuf>, filter: Option<&str>) -> Result<Vec<Case>, Failed> {
    let dir = dir.unwrap_or_else(shipped_cases_dir);
    load_cases(&dir)
        .map(|all| filter_cases(all, filter))
        .map_err(broken)
}

fn list(cases: Option<PathBuf>, filter: Option<String>) -> CmdResult {
    for case in load(cases, filter.as_deref())? {
        println!("{}  [{}]  {}", case.id, case.dialects, case.title);
    }
    Ok(OK)
}

fn run(
    manifest: &Path,
    cases: Option<PathBuf>,
    filter: Option<String>,
    junit: Option<PathBuf>,
    json: Option<PathBuf>,
) -> CmdResult {
    let manifest = Manifest::load(manifest).map_err(broken)?;
    let cases = load(cases, filter.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| broken(format!("cannot start the runtime: {e}")))?;
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
    if let Some(path) = junit {
        write_junit(&path, &manifest.name, &results)
            .map_err(|e| broken(format!("{}: {e}", path.display())))?;
    }
    if let Some(path) = json {
        write_jsonl(&path, &results).map_err(|e| broken(format!("{}: {e}", path.display())))?;
    }
    Ok(if t.failed > 0 { FOUND } else { OK })
}

fn compare_reports(old: &Path, new: &Path) -> CmdResult {
    let read =
        |path: &Path| read_jsonl(path).map_err(|e| broken(format!("{}: {e}", path.display())));
    let comparison = compare(&read(old)?, &read(new)?).map_err(broken)?;
    print!("{}", comparison.render());
    Ok(if comparison.has_regressions() {
        FOUND
    } else {
        OK
    })
}

fn report_coverage(
    cases: Option<PathBuf>,
    registry: Option<PathBuf>,
    dialects: Option<String>,
    manifest: Option<PathBuf>,
    fail_on_gaps: bool,
) -> CmdResult {
    let registry_path = registry.unwrap_or_else(default_registry_path);
    let registry = Registry::load(&registry_path).map_err(broken)?;
    let cases = load(cases, None)?;
    let dialects: DialectSet = match (dialects, manifest) {
        (Some(text), _) => text
            .parse()
            .map_err(|e| broken(format!("--dialects: {e}")))?,
        (None, Some(path)) => Manifest::load(&path).map_err(broken)?.dialects,
        (None, None) => registry.span(),
    };
    let report = coverage(&registry, &cases, &dialects);
    print!("{}", report.render());
    Ok(if fail_on_gaps && !report.gaps().is_empty() {
        FOUND
    } else {
        OK
    })
}

fn check_manifest(path: &Path, cases: Option<PathBuf>) -> CmdResult {
    let manifest = match Manifest::load(path) {
        Ok(m) => m,
        Err(e @ ManifestError::Io { .. }) => return Err(broken(e)),
        Err(e) => return Err(Failed(FOUND, format!("{}: {e}", path.display()))),
    };
    println!("{}: valid", path.display());
    print!("{}", manifest.describe());
    if let Some(dir) = cases {
        let cases = load(Some(dir), None)?;
        println!();
        print!("{}", plan(&manifest, &cases).render());
    }
    Ok(OK)
}
