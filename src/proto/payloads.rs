//! Payloads the server itself writes: the login profile of `MSG Hotmail Hotmail`
//! (shape from research/msnp.md §2.1 and the msnpiki description of
//! `text/x-msmsgsprofile`) and the `Shields.xml` configuration file of `GCF`.

use std::fmt::Write as _;

use bytes::Bytes;

use super::Dialect;

/// What goes into the login profile message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile<'a> {
    /// The account name.
    pub email: &'a str,
    /// Login time, unix seconds.
    pub login_time: u64,
    /// The account's numeric id (split into MemberIdHigh/Low).
    pub member_id: u64,
    /// The client's address as seen by the server.
    pub client_ip: &'a str,
    /// The client's port as seen by the server.
    pub client_port: u16,
}

/// The `text/x-msmsgsprofile` payload sent right after `USR ... OK`.
pub fn profile(dialect: Dialect, p: &Profile<'_>) -> Bytes {
    let mut s = String::with_capacity(512);
    s.push_str("MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsprofile; charset=UTF-8\r\n");
    let _ = write!(s, "LoginTime: {}\r\n", p.login_time);
    s.push_str("EmailEnabled: 0\r\n");
    let _ = write!(s, "MemberIdHigh: {}\r\n", p.member_id >> 32);
    let _ = write!(s, "MemberIdLow: {}\r\n", p.member_id & 0xffff_ffff);
    s.push_str("lang_preference: 1033\r\n");
    let _ = write!(s, "PreferredEmail: {}\r\n", p.email);
    s.push_str("country: \r\nPostalCode: \r\nGender: \r\nKid: 0\r\nAge: \r\nBDayPre: \r\nBirthday: \r\nWallet: \r\nFlags: 1027\r\nsid: 507\r\n");
    if dialect.uses_ticket_auth() {
        s.push_str("kv: 11\r\nMSPAuth: 0\r\n");
        let _ = write!(
            s,
            "ClientIP: {}\r\nClientPort: {}\r\n",
            p.client_ip, p.client_port
        );
    }
    if dialect.has_guids() {
        s.push_str("ABCHMigrated: 1\r\n");
    }
    s.push_str("\r\n");
    Bytes::from(s)
}

/// The name of the one configuration file MSNP11–12 clients ask for with `GCF`.
pub const SHIELDS_FILE: &str = "Shields.xml";

/// The `Shields.xml` answer to `GCF`: a shield for every client version that
/// denies nothing, and an empty block list (the shape MSN Messenger 7 reads; see
/// research/msnp.md §2.3).
pub fn shields() -> Bytes {
    Bytes::from_static(
        b"<?xml version=\"1.0\" encoding=\"utf-8\" ?>\
          <config><shield><cli maj=\"7\" min=\"0\" minbld=\"0\" maxbld=\"9999\" deny=\" \" />\
          </shield><block></block></config>",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_shape() {
        let p = Profile {
            email: "a@example.com",
            login_time: 1_700_000_000,
            member_id: (1u64 << 32) | 2,
            client_ip: "127.0.0.1",
            client_port: 5000,
        };
        let text = String::from_utf8(profile(Dialect::MSNP8, &p).to_vec()).unwrap();
        assert!(text.starts_with(
            "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsprofile; charset=UTF-8\r\n"
        ));
        assert!(text.contains("MemberIdHigh: 1\r\nMemberIdLow: 2\r\n"));
        assert!(text.contains("ClientIP: 127.0.0.1\r\nClientPort: 5000\r\n"));
        assert!(text.ends_with("\r\n\r\n"));
        let old = String::from_utf8(profile(Dialect::new(5).unwrap(), &p).to_vec()).unwrap();
        assert!(!old.contains("ClientIP"));
    }

    #[test]
    fn shields_is_one_xml_document() {
        let text = String::from_utf8(shields().to_vec()).unwrap();
        assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\" ?><config><shield>"));
        assert!(text.ends_with("</shield><block></block></config>"));
        assert!(!text.contains("\r") && !text.contains("\n"));
    }
}
