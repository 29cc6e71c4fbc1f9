//! Typed server lines: what handlers build and the encoder in `cmd/` turns into
//! bytes for the connection's dialect. Strings are plain text (the encoder
//! URL-encodes nicknames and group names where the wire needs it).

use std::collections::BTreeMap;

use bytes::Bytes;

use super::command::{PhoneKind, TrId};
use super::dialect::Dialect;
use super::error_code::ErrorCode;
use crate::core::lists::{List, NewContactPrompt, Privacy};
use crate::core::model::{ContactList, Group};
use crate::core::presence::Status;

/// Why the server sends `OUT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutReason {
    /// `OUT OTH`: the account logged in elsewhere.
    OtherLogin,
    /// `OUT SSD`: the server is shutting down.
    ServerShutdown,
}

/// Presence of one user as sent in `ILN`/`NLN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceInfo {
    /// Visible status (never `Hidden`; `Offline` is sent as `FLN`).
    pub status: Status,
    /// Account name.
    pub email: String,
    /// Friendly name (plain text).
    pub nick: String,
    /// Client capability id (MSNP8+).
    pub capabilities: u64,
    /// MSN object, as the client sent it (MSNP9+; URL-encoded form kept).
    pub msn_object: Option<String>,
}

/// The `CVR` answer: recommended, minimum and download versions and URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CvrInfo {
    /// Recommended client version.
    pub recommended: String,
    /// Minimum allowed version.
    pub minimum: String,
    /// Version offered for download.
    pub download: String,
    /// Download URL.
    pub download_url: String,
    /// Information URL.
    pub info_url: String,
}

