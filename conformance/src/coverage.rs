//! The coverage report: for each verb of a [`Registry`] and each dialect that
//! has it, the cases that exercise it; the pairs without a case are gaps.
//!
//! A case covers a client verb (`client = true`) in a dialect when it sends a
//! line with that verb in that dialect, and a server verb when it expects one
//! (see [`crate::case::verbs::verbs_in`], which also counts the verbs the
//! macros always use). A case runs in the dialects of its `# dialects:`
//! header; lines behind a dialect guard count only in the guard's dialects.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::case::Case;
use crate::case::verbs::verbs_in;
use crate::dialect::{Dialect, DialectSet};
use crate::registry::Registry;

/// One verb in one dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// The verb does not exist in this dialect.
    Absent,
    /// The verb exists and these cases (ids) exercise it; empty: a gap.
    Cases(Vec<String>),
}

impl Cell {
    /// Whether the verb exists here but no case exercises it.
    pub fn is_gap(&self) -> bool {
        matches!(self, Cell::Cases(c) if c.is_empty())
    }
}

/// One verb's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The verb.
    pub verb: String,
    /// Whether clients send it (covered by sending) or only the server
    /// (covered by expecting).
    pub client: bool,
    /// Its roles, from the registry.
    pub roles: Vec<String>,
    /// One cell per dialect of [`Coverage::dialects`].
    pub cells: Vec<Cell>,
}

/// Verbs × dialects, with the cases covering each pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// The dialects reported, oldest first.
    pub dialects: Vec<Dialect>,
    /// One row per registry verb, sorted by verb.
    pub rows: Vec<Row>,
    /// Verbs that cases exercise but the registry does not list, with the
    /// cases that do.
    pub unregistered: BTreeMap<String, Vec<String>>,
}

/// Computes coverage of `registry`'s verbs by `cases` in `dialects`.
pub fn coverage(registry: &Registry, cases: &[Case], dialects: &DialectSet) -> Coverage {
    let dialects = dialects.dialects();
    let mut unregistered: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // (verb, dialect index) -> case ids
    let mut covered: BTreeMap<(String, usize), Vec<String>> = BTreeMap::new();
    for case in cases {
        for (i, &dialect) in dialects.iter().enumerate() {
            let found = verbs_in(case, dialect);
            for verb in found.all() {
                let counts = match registry.verbs.get(&verb) {
                    Some(spec) if spec.client => found.sent.contains(&verb),
                    Some(_) => found.expected.contains(&verb),
                    None => {
                        let ids = unregistered.entry(verb).or_default();
                        if !ids.contains(&case.id) {
                            ids.push(case.id.clone());
                        }
                        continue;
                    }
                };
                if counts {
                    let ids = covered.entry((verb, i)).or_default();
                    if !ids.contains(&case.id) {
                        ids.push(case.id.clone());
                    }
                }
            }
        }
    }
    let rows = registry
        .verbs
        .iter()
        .map(|(verb, spec)| Row {
            verb: verb.clone(),
            client: spec.client,
            roles: spec.roles.clone(),
            cells: dialects
                .iter()
                .enumerate()
                .map(|(i, &d)| {
                    if registry.has(verb, d) {
                        Cell::Cases(covered.remove(&(verb.clone(), i)).unwrap_or_default())
                    } else {
                        Cell::Absent
                    }
                })
                .collect(),
        })
        .collect();
    Coverage {
        dialects,
        rows,
        unregistered,
    }
}

impl Coverage {
    /// Every verb × dialect pair that exists but has no case, by verb then
    /// dialect.
    pub fn gaps(&self) -> Vec<(String, Dialect)> {
        self.rows
            .iter()
            .flat_map(|row| {
                row.cells
                    .iter()
                    .zip(&self.dialects)
                    .filter(|(cell, _)| cell.is_gap())
                    .map(|(_, &d)| (row.verb.clone(), d))
            })
            .collect()
    }

    /// The number of verb × dialect pairs that exist.
    pub fn pairs(&self) -> usize {
        self.rows
            .iter()
            .flat_map(|r| &r.cells)
            .filter(|c| !matches!(c, Cell::Absent))
            .count()
    }

    /// The cases covering `verb` in `dialect` (`None` when the verb is not
    /// reported or does not exist there).
    pub fn cases(&self, verb: &str, dialect: Dialect) -> Option<&[String]> {
        let i = self.dialects.iter().position(|&d| d == dialect)?;
        let row = self.rows.iter().find(|r| r.verb == verb)?;
        match row.cells.get(i)? {
            Cell::Cases(ids) => Some(ids),
            Cell::Absent => None,
        }
    }

