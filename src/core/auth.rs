//! Authentication primitives: argon2 password hashes, the MD5 verifier of MSNP2–7,
//! HMAC-signed login tickets with expiry (checked without a database read), and the
//! CHL/QRY challenge algorithms.

use std::time::SystemTime;

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

/// Hashes a password with argon2id (PHC string).
pub fn hash_password(password: &str) -> String {
    let _ = password;
    todo!()
}

/// Checks a password against an argon2 PHC string.
pub fn verify_password(phc: &str, password: &str) -> bool {
    let _ = (phc, password);
    todo!()
}

/// Signs and checks login tickets.
#[derive(Clone)]
pub struct TicketKey {
    secret: Vec<u8>,
}

impl std::fmt::Debug for TicketKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TicketKey(..)")
    }
}

impl TicketKey {
    /// A key from a secret (at least 32 bytes recommended).
    pub fn new(secret: &[u8]) -> Self {
        TicketKey {
            secret: secret.to_vec(),
        }
    }

    /// Issues a ticket for `email` valid for `lifetime_secs` from `now`, in the
    /// `t=...&p=` shape clients forward verbatim (no spaces, commas or quotes).
    pub fn issue(&self, email: &str, lifetime_secs: u64, now: SystemTime) -> String {
        let _ = (email, lifetime_secs, now, &self.secret);
        todo!()
    }

    /// Checks a ticket as the client sent it in `USR TWN S` and returns the email.
    pub fn verify(&self, ticket: &str, now: SystemTime) -> Result<String, TicketError> {
        let _ = (ticket, now);
        todo!()
    }
}
