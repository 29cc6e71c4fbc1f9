//! Which MSNP verbs a case exercises in a dialect: the verbs of the lines it
//! sends and of the lines it expects, including those its macros (`login`,
//! `xfr-sb`, `answer-sb`) always send or expect. Used by the coverage report
//! and by the JSON results.

use std::collections::BTreeSet;

use crate::case::{Case, StepKind};
use crate::dialect::Dialect;

/// The verbs a case sends and expects in one dialect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerbUse {
    /// Verbs of client lines the case sends.
    pub sent: BTreeSet<String>,
    /// Verbs of server lines the case expects.
    pub expected: BTreeSet<String>,
}

impl VerbUse {
    /// Every verb, sent or expected, sorted, each once.
    pub fn all(&self) -> Vec<String> {
        self.sent.union(&self.expected).cloned().collect()
    }

    fn send(&mut self, verbs: &[&str]) {
        self.sent.extend(verbs.iter().map(|v| v.to_string()));
    }

    fn expect(&mut self, verbs: &[&str]) {
        self.expected.extend(verbs.iter().map(|v| v.to_string()));
    }
}

/// Whether `word` looks like an MSNP verb: three characters, an ASCII capital
/// letter then capitals or digits (`ADD`, `QNG`, `UUX`; not `201`).
pub fn is_verb(word: &str) -> bool {
    let bytes = word.as_bytes();
    bytes.len() == 3
        && bytes[0].is_ascii_uppercase()
        && bytes[1..]
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// The verbs `case` exercises when it runs in `dialect` (steps whose dialect
/// guard excludes `dialect` do not count). Numeric replies are not verbs.
/// Macros count with the verbs they always use: `login` sends `VER`, `USR`
/// and `CVR` (MSNP4+), `INF` (MSNP2–7), and expects `VER`, `USR`, `MSG` and
/// `CVR` (MSNP4+), `INF` (MSNP2–7); `xfr-sb` sends and expects `XFR` and
/// `USR`; `answer-sb` expects `RNG` and `ANS` and sends `ANS`. The `CHL`/`QRY`
/// exchange of `login`, which depends on the manifest, does not count.
pub fn verbs_in(case: &Case, dialect: Dialect) -> VerbUse {
    let mut found = VerbUse::default();
    if !case.dialects.contains(dialect) {
        return found;
    }
    for step in case.steps.iter().filter(|s| s.applies_to(dialect)) {
        match &step.kind {
            StepKind::Send { line, .. } => {
                if let Some(word) = line.leading_word().filter(|w| is_verb(w)) {
                    found.send(&[word]);
                }
            }
            StepKind::Expect(e) => {
                if let Some(word) = e.line.literal_verb().filter(|w| is_verb(w)) {
                    found.expect(&[word]);
                }
            }
            StepKind::Unordered(items) => {
                for item in items {
                    if item.guard.as_ref().is_none_or(|g| g.contains(dialect))
                        && let Some(word) =
                            item.expectation.line.literal_verb().filter(|w| is_verb(w))
                    {
                        found.expect(&[word]);
                    }
                }
            }
            StepKind::Login {
                dialect: login_dialect,
                ..
            } => {
                let v = login_dialect.unwrap_or(dialect).version();
                found.send(&["VER", "USR"]);
                found.expect(&["VER", "USR", "MSG"]);
                if v >= 4 {
                    found.send(&["CVR"]);
                    found.expect(&["CVR"]);
                }
                if v <= 7 {
                    found.send(&["INF"]);
                    found.expect(&["INF"]);
                }
            }
            StepKind::XfrSb { .. } => {
                found.send(&["XFR", "USR"]);
                found.expect(&["XFR", "USR"]);
            }
            StepKind::AnswerSb { .. } => {
                found.send(&["ANS"]);
                found.expect(&["RNG", "ANS"]);
            }
            StepKind::Connect { .. }
            | StepKind::Close { .. }
            | StepKind::ExpectClosed { .. }
            | StepKind::Passport { .. }
            | StepKind::PassportReject { .. } => {}
        }
    }
    found
}

/// The verbs `case` exercises in any of its dialects.
pub fn verbs_in_any(case: &Case) -> VerbUse {
    let mut found = VerbUse::default();
    for dialect in case.dialects.dialects() {
        let one = verbs_in(case, dialect);
        found.sent.extend(one.sent);
        found.expected.extend(one.expected);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::parse_case;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn recognises_verbs() {
        assert!(is_verb("ADD"));
        assert!(is_verb("UU2"));
        assert!(!is_verb("201"));
        assert!(!is_verb("Add"));
        assert!(!is_verb("ADDX"));
        assert!(!is_verb("A"));
    }

    #[test]
    fn collects_sent_and_expected_verbs_per_dialect() {
        let case = parse_case(
            "x.msnp",
            "# title: t\n# dialects: MSNP7-9\n# roles: ns\n# accounts: a b\n\
             @a connect ns\n@a login\n@a > ADD $trid FL ${b} ${b}\n@a < ADD $trid FL * ${b} ${b}\n\
             [MSNP9] @a > PNG\n[MSNP9] @a < QNG *\n@a > ${b} 1\n@a < 201 $trid\n\
             unordered {\n@a < ILN 0 NLN ${b} *\n[MSNP8] @a < NLN NLN ${b} *\n}\n\
             @a.sb xfr-sb @a\n@b connect ns\n@b.sb answer-sb @b\n",
        )
        .unwrap();
        let v8 = verbs_in(&case, Dialect::MSNP8);
        assert_eq!(v8.sent, set(&["ADD", "ANS", "CVR", "USR", "VER", "XFR"]));
        assert_eq!(
            v8.expected,
            set(&[
                "ADD", "ANS", "CVR", "ILN", "MSG", "NLN", "RNG", "USR", "VER", "XFR"
            ])
        );
        let v9 = verbs_in(&case, Dialect::new(9).unwrap());
        assert!(v9.sent.contains("PNG") && v9.expected.contains("QNG"));
        assert!(!v9.expected.contains("NLN"));
        let v7 = verbs_in(&case, Dialect::new(7).unwrap());
        assert!(v7.sent.contains("INF") && v7.expected.contains("INF"));
        assert!(!v8.sent.contains("INF"));
        assert_eq!(
            verbs_in(&case, Dialect::new(10).unwrap()),
            VerbUse::default()
        );
        let any = verbs_in_any(&case);
        assert!(any.sent.contains("PNG") && any.sent.contains("INF"));
        assert!(any.all().windows(2).all(|w| w[0] < w[1]));
    }
}
