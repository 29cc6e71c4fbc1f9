//! The transcript case model: a [`Case`] is a header (title, dialects, roles,
//! accounts, features) and a list of [`Step`]s. `parse` reads `.msnp` text into
//! it, `load` finds case files on disk; the syntax is documented in
//! `conformance/README.md`.

pub mod load;
pub mod parse;
pub mod pattern;
pub mod template;
pub mod verbs;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::dialect::{Dialect, DialectSet};
use pattern::{LinePattern, PayloadPattern};
use template::Template;

pub use load::{LoadError, filter_cases, load_cases};
pub use parse::{ParseError, parse_case};
pub use verbs::{VerbUse, verbs_in};

/// A server role a case needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Notification server (login, lists, presence).
    Ns,
    /// Switchboard (conversations), reached through `XFR SB`.
    Sb,
    /// Dispatch server (redirects to a notification server).
    Dispatch,
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ns" => Ok(Role::Ns),
            "sb" => Ok(Role::Sb),
            "dispatch" => Ok(Role::Dispatch),
            other => Err(format!("unknown role `{other}` (ns, sb, dispatch)")),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Ns => "ns",
            Role::Sb => "sb",
            Role::Dispatch => "dispatch",
        })
    }
}

/// One parsed case file.
#[derive(Debug, Clone)]
pub struct Case {
    /// Identity: the path relative to the cases directory, with `/`.
    pub id: String,
    /// `# title:`.
    pub title: String,
    /// `# dialects:` — the case runs once per dialect also claimed by the manifest.
    pub dialects: DialectSet,
    /// `# roles:` — every one must be claimed by the manifest.
    pub roles: Vec<Role>,
    /// `# accounts:` — labels of the fresh accounts the case uses.
    pub accounts: Vec<String>,
    /// `# features:` — every one must be claimed by the manifest.
    pub features: Vec<String>,
    /// The statements, in file order.
    pub steps: Vec<Step>,
}

/// A named connection of a case: `@alice`, `@alice.sb`, `@bob.2`. The part
/// before the first `.` names the account it acts for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionName {
    /// The whole name without `@`.
    pub name: String,
    /// The account label.
    pub account: String,
}

impl fmt::Display for SessionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}", self.name)
    }
}

/// One statement with where it came from.
#[derive(Debug, Clone)]
pub struct Step {
    /// 1-based line number in the case file.
    pub line: usize,
    /// The statement's first line as written (for messages).
    pub source: String,
    /// `[MSNP8]`-style guard: run the step only in these dialects.
    pub guard: Option<DialectSet>,
    /// What to do.
    pub kind: StepKind,
}

impl Step {
    /// Whether the step runs in `dialect`.
    pub fn applies_to(&self, dialect: Dialect) -> bool {
        self.guard.as_ref().is_none_or(|g| g.contains(dialect))
    }
}

/// Where `connect` goes.
#[derive(Debug, Clone)]
pub enum ConnectTarget {
    /// The manifest's notification port.
    Ns,
    /// The manifest's dispatch port.
    Dispatch,
    /// A `host:port` given by a template, e.g. `${sb}` captured from `XFR`.
    Address(Template),
}

/// An expected server line, optionally with a payload check.
#[derive(Debug, Clone)]
pub struct Expectation {
    /// The session that must receive it.
    pub session: SessionName,
    /// The line pattern.
    pub line: LinePattern,
    /// `<<` / `<<=` block after the line.
    pub payload: Option<PayloadPattern>,
}

/// One expected line inside an `unordered { ... }` block.
#[derive(Debug, Clone)]
pub struct UnorderedItem {
    /// 1-based line number in the case file.
    pub line: usize,
    /// The line as written.
    pub source: String,
    /// Dialect guard of this item.
    pub guard: Option<DialectSet>,
    /// The expectation.
    pub expectation: Expectation,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum StepKind {
    /// `@s connect ns|dispatch|ADDRESS`.
    Connect {
        /// The session to open.
        session: SessionName,
        /// Where to.
        target: ConnectTarget,
    },
    /// `@s > LINE` (with ` <<` and a payload block: the length is appended).
    Send {
        /// The sending session.
        session: SessionName,
        /// The command line without its length token.
        line: Template,
        /// Payload lines, joined with CRLF when sent.
        payload: Option<Vec<Template>>,
    },
    /// `@s < PATTERN`: the next line on the session must match.
    Expect(Expectation),
    /// `unordered { ... }`: per session, the next lines match these in any order.
    Unordered(Vec<UnorderedItem>),
    /// `@s closed`: the server closes the connection next.
    ExpectClosed {
        /// The session.
        session: SessionName,
    },
    /// `@s close`: the client drops its connection.
    Close {
        /// The session.
        session: SessionName,
    },
    /// `@s login [MSNPn] [manual-challenge]`: the whole ticket login.
    Login {
        /// The (connected, notification) session.
        session: SessionName,
        /// Dialect to log in with; default the case instance's.
        dialect: Option<Dialect>,
        /// Leave a `CHL` after login to the case instead of answering it.
        manual_challenge: bool,
    },
    /// `@s passport POLICY {name}`: Passport 1.4 login over HTTP, ticket captured.
    Passport {
        /// Whose account.
        session: SessionName,
        /// The `USR TWN S` policy string.
        policy: Template,
        /// Variable that receives the ticket.
        capture: String,
    },
    /// `@s passport-reject POLICY PASSWORD`: the login server must refuse.
    PassportReject {
        /// Whose account.
        session: SessionName,
        /// The `USR TWN S` policy string.
        policy: Template,
        /// The (wrong) password to try.
        password: Template,
    },
    /// `@s xfr-sb @ns`: `XFR SB` on `@ns`, connect `@s` there, `USR`, expect `OK`.
    XfrSb {
        /// The new switchboard session.
        session: SessionName,
        /// The notification session that asks.
        via: SessionName,
    },
    /// `@s answer-sb @ns`: take the next line on `@ns` as `RNG`, connect, `ANS`,
    /// accept `IRO` lines until `ANS OK`.
    AnswerSb {
        /// The new switchboard session.
        session: SessionName,
        /// The notification session that got `RNG`.
        via: SessionName,
    },
}
