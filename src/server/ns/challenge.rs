//! `CHL`/`QRY`: when challenges are switched on, the server challenges each client
//! after login and checks its answer with the dialect's algorithm; a wrong answer
//! gets `540` and the connection is closed.

use super::NsSession;
use crate::core::challenge;
use crate::proto::{ErrorCode, Reply, TrId};
use crate::server::outbox::Outbox;

impl NsSession {
    /// Sends `CHL 0 challenge` if challenges are on and the dialect has them.
    pub(super) fn send_challenge(&mut self, out: &mut Outbox) {
        if !self.ctx.config.get().protocol.challenges || !out.dialect().has_challenges() {
            return;
        }
        let nonce = challenge::new_challenge();
        out.send(Reply::Chl {
            challenge: nonce.clone(),
        });
        self.challenge = Some(nonce);
    }

    /// `QRY trid product-id 32` + answer.
    pub(super) fn qry(&mut self, trid: TrId, product_id: &str, response: &[u8], out: &mut Outbox) {
        let Some(nonce) = self.challenge.take() else {
            out.respond(trid).error(ErrorCode::NotExpected);
            return;
        };
        let answer = std::str::from_utf8(response).unwrap_or("");
        if challenge::verify_qry(&nonce, product_id, answer, out.dialect().version()) {
            out.send(Reply::QryOk { trid });
        } else {
            tracing::info!(peer = %self.peer, "challenge answer refused");
            out.respond(trid).error(ErrorCode::ChallengeFailed);
            out.close();
        }
    }
}
