//! Comparing two JSON lines reports (`msnp-conform compare old.jsonl
//! new.jsonl`): regressions (pass → fail, pass → skip, a result that is
//! missing from the new run), fixes (fail → pass), new results, and other
//! changes (skip → pass, skip → fail, fail → skip).
//!
//! Results are matched by case id and dialect. A case skipped as a whole has
//! no dialect (`null`); it stands for each dialect of that case in the other
//! report, so `pass [MSNP8]` then `skip [null]` is a pass → skip regression.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::report::jsonl::{JsonResult, Status};

/// A report cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompareError {
    /// The same case and dialect appear twice in one report.
    #[error("the {which} report has {key} twice")]
    Duplicate {
        /// `old` or `new`.
        which: &'static str,
        /// `id [dialect]`.
        key: String,
    },
}

/// What kind of change a [`Change`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    /// pass → fail or pass → skip.
    Regressed,
    /// In the old report, not in the new one.
    Missing,
    /// fail → pass.
    Fixed,
    /// In the new report, not in the old one.
    New,
    /// Another change of status (skip → pass, skip → fail, fail → skip).
    Changed,
}

/// One result that differs between the reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What changed.
    pub kind: ChangeKind,
    /// Case id.
    pub id: String,
    /// Dialect (`None`: the case as a whole).
    pub dialect: Option<String>,
    /// Status in the old report (`None`: absent).
    pub old: Option<Status>,
    /// Status in the new report (`None`: absent).
    pub new: Option<Status>,
    /// The new reason (failure or skip), if any.
    pub reason: Option<String>,
}

impl Change {
    /// `id [dialect]`.
    pub fn name(&self) -> String {
        key_name(&self.id, self.dialect.as_deref())
    }
}

/// The differences between two reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// pass → fail, pass → skip, and results missing from the new report.
    pub regressions: Vec<Change>,
    /// fail → pass.
    pub fixes: Vec<Change>,
    /// Results only in the new report.
    pub new: Vec<Change>,
    /// Other status changes.
    pub changed: Vec<Change>,
    /// Results with the same status in both.
    pub unchanged: usize,
}

impl Comparison {
    /// Whether anything regressed.
    pub fn has_regressions(&self) -> bool {
        !self.regressions.is_empty()
    }

    /// The comparison as text: one section per non-empty kind, then counts.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (title, changes) in [
            ("regressions", &self.regressions),
            ("fixes", &self.fixes),
            ("new", &self.new),
            ("other changes", &self.changed),
        ] {
            if changes.is_empty() {
                continue;
            }
            let _ = writeln!(out, "{title} ({}):", changes.len());
            for c in changes {
                let _ = writeln!(out, "  {}", change_line(c));
            }
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "{} regression(s), {} fix(es), {} new, {} other change(s), {} unchanged",
            self.regressions.len(),
            self.fixes.len(),
            self.new.len(),
            self.changed.len(),
            self.unchanged
        );
        out
    }
}

fn status_text(s: Option<Status>) -> String {
    s.map_or_else(|| "(missing)".to_string(), |s| s.to_string())
}

fn change_line(c: &Change) -> String {
    let label = match c.kind {
        ChangeKind::Regressed => "REGRESSED",
        ChangeKind::Missing => "MISSING  ",
        ChangeKind::Fixed => "FIXED    ",
        ChangeKind::New => "NEW      ",
        ChangeKind::Changed => "CHANGED  ",
    };
    let mut line = format!(
        "{label} {}: {} -> {}",
        c.name(),
        status_text(c.old),
        status_text(c.new)
    );
    if let Some(first) = c.reason.as_deref().and_then(|r| r.lines().next()) {
        let _ = write!(line, " ({first})");
    }
    line
}

fn key_name(id: &str, dialect: Option<&str>) -> String {
    match dialect {
        Some(d) => format!("{id} [{d}]"),
        None => id.to_string(),
    }
}

type Key = (String, Option<String>);

fn index<'a>(
    which: &'static str,
    results: &'a [JsonResult],
) -> Result<BTreeMap<Key, &'a JsonResult>, CompareError> {
    let mut map = BTreeMap::new();
    for r in results {
        let key = (r.id.clone(), r.dialect.clone());
        if map.insert(key, r).is_some() {
            return Err(CompareError::Duplicate {
                which,
                key: key_name(&r.id, r.dialect.as_deref()),
            });
        }
    }
    Ok(map)
}

