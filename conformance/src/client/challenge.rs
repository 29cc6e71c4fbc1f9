//! `CHL`/`QRY` challenge answers and the MD5 helper they need.
//!
//! MSNP6–10: the answer is lowercase hex `md5(challenge + key)` for the client
//! id `msmsgs@msnmsgr.com` and key `Q1P7W2E4J9R8U3S5`
//! (see <https://wiki.nina.chat/wiki/Protocols/MSNP/Commands/QRY>).

use md5::{Digest, Md5};

/// Client id sent in `QRY` by MSN Messenger 5–6 (MSNP8–10).
pub const MSNP8_CLIENT_ID: &str = "msmsgs@msnmsgr.com";
/// The key that goes with [`MSNP8_CLIENT_ID`].
pub const MSNP8_CLIENT_KEY: &str = "Q1P7W2E4J9R8U3S5";

/// Lowercase hex MD5 of `data`.
pub fn md5_hex(data: &[u8]) -> String {
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The MSNP6–10 `QRY` payload for `challenge` (32 hex characters).
pub fn msnp8_answer(challenge: &str) -> String {
    md5_hex(format!("{challenge}{MSNP8_CLIENT_KEY}").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            msnp8_answer("15570131571988941333"),
            "8f2f5a91b72102cd28355e9fc9000d6e"
        );
        assert_eq!(
            msnp8_answer("11111111111111111111"),
            "3b6666b60157322b6fc6e41a115968f5"
        );
    }
}
