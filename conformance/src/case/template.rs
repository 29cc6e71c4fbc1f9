//! Text templates used in case lines: `$trid`, `$dialect`, `${name}` and
//! `$md5{...}` inside otherwise literal text, rendered against an [`Env`].
//!
//! - `$trid` — the session's transaction id (a client line allocates the next
//!   one; an expected line uses the last one sent on that session);
//! - `$dialect` — the dialect the case instance runs in, e.g. `MSNP8`;
//! - `${name}` — a variable: an account (`${alice}`, `${alice.nick}`,
//!   `${alice.password}`), `${nobody}` or a value captured earlier;
//! - `$md5{text}` — lowercase hex MD5 of the rendered `text`;
//! - `$qry{challenge}` — the `QRY` answer to `challenge` in the case's dialect
//!   (MSNP6–10: MD5 with the `msmsgs@msnmsgr.com` key; MSNP11+: the MSNP11
//!   algorithm with the `PROD0090YUAUV{2B` key);
//! - `$qryid` — the product id that goes with `$qry{...}`;
//! - `$$` — a literal `$`.

use std::fmt;

use crate::client::challenge::{md5_hex, qry_answer};
use crate::dialect::Dialect;

/// What a template needs from the running case to render.
pub trait Env {
    /// The value of variable `name`, or a message saying why there is none.
    fn var(&self, name: &str) -> Result<String, String>;
    /// The current transaction id of the session the line belongs to.
    fn trid(&self) -> Result<u64, String>;
    /// The dialect of the case instance.
    fn dialect(&self) -> Dialect;
}

/// A template could not be rendered (unknown variable, no trid yet).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RenderError(pub String);

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Var(String),
    Trid,
    Dialect,
    Md5(Vec<Part>),
    Qry(Vec<Part>),
    QryId,
}

/// A parsed template; keeps its source text for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
    source: String,
}

impl Template {
    /// Parses `text`; errors name the problem (unknown `$` form, unclosed brace).
    pub fn parse(text: &str) -> Result<Template, String> {
        let chars: Vec<char> = text.chars().collect();
        let mut pos = 0;
        let parts = parse_parts(&chars, &mut pos, false)?;
        Ok(Template {
            parts,
            source: text.to_string(),
        })
    }

    /// The text the template was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the template mentions `$trid`.
    pub fn uses_trid(&self) -> bool {
        fn any(parts: &[Part]) -> bool {
            parts.iter().any(|p| match p {
                Part::Trid => true,
                Part::Md5(inner) | Part::Qry(inner) => any(inner),
                _ => false,
            })
        }
        any(&self.parts)
    }

    /// The variable names the template mentions, in order.
    pub fn vars(&self) -> Vec<&str> {
        fn collect<'a>(parts: &'a [Part], out: &mut Vec<&'a str>) {
            for p in parts {
                match p {
                    Part::Var(name) => out.push(name),
                    Part::Md5(inner) | Part::Qry(inner) => collect(inner, out),
                    _ => {}
                }
            }
        }
        let mut out = Vec::new();
        collect(&self.parts, &mut out);
        out
    }

    /// The literal text before the first space, when the template starts with
    /// literal text that a space ends (or is all literal): the verb of a sent
    /// line such as `ADD $trid FL ${bob}`. `None` when a `$` form is part of
    /// the first word.
    pub fn leading_word(&self) -> Option<&str> {
        match self.parts.first() {
            Some(Part::Literal(text)) => match text.split_once(' ') {
                Some((word, _)) => Some(word),
                None if self.parts.len() == 1 => Some(text),
                None => None,
            },
            _ => None,
        }
    }

    /// Renders the template.
    pub fn render(&self, env: &dyn Env) -> Result<String, RenderError> {
        render_parts(&self.parts, env).map_err(RenderError)
    }

    /// Renders for a message: like [`Template::render`], but a part that cannot
    /// be rendered is shown as written.
    pub fn display(&self, env: &dyn Env) -> String {
        self.render(env).unwrap_or_else(|_| self.source.clone())
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Whether `name` is a valid variable name: `[A-Za-z0-9_.-]+`.
pub fn is_var_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn parse_parts(chars: &[char], pos: &mut usize, inside_braces: bool) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    while *pos < chars.len() {
        let c = chars[*pos];
        if inside_braces && c == '}' {
            *pos += 1;
            flush(&mut literal, &mut parts);
            return Ok(parts);
        }
        if c != '$' {
            literal.push(c);
            *pos += 1;
            continue;
        }
        let rest: String = chars[*pos + 1..].iter().collect();
        if rest.starts_with('$') {
            literal.push('$');
            *pos += 2;
        } else if rest.starts_with("trid") {
            flush(&mut literal, &mut parts);
            parts.push(Part::Trid);
            *pos += 5;
        } else if rest.starts_with("dialect") {
            flush(&mut literal, &mut parts);
            parts.push(Part::Dialect);
            *pos += 8;
        } else if rest.starts_with("md5{") {
            flush(&mut literal, &mut parts);
            *pos += 5;
            let inner = parse_parts(chars, pos, true)?;
            parts.push(Part::Md5(inner));
        } else if rest.starts_with("qryid") {
            flush(&mut literal, &mut parts);
            parts.push(Part::QryId);
            *pos += 6;
        } else if rest.starts_with("qry{") {
            flush(&mut literal, &mut parts);
            *pos += 5;
            let inner = parse_parts(chars, pos, true)?;
            parts.push(Part::Qry(inner));
        } else if rest.starts_with('{') {
            let Some(end) = rest.find('}') else {
                return Err("unclosed `${`".to_string());
            };
            let name = &rest[1..end];
            if !is_var_name(name) {
                return Err(format!("`${{{name}}}` is not a valid variable reference"));
            }
            flush(&mut literal, &mut parts);
            parts.push(Part::Var(name.to_string()));
            *pos += 1 + rest[..=end].chars().count();
        } else {
            return Err(
                "`$` must start `$trid`, `$dialect`, `${name}`, `$md5{...}`, `$qry{...}`, `$qryid` or `$$`"
                    .to_string(),
            );
        }
    }
    if inside_braces {
        return Err("unclosed `$md5{` or `$qry{`".to_string());
    }
    flush(&mut literal, &mut parts);
    Ok(parts)
}

