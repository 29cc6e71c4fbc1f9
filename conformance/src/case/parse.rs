//! The `.msnp` case parser: header, statements, payload blocks, `unordered`
//! blocks, dialect guards, and a check that every `${name}` is defined before
//! it is used. The syntax is documented in `conformance/README.md`.

use std::collections::BTreeSet;

use crate::case::pattern::{LinePattern, PayloadPattern};
use crate::case::template::Template;
use crate::case::{
    Case, ConnectTarget, Expectation, Role, SessionName, Step, StepKind, UnorderedItem,
};
use crate::dialect::{Dialect, DialectSet};

/// A case file could not be read; says where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{case}:{line}: {message}")]
pub struct ParseError {
    /// The case id (file path).
    pub case: String,
    /// 1-based line number (0 when the whole file is at fault).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Header keys a case may set.
const HEADER_KEYS: [&str; 5] = ["title", "dialects", "roles", "accounts", "features"];
/// Fields every account exposes as `${label.FIELD}`.
const ACCOUNT_FIELDS: [&str; 3] = ["email", "nick", "password"];
/// Variable naming an account that does not exist.
pub const NOBODY: &str = "nobody";

/// Parses one case; `id` names it in errors and in results.
pub fn parse_case(id: &str, text: &str) -> Result<Case, ParseError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut parser = Parser {
        id,
        lines: &lines,
        pos: 0,
        accounts: Vec::new(),
    };
    let header = parser.header()?;
    parser.accounts = header.accounts.clone();
    let steps = parser.block(false)?;
    let case = Case {
        id: id.to_string(),
        title: header.title,
        dialects: header.dialects,
        roles: header.roles,
        accounts: header.accounts,
        features: header.features,
        steps,
    };
    check_variables(&case)?;
    Ok(case)
}

struct Header {
    title: String,
    dialects: DialectSet,
    roles: Vec<Role>,
    accounts: Vec<String>,
    features: Vec<String>,
}

struct Parser<'a> {
    id: &'a str,
    lines: &'a [&'a str],
    pos: usize,
    accounts: Vec<String>,
}

/// `# key: value` with a known key.
fn header_pair(line: &str) -> Option<(&str, &str)> {
    let body = line.strip_prefix('#')?.trim_start();
    let (key, value) = body.split_once(':')?;
    HEADER_KEYS.contains(&key).then_some((key, value.trim()))
}

