//! The postgres backend (stub until the store lands).

use super::*;
use crate::core::model::UserId;

/// postgres store.
#[derive(Debug, Clone)]
pub struct PgStore;

impl PgStore {
    /// connect
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let _ = (url, max_connections);
        todo!()
    }
    /// migrate
    pub async fn migrate(&self) -> StoreResult<()> {
        let _ = ();
        todo!()
    }
    /// ping
    pub async fn ping(&self) -> StoreResult<()> {
        let _ = ();
        todo!()
    }
    /// close
    pub async fn close(&self) {
        let _ = ();
        todo!()
    }
    /// ticket_secret
    pub async fn ticket_secret(&self) -> StoreResult<Vec<u8>> {
        let _ = ();
        todo!()
    }
    /// create_user
    pub async fn create_user(&self, email: &str, nick: &str, password_hash: &str, md5: Option<(&str, &str)>) -> StoreResult<Account> {
        let _ = (email, nick, password_hash, md5);
        todo!()
    }
    /// set_password
    pub async fn set_password(&self, email: &str, password_hash: &str, md5: Option<(&str, &str)>) -> StoreResult<()> {
        let _ = (email, password_hash, md5);
        todo!()
    }
    /// delete_user
    pub async fn delete_user(&self, email: &str) -> StoreResult<()> {
        let _ = (email,);
        todo!()
    }
    /// list_users
    pub async fn list_users(&self) -> StoreResult<Vec<Account>> {
        let _ = ();
        todo!()
    }
    /// account
    pub async fn account(&self, email: &str) -> StoreResult<Account> {
        let _ = (email,);
        todo!()
    }
    /// credentials
    pub async fn credentials(&self, email: &str) -> StoreResult<Credentials> {
        let _ = (email,);
        todo!()
    }
    /// contact_list
    pub async fn contact_list(&self, user: UserId) -> StoreResult<ContactList> {
        let _ = (user,);
        todo!()
    }
    /// phones
    pub async fn phones(&self, user: UserId) -> StoreResult<Vec<(PhoneKind, String)>> {
        let _ = (user,);
        todo!()
    }
    /// add_contact
    pub async fn add_contact(&self, owner: UserId, list: List, contact_email: &str, group: Option<u32>) -> StoreResult<ListChange> {
        let _ = (owner, list, contact_email, group);
        todo!()
    }
    /// remove_contact
    pub async fn remove_contact(&self, owner: UserId, list: List, contact_email: &str, group: Option<u32>) -> StoreResult<ListChange> {
        let _ = (owner, list, contact_email, group);
        todo!()
    }
    /// add_group
    pub async fn add_group(&self, owner: UserId, name: &str) -> StoreResult<(u32, Group)> {
        let _ = (owner, name);
        todo!()
    }
    /// remove_group
    pub async fn remove_group(&self, owner: UserId, group: u32) -> StoreResult<u32> {
        let _ = (owner, group);
        todo!()
    }
    /// rename_group
    pub async fn rename_group(&self, owner: UserId, group: u32, name: &str) -> StoreResult<u32> {
        let _ = (owner, group, name);
        todo!()
    }
    /// set_nick
    pub async fn set_nick(&self, user: UserId, nick: &str) -> StoreResult<u32> {
        let _ = (user, nick);
        todo!()
    }
    /// set_privacy
    pub async fn set_privacy(&self, user: UserId, privacy: Privacy) -> StoreResult<u32> {
        let _ = (user, privacy);
        todo!()
    }
    /// set_prompt
    pub async fn set_prompt(&self, user: UserId, prompt: NewContactPrompt) -> StoreResult<u32> {
        let _ = (user, prompt);
        todo!()
    }
    /// set_phone
    pub async fn set_phone(&self, user: UserId, kind: PhoneKind, value: Option<&str>) -> StoreResult<u32> {
        let _ = (user, kind, value);
        todo!()
    }
}
