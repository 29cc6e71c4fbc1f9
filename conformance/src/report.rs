//! The human-readable report: one line per result, details for failures, and
//! a closing `N passed, N failed, N skipped` line. The JUnit XML (`junit`) and
//! JSON lines (`jsonl`) reports read the same [`CaseResult`]s.

pub mod jsonl;
pub mod junit;

use std::fmt::Write as _;

use crate::runner::{CaseResult, Outcome};

/// Counts of results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Skipped.
    pub skipped: usize,
}

/// Counts results by outcome.
pub fn totals(results: &[CaseResult]) -> Totals {
    let mut t = Totals::default();
    for r in results {
        match r.outcome {
            Outcome::Pass => t.passed += 1,
            Outcome::Fail(_) => t.failed += 1,
            Outcome::Skip { .. } => t.skipped += 1,
        }
    }
    t
}

/// One line for a result: `PASS ns/lists/add.msnp [MSNP8] (12 ms)`.
pub fn result_line(result: &CaseResult) -> String {
    match &result.outcome {
        Outcome::Pass => format!("PASS {} ({} ms)", result.name(), result.duration_ms),
        Outcome::Fail(f) => format!("FAIL {} at line {}", result.name(), f.line),
        Outcome::Skip { reason } => format!("SKIP {}: {reason}", result.name()),
    }
}

/// The details of a failed result, indented; empty for others.
pub fn failure_details(result: &CaseResult) -> String {
    let Outcome::Fail(f) = &result.outcome else {
        return String::new();
    };
    let mut out = String::new();
    let _ = writeln!(out, "  {} — {}", result.name(), result.title);
    let _ = writeln!(out, "  line {}: {}", f.line, f.source);
    for line in f.message.lines() {
        let _ = writeln!(out, "    {line}");
    }
    if !f.traffic.is_empty() {
        let _ = writeln!(out, "  recent traffic:");
        for entry in &f.traffic {
            let _ = writeln!(out, "    {entry}");
        }
    }
    out
}

/// The whole summary: result lines, failure details, totals.
pub fn human_summary(results: &[CaseResult]) -> String {
    let mut out = String::new();
    for r in results {
        let _ = writeln!(out, "{}", result_line(r));
    }
    let failed: Vec<&CaseResult> = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Fail(_)))
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "\nfailures:");
        for r in failed {
            let _ = writeln!(out, "{}", failure_details(r));
        }
    }
    let _ = writeln!(out, "{}", totals_line(&totals(results)));
    out
}

/// `3 passed, 1 failed, 2 skipped`.
pub fn totals_line(t: &Totals) -> String {
    format!(
        "{} passed, {} failed, {} skipped",
        t.passed, t.failed, t.skipped
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Dialect;
    use crate::runner::{Direction, Failure, TraceEntry};

    fn result(outcome: Outcome) -> CaseResult {
        CaseResult {
            case: "ns/x.msnp".into(),
            title: "a title".into(),
            dialect: Some(Dialect::MSNP8),
            outcome,
            duration_ms: 3,
            verbs: vec!["PNG".into()],
        }
    }

    #[test]
    fn summarises() {
        let results = vec![
            result(Outcome::Pass),
            result(Outcome::Skip {
                reason: "no sb".into(),
            }),
            result(Outcome::Fail(Failure {
                line: 9,
                source: "@alice < QNG".into(),
                message: "expected: @alice < QNG\ngot:      200 4".into(),
                traffic: vec![TraceEntry {
                    session: "alice".into(),
                    direction: Direction::Sent,
                    text: "PNG".into(),
                }],
            })),
        ];
        assert_eq!(
            totals(&results),
            Totals {
                passed: 1,
                failed: 1,
                skipped: 1
            }
        );
        let text = human_summary(&results);
        assert!(text.contains("PASS ns/x.msnp [MSNP8] (3 ms)"), "{text}");
        assert!(text.contains("SKIP ns/x.msnp [MSNP8]: no sb"), "{text}");
        assert!(text.contains("FAIL ns/x.msnp [MSNP8] at line 9"), "{text}");
        assert!(text.contains("    got:      200 4"), "{text}");
        assert!(text.contains("    @alice > PNG"), "{text}");
        assert!(text.ends_with("1 passed, 1 failed, 1 skipped\n"), "{text}");
    }
}
