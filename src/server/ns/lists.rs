//! Contact lists and settings: `SYN`, `ADD`/`REM` (`REM` also by contact GUID,
//! see `address_book.rs`), groups (`ADG`/`RMG`/`REG`),
//! `REA`, `BLP`, `GTC`, `PRP`, and the reverse-list notifications.

use std::sync::Arc;

use super::NsSession;
use crate::core::events::Event;
use crate::core::lists::{self, List, NewContactPrompt, Privacy};
use crate::core::model::ContactList;
use crate::proto::command::PhoneKind;
use crate::proto::{Dialect, ErrorCode, Reply, TrId};
use crate::server::outbox::Outbox;
use crate::store::StoreError;

/// The numeric error for a store refusal in `dialect`.
pub(super) fn store_error_code(error: &StoreError, dialect: Dialect) -> ErrorCode {
    match error {
        StoreError::UnknownUser if dialect.has_guids() => ErrorCode::InvalidUser,
        StoreError::UnknownUser => ErrorCode::InvalidPrincipal,
        StoreError::AlreadyInList => ErrorCode::AlreadyInList,
        StoreError::NotInList => ErrorCode::NotInList,
        StoreError::InOppositeList => ErrorCode::InOppositeList,
        StoreError::ListFull => ErrorCode::ListFull,
        StoreError::UnknownGroup => ErrorCode::InvalidGroup,
        StoreError::TooManyGroups => ErrorCode::TooManyGroups,
        StoreError::CannotRemoveGroupZero => ErrorCode::CannotRemoveGroupZero,
        StoreError::AlreadyInMode => ErrorCode::AlreadyInMode,
        StoreError::UserExists
        | StoreError::QueueFull { .. }
        | StoreError::BadUrl(_)
        | StoreError::Unavailable(_) => {
            tracing::warn!(%error, "store error");
            ErrorCode::InternalError
        }
    }
}

/// A group name must be non-empty and at most `MAX_GROUP_NAME_BYTES` long.
fn check_group_name(name: &str) -> Result<(), ErrorCode> {
    if name.len() > lists::MAX_GROUP_NAME_BYTES {
        Err(ErrorCode::GroupNameTooLong)
    } else if name.is_empty() {
        Err(ErrorCode::InvalidParameter)
    } else {
        Ok(())
    }
}

impl NsSession {
    fn store_error(&self, trid: TrId, error: StoreError, out: &mut Outbox) {
        let code = store_error_code(&error, out.dialect());
        out.respond(trid).error(code);
    }

    /// Re-reads the contact list from the store into the session and the shared
    /// state, then tells watchers whatever that changed for them.
    async fn reload_list(&mut self) {
        let Some(user) = self.user.as_ref() else {
            return;
        };
        let list = match self.ctx.store.contact_list(user.account.id).await {
            Ok(list) => list,
            Err(error) => {
                tracing::warn!(%error, "could not reload contact list");
                return;
            }
        };
        self.apply_list(list);
    }

    /// Puts `list` into the session and the shared state, then tells watchers
    /// whatever that changed for them.
    fn apply_list(&mut self, list: ContactList) {
        let Some(user) = self.user.as_mut() else {
            return;
        };
        let lists = Arc::new(list.lists_by_contact());
        let before = user.handle.with_shared(|s| s.clone());
        user.handle.update_shared(|s| {
            s.privacy = list.privacy;
            s.lists = Arc::clone(&lists);
        });
        user.list = list;
        user.lists = lists;
        if let Some(user) = self.user.as_ref() {
            self.notify_watchers(&user.account, &user.handle, &before);
        }
    }

    /// `SYN trid version`: the whole list, unless the client has this version.
    pub(super) async fn syn(&mut self, trid: TrId, version: &str, out: &mut Outbox) {
        let Some(user) = self.user.as_ref() else {
            return;
        };
        let email = user.account.email.clone();
        // While the store is unavailable the list stays the session's and the
        // phone numbers are the last known ones (see `LoginSnapshots`).
        let (phones, contact_phones) = match self.ctx.store.login_snapshot(&email).await {
            Ok((snapshot, from_memory)) => {
                if from_memory {
                    tracing::warn!("store unavailable: SYN with the session's list");
                } else {
                    self.apply_list(snapshot.list);
                }
                (snapshot.phones, snapshot.shared_phones)
            }
            Err(StoreError::Unavailable(error)) => {
                tracing::warn!(%error, "store unavailable: SYN with the session's list, no phones");
                Default::default()
            }
            Err(error) => return self.store_error(trid, error, out),
        };
        let contact_phones = if out.dialect().has_phone_numbers() {
            contact_phones
        } else {
            Default::default()
        };
        let Some(user) = self.user.as_ref() else {
            return;
        };
        // Version 0 is what a client without a cached list sends: always send the list.
        let unchanged =
            user.list.version > 0 && version.parse::<u32>().ok() == Some(user.list.version);
        out.send(Reply::Sync {
            trid,
            list: Box::new(user.list.clone()),
            phones,
            contact_phones,
            nick: user.account.nick.clone(),
            unchanged,
        });
    }

