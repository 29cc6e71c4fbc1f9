//! Payloads of operator notices to online users (`msnpd broadcast`), as
//! `protocol-spec/commands/NOT.md` describes:
//!
//! - the maintenance warning, `MSG Hotmail Hotmail` with
//!   `Content-Type: application/x-msmsgssystemmessage` and `Type: 1`,
//!   `Arg1: minutes` (every dialect; clients show "the server is going down
//!   for maintenance in N minutes");
//! - a free-text alert, `NOT` with a `<NOTIFICATION>` document whose `<TEXT>`
//!   holds the text (MSNP5+; older dialects have no `NOT`).

use std::fmt::Write as _;

use bytes::Bytes;

/// Longest alert text in bytes once XML-escaped: the `<BODY>` element of a
/// notification may hold at most 1024 bytes, and the whole document must fit
/// a client's 1664-byte read buffer.
pub const MAX_ALERT_TEXT: usize = 900;

/// Whether `text` fits an alert ([`MAX_ALERT_TEXT`] once escaped) and is not
/// empty.
pub fn alert_text_fits(text: &str) -> bool {
    let len = xml_escape(text).len();
    len > 0 && len <= MAX_ALERT_TEXT
}

/// The `application/x-msmsgssystemmessage` payload announcing maintenance in
/// `minutes` minutes.
pub fn maintenance(minutes: u32) -> Bytes {
    let mut s = String::with_capacity(96);
    s.push_str("MIME-Version: 1.0\r\nContent-Type: application/x-msmsgssystemmessage\r\n\r\n");
    let _ = write!(s, "Type: 1\r\nArg1: {minutes}\r\n");
    Bytes::from(s)
}

/// The `<NOTIFICATION>` document of an alert to `email` with `text`
/// (XML-escaped here; callers check [`alert_text_fits`]). `id` tells
/// successive alerts apart.
pub fn alert(id: u64, email: &str, text: &str) -> Bytes {
    let mut s = String::with_capacity(320 + text.len() * 2);
    let _ = write!(
        s,
        "<NOTIFICATION ver=\"1\" id=\"{id}\" siteid=\"0\" siteurl=\"http://localhost/\">\
         <TO pid=\"0x00000000:0x00000000\" name=\"{}\" />\
         <MSG id=\"0\"><ACTION url=\"\" /><SUBSCR url=\"\" />\
         <BODY lang=\"1033\"><TEXT>{}</TEXT></BODY></MSG></NOTIFICATION>",
        xml_escape(email),
        xml_escape(text),
    );
    Bytes::from(s)
}

/// Escapes the five XML special characters; drops control characters other
/// than tab (a notification is one line of text).
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maintenance_message() {
        assert_eq!(
            &maintenance(5)[..],
            b"MIME-Version: 1.0\r\nContent-Type: application/x-msmsgssystemmessage\r\n\r\nType: 1\r\nArg1: 5\r\n"
        );
    }

    #[test]
    fn alert_escapes_and_fits() {
        let doc = alert(7, "a@x.org", "down <soon> & \"back\"\r\nlater");
        let text = std::str::from_utf8(&doc).unwrap();
        assert!(text.starts_with("<NOTIFICATION ver=\"1\" id=\"7\""));
        assert!(text.contains("name=\"a@x.org\""));
        assert!(text.contains("<TEXT>down &lt;soon&gt; &amp; &quot;back&quot;later</TEXT>"));
        let long = "&".repeat(MAX_ALERT_TEXT / 5);
        assert!(alert_text_fits(&long));
        assert!(!alert_text_fits(&format!("{long}&")));
        assert!(!alert_text_fits(""));
        assert!(alert(1, &"x".repeat(129), &long).len() < 1664);
    }
}
