//! The numeric error table: every error code msnpd sends, with its meaning.
//! Sources: libpurple `protocols/msn/error.c`, hypothetic.org's error list
//! (<http://www.hypothetic.org/docs/msn/reference/error_list.php>).

/// A numeric MSNP error, sent as `CODE trid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum ErrorCode {
    /// 200: syntax error / unknown command.
    SyntaxError = 200,
    /// 201: invalid parameter (bad address, `CHG FLN`, ...).
    InvalidParameter = 201,
    /// 205: invalid principal (no such account).
    InvalidPrincipal = 205,
    /// 206: domain name missing.
    DomainNameMissing = 206,
    /// 207: already logged in.
    AlreadyLoggedIn = 207,
    /// 208: invalid principal (switchboard `CAL`; MSNP10+ `ADC`).
    InvalidUser = 208,
    /// 209: nickname change illegal.
    NicknameChangeIllegal = 209,
    /// 210: principal list full.
    ListFull = 210,
    /// 215: already on that list.
    AlreadyInList = 215,
    /// 216: not on that list.
    NotInList = 216,
    /// 217: principal not online.
    NotOnline = 217,
    /// 218: already in that mode.
    AlreadyInMode = 218,
    /// 219: principal is in the opposite list (AL vs BL).
    InOppositeList = 219,
    /// 223: too many groups.
    TooManyGroups = 223,
    /// 224: invalid group.
    InvalidGroup = 224,
    /// 225: principal not in group.
    NotInGroup = 225,
    /// 229: group name too long.
    GroupNameTooLong = 229,
    /// 230: cannot remove group 0.
    CannotRemoveGroupZero = 230,
    /// 280: switchboard failed.
    SwitchboardFailed = 280,
    /// 281: transfer to switchboard failed.
    TransferFailed = 281,
    /// 282: P2P (`MSG D`) payload malformed.
    P2pMalformed = 282,
    /// 300: required field missing.
    RequiredFieldMissing = 300,
    /// 302: not logged in.
    NotLoggedIn = 302,
    /// 500: internal server error.
    InternalError = 500,
    /// 501: database server error.
    DatabaseError = 501,
    /// 502: command disabled.
    CommandDisabled = 502,
    /// 540: challenge response failed.
    ChallengeFailed = 540,
    /// 600: server busy.
    ServerBusy = 600,
    /// 601: server unavailable.
    ServerUnavailable = 601,
    /// 603: database connect error.
    DatabaseConnectError = 603,
    /// 604: server going down.
    ServerGoingDown = 604,
    /// 710: bad CVR parameters.
    BadCvrParameters = 710,
    /// 711: write is blocking.
    WriteBlocking = 711,
    /// 713: calling too rapidly.
    CallingTooRapidly = 713,
    /// 715: not expected now.
    NotExpected = 715,
    /// 731: not expected (out of order).
    OutOfOrder = 731,
    /// 800: changing too rapidly.
    ChangingTooRapidly = 800,
    /// 911: authentication failed.
    AuthFailed = 911,
    /// 913: not allowed when offline or hidden.
    NotAllowedWhenOffline = 913,
    /// 928: bad ticket.
    BadTicket = 928,
}

impl ErrorCode {
    /// The number sent on the wire.
    pub fn number(self) -> u16 {
        self as u16
    }
}
