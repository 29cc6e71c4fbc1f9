//! Running cases against a server: decide skip or run per dialect, provision
//! accounts, execute the steps, and collect [`CaseResult`]s. Results are plain
//! data (serializable) so other report formats can be added beside
//! `report.rs`.

mod exec;
mod macros;
pub mod matching;
pub mod plan;
pub mod provision;
pub mod random;
pub mod trace;

use std::time::Instant;

use serde::Serialize;

use crate::case::verbs::{verbs_in, verbs_in_any};
use crate::case::{Case, StepKind};
use crate::dialect::Dialect;
use crate::manifest::Manifest;
use exec::CaseRun;
use provision::ProvisionError;
use random::Rng;
pub use trace::{Direction, TraceEntry};

/// The result of one case in one dialect (or of a case skipped as a whole).
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// Case id (path below the cases directory).
    pub case: String,
    /// Case title.
    pub title: String,
    /// The dialect it ran in; `None` when skipped before choosing one.
    pub dialect: Option<Dialect>,
    /// What happened.
    pub outcome: Outcome,
    /// Wall time, in milliseconds.
    pub duration_ms: u64,
    /// The verbs the case exercises in this dialect (in all its dialects when
    /// `dialect` is `None`), sorted; see [`crate::case::verbs::verbs_in`].
    pub verbs: Vec<String>,
}

impl CaseResult {
    /// `ns/lists/add.msnp [MSNP8]`.
    pub fn name(&self) -> String {
        match self.dialect {
            Some(d) => format!("{} [{d}]", self.case),
            None => self.case.clone(),
        }
    }
}

/// Pass, fail or skip.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Outcome {
    /// Every step held.
    Pass,
    /// A step failed.
    Fail(Failure),
    /// Not run; the reason says why.
    Skip {
        /// Why.
        reason: String,
    },
}

/// Where and why a case failed.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// 1-based line of the failing statement (0: before the first step).
    pub line: usize,
    /// The statement as written.
    pub source: String,
    /// What went wrong (may span lines: expected / got).
    pub message: String,
    /// Recent traffic, oldest first.
    pub traffic: Vec<TraceEntry>,
}

/// Runs every case against the server described by `manifest`, one after
/// another, and returns one result per case and dialect.
pub async fn run_cases(manifest: &Manifest, cases: &[Case]) -> Vec<CaseResult> {
    run_cases_with(manifest, cases, |_| {}).await
}

/// Like [`run_cases`], calling `progress` as each result is ready.
pub async fn run_cases_with(
    manifest: &Manifest,
    cases: &[Case],
    mut progress: impl FnMut(&CaseResult),
) -> Vec<CaseResult> {
    let mut results = Vec::new();
    for case in cases {
        for result in run_case(manifest, case).await {
            progress(&result);
            results.push(result);
        }
    }
    results
}

/// Why `case` cannot run against `manifest` at all, if so.
pub fn skip_reason(manifest: &Manifest, case: &Case) -> Option<String> {
    if let Some(role) = case.roles.iter().find(|r| !manifest.roles.contains(r)) {
        return Some(format!(
            "needs role `{role}`, which the manifest does not claim"
        ));
    }
    if let Some(feature) = case.features.iter().find(|f| !manifest.has_feature(f)) {
        return Some(format!(
            "needs feature `{feature}`, which the manifest does not claim"
        ));
    }
    if !case
        .dialects
        .dialects()
        .iter()
        .any(|d| manifest.dialects.contains(*d))
    {
        return Some(format!(
            "written for {}; the manifest claims {}",
            case.dialects, manifest.dialects
        ));
    }
    // A session may log in with a dialect of its own (`login MSNPn`).
    let pinned = case.steps.iter().find_map(|s| match &s.kind {
        StepKind::Login {
            dialect: Some(d), ..
        } if !manifest.dialects.contains(*d) => Some(*d),
        _ => None,
    });
    if let Some(dialect) = pinned {
        return Some(format!(
            "logs a session in with {dialect}, which the manifest does not claim"
        ));
    }
    None
}

/// Runs one case in every dialect both it and the manifest name.
pub async fn run_case(manifest: &Manifest, case: &Case) -> Vec<CaseResult> {
    if let Some(reason) = skip_reason(manifest, case) {
        return vec![CaseResult {
            case: case.id.clone(),
            title: case.title.clone(),
            dialect: None,
            outcome: Outcome::Skip { reason },
            duration_ms: 0,
            verbs: verbs_in_any(case).all(),
        }];
    }
    let mut results = Vec::new();
    for dialect in case.dialects.dialects() {
        if manifest.dialects.contains(dialect) {
            let started = Instant::now();
            let outcome = run_instance(manifest, case, dialect).await;
            results.push(CaseResult {
                case: case.id.clone(),
                title: case.title.clone(),
                dialect: Some(dialect),
                outcome,
                duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                verbs: verbs_in(case, dialect).all(),
            });
        }
    }
    results
}

async fn run_instance(manifest: &Manifest, case: &Case, dialect: Dialect) -> Outcome {
    let mut rng = Rng::new();
    let accounts = match provision::provision(manifest, &case.accounts, &mut rng).await {
        Ok(a) => a,
        Err(ProvisionError::NotEnough { have, need }) => {
            return Outcome::Skip {
                reason: format!(
                    "the manifest lists {have} fixed account(s); the case needs {need}"
                ),
            };
        }
        Err(e) => {
            return Outcome::Fail(Failure {
                line: 0,
                source: "(provisioning accounts)".to_string(),
                message: e.to_string(),
                traffic: Vec::new(),
            });
        }
    };
    let nobody = provision::nobody(manifest, &mut rng);
    let mut run = CaseRun::new(manifest, dialect, accounts, nobody);
    match run.run(&case.steps).await {
        Ok(()) => Outcome::Pass,
        Err(failure) => Outcome::Fail(failure),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::parse_case;

    #[test]
    fn a_pinned_login_dialect_must_be_claimed() {
        let m = Manifest::from_toml(
            "name='x'\nhost='h'\ndialects=['MSNP8-12']\n[auth]\nnexus='http://h/'\n[ports]\nns=1\n\
             [provision]\ncommand=['x']\n",
        )
        .unwrap();
        let case = |body: &str| {
            parse_case(
                "c",
                &format!("# title: t\n# dialects: MSNP12\n# roles: ns\n# accounts: a b\n{body}"),
            )
            .unwrap()
        };
        let old = case("@a connect ns\n@a login MSNP5\n@b connect ns\n@b login\n");
        assert_eq!(
            skip_reason(&m, &old).as_deref(),
            Some("logs a session in with MSNP5, which the manifest does not claim")
        );
        let claimed = case("@a connect ns\n@a login MSNP9\n@b connect ns\n@b login\n");
        assert_eq!(skip_reason(&m, &claimed), None);
    }
}
