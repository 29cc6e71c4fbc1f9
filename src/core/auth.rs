//! Authentication primitives: argon2id password hashes, the MD5 verifier of MSNP2–7,
//! and HMAC-signed login tickets with expiry (checked without a database read).
//! The CHL/QRY challenge algorithms live in [`super::challenge`].

use std::time::{SystemTime, UNIX_EPOCH};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use rand::Rng;
use sha2::Sha256;

/// Why a ticket was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    /// Not a ticket of ours (bad shape or signature).
    #[error("invalid ticket")]
    Invalid,
    /// Signed by us but past its expiry.
    #[error("expired ticket")]
    Expired,
}

/// Length of the random argon2 salt in bytes (the PHC recommendation).
const ARGON2_SALT_LEN: usize = 16;

/// Hashes a password with argon2id (PHC string), with the argon2 crate's default
/// parameters: 19 MiB of memory, 2 iterations, 1 lane (the OWASP recommendation,
/// <https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html>).
///
/// This takes tens of milliseconds of CPU: call it from `spawn_blocking`.
///
/// # Panics
///
/// Only if the operating system's random number generator fails (as every use of
/// `rand::rng()` would); the argon2 parameters and salt length are fixed and valid.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; ARGON2_SALT_LEN];
    rand::rng().fill(&mut salt[..]);
    match Argon2::default().hash_password_with_salt(password.as_bytes(), &salt) {
        Ok(hash) => hash.to_string(),
        // Default parameters, a 16-byte salt and a password shorter than 4 GiB
        // cannot be refused by argon2.
        Err(e) => panic!("argon2 refused its default parameters: {e}"),
    }
}

/// Checks a password against an argon2 PHC string. A malformed PHC string never
/// matches. Slow by design: call it from `spawn_blocking`.
pub fn verify_password(phc: &str, password: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// The MD5 verifier of MSNP2–7 login: lowercase hex `md5(salt + password)`. The
/// client answers `USR MD5 S <salt>` with exactly this value, so the store keeps it
/// instead of the password.
pub fn md5_verifier(salt: &str, password: &str) -> String {
    let mut md5 = Md5::new();
    md5.update(salt.as_bytes());
    md5.update(password.as_bytes());
    hex::encode(md5.finalize())
}

/// A fresh salt for MD5 login, shaped like the historical ones
/// (`1013928519.693957190`: ten digits, a dot, nine digits).
pub fn new_md5_salt() -> String {
    let mut rng = rand::rng();
    let high: u64 = rng.random_range(1_000_000_000..10_000_000_000);
    let low: u64 = rng.random_range(0..1_000_000_000);
    format!("{high}.{low:09}")
}

/// Checks a client's `USR MD5 S` answer against the stored verifier, in constant
/// time. Hex case is ignored.
pub fn check_md5_response(verifier: &str, response: &str) -> bool {
    constant_time_eq_ignore_ascii_case(verifier.as_bytes(), response.as_bytes())
}

/// Compares two byte strings without an early exit on the first difference (the
/// lengths are not secret). ASCII letters compare case-insensitively.
pub(crate) fn constant_time_eq_ignore_ascii_case(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| {
        acc | (x.to_ascii_lowercase() ^ y.to_ascii_lowercase())
    });
    std::hint::black_box(diff) == 0
}

/// Domain separation for the ticket MAC, so no other HMAC made with the same
/// secret can pass as a ticket.
const TICKET_MAC_CONTEXT: &[u8] = b"msnpd ticket v1\0";

/// Longest ticket text [`TicketKey::verify`] looks at; ours are far shorter.
const MAX_TICKET_LEN: usize = 1024;

