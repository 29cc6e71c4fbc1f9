//! Typed client commands: what the parser in `cmd/` produces from one framed line
//! (and its payload). Handlers match on [`Command`] exhaustively.

use bytes::Bytes;

use crate::core::lists::{List, NewContactPrompt, Privacy};
use crate::core::presence::Status;

/// Transaction id chosen by the client and echoed in replies.
pub type TrId = u32;

/// The arguments of `USR`, which differ by auth method and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsrArgs {
    /// `USR trid TWN I email`: start ticket login.
    TwnInitial { email: String },
    /// `USR trid TWN S ticket`: finish ticket login.
    TwnSubsequent { ticket: String },
    /// `USR trid MD5 I email`: start MD5 challenge login (MSNP2–7).
    Md5Initial { email: String },
    /// `USR trid MD5 S hash`: answer the MD5 challenge.
    Md5Subsequent { hash: String },
    /// `USR trid email cookie`: switchboard login with the cookie from `XFR SB`.
    Switchboard { email: String, cookie: String },
}

/// How a switchboard `MSG` wants to be acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckMode {
    /// `U`: no acknowledgement.
    Unacknowledged,
    /// `N`: `NAK` only on failure.
    NakOnly,
    /// `A`: `ACK` on delivery, `NAK` on failure.
    Acknowledged,
    /// `D`: data (P2P, MSNP9+): `ACK`, or error 282 if malformed.
    Data,
}

/// What `XFR` asks to be transferred to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XfrTarget {
    /// `XFR trid SB`: a new switchboard.
    Switchboard,
}

/// A phone-number property of `PRP`/`BPR` (MSNP5+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhoneKind {
    /// `PHH`: home.
    Home,
    /// `PHW`: work.
    Work,
    /// `PHM`: mobile.
    Mobile,
    /// `MOB`: "others may page my mobile" (`Y`/`N`).
    MobileAllowed,
}

impl PhoneKind {
    /// The wire code.
    pub fn code(self) -> &'static str {
        match self {
            PhoneKind::Home => "PHH",
            PhoneKind::Work => "PHW",
            PhoneKind::Mobile => "PHM",
            PhoneKind::MobileAllowed => "MOB",
        }
    }
    /// Parses a wire code.
    pub fn from_code(code: &str) -> Option<PhoneKind> {
        Some(match code {
            "PHH" => PhoneKind::Home,
            "PHW" => PhoneKind::Work,
            "PHM" => PhoneKind::Mobile,
            "MOB" => PhoneKind::MobileAllowed,
            _ => return None,
        })
    }
}

/// How an `ADC` names the contact (MSNP10–12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactRef {
    /// `N=email`: by account name (as sent; lower-casing is the handler's job).
    Email(String),
    /// `C=guid`: by the contact GUID the server gave out (forward list only).
    Guid(String),
}

