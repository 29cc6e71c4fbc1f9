//! The runner's macros, so cases stay short: `login` (MSNP8–12: VER, CVR,
//! USR TWN I, Passport 1.4, USR TWN S; MSNP2–7: VER, INF, CVR, USR MD5 I/S;
//! then the profile MSG, and the CHL answer when the manifest claims
//! challenges), `passport` / `passport-reject`, `xfr-sb` and
//! `answer-sb`.

use crate::case::SessionName;
use crate::case::pattern::{Captures, LinePattern};
use crate::case::template::Template;
use crate::client::challenge::{md5_hex, qry_answer};
use crate::client::line::Incoming;
use crate::client::passport::{self, PassportError};
use crate::dialect::Dialect;
use crate::manifest::PassportEndpoint;
use crate::runner::exec::{CaseRun, StepResult, esc};
use crate::runner::trace::Direction;

/// Most `IRO` lines `answer-sb` accepts before `ANS OK`.
const MAX_IRO: usize = 100;

/// The content type the login profile message must have.
const PROFILE_TYPE: &str = "Content-Type: text/x-msmsgsprofile";

fn pattern(text: &str) -> StepResult<LinePattern> {
    LinePattern::parse(text).map_err(|e| format!("internal pattern `{text}`: {e}"))
}

fn captured(captures: &Captures, name: &str) -> StepResult<String> {
    captures
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
        .ok_or_else(|| format!("internal: `{name}` was not captured"))
}