/// Signs and checks login tickets.
///
/// A ticket is `t=<payload>.<mac>&p=`, where `payload` is base64url (no padding) of
/// `email "\n" expiry` (expiry in unix seconds) and `mac` is base64url of
/// HMAC-SHA256 over a context string and the raw payload. The text contains no
/// spaces, commas, quotes or `%`, so it travels unchanged in `USR TWN S` and in the
/// `from-PP='...'` field of Passport 1.4.
#[derive(Clone)]
pub struct TicketKey {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for TicketKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TicketKey(..)")
    }
}

impl TicketKey {
    /// A key from a secret (at least 32 bytes recommended; config and store
    /// secrets are).
    pub fn new(secret: &[u8]) -> Self {
        let mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(secret) {
            Ok(mac) => mac,
            // HMAC accepts keys of every length (long ones are hashed first).
            Err(e) => panic!("HMAC refused a key: {e}"),
        };
        TicketKey { mac }
    }

    fn sign(&self, payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        mac.update(TICKET_MAC_CONTEXT);
        mac.update(payload);
        mac
    }

    /// Issues a ticket for `email` valid for `lifetime_secs` from `now`, in the
    /// `t=...&p=` shape clients forward verbatim (no spaces, commas or quotes).
    pub fn issue(&self, email: &str, lifetime_secs: u64, now: SystemTime) -> String {
        let expiry = unix_secs(now).saturating_add(lifetime_secs);
        let payload = format!("{email}\n{expiry}");
        let mac = self.sign(payload.as_bytes()).finalize().into_bytes();
        format!(
            "t={}.{}&p=",
            URL_SAFE_NO_PAD.encode(payload.as_bytes()),
            URL_SAFE_NO_PAD.encode(mac)
        )
    }

    /// Checks a ticket as the client sent it in `USR TWN S` (the whole
    /// `t=...&p=...` text, or only the value of `t=`) and returns the email.
    /// The signature is checked first (in constant time), then the expiry: a
    /// ticket is expired from its expiry second on.
    pub fn verify(&self, ticket: &str, now: SystemTime) -> Result<String, TicketError> {
        if ticket.len() > MAX_TICKET_LEN {
            return Err(TicketError::Invalid);
        }
        let rest = ticket.strip_prefix("t=").unwrap_or(ticket);
        let value = match rest.split_once('&') {
            Some((value, p)) if p.starts_with("p=") => value,
            Some(_) => return Err(TicketError::Invalid),
            None => rest,
        };
        let (payload_b64, mac_b64) = value.split_once('.').ok_or(TicketError::Invalid)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload_b64)
            .map_err(|_| TicketError::Invalid)?;
        let mac = URL_SAFE_NO_PAD
            .decode(mac_b64)
            .map_err(|_| TicketError::Invalid)?;
        self.sign(&payload)
            .verify_slice(&mac)
            .map_err(|_| TicketError::Invalid)?;
        // Signed by us from here on: the shape is ours.
        let payload = String::from_utf8(payload).map_err(|_| TicketError::Invalid)?;
        let (email, expiry) = payload.rsplit_once('\n').ok_or(TicketError::Invalid)?;
        let expiry: u64 = expiry.parse().map_err(|_| TicketError::Invalid)?;
        if unix_secs(now) >= expiry {
            return Err(TicketError::Expired);
        }
        Ok(email.to_owned())
    }
}

/// Domain separation for decoy MD5 salts (see [`TicketKey::decoy_md5_salt`]).
const DECOY_SALT_CONTEXT: &[u8] = b"msnpd md5 decoy salt v1\0";

impl TicketKey {
    /// A salt for `USR MD5 S` to answer for an account that cannot log in with
    /// MD5 (it does not exist, or has no MD5 verifier): shaped like a real one
    /// (see [`new_md5_salt`]) and the same every time for the same email, so
    /// `USR MD5 I` does not tell who has an account. The answer to it always fails.
    pub fn decoy_md5_salt(&self, email: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(DECOY_SALT_CONTEXT);
        mac.update(email.as_bytes());
        let bytes = mac.finalize().into_bytes();
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[i..i + 8]);
            u64::from_le_bytes(w)
        };
        let high = 1_000_000_000 + word(0) % 9_000_000_000;
        let low = word(8) % 1_000_000_000;
        format!("{high}.{low:09}")
    }
}

