//! MSNP client steps per dialect (MSNP8 and MSNP11 here): ticket login, list
//! download, status, contact add, and the switchboard handshake (XFR SB, USR,
//! CAL; RNG, ANS).

use std::net::SocketAddr;
use std::time::Duration;

use crate::Error;
use crate::conn::{Conn, Line, loopback};

/// A pre-created account and a ticket for it.
#[derive(Debug, Clone)]
pub struct Account {
    /// The account name.
    pub email: String,
    /// A login ticket (`t=...&p=`).
    pub ticket: String,
}

/// How clients talk: the dialect and the per-line timeout.
#[derive(Debug, Clone, Copy)]
pub struct Client {
    /// MSNP version, 8..=11.
    pub dialect: u8,
    /// Bound on every expected line.
    pub timeout: Duration,
}

/// A switchboard invitation seen on the notification connection.
#[derive(Debug, Clone)]
pub struct Ring {
    /// Switchboard address.
    pub addr: SocketAddr,
    /// Session id.
    pub session: String,
    /// Cookie to answer with.
    pub cookie: String,
    /// Who invites.
    pub caller: String,
}

impl Client {
    /// Logs `account` in on the notification server at `ns` with `USR TWN`;
    /// returns the connection after the initial profile message.
    pub async fn login(&self, ns: SocketAddr, account: &Account) -> Result<Conn, Error> {
        let mut c = Conn::connect(ns, self.timeout).await?;
        let email = &account.email;
        let v = self.dialect;
        c.send(&format!("VER 1 MSNP{v} CVR0")).await?;
        let ver = c.read_until(Some(1), |l| l.verb() == "VER").await?;
        if ver.token(2) != format!("MSNP{v}") {
            return Err(Error(format!("server chose `{}`", ver.text)));
        }
        let client = if v >= 10 { "7.5.0324" } else { "5.0.0540" };
        c.send(&format!(
            "CVR 2 0x0409 winnt 5.1 i386 MSNMSGR {client} MSMSGS {email}"
        ))
        .await?;
        c.read_until(Some(2), |l| l.verb() == "CVR").await?;
        c.send(&format!("USR 3 TWN I {email}")).await?;
        c.read_until(Some(3), |l| l.verb() == "USR").await?;
        c.send(&format!("USR 4 TWN S {}", account.ticket)).await?;
        let ok = c.read_until(Some(4), |l| l.verb() == "USR").await?;
        if ok.token(2) != "OK" {
            return Err(Error(format!("login refused: {}", ok.text)));
        }
        c.read_until(None, |l| l.verb() == "MSG").await?;
        Ok(c)
    }

    /// Downloads the lists (`SYN`) and reads up to the `QNG` of a `PNG` sent
    /// after it, so every list line is consumed whatever the dialect sends.
    pub async fn sync(&self, c: &mut Conn, trid: u32) -> Result<(), Error> {
        if self.dialect >= 10 {
            c.send(&format!("SYN {trid} 0 0")).await?;
        } else {
            c.send(&format!("SYN {trid} 0")).await?;
        }
        c.send("PNG").await?;
        c.read_until(Some(trid), |l| l.verb() == "QNG").await?;
        Ok(())
    }

    /// Sets the status (`NLN`, `AWY`, ...) and waits for the server's echo.
    pub async fn set_status(&self, c: &mut Conn, trid: u32, status: &str) -> Result<(), Error> {
        c.send(&format!("CHG {trid} {status} 0")).await?;
        let want = format!("CHG {trid} ");
        c.read_until(Some(trid), |l| l.text.starts_with(&want))
            .await?;
        Ok(())
    }