    /// `ADD trid LIST email nick [group]`.
    pub(super) async fn add(
        &mut self,
        trid: TrId,
        list: List,
        email: &str,
        group: Option<u32>,
        out: &mut Outbox,
    ) {
        if self.user.is_none() {
            return;
        }
        let email = email.to_ascii_lowercase();
        if !list.client_editable() || !lists::is_valid_email(&email) {
            out.respond(trid).error(ErrorCode::InvalidParameter);
            return;
        }
        let dialect = out.dialect();
        let group = match list {
            List::Forward if dialect.has_groups() => Some(group.unwrap_or(0)),
            _ => None,
        };
        self.add_checked(trid, list, &email, group, out).await;
    }

    /// Adds the (valid, lower-case) `email` to `list` (into `group`, for `FL`),
    /// answers, and tells the contact when they gained a reverse-list entry.
    pub(super) async fn add_checked(
        &mut self,
        trid: TrId,
        list: List,
        email: &str,
        group: Option<u32>,
        out: &mut Outbox,
    ) {
        let Some(user) = self.user.as_ref() else {
            return;
        };
        let (me, my_nick, id) = (
            user.account.email.clone(),
            user.account.nick.clone(),
            user.account.id,
        );
        let change = match self.ctx.store.add_contact(id, list, email, group).await {
            Ok(change) => change,
            Err(error) => return self.store_error(trid, error, out),
        };
        out.send(Reply::Added {
            trid,
            list,
            version: change.version,
            email: change.contact.email.clone(),
            nick: change.contact.nick.clone(),
            group,
        });
        self.reload_list().await;
        if let Some(version) = change.reverse_version {
            self.ctx.router.deliver(
                &change.contact.email,
                Event::AddedToReverseList {
                    version,
                    email: me,
                    nick: my_nick,
                },
            );
        }
    }

    /// `REM trid LIST email [group]`.
    pub(super) async fn rem(
        &mut self,
        trid: TrId,
        list: List,
        email: &str,
        group: Option<u32>,
        out: &mut Outbox,
    ) {
        let Some(email) = self.contact_email(list, email, out.dialect()) else {
            out.respond(trid).error(ErrorCode::NotInList);
            return;
        };
        let Some(user) = self.user.as_ref() else {
            return;
        };
        if !list.client_editable() {
            out.respond(trid).error(ErrorCode::InvalidParameter);
            return;
        }
        let group = group.filter(|_| list == List::Forward && out.dialect().has_groups());
        let (me, id) = (user.account.email.clone(), user.account.id);
        let change = match self.ctx.store.remove_contact(id, list, &email, group).await {
            Ok(change) => change,
            Err(error) => return self.store_error(trid, error, out),
        };
        out.send(Reply::Removed {
            trid,
            list,
            version: change.version,
            email: change.contact.email.clone(),
            group,
        });
        self.reload_list().await;
        if let Some(version) = change.reverse_version {
            self.ctx.router.deliver(
                &change.contact.email,
                Event::RemovedFromReverseList { version, email: me },
            );
        }
    }

    /// Someone put this user on their reverse list (they added us).
    pub(super) async fn on_reverse_added(
        &mut self,
        version: u32,
        email: String,
        nick: String,
        out: &mut Outbox,
    ) {
        if self.user.is_none() {
            return;
        }
        out.send(Reply::Added {
            trid: 0,
            list: List::Reverse,
            version,
            email,
            nick,
            group: None,
        });
        self.reload_list().await;
    }

    /// Someone took this user off their forward list.
    pub(super) async fn on_reverse_removed(
        &mut self,
        version: u32,
        email: String,
        out: &mut Outbox,
    ) {
        if self.user.is_none() {
            return;
        }
        out.send(Reply::Removed {
            trid: 0,
            list: List::Reverse,
            version,
            email,
            group: None,
        });
        self.reload_list().await;
    }

    /// `ADG trid name 0`.
    pub(super) async fn adg(&mut self, trid: TrId, name: &str, out: &mut Outbox) {
        let Some(user) = self.user.as_ref() else {
            return;
        };
        if let Err(code) = check_group_name(name) {
            out.respond(trid).error(code);
            return;
        }
        match self.ctx.store.add_group(user.account.id, name).await {
            Ok((version, group)) => {
                out.send(Reply::GroupAdded {
                    trid,
                    version,
                    group,
                });
                self.reload_list().await;
            }
            Err(error) => self.store_error(trid, error, out),
        }
    }

