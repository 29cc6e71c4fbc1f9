//! The MSNP dialect a connection speaks, and the predicates that say what each
//! dialect has. Handlers ask these predicates; they never compare version numbers.

use std::fmt;

/// One MSNP protocol version (`MSNP2` ... `MSNP12`), chosen per connection by `VER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dialect(u8);

impl Dialect {
    /// The oldest dialect msnpd knows how to speak.
    pub const MIN: Dialect = Dialect(2);
    /// The newest dialect msnpd knows how to speak.
    pub const MAX: Dialect = Dialect(12);
    /// MSNP8, the first ticket (TWN) dialect.
    pub const MSNP8: Dialect = Dialect(8);

    /// The dialect with this version number, if msnpd knows it.
    pub fn new(version: u8) -> Option<Dialect> {
        (Self::MIN.0..=Self::MAX.0)
            .contains(&version)
            .then_some(Dialect(version))
    }

    /// Parses a `VER` token such as `MSNP8`. `CVR0` and unknown versions give `None`.
    pub fn from_token(token: &str) -> Option<Dialect> {
        let digits = token.strip_prefix("MSNP")?;
        if digits.is_empty() || digits.len() > 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse::<u8>().ok().and_then(Dialect::new)
    }

    /// The version number (2..=12).
    pub fn version(self) -> u8 {
        self.0
    }

    /// Login uses the MD5 challenge (`USR MD5 I/S`): MSNP2–MSNP7.
    pub fn uses_md5_auth(self) -> bool {
        self.0 <= 7
    }
    /// Login uses a Passport ticket (`USR TWN I/S`): MSNP8 and later.
    pub fn uses_ticket_auth(self) -> bool {
        self.0 >= 8
    }
    /// `INF` exists (MSNP2–MSNP7).
    pub fn has_inf(self) -> bool {
        self.0 <= 7
    }
    /// Phone numbers (`PRP`/`BPR`) exist (MSNP5+).
    pub fn has_phone_numbers(self) -> bool {
        self.0 >= 5
    }
    /// Alerts (`NOT` with a `<NOTIFICATION>` document) exist (MSNP5+).
    pub fn has_alerts(self) -> bool {
        self.0 >= 5
    }
    /// `CHL`/`QRY` challenges exist (MSNP6+).
    pub fn has_challenges(self) -> bool {
        self.0 >= 6
    }
    /// The MSNP11 challenge algorithm replaces MD5(challenge+key).
    pub fn has_msnp11_challenge(self) -> bool {
        self.0 >= 11
    }
    /// Contact groups (`LSG`, `ADG`/`RMG`/`REG`) exist (MSNP7+).
    pub fn has_groups(self) -> bool {
        self.0 >= 7
    }
    /// `SYN` sends one `LST` per contact with a list bitmask (MSNP8+), instead of
    /// one `LST` block per list.
    pub fn has_list_bitmask_sync(self) -> bool {
        self.0 >= 8
    }
    /// `CHG`/`ILN`/`NLN` carry a client capability id (MSNP8+).
    pub fn has_capabilities(self) -> bool {
        self.0 >= 8
    }
    /// `CHG`/`ILN`/`NLN` carry an MSN object (MSNP9+).
    pub fn has_msn_objects(self) -> bool {
        self.0 >= 9
    }
    /// `QNG` carries the seconds until the next `PNG` (MSNP9+).
    pub fn has_qng_seconds(self) -> bool {
        self.0 >= 9
    }
    /// Contacts and groups are addressed by GUID; `ADC` replaces `ADD` (MSNP10+).
    pub fn has_guids(self) -> bool {
        self.0 >= 10
    }
    /// Personal messages (`UUX`/`UBX`) exist (MSNP11+).
    pub fn has_personal_message(self) -> bool {
        self.0 >= 11
    }
    /// The own friendly name is set with `PRP trid MFN nick` and sent in `SYN` as
    /// `PRP MFN nick` (MSNP10+); `REA` is gone.
    pub fn has_prp_nickname(self) -> bool {
        self.0 >= 10
    }
    /// `IRO`/`JOI` carry client capabilities (MSNP12+).
    pub fn has_sb_capabilities(self) -> bool {
        self.0 >= 12
    }
    /// `USR ... OK` carries the "verified" flag (MSNP6+).
    pub fn has_verified_flag(self) -> bool {
        self.0 >= 6
    }
    /// Replies to list edits (`ADD`, `REM`, `BLP`, `GTC`, `PRP`, `REA`, ...) carry the
    /// list version ("ser") after the TrID (MSNP2–9; dropped with GUIDs in MSNP10).
    pub fn has_list_versions(self) -> bool {
        self.0 <= 9
    }
    /// `LST` in `SYN` carries a network field (`1`) before the groups (MSNP12+).
    pub fn has_lst_network_field(self) -> bool {
        self.0 >= 12
    }
    /// How `USR trid OK ...` (notification login success) looks in this dialect.
    pub fn usr_ok_shape(self) -> UsrOkShape {
        match self.0 {
            2..=5 => UsrOkShape::Nick,
            6..=7 => UsrOkShape::NickVerified,
            8..=9 => UsrOkShape::NickVerifiedZero,
            _ => UsrOkShape::VerifiedZero,
        }
    }
    /// Which generation of the `SYN` contact-list download this dialect uses.
    pub fn sync_shape(self) -> SyncShape {
        match self.0 {
            2..=7 => SyncShape::PerList,
            8..=9 => SyncShape::Bitmask,
            _ => SyncShape::Guid,
        }
    }
    /// `XFR ... NS` from a dispatch server carries `0 dispatch-addr` (MSNP7+; MSNP3–6
    /// carry only `0`; MSNP2 neither).
    pub fn xfr_ns_shape(self) -> XfrNsShape {
        match self.0 {
            2 => XfrNsShape::Bare,
            3..=6 => XfrNsShape::WithZero,
            _ => XfrNsShape::WithDispatch,
        }
    }
}

