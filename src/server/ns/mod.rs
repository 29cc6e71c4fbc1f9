//! The notification role (and the dispatch role, which is its login prefix): the
//! session state of one client and the exhaustive `match` over its commands.
//! Sub-modules hold the handlers by area.

mod address_book;
mod challenge;
mod config_files;
mod lists;
mod login;
mod notice;
mod personal;
mod presence;
mod transfer;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;

use super::connection::Session;
use super::context::ServerContext;
use super::gate::{ConnRole, Stage};
use super::outbox::Outbox;
use crate::core::event_queue::EventSender;
use crate::core::events::{Event, KickReason};
use crate::core::lists::{List, ListSet};
use crate::core::model::{Account, ContactList};
use crate::core::registry::SessionHandle;
use crate::proto::reply::OutReason;
use crate::proto::{Command, Dialect, Reply};

/// A logged-in user's part of the session.
#[derive(Debug)]
struct LoggedIn {
    account: Account,
    handle: SessionHandle,
    /// The contact list as last loaded or edited (authoritative copy is the store).
    list: ContactList,
    /// `list` by contact email: the same map as in the shared state.
    lists: Arc<HashMap<String, ListSet>>,
    /// Whether the first `CHG` (which triggers `ILN`s) has happened.
    online: bool,
    /// Whether queued offline messages may be waiting: checked (and delivered)
    /// once the user is visible online.
    offline_pending: bool,
}

impl LoggedIn {
    /// Whether `email` is on this user's forward list (a map lookup).
    fn watches(&self, email: &str) -> bool {
        self.lists
            .get(email)
            .is_some_and(|set| set.contains(List::Forward))
    }
}

/// One notification (or dispatch) session.
#[derive(Debug)]
pub struct NsSession {
    ctx: Arc<ServerContext>,
    role: ConnRole,
    /// Dispatch only: `(notification address, own address)` for `XFR NS`.
    dispatch: Option<(String, String)>,
    peer: SocketAddr,
    dialect: Option<Dialect>,
    /// The account named in `USR ... I`.
    pending_login: Option<String>,
    user: Option<LoggedIn>,
    /// Outstanding `CHL` challenge.
    challenge: Option<String>,
    /// Contacts this client has been shown online (by `ILN` or `NLN`) since it
    /// last saw them offline: their personal message (`UBX`) follows only the
    /// first such line, later ones come with `UUX` changes.
    shown_online: HashSet<String>,
    events_tx: EventSender,
}

impl NsSession {
    /// A notification session. `events_tx` feeds the connection's outbox
    /// (and [`EventSender::close`] on it ends the connection).
    pub fn notification(ctx: Arc<ServerContext>, peer: SocketAddr, events_tx: EventSender) -> Self {
        NsSession {
            ctx,
            role: ConnRole::Notification,
            dispatch: None,
            peer,
            dialect: None,
            pending_login: None,
            user: None,
            challenge: None,
            shown_online: HashSet::new(),
            events_tx,
        }
    }

    /// A dispatch session that sends clients to `ns_addr` (advertising `own_addr`).
    pub fn dispatch(
        ctx: Arc<ServerContext>,
        peer: SocketAddr,
        ns_addr: String,
        own_addr: String,
        events_tx: EventSender,
    ) -> Self {
        let mut session = Self::notification(ctx, peer, events_tx);
        session.role = ConnRole::Dispatch;
        session.dispatch = Some((ns_addr, own_addr));
        session
    }
}

impl Session for NsSession {
    fn role(&self) -> ConnRole {
        self.role
    }

    fn stage(&self) -> Stage {
        if self.user.is_some() {
            Stage::Authenticated
        } else if self.dialect.is_some() {
            Stage::Negotiated
        } else {
            Stage::Connected
        }
    }

    fn dialect(&self) -> Option<Dialect> {
        self.dialect
    }

