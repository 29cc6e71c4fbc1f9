//! `GCF` (MSNP11–12): the client asks for a server configuration file. The only
//! one real clients ask for is `Shields.xml`; it is answered with
//! `GCF trid Shields.xml length` + the XML (see [`payloads::shields`]).

use super::NsSession;
use crate::proto::payloads;
use crate::proto::{ErrorCode, Reply, TrId};
use crate::server::outbox::Outbox;

impl NsSession {
    /// `GCF trid filename`: `Shields.xml` (any case), else `201`.
    pub(super) fn gcf(&mut self, trid: TrId, file: &str, out: &mut Outbox) {
        if !file.eq_ignore_ascii_case(payloads::SHIELDS_FILE) {
            out.respond(trid).error(ErrorCode::InvalidParameter);
            return;
        }
        out.send(Reply::Gcf {
            trid,
            file: file.to_owned(),
            payload: payloads::shields(),
        });
    }
}