impl CaseRun<'_> {
    /// Matches the next line of `session` against a runner-built pattern.
    async fn expect_text(&mut self, session: &str, text: &str) -> StepResult<Captures> {
        let p = pattern(text)?;
        Ok(self.expect_one(session, &p, None).await?.1)
    }

    /// Gets a ticket from the nexus and login server.
    async fn ticket(
        &mut self,
        session: &str,
        email: &str,
        password: &str,
        policy: &str,
    ) -> Result<passport::Ticket, PassportError> {
        let Some(endpoint) = self.manifest.passport_endpoint() else {
            return Err(PassportError::Header(
                "the manifest has no auth.nexus or auth.login_url".to_string(),
            ));
        };
        self.trace.push(
            session,
            Direction::Note,
            format!("Passport 1.4 login via {endpoint} for {email}"),
        );
        let result = match endpoint {
            PassportEndpoint::Nexus(url) => {
                passport::login(url, email, password, policy, self.timeout).await
            }
            PassportEndpoint::LoginUrl(url) => {
                passport::login_at(url, email, password, policy, self.timeout).await
            }
        };
        let note = match &result {
            Ok(t) => format!("ticket received from {}", t.login_url),
            Err(e) => format!("no ticket: {e}"),
        };
        self.trace.push(session, Direction::Note, note);
        result
    }

    /// `@s login [MSNPn] [manual-challenge]`: the MD5 login for MSNP2–7, the
    /// ticket login for MSNP8–12, then the profile message and (when the
    /// manifest claims `challenges`, MSNP6+) the `CHL`/`QRY` exchange.
    pub(super) async fn login(
        &mut self,
        session: &SessionName,
        dialect: Dialect,
        manual_challenge: bool,
    ) -> StepResult {
        let v = dialect.version();
        match v {
            2..=7 => self.login_md5(session, dialect).await?,
            8..=12 => self.login_ticket(session, dialect).await?,
            _ => {
                return Err(format!(
                    "the login macro speaks MSNP2–MSNP12 (MD5 and ticket logins); {dialect} is not supported yet"
                ));
            }
        }
        let name = session.name.as_str();
        let (profile, _) = self
            .expect_one(name, &pattern("MSG Hotmail Hotmail *")?, None)
            .await?;
        let body = profile.payload.unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        if !text.split("\r\n").any(|l| l.starts_with(PROFILE_TYPE)) {
            return Err(format!(
                "the profile message after USR OK has no `{PROFILE_TYPE}` header line:\n{text}"
            ));
        }

        if self.manifest.has_feature("challenges") && !manual_challenge && v >= 6 {
            let caps = self.expect_text(name, "CHL 0 {chl}").await?;
            let challenge = captured(&caps, "chl")?;
            let (product_id, answer) = qry_answer(dialect, &challenge);
            let t = self.alloc_trid(name);
            self.send_raw(
                name,
                format!("QRY {t} {product_id}"),
                Some(answer.into_bytes()),
            )
            .await?;
            self.expect_text(name, "QRY $trid").await?;
        }
        Ok(())
    }

    /// `VER`, `CVR`, `USR TWN I`, Passport 1.4, `USR TWN S` → `USR OK`.
    async fn login_ticket(&mut self, session: &SessionName, dialect: Dialect) -> StepResult {
        let account = self.account(&session.account)?;
        let name = session.name.as_str();
        let email = account.email.as_str();

        let t = self.alloc_trid(name);
        self.send_raw(name, format!("VER {t} {dialect} CVR0"), None)
            .await?;
        self.expect_text(name, &format!("VER $trid {dialect}"))
            .await?;

        let t = self.alloc_trid(name);
        self.send_raw(
            name,
            format!("CVR {t} 0x0409 winnt 5.1 i386 MSNMSGR 6.0.0602 MSMSGS {email}"),
            None,
        )
        .await?;
        self.expect_text(name, "CVR $trid **").await?;

        let t = self.alloc_trid(name);
        self.send_raw(name, format!("USR {t} TWN I {email}"), None)
            .await?;
        let caps = self.expect_text(name, "USR $trid TWN S {policy}").await?;
        let policy = captured(&caps, "policy")?;

        let ticket = self
            .ticket(name, email, &account.password, &policy)
            .await
            .map_err(|e| format!("Passport login failed: {e}"))?;
        let t = self.alloc_trid(name);
        self.send_raw(name, format!("USR {t} TWN S {}", ticket.ticket), None)
            .await?;
        if dialect.version() <= 9 {
            let caps = self
                .expect_text(name, &format!("USR $trid OK {} {{nick}} **", esc(email)))
                .await?;
            let nick = captured(&caps, "nick")?;
            self.set_nick(&session.account, &nick);
        } else {
            self.expect_text(name, &format!("USR $trid OK {} **", esc(email)))
                .await?;
        }
        Ok(())
    }

    /// `VER`, `INF` → `MD5`, `CVR` (MSNP4+), `USR MD5 I` → salt,
    /// `USR MD5 S md5(salt + password)` → `USR OK email nick` (and the
    /// verified flag from MSNP6).
    async fn login_md5(&mut self, session: &SessionName, dialect: Dialect) -> StepResult {
        let account = self.account(&session.account)?;
        let name = session.name.as_str();
        let email = account.email.as_str();
        let v = dialect.version();

        let t = self.alloc_trid(name);
        let offer = if v >= 6 {
            format!("VER {t} {dialect} CVR0")
        } else {
            format!("VER {t} {dialect}")
        };
        self.send_raw(name, offer, None).await?;
        self.expect_text(name, &format!("VER $trid {dialect}"))
            .await?;

        let t = self.alloc_trid(name);
        self.send_raw(name, format!("INF {t}"), None).await?;
        self.expect_text(name, "INF $trid MD5 **").await?;

        if v >= 4 {
            let t = self.alloc_trid(name);
            self.send_raw(
                name,
                format!("CVR {t} 0x0409 win 4.10 i386 MSMSGS 4.5.0127 MSMSGS"),
                None,
            )
            .await?;
            self.expect_text(name, "CVR $trid **").await?;
        }

        let t = self.alloc_trid(name);
        self.send_raw(name, format!("USR {t} MD5 I {email}"), None)
            .await?;
        let caps = self.expect_text(name, "USR $trid MD5 S {salt}").await?;
        let salt = captured(&caps, "salt")?;
        self.trace.push(
            name,
            Direction::Note,
            format!("answering with md5(salt + password of {email})"),
        );
        let hash = md5_hex(format!("{salt}{}", account.password).as_bytes());
        let t = self.alloc_trid(name);
        self.send_raw(name, format!("USR {t} MD5 S {hash}"), None)
            .await?;
        let ok = if v >= 6 {
            format!("USR $trid OK {} {{nick}} *", esc(email))
        } else {
            format!("USR $trid OK {} {{nick}}", esc(email))
        };
        let caps = self.expect_text(name, &ok).await?;
        let nick = captured(&caps, "nick")?;
        self.set_nick(&session.account, &nick);
        Ok(())
    }

    /// `@s passport POLICY {name}`.
    pub(super) async fn passport(
        &mut self,
        session: &SessionName,
        policy: &Template,
        capture: &str,
    ) -> StepResult {
        let policy = policy.render(&self.scope(&session.name)).map_err(|e| e.0)?;
        let account = self.account(&session.account)?;
        let ticket = self
            .ticket(&session.name, &account.email, &account.password, &policy)
            .await
            .map_err(|e| format!("Passport login failed: {e}"))?;
        self.set_var(capture, ticket.ticket);
        Ok(())
    }

    /// `@s passport-reject POLICY PASSWORD`.
    pub(super) async fn passport_reject(
        &mut self,
        session: &SessionName,
        policy: &Template,
        password: &Template,
    ) -> StepResult {
        let scope = self.scope(&session.name);
        let policy = policy.render(&scope).map_err(|e| e.0)?;
        let password = password.render(&scope).map_err(|e| e.0)?;
        let account = self.account(&session.account)?;
        match self
            .ticket(&session.name, &account.email, &password, &policy)
            .await
        {
            Ok(_) => Err("the login server gave a ticket for a wrong password".to_string()),
            Err(PassportError::Rejected { status: 401, .. }) => Ok(()),
            Err(PassportError::Rejected { status, detail }) => Err(format!(
                "expected HTTP 401 for a wrong password, got {status} ({detail})"
            )),
            Err(e) => Err(format!("expected HTTP 401 for a wrong password: {e}")),
        }
    }

    /// `@s xfr-sb @ns`.
    pub(super) async fn xfr_sb(&mut self, session: &SessionName, via: &SessionName) -> StepResult {
        let account = self.account(&session.account)?;
        let t = self.alloc_trid(&via.name);
        self.send_raw(&via.name, format!("XFR {t} SB"), None)
            .await?;
        let caps = self
            .expect_text(&via.name, "XFR $trid SB {addr} CKI {cookie} **")
            .await?;
        let addr = captured(&caps, "addr")?;
        let cookie = captured(&caps, "cookie")?;
        self.connect_to(&session.name, &addr).await?;
        let t = self.alloc_trid(&session.name);
        self.send_raw(
            &session.name,
            format!("USR {t} {} {cookie}", account.email),
            None,
        )
        .await?;
        self.expect_text(
            &session.name,
            &format!("USR $trid OK {} **", esc(&account.email)),
        )
        .await?;
        Ok(())
    }

    /// `@s answer-sb @ns`.
    pub(super) async fn answer_sb(
        &mut self,
        session: &SessionName,
        via: &SessionName,
    ) -> StepResult {
        let account = self.account(&session.account)?;
        let caps = self
            .expect_text(&via.name, "RNG {sessid} {addr} CKI {cookie} **")
            .await?;
        let sessid = captured(&caps, "sessid")?;
        let addr = captured(&caps, "addr")?;
        let cookie = captured(&caps, "cookie")?;
        self.connect_to(&session.name, &addr).await?;
        let name = session.name.as_str();
        let t = self.alloc_trid(name);
        self.send_raw(
            name,
            format!("ANS {t} {} {cookie} {sessid}", account.email),
            None,
        )
        .await?;
        let iro = pattern("IRO $trid **")?;
        let ok = pattern("ANS $trid OK")?;
        for _ in 0..=MAX_IRO {
            let line = match self.receive(name).await? {
                Incoming::Line(line) => line,
                Incoming::Closed => {
                    return Err(format!(
                        "expected: @{name} < IRO {t} ... or ANS {t} OK\ngot:      (the server closed the connection)"
                    ));
                }
            };
            if self.check(name, &iro, None, &line).is_ok() {
                continue;
            }
            if self.check(name, &ok, None, &line).is_ok() {
                return Ok(());
            }
            return Err(format!(
                "expected: @{name} < IRO {t} ... or ANS {t} OK\ngot:      {}",
                line.describe()
            ));
        }
        Err(format!("more than {MAX_IRO} IRO lines before ANS {t} OK"))
    }
}
