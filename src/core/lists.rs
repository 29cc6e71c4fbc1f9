//! Contact lists as the domain sees them: the four lists (forward, allow, block,
//! reverse), their bitmask, the privacy and "new reverse-list entry" settings, and
//! the pure rules that decide who may see and reach whom.

use std::fmt;

/// One of a user's contact lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum List {
    /// Forward list: people I watch (`FL`).
    Forward,
    /// Allow list: people allowed to see me and contact me (`AL`).
    Allow,
    /// Block list: people who see me offline and cannot contact me (`BL`).
    Block,
    /// Reverse list: people who have me on their forward list (`RL`), kept by the server.
    Reverse,
}

impl List {
    /// Every list, in `SYN` order.
    pub const ALL: [List; 4] = [List::Forward, List::Allow, List::Block, List::Reverse];

    /// The bit of this list in a [`ListSet`] (FL=1, AL=2, BL=4, RL=8, as MSNP8+ sends it).
    pub fn bit(self) -> u8 {
        match self {
            List::Forward => 1,
            List::Allow => 2,
            List::Block => 4,
            List::Reverse => 8,
        }
    }

    /// The two-letter wire name (`FL`, `AL`, `BL`, `RL`).
    pub fn code(self) -> &'static str {
        match self {
            List::Forward => "FL",
            List::Allow => "AL",
            List::Block => "BL",
            List::Reverse => "RL",
        }
    }

    /// Parses a two-letter list name.
    pub fn from_code(code: &str) -> Option<List> {
        match code {
            "FL" => Some(List::Forward),
            "AL" => Some(List::Allow),
            "BL" => Some(List::Block),
            "RL" => Some(List::Reverse),
            _ => None,
        }
    }

    /// The list that must not hold the same contact at the same time (AL vs BL).
    pub fn opposite(self) -> Option<List> {
        match self {
            List::Allow => Some(List::Block),
            List::Block => Some(List::Allow),
            _ => None,
        }
    }

    /// Whether a client may edit this list directly (RL is kept by the server).
    pub fn client_editable(self) -> bool {
        !matches!(self, List::Reverse)
    }
}

impl fmt::Display for List {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The set of lists a contact is on, as a bitmask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ListSet(pub u8);

impl ListSet {
    /// Whether `list` is in the set.
    pub fn contains(self, list: List) -> bool {
        self.0 & list.bit() != 0
    }
    /// The set with `list` added.
    pub fn with(self, list: List) -> ListSet {
        ListSet(self.0 | list.bit())
    }
    /// The set with `list` removed.
    pub fn without(self, list: List) -> ListSet {
        ListSet(self.0 & !list.bit())
    }
    /// Whether no list is set.
    pub fn is_empty(self) -> bool {
        self.0 & 0x0f == 0
    }
}

/// The `BLP` setting: what happens to people on neither AL nor BL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Privacy {
    /// `AL`: everyone not blocked may see me and contact me (the default).
    AllowAll,
    /// `BL`: only people on my allow list may see me and contact me.
    BlockAll,
}

impl Privacy {
    /// The wire value (`AL` or `BL`).
    pub fn code(self) -> &'static str {
        match self {
            Privacy::AllowAll => "AL",
            Privacy::BlockAll => "BL",
        }
    }
    /// Parses `AL` or `BL`.
    pub fn from_code(code: &str) -> Option<Privacy> {
        match code {
            "AL" => Some(Privacy::AllowAll),
            "BL" => Some(Privacy::BlockAll),
            _ => None,
        }
    }
}

/// The `GTC` setting: whether the client asks before adding someone who added me.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NewContactPrompt {
    /// `A`: ask (the default).
    Ask,
    /// `N`: do not ask.
    Never,
}

impl NewContactPrompt {
    /// The wire value (`A` or `N`).
    pub fn code(self) -> &'static str {
        match self {
            NewContactPrompt::Ask => "A",
            NewContactPrompt::Never => "N",
        }
    }
    /// Parses `A` or `N`.
    pub fn from_code(code: &str) -> Option<NewContactPrompt> {
        match code {
            "A" => Some(NewContactPrompt::Ask),
            "N" => Some(NewContactPrompt::Never),
            _ => None,
        }
    }
}

/// Whether `owner` (with privacy setting `privacy`, and `other` on lists `other_lists`
/// of the owner) lets `other` see the owner's presence and contact them.
///
/// Blocked contacts never may; with [`Privacy::BlockAll`] only allow-listed contacts may.
pub fn allows(privacy: Privacy, other_lists: ListSet) -> bool {
    if other_lists.contains(List::Block) {
        return false;
    }
    match privacy {
        Privacy::AllowAll => true,
        Privacy::BlockAll => other_lists.contains(List::Allow),
    }
}

/// Largest number of entries one list may hold (`210` when full).
pub const MAX_LIST_ENTRIES: usize = 1000;
/// Largest number of groups a user may have (`223` when exceeded).
pub const MAX_GROUPS: usize = 30;
/// Longest group name in bytes, URL-decoded (`229` when exceeded).
pub const MAX_GROUP_NAME_BYTES: usize = 61;
/// Longest friendly name in bytes, URL-decoded (`209` when exceeded).
pub const MAX_NICK_BYTES: usize = 387;

/// Whether `email` looks like an account name msnpd accepts: `local@domain`, ASCII,
/// no spaces or control characters, at most 129 bytes.
pub fn is_valid_email(email: &str) -> bool {
    if email.len() > 129 || !email.is_ascii() {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'%' && b != b',')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_and_codes() {
        let set = ListSet::default().with(List::Forward).with(List::Reverse);
        assert_eq!(set.0, 9);
        assert!(set.contains(List::Forward) && !set.contains(List::Allow));
        assert_eq!(set.without(List::Forward).0, 8);
        for list in List::ALL {
            assert_eq!(List::from_code(list.code()), Some(list));
        }
        assert_eq!(List::Allow.opposite(), Some(List::Block));
        assert!(!List::Reverse.client_editable());
    }

    #[test]
    fn visibility_rules() {
        let none = ListSet::default();
        let allowed = none.with(List::Allow);
        let blocked = none.with(List::Block);
        assert!(allows(Privacy::AllowAll, none));
        assert!(!allows(Privacy::AllowAll, blocked));
        assert!(!allows(Privacy::BlockAll, none));
        assert!(allows(Privacy::BlockAll, allowed));
        assert!(!allows(Privacy::BlockAll, blocked));
    }

    #[test]
    fn emails() {
        assert!(is_valid_email("alice@example.com"));
        assert!(!is_valid_email("alice"));
        assert!(!is_valid_email("a@b"));
        assert!(!is_valid_email("a b@example.com"));
        assert!(!is_valid_email("@example.com"));
        assert!(!is_valid_email("a@@example.com"));
    }
}
