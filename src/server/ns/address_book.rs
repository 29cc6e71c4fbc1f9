//! The MSNP10–12 ("GUID") side of contact-list edits: `ADC` by account name or
//! by contact GUID, mapping a contact GUID back to the account it stands for (for
//! `ADC ... C=` and `REM FL guid`), and `PRP MFN`, which replaces `REA`.
//!
//! msnpd stores no GUIDs: the codec derives a contact's GUID from its account
//! name ([`guid::contact_guid`]), so a GUID is resolved by comparing it with the
//! GUID of each forward-list entry of the session's cached list.

use super::NsSession;
use crate::core::lists::{self, List};
use crate::proto::command::ContactRef;
use crate::proto::{Dialect, ErrorCode, Reply, TrId, guid};
use crate::server::outbox::Outbox;

impl NsSession {
    /// The account a list edit names: in GUID dialects a forward-list entry is
    /// named by its contact GUID (a token without `@`), which maps to the entry it
    /// was derived from, or to `None` when no forward-list entry has it. Account
    /// names are lower-cased.
    pub(super) fn contact_email(
        &self,
        list: List,
        token: &str,
        dialect: Dialect,
    ) -> Option<String> {
        if !(dialect.has_guids() && list == List::Forward) || token.contains('@') {
            return Some(token.to_ascii_lowercase());
        }
        self.forward_contact_by_guid(token)
    }

    /// The forward-list entry whose derived GUID is `contact_guid`.
    fn forward_contact_by_guid(&self, contact_guid: &str) -> Option<String> {
        let user = self.user.as_ref()?;
        user.list
            .contacts
            .iter()
            .filter(|c| c.lists.contains(List::Forward))
            .find(|c| guid::contact_guid(&c.email).eq_ignore_ascii_case(contact_guid))
            .map(|c| c.email.clone())
    }

    /// `ADC trid LIST N=email [F=nick] [group]` or `ADC trid FL C=guid group`.
    ///
    /// The `F=` nick is not stored (contacts are shown with their own friendly
    /// name); a group is only meaningful for `FL`. An unknown contact GUID is `208`.
    pub(super) async fn adc(
        &mut self,
        trid: TrId,
        list: List,
        contact: ContactRef,
        group: Option<u32>,
        out: &mut Outbox,
    ) {
        if self.user.is_none() {
            return;
        }
        if !list.client_editable() {
            out.respond(trid).error(ErrorCode::InvalidParameter);
            return;
        }
        let email = match contact {
            ContactRef::Email(email) => {
                let email = email.to_ascii_lowercase();
                if !lists::is_valid_email(&email) {
                    out.respond(trid).error(ErrorCode::InvalidParameter);
                    return;
                }
                email
            }
            ContactRef::Guid(contact_guid) => match self.forward_contact_by_guid(&contact_guid) {
                Some(email) => email,
                None => {
                    out.respond(trid).error(ErrorCode::InvalidUser);
                    return;
                }
            },
        };
        let group = group.filter(|_| list == List::Forward);
        self.add_checked(trid, list, &email, group, out).await;
    }

    /// `PRP trid MFN nick` (MSNP10+): change the own friendly name; watchers see
    /// the new name in their next presence line.
    pub(super) async fn prp_nick(&mut self, trid: TrId, nick: &str, out: &mut Outbox) {
        let Some(user) = self.user.as_ref() else {
            return;
        };
        if nick.is_empty() || nick.len() > lists::MAX_NICK_BYTES {
            out.respond(trid).error(ErrorCode::NicknameChangeIllegal);
            return;
        }
        if let Err(error) = self.ctx.store.set_nick(user.account.id, nick).await {
            let code = super::lists::store_error_code(&error, out.dialect());
            out.respond(trid).error(code);
            return;
        }
        let Some(user) = self.user.as_mut() else {
            return;
        };
        user.account.nick = nick.to_owned();
        let before = user.handle.with_shared(|s| s.clone());
        user.handle.update_shared(|s| s.nick = nick.to_owned());
        out.send(Reply::PrpNick {
            trid,
            nick: nick.to_owned(),
        });
        if let Some(user) = self.user.as_ref() {
            self.notify_watchers(&user.account, &user.handle, &before);
        }
    }
}