/// How `XFR trid NS host:port ...` looks in a dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XfrNsShape {
    /// `XFR trid NS host:port`
    Bare,
    /// `XFR trid NS host:port 0`
    WithZero,
    /// `XFR trid NS host:port 0 dispatch-host:port`
    WithDispatch,
}

/// How `USR trid OK ...` looks after a notification-server login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsrOkShape {
    /// `USR trid OK email nick` (MSNP2–5).
    Nick,
    /// `USR trid OK email nick verified` (MSNP6–7).
    NickVerified,
    /// `USR trid OK email nick verified 0` (MSNP8–9).
    NickVerifiedZero,
    /// `USR trid OK email verified 0` (MSNP10+: the nick moves to `PRP MFN`).
    VerifiedZero,
}

/// The generation of the `SYN` contact-list download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncShape {
    /// MSNP2–7: `SYN trid ver`, settings and one `LST trid LIST ver i n ...` block per
    /// list, each child line carrying the TrID and list version (`LSG` from MSNP7).
    PerList,
    /// MSNP8–9: `SYN trid ver ncontacts ngroups`, then children without TrID: one
    /// `LST email nick bits [groups]` per contact.
    Bitmask,
    /// MSNP10–12: timestamps instead of a version, `LSG name guid`,
    /// `LST N=email F=nick C=guid bits [groups]`.
    Guid,
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MSNP{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(Dialect::from_token("MSNP8"), Some(Dialect::MSNP8));
        assert_eq!(
            Dialect::from_token("MSNP12").map(Dialect::version),
            Some(12)
        );
        assert_eq!(Dialect::from_token("MSNP13"), None);
        assert_eq!(Dialect::from_token("MSNP1"), None);
        assert_eq!(Dialect::from_token("CVR0"), None);
        assert_eq!(Dialect::from_token("MSNP"), None);
        assert_eq!(Dialect::from_token("MSNP+8"), None);
        assert_eq!(Dialect::MSNP8.to_string(), "MSNP8");
    }

    #[test]
    fn nickname_and_personal_message_predicates() {
        let has = |v: u8| {
            let d = Dialect::new(v).unwrap();
            (d.has_prp_nickname(), d.has_personal_message())
        };
        assert_eq!(has(9), (false, false));
        assert_eq!(has(10), (true, false));
        assert_eq!(has(11), (true, true));
        assert_eq!(has(12), (true, true));
    }
}