/// One server line (or, for [`Reply::Sync`], the block of lines `SYN` sends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `CODE trid`.
    Error { code: ErrorCode, trid: TrId },
    /// `VER trid MSNPx`, or `VER trid 0` when no offered dialect is served.
    Ver {
        trid: TrId,
        dialect: Option<Dialect>,
    },
    /// `CVR trid recommended minimum download url info`.
    Cvr { trid: TrId, info: CvrInfo },
    /// `INF trid MD5` (MSNP2–7).
    Inf { trid: TrId },
    /// `USR trid TWN S policy`: the string the client copies into its Passport request.
    UsrTwnPolicy {
        trid: TrId,
        /// Unix time the policy was issued (`ct=`).
        issued_at: u64,
        /// Random value that makes each policy unique (`tpf=`).
        nonce: u128,
    },
    /// `USR trid MD5 S salt`.
    UsrMd5Salt { trid: TrId, salt: String },
    /// Notification login success: `USR trid OK email nick [verified [0]]` by dialect.
    UsrOk {
        trid: TrId,
        email: String,
        nick: String,
        verified: bool,
    },
    /// Switchboard login success: `USR trid OK email nick`.
    SbUsrOk {
        trid: TrId,
        email: String,
        nick: String,
    },
    /// `XFR trid NS host:port ...` (shape by dialect): go to this notification server.
    XfrNs {
        trid: TrId,
        ns_addr: String,
        dispatch_addr: String,
    },
    /// `XFR trid SB host:port CKI cookie`.
    XfrSb {
        trid: TrId,
        sb_addr: String,
        cookie: String,
    },
    /// The whole answer to `SYN` for the dialect: `SYN` line, then (unless
    /// `unchanged`) the settings, phones, groups and contacts.
    Sync {
        trid: TrId,
        list: Box<ContactList>,
        phones: Vec<(PhoneKind, String)>,
        /// Phone numbers contacts share with the user, by contact email (sent as
        /// `BPR` after forward-list entries, MSNP5+).
        contact_phones: BTreeMap<String, Vec<(PhoneKind, String)>>,
        /// The user's own friendly name (`PRP MFN` in MSNP10+).
        nick: String,
        /// The client already has this version: send only the `SYN` line.
        unchanged: bool,
    },
    /// `CHG trid STATUS [caps [msnobj]]`: echo of the client's own change.
    Chg {
        trid: TrId,
        status: Status,
        capabilities: u64,
        msn_object: Option<String>,
    },
    /// `ILN trid STATUS email nick [caps [msnobj]]`: initial presence after the first `CHG`.
    Iln { trid: TrId, presence: PresenceInfo },
    /// `NLN STATUS email nick [caps [msnobj]]`: a watched user changed status.
    Nln { presence: PresenceInfo },
    /// `FLN email`: a watched user went offline.
    Fln { email: String },
    /// Answer to an `ADD` (trid > 0), or an async `ADD 0 RL ...` ("added you").
    Added {
        trid: TrId,
        list: List,
        version: u32,
        email: String,
        nick: String,
        group: Option<u32>,
    },
    /// Answer to a `REM`, or an async `REM 0 RL ...` (someone removed you).
    Removed {
        trid: TrId,
        list: List,
        version: u32,
        email: String,
        group: Option<u32>,
    },
    /// `ADG trid version name id 0`.
    GroupAdded {
        trid: TrId,
        version: u32,
        group: Group,
    },
    /// `RMG trid version id`.
    GroupRemoved {
        trid: TrId,
        version: u32,
        group: u32,
    },
    /// `REG trid version id name 0`.
    GroupRenamed {
        trid: TrId,
        version: u32,
        group: Group,
    },
    /// `REA trid version email nick`.
    Rea {
        trid: TrId,
        version: u32,
        email: String,
        nick: String,
    },
    /// `BLP trid version AL|BL`.
    Blp {
        trid: TrId,
        version: u32,
        privacy: Privacy,
    },
    /// `GTC trid version A|N`.
    Gtc {
        trid: TrId,
        version: u32,
        prompt: NewContactPrompt,
    },
    /// `PRP trid version KIND value`.
    Prp {
        trid: TrId,
        version: u32,
        kind: PhoneKind,
        value: Option<String>,
    },
    /// `PRP trid MFN nick` (MSNP10+): the own friendly name was changed.
    PrpNick { trid: TrId, nick: String },
    /// `RNG session-id host:port CKI cookie caller-email caller-nick`.
    Rng {
        session_id: String,
        sb_addr: String,
        cookie: String,
        caller_email: String,
        caller_nick: String,
    },
    /// `CHL 0 challenge`.
    Chl { challenge: String },
    /// `QRY trid`: the challenge answer was right.
    QryOk { trid: TrId },
    /// `QNG [seconds]` (seconds from MSNP9).
    Qng { next_ping_seconds: u32 },
    /// `OUT [reason]`.
    Out { reason: Option<OutReason> },
    /// `NOT length` + a `<NOTIFICATION>` document (MSNP5+): an alert.
    Not { payload: Bytes },
    /// `MSG sender sender-nick length` + payload (notification messages use
    /// `Hotmail Hotmail`; switchboard messages the sender's email and nick).
    Msg {
        sender: String,
        sender_nick: String,
        payload: Bytes,
    },
    /// `CAL trid RINGING session-id`.
    CalRinging { trid: TrId, session_id: String },
    /// `JOI email nick [caps]`: someone joined the switchboard.
    Joi {
        email: String,
        nick: String,
        capabilities: u64,
    },
    /// `IRO trid index total email nick [caps]`: who is already in the room.
    Iro {
        trid: TrId,
        index: u32,
        total: u32,
        email: String,
        nick: String,
        capabilities: u64,
    },
    /// `ANS trid OK`.
    AnsOk { trid: TrId },
    /// `ACK trid`.
    Ack { trid: TrId },
    /// `NAK trid`.
    Nak { trid: TrId },
    /// `BYE email [1]`: someone left the switchboard (`1` = idle timeout).
    Bye { email: String, idle: bool },
    /// `GCF trid filename length` + payload (MSNP11–12): a config file.
    Gcf {
        trid: TrId,
        file: String,
        payload: Bytes,
    },
    /// `UUX trid 0`: the personal message was accepted.
    UuxOk { trid: TrId },
    /// `UBX email length` + payload (MSNP11+): a watched user's personal message.
    Ubx { email: String, payload: Bytes },
}
