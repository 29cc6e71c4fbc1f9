//! Telling watchers what changed. From a user's shared state before and after
//! a change, [`presence_changes`] finds the watchers for whom what they see
//! changed and hands each one of at most two shared broadcasts: the user as
//! every watcher allowed to see them sees them, or the user offline. A change
//! seen by K watchers thus costs two small views and K reference counts,
//! never K copies of the view or of its wire line; [`visible_watchers`] does
//! the same walk for personal messages.

use std::sync::Arc;

use super::events::{Broadcast, Event, PresenceView};
use super::lists::List;
use super::presence::Status;
use super::registry::SharedState;

/// Calls `deliver(watcher, event)` for every watcher of the user `email` who
/// must hear of the change from `before` to `after`: someone on the user's
/// reverse list before or after whose view of the user changed, and who sees
/// the user online before or after. Someone who was not a watcher before
/// (they just added the user) saw nothing, so they count as having seen the
/// user offline.
pub fn presence_changes(
    email: &str,
    before: &SharedState,
    after: &SharedState,
    mut deliver: impl FnMut(&str, Event),
) {
    // What every watcher who sees the user online sees alike.
    let details_changed = before.nick != after.nick
        || before.capabilities != after.capabilities
        || before.msn_object != after.msn_object;
    let personal_message_changed = before.personal_message != after.personal_message;
    let mut online: Option<Arc<Broadcast<PresenceView>>> = None;
    let mut offline: Option<Arc<Broadcast<PresenceView>>> = None;
    let mut tell = |watcher: &str| {
        let old = if before.is_watched_by(watcher) {
            before.seen_by(watcher)
        } else {
            Status::Offline
        };
        let new = after.seen_by(watcher);
        let (was_online, is_online) = (old.is_visible_online(), new.is_visible_online());
        if !was_online && !is_online {
            return;
        }
        let changed = old != new || details_changed || (is_online && personal_message_changed);
        if !changed {
            return;
        }
        // Every watcher who sees the user online sees the same status (the
        // user's own, made visible), and everyone else sees `Offline`.
        let slot = if is_online { &mut online } else { &mut offline };
        let broadcast = match slot {
            Some(shared) if shared.content.status == new => Arc::clone(shared),
            _ => Arc::clone(slot.insert(Broadcast::new(after.view_as(email, new)))),
        };
        deliver(watcher, Event::Presence(broadcast));
    };
    for (watcher, lists) in after.lists.iter() {
        if lists.contains(List::Reverse) || before.is_watched_by(watcher) {
            tell(watcher);
        }
    }
    for watcher in before.watchers() {
        if !after.lists.contains_key(watcher) {
            tell(watcher);
        }
    }
}

