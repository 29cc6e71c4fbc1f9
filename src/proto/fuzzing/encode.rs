//! A client-side encoder for [`Command`]: the line (and payload) a client sends
//! for each typed command, in the canonical shape the parser reads back. It exists
//! for the round-trip checks (`parse ∘ encode`), not for the server, which never
//! writes client commands.
//!
//! Canonical choices: group ids are written in decimal (the parser also reads group
//! GUIDs in MSNP10+, which the encoder never writes); `ADG`/`REG` end with the `0`
//! real clients append; `SYN` carries one version token; nicknames, group names and
//! phone numbers are URL-encoded. Raw tokens (emails, cookies, tickets, product ids,
//! `VER`/`CVR` arguments, MSN objects) are written as they are: a command holding an
//! empty one, or one with a space or control character, has no wire form and does
//! not survive the trip — the parser never produces such a command.

use bytes::Bytes;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::proto::command::{AckMode, ContactRef, UsrArgs, XfrTarget};
use crate::proto::{Command, Frame};

/// What the client encoder percent-encodes: control characters, space and `%`
/// (non-ASCII bytes are always encoded by `utf8_percent_encode`).
const URL_SET: &AsciiSet = &CONTROLS.add(b' ').add(b'%');

/// A command line being assembled.
struct LineBuf(String);

impl LineBuf {
    fn new(verb: &str) -> Self {
        LineBuf(verb.to_owned())
    }

    fn raw(mut self, token: &str) -> Self {
        self.0.push(' ');
        self.0.push_str(token);
        self
    }

    fn raw_with(mut self, prefix: &str, token: &str) -> Self {
        self.0.push(' ');
        self.0.push_str(prefix);
        self.0.push_str(token);
        self
    }

    fn url_with(mut self, prefix: &str, value: &str) -> Self {
        self.0.push(' ');
        self.0.push_str(prefix);
        self.0.extend(utf8_percent_encode(value, URL_SET));
        self
    }

    fn url(self, value: &str) -> Self {
        self.url_with("", value)
    }

    fn num(self, n: impl Into<u64>) -> Self {
        let n: u64 = n.into();
        self.raw(&n.to_string())
    }

    fn opt_num(self, n: Option<impl Into<u64>>) -> Self {
        match n {
            Some(n) => self.num(n),
            None => self,
        }
    }

    fn frame(self) -> Frame {
        Frame {
            line: self.0,
            payload: None,
        }
    }

    /// Appends the payload length and attaches the payload.
    fn frame_with(self, payload: &Bytes) -> Frame {
        let line = self.num(payload.len() as u64);
        Frame {
            line: line.0,
            payload: Some(payload.clone()),
        }
    }
}

