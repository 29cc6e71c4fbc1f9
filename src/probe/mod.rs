//! `msnpd probe ADDR`: the synthetic health check (DESIGN §1). Two probe
//! accounts log in through the public listeners as real MSNP8 clients do
//! (dispatch `XFR NS` followed, ticket from the nexus), check that one sees
//! the other come online (`NLN`), and exchange one acknowledged message
//! through a switchboard. The outcome is one line:
//! `probe ok login=12ms presence=3ms sb=5ms total=40ms` or
//! `probe FAILED step=STEP error=...`.
//!
//! With [`ProbeSettings::tls`] every MSNP connection (dispatch, notification,
//! switchboard) is TLS; the nexus and login URLs use TLS when they are
//! `https://`. TLS trusts only [`ProbeSettings::roots`].

mod client;
mod nexus;
mod transport;

use std::time::{Duration, Instant};

use client::Conn;
pub use transport::Roots;

/// What the probe needs.
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    /// The dispatch or notification listener, `host:port`.
    pub addr: String,
    /// The nexus (`http` listener): `host:port` or `http://host:port` for
    /// plain HTTP, `https://host:port` for HTTPS.
    pub nexus: String,
    /// The first probe account.
    pub account_a: String,
    /// The second probe account.
    pub account_b: String,
    /// Their password.
    pub password: String,
    /// How long each wait may take.
    pub timeout: Duration,
    /// Speak TLS on every MSNP connection (the listeners have
    /// `tls = "implicit"`).
    pub tls: bool,
    /// The CA certificates TLS connections trust; required for `tls` and for
    /// `https://` URLs.
    pub roots: Option<Roots>,
}

impl ProbeSettings {
    /// The roots MSNP connections use: `None` for plain TCP.
    fn msnp_tls(&self) -> Result<Option<&Roots>, String> {
        match (self.tls, &self.roots) {
            (false, _) => Ok(None),
            (true, Some(roots)) => Ok(Some(roots)),
            (true, None) => Err("TLS needs trust roots (--ca-file or probe.ca_file)".into()),
        }
    }
}

/// How long each step took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// Both logins (nexus ticket included).
    pub login: Duration,
    /// From the second account going online to the first seeing its `NLN`.
    pub presence: Duration,
    /// From `XFR SB` to the message's `ACK`.
    pub switchboard: Duration,
    /// The whole probe.
    pub total: Duration,
}

impl std::fmt::Display for Timings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "probe ok login={}ms presence={}ms sb={}ms total={}ms",
            self.login.as_millis(),
            self.presence.as_millis(),
            self.switchboard.as_millis(),
            self.total.as_millis()
        )
    }
}

/// Which step failed and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `login`, `presence` or `sb`.
    pub step: &'static str,
    /// What went wrong.
    pub error: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "probe FAILED step={} error={}", self.step, self.error)
    }
}

/// Runs the probe.
pub async fn run(settings: &ProbeSettings) -> Result<Timings, Failure> {
    let fail = |step: &'static str| move |error: String| Failure { step, error };
    let started = Instant::now();
    let a = settings.account_a.to_ascii_lowercase();
    let b = settings.account_b.to_ascii_lowercase();

    let mut ns_a = login(settings, &a, "a").await.map_err(fail("login"))?;
    befriend(&mut ns_a, &b).await.map_err(fail("login"))?;
    go_online(&mut ns_a).await.map_err(fail("login"))?;
    let mut ns_b = login(settings, &b, "b").await.map_err(fail("login"))?;
    befriend(&mut ns_b, &a).await.map_err(fail("login"))?;
    let login_took = started.elapsed();

    let presence_started = Instant::now();
    go_online(&mut ns_b).await.map_err(fail("presence"))?;
    let nln = format!("NLN NLN {b} ");
    ns_a.wait_for("the NLN of the second account", None, |m| {
        m.line.starts_with(&nln)
    })
    .await
    .map_err(fail("presence"))?;
    let presence_took = presence_started.elapsed();

    let sb_started = Instant::now();
    chat(settings, &mut ns_a, &mut ns_b, &a, &b)
        .await
        .map_err(fail("sb"))?;
    let sb_took = sb_started.elapsed();

    for ns in [&mut ns_a, &mut ns_b] {
        let _ = ns.send("OUT").await;
    }
    Ok(Timings {
        login: login_took,
        presence: presence_took,
        switchboard: sb_took,
        total: started.elapsed(),
    })
}