/// Seconds since the unix epoch (0 for times before it).
fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn password_hash_round_trip() {
        let phc = hash_password("hunter2");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password(&phc, "hunter2"));
        assert!(!verify_password(&phc, "hunter3"));
        assert!(!verify_password(&phc, ""));
    }

    #[test]
    fn password_hashes_are_salted() {
        assert_ne!(hash_password("same"), hash_password("same"));
    }

    #[test]
    fn malformed_phc_never_matches() {
        assert!(!verify_password("", "x"));
        assert!(!verify_password("not a hash", "not a hash"));
        assert!(!verify_password("$argon2id$v=19$m=19456,t=2,p=1$", ""));
    }

    #[test]
    fn md5_verifier_matches_known_values() {
        // md5("") and md5("abc") (RFC 1321 test suite), split between salt and password.
        assert_eq!(md5_verifier("", ""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_verifier("a", "bc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(md5_verifier("ab", "c"), md5_verifier("", "abc"));
    }

    #[test]
    fn md5_salt_shape() {
        for _ in 0..100 {
            let salt = new_md5_salt();
            let (high, low) = salt.split_once('.').unwrap();
            assert_eq!(high.len(), 10, "{salt}");
            assert_eq!(low.len(), 9, "{salt}");
            assert!(high.bytes().chain(low.bytes()).all(|b| b.is_ascii_digit()));
        }
        assert_ne!(new_md5_salt(), new_md5_salt());
    }

    #[test]
    fn decoy_md5_salts_are_stable_per_email_and_key() {
        let key = TicketKey::new(SECRET);
        let salt = key.decoy_md5_salt("nobody@example.com");
        let (high, low) = salt.split_once('.').unwrap();
        assert_eq!((high.len(), low.len()), (10, 9), "{salt}");
        assert!(high.bytes().chain(low.bytes()).all(|b| b.is_ascii_digit()));
        assert_eq!(key.decoy_md5_salt("nobody@example.com"), salt);
        assert_ne!(key.decoy_md5_salt("other@example.com"), salt);
        let other_key = TicketKey::new(b"another secret, also 32 bytes long");
        assert_ne!(other_key.decoy_md5_salt("nobody@example.com"), salt);
    }

    #[test]
    fn md5_response_check() {
        let salt = "1013928519.693957190";
        let verifier = md5_verifier(salt, "secret");
        assert!(check_md5_response(&verifier, &verifier));
        assert!(check_md5_response(
            &verifier,
            &verifier.to_ascii_uppercase()
        ));
        assert!(!check_md5_response(
            &verifier,
            &md5_verifier(salt, "Secret")
        ));
        assert!(!check_md5_response(&verifier, &verifier[..31]));
        assert!(!check_md5_response(&verifier, ""));
    }

    #[test]
    fn ticket_round_trip() {
        let key = TicketKey::new(SECRET);
        let ticket = key.issue("alice@example.com", 3600, at(1_000_000));
        assert!(
            ticket.starts_with("t=") && ticket.ends_with("&p="),
            "{ticket}"
        );
        assert_eq!(
            key.verify(&ticket, at(1_000_000)).as_deref(),
            Ok("alice@example.com")
        );
        // The value of t= alone, and with some p= value, are accepted too.
        let t_value = ticket
            .strip_prefix("t=")
            .unwrap()
            .strip_suffix("&p=")
            .unwrap();
        assert_eq!(
            key.verify(t_value, at(1_000_000)).as_deref(),
            Ok("alice@example.com")
        );
        assert_eq!(
            key.verify(&format!("t={t_value}"), at(1_000_000))
                .as_deref(),
            Ok("alice@example.com")
        );
        assert_eq!(
            key.verify(&format!("{ticket}xyz"), at(1_000_000))
                .as_deref(),
            Ok("alice@example.com")
        );
    }

    #[test]
    fn ticket_is_wire_safe() {
        let key = TicketKey::new(SECRET);
        let ticket = key.issue("some.one+tag@example.co.uk", 86_400, SystemTime::now());
        for bad in [' ', ',', '\'', '"', '%', '\r', '\n'] {
            assert!(!ticket.contains(bad), "{ticket:?} contains {bad:?}");
        }
        assert!(ticket.is_ascii());
    }

    #[test]
    fn ticket_expiry() {
        let key = TicketKey::new(SECRET);
        let ticket = key.issue("bob@example.com", 60, at(1_000));
        assert!(key.verify(&ticket, at(1_059)).is_ok());
        assert_eq!(key.verify(&ticket, at(1_060)), Err(TicketError::Expired));
        assert_eq!(key.verify(&ticket, at(999_999)), Err(TicketError::Expired));
    }

    #[test]
    fn ticket_wrong_key() {
        let ticket = TicketKey::new(SECRET).issue("bob@example.com", 60, at(1_000));
        let other = TicketKey::new(b"another secret, also 32 bytes long");
        assert_eq!(other.verify(&ticket, at(1_000)), Err(TicketError::Invalid));
    }

    #[test]
    fn ticket_tampering() {
        let key = TicketKey::new(SECRET);
        let ticket = key.issue("bob@example.com", 60, at(1_000));
        let value = ticket
            .strip_prefix("t=")
            .unwrap()
            .strip_suffix("&p=")
            .unwrap();
        let (payload, mac) = value.split_once('.').unwrap();

        // Another payload (a different user, a later expiry) with the old MAC.
        for forged in ["mallory@example.com\n1060", "bob@example.com\n999999999"] {
            let forged = format!("t={}.{mac}&p=", URL_SAFE_NO_PAD.encode(forged));
            assert_eq!(key.verify(&forged, at(1_000)), Err(TicketError::Invalid));
        }
        // Every single-character change of the signed text is refused.
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for i in 0..value.len() {
            let mut bytes = value.as_bytes().to_vec();
            if bytes[i] == b'.' {
                continue;
            }
            bytes[i] = if bytes[i] == alphabet[0] {
                alphabet[1]
            } else {
                alphabet[0]
            };
            let changed = String::from_utf8(bytes).unwrap();
            assert_eq!(
                key.verify(&changed, at(1_000)),
                Err(TicketError::Invalid),
                "{changed}"
            );
        }
        // Truncations and shape errors.
        for bad in [
            "",
            "t=",
            "t=&p=",
            payload,
            &format!("t={payload}.&p="),
            &format!("t=.{mac}&p="),
            &format!("t={payload}.{mac}&q="),
            &format!("t={payload}.{}&p=", &mac[..mac.len() - 1]),
            "t=!!!.???&p=",
            &"A".repeat(5000),
        ] {
            assert_eq!(
                key.verify(bad, at(1_000)),
                Err(TicketError::Invalid),
                "{bad}"
            );
        }
    }

    #[test]
    fn signed_but_malformed_payload_is_invalid() {
        let key = TicketKey::new(SECRET);
        for payload in [&b"no newline"[..], b"a@b.c\nsoon", b"\xff\xfe\n5000"] {
            let mac = key.sign(payload).finalize().into_bytes();
            let ticket = format!(
                "t={}.{}&p=",
                URL_SAFE_NO_PAD.encode(payload),
                URL_SAFE_NO_PAD.encode(mac)
            );
            assert_eq!(key.verify(&ticket, at(1_000)), Err(TicketError::Invalid));
        }
    }

    #[test]
    fn debug_hides_the_secret() {
        assert_eq!(format!("{:?}", TicketKey::new(SECRET)), "TicketKey(..)");
    }
}