    /// The report as text: a table (`by`: who sends the verb; per dialect, a
    /// number is how many cases cover the pair, `-` a gap, `.` a dialect
    /// without the verb), the gaps per verb,
    /// verbs the registry does not list, and a closing count.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = write!(out, "{:<5}{:<8}{:<12}", "verb", "by", "roles");
        for d in &self.dialects {
            let _ = write!(out, "{:>4}", d.version());
        }
        out.push('\n');
        for row in &self.rows {
            let who = if row.client { "client" } else { "server" };
            let _ = write!(out, "{:<5}{:<8}{:<12}", row.verb, who, row.roles.join(","));
            for cell in &row.cells {
                let text = match cell {
                    Cell::Absent => ".".to_string(),
                    Cell::Cases(ids) if ids.is_empty() => "-".to_string(),
                    Cell::Cases(ids) => ids.len().to_string(),
                };
                let _ = write!(out, "{text:>4}");
            }
            out.push('\n');
        }
        let gaps = self.gaps();
        let mut by_verb: BTreeMap<&str, Vec<Dialect>> = BTreeMap::new();
        for (verb, d) in &gaps {
            by_verb.entry(verb).or_default().push(*d);
        }
        if !by_verb.is_empty() {
            let _ = writeln!(out, "\nwithout a case:");
            for (verb, dialects) in &by_verb {
                let _ = writeln!(out, "  {verb}  {}", DialectSet::of(dialects));
            }
        }
        if !self.unregistered.is_empty() {
            let _ = writeln!(out, "\nexercised by cases but not in the registry:");
            for (verb, ids) in &self.unregistered {
                let _ = writeln!(out, "  {verb}  {}", ids.join(" "));
            }
        }
        let _ = writeln!(
            out,
            "\n{} of {} verb x dialect pairs have no case",
            gaps.len(),
            self.pairs()
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::parse_case;

    const REGISTRY: &str = r#"
        [verbs.ADD]
        roles = ["ns"]
        since = 7
        until = 9
        trid = true
        payload = false
        client = true
        [verbs.PNG]
        roles = ["ns"]
        since = 7
        until = 9
        trid = false
        payload = false
        client = true
        [verbs.NLN]
        roles = ["ns"]
        since = 7
        until = 9
        trid = false
        payload = false
        client = false
    "#;

    fn case(id: &str, dialects: &str, body: &str) -> Case {
        parse_case(
            id,
            &format!("# title: {id}\n# dialects: {dialects}\n# roles: ns\n# accounts: a b\n{body}"),
        )
        .unwrap()
    }

    #[test]
    fn counts_sent_client_verbs_and_expected_server_verbs() {
        let registry = Registry::from_toml(REGISTRY).unwrap();
        let cases = vec![
            // Sends ADD in 8-9; expects NLN only in 9; expects (not sends) PNG.
            case(
                "add",
                "MSNP8-9",
                "@a connect ns\n@a > ADD $trid FL ${b} ${b}\n[MSNP9] @a < NLN NLN ${b} *\n@a < PNG\n",
            ),
            // Sends NLN (a server verb: does not count); sends PNG in 7 only.
            case(
                "png",
                "MSNP7+",
                "@a connect ns\n[MSNP7] @a > PNG\n@a > NLN\n@a < XYZ\n",
            ),
        ];
        let c = coverage(&registry, &cases, &registry.span());
        let d = |v| Dialect::new(v).unwrap();
        assert_eq!(c.dialects, vec![d(7), d(8), d(9)]);
        assert_eq!(c.cases("ADD", d(8)), Some(&["add".to_string()][..]));
        assert_eq!(c.cases("ADD", d(7)), Some(&[][..]));
        assert_eq!(c.cases("PNG", d(7)), Some(&["png".to_string()][..]));
        assert_eq!(c.cases("NLN", d(9)), Some(&["add".to_string()][..]));
        assert_eq!(
            c.gaps(),
            vec![
                ("ADD".to_string(), d(7)),
                ("NLN".to_string(), d(7)),
                ("NLN".to_string(), d(8)),
                ("PNG".to_string(), d(8)),
                ("PNG".to_string(), d(9)),
            ]
        );
        assert_eq!(c.pairs(), 9);
        assert_eq!(c.unregistered["XYZ"], vec!["png".to_string()]);
        let text = c.render();
        assert!(
            text.contains("ADD  client  ns             -   1   1\n"),
            "{text}"
        );
        assert!(
            text.contains("NLN  server  ns             -   -   1\n"),
            "{text}"
        );
        assert!(text.contains("  NLN  MSNP7-8\n"), "{text}");
        assert!(text.contains("  XYZ  png\n"), "{text}");
        assert!(
            text.ends_with("5 of 9 verb x dialect pairs have no case\n"),
            "{text}"
        );
    }

    #[test]
    fn limits_to_the_dialects_asked_for() {
        let registry = Registry::from_toml(REGISTRY).unwrap();
        let only8: DialectSet = "MSNP8 MSNP10".parse().unwrap();
        let c = coverage(&registry, &[], &only8);
        assert_eq!(c.dialects.len(), 2);
        assert_eq!(c.rows[0].cells, vec![Cell::Cases(Vec::new()), Cell::Absent]);
        assert_eq!(c.gaps().len(), 3);
        assert!(c.render().contains("   -   .\n"));
    }
}
