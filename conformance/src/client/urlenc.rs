//! Percent-encoding as MSNP and Passport 1.4 use it: every byte outside
//! `A-Z a-z 0-9 - _ . ~` becomes `%XX` (uppercase hex).

/// Percent-encodes `text`.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_reserved_bytes() {
        assert_eq!(encode("alice-1@conform.test"), "alice-1%40conform.test");
        assert_eq!(encode("a b,c=d'"), "a%20b%2Cc%3Dd%27");
        assert_eq!(encode("é"), "%C3%A9");
    }
}
