//! Operator notices (`msnpd broadcast`) as each dialect shows them: the
//! maintenance warning as a `MSG Hotmail Hotmail` system message (every
//! dialect), free text as a `NOT` alert (MSNP5+). See
//! `protocol-spec/commands/NOT.md`.

use super::NsSession;
use crate::core::events::Notice;
use crate::proto::{Reply, notices};
use crate::server::outbox::Outbox;

impl NsSession {
    /// Shows `notice` to a logged-in user; sessions not logged in ignore it.
    pub(super) fn on_notice(&mut self, notice: &Notice, out: &mut Outbox) {
        let Some(user) = &self.user else {
            return;
        };
        if let Some(minutes) = notice.maintenance_minutes {
            out.send(Reply::Msg {
                sender: "Hotmail".into(),
                sender_nick: "Hotmail".into(),
                payload: notices::maintenance(minutes),
            });
        }
        if let Some(text) = &notice.text
            && out.dialect().has_alerts()
        {
            out.send(Reply::Not {
                payload: notices::alert(notice.id, &user.account.email, text),
            });
        }
    }
}
