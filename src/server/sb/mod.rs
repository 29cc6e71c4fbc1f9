//! The switchboard role: joining a room with a cookie (`USR` for the creator,
//! `ANS` for the invited), inviting (`CAL`), relaying `MSG` with its
//! acknowledgement modes, and leaving (`OUT`, which the others see as `BYE`).

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::connection::Session;
use super::context::ServerContext;
use super::gate::{ConnRole, Stage};
use super::outbox::Outbox;
use crate::core::events::Event;
use crate::core::lists::is_valid_email;
use crate::core::switchboard::{CookiePurpose, Participant, RoomHandle};
use crate::proto::command::{AckMode, UsrArgs};
use crate::proto::{Command, Dialect, ErrorCode, Reply, TrId};
use crate::route::Reachability;
use crate::store::StoreError;

/// The joined user of a switchboard connection.
#[derive(Debug)]
struct Member {
    email: String,
    nick: String,
    room: RoomHandle,
}

/// One switchboard connection.
#[derive(Debug)]
pub struct SbSession {
    ctx: Arc<ServerContext>,
    peer: SocketAddr,
    dialect: Option<Dialect>,
    member: Option<Member>,
    events_tx: mpsc::Sender<Event>,
    close: CancellationToken,
}

impl SbSession {
    /// A switchboard session feeding `events_tx` (the connection's outbox).
    pub fn new(
        ctx: Arc<ServerContext>,
        peer: SocketAddr,
        events_tx: mpsc::Sender<Event>,
        close: CancellationToken,
    ) -> Self {
        SbSession {
            ctx,
            peer,
            dialect: None,
            member: None,
            events_tx,
            close,
        }
    }

    /// This connection's user as a room member, with the client capabilities
    /// their notification session announced in `CHG` (sent in `JOI`/`IRO` from
    /// MSNP12; `0` when they are not online there).
    fn participant(&self, email: &str, nick: &str) -> Participant {
        let capabilities = self
            .ctx
            .router
            .session(email)
            .map_or(0, |handle| handle.with_shared(|s| s.capabilities));
        Participant {
            email: email.to_owned(),
            nick: nick.to_owned(),
            capabilities,
            tx: self.events_tx.clone(),
            close: self.close.clone(),
        }
    }

    /// Redeems a cookie and fixes the dialect it carries; `911` and close if bad.
    fn admit(
        &mut self,
        trid: TrId,
        email: &str,
        cookie: &str,
        room: Option<u64>,
        out: &mut Outbox,
    ) -> Option<(String, CookiePurpose)> {
        match self.ctx.hub.redeem(email, cookie, room) {
            Ok(admission) => {
                let dialect = Dialect::new(admission.protocol).unwrap_or(Dialect::MSNP8);
                self.dialect = Some(dialect);
                out.set_dialect(dialect);
                Some((admission.nick, admission.purpose))
            }
            Err(_) => {
                tracing::info!(peer = %self.peer, "switchboard cookie refused");
                out.respond(trid).error(ErrorCode::AuthFailed);
                out.close();
                None
            }
        }
    }

    /// `USR trid email cookie`: the creator opens a new room.
    async fn usr(&mut self, trid: TrId, email: &str, cookie: &str, out: &mut Outbox) {
        let email = email.to_ascii_lowercase();
        let Some((nick, _)) = self.admit(trid, &email, cookie, None, out) else {
            return;
        };
        let room = self.ctx.hub.create_room();
        if room.join(self.participant(&email, &nick)).await.is_err() {
            out.respond(trid).error(ErrorCode::SwitchboardFailed);
            out.close();
            return;
        }
        out.send(Reply::SbUsrOk {
            trid,
            email: email.clone(),
            nick: nick.clone(),
        });
        self.member = Some(Member { email, nick, room });
    }

    /// `ANS trid email cookie session-id`: an invited user joins.
    async fn ans(
        &mut self,
        trid: TrId,
        email: &str,
        cookie: &str,
        session_id: &str,
        out: &mut Outbox,
    ) {
        let email = email.to_ascii_lowercase();
        let Ok(room_id) = session_id.parse::<u64>() else {
            out.respond(trid).error(ErrorCode::AuthFailed);
            out.close();
            return;
        };
        let Some((nick, _)) = self.admit(trid, &email, cookie, Some(room_id), out) else {
            return;
        };
        let Some(room) = self.ctx.hub.room(room_id) else {
            out.respond(trid).error(ErrorCode::SwitchboardFailed);
            out.close();
            return;
        };
        let others = match room.join(self.participant(&email, &nick)).await {
            Ok(others) => others,
            Err(_) => {
                out.respond(trid).error(ErrorCode::SwitchboardFailed);
                out.close();
                return;
            }
        };
        let total = u32::try_from(others.len()).unwrap_or(u32::MAX);
        for (index, other) in others.into_iter().enumerate() {
            out.send(Reply::Iro {
                trid,
                index: u32::try_from(index + 1).unwrap_or(u32::MAX),
                total,
                email: other.email,
                nick: other.nick,
                capabilities: other.capabilities,
            });
        }
        out.send(Reply::AnsOk { trid });
        self.member = Some(Member { email, nick, room });
    }