    /// `RMG trid id`.
    pub(super) async fn rmg(&mut self, trid: TrId, group: u32, out: &mut Outbox) {
        let Some(user) = self.user.as_ref() else {
            return;
        };
        match self.ctx.store.remove_group(user.account.id, group).await {
            Ok(version) => {
                out.send(Reply::GroupRemoved {
                    trid,
                    version,
                    group,
                });
                self.reload_list().await;
            }
            Err(error) => self.store_error(trid, error, out),
        }
    }

    /// `REG trid id name 0`.
    pub(super) async fn reg(&mut self, trid: TrId, group: u32, name: &str, out: &mut Outbox) {
        let Some(user) = self.user.as_ref() else {
            return;
        };
        if let Err(code) = check_group_name(name) {
            out.respond(trid).error(code);
            return;
        }
        match self
            .ctx
            .store
            .rename_group(user.account.id, group, name)
            .await
        {
            Ok(version) => {
                out.send(Reply::GroupRenamed {
                    trid,
                    version,
                    group: crate::core::model::Group {
                        id: group,
                        name: name.to_owned(),
                    },
                });
                self.reload_list().await;
            }
            Err(error) => self.store_error(trid, error, out),
        }
    }

    /// `REA trid email nick`: change the own friendly name (or confirm a
    /// contact's stored one, which old clients send after seeing it change).
    pub(super) async fn rea(&mut self, trid: TrId, email: &str, nick: &str, out: &mut Outbox) {
        let Some(user) = self.user.as_ref() else {
            return;
        };
        if nick.is_empty() || nick.len() > lists::MAX_NICK_BYTES {
            out.respond(trid).error(ErrorCode::NicknameChangeIllegal);
            return;
        }
        if !email.eq_ignore_ascii_case(&user.account.email) {
            // Old clients "rename" a contact to the name its NLN carried, to update
            // the stored name in their cached list. msnpd lists carry each
            // contact's own current name, so there is nothing to store: confirm
            // at the current list version for contacts on a list, else 216.
            let email = email.to_ascii_lowercase();
            if user
                .list
                .contact(&email)
                .is_some_and(|c| !c.lists.is_empty())
            {
                out.send(Reply::Rea {
                    trid,
                    version: user.list.version,
                    email,
                    nick: nick.to_owned(),
                });
            } else {
                out.respond(trid).error(ErrorCode::NotInList);
            }
            return;
        }
        let version = match self.ctx.store.set_nick(user.account.id, nick).await {
            Ok(version) => version,
            Err(error) => return self.store_error(trid, error, out),
        };
        let Some(user) = self.user.as_mut() else {
            return;
        };
        user.account.nick = nick.to_owned();
        let before = user.handle.with_shared(|s| s.clone());
        user.handle.update_shared(|s| s.nick = nick.to_owned());
        out.send(Reply::Rea {
            trid,
            version,
            email: user.account.email.clone(),
            nick: nick.to_owned(),
        });
        if let Some(user) = self.user.as_ref() {
            self.notify_watchers(&user.account, &user.handle, &before);
        }
    }

    /// `BLP trid AL|BL`.
    pub(super) async fn blp(&mut self, trid: TrId, privacy: Privacy, out: &mut Outbox) {
        let Some(user) = self.user.as_ref() else {
            return;
        };
        match self.ctx.store.set_privacy(user.account.id, privacy).await {
            Ok(version) => {
                out.send(Reply::Blp {
                    trid,
                    version,
                    privacy,
                });
                self.reload_list().await;
            }
            Err(error) => self.store_error(trid, error, out),
        }
    }

    /// `GTC trid A|N`.
    pub(super) async fn gtc(&mut self, trid: TrId, prompt: NewContactPrompt, out: &mut Outbox) {
        let Some(user) = self.user.as_ref() else {
            return;
        };
        match self.ctx.store.set_prompt(user.account.id, prompt).await {
            Ok(version) => {
                out.send(Reply::Gtc {
                    trid,
                    version,
                    prompt,
                });
                if let Some(user) = self.user.as_mut() {
                    user.list.prompt = prompt;
                    user.list.version = version;
                }
            }
            Err(error) => self.store_error(trid, error, out),
        }
    }

    /// `PRP trid KIND [value]`.
    pub(super) async fn prp(
        &mut self,
        trid: TrId,
        kind: PhoneKind,
        value: Option<String>,
        out: &mut Outbox,
    ) {
        let Some(user) = self.user.as_ref() else {
            return;
        };
        if value.as_ref().is_some_and(|v| v.len() > 95) {
            out.respond(trid).error(ErrorCode::InvalidParameter);
            return;
        }
        match self
            .ctx
            .store
            .set_phone(user.account.id, kind, value.as_deref())
            .await
        {
            Ok(version) => {
                out.send(Reply::Prp {
                    trid,
                    version,
                    kind,
                    value,
                });
                if let Some(user) = self.user.as_mut() {
                    user.list.version = version;
                }
            }
            Err(error) => self.store_error(trid, error, out),
        }
    }
}