fn classify(old: Status, new: Status) -> Option<ChangeKind> {
    match (old, new) {
        (a, b) if a == b => None,
        (Status::Pass, _) => Some(ChangeKind::Regressed),
        (Status::Fail, Status::Pass) => Some(ChangeKind::Fixed),
        _ => Some(ChangeKind::Changed),
    }
}

/// Files a change under its kind (`None`: unchanged).
fn record(out: &mut Comparison, kind: Option<ChangeKind>, change: Change) {
    match kind {
        None => out.unchanged += 1,
        Some(ChangeKind::Regressed | ChangeKind::Missing) => out.regressions.push(change),
        Some(ChangeKind::Fixed) => out.fixes.push(change),
        Some(ChangeKind::New) => out.new.push(change),
        Some(ChangeKind::Changed) => out.changed.push(change),
    }
}

/// Compares an old and a new report.
pub fn compare(old: &[JsonResult], new: &[JsonResult]) -> Result<Comparison, CompareError> {
    let old_map = index("old", old)?;
    let new_map = index("new", new)?;
    let new_ids: BTreeSet<&str> = new_map.keys().map(|(id, _)| id.as_str()).collect();
    let mut used: BTreeSet<&Key> = BTreeSet::new();
    let mut out = Comparison::default();
    let change = |kind, key: &Key, old: Option<Status>, new: Option<&JsonResult>| Change {
        kind,
        id: key.0.clone(),
        dialect: key.1.clone(),
        old,
        new: new.map(|n| n.status),
        reason: new.and_then(|n| n.reason.clone()),
    };

    for (key, o) in &old_map {
        let whole = (key.0.clone(), None);
        let counterpart = match new_map.get_key_value(key) {
            Some((k, n)) => Some((k, *n)),
            None if key.1.is_some() => new_map.get_key_value(&whole).map(|(k, n)| (k, *n)),
            None => None,
        };
        match counterpart {
            Some((k, n)) => {
                used.insert(k);
                let kind = classify(o.status, n.status);
                record(
                    &mut out,
                    kind,
                    change(
                        kind.unwrap_or(ChangeKind::Changed),
                        key,
                        Some(o.status),
                        Some(n),
                    ),
                );
            }
            // An old whole-case skip whose case now has per-dialect results:
            // those are compared with it below.
            None if key.1.is_none() && new_ids.contains(key.0.as_str()) => {}
            None => record(
                &mut out,
                Some(ChangeKind::Missing),
                change(ChangeKind::Missing, key, Some(o.status), None),
            ),
        }
    }
    for (key, n) in &new_map {
        if used.contains(key) {
            continue;
        }
        let whole = (key.0.clone(), None);
        match old_map.get(&whole) {
            Some(o) if key.1.is_some() => {
                let kind = classify(o.status, n.status);
                record(
                    &mut out,
                    kind,
                    change(
                        kind.unwrap_or(ChangeKind::Changed),
                        key,
                        Some(o.status),
                        Some(n),
                    ),
                );
            }
            _ => record(
                &mut out,
                Some(ChangeKind::New),
                change(ChangeKind::New, key, None, Some(n)),
            ),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(id: &str, dialect: Option<&str>, status: Status) -> JsonResult {
        JsonResult {
            id: id.into(),
            title: String::new(),
            dialect: dialect.map(str::to_string),
            status,
            reason: match status {
                Status::Pass => None,
                _ => Some(format!("why {id}\nmore")),
            },
            line: None,
            source: None,
            duration_ms: 1,
            verbs: Vec::new(),
        }
    }

    fn names(changes: &[Change]) -> Vec<String> {
        changes.iter().map(Change::name).collect()
    }

    const M8: Option<&str> = Some("MSNP8");
    const M9: Option<&str> = Some("MSNP9");

    #[test]
    fn finds_regressions_fixes_and_new_results() {
        let old = vec![
            r("same", M8, Status::Pass),
            r("broke", M8, Status::Pass),
            r("skipped-now", M8, Status::Pass),
            r("gone", M8, Status::Pass),
            r("gone-failing", M8, Status::Fail),
            r("fixed", M8, Status::Fail),
            r("unskipped", M8, Status::Skip),
            r("still-failing", M8, Status::Fail),
        ];
        let new = vec![
            r("same", M8, Status::Pass),
            r("broke", M8, Status::Fail),
            r("skipped-now", M8, Status::Skip),
            r("fixed", M8, Status::Pass),
            r("unskipped", M8, Status::Pass),
            r("still-failing", M8, Status::Fail),
            r("fresh", M8, Status::Pass),
            r("same", M9, Status::Fail),
        ];
        let c = compare(&old, &new).unwrap();
        assert!(c.has_regressions());
        assert_eq!(
            names(&c.regressions),
            vec![
                "broke [MSNP8]",
                "gone [MSNP8]",
                "gone-failing [MSNP8]",
                "skipped-now [MSNP8]"
            ]
        );
        assert_eq!(c.regressions[0].kind, ChangeKind::Regressed);
        assert_eq!(c.regressions[1].kind, ChangeKind::Missing);
        assert_eq!(c.regressions[1].new, None);
        assert_eq!(names(&c.fixes), vec!["fixed [MSNP8]"]);
        assert_eq!(names(&c.new), vec!["fresh [MSNP8]", "same [MSNP9]"]);
        assert_eq!(names(&c.changed), vec!["unskipped [MSNP8]"]);
        assert_eq!(c.unchanged, 2);
        let text = c.render();
        assert!(text.contains("regressions (4):"), "{text}");
        assert!(
            text.contains("REGRESSED broke [MSNP8]: pass -> fail (why broke)"),
            "{text}"
        );
        assert!(
            text.contains("MISSING   gone [MSNP8]: pass -> (missing)"),
            "{text}"
        );
        assert!(
            text.contains("FIXED     fixed [MSNP8]: fail -> pass"),
            "{text}"
        );
        assert!(
            text.contains("NEW       fresh [MSNP8]: (missing) -> pass"),
            "{text}"
        );
        assert!(
            text.ends_with("4 regression(s), 1 fix(es), 2 new, 1 other change(s), 2 unchanged\n"),
            "{text}"
        );
    }

    #[test]
    fn identical_reports_have_no_regressions() {
        let run = vec![r("a", M8, Status::Pass), r("b", None, Status::Skip)];
        let c = compare(&run, &run).unwrap();
        assert!(!c.has_regressions());
        assert_eq!(c.unchanged, 2);
        assert!(c.new.is_empty() && c.fixes.is_empty() && c.changed.is_empty());
    }

    #[test]
    fn whole_case_skips_stand_for_each_dialect() {
        // Passed in MSNP8 and MSNP9, now skipped as a whole: two regressions.
        let old = vec![r("a", M8, Status::Pass), r("a", M9, Status::Pass)];
        let new = vec![r("a", None, Status::Skip)];
        let c = compare(&old, &new).unwrap();
        assert_eq!(names(&c.regressions), vec!["a [MSNP8]", "a [MSNP9]"]);
        assert!(c.regressions.iter().all(|ch| ch.new == Some(Status::Skip)));
        assert!(c.new.is_empty(), "{:?}", c.new);
        // The other way round: skipped as a whole, now run: not regressions.
        let c = compare(&new, &old).unwrap();
        assert!(!c.has_regressions(), "{:?}", c.regressions);
        assert_eq!(names(&c.changed), vec!["a [MSNP8]", "a [MSNP9]"]);
        assert!(c.new.is_empty());
        // A whole-case skip that vanished entirely is missing.
        let c = compare(&new, &[]).unwrap();
        assert_eq!(c.regressions[0].kind, ChangeKind::Missing);
    }

    #[test]
    fn rejects_duplicates() {
        let dup = vec![r("a", M8, Status::Pass), r("a", M8, Status::Fail)];
        assert_eq!(
            compare(&dup, &[]),
            Err(CompareError::Duplicate {
                which: "old",
                key: "a [MSNP8]".into()
            })
        );
        assert!(matches!(
            compare(&[], &dup),
            Err(CompareError::Duplicate { which: "new", .. })
        ));
    }
}
