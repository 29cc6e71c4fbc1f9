//! Presence: `CHG` (with `ILN` after the first one, and the delivery of queued
//! offline messages once the user is visible online), and turning other users'
//! presence events into `NLN`/`FLN` lines (each followed, where the dialect has
//! them, by the contact's personal message: see `personal.rs`).

use std::sync::Arc;

use super::NsSession;
use crate::core::events::{Broadcast, PresenceView};
use crate::core::lists::List;
use crate::core::presence::Status;
use crate::proto::reply::PresenceInfo;
use crate::proto::{Reply, TrId};
use crate::server::offline;
use crate::server::outbox::Outbox;

impl NsSession {
    /// `CHG trid STATUS [caps [msnobj]]`.
    pub(super) fn chg(
        &mut self,
        trid: TrId,
        status: Status,
        capabilities: Option<u64>,
        msn_object: Option<String>,
        out: &mut Outbox,
    ) {
        let Some(user) = self.user.as_mut() else {
            return;
        };
        let capabilities = capabilities.unwrap_or(0);
        let msn_object = msn_object.filter(|o| o != "0");
        let before = user.handle.with_shared(|s| s.clone());
        user.handle.update_shared(|s| {
            s.status = status;
            s.capabilities = capabilities;
            s.msn_object = msn_object.clone();
        });
        out.send(Reply::Chg {
            trid,
            status,
            capabilities,
            msn_object,
        });
        let first = !user.online;
        user.online = true;
        if first {
            let me = user.account.email.clone();
            let forward: Vec<String> = user
                .list
                .contacts
                .iter()
                .filter(|c| c.lists.contains(List::Forward))
                .map(|c| c.email.clone())
                .collect();
            for contact in forward {
                if let Some(view) = self.ctx.router.presence_for(&contact, &me)
                    && view.status.is_visible_online()
                {
                    out.send(Reply::Iln {
                        trid,
                        presence: presence_info(view.clone()),
                    });
                    self.after_presence_line(&view, out);
                }
            }
        }
        if let Some(user) = self.user.as_ref() {
            self.notify_watchers(&user.account, &user.handle, &before);
        }
        if status.is_visible_online()
            && let Some(user) = self.user.as_mut()
            && std::mem::take(&mut user.offline_pending)
        {
            offline::deliver_queued(Arc::clone(&self.ctx), user.account.clone());
        }
    }

    /// Messages were queued for this user: deliver them now if they are
    /// visible online, else at their next `CHG` to a visible status.
    pub(super) fn on_offline_queued(&mut self) {
        let Some(user) = self.user.as_mut() else {
            return;
        };
        let visible = user.online && user.handle.with_shared(|s| s.status.is_visible_online());
        if visible {
            offline::deliver_queued(Arc::clone(&self.ctx), user.account.clone());
        } else {
            user.offline_pending = true;
        }
    }

    /// A watched contact's presence changed. The line is the one every
    /// watcher of this dialect gets: encoded once, shared, not copied.
    pub(super) fn on_presence(&mut self, broadcast: &Broadcast<PresenceView>, out: &mut Outbox) {
        let view = &broadcast.content;
        let Some(user) = self.user.as_ref() else {
            return;
        };
        if !user.online || !user.watches(&view.email) {
            return;
        }
        if view.status.is_visible_online() {
            out.send_cached(&broadcast.wire, || Reply::Nln {
                presence: presence_info(view.clone()),
            });
        } else {
            out.send_cached(&broadcast.wire, || Reply::Fln {
                email: view.email.clone(),
            });
        }
        self.after_presence_line(view, out);
    }
}

/// The wire-level presence record for a view.
pub(super) fn presence_info(view: PresenceView) -> PresenceInfo {
    PresenceInfo {
        status: view.status,
        email: view.email,
        nick: view.nick,
        capabilities: view.capabilities,
        msn_object: view.msn_object,
    }
}
