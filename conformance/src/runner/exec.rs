//! Executing one case instance: sessions and their transaction ids,
//! variables, and the basic steps (connect, send, expect, unordered, close,
//! closed). The macros live in `macros.rs`.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::case::parse::NOBODY;
use crate::case::pattern::{Captures, LinePattern, MatchError, PayloadPattern};
use crate::case::template::{Env, Template};
use crate::case::{ConnectTarget, SessionName, Step, StepKind, UnorderedItem};
use crate::client::conn::Connection;
use crate::client::line::{Incoming, ServerLine};
use crate::dialect::Dialect;
use crate::manifest::Manifest;
use crate::runner::Failure;
use crate::runner::matching;
use crate::runner::provision::Account;
use crate::runner::trace::{Direction, Trace};

/// What a failing step reports: a (possibly multi-line) message.
pub(super) type StepResult<T = ()> = Result<T, String>;

/// One connection of a case.
#[derive(Debug, Default)]
struct Session {
    conn: Option<Connection>,
    /// The transaction id of the last client line that used `$trid`.
    trid: Option<u64>,
    /// The last transaction id handed out.
    issued: u64,
    /// Set when the server closed the connection.
    closed_by_server: bool,
}

/// The state of one running case instance.
pub(super) struct CaseRun<'m> {
    pub(super) manifest: &'m Manifest,
    pub(super) dialect: Dialect,
    pub(super) timeout: Duration,
    pub(super) accounts: BTreeMap<String, Account>,
    nobody: String,
    vars: BTreeMap<String, String>,
    sessions: BTreeMap<String, Session>,
    pub(super) trace: Trace,
}

/// Renders templates for one session of a run.
pub(super) struct Scope<'a, 'm> {
    run: &'a CaseRun<'m>,
    session: &'a str,
}

impl Env for Scope<'_, '_> {
    fn var(&self, name: &str) -> Result<String, String> {
        self.run.lookup(name)
    }

    fn trid(&self) -> Result<u64, String> {
        self.run
            .sessions
            .get(self.session)
            .and_then(|s| s.trid)
            .ok_or_else(|| {
                format!(
                    "`$trid`: no line with `$trid` was sent on @{} yet",
                    self.session
                )
            })
    }

    fn dialect(&self) -> Dialect {
        self.run.dialect
    }
}

/// Escapes a value for use inside a pattern or template built by the runner.
pub(super) fn esc(value: &str) -> String {
    value.replace('$', "$$")
}