/// Logs `email` in over MSNP8 at the configured address, following a
/// dispatch redirect; returns the notification connection after the profile.
async fn login(settings: &ProbeSettings, email: &str, name: &str) -> Result<Conn, String> {
    let mut addr = settings.addr.clone();
    for _ in 0..3 {
        let mut c = Conn::connect(&addr, name, settings.msnp_tls()?, settings.timeout).await?;
        let t = c.trid();
        c.send(&format!("VER {t} MSNP8 CVR0")).await?;
        c.wait_for("VER", Some(t), |m| m.line == format!("VER {t} MSNP8"))
            .await?;
        let t = c.trid();
        c.send(&format!(
            "CVR {t} 0x0409 winnt 5.1 i386 MSNMSGR 5.0.0540 MSMSGS {email}"
        ))
        .await?;
        c.wait_for("CVR", Some(t), |m| m.line.starts_with(&format!("CVR {t} ")))
            .await?;
        let t = c.trid();
        c.send(&format!("USR {t} TWN I {email}")).await?;
        let usr = format!("USR {t} TWN S ");
        let xfr = format!("XFR {t} NS ");
        let answer = c
            .wait_for("USR TWN S", Some(t), |m| {
                m.line.starts_with(&usr) || m.line.starts_with(&xfr)
            })
            .await?;
        if let Some(rest) = answer.line.strip_prefix(&xfr) {
            addr = rest.split(' ').next().unwrap_or_default().to_owned();
            continue;
        }
        let policy = answer.line[usr.len()..].to_owned();
        let ticket = nexus::ticket(
            &settings.nexus,
            settings.roots.as_ref(),
            email,
            &settings.password,
            &policy,
            settings.timeout,
        )
        .await
        .map_err(|e| format!("{name}: {e}"))?;
        let t = c.trid();
        c.send(&format!("USR {t} TWN S {ticket}")).await?;
        c.wait_for("USR OK", Some(t), |m| {
            m.line.starts_with(&format!("USR {t} OK "))
        })
        .await?;
        c.wait_for("the profile message", None, |m| {
            m.line.starts_with("MSG Hotmail Hotmail ")
        })
        .await?;
        return Ok(c);
    }
    Err(format!("{name}: too many XFR NS redirects"))
}

/// Puts `contact` on the forward list (already there is fine).
async fn befriend(c: &mut Conn, contact: &str) -> Result<(), String> {
    let t = c.trid();
    c.send(&format!("ADD {t} FL {contact} {contact}")).await?;
    let ok = format!("ADD {t} FL ");
    let already = format!("215 {t}");
    c.wait_for("ADD FL", None, |m| {
        m.line.starts_with(&ok) || m.line == already
    })
    .await
    .map(|_| ())
}

/// `CHG NLN`.
async fn go_online(c: &mut Conn) -> Result<(), String> {
    let t = c.trid();
    c.send(&format!("CHG {t} NLN 0")).await?;
    c.wait_for("CHG NLN", Some(t), |m| m.line == format!("CHG {t} NLN 0"))
        .await
        .map(|_| ())
}

/// `a` opens a switchboard, invites `b`, `b` answers the ring, and `a` sends
/// one acknowledged message that `b` must receive before `a` gets `ACK`.
async fn chat(
    settings: &ProbeSettings,
    ns_a: &mut Conn,
    ns_b: &mut Conn,
    a: &str,
    b: &str,
) -> Result<(), String> {
    let t = ns_a.trid();
    ns_a.send(&format!("XFR {t} SB")).await?;
    let xfr = ns_a
        .wait_for("XFR SB", Some(t), |m| {
            m.line.starts_with(&format!("XFR {t} SB "))
        })
        .await?;
    let words = xfr.words();
    let (sb_addr, cookie) = match (words.get(3), words.get(5)) {
        (Some(addr), Some(cookie)) => (addr.to_string(), cookie.to_string()),
        _ => return Err(format!("a: malformed `{}`", xfr.line)),
    };
    let tls = settings.msnp_tls()?;
    let mut sb_a = Conn::connect(&sb_addr, "a/sb", tls, settings.timeout).await?;
    let t = sb_a.trid();
    sb_a.send(&format!("USR {t} {a} {cookie}")).await?;
    sb_a.wait_for("switchboard USR OK", Some(t), |m| {
        m.line.starts_with(&format!("USR {t} OK "))
    })
    .await?;
    let t = sb_a.trid();
    sb_a.send(&format!("CAL {t} {b}")).await?;
    sb_a.wait_for("CAL RINGING", Some(t), |m| {
        m.line.starts_with(&format!("CAL {t} RINGING "))
    })
    .await?;

    let ring = ns_b
        .wait_for("RNG", None, |m| m.line.starts_with("RNG "))
        .await?;
    let words = ring.words();
    let (session, ring_addr, ring_cookie) = match (words.get(1), words.get(2), words.get(4)) {
        (Some(s), Some(addr), Some(cookie)) => {
            (s.to_string(), addr.to_string(), cookie.to_string())
        }
        _ => return Err(format!("b: malformed `{}`", ring.line)),
    };
    let mut sb_b = Conn::connect(&ring_addr, "b/sb", tls, settings.timeout).await?;
    let t = sb_b.trid();
    sb_b.send(&format!("ANS {t} {b} {ring_cookie} {session}"))
        .await?;
    sb_b.wait_for("ANS OK", Some(t), |m| m.line == format!("ANS {t} OK"))
        .await?;
    sb_a.wait_for("JOI", None, |m| m.line.starts_with(&format!("JOI {b} ")))
        .await?;

    let nonce: u64 = rand::random();
    let body = format!(
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nmsnpd probe {nonce:016x}"
    );
    let t = sb_a.trid();
    let mut msg = format!("MSG {t} A {}\r\n", body.len()).into_bytes();
    msg.extend_from_slice(body.as_bytes());
    sb_a.send_raw(&msg).await?;
    let got = sb_b
        .wait_for("the probe message", None, |m| {
            m.line.starts_with(&format!("MSG {a} "))
        })
        .await?;
    if got.payload != body.as_bytes() {
        return Err("b: the message arrived changed".into());
    }
    let (ack, nak) = (format!("ACK {t}"), format!("NAK {t}"));
    let answer = sb_a
        .wait_for("ACK", Some(t), |m| m.line == ack || m.line == nak)
        .await?;
    if answer.line == nak {
        return Err("a: the message got NAK".into());
    }
    for sb in [&mut sb_a, &mut sb_b] {
        let _ = sb.send("OUT").await;
    }
    Ok(())
}
