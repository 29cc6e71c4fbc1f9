//! Switchboard hand-offs on the notification side: `XFR SB` (a cookie to create
//! a room) and `RNG` (an invitation, with a cookie to join the caller's room).

use super::NsSession;
use crate::core::presence::Status;
use crate::core::switchboard::CookiePurpose;
use crate::proto::{ErrorCode, Reply, TrId};
use crate::server::outbox::Outbox;

impl NsSession {
    /// `XFR trid SB`: a cookie for a new switchboard (`913` while hidden).
    pub(super) fn xfr_sb(&mut self, trid: TrId, out: &mut Outbox) {
        let Some(user) = self.user.as_ref() else {
            return;
        };
        if user.handle.with_shared(|s| s.status == Status::Hidden) {
            out.respond(trid).error(ErrorCode::NotAllowedWhenOffline);
            return;
        }
        let cookie = self.ctx.hub.issue_cookie(
            &user.account.email,
            &user.account.nick,
            out.dialect().version(),
            CookiePurpose::Create,
        );
        out.send(Reply::XfrSb {
            trid,
            sb_addr: self.ctx.sb_addr.clone(),
            cookie,
        });
    }

    /// An invitation from a switchboard: issue this user's join cookie and ring.
    pub(super) fn on_ring(
        &mut self,
        session_id: String,
        sb_addr: String,
        caller_email: String,
        caller_nick: String,
        out: &mut Outbox,
    ) {
        let Some(user) = self.user.as_ref() else {
            return;
        };
        let Ok(room) = session_id.parse::<u64>() else {
            return;
        };
        let cookie = self.ctx.hub.issue_cookie(
            &user.account.email,
            &user.account.nick,
            out.dialect().version(),
            CookiePurpose::Join { room },
        );
        out.send(Reply::Rng {
            session_id,
            sb_addr,
            cookie,
            caller_email,
            caller_nick,
        });
    }
}