/// One client command. Strings are URL-decoded (nicknames, group names) except
/// where noted; emails are kept as sent (lower-casing is the handler's job).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `VER trid MSNPx MSNPy ... [CVR0]`: the raw dialect tokens offered.
    Ver { trid: TrId, offered: Vec<String> },
    /// `CVR trid locale os osver arch client clientver [product] [account]`.
    Cvr { trid: TrId, args: Vec<String> },
    /// `INF trid` (MSNP2–7): which auth method?
    Inf { trid: TrId },
    /// `USR trid ...`.
    Usr { trid: TrId, args: UsrArgs },
    /// `SYN trid version` (MSNP10+ sends two timestamps; the first is kept).
    Syn { trid: TrId, version: String },
    /// `CHG trid STATUS [capabilities [msnobject]]`.
    Chg {
        trid: TrId,
        status: Status,
        capabilities: Option<u64>,
        msn_object: Option<String>,
    },
    /// `ADD trid LIST email nick [group]`.
    Add {
        trid: TrId,
        list: List,
        email: String,
        nick: String,
        group: Option<u32>,
    },
    /// `ADC trid LIST N=email [F=nick] [group]` or `ADC trid FL C=guid group`
    /// (MSNP10–12): add a contact to a list, or a forward-list contact to a group.
    Adc {
        trid: TrId,
        list: List,
        contact: ContactRef,
        nick: Option<String>,
        group: Option<u32>,
    },
    /// `REM trid LIST email [group]`.
    Rem {
        trid: TrId,
        list: List,
        email: String,
        group: Option<u32>,
    },
    /// `ADG trid name [0]`: add a group.
    Adg { trid: TrId, name: String },
    /// `RMG trid group`: remove a group.
    Rmg { trid: TrId, group: u32 },
    /// `REG trid group name [0]`: rename a group.
    Reg {
        trid: TrId,
        group: u32,
        name: String,
    },
    /// `REA trid email nick`: change a friendly name.
    Rea {
        trid: TrId,
        email: String,
        nick: String,
    },
    /// `BLP trid AL|BL`.
    Blp { trid: TrId, privacy: Privacy },
    /// `GTC trid A|N`.
    Gtc {
        trid: TrId,
        prompt: NewContactPrompt,
    },
    /// `PRP trid KIND [value]`: set (or clear, when absent) an own phone number.
    Prp {
        trid: TrId,
        kind: PhoneKind,
        value: Option<String>,
    },
    /// `PRP trid MFN nick` (MSNP10+): change one's own friendly name.
    PrpNick { trid: TrId, nick: String },
    /// `XFR trid SB`.
    Xfr { trid: TrId, target: XfrTarget },
    /// `QRY trid product-id 32` + 32-byte payload: answer to `CHL`.
    Qry {
        trid: TrId,
        product_id: String,
        response: Bytes,
    },
    /// `PNG`: keep-alive.
    Png,
    /// `OUT`: log out / leave.
    Out,
    /// `ANS trid email cookie session-id`: join a switchboard one was invited to.
    Ans {
        trid: TrId,
        email: String,
        cookie: String,
        session_id: String,
    },
    /// `CAL trid email`: invite someone into the switchboard.
    Cal { trid: TrId, email: String },
    /// `MSG trid U|N|A|D length` + payload.
    Msg {
        trid: TrId,
        ack: AckMode,
        payload: Bytes,
    },
    /// `GCF trid filename` (MSNP11–12): ask for a config file (`Shields.xml`).
    Gcf { trid: TrId, file: String },
    /// `UUX trid length` + XML payload (MSNP11+): set the personal message and
    /// current media (`<Data><PSM>..</PSM><CurrentMedia>..</CurrentMedia></Data>`).
    Uux { trid: TrId, payload: Bytes },
}

impl Command {
    /// The verb as sent on the wire (for the gate and logs).
    pub fn verb(&self) -> &'static str {
        match self {
            Command::Ver { .. } => "VER",
            Command::Cvr { .. } => "CVR",
            Command::Inf { .. } => "INF",
            Command::Usr { .. } => "USR",
            Command::Syn { .. } => "SYN",
            Command::Chg { .. } => "CHG",
            Command::Add { .. } => "ADD",
            Command::Adc { .. } => "ADC",
            Command::Rem { .. } => "REM",
            Command::Adg { .. } => "ADG",
            Command::Rmg { .. } => "RMG",
            Command::Reg { .. } => "REG",
            Command::Rea { .. } => "REA",
            Command::Blp { .. } => "BLP",
            Command::Gtc { .. } => "GTC",
            Command::Prp { .. } | Command::PrpNick { .. } => "PRP",
            Command::Xfr { .. } => "XFR",
            Command::Qry { .. } => "QRY",
            Command::Png => "PNG",
            Command::Out => "OUT",
            Command::Ans { .. } => "ANS",
            Command::Cal { .. } => "CAL",
            Command::Msg { .. } => "MSG",
            Command::Gcf { .. } => "GCF",
            Command::Uux { .. } => "UUX",
        }
    }

    /// The TrID, for commands that carry one.
    pub fn trid(&self) -> Option<TrId> {
        match self {
            Command::Ver { trid, .. }
            | Command::Cvr { trid, .. }
            | Command::Inf { trid }
            | Command::Usr { trid, .. }
            | Command::Syn { trid, .. }
            | Command::Chg { trid, .. }
            | Command::Add { trid, .. }
            | Command::Adc { trid, .. }
            | Command::Rem { trid, .. }
            | Command::Adg { trid, .. }
            | Command::Rmg { trid, .. }
            | Command::Reg { trid, .. }
            | Command::Rea { trid, .. }
            | Command::Blp { trid, .. }
            | Command::Gtc { trid, .. }
            | Command::Prp { trid, .. }
            | Command::PrpNick { trid, .. }
            | Command::Xfr { trid, .. }
            | Command::Qry { trid, .. }
            | Command::Ans { trid, .. }
            | Command::Cal { trid, .. }
            | Command::Msg { trid, .. }
            | Command::Gcf { trid, .. }
            | Command::Uux { trid, .. } => Some(*trid),
            Command::Png | Command::Out => None,
        }
    }
}