/// The frame (line without terminator, and payload) a client sends for `cmd`.
pub fn encode_command(cmd: &Command) -> Frame {
    match cmd {
        Command::Ver { trid, offered } => offered
            .iter()
            .fold(LineBuf::new("VER").num(*trid), |l, t| l.raw(t))
            .frame(),
        Command::Cvr { trid, args } => args
            .iter()
            .fold(LineBuf::new("CVR").num(*trid), |l, t| l.raw(t))
            .frame(),
        Command::Inf { trid } => LineBuf::new("INF").num(*trid).frame(),
        Command::Usr { trid, args } => {
            let line = LineBuf::new("USR").num(*trid);
            match args {
                UsrArgs::TwnInitial { email } => line.raw("TWN").raw("I").raw(email),
                UsrArgs::TwnSubsequent { ticket } => line.raw("TWN").raw("S").raw(ticket),
                UsrArgs::Md5Initial { email } => line.raw("MD5").raw("I").raw(email),
                UsrArgs::Md5Subsequent { hash } => line.raw("MD5").raw("S").raw(hash),
                UsrArgs::Switchboard { email, cookie } => line.raw(email).raw(cookie),
            }
            .frame()
        }
        Command::Syn { trid, version } => LineBuf::new("SYN").num(*trid).raw(version).frame(),
        Command::Chg {
            trid,
            status,
            capabilities,
            msn_object,
        } => {
            let line = LineBuf::new("CHG").num(*trid).raw(status.code());
            match (capabilities, msn_object) {
                (caps, Some(obj)) => line.num(caps.unwrap_or(0)).raw(obj),
                (caps, None) => line.opt_num(*caps),
            }
            .frame()
        }
        Command::Add {
            trid,
            list,
            email,
            nick,
            group,
        } => LineBuf::new("ADD")
            .num(*trid)
            .raw(list.code())
            .raw(email)
            .url(nick)
            .opt_num(*group)
            .frame(),
        Command::Adc {
            trid,
            list,
            contact,
            nick,
            group,
        } => {
            let line = LineBuf::new("ADC").num(*trid).raw(list.code());
            let line = match contact {
                ContactRef::Email(email) => line.raw_with("N=", email),
                ContactRef::Guid(guid) => line.raw_with("C=", guid),
            };
            let line = match nick {
                Some(nick) => line.url_with("F=", nick),
                None => line,
            };
            line.opt_num(*group).frame()
        }
        Command::Rem {
            trid,
            list,
            email,
            group,
        } => LineBuf::new("REM")
            .num(*trid)
            .raw(list.code())
            .raw(email)
            .opt_num(*group)
            .frame(),
        Command::Adg { trid, name } => LineBuf::new("ADG").num(*trid).url(name).raw("0").frame(),
        Command::Rmg { trid, group } => LineBuf::new("RMG").num(*trid).num(*group).frame(),
        Command::Reg { trid, group, name } => LineBuf::new("REG")
            .num(*trid)
            .num(*group)
            .url(name)
            .raw("0")
            .frame(),
        Command::Rea { trid, email, nick } => {
            LineBuf::new("REA").num(*trid).raw(email).url(nick).frame()
        }
        Command::Blp { trid, privacy } => {
            LineBuf::new("BLP").num(*trid).raw(privacy.code()).frame()
        }
        Command::Gtc { trid, prompt } => LineBuf::new("GTC").num(*trid).raw(prompt.code()).frame(),
        Command::Prp { trid, kind, value } => {
            let line = LineBuf::new("PRP").num(*trid).raw(kind.code());
            match value {
                Some(value) => line.url(value),
                None => line,
            }
            .frame()
        }
        Command::PrpNick { trid, nick } => {
            LineBuf::new("PRP").num(*trid).raw("MFN").url(nick).frame()
        }
        Command::Xfr { trid, target } => {
            let target = match target {
                XfrTarget::Switchboard => "SB",
            };
            LineBuf::new("XFR").num(*trid).raw(target).frame()
        }
        Command::Qry {
            trid,
            product_id,
            response,
        } => LineBuf::new("QRY")
            .num(*trid)
            .raw(product_id)
            .frame_with(response),
        Command::Png => LineBuf::new("PNG").frame(),
        Command::Out => LineBuf::new("OUT").frame(),
        Command::Ans {
            trid,
            email,
            cookie,
            session_id,
        } => LineBuf::new("ANS")
            .num(*trid)
            .raw(email)
            .raw(cookie)
            .raw(session_id)
            .frame(),
        Command::Cal { trid, email } => LineBuf::new("CAL").num(*trid).raw(email).frame(),
        Command::Msg { trid, ack, payload } => {
            let mode = match ack {
                AckMode::Unacknowledged => "U",
                AckMode::NakOnly => "N",
                AckMode::Acknowledged => "A",
                AckMode::Data => "D",
            };
            LineBuf::new("MSG").num(*trid).raw(mode).frame_with(payload)
        }
        Command::Gcf { trid, file } => LineBuf::new("GCF").num(*trid).raw(file).frame(),
        Command::Uux { trid, payload } => LineBuf::new("UUX").num(*trid).frame_with(payload),
    }
}

/// The bytes of `frame` on the wire: the line, CRLF, then the payload if any.
pub fn frame_bytes(frame: &Frame) -> Vec<u8> {
    let payload = frame.payload.as_deref().unwrap_or_default();
    let mut out = Vec::with_capacity(frame.line.len() + 2 + payload.len());
    out.extend_from_slice(frame.line.as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::lists::List;

    #[test]
    fn writes_the_client_shapes() {
        let adc = Command::Adc {
            trid: 16,
            list: List::Forward,
            contact: ContactRef::Email("bob@x.com".into()),
            nick: Some("Bob B".into()),
            group: Some(3),
        };
        assert_eq!(
            encode_command(&adc).line,
            "ADC 16 FL N=bob@x.com F=Bob%20B 3"
        );
        let msg = Command::Msg {
            trid: 3,
            ack: AckMode::Acknowledged,
            payload: Bytes::from_static(b"hi"),
        };
        let frame = encode_command(&msg);
        assert_eq!(frame_bytes(&frame), b"MSG 3 A 2\r\nhi");
        assert_eq!(encode_command(&Command::Png).line, "PNG");
    }
}
