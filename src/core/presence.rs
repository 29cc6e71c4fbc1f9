//! Presence states and the pure rule for what others see of them.

use std::fmt;

use super::lists::{ListSet, Privacy, allows};

/// A user's presence state as set by `CHG` (and `FLN` for offline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Online.
    Online,
    /// Busy.
    Busy,
    /// Idle.
    Idle,
    /// Be right back.
    BeRightBack,
    /// Away.
    Away,
    /// On the phone.
    OnPhone,
    /// Out to lunch.
    OutToLunch,
    /// Appear offline: logged in, but shown to others as offline.
    Hidden,
    /// Offline (never set by `CHG`; what others see of a hidden or absent user).
    Offline,
}

impl Status {
    /// The three-letter wire code.
    pub fn code(self) -> &'static str {
        match self {
            Status::Online => "NLN",
            Status::Busy => "BSY",
            Status::Idle => "IDL",
            Status::BeRightBack => "BRB",
            Status::Away => "AWY",
            Status::OnPhone => "PHN",
            Status::OutToLunch => "LUN",
            Status::Hidden => "HDN",
            Status::Offline => "FLN",
        }
    }

    /// Parses a status a client may set with `CHG` (`FLN` is not one of them).
    pub fn from_chg_code(code: &str) -> Option<Status> {
        Some(match code {
            "NLN" => Status::Online,
            "BSY" => Status::Busy,
            "IDL" => Status::Idle,
            "BRB" => Status::BeRightBack,
            "AWY" => Status::Away,
            "PHN" => Status::OnPhone,
            "LUN" => Status::OutToLunch,
            "HDN" => Status::Hidden,
            _ => return None,
        })
    }

    /// What others are shown: hidden users appear offline.
    pub fn visible(self) -> Status {
        match self {
            Status::Hidden => Status::Offline,
            other => other,
        }
    }

    /// Whether others see this user as online in some state.
    pub fn is_visible_online(self) -> bool {
        self.visible() != Status::Offline
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What `watcher` sees of `owner`: the owner's status if the owner's privacy settings
/// let the watcher see them (`watcher_lists` = the lists of the owner the watcher is on),
/// otherwise offline.
pub fn seen_status(owner_status: Status, privacy: Privacy, watcher_lists: ListSet) -> Status {
    if allows(privacy, watcher_lists) {
        owner_status.visible()
    } else {
        Status::Offline
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::lists::List;

    #[test]
    fn hidden_and_blocked_look_offline() {
        let none = ListSet::default();
        assert_eq!(
            seen_status(Status::Hidden, Privacy::AllowAll, none),
            Status::Offline
        );
        assert_eq!(
            seen_status(Status::Busy, Privacy::AllowAll, none),
            Status::Busy
        );
        assert_eq!(
            seen_status(Status::Busy, Privacy::AllowAll, none.with(List::Block)),
            Status::Offline
        );
        assert_eq!(
            seen_status(Status::Busy, Privacy::BlockAll, none),
            Status::Offline
        );
        assert_eq!(Status::from_chg_code("FLN"), None);
        assert_eq!(Status::from_chg_code("AWY"), Some(Status::Away));
    }
}