/// The watchers of this user who see them online (they get the user's
/// personal message), without copying their names.
pub fn visible_watchers(state: &SharedState) -> impl Iterator<Item = &str> {
    state
        .watchers()
        .filter(|watcher| state.seen_by(watcher).is_visible_online())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use bytes::Bytes;

    use super::*;
    use crate::core::lists::{List, ListSet, Privacy};

    const ME: &str = "me@example.com";

    fn set(lists: &[List]) -> ListSet {
        lists
            .iter()
            .fold(ListSet::default(), |set, list| set.with(*list))
    }

    /// `watchers` have the user on their FL; `blocked` too, but are on the user's BL.
    fn state(status: Status, watchers: usize, blocked: &[&str]) -> SharedState {
        let mut lists: HashMap<String, ListSet> = (0..watchers)
            .map(|i| (format!("w{i}@example.com"), set(&[List::Reverse])))
            .collect();
        for email in blocked {
            lists.insert(email.to_string(), set(&[List::Reverse, List::Block]));
        }
        SharedState {
            status,
            nick: "Me".to_owned(),
            capabilities: 0,
            msn_object: None,
            personal_message: Some(Bytes::from_static(b"<Data/>")),
            privacy: Privacy::AllowAll,
            lists: Arc::new(lists),
        }
    }

    fn changes(before: &SharedState, after: &SharedState) -> Vec<(String, Event)> {
        let mut told = Vec::new();
        presence_changes(ME, before, after, |watcher, event| {
            told.push((watcher.to_owned(), event));
        });
        told.sort_by(|a, b| a.0.cmp(&b.0));
        told
    }

    fn view(event: &Event) -> &Arc<Broadcast<PresenceView>> {
        match event {
            Event::Presence(broadcast) => broadcast,
            other => panic!("not a presence event: {other:?}"),
        }
    }

    #[test]
    fn every_watcher_shares_one_view_of_a_status_change() {
        let before = state(Status::Online, 500, &["blocked@example.com"]);
        let mut after = before.clone();
        after.status = Status::Away;
        let told = changes(&before, &after);
        assert_eq!(
            told.len(),
            500,
            "the blocked watcher saw offline before and after"
        );
        let first = view(&told[0].1);
        assert_eq!(first.content.status, Status::Away);
        assert_eq!(first.content.email, ME);
        assert_eq!(
            first.content.personal_message.as_deref(),
            Some(&b"<Data/>"[..])
        );
        for (_, event) in &told {
            assert!(
                Arc::ptr_eq(first, view(event)),
                "one shared view, not a copy per watcher"
            );
        }
        // The 500 events hold it and nothing else does.
        assert_eq!(Arc::strong_count(first), 500);
    }

    #[test]
    fn going_hidden_tells_everyone_offline_once() {
        let before = state(Status::Online, 3, &[]);
        let mut after = before.clone();
        after.status = Status::Hidden;
        let told = changes(&before, &after);
        assert_eq!(told.len(), 3);
        for (_, event) in &told {
            assert_eq!(view(event).content.status, Status::Offline);
            assert_eq!(view(event).content.personal_message, None);
            assert!(Arc::ptr_eq(view(&told[0].1), view(event)));
        }
    }

    #[test]
    fn nothing_changed_tells_nobody() {
        let before = state(Status::Online, 3, &[]);
        assert!(changes(&before, &before.clone()).is_empty());
        // Hidden to offline: nobody ever saw the user online.
        let hidden = state(Status::Hidden, 3, &[]);
        let mut gone = hidden.clone();
        gone.status = Status::Offline;
        assert!(changes(&hidden, &gone).is_empty());
    }

    #[test]
    fn a_new_nick_reaches_watchers_who_see_the_user_online_only() {
        let before = state(Status::Busy, 2, &["blocked@example.com"]);
        let mut after = before.clone();
        after.nick = "New name".to_owned();
        let told = changes(&before, &after);
        let names: Vec<&str> = told.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(names, ["w0@example.com", "w1@example.com"]);
        assert_eq!(view(&told[0].1).content.nick, "New name");
        assert_eq!(view(&told[0].1).content.status, Status::Busy);
    }

    #[test]
    fn a_personal_message_change_alone_is_a_change_only_for_who_sees_it() {
        let before = state(Status::Online, 1, &["blocked@example.com"]);
        let mut after = before.clone();
        after.personal_message = None;
        let told = changes(&before, &after);
        assert_eq!(told.len(), 1);
        assert_eq!(told[0].0, "w0@example.com");
    }

    #[test]
    fn a_new_watcher_is_told_the_current_presence_and_a_leaving_one_offline() {
        let before = state(Status::Online, 1, &[]);
        let mut lists = (*before.lists).clone();
        lists.insert("new@example.com".to_owned(), set(&[List::Reverse]));
        let mut after = before.clone();
        after.lists = Arc::new(lists);
        let told = changes(&before, &after);
        assert_eq!(told.len(), 1);
        assert_eq!(told[0].0, "new@example.com");
        assert_eq!(view(&told[0].1).content.status, Status::Online);

        // The user blocks w0: w0 now sees them offline.
        let mut lists = (*before.lists).clone();
        lists.insert(
            "w0@example.com".to_owned(),
            set(&[List::Reverse, List::Block]),
        );
        let mut blocking = before.clone();
        blocking.lists = Arc::new(lists);
        let told = changes(&before, &blocking);
        assert_eq!(told.len(), 1);
        assert_eq!(view(&told[0].1).content.status, Status::Offline);
    }

    #[test]
    fn visible_watchers_leaves_out_blocked_ones() {
        let state = state(Status::Online, 2, &["blocked@example.com"]);
        let mut names: Vec<&str> = visible_watchers(&state).collect();
        names.sort();
        assert_eq!(names, ["w0@example.com", "w1@example.com"]);
    }
}
