//! The gate: ONE table that says, for every verb, which roles accept it, in which
//! session stage, and in which dialects, plus the rate budgets a command is
//! charged against (commands per connection, invitations per account).
//! Connections ask the gate ([`charge`], then [`admit`]) before the handler's
//! exhaustive `match` runs.

use super::limits::{CommandRate, InviteLimiter};
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

impl ConnRole {
    /// The role's short name in logs and metrics: `dispatch`, `ns`, `sb`.
    pub fn label(self) -> &'static str {
        match self {
            ConnRole::Dispatch => "dispatch",
            ConnRole::Notification => "ns",
            ConnRole::Switchboard => "sb",
        }
    }
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

/// Verbs that change what others see of the user (status, names, privacy):
/// over the command rate they get `800` ("changing too rapidly"), as MSN
/// answered status and name changes that came too fast.
const STATE_CHANGES: [&str; 6] = ["CHG", "REA", "PRP", "UUX", "BLP", "GTC"];

/// Charges one command line against its connection's budget and says whether
/// it is within the rate. Every line costs one token, even one that will not
/// parse, except `OUT`: leaving is always allowed.
pub fn charge(verb: &str, commands: &CommandRate) -> bool {
    let allowed = verb.eq_ignore_ascii_case("OUT") || commands.allow();
    if !allowed {
        crate::obs::metrics().limit_rejection(crate::obs::Limit::CommandRate);
    }
    allowed
}

/// The connection asking the gate.
#[derive(Debug, Clone, Copy)]
pub struct Asker<'a> {
    /// Its role.
    pub role: ConnRole,
    /// Its session stage.
    pub stage: Stage,
    /// Its dialect, once known.
    pub dialect: Option<Dialect>,
    /// The account it acts for, where per-account limits apply.
    pub account: Option<&'a str>,
}

/// The whole decision on a parsed command: `within_rate` is what [`charge`]
/// said for its line. `Err` carries the numeric error (a command without a
/// TrID that is refused closes the connection instead):
///
/// - over the command rate: `800` for state changes (`STATE_CHANGES`), else
///   `713` ("user too active");
/// - not allowed by the table: as [`check`];
/// - `CAL` over the account's invitations per minute: `713` ("calling too rapidly").
pub fn admit(
    asker: &Asker<'_>,
    verb: &str,
    within_rate: bool,
    invites: &InviteLimiter,
) -> Result<(), ErrorCode> {
    if !within_rate {
        return Err(if STATE_CHANGES.contains(&verb) {
            ErrorCode::ChangingTooRapidly
        } else {
            ErrorCode::CallingTooRapidly
        });
    }
    check(asker.role, asker.stage, asker.dialect, verb)?;
    if verb == "CAL"
        && let Some(account) = asker.account
        && !invites.allow(account)
    {
        crate::obs::metrics().limit_rejection(crate::obs::Limit::Invites);
        return Err(ErrorCode::CallingTooRapidly);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use governor::Quota;

    use super::*;

    #[test]
    fn rates() {
        let n = |v| NonZeroU32::new(v).unwrap();
        let commands = CommandRate::new(Quota::per_hour(n(1)).allow_burst(n(2)));
        assert!(charge("CHG", &commands));
        assert!(charge("CAL", &commands));
        assert!(!charge("CHG", &commands));
        assert!(charge("OUT", &commands));
        assert!(charge("out", &commands));
        let invites = InviteLimiter::new(Quota::per_hour(n(1)));
        let sb = Asker {
            role: ConnRole::Switchboard,
            stage: Stage::Authenticated,
            dialect: Dialect::new(8),
            account: Some("a@x.org"),
        };
        assert_eq!(
            admit(&sb, "CHG", false, &invites),
            Err(ErrorCode::ChangingTooRapidly)
        );
        assert_eq!(
            admit(&sb, "MSG", false, &invites),
            Err(ErrorCode::CallingTooRapidly)
        );
        assert_eq!(admit(&sb, "MSG", true, &invites), Ok(()));
        // A refused command does not use an invitation.
        assert_eq!(
            admit(&sb, "FOO", true, &invites),
            Err(ErrorCode::SyntaxError)
        );
        assert_eq!(admit(&sb, "CAL", true, &invites), Ok(()));
        assert_eq!(
            admit(&sb, "CAL", true, &invites),
            Err(ErrorCode::CallingTooRapidly)
        );
        let other = Asker {
            account: Some("b@x.org"),
            ..sb
        };
        assert_eq!(admit(&other, "CAL", true, &invites), Ok(()));
    }

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
