//! Plain records of the domain shared by the store, the roles and the codec:
//! accounts, contacts, groups and a user's whole contact list.

use std::collections::HashMap;

use super::lists::{ListSet, NewContactPrompt, Privacy};

/// A stored account's database id.
pub type UserId = i64;

/// A stored account, as the notification role needs it after login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Database id.
    pub id: UserId,
    /// The account name (lower-case email address).
    pub email: String,
    /// Friendly name (plain text, not URL-encoded).
    pub nick: String,
}

/// What the store holds to check a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The account.
    pub account: Account,
    /// Argon2 PHC string of the password.
    pub password_hash: String,
    /// Salt for the MD5 challenge of MSNP2–7 (`None` when MD5 login is not enabled
    /// for this account).
    pub md5_salt: Option<String>,
    /// Lowercase hex `md5(md5_salt + password)`, the verifier for MD5 login.
    pub md5_verifier: Option<String>,
}

/// A contact group of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Numeric id, unique per owner; group 0 always exists.
    pub id: u32,
    /// Display name (plain text).
    pub name: String,
}

/// One entry of a user's contact lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// The contact's account name.
    pub email: String,
    /// The contact's friendly name (plain text).
    pub nick: String,
    /// Which of the owner's lists the contact is on.
    pub lists: ListSet,
    /// Groups (ids) of the forward-list entry, ascending.
    pub groups: Vec<u32>,
}

/// A user's whole contact list and settings, as `SYN` sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactList {
    /// The list version, bumped by every change.
    pub version: u32,
    /// `BLP` setting.
    pub privacy: Privacy,
    /// `GTC` setting.
    pub prompt: NewContactPrompt,
    /// Groups, ascending by id.
    pub groups: Vec<Group>,
    /// Contacts, ascending by email.
    pub contacts: Vec<Contact>,
}

impl ContactList {
    /// The entry for `email`, if the user has one.
    pub fn contact(&self, email: &str) -> Option<&Contact> {
        self.contacts.iter().find(|c| c.email == email)
    }

    /// Contact email → list bits, for lookups by name (the presence fan-out
    /// asks it per event).
    pub fn lists_by_contact(&self) -> HashMap<String, ListSet> {
        self.contacts
            .iter()
            .map(|c| (c.email.clone(), c.lists))
            .collect()
    }
}