    /// `CAL trid email`: ring someone into this room.
    async fn cal(&mut self, trid: TrId, callee: &str, out: &mut Outbox) {
        let Some(member) = self.member.as_ref() else {
            return;
        };
        let callee = callee.to_ascii_lowercase();
        if !is_valid_email(&callee) {
            out.respond(trid).error(ErrorCode::InvalidUser);
            return;
        }
        if member.room.roster().await.contains(&callee) {
            out.respond(trid).error(ErrorCode::AlreadyInList);
            return;
        }
        match self.ctx.router.reachable_by(&callee, &member.email) {
            Reachability::Reachable => {}
            Reachability::Refused => {
                out.respond(trid).error(ErrorCode::NotOnline);
                return;
            }
            Reachability::Offline => {
                let code = match self.ctx.store.account(&callee).await {
                    Err(StoreError::UnknownUser) => ErrorCode::InvalidUser,
                    _ => ErrorCode::NotOnline,
                };
                out.respond(trid).error(code);
                return;
            }
        }
        let session_id = member.room.id().to_string();
        let ringing = self.ctx.router.deliver(
            &callee,
            Event::Ring {
                session_id: session_id.clone(),
                sb_addr: self.ctx.sb_addr.clone(),
                caller_email: member.email.clone(),
                caller_nick: member.nick.clone(),
            },
        );
        if ringing {
            out.send(Reply::CalRinging { trid, session_id });
        } else {
            out.respond(trid).error(ErrorCode::NotOnline);
        }
    }

    /// `MSG trid mode length`: relay and acknowledge as the mode asks.
    async fn msg(&mut self, trid: TrId, ack: AckMode, payload: bytes::Bytes, out: &mut Outbox) {
        let Some(member) = self.member.as_ref() else {
            return;
        };
        let delivered = member.room.send(&member.email, payload).await;
        match (ack, delivered > 0) {
            (AckMode::Acknowledged | AckMode::Data, true) => out.send(Reply::Ack { trid }),
            (AckMode::Acknowledged | AckMode::Data | AckMode::NakOnly, false) => {
                out.send(Reply::Nak { trid })
            }
            (AckMode::NakOnly | AckMode::Unacknowledged, _) => {}
        }
    }

    async fn leave(&mut self) {
        if let Some(member) = self.member.take() {
            member.room.leave(&member.email, false).await;
        }
    }
}

impl Session for SbSession {
    fn role(&self) -> ConnRole {
        ConnRole::Switchboard
    }

    fn stage(&self) -> Stage {
        if self.member.is_some() {
            Stage::Authenticated
        } else {
            Stage::Connected
        }
    }

    fn dialect(&self) -> Option<Dialect> {
        self.dialect
    }

    async fn handle(&mut self, command: Command, out: &mut Outbox) {
        match command {
            Command::Usr {
                trid,
                args: UsrArgs::Switchboard { email, cookie },
            } => self.usr(trid, &email, &cookie, out).await,
            Command::Ans {
                trid,
                email,
                cookie,
                session_id,
            } => self.ans(trid, &email, &cookie, &session_id, out).await,
            Command::Cal { trid, email } => self.cal(trid, &email, out).await,
            Command::Msg { trid, ack, payload } => self.msg(trid, ack, payload, out).await,
            Command::Out => {
                self.leave().await;
                out.close();
            }
            // Notification verbs (and NS-style USR) are refused by the gate or here.
            Command::Usr { trid, .. } => {
                out.respond(trid).error(ErrorCode::AuthFailed);
                out.close();
            }
            Command::Png => {}
            Command::Ver { trid, .. }
            | Command::Cvr { trid, .. }
            | Command::Inf { trid }
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
            | Command::Gcf { trid, .. }
            | Command::Uux { trid, .. } => out.respond(trid).error(ErrorCode::SyntaxError),
        }
    }

    async fn on_event(&mut self, event: Event, out: &mut Outbox) {
        match event {
            Event::Joined {
                email,
                nick,
                capabilities,
            } => out.send(Reply::Joi {
                email,
                nick,
                capabilities,
            }),
            Event::Message {
                email,
                nick,
                payload,
            } => out.send(Reply::Msg {
                sender: email,
                sender_nick: nick,
                payload,
            }),
            Event::Left { email, idle } => out.send(Reply::Bye { email, idle }),
            Event::Kick(_) => out.close(),
            Event::Presence(_)
            | Event::PersonalMessage { .. }
            | Event::AddedToReverseList { .. }
            | Event::RemovedFromReverseList { .. }
            | Event::Ring { .. } => {}
        }
    }

    fn on_shutdown(&mut self, _out: &mut Outbox) {}

    async fn on_close(&mut self) {
        self.leave().await;
    }
}
