//! The JUnit XML report: one `<testsuite>` with one `<testcase>` per case and
//! dialect; failures carry the expected and received lines in `message` and the
//! full details (case line, recent traffic) as text; skips carry the reason.
//! Written by hand with XML 1.0 escaping (see [`escape`]).

use std::fmt::Write as _;
use std::path::Path;

use crate::report::{failure_details, totals};
use crate::runner::{CaseResult, Outcome};

/// Escapes text for XML 1.0 element content and attribute values: `&`, `<`,
/// `>`, `"` and `'` become entities; tab, newline and carriage return become
/// character references (so attribute values keep them); other characters XML
/// 1.0 forbids (C0 controls, U+FFFE, U+FFFF) are written as `\u{..}` text.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Seconds with millisecond precision, as JUnit's `time` attribute wants.
fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// `classname` of a result: the case's directory with `.` for `/`
/// (`ns/lists/add-fl.msnp` → `ns.lists`), or `cases` at the top.
fn classname(case: &str) -> String {
    match case.rsplit_once('/') {
        Some((dir, _)) => dir.replace('/', "."),
        None => "cases".to_string(),
    }
}

/// `name` of a result: the case's file name and dialect
/// (`add-fl.msnp [MSNP8]`).
fn testcase_name(result: &CaseResult) -> String {
    let file = result
        .case
        .rsplit_once('/')
        .map_or(result.case.as_str(), |(_, f)| f);
    match result.dialect {
        Some(d) => format!("{file} [{d}]"),
        None => file.to_string(),
    }
}

/// The JUnit XML document for `results`; `suite` names the `<testsuite>`
/// (e.g. the manifest's name).
pub fn junit_xml(suite: &str, results: &[CaseResult]) -> String {
    let t = totals(results);
    let total_ms: u64 = results.iter().map(|r| r.duration_ms).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{}\">",
        escape(suite),
        results.len(),
        t.failed,
        t.skipped,
        seconds(total_ms)
    );
    for r in results {
        let _ = write!(
            out,
            "  <testcase classname=\"{}\" name=\"{}\" time=\"{}\"",
            escape(&classname(&r.case)),
            escape(&testcase_name(r)),
            seconds(r.duration_ms)
        );
        match &r.outcome {
            Outcome::Pass => out.push_str("/>\n"),
            Outcome::Skip { reason } => {
                let _ = writeln!(
                    out,
                    ">\n    <skipped message=\"{}\"/>\n  </testcase>",
                    escape(reason)
                );
            }
            Outcome::Fail(f) => {
                let message = format!("line {}: {}\n{}", f.line, f.source, f.message);
                let _ = writeln!(
                    out,
                    ">\n    <failure message=\"{}\" type=\"mismatch\">{}</failure>\n  </testcase>",
                    escape(&message),
                    escape(&failure_details(r))
                );
            }
        }
    }
    out.push_str("</testsuite>\n");
    out
}

/// Writes [`junit_xml`] to `path`.
pub fn write_junit(path: &Path, suite: &str, results: &[CaseResult]) -> std::io::Result<()> {
    std::fs::write(path, junit_xml(suite, results))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Dialect;
    use crate::runner::{Direction, Failure, TraceEntry};

    fn result(case: &str, dialect: Option<Dialect>, outcome: Outcome) -> CaseResult {
        CaseResult {
            case: case.into(),
            title: "t".into(),
            dialect,
            outcome,
            duration_ms: 1234,
            verbs: Vec::new(),
        }
    }

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(
            escape("a<b>&\"c\" 'd'\tx\ny\r\u{1}\u{FFFF}é"),
            "a&lt;b&gt;&amp;&quot;c&quot; &apos;d&apos;&#9;x&#10;y&#13;\\u{1}\\u{ffff}é"
        );
    }

    #[test]
    fn parses_back() {
        let results = vec![
            result("ns/lists/add.msnp", Some(Dialect::MSNP8), Outcome::Pass),
            result(
                "top.msnp",
                None,
                Outcome::Skip {
                    reason: "needs role `sb` <x>".into(),
                },
            ),
            result(
                "sb/m/msg.msnp",
                Some(Dialect::MSNP8),
                Outcome::Fail(Failure {
                    line: 7,
                    source: "@a < MSG * * 5 <<".into(),
                    message: "expected: @a < ACK 3\ngot:      NAK 3 & \"more\"".into(),
                    traffic: vec![TraceEntry {
                        session: "a".into(),
                        direction: Direction::Received,
                        text: "NAK 3 \u{7}".into(),
                    }],
                }),
            ),
        ];
        let xml = junit_xml("srv \"one\" & co", &results);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let suite = doc.root_element();
        assert_eq!(suite.tag_name().name(), "testsuite");
        assert_eq!(suite.attribute("name"), Some("srv \"one\" & co"));
        assert_eq!(suite.attribute("tests"), Some("3"));
        assert_eq!(suite.attribute("failures"), Some("1"));
        assert_eq!(suite.attribute("skipped"), Some("1"));
        assert_eq!(suite.attribute("time"), Some("3.702"));
        let cases: Vec<_> = suite.children().filter(|n| n.is_element()).collect();
        assert_eq!(cases.len(), 3);
        assert_eq!(cases[0].attribute("classname"), Some("ns.lists"));
        assert_eq!(cases[0].attribute("name"), Some("add.msnp [MSNP8]"));
        assert_eq!(cases[0].attribute("time"), Some("1.234"));
        assert_eq!(cases[0].children().filter(|n| n.is_element()).count(), 0);
        assert_eq!(cases[1].attribute("classname"), Some("cases"));
        assert_eq!(cases[1].attribute("name"), Some("top.msnp"));
        let skipped = cases[1].first_element_child().unwrap();
        assert_eq!(skipped.tag_name().name(), "skipped");
        assert_eq!(skipped.attribute("message"), Some("needs role `sb` <x>"));
        let failure = cases[2].first_element_child().unwrap();
        assert_eq!(failure.tag_name().name(), "failure");
        assert_eq!(
            failure.attribute("message"),
            Some("line 7: @a < MSG * * 5 <<\nexpected: @a < ACK 3\ngot:      NAK 3 & \"more\"")
        );
        let body = failure.text().unwrap();
        assert!(body.contains("got:      NAK 3 & \"more\""), "{body}");
        assert!(body.contains("@a < NAK 3 \\u{7}"), "{body}");
    }

    #[test]
    fn writes_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.xml");
        write_junit(&path, "s", &[]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap();
        assert_eq!(doc.root_element().attribute("tests"), Some("0"));
    }
}
