//! The switchboard role: joining a room with a cookie (`USR` for the creator,
//! `ANS` for the invited, which also hands over offline messages waiting in that
//! room), inviting (`CAL`, which records an offline contact as an absent member
//! when offline messages are on), relaying `MSG` (in `messages.rs`), and leaving
//! (`OUT`, which the others see as `BYE`).

mod messages;

use std::net::SocketAddr;
use std::sync::Arc;

use super::connection::Session;
use super::context::ServerContext;
use super::gate::{ConnRole, Stage};
use super::outbox::Outbox;
use crate::core::event_queue::EventSender;
use crate::core::events::Event;
use crate::core::lists::{allows, is_valid_email};
use crate::core::switchboard::{CookiePurpose, Joined, Participant, RoomError, RoomHandle};
use crate::proto::command::UsrArgs;
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
    events_tx: EventSender,
}

impl SbSession {
    /// A switchboard session feeding `events_tx` (the connection's outbox).
    pub fn new(ctx: Arc<ServerContext>, peer: SocketAddr, events_tx: EventSender) -> Self {
        SbSession {
            ctx,
            peer,
            dialect: None,
            member: None,
            events_tx,
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
        let redeemed = self.ctx.hub.redeem(email, cookie, room);
        crate::obs::metrics().login(crate::obs::LoginMethod::SbCookie, redeemed.is_ok());
        match redeemed {
            Ok(admission) => {
                crate::server::connection::record_user(email);
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
        let Joined { others, delivery } = match room.join(self.participant(&email, &nick)).await {
            Ok(joined) => joined,
            Err(_) => {
                out.respond(trid).error(ErrorCode::SwitchboardFailed);
                out.close();
                return;
            }
        };
        // An offline delivery shows its sender as the first one in the room.
        let mut roster: Vec<(String, String, u64)> = Vec::with_capacity(others.len() + 1);
        if let Some(delivery) = &delivery {
            roster.push((
                delivery.sender_email.clone(),
                delivery.sender_nick.clone(),
                0,
            ));
        }
        roster.extend(
            others
                .into_iter()
                .map(|other| (other.email, other.nick, other.capabilities)),
        );
        let total = u32::try_from(roster.len()).unwrap_or(u32::MAX);
        for (index, (email, nick, capabilities)) in roster.into_iter().enumerate() {
            out.send(Reply::Iro {
                trid,
                index: u32::try_from(index + 1).unwrap_or(u32::MAX),
                total,
                email,
                nick,
                capabilities,
            });
        }
        out.send(Reply::AnsOk { trid });
        if let Some(delivery) = delivery {
            // The stored messages as if just sent, then the sender "leaves":
            // a reply invites them again (CAL), live or offline.
            for message in delivery.messages {
                out.send(Reply::Msg {
                    sender: delivery.sender_email.clone(),
                    sender_nick: message.sender_nick,
                    payload: message.payload,
                });
            }
            out.send(Reply::Bye {
                email: delivery.sender_email,
                idle: false,
            });
            out.confirm_on_write(delivery.receipt);
        }
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
                let code = match self.invite_absent(&callee).await {
                    Ok(()) => {
                        out.send(Reply::CalRinging {
                            trid,
                            session_id: member.room.id().to_string(),
                        });
                        return;
                    }
                    Err(code) => code,
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
            member.room.ringing(&callee).await;
            out.send(Reply::CalRinging { trid, session_id });
        } else {
            out.respond(trid).error(ErrorCode::NotOnline);
        }
    }

    /// `CAL` of a contact who is offline (or hidden): with offline messages on,
    /// an existing account that allows the caller becomes an absent member of
    /// the room (`Ok`); otherwise the error to answer (`208` for no such
    /// account, `217` else, as the original service did).
    async fn invite_absent(&self, callee: &str) -> Result<(), ErrorCode> {
        let Some(member) = self.member.as_ref() else {
            return Err(ErrorCode::NotOnline);
        };
        let account = match self.ctx.store.account(callee).await {
            Ok(account) => account,
            Err(StoreError::UnknownUser) => return Err(ErrorCode::InvalidUser),
            Err(_) => return Err(ErrorCode::NotOnline),
        };
        if !self.ctx.config.get().offline.enabled {
            return Err(ErrorCode::NotOnline);
        }
        let list = match self.ctx.store.contact_list(account.id).await {
            Ok(list) => list,
            Err(error) => {
                tracing::warn!(%error, "store error during CAL of an offline contact");
                return Err(ErrorCode::NotOnline);
            }
        };
        let caller_lists = list
            .contact(&member.email)
            .map(|c| c.lists)
            .unwrap_or_default();
        if !allows(list.privacy, caller_lists) {
            return Err(ErrorCode::NotOnline);
        }
        match member.room.invite_absent(callee).await {
            Ok(()) => Ok(()),
            Err(RoomError::Full) => Err(ErrorCode::SwitchboardFailed),
            Err(_) => Err(ErrorCode::NotOnline),
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

    fn account(&self) -> Option<&str> {
        self.member.as_ref().map(|m| m.email.as_str())
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
                receipt,
            } => {
                out.send(Reply::Msg {
                    sender: email,
                    sender_nick: nick,
                    payload,
                });
                if let Some(receipt) = receipt {
                    out.confirm_on_write(receipt);
                }
            }
            Event::MessageOutcome { trid, delivered } => out.send(if delivered {
                Reply::Ack { trid }
            } else {
                Reply::Nak { trid }
            }),
            Event::Left { email, idle } => out.send(Reply::Bye { email, idle }),
            Event::Kick(_) => out.close(),
            Event::OfflineQueued
            | Event::Presence(_)
            | Event::Notice(_)
            | Event::PersonalMessage(_)
            | Event::AddedToReverseList { .. }
            | Event::RemovedFromReverseList { .. }
            | Event::Ring { .. } => {}
        }
    }

    fn drains_on_shutdown(&self) -> bool {
        true
    }

    fn on_shutdown(&mut self, _out: &mut Outbox) {}

    async fn on_close(&mut self) {
        self.leave().await;
    }
}