fn is_label(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

impl<'a> Parser<'a> {
    fn err(&self, line: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            case: self.id.to_string(),
            line,
            message: message.into(),
        }
    }

    fn header(&mut self) -> Result<Header, ParseError> {
        let mut title = None;
        let mut dialects = None;
        let mut roles = None;
        let mut accounts = None;
        let mut features = None;
        while self.pos < self.lines.len() {
            let line_no = self.pos + 1;
            let line = self.lines[self.pos].trim();
            if !line.is_empty() && !line.starts_with('#') {
                break;
            }
            self.pos += 1;
            let Some((key, value)) = header_pair(line) else {
                continue;
            };
            let dup = match key {
                "title" => title.replace(value.to_string()).is_some(),
                "dialects" => {
                    let set: DialectSet = value
                        .parse()
                        .map_err(|e| self.err(line_no, format!("{e}")))?;
                    dialects.replace(set).is_some()
                }
                "roles" => {
                    let list = value
                        .split_whitespace()
                        .map(str::parse)
                        .collect::<Result<Vec<Role>, _>>()
                        .map_err(|e| self.err(line_no, e))?;
                    roles.replace(list).is_some()
                }
                "accounts" => {
                    let list: Vec<String> = value.split_whitespace().map(str::to_string).collect();
                    for label in &list {
                        if !is_label(label) || label == NOBODY {
                            return Err(self.err(
                                line_no,
                                format!("`{label}` is not an account label ([a-z][a-z0-9]*, not `nobody`)"),
                            ));
                        }
                    }
                    let unique: BTreeSet<&String> = list.iter().collect();
                    if unique.len() != list.len() {
                        return Err(self.err(line_no, "an account label is listed twice"));
                    }
                    accounts.replace(list).is_some()
                }
                _ => features
                    .replace(value.split_whitespace().map(str::to_string).collect())
                    .is_some(),
            };
            if dup {
                return Err(self.err(line_no, format!("header `{key}` given twice")));
            }
        }
        let missing = |what: &str| self.err(0, format!("the header lacks `# {what}:`"));
        let accounts: Vec<String> = accounts.ok_or_else(|| missing("accounts"))?;
        if accounts.is_empty() {
            return Err(self.err(0, "`# accounts:` names no account"));
        }
        Ok(Header {
            title: title.ok_or_else(|| missing("title"))?,
            dialects: dialects.ok_or_else(|| missing("dialects"))?,
            roles: roles.ok_or_else(|| missing("roles"))?,
            accounts,
            features: features.unwrap_or_default(),
        })
    }

    /// Parses statements until the end (or, inside `unordered`, until `}`).
    fn block(&mut self, inside_unordered: bool) -> Result<Vec<Step>, ParseError> {
        let mut steps = Vec::new();
        while self.pos < self.lines.len() {
            let line_no = self.pos + 1;
            let line = self.lines[self.pos].trim();
            self.pos += 1;
            if line.is_empty() {
                continue;
            }
            if line.starts_with('#') {
                if let Some((key, _)) = header_pair(line) {
                    return Err(self.err(
                        line_no,
                        format!("header `{key}` must come before the first statement"),
                    ));
                }
                continue;
            }
            if line == "}" {
                if inside_unordered {
                    return Ok(steps);
                }
                return Err(self.err(line_no, "`}` without `unordered {`"));
            }
            let (guard, rest) = self.guard(line_no, line)?;
            if rest == "unordered {" {
                if inside_unordered {
                    return Err(self.err(line_no, "`unordered` blocks do not nest"));
                }
                let inner = self.block(true)?;
                let items = inner
                    .into_iter()
                    .map(|step| match step.kind {
                        StepKind::Expect(expectation) => Ok(UnorderedItem {
                            line: step.line,
                            source: step.source,
                            guard: step.guard,
                            expectation,
                        }),
                        _ => Err(self.err(
                            step.line,
                            "only expected lines (`@s < ...`) may stand in an `unordered` block",
                        )),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                if items.is_empty() {
                    return Err(self.err(line_no, "empty `unordered` block"));
                }
                steps.push(Step {
                    line: line_no,
                    source: line.to_string(),
                    guard,
                    kind: StepKind::Unordered(items),
                });
                continue;
            }
            let kind = self.statement(line_no, rest)?;
            steps.push(Step {
                line: line_no,
                source: line.to_string(),
                guard,
                kind,
            });
        }
        if inside_unordered {
            return Err(self.err(self.lines.len(), "`unordered {` is never closed"));
        }
        Ok(steps)
    }

    fn guard<'l>(
        &self,
        line_no: usize,
        line: &'l str,
    ) -> Result<(Option<DialectSet>, &'l str), ParseError> {
        let Some(after) = line.strip_prefix('[') else {
            return Ok((None, line));
        };
        let Some((inside, rest)) = after.split_once(']') else {
            return Err(self.err(line_no, "`[` without `]`"));
        };
        let set: DialectSet = inside
            .parse()
            .map_err(|e| self.err(line_no, format!("guard: {e}")))?;
        Ok((Some(set), rest.trim_start()))
    }

    fn session(&self, line_no: usize, word: &str) -> Result<SessionName, ParseError> {
        let Some(name) = word.strip_prefix('@') else {
            return Err(self.err(
                line_no,
                format!("expected a statement starting with `@session`, got `{word}`"),
            ));
        };
        let (account, suffix) = match name.split_once('.') {
            Some((a, s)) => (a, Some(s)),
            None => (name, None),
        };
        let suffix_ok = suffix.is_none_or(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
        if !is_label(account) || !suffix_ok {
            return Err(self.err(
                line_no,
                format!("`@{name}` is not a session name (@label or @label.suffix)"),
            ));
        }
        if !self.accounts.iter().any(|a| a == account) {
            return Err(self.err(
                line_no,
                format!("session `@{name}`: account `{account}` is not in `# accounts:`"),
            ));
        }
        Ok(SessionName {
            name: name.to_string(),
            account: account.to_string(),
        })
    }

    fn template(&self, line_no: usize, text: &str) -> Result<Template, ParseError> {
        Template::parse(text).map_err(|e| self.err(line_no, format!("`{text}`: {e}")))
    }

    /// Reads a payload block: lines up to one that is exactly `.`.
    fn payload_lines(&mut self, start_line: usize) -> Result<Vec<(usize, &'a str)>, ParseError> {
        let mut out = Vec::new();
        while self.pos < self.lines.len() {
            let line_no = self.pos + 1;
            let raw = self.lines[self.pos];
            self.pos += 1;
            if raw == "." {
                return Ok(out);
            }
            out.push((line_no, raw.strip_prefix('.').unwrap_or(raw)));
        }
        Err(self.err(
            start_line,
            "payload block is not ended by a line holding only `.`",
        ))
    }

    fn statement(&mut self, line_no: usize, text: &str) -> Result<StepKind, ParseError> {
        let (first, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
        let session = self.session(line_no, first)?;
        let rest = rest.trim();
        let (verb, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let args = args.trim();
        let words: Vec<&str> = args.split_whitespace().collect();
        match verb {
            ">" => {
                if args.is_empty() {
                    return Err(self.err(line_no, "`>` needs a command line"));
                }
                if let Some(line) = args.strip_suffix("<<").filter(|l| l.ends_with(' ')) {
                    let line = self.template(line_no, line.trim_end())?;
                    let payload = self
                        .payload_lines(line_no)?
                        .into_iter()
                        .map(|(n, l)| self.template(n, l))
                        .collect::<Result<Vec<_>, _>>()?;
                    return Ok(StepKind::Send {
                        session,
                        line,
                        payload: Some(payload),
                    });
                }
                Ok(StepKind::Send {
                    session,
                    line: self.template(line_no, args)?,
                    payload: None,
                })
            }
            "<" => {
                let exact = words.last() == Some(&"<<=");
                let has_payload = exact || words.last() == Some(&"<<");
                let pattern_words = if has_payload {
                    &words[..words.len() - 1]
                } else {
                    &words[..]
                };
                if pattern_words.is_empty() {
                    return Err(self.err(line_no, "`<` needs an expected line"));
                }
                let line = LinePattern::parse(&pattern_words.join(" "))
                    .map_err(|e| self.err(line_no, e))?;
                let payload = if has_payload {
                    let lines = self
                        .payload_lines(line_no)?
                        .into_iter()
                        .map(|(n, l)| LinePattern::parse(l).map_err(|e| self.err(n, e)))
                        .collect::<Result<Vec<_>, _>>()?;
                    Some(PayloadPattern { exact, lines })
                } else {
                    None
                };
                Ok(StepKind::Expect(Expectation {
                    session,
                    line,
                    payload,
                }))
            }
            "connect" => {
                let target = match words.as_slice() {
                    ["ns"] => ConnectTarget::Ns,
                    ["dispatch"] => ConnectTarget::Dispatch,
                    [addr] => ConnectTarget::Address(self.template(line_no, addr)?),
                    _ => {
                        return Err(
                            self.err(line_no, "`connect` takes one of: ns, dispatch, host:port")
                        );
                    }
                };
                Ok(StepKind::Connect { session, target })
            }
            "closed" | "close" if !words.is_empty() => {
                Err(self.err(line_no, format!("`{verb}` takes no arguments")))
            }
            "closed" => Ok(StepKind::ExpectClosed { session }),
            "close" => Ok(StepKind::Close { session }),
            "login" => {
                let mut dialect = None;
                let mut manual_challenge = false;
                for word in &words {
                    if *word == "manual-challenge" {
                        manual_challenge = true;
                    } else {
                        let d: Dialect = word.parse().map_err(|e| {
                            self.err(line_no, format!("login: {e}; or `manual-challenge`"))
                        })?;
                        dialect = Some(d);
                    }
                }
                Ok(StepKind::Login {
                    session,
                    dialect,
                    manual_challenge,
                })
            }
            "passport" => match words.as_slice() {
                [policy, capture] => {
                    let name = capture
                        .strip_prefix('{')
                        .and_then(|c| c.strip_suffix('}'))
                        .filter(|n| LinePattern::parse(&format!("{{{n}}}")).is_ok())
                        .ok_or_else(|| {
                            self.err(line_no, "passport: the second argument must be `{name}`")
                        })?;
                    Ok(StepKind::Passport {
                        session,
                        policy: self.template(line_no, policy)?,
                        capture: name.to_string(),
                    })
                }
                _ => Err(self.err(line_no, "usage: @s passport POLICY {name}")),
            },
            "passport-reject" => match words.as_slice() {
                [policy, password] => Ok(StepKind::PassportReject {
                    session,
                    policy: self.template(line_no, policy)?,
                    password: self.template(line_no, password)?,
                }),
                _ => Err(self.err(line_no, "usage: @s passport-reject POLICY PASSWORD")),
            },
            "xfr-sb" | "answer-sb" => {
                let [via] = words.as_slice() else {
                    return Err(self.err(line_no, format!("usage: @s {verb} @ns-session")));
                };
                let via = self.session(line_no, via)?;
                if via == session {
                    return Err(self.err(line_no, format!("{verb}: use another session")));
                }
                Ok(if verb == "xfr-sb" {
                    StepKind::XfrSb { session, via }
                } else {
                    StepKind::AnswerSb { session, via }
                })
            }
            other => Err(self.err(
                line_no,
                format!(
                    "unknown statement `{other}` (>, <, connect, closed, close, login, passport, passport-reject, xfr-sb, answer-sb)"
                ),
            )),
        }
    }
}

/// Checks that every `${name}` is an account variable, `nobody`, or captured
/// by an earlier statement, and that no capture shadows those.
fn check_variables(case: &Case) -> Result<(), ParseError> {
    let mut reserved: BTreeSet<String> = BTreeSet::new();
    reserved.insert(NOBODY.to_string());
    for label in &case.accounts {
        reserved.insert(label.clone());
        for field in ACCOUNT_FIELDS {
            reserved.insert(format!("{label}.{field}"));
        }
    }
    let mut defined = reserved.clone();
    let err = |line: usize, message: String| ParseError {
        case: case.id.clone(),
        line,
        message,
    };
    let check_reads = |line: usize, names: Vec<&str>, defined: &BTreeSet<String>| match names
        .into_iter()
        .find(|n| !defined.contains(*n))
    {
        Some(name) => Err(err(
            line,
            format!("`${{{name}}}` is not defined before this line"),
        )),
        None => Ok(()),
    };
    let check_capture = |line: usize, name: &str| {
        if reserved.contains(name) {
            Err(err(
                line,
                format!("capture `{{{name}}}` would shadow an account or `nobody`"),
            ))
        } else {
            Ok(())
        }
    };
    fn expectation_reads(e: &Expectation) -> Vec<&str> {
        let mut names = e.line.vars();
        if let Some(p) = &e.payload {
            names.extend(p.lines.iter().flat_map(|l| l.vars()));
        }
        names
    }
    let expectation_captures = |e: &Expectation| {
        let mut names: Vec<String> = e
            .line
            .capture_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        if let Some(p) = &e.payload {
            names.extend(
                p.lines
                    .iter()
                    .flat_map(|l| l.capture_names())
                    .map(str::to_string),
            );
        }
        names
    };
    for step in &case.steps {
        match &step.kind {
            StepKind::Connect { target, .. } => {
                if let ConnectTarget::Address(t) = target {
                    check_reads(step.line, t.vars(), &defined)?;
                }
            }
            StepKind::Send { line, payload, .. } => {
                let mut names = line.vars();
                if let Some(p) = payload {
                    names.extend(p.iter().flat_map(|t| t.vars()));
                }
                check_reads(step.line, names, &defined)?;
            }
            StepKind::Expect(e) => {
                check_reads(step.line, expectation_reads(e), &defined)?;
                for name in expectation_captures(e) {
                    check_capture(step.line, &name)?;
                    defined.insert(name);
                }
            }
            StepKind::Unordered(items) => {
                let mut new = Vec::new();
                for item in items {
                    check_reads(item.line, expectation_reads(&item.expectation), &defined)?;
                    for name in expectation_captures(&item.expectation) {
                        check_capture(item.line, &name)?;
                        new.push(name);
                    }
                }
                defined.extend(new);
            }
            StepKind::Passport {
                policy, capture, ..
            } => {
                check_reads(step.line, policy.vars(), &defined)?;
                check_capture(step.line, capture)?;
                defined.insert(capture.clone());
            }
            StepKind::PassportReject {
                policy, password, ..
            } => {
                let mut names = policy.vars();
                names.extend(password.vars());
                check_reads(step.line, names, &defined)?;
            }
            StepKind::ExpectClosed { .. }
            | StepKind::Close { .. }
            | StepKind::Login { .. }
            | StepKind::XfrSb { .. }
            | StepKind::AnswerSb { .. } => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "# title: t\n# dialects: MSNP8\n# roles: ns sb\n# accounts: alice bob\n";

    fn parse(body: &str) -> Result<Case, ParseError> {
        parse_case("x.msnp", &format!("{HEADER}{body}"))
    }

    #[test]
    fn parses_header() {
        let case = parse_case(
            "a/b.msnp",
            "# a comment: with colon\n# title: add a contact\n#dialects: MSNP8-9\n# roles: ns\n# accounts: alice\n# features: challenges x\n\n@alice connect ns\n",
        )
        .unwrap();
        assert_eq!(case.id, "a/b.msnp");
        assert_eq!(case.title, "add a contact");
        assert_eq!(case.dialects.to_string(), "MSNP8-9");
        assert_eq!(case.roles, vec![Role::Ns]);
        assert_eq!(case.accounts, vec!["alice"]);
        assert_eq!(case.features, vec!["challenges", "x"]);
        assert_eq!(case.steps.len(), 1);
        assert_eq!(case.steps[0].line, 8);
    }

    #[test]
    fn header_errors() {
        let e = parse_case("x", "# title: t\n@alice connect ns\n").unwrap_err();
        assert!(e.message.contains("accounts"), "{e}");
        let e = parse_case("x", &format!("{HEADER}# title: again\n")).unwrap_err();
        assert_eq!(e.line, 5);
        let e = parse("@alice connect ns\n# roles: ns\n").unwrap_err();
        assert!(e.message.contains("before the first statement"), "{e}");
        let e = parse_case(
            "x",
            "# title: t\n# dialects: MSNP8\n# roles: ns xx\n# accounts: a\n",
        )
        .unwrap_err();
        assert!(e.message.contains("unknown role"), "{e}");
        let e = parse_case(
            "x",
            "# title: t\n# dialects: MSNP8\n# roles: ns\n# accounts: a a\n",
        )
        .unwrap_err();
        assert!(e.message.contains("twice"), "{e}");
        let e = parse_case(
            "x",
            "# title: t\n# dialects: MSNP8\n# roles: ns\n# accounts: Al\n",
        )
        .unwrap_err();
        assert!(e.message.contains("label"), "{e}");
    }

    #[test]
    fn parses_statements() {
        let case = parse(
            "@alice connect ns\n\
             @alice login\n\
             @bob.sb connect ${sb}\n\
             @alice > ADD $trid FL ${bob} ${bob} 0\n\
             [MSNP8] @alice < ADD $trid FL * ${bob} ${bob} {grp}\n\
             @alice closed\n\
             @alice close\n\
             @alice login MSNP9 manual-challenge\n\
             @alice passport ${grp} {ticket}\n\
             @alice passport-reject ${grp} wrong\n\
             @bob.sb xfr-sb @bob\n\
             @alice.sb answer-sb @alice\n",
        );
        // ${sb} is used before it is captured.
        let e = case.unwrap_err();
        assert_eq!(e.line, 7);
        assert!(e.message.contains("${sb}"), "{e}");
        let case = parse(
            "@alice connect ns\n\
             @alice login\n\
             @alice > XFR $trid SB\n\
             @alice < XFR $trid SB {sb} CKI {cookie}\n\
             @bob.sb connect ${sb}\n\
             [MSNP8] @alice < ADD $trid FL * ${bob} ${bob} {grp}\n\
             @alice closed\n\
             @alice close\n\
             @alice login MSNP9 manual-challenge\n\
             @alice passport ${grp} {ticket}\n\
             @alice passport-reject ${grp} wrong\n\
             @bob.sb xfr-sb @bob\n\
             @alice.sb answer-sb @alice\n",
        )
        .unwrap();
        assert_eq!(case.steps.len(), 13);
        assert!(matches!(
            case.steps[0].kind,
            StepKind::Connect {
                target: ConnectTarget::Ns,
                ..
            }
        ));
        assert!(matches!(
            &case.steps[1].kind,
            StepKind::Login {
                dialect: None,
                manual_challenge: false,
                ..
            }
        ));
        match &case.steps[4].kind {
            StepKind::Connect {
                session,
                target: ConnectTarget::Address(t),
            } => {
                assert_eq!(session.name, "bob.sb");
                assert_eq!(session.account, "bob");
                assert_eq!(t.source(), "${sb}");
            }
            other => panic!("{other:?}"),
        }
        assert!(case.steps[5].guard.is_some());
        assert!(case.steps[5].applies_to(Dialect::MSNP8));
        assert!(!case.steps[5].applies_to(Dialect::new(9).unwrap()));
        assert!(matches!(
            &case.steps[8].kind,
            StepKind::Login {
                dialect: Some(_),
                manual_challenge: true,
                ..
            }
        ));
        assert!(
            matches!(&case.steps[9].kind, StepKind::Passport { capture, .. } if capture == "ticket")
        );
        assert!(matches!(&case.steps[11].kind, StepKind::XfrSb { via, .. } if via.name == "bob"));
        assert!(matches!(&case.steps[12].kind, StepKind::AnswerSb { .. }));
    }

    #[test]
    fn guards_take_dialect_sets() {
        let case = parse(
            "[MSNP2-7] @alice > ADD $trid FL ${bob} ${bob}\n\
             [MSNP10+] @alice > ADC $trid FL N=${bob}\n\
             [MSNP5-6,MSNP9-MSNP10] @alice > PNG\n\
             [MSNP8 MSNP12] unordered {\n\
             [MSNP12] @alice < QNG *\n\
             }\n",
        )
        .unwrap();
        let applies = |i: usize| -> Vec<u8> {
            (2..=12)
                .filter(|v| case.steps[i].applies_to(Dialect::new(*v).unwrap()))
                .collect()
        };
        assert_eq!(applies(0), vec![2, 3, 4, 5, 6, 7]);
        assert_eq!(applies(1), vec![10, 11, 12]);
        assert_eq!(applies(2), vec![5, 6, 9, 10]);
        assert_eq!(applies(3), vec![8, 12]);
        match &case.steps[3].kind {
            StepKind::Unordered(items) => {
                let guard = items[0].guard.as_ref().unwrap();
                assert!(guard.contains(Dialect::new(12).unwrap()));
                assert!(!guard.contains(Dialect::MSNP8));
            }
            other => panic!("{other:?}"),
        }
        assert!(parse("[MSNP7-2] @alice > PNG\n").is_err());
        assert!(parse("[] @alice > PNG\n").is_err());
    }

    #[test]
    fn parses_payload_blocks() {
        let case = parse(
            "@alice > MSG $trid A <<\nMIME-Version: 1.0\n\n..dot\n.\n\
             @bob < MSG ${alice} * {len} <<=\nMIME-Version: 1.0\n\n.dot\n.\n\
             @bob < MSG ${alice} ${len} * <<\nhello\n.\n",
        )
        .unwrap();
        match &case.steps[0].kind {
            StepKind::Send {
                line,
                payload: Some(p),
                ..
            } => {
                assert_eq!(line.source(), "MSG $trid A");
                let lines: Vec<&str> = p.iter().map(|t| t.source()).collect();
                assert_eq!(lines, vec!["MIME-Version: 1.0", "", ".dot"]);
            }
            other => panic!("{other:?}"),
        }
        match &case.steps[1].kind {
            StepKind::Expect(e) => {
                let p = e.payload.as_ref().unwrap();
                assert!(p.exact);
                assert_eq!(p.lines.len(), 3);
                assert_eq!(e.line.source(), "MSG ${alice} * {len}");
            }
            other => panic!("{other:?}"),
        }
        match &case.steps[2].kind {
            StepKind::Expect(e) => assert!(!e.payload.as_ref().unwrap().exact),
            other => panic!("{other:?}"),
        }
        let e = parse("@alice > MSG 1 A <<\nno end\n").unwrap_err();
        assert!(e.message.contains("payload block"), "{e}");
    }

    #[test]
    fn parses_unordered_blocks() {
        let case = parse(
            "unordered {\n  @alice < IRO 1 * 2 ${bob} {n1}\n  [MSNP8] @bob < JOI ${alice} *\n}\n@alice < X ${n1}\n",
        )
        .unwrap();
        match &case.steps[0].kind {
            StepKind::Unordered(items) => {
                assert_eq!(items.len(), 2);
                assert_eq!(items[1].line, 7);
                assert!(items[1].guard.is_some());
            }
            other => panic!("{other:?}"),
        }
        assert!(parse("unordered {\n@alice > PNG\n}\n").is_err());
        assert!(parse("unordered {\n@alice < QNG\n").is_err());
        assert!(parse("unordered {\n}\n").is_err());
        assert!(parse("}\n").is_err());
        assert!(parse("unordered {\nunordered {\n}\n}\n").is_err());
        // A capture made inside a block cannot be read inside the same block.
        let e = parse("unordered {\n@alice < A {x}\n@bob < B ${x}\n}\n").unwrap_err();
        assert!(e.message.contains("${x}"), "{e}");
    }

    #[test]
    fn statement_errors() {
        for bad in [
            "alice > PNG\n",
            "@carol > PNG\n",
            "@Alice > PNG\n",
            "@alice.Sb > PNG\n",
            "@alice >\n",
            "@alice <\n",
            "@alice frob\n",
            "@alice connect\n",
            "@alice closed now\n",
            "@alice login MSNP99\n",
            "@alice passport x ticket\n",
            "@alice xfr-sb\n",
            "@alice xfr-sb @alice\n",
            "@alice > $bad\n",
            "@alice < A {alice}\n",
            "@alice < A {nobody}\n",
            "[MSNP8 @alice > PNG\n",
            "[XYZ] @alice > PNG\n",
        ] {
            assert!(parse(bad).is_err(), "accepted: {bad}");
        }
    }

    #[test]
    fn account_variables_are_defined() {
        assert!(
            parse(
                "@alice > ADD 1 FL ${bob} ${bob.nick} ${alice.email} ${alice.password} ${nobody}\n"
            )
            .is_ok()
        );
        assert!(parse("@alice > ADD 1 FL ${bob.phone}\n").is_err());
    }
}
