//! The gate: ONE table that says, for every verb, which roles accept it, in which
//! session stage, and in which dialects. Connections ask the gate before the
//! handler's exhaustive `match` runs.

use crate::proto::{Dialect, ErrorCode};

/// Which protocol role a connection plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnRole {
    /// Dispatch server.
    Dispatch,
    /// Notification server.
    Notification,
    /// Switchboard.
    Switchboard,
}

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Connected; no dialect yet (NS/DS: before `VER`; SB: before `USR`/`ANS`).
    Connected,
    /// NS/DS: dialect negotiated, not logged in.
    Negotiated,
    /// Logged in (NS) or joined (SB).
    Authenticated,
}

const DS: u8 = 1;
const NS: u8 = 2;
const SB: u8 = 4;

const CONNECTED: u8 = 1;
const NEGOTIATED: u8 = 2;
const AUTHENTICATED: u8 = 4;
const ANY_STAGE: u8 = CONNECTED | NEGOTIATED | AUTHENTICATED;

/// One row of the command table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The verb.
    pub verb: &'static str,
    /// Roles that accept it (bit set of DS/NS/SB).
    roles: u8,
    /// Stages in which it is accepted (bit set).
    stages: u8,
    /// First dialect that has it.
    pub since: u8,
    /// Last dialect that has it.
    pub until: u8,
}

impl Rule {
    /// Whether `role` accepts this verb.
    pub fn in_role(&self, role: ConnRole) -> bool {
        self.roles & role_bit(role) != 0
    }
}

const fn rule(verb: &'static str, roles: u8, stages: u8, since: u8, until: u8) -> Rule {
    Rule {
        verb,
        roles,
        stages,
        since,
        until,
    }
}

/// The command table (client → server verbs msnpd implements).
pub const TABLE: &[Rule] = &[
    rule("VER", DS | NS, CONNECTED | NEGOTIATED, 2, 12),
    rule("CVR", DS | NS, NEGOTIATED, 2, 12),
    rule("INF", DS | NS, NEGOTIATED, 2, 7),
    rule("USR", DS | NS, NEGOTIATED, 2, 12),
    rule("USR", SB, CONNECTED, 2, 12),
    rule("SYN", NS, AUTHENTICATED, 2, 12),
    rule("CHG", NS, AUTHENTICATED, 2, 12),
    rule("ADD", NS, AUTHENTICATED, 2, 9),
    rule("ADC", NS, AUTHENTICATED, 10, 12),
    rule("REM", NS, AUTHENTICATED, 2, 12),
    rule("ADG", NS, AUTHENTICATED, 7, 12),
    rule("RMG", NS, AUTHENTICATED, 7, 12),
    rule("REG", NS, AUTHENTICATED, 7, 12),
    rule("REA", NS, AUTHENTICATED, 2, 9),
    rule("BLP", NS, AUTHENTICATED, 2, 12),
    rule("GTC", NS, AUTHENTICATED, 2, 12),
    rule("PRP", NS, AUTHENTICATED, 5, 12),
    rule("XFR", NS, AUTHENTICATED, 2, 12),
    rule("QRY", NS, AUTHENTICATED, 6, 12),
    rule("GCF", NS, AUTHENTICATED, 11, 12),
    rule("UUX", NS, AUTHENTICATED, 11, 12),
    rule("PNG", DS | NS, ANY_STAGE, 2, 12),
    rule("OUT", DS | NS | SB, ANY_STAGE, 2, 12),
    rule("ANS", SB, CONNECTED, 2, 12),
    rule("CAL", SB, AUTHENTICATED, 2, 12),
    rule("MSG", SB, AUTHENTICATED, 2, 12),
];

fn role_bit(role: ConnRole) -> u8 {
    match role {
        ConnRole::Dispatch => DS,
        ConnRole::Notification => NS,
        ConnRole::Switchboard => SB,
    }
}

fn stage_bit(stage: Stage) -> u8 {
    match stage {
        Stage::Connected => CONNECTED,
        Stage::Negotiated => NEGOTIATED,
        Stage::Authenticated => AUTHENTICATED,
    }
}

