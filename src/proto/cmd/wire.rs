//! Writing server lines straight into the connection's output buffer: a small
//! builder that appends space-separated arguments (plain, decimal or URL-encoded)
//! and the CRLF terminator, without allocating per line.

use bytes::BytesMut;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::proto::command::TrId;

/// What the encoder percent-encodes in nicknames, group names and phone numbers:
/// control characters, space, `%` and (always, by `utf8_percent_encode`) every
/// non-ASCII byte. Real servers send a space as `%20`.
const URL_SET: &AsciiSet = &CONTROLS.add(b' ').add(b'%');

/// Appends `s` URL-encoded to `out`.
pub(crate) fn push_url(out: &mut BytesMut, s: &str) {
    for chunk in utf8_percent_encode(s, URL_SET) {
        out.extend_from_slice(chunk.as_bytes());
    }
}

/// Appends the decimal form of `n` to `out`.
pub(crate) fn push_u64(out: &mut BytesMut, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        // `n % 10` is below 10, so the cast cannot truncate.
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// One server line being written: `Line::new(out, "VERB").num(..).raw(..).end()`.
#[must_use = "a line must be finished with `end()`"]
pub(crate) struct Line<'a> {
    out: &'a mut BytesMut,
}

impl<'a> Line<'a> {
    /// Starts a line with `verb`.
    pub fn new(out: &'a mut BytesMut, verb: &str) -> Self {
        out.extend_from_slice(verb.as_bytes());
        Line { out }
    }

    /// Starts a line with a numeric error code.
    pub fn code(out: &'a mut BytesMut, code: u16) -> Self {
        push_u64(out, code.into());
        Line { out }
    }

    /// Appends ` token` as is.
    pub fn raw(&mut self, token: &str) -> &mut Self {
        self.out.extend_from_slice(b" ");
        self.out.extend_from_slice(token.as_bytes());
        self
    }

    /// Appends ` token` if there is one.
    pub fn raw_opt(&mut self, token: Option<&str>) -> &mut Self {
        if let Some(token) = token {
            self.raw(token);
        }
        self
    }

    /// Appends ` prefix` immediately followed by `value` as is (`N=` + email).
    pub fn raw_with(&mut self, prefix: &str, value: &str) -> &mut Self {
        self.out.extend_from_slice(b" ");
        self.out.extend_from_slice(prefix.as_bytes());
        self.out.extend_from_slice(value.as_bytes());
        self
    }

    /// Appends ` prefix` immediately followed by `value` URL-encoded
    /// (`F=` + nick, or an empty prefix for a plain encoded token).
    pub fn url_with(&mut self, prefix: &str, value: &str) -> &mut Self {
        self.out.extend_from_slice(b" ");
        self.out.extend_from_slice(prefix.as_bytes());
        push_url(self.out, value);
        self
    }

    /// Appends ` value` URL-encoded.
    pub fn url(&mut self, value: &str) -> &mut Self {
        self.url_with("", value)
    }

    /// Appends ` n` in decimal.
    pub fn num(&mut self, n: impl Into<u64>) -> &mut Self {
        self.out.extend_from_slice(b" ");
        push_u64(self.out, n.into());
        self
    }

    /// Appends ` trid`.
    pub fn trid(&mut self, trid: TrId) -> &mut Self {
        self.num(trid)
    }

    /// Appends a space and lets `f` write one token directly into the buffer
    /// (for tokens such as GUIDs and group lists built from parts).
    pub fn with(&mut self, f: impl FnOnce(&mut BytesMut)) -> &mut Self {
        self.out.extend_from_slice(b" ");
        f(self.out);
        self
    }

    /// Finishes the line with CRLF.
    pub fn end(&mut self) {
        self.out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        for n in [0u64, 7, 10, 255, 1_073_741_824, u64::MAX] {
            let mut out = BytesMut::new();
            push_u64(&mut out, n);
            assert_eq!(&out[..], n.to_string().as_bytes());
        }
    }

    #[test]
    fn url_encoding() {
        let mut out = BytesMut::new();
        push_url(&mut out, "a b%c\r\nä(1)");
        assert_eq!(&out[..], b"a%20b%25c%0D%0A%C3%A4(1)");
    }

    #[test]
    fn builder() {
        let mut out = BytesMut::new();
        Line::new(&mut out, "ADD")
            .trid(5)
            .raw("FL")
            .num(7u32)
            .raw_opt(None)
            .url("a b")
            .url_with("F=", "c d")
            .with(|o| o.extend_from_slice(b"x,y"))
            .end();
        assert_eq!(&out[..], b"ADD 5 FL 7 a%20b F=c%20d x,y\r\n");
    }
}
