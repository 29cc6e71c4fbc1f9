//! Patterns for expected server lines and payloads, and the matcher.
//!
//! A line pattern is a list of whitespace-separated tokens, each one of:
//! `*` (any one token), `**` (the rest of the line, zero or more tokens; last
//! only), `{name}` (any one token, captured as variable `name`),
//! `PREFIX{name}` / `PREFIX*` (a token that starts with the literal `PREFIX`,
//! which has no `$`, `*`, `{` or `}`; the rest is captured / anything, e.g.
//! `C={guid}`), `\text` (the literal `text`, e.g. `\*`), or a [`Template`]
//! that must render to exactly the server's token.

use crate::case::template::{Env, RenderError, Template, is_var_name};

/// Values captured by a match, in pattern order.
pub type Captures = Vec<(String, String)>;

/// Why a line or payload did not match.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatchError {
    /// The server's text differs from the pattern; the text says where.
    #[error("{0}")]
    Mismatch(String),
    /// The pattern itself could not be rendered (unknown variable ...).
    #[error("cannot render the expected line: {0}")]
    Render(#[from] RenderError),
}

/// One token of a line pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenPat {
    /// `*`: any one token.
    Any,
    /// `**`: all remaining tokens (possibly none).
    Rest,
    /// `{name}`: any one token, captured.
    Capture(String),
    /// `PREFIX{name}`: a token starting with `PREFIX`; the rest is captured.
    PrefixCapture(String, String),
    /// `PREFIX*`: a token starting with `PREFIX`.
    PrefixAny(String),
    /// Must equal the rendered template.
    Literal(Template),
}

/// A pattern for one server line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinePattern {
    tokens: Vec<TokenPat>,
    source: String,
}

/// Splits a server line (or payload line) into tokens: an empty line has no
/// tokens; otherwise every single space separates two tokens, so doubled
/// spaces show up as empty tokens and fail to match.
pub fn split_tokens(line: &str) -> Vec<&str> {
    if line.is_empty() {
        Vec::new()
    } else {
        line.split(' ').collect()
    }
}