impl<'m> CaseRun<'m> {
    pub(super) fn new(
        manifest: &'m Manifest,
        dialect: Dialect,
        accounts: Vec<Account>,
        nobody: String,
    ) -> CaseRun<'m> {
        CaseRun {
            manifest,
            dialect,
            timeout: manifest.line_timeout(),
            accounts: accounts.into_iter().map(|a| (a.label.clone(), a)).collect(),
            nobody,
            vars: BTreeMap::new(),
            sessions: BTreeMap::new(),
            trace: Trace::default(),
        }
    }

    /// Runs the steps that apply to this dialect; stops at the first failure.
    pub(super) async fn run(&mut self, steps: &[Step]) -> Result<(), Failure> {
        for step in steps {
            if !step.applies_to(self.dialect) {
                continue;
            }
            if let Err(message) = self.step(step).await {
                return Err(Failure {
                    line: step.line,
                    source: step.source.clone(),
                    message,
                    traffic: self.trace.entries(),
                });
            }
        }
        Ok(())
    }

    async fn step(&mut self, step: &Step) -> StepResult {
        match &step.kind {
            StepKind::Connect { session, target } => self.connect(session, target).await,
            StepKind::Send {
                session,
                line,
                payload,
            } => self.send(session, line, payload.as_deref()).await,
            StepKind::Expect(e) => {
                let (_, captures) = self
                    .expect_one(&e.session.name, &e.line, e.payload.as_ref())
                    .await?;
                self.store(captures);
                Ok(())
            }
            StepKind::Unordered(items) => self.unordered(items).await,
            StepKind::ExpectClosed { session } => self.expect_closed(&session.name).await,
            StepKind::Close { session } => self.close(&session.name),
            StepKind::Login {
                session,
                dialect,
                manual_challenge,
            } => self
                .login(session, dialect.unwrap_or(self.dialect), *manual_challenge)
                .await
                .map_err(|e| format!("in the login macro:\n{e}")),
            StepKind::Passport {
                session,
                policy,
                capture,
            } => self.passport(session, policy, capture).await,
            StepKind::PassportReject {
                session,
                policy,
                password,
            } => self.passport_reject(session, policy, password).await,
            StepKind::XfrSb { session, via } => self
                .xfr_sb(session, via)
                .await
                .map_err(|e| format!("in the xfr-sb macro:\n{e}")),
            StepKind::AnswerSb { session, via } => self
                .answer_sb(session, via)
                .await
                .map_err(|e| format!("in the answer-sb macro:\n{e}")),
        }
    }

    /// The value of a variable: a capture, `nobody`, or an account field.
    fn lookup(&self, name: &str) -> Result<String, String> {
        if let Some(value) = self.vars.get(name) {
            return Ok(value.clone());
        }
        if name == NOBODY {
            return Ok(self.nobody.clone());
        }
        let (label, field) = name.split_once('.').unwrap_or((name, "email"));
        let account = self
            .accounts
            .get(label)
            .ok_or_else(|| format!("no variable `{name}`"))?;
        match field {
            "email" => Ok(account.email.clone()),
            "password" => Ok(account.password.clone()),
            "nick" => account.nick.clone().ok_or_else(|| {
                format!(
                    "the nick of `{label}` is unknown: provisioning does not set one and {label} has not logged in yet"
                )
            }),
            _ => Err(format!("no variable `{name}`")),
        }
    }

    pub(super) fn scope<'a>(&'a self, session: &'a str) -> Scope<'a, 'm> {
        Scope { run: self, session }
    }

    pub(super) fn account(&self, label: &str) -> StepResult<Account> {
        self.accounts
            .get(label)
            .cloned()
            .ok_or_else(|| format!("no account `{label}`"))
    }

    pub(super) fn set_nick(&mut self, label: &str, nick: &str) {
        if let Some(a) = self.accounts.get_mut(label) {
            a.nick = Some(nick.to_string());
        }
    }

    pub(super) fn store(&mut self, captures: Captures) {
        self.vars.extend(captures);
    }

    pub(super) fn set_var(&mut self, name: &str, value: String) {
        self.vars.insert(name.to_string(), value);
    }

    /// Hands out the session's next transaction id and makes it current.
    pub(super) fn alloc_trid(&mut self, session: &str) -> u64 {
        let s = self.sessions.entry(session.to_string()).or_default();
        s.issued += 1;
        s.trid = Some(s.issued);
        s.issued
    }

    fn conn(&mut self, session: &str) -> StepResult<&mut Connection> {
        let s = self.sessions.entry(session.to_string()).or_default();
        let closed = s.closed_by_server;
        s.conn.as_mut().ok_or_else(|| {
            if closed {
                format!("@{session} was closed by the server")
            } else {
                format!("@{session} is not connected (use `@{session} connect ...`)")
            }
        })
    }

    async fn connect(&mut self, session: &SessionName, target: &ConnectTarget) -> StepResult {
        let addr = match target {
            ConnectTarget::Ns => self.manifest.ns_addr(),
            ConnectTarget::Dispatch => self
                .manifest
                .dispatch_addr()
                .ok_or("the manifest has no dispatch port")?,
            ConnectTarget::Address(t) => t.render(&self.scope(&session.name)).map_err(|e| e.0)?,
        };
        self.connect_to(&session.name, &addr).await
    }

    pub(super) async fn connect_to(&mut self, session: &str, addr: &str) -> StepResult {
        if self.sessions.get(session).is_some_and(|s| s.conn.is_some()) {
            return Err(format!("@{session} is already connected; `close` it first"));
        }
        let conn = Connection::connect(addr, self.timeout)
            .await
            .map_err(|e| e.to_string())?;
        self.trace
            .push(session, Direction::Note, format!("connected to {addr}"));
        let s = self.sessions.entry(session.to_string()).or_default();
        s.conn = Some(conn);
        s.closed_by_server = false;
        Ok(())
    }

    async fn send(
        &mut self,
        session: &SessionName,
        line: &Template,
        payload: Option<&[Template]>,
    ) -> StepResult {
        if line.uses_trid() {
            self.alloc_trid(&session.name);
        }
        let scope = self.scope(&session.name);
        let text = line.render(&scope).map_err(|e| e.0)?;
        let payload = match payload {
            Some(lines) => {
                let rendered = lines
                    .iter()
                    .map(|t| t.render(&scope).map_err(|e| e.0))
                    .collect::<Result<Vec<_>, _>>()?;
                Some(rendered.join("\r\n").into_bytes())
            }
            None => None,
        };
        self.send_raw(&session.name, text, payload).await
    }

    /// Sends a line; with a payload, its length is appended to the line.
    pub(super) async fn send_raw(
        &mut self,
        session: &str,
        line: String,
        payload: Option<Vec<u8>>,
    ) -> StepResult {
        let (line, shown) = match &payload {
            Some(p) => {
                let full = format!("{line} {}", p.len());
                let shown = format!("{full} [+{} payload bytes]", p.len());
                (full, shown)
            }
            None => (line.clone(), line),
        };
        let result = {
            let conn = self.conn(session)?;
            match &payload {
                Some(p) => conn.send_with_payload(&line, p).await,
                None => conn.send_line(&line).await,
            }
        };
        self.trace.push(session, Direction::Sent, shown);
        result.map_err(|e| format!("sending `{line}` on @{session}: {e}"))
    }

    /// Reads the next line or close from a session, tracing it.
    pub(super) async fn receive(&mut self, session: &str) -> StepResult<Incoming> {
        let timeout = self.timeout;
        let result = {
            let conn = self.conn(session)?;
            conn.read(timeout).await
        };
        match result {
            Ok(Incoming::Line(line)) => {
                self.trace
                    .push(session, Direction::Received, line.describe());
                Ok(Incoming::Line(line))
            }
            Ok(Incoming::Closed) => {
                self.trace
                    .push(session, Direction::Note, "the server closed the connection");
                if let Some(s) = self.sessions.get_mut(session) {
                    s.conn = None;
                    s.closed_by_server = true;
                }
                Ok(Incoming::Closed)
            }
            Err(e) => {
                self.trace
                    .push(session, Direction::Note, format!("read failed: {e}"));
                Err(format!("reading @{session}: {e}"))
            }
        }
    }

    /// Checks one received line (and payload) against a pattern.
    pub(super) fn check(
        &self,
        session: &str,
        pattern: &LinePattern,
        payload: Option<&PayloadPattern>,
        line: &ServerLine,
    ) -> Result<Captures, MatchError> {
        let scope = self.scope(session);
        let mut captures = pattern.matches(&line.tokens(), &scope)?;
        match (payload, &line.payload) {
            (Some(p), Some(bytes)) => {
                captures.extend(p.check(bytes, &scope).map_err(|e| match e {
                    MatchError::Mismatch(why) => MatchError::Mismatch(format!("payload: {why}")),
                    other => other,
                })?)
            }
            (Some(_), None) => {
                return Err(MatchError::Mismatch(
                    "the line carries no payload".to_string(),
                ));
            }
            (None, _) => {}
        }
        Ok(captures)
    }

    /// The next line on `session` must match; returns it and the captures
    /// (not yet stored).
    pub(super) async fn expect_one(
        &mut self,
        session: &str,
        pattern: &LinePattern,
        payload: Option<&PayloadPattern>,
    ) -> StepResult<(ServerLine, Captures)> {
        let expected = format!("@{session} < {}", pattern.display(&self.scope(session)));
        let line = match self.receive(session).await {
            Ok(Incoming::Line(line)) => line,
            Ok(Incoming::Closed) => {
                return Err(format!(
                    "expected: {expected}\ngot:      (the server closed the connection)"
                ));
            }
            Err(e) => return Err(format!("expected: {expected}\ngot:      nothing ({e})")),
        };
        match self.check(session, pattern, payload, &line) {
            Ok(captures) => Ok((line, captures)),
            Err(MatchError::Mismatch(why)) => Err(format!(
                "expected: {expected}\ngot:      {}\nwhy:      {why}",
                line.describe()
            )),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn unordered(&mut self, items: &[UnorderedItem]) -> StepResult {
        let mut groups: Vec<(String, Vec<&UnorderedItem>)> = Vec::new();
        for item in items
            .iter()
            .filter(|i| i.guard.as_ref().is_none_or(|g| g.contains(self.dialect)))
        {
            let name = &item.expectation.session.name;
            match groups.iter_mut().find(|(n, _)| n == name) {
                Some((_, list)) => list.push(item),
                None => groups.push((name.clone(), vec![item])),
            }
        }
        for (session, group) in groups {
            let listing = |run: &CaseRun<'_>| {
                group
                    .iter()
                    .map(|i| {
                        format!(
                            "  @{session} < {}",
                            i.expectation.line.display(&run.scope(&session))
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let mut lines = Vec::with_capacity(group.len());
            while lines.len() < group.len() {
                let got = self.receive(&session).await;
                let problem = match got {
                    Ok(Incoming::Line(line)) => {
                        lines.push(line);
                        continue;
                    }
                    Ok(Incoming::Closed) => "the server closed the connection".to_string(),
                    Err(e) => e,
                };
                return Err(format!(
                    "expected (any order):\n{}\ngot only {} of {} line(s), then: {problem}",
                    listing(self),
                    lines.len(),
                    group.len()
                ));
            }
            let n = group.len();
            let mut fits = vec![vec![false; n]; n];
            let mut caps: Vec<Vec<Captures>> = vec![vec![Captures::new(); n]; n];
            for (p, item) in group.iter().enumerate() {
                for (l, line) in lines.iter().enumerate() {
                    let e = &item.expectation;
                    match self.check(&session, &e.line, e.payload.as_ref(), line) {
                        Ok(c) => {
                            fits[p][l] = true;
                            caps[p][l] = c;
                        }
                        Err(MatchError::Mismatch(_)) => {}
                        Err(e) => return Err(e.to_string()),
                    }
                }
            }
            let Some(assignment) = matching::assign(&fits) else {
                let got: Vec<String> = lines
                    .iter()
                    .map(|l| format!("  {}", l.describe()))
                    .collect();
                return Err(format!(
                    "expected (any order):\n{}\ngot:\n{}",
                    listing(self),
                    got.join("\n")
                ));
            };
            for (p, l) in assignment.into_iter().enumerate() {
                let c = std::mem::take(&mut caps[p][l]);
                self.store(c);
            }
        }
        Ok(())
    }

    async fn expect_closed(&mut self, session: &str) -> StepResult {
        let expected = format!("expected: the server closes @{session}");
        let got = self
            .receive(session)
            .await
            .map_err(|e| format!("{expected}\ngot:      nothing ({e})"))?;
        match got {
            Incoming::Closed => Ok(()),
            Incoming::Line(line) => Err(format!("{expected}\ngot:      {}", line.describe())),
        }
    }

    fn close(&mut self, session: &str) -> StepResult {
        let s = self.sessions.entry(session.to_string()).or_default();
        if s.conn.take().is_none() {
            return Err(format!("@{session} is not connected"));
        }
        self.trace
            .push(session, Direction::Note, "the client closed the connection");
        Ok(())
    }
}