    /// Adds `email` to the forward list (ADD for MSNP8–9, ADC from MSNP10);
    /// "already there" (215) counts as done.
    pub async fn add_contact(&self, c: &mut Conn, trid: u32, email: &str) -> Result<(), Error> {
        let (verb, line) = if self.dialect >= 10 {
            ("ADC", format!("ADC {trid} FL N={email} F={email}"))
        } else {
            ("ADD", format!("ADD {trid} FL {email} {email} 0"))
        };
        c.send(&line).await?;
        let t = trid.to_string();
        let reply = c
            .read_until(None, |l| {
                l.token(1) == t && (l.verb() == verb || l.verb() == "215")
            })
            .await?;
        if reply.verb() != verb && reply.verb() != "215" {
            return Err(Error(format!("add contact: {}", reply.text)));
        }
        Ok(())
    }

    /// Asks the notification server for a switchboard (`XFR SB`): its address
    /// and cookie.
    pub async fn request_switchboard(
        &self,
        ns: &mut Conn,
        trid: u32,
    ) -> Result<(SocketAddr, String), Error> {
        ns.send(&format!("XFR {trid} SB")).await?;
        let t = trid.to_string();
        let reply = ns
            .read_until(Some(trid), |l| l.verb() == "XFR" && l.token(1) == t)
            .await?;
        Ok((loopback(reply.token(3))?, reply.token(5).to_owned()))
    }

    /// Opens a switchboard as `email` and calls `callee`; returns the
    /// switchboard connection once the server answered `RINGING`.
    pub async fn open_switchboard(
        &self,
        ns: &mut Conn,
        ns_trid: u32,
        email: &str,
        callee: &str,
    ) -> Result<Conn, Error> {
        let (addr, cookie) = self.request_switchboard(ns, ns_trid).await?;
        let mut sb = Conn::connect(addr, self.timeout).await?;
        sb.send(&format!("USR 1 {email} {cookie}")).await?;
        let ok = sb.read_until(Some(1), |l| l.verb() == "USR").await?;
        if ok.token(2) != "OK" {
            return Err(Error(format!("switchboard login: {}", ok.text)));
        }
        sb.send(&format!("CAL 2 {callee}")).await?;
        let cal = sb.read_until(Some(2), |l| l.verb() == "CAL").await?;
        if cal.token(2) != "RINGING" {
            return Err(Error(format!("CAL: {}", cal.text)));
        }
        Ok(sb)
    }

    /// Waits on the notification connection for the next `RNG`.
    pub async fn wait_ring(&self, ns: &mut Conn) -> Result<Ring, Error> {
        let rng = ns.read_until(None, |l| l.verb() == "RNG").await?;
        parse_ring(&rng)
    }

    /// Answers a ring as `email`; returns the switchboard connection after
    /// `ANS 1 OK`.
    pub async fn answer(&self, ring: &Ring, email: &str) -> Result<Conn, Error> {
        let mut sb = Conn::connect(ring.addr, self.timeout).await?;
        sb.send(&format!("ANS 1 {email} {} {}", ring.cookie, ring.session))
            .await?;
        sb.read_until(Some(1), |l| l.verb() == "ANS" && l.token(2) == "OK")
            .await?;
        Ok(sb)
    }
}

/// Reads `RNG session addr CKI cookie caller nick`.
fn parse_ring(line: &Line) -> Result<Ring, Error> {
    Ok(Ring {
        session: line.token(1).to_owned(),
        addr: loopback(line.token(2))?,
        cookie: line.token(4).to_owned(),
        caller: line.token(5).to_owned(),
    })
}

/// An instant message payload of exactly `size` bytes (at least the header's
/// length): plain-text MIME header, then `body` padded with `x`.
pub fn message_payload(size: usize, body: &str) -> Vec<u8> {
    let mut p = format!(
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=Arial; EF=; CO=0; CS=0; PF=22\r\n\r\n{body}"
    )
    .into_bytes();
    while p.len() < size {
        p.push(b'x');
    }
    p
}

/// The body after the MIME header of a message payload.
pub fn message_body(payload: &[u8]) -> &[u8] {
    payload
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(&[][..], |i| &payload[i + 4..])
}
