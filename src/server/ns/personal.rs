//! Personal messages (MSNP11+): `UUX` sets the user's personal message and
//! current media, which watchers who can see the user online receive as
//! `UBX email length` + payload — right after the user's `ILN`/first `NLN`, and
//! again whenever it changes. Dialects without personal messages never get `UBX`.

use std::sync::Arc;

use bytes::Bytes;

use super::NsSession;
use crate::core::events::{Broadcast, Event, PersonalMessage, PresenceView};
use crate::core::fan_out;
use crate::proto::{ErrorCode, Reply, TrId};
use crate::server::outbox::Outbox;

/// What an empty `UUX` clears the personal message to, as watchers are told.
const EMPTY_PERSONAL_MESSAGE: &[u8] = b"<Data><PSM></PSM><CurrentMedia></CurrentMedia></Data>";

impl NsSession {
    /// `UUX trid length` + payload: store the payload (UTF-8 XML, kept as sent;
    /// empty clears it), answer `UUX trid 0` and push it to every watcher who can
    /// see this user online.
    pub(super) fn uux(&mut self, trid: TrId, payload: Bytes, out: &mut Outbox) {
        let Some(user) = self.user.as_ref() else {
            return;
        };
        if std::str::from_utf8(&payload).is_err() {
            out.respond(trid).error(ErrorCode::InvalidParameter);
            return;
        }
        let stored = (!payload.is_empty()).then(|| payload.clone());
        let after = user.handle.update_shared(|s| {
            s.personal_message = stored;
            s.clone()
        });
        out.send(Reply::UuxOk { trid });
        let payload = if payload.is_empty() {
            Bytes::from_static(EMPTY_PERSONAL_MESSAGE)
        } else {
            payload
        };
        let broadcast = Broadcast::new(PersonalMessage {
            email: user.account.email.clone(),
            payload,
        });
        for watcher in fan_out::visible_watchers(&after) {
            self.ctx
                .router
                .deliver(watcher, Event::PersonalMessage(Arc::clone(&broadcast)));
        }
    }

    /// A watched contact changed their personal message.
    pub(super) fn on_personal_message(
        &mut self,
        broadcast: &Broadcast<PersonalMessage>,
        out: &mut Outbox,
    ) {
        let Some(user) = self.user.as_ref() else {
            return;
        };
        let message = &broadcast.content;
        if !user.online || !user.watches(&message.email) || !out.dialect().has_personal_message() {
            return;
        }
        out.send_cached(&broadcast.wire, || Reply::Ubx {
            email: message.email.clone(),
            payload: message.payload.clone(),
        });
    }

    /// Records that `view` was just shown to this client (`ILN`/`NLN`/`FLN`) and,
    /// the first time a contact is shown online, sends their personal message.
    pub(super) fn after_presence_line(&mut self, view: &PresenceView, out: &mut Outbox) {
        if !view.status.is_visible_online() {
            self.shown_online.remove(&view.email);
            return;
        }
        // Most presence lines are of contacts already shown online: look
        // before copying the name into the set.
        if self.shown_online.contains(&view.email) {
            return;
        }
        self.shown_online.insert(view.email.clone());
        if !out.dialect().has_personal_message() {
            return;
        }
        if let Some(payload) = view.personal_message.clone() {
            out.send(Reply::Ubx {
                email: view.email.clone(),
                payload,
            });
        }
    }
}
