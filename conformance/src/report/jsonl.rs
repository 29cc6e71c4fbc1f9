//! The JSON lines report: one object per case and dialect, one per line, so
//! two runs can be compared (`msnp-conform compare`) and tools can read them.
//!
//! ```json
//! {"id":"ns/lists/add-fl.msnp","title":"...","dialect":"MSNP8","status":"fail",
//!  "reason":"expected: ...\ngot: ...","line":12,"source":"@alice < ADD ...",
//!  "duration_ms":31,"verbs":["ADD","CVR","MSG","USR","VER"]}
//! ```
//!
//! `dialect` is `null` for a case skipped as a whole (no dialect in common
//! with the manifest, or a role or feature it does not claim); `reason` is
//! `null` for a pass; `line` and `source` are present only for failures.
//! Readers ignore keys they do not know.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::runner::{CaseResult, Outcome};

/// Pass, fail or skip, as written in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every step held.
    Pass,
    /// A step failed.
    Fail,
    /// Not run.
    Skip,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skip => "skip",
        })
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonResult {
    /// Case id (path below the cases directory).
    pub id: String,
    /// Case title.
    #[serde(default)]
    pub title: String,
    /// The dialect it ran in (`MSNP8`); `None` for a case skipped as a whole.
    pub dialect: Option<String>,
    /// What happened.
    pub status: Status,
    /// Why it failed (expected and received lines) or was skipped.
    #[serde(default)]
    pub reason: Option<String>,
    /// For a failure: the 1-based line of the failing statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// For a failure: the failing statement as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Wall time, in milliseconds.
    #[serde(default)]
    pub duration_ms: u64,
    /// The verbs the case exercises in this dialect.
    #[serde(default)]
    pub verbs: Vec<String>,
}

impl From<&CaseResult> for JsonResult {
    fn from(r: &CaseResult) -> JsonResult {
        let (status, reason, line, source) = match &r.outcome {
            Outcome::Pass => (Status::Pass, None, None, None),
            Outcome::Skip { reason } => (Status::Skip, Some(reason.clone()), None, None),
            Outcome::Fail(f) => (
                Status::Fail,
                Some(f.message.clone()),
                Some(f.line),
                Some(f.source.clone()),
            ),
        };
        JsonResult {
            id: r.case.clone(),
            title: r.title.clone(),
            dialect: r.dialect.map(|d| d.to_string()),
            status,
            reason,
            line,
            source,
            duration_ms: r.duration_ms,
            verbs: r.verbs.clone(),
        }
    }
}

/// A JSON lines report could not be read.
#[derive(Debug, thiserror::Error)]
pub enum JsonlError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A line is not a result object.
    #[error("line {line}: {source}")]
    Json {
        /// 1-based line number.
        line: usize,
        /// The error.
        source: serde_json::Error,
    },
}

/// The report for `results`: one JSON object per line, each line ending in `\n`.
pub fn to_jsonl(results: &[CaseResult]) -> String {
    let mut out = String::new();
    for r in results {
        // A JsonResult holds only strings, numbers and lists: it always serializes.
        if let Ok(line) = serde_json::to_string(&JsonResult::from(r)) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// Writes [`to_jsonl`] to `path`.
pub fn write_jsonl(path: &Path, results: &[CaseResult]) -> std::io::Result<()> {
    std::fs::write(path, to_jsonl(results))
}

/// Reads a report; blank lines are ignored.
pub fn parse_jsonl(text: &str) -> Result<Vec<JsonResult>, JsonlError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|source| JsonlError::Json {
                line: i + 1,
                source,
            })
        })
        .collect()
}

/// Reads a report file.
pub fn read_jsonl(path: &Path) -> Result<Vec<JsonResult>, JsonlError> {
    let text = std::fs::read_to_string(path).map_err(|source| JsonlError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_jsonl(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Dialect;
    use crate::runner::Failure;

    fn result(case: &str, dialect: Option<Dialect>, outcome: Outcome) -> CaseResult {
        CaseResult {
            case: case.into(),
            title: format!("title of {case}"),
            dialect,
            outcome,
            duration_ms: 17,
            verbs: vec!["ADD".into(), "USR".into()],
        }
    }

    #[test]
    fn writes_one_object_per_result_and_parses_back() {
        let results = vec![
            result("a.msnp", Some(Dialect::MSNP8), Outcome::Pass),
            result(
                "b.msnp",
                None,
                Outcome::Skip {
                    reason: "written for MSNP11+".into(),
                },
            ),
            result(
                "c.msnp",
                Some(Dialect::new(9).unwrap()),
                Outcome::Fail(Failure {
                    line: 4,
                    source: "@a < QNG".into(),
                    message: "expected: @a < QNG\ngot:      \"QNG 60\"".into(),
                    traffic: Vec::new(),
                }),
            ),
        ];
        let text = to_jsonl(&results);
        assert_eq!(text.lines().count(), 3);
        // Each line is a JSON object with the documented keys.
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["id"], "a.msnp");
        assert_eq!(first["dialect"], "MSNP8");
        assert_eq!(first["status"], "pass");
        assert_eq!(first["reason"], serde_json::Value::Null);
        assert_eq!(first["duration_ms"], 17);
        assert_eq!(first["verbs"], serde_json::json!(["ADD", "USR"]));
        assert!(first.get("line").is_none());

        let back = parse_jsonl(&text).unwrap();
        assert_eq!(back.len(), 3);
        assert_eq!(back[1].dialect, None);
        assert_eq!(back[1].status, Status::Skip);
        assert_eq!(back[1].reason.as_deref(), Some("written for MSNP11+"));
        assert_eq!(back[2].status, Status::Fail);
        assert_eq!(back[2].dialect.as_deref(), Some("MSNP9"));
        assert_eq!(back[2].line, Some(4));
        assert_eq!(back[2].source.as_deref(), Some("@a < QNG"));
        assert_eq!(
            back[2].reason.as_deref(),
            Some("expected: @a < QNG\ngot:      \"QNG 60\"")
        );
        assert_eq!(back[0], JsonResult::from(&results[0]));
    }

    #[test]
    fn reads_files_and_reports_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        write_jsonl(
            &path,
            &[result("a.msnp", Some(Dialect::MSNP8), Outcome::Pass)],
        )
        .unwrap();
        assert_eq!(read_jsonl(&path).unwrap()[0].id, "a.msnp");
        // Unknown keys are ignored; missing optional keys default.
        let lenient =
            parse_jsonl("\n{\"id\":\"x\",\"dialect\":null,\"status\":\"skip\",\"extra\":1}\n")
                .unwrap();
        assert_eq!(lenient[0].verbs, Vec::<String>::new());
        let err = parse_jsonl("{\"id\":\"x\",\"dialect\":null,\"status\":\"pass\"}\nnot json\n")
            .unwrap_err();
        assert!(matches!(err, JsonlError::Json { line: 2, .. }), "{err}");
        assert!(parse_jsonl("{\"id\":\"x\",\"dialect\":null,\"status\":\"maybe\"}").is_err());
        assert!(matches!(
            read_jsonl(&dir.path().join("missing")),
            Err(JsonlError::Io { .. })
        ));
    }
}