/// Decides whether `verb` may run now. `Err` carries the numeric error to send.
///
/// - unknown verb, a verb of another role, or one outside the dialect: `200`;
/// - a verb that needs login before login: `302`;
/// - `USR` after login: `207`;
/// - anything else out of order (e.g. `CVR` before `VER`): `715`.
pub fn check(
    role: ConnRole,
    stage: Stage,
    dialect: Option<Dialect>,
    verb: &str,
) -> Result<(), ErrorCode> {
    let rules = || TABLE.iter().filter(|r| r.verb == verb && r.in_role(role));
    if rules().next().is_none() {
        return Err(ErrorCode::SyntaxError);
    }
    let in_dialect = |r: &&Rule| dialect.is_none_or(|d| (r.since..=r.until).contains(&d.version()));
    if !rules().any(|r| in_dialect(&r)) {
        return Err(ErrorCode::SyntaxError);
    }
    if rules()
        .filter(in_dialect)
        .any(|r| r.stages & stage_bit(stage) != 0)
    {
        return Ok(());
    }
    Err(match stage {
        Stage::Authenticated if verb == "USR" => ErrorCode::AlreadyLoggedIn,
        Stage::Authenticated => ErrorCode::NotExpected,
        _ if rules().any(|r| r.stages == AUTHENTICATED) => ErrorCode::NotLoggedIn,
        _ => ErrorCode::NotExpected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msnp(v: u8) -> Option<Dialect> {
        Dialect::new(v)
    }

    #[test]
    fn decisions() {
        use ConnRole::*;
        use Stage::*;
        assert_eq!(check(Notification, Connected, None, "VER"), Ok(()));
        assert_eq!(
            check(Notification, Connected, None, "FOO"),
            Err(ErrorCode::SyntaxError)
        );
        assert_eq!(
            check(Notification, Negotiated, msnp(8), "CAL"),
            Err(ErrorCode::SyntaxError)
        );
        assert_eq!(
            check(Notification, Negotiated, msnp(8), "SYN"),
            Err(ErrorCode::NotLoggedIn)
        );
        assert_eq!(
            check(Notification, Connected, None, "CVR"),
            Err(ErrorCode::NotExpected)
        );
        assert_eq!(
            check(Notification, Authenticated, msnp(8), "USR"),
            Err(ErrorCode::AlreadyLoggedIn)
        );
        assert_eq!(check(Notification, Authenticated, msnp(8), "ADD"), Ok(()));
        assert_eq!(
            check(Notification, Authenticated, msnp(10), "ADD"),
            Err(ErrorCode::SyntaxError)
        );
        assert_eq!(
            check(Notification, Negotiated, msnp(8), "INF"),
            Err(ErrorCode::SyntaxError)
        );
        assert_eq!(check(Switchboard, Connected, msnp(8), "USR"), Ok(()));
        assert_eq!(
            check(Switchboard, Connected, msnp(8), "MSG"),
            Err(ErrorCode::NotLoggedIn)
        );
        assert_eq!(check(Switchboard, Authenticated, msnp(8), "MSG"), Ok(()));
        assert_eq!(
            check(Switchboard, Authenticated, msnp(8), "ANS"),
            Err(ErrorCode::NotExpected)
        );
        assert_eq!(
            check(Dispatch, Authenticated, msnp(8), "SYN"),
            Err(ErrorCode::SyntaxError)
        );
        assert_eq!(check(Notification, Authenticated, msnp(8), "PNG"), Ok(()));
        assert_eq!(check(Notification, Authenticated, msnp(10), "ADC"), Ok(()));
        assert_eq!(
            check(Notification, Authenticated, msnp(9), "ADC"),
            Err(ErrorCode::SyntaxError)
        );
        for verb in ["GCF", "UUX"] {
            assert_eq!(check(Notification, Authenticated, msnp(11), verb), Ok(()));
            assert_eq!(check(Notification, Authenticated, msnp(12), verb), Ok(()));
            assert_eq!(
                check(Notification, Authenticated, msnp(10), verb),
                Err(ErrorCode::SyntaxError)
            );
            assert_eq!(
                check(Notification, Negotiated, msnp(11), verb),
                Err(ErrorCode::NotLoggedIn)
            );
        }
        assert_eq!(
            check(Notification, Authenticated, msnp(10), "REA"),
            Err(ErrorCode::SyntaxError)
        );
    }
}