    async fn handle(&mut self, command: Command, out: &mut Outbox) {
        match command {
            Command::Ver { trid, offered } => self.ver(trid, &offered, out),
            Command::Cvr { trid, args } => self.cvr(trid, &args, out),
            Command::Inf { trid } => out.send(Reply::Inf { trid }),
            Command::Usr { trid, args } => self.usr(trid, args, out).await,
            Command::Syn { trid, version } => self.syn(trid, &version, out).await,
            Command::Chg {
                trid,
                status,
                capabilities,
                msn_object,
            } => self.chg(trid, status, capabilities, msn_object, out),
            Command::Add {
                trid,
                list,
                email,
                nick: _,
                group,
            } => self.add(trid, list, &email, group, out).await,
            Command::Adc {
                trid,
                list,
                contact,
                nick: _,
                group,
            } => self.adc(trid, list, contact, group, out).await,
            Command::Rem {
                trid,
                list,
                email,
                group,
            } => self.rem(trid, list, &email, group, out).await,
            Command::Adg { trid, name } => self.adg(trid, &name, out).await,
            Command::Rmg { trid, group } => self.rmg(trid, group, out).await,
            Command::Reg { trid, group, name } => self.reg(trid, group, &name, out).await,
            Command::Rea { trid, email, nick } => self.rea(trid, &email, &nick, out).await,
            Command::Blp { trid, privacy } => self.blp(trid, privacy, out).await,
            Command::Gtc { trid, prompt } => self.gtc(trid, prompt, out).await,
            Command::Prp { trid, kind, value } => self.prp(trid, kind, value, out).await,
            Command::PrpNick { trid, nick } => self.prp_nick(trid, &nick, out).await,
            Command::Xfr { trid, target: _ } => self.xfr_sb(trid, out),
            Command::Qry {
                trid,
                product_id,
                response,
            } => self.qry(trid, &product_id, &response, out),
            Command::Png => out.send(Reply::Qng {
                next_ping_seconds: self.ctx.config.get().protocol.ping_interval_secs,
            }),
            Command::Out => out.close(),
            Command::Gcf { trid, file } => self.gcf(trid, &file, out),
            Command::Uux { trid, payload } => self.uux(trid, payload, out),
            // Switchboard verbs never pass the gate on this role.
            Command::Ans { trid, .. } | Command::Cal { trid, .. } | Command::Msg { trid, .. } => {
                out.respond(trid)
                    .error(crate::proto::ErrorCode::SyntaxError)
            }
        }
    }

    async fn on_event(&mut self, event: Event, out: &mut Outbox) {
        match event {
            Event::Kick(reason) => {
                out.send(Reply::Out {
                    reason: Some(match reason {
                        // A kick looks like a login elsewhere: clients then
                        // stay signed out instead of reconnecting at once.
                        KickReason::OtherLogin | KickReason::Admin => OutReason::OtherLogin,
                        KickReason::Shutdown => OutReason::ServerShutdown,
                    }),
                });
                out.close();
            }
            Event::Presence(broadcast) => self.on_presence(&broadcast, out),
            Event::Notice(notice) => self.on_notice(&notice, out),
            Event::PersonalMessage(broadcast) => self.on_personal_message(&broadcast, out),
            Event::AddedToReverseList {
                version,
                email,
                nick,
            } => self.on_reverse_added(version, email, nick, out).await,
            Event::RemovedFromReverseList { version, email } => {
                self.on_reverse_removed(version, email, out).await
            }
            Event::Ring {
                session_id,
                sb_addr,
                caller_email,
                caller_nick,
            } => self.on_ring(session_id, sb_addr, caller_email, caller_nick, out),
            Event::OfflineQueued => self.on_offline_queued(),
            // Switchboard events never reach a notification session.
            Event::Joined { .. }
            | Event::Message { .. }
            | Event::MessageOutcome { .. }
            | Event::Left { .. } => {}
        }
    }

    fn on_shutdown(&mut self, out: &mut Outbox) {
        if self.dialect.is_some() {
            out.send(Reply::Out {
                reason: Some(OutReason::ServerShutdown),
            });
        }
    }

    async fn on_close(&mut self) {
        self.logout();
    }
}