fn flush(literal: &mut String, parts: &mut Vec<Part>) {
    if !literal.is_empty() {
        parts.push(Part::Literal(std::mem::take(literal)));
    }
}

fn render_parts(parts: &[Part], env: &dyn Env) -> Result<String, String> {
    let mut out = String::new();
    for part in parts {
        match part {
            Part::Literal(text) => out.push_str(text),
            Part::Var(name) => out.push_str(&env.var(name)?),
            Part::Trid => out.push_str(&env.trid()?.to_string()),
            Part::Dialect => out.push_str(&env.dialect().to_string()),
            Part::Md5(inner) => out.push_str(&md5_hex(render_parts(inner, env)?.as_bytes())),
            Part::Qry(inner) => {
                out.push_str(&qry_answer(env.dialect(), &render_parts(inner, env)?).1);
            }
            Part::QryId => out.push_str(qry_answer(env.dialect(), "").0),
        }
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// A fixed environment for tests.
    pub(crate) struct MapEnv {
        pub vars: BTreeMap<String, String>,
        pub trid: Option<u64>,
        pub dialect: Dialect,
    }

    impl MapEnv {
        pub(crate) fn new(pairs: &[(&str, &str)]) -> MapEnv {
            MapEnv {
                vars: pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                trid: Some(7),
                dialect: Dialect::MSNP8,
            }
        }
    }

    impl Env for MapEnv {
        fn var(&self, name: &str) -> Result<String, String> {
            self.vars
                .get(name)
                .cloned()
                .ok_or_else(|| format!("no variable `{name}`"))
        }
        fn trid(&self) -> Result<u64, String> {
            self.trid.ok_or_else(|| "no trid".to_string())
        }
        fn dialect(&self) -> Dialect {
            self.dialect
        }
    }

    #[test]
    fn renders_all_forms() {
        let env = MapEnv::new(&[("bob", "bob@x.test"), ("chl", "15570131571988941333")]);
        let t = Template::parse("ADD $trid FL ${bob} $$5 $dialect").unwrap();
        assert_eq!(t.render(&env).unwrap(), "ADD 7 FL bob@x.test $5 MSNP8");
        assert!(t.uses_trid());
        assert_eq!(t.vars(), vec!["bob"]);
        let t = Template::parse("$md5{${chl}Q1P7W2E4J9R8U3S5}").unwrap();
        assert_eq!(t.render(&env).unwrap(), "8f2f5a91b72102cd28355e9fc9000d6e");
        assert_eq!(t.vars(), vec!["chl"]);
        assert!(!t.uses_trid());
    }

    #[test]
    fn renders_qry_answers_by_dialect() {
        let mut env = MapEnv::new(&[("chl", "22210219642164014968")]);
        let t = Template::parse("QRY $trid $qryid").unwrap();
        assert_eq!(t.render(&env).unwrap(), "QRY 7 msmsgs@msnmsgr.com");
        assert!(t.uses_trid());
        let answer = Template::parse("$qry{${chl}}").unwrap();
        assert_eq!(answer.vars(), vec!["chl"]);
        assert_eq!(
            answer.render(&env).unwrap(),
            md5_hex(b"22210219642164014968Q1P7W2E4J9R8U3S5")
        );
        env.dialect = Dialect::new(11).unwrap();
        assert_eq!(t.render(&env).unwrap(), "QRY 7 PROD0090YUAUV{2B");
        assert_eq!(
            answer.render(&env).unwrap(),
            "85ecb0db8f32113df79ce0892b9a102c"
        );
        assert!(Template::parse("$qry{abc").is_err());
        assert!(Template::parse("$qr").is_err());
    }

    #[test]
    fn leading_word_is_the_literal_verb() {
        let word = |t: &str| {
            Template::parse(t)
                .unwrap()
                .leading_word()
                .map(str::to_string)
        };
        assert_eq!(word("ADD $trid FL ${bob}").as_deref(), Some("ADD"));
        assert_eq!(word("PNG").as_deref(), Some("PNG"));
        assert_eq!(word("OUT ").as_deref(), Some("OUT"));
        assert_eq!(word("${verb} 1"), None);
        assert_eq!(word("A${x} 1"), None);
        assert_eq!(word("$trid"), None);
    }

    #[test]
    fn literal_braces_and_text_stay() {
        let env = MapEnv::new(&[]);
        let t = Template::parse("a}b{c} plain").unwrap();
        assert_eq!(t.render(&env).unwrap(), "a}b{c} plain");
    }

    #[test]
    fn rejects_bad_forms() {
        assert!(Template::parse("$x").is_err());
        assert!(Template::parse("${bob").is_err());
        assert!(Template::parse("${}").is_err());
        assert!(Template::parse("${a b}").is_err());
        assert!(Template::parse("$md5{abc").is_err());
        assert!(Template::parse("trailing $").is_err());
    }

    #[test]
    fn render_errors_name_the_variable() {
        let mut env = MapEnv::new(&[]);
        env.trid = None;
        let t = Template::parse("${carol}").unwrap();
        assert_eq!(t.render(&env).unwrap_err().0, "no variable `carol`");
        assert_eq!(t.display(&env), "${carol}");
        assert!(Template::parse("$trid").unwrap().render(&env).is_err());
    }
}