impl LinePattern {
    /// Parses a pattern; errors say which token is wrong.
    pub fn parse(text: &str) -> Result<LinePattern, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let mut tokens = Vec::with_capacity(words.len());
        for (i, word) in words.iter().enumerate() {
            let token = if *word == "*" {
                TokenPat::Any
            } else if *word == "**" {
                if i + 1 != words.len() {
                    return Err("`**` may only be the last token".to_string());
                }
                TokenPat::Rest
            } else if let Some(escaped) = word.strip_prefix('\\') {
                TokenPat::Literal(Template::parse(&escaped.replace('$', "$$"))?)
            } else if let Some(name) = word.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                check_capture(name, &tokens)?;
                TokenPat::Capture(name.to_string())
            } else if let Some((prefix, name)) = prefix_capture(word) {
                check_capture(name, &tokens)?;
                TokenPat::PrefixCapture(prefix.to_string(), name.to_string())
            } else if let Some(prefix) = word.strip_suffix('*').filter(|p| is_plain_prefix(p)) {
                TokenPat::PrefixAny(prefix.to_string())
            } else {
                TokenPat::Literal(Template::parse(word).map_err(|e| format!("`{word}`: {e}"))?)
            };
            tokens.push(token);
        }
        Ok(LinePattern {
            tokens,
            source: text.trim().to_string(),
        })
    }

    /// The text the pattern was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The tokens of the pattern.
    pub fn tokens(&self) -> &[TokenPat] {
        &self.tokens
    }

    /// The first token when it is a plain literal (the verb), e.g. `ADD`.
    pub fn literal_verb(&self) -> Option<&str> {
        match self.tokens.first() {
            Some(TokenPat::Literal(t)) if t.vars().is_empty() && !t.uses_trid() => Some(t.source()),
            _ => None,
        }
    }

    /// Names this pattern captures.
    pub fn capture_names(&self) -> Vec<&str> {
        self.tokens
            .iter()
            .filter_map(|t| match t {
                TokenPat::Capture(n) | TokenPat::PrefixCapture(_, n) => Some(n.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Variable names this pattern reads.
    pub fn vars(&self) -> Vec<&str> {
        self.tokens
            .iter()
            .flat_map(|t| match t {
                TokenPat::Literal(tpl) => tpl.vars(),
                _ => Vec::new(),
            })
            .collect()
    }

    /// Whether the pattern mentions `$trid`.
    pub fn uses_trid(&self) -> bool {
        self.tokens
            .iter()
            .any(|t| matches!(t, TokenPat::Literal(tpl) if tpl.uses_trid()))
    }

    /// Matches a server line's tokens; returns the captures.
    pub fn matches(&self, line: &[&str], env: &dyn Env) -> Result<Captures, MatchError> {
        let mut captures = Captures::new();
        for (i, pat) in self.tokens.iter().enumerate() {
            let got = line.get(i);
            match (pat, got) {
                (TokenPat::Rest, _) => return Ok(captures),
                (_, None) => {
                    return Err(MatchError::Mismatch(format!(
                        "the line has {} token(s), the pattern needs at least {}",
                        line.len(),
                        self.min_tokens()
                    )));
                }
                (TokenPat::Any, Some(_)) => {}
                (TokenPat::Capture(name), Some(value)) => {
                    captures.push((name.clone(), (*value).to_string()));
                }
                (TokenPat::PrefixCapture(prefix, name), Some(value)) => {
                    let rest = strip_token_prefix(i, prefix, value)?;
                    captures.push((name.clone(), rest.to_string()));
                }
                (TokenPat::PrefixAny(prefix), Some(value)) => {
                    strip_token_prefix(i, prefix, value)?;
                }
                (TokenPat::Literal(tpl), Some(value)) => {
                    let want = tpl.render(env)?;
                    if want != *value {
                        return Err(MatchError::Mismatch(format!(
                            "token {}: expected `{want}`, got `{value}`",
                            i + 1
                        )));
                    }
                }
            }
        }
        if line.len() > self.tokens.len() {
            return Err(MatchError::Mismatch(format!(
                "the line has {} token(s), the pattern has {}",
                line.len(),
                self.tokens.len()
            )));
        }
        Ok(captures)
    }

    /// The pattern with every renderable part substituted, for messages.
    pub fn display(&self, env: &dyn Env) -> String {
        let words: Vec<String> = self
            .tokens
            .iter()
            .map(|t| match t {
                TokenPat::Any => "*".to_string(),
                TokenPat::Rest => "**".to_string(),
                TokenPat::Capture(n) => format!("{{{n}}}"),
                TokenPat::PrefixCapture(p, n) => format!("{p}{{{n}}}"),
                TokenPat::PrefixAny(p) => format!("{p}*"),
                TokenPat::Literal(tpl) => tpl.display(env),
            })
            .collect();
        words.join(" ")
    }

    fn min_tokens(&self) -> usize {
        self.tokens
            .iter()
            .filter(|t| !matches!(t, TokenPat::Rest))
            .count()
    }
}

/// Whether `prefix` can start a `PREFIX{name}` or `PREFIX*` token: non-empty,
/// without `$`, `*`, `{`, `}` or a leading `\\`.
fn is_plain_prefix(prefix: &str) -> bool {
    !prefix.is_empty() && !prefix.starts_with('\\') && !prefix.contains(['$', '*', '{', '}'])
}

/// `PREFIX{name}` split into its prefix and name, if `word` has that form.
fn prefix_capture(word: &str) -> Option<(&str, &str)> {
    let inner = word.strip_suffix('}')?;
    let (prefix, name) = inner.rsplit_once('{')?;
    is_plain_prefix(prefix).then_some((prefix, name))
}

/// Checks a capture name and that the line does not capture it already.
fn check_capture(name: &str, tokens: &[TokenPat]) -> Result<(), String> {
    if !is_var_name(name) || name.contains('.') {
        return Err(format!(
            "`{{{name}}}` is not a valid capture (letters, digits, `_`, `-`)"
        ));
    }
    if tokens
        .iter()
        .any(|t| matches!(t, TokenPat::Capture(n) | TokenPat::PrefixCapture(_, n) if n == name))
    {
        return Err(format!("`{{{name}}}` is captured twice in one line"));
    }
    Ok(())
}

/// The rest of server token `value` (the `index`-th) after `prefix`.
fn strip_token_prefix<'v>(
    index: usize,
    prefix: &str,
    value: &'v str,
) -> Result<&'v str, MatchError> {
    value.strip_prefix(prefix).ok_or_else(|| {
        MatchError::Mismatch(format!(
            "token {}: expected a token starting with `{prefix}`, got `{value}`",
            index + 1
        ))
    })
}

/// What a server payload must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadPattern {
    /// `<<=`: the payload's lines are exactly these; `<<`: these lines appear
    /// in this order, other lines may come between them.
    pub exact: bool,
    /// One pattern per payload line (lines are split at CRLF).
    pub lines: Vec<LinePattern>,
}

impl PayloadPattern {
    /// Checks a payload; returns the captures of the matched lines.
    pub fn check(&self, payload: &[u8], env: &dyn Env) -> Result<Captures, MatchError> {
        let text = std::str::from_utf8(payload)
            .map_err(|_| MatchError::Mismatch("the payload is not UTF-8".to_string()))?;
        let lines: Vec<&str> = text.split("\r\n").collect();
        let mut captures = Captures::new();
        if self.exact {
            if lines.len() != self.lines.len() {
                return Err(MatchError::Mismatch(format!(
                    "the payload has {} line(s), expected exactly {}",
                    lines.len(),
                    self.lines.len()
                )));
            }
            for (i, (pat, line)) in self.lines.iter().zip(&lines).enumerate() {
                match pat.matches(&split_tokens(line), env) {
                    Ok(c) => captures.extend(c),
                    Err(MatchError::Mismatch(why)) => {
                        return Err(MatchError::Mismatch(format!(
                            "payload line {}: expected `{}`, got `{line}` ({why})",
                            i + 1,
                            pat.display(env)
                        )));
                    }
                    Err(e) => return Err(e),
                }
            }
            return Ok(captures);
        }
        let mut next = 0;
        for pat in &self.lines {
            let mut found = false;
            while next < lines.len() {
                let line = lines[next];
                next += 1;
                match pat.matches(&split_tokens(line), env) {
                    Ok(c) => {
                        captures.extend(c);
                        found = true;
                        break;
                    }
                    Err(MatchError::Mismatch(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            if !found {
                return Err(MatchError::Mismatch(format!(
                    "no payload line (in order) matches `{}`",
                    pat.display(env)
                )));
            }
        }
        Ok(captures)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::template::tests::MapEnv;

    fn pat(s: &str) -> LinePattern {
        LinePattern::parse(s).unwrap()
    }

    #[test]
    fn literals_wildcards_and_captures() {
        let env = MapEnv::new(&[("bob", "bob@x.test")]);
        let p = pat("ADD $trid FL * ${bob} {nick} 0");
        let caps = p
            .matches(&split_tokens("ADD 7 FL 12 bob@x.test Bob 0"), &env)
            .unwrap();
        assert_eq!(caps, vec![("nick".to_string(), "Bob".to_string())]);
        assert!(
            p.matches(&split_tokens("ADD 8 FL 12 bob@x.test Bob 0"), &env)
                .is_err()
        );
        assert!(
            p.matches(&split_tokens("ADD 7 FL 12 bob@x.test Bob"), &env)
                .is_err()
        );
        assert!(
            p.matches(&split_tokens("ADD 7 FL 12 bob@x.test Bob 0 9"), &env)
                .is_err()
        );
        assert_eq!(p.capture_names(), vec!["nick"]);
        assert_eq!(p.vars(), vec!["bob"]);
        assert!(p.uses_trid());
        assert_eq!(p.literal_verb(), Some("ADD"));
        assert_eq!(p.display(&env), "ADD 7 FL * bob@x.test {nick} 0");
    }

    #[test]
    fn prefixed_captures_and_wildcards() {
        let env = MapEnv::new(&[("bob", "bob@x.test")]);
        let p = pat("ADC $trid FL N=${bob} F=* C={guid}");
        let caps = p
            .matches(
                &split_tokens("ADC 7 FL N=bob@x.test F=Bob C=1234-abcd"),
                &env,
            )
            .unwrap();
        assert_eq!(caps, vec![("guid".to_string(), "1234-abcd".to_string())]);
        assert_eq!(p.capture_names(), vec!["guid"]);
        assert_eq!(p.display(&env), "ADC 7 FL N=bob@x.test F=* C={guid}");
        // The prefix must be there; the rest may be empty.
        assert!(
            p.matches(&split_tokens("ADC 7 FL N=bob@x.test X=Bob C=1"), &env)
                .is_err()
        );
        assert!(
            p.matches(&split_tokens("ADC 7 FL N=bob@x.test F= C=1"), &env)
                .is_ok()
        );
        // `${...}`, `$md5{...}` and escapes stay templates.
        assert_eq!(pat("$md5{abc}").capture_names(), Vec::<&str>::new());
        assert_eq!(pat("N=${bob}").capture_names(), Vec::<&str>::new());
        assert!(pat("\\C=*").matches(&split_tokens("C=*"), &env).is_ok());
        assert!(LinePattern::parse("A C={x} D={x}").is_err());
        assert!(LinePattern::parse("A C={a.b}").is_err());
    }

    #[test]
    fn rest_matches_zero_or_more() {
        let env = MapEnv::new(&[]);
        let p = pat("CVR $trid **");
        assert!(p.matches(&split_tokens("CVR 7"), &env).is_ok());
        assert!(p.matches(&split_tokens("CVR 7 a b c"), &env).is_ok());
        assert!(p.matches(&split_tokens("CVR 8 a"), &env).is_err());
        assert!(LinePattern::parse("A ** b").is_err());
    }

    #[test]
    fn doubled_spaces_do_not_match() {
        let env = MapEnv::new(&[]);
        let p = pat("QNG");
        assert!(p.matches(&split_tokens("QNG "), &env).is_err());
        assert!(pat("A B").matches(&split_tokens("A  B"), &env).is_err());
    }

    #[test]
    fn escapes_and_bad_captures() {
        let env = MapEnv::new(&[]);
        let p = pat("X \\* \\$trid");
        assert!(p.matches(&split_tokens("X * $trid"), &env).is_ok());
        assert!(p.matches(&split_tokens("X y $trid"), &env).is_err());
        assert!(LinePattern::parse("X {a.b}").is_err());
        assert!(LinePattern::parse("X {a} {a}").is_err());
        assert!(LinePattern::parse("X ${").is_err());
    }

    #[test]
    fn mismatch_message_names_the_token() {
        let env = MapEnv::new(&[]);
        let err = pat("ADD $trid FL").matches(&split_tokens("ADD 7 AL"), &env);
        assert_eq!(
            err,
            Err(MatchError::Mismatch(
                "token 3: expected `FL`, got `AL`".to_string()
            ))
        );
        let err = pat("ADD $trid ${nope}").matches(&split_tokens("ADD 7 AL"), &env);
        assert!(matches!(err, Err(MatchError::Render(_))));
    }

    #[test]
    fn payload_contains_in_order() {
        let env = MapEnv::new(&[]);
        let payload =
            b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhello there";
        let p = PayloadPattern {
            exact: false,
            lines: vec![pat("Content-Type: text/plain; **"), pat("hello {who}")],
        };
        assert_eq!(
            p.check(payload, &env).unwrap(),
            vec![("who".to_string(), "there".to_string())]
        );
        let p = PayloadPattern {
            exact: false,
            lines: vec![pat("hello there"), pat("MIME-Version: 1.0")],
        };
        assert!(p.check(payload, &env).is_err());
    }

    #[test]
    fn payload_exact() {
        let env = MapEnv::new(&[]);
        let payload = b"A: 1\r\n\r\nbody";
        let good = PayloadPattern {
            exact: true,
            lines: vec![pat("A: 1"), pat(""), pat("body")],
        };
        assert!(good.check(payload, &env).is_ok());
        let short = PayloadPattern {
            exact: true,
            lines: vec![pat("A: 1"), pat("body")],
        };
        assert!(short.check(payload, &env).is_err());
        let wrong = PayloadPattern {
            exact: true,
            lines: vec![pat("A: 2"), pat(""), pat("body")],
        };
        let err = wrong.check(payload, &env).unwrap_err().to_string();
        assert!(err.contains("payload line 1"), "{err}");
        assert!(good.check(&[0xff, 0xfe], &env).is_err());
    }
}
