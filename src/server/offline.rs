//! Delivering offline messages: once a user is visible online, their queued
//! messages are read from the store and, for each sender, a switchboard is
//! opened on the sender's behalf and the user is rung into it (`RNG` with the
//! sender as caller). When they answer, the switchboard role writes the
//! messages (see `sb/mod.rs`); only once they were written to the user's
//! connection are they removed from the store. Messages being delivered are
//! claimed in memory so no second delivery of the same ids starts meanwhile,
//! and one user has at most one delivery running: triggers that arrive while
//! it runs (new messages queued) make it run once more when it is done, so a
//! burst of messages becomes one invitation, not one each.
//! Design: `protocol-spec/offline-messages.md`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::context::ServerContext;
use crate::core::events::{Event, Receipt};
use crate::core::model::Account;
use crate::core::offline::{MessageClock, QueuedMessage};
use crate::core::switchboard::Delivery;
use crate::failpoints::failpoint;

/// Most messages read from a queue per delivery round; the next round starts
/// once a round was delivered completely.
const ROUND: usize = 100;

/// How often removing delivered messages from the store is tried, and the
/// pause before the first retry (doubled each time).
const REMOVE_ATTEMPTS: u32 = 5;
const REMOVE_BACKOFF: Duration = Duration::from_millis(200);

/// Offline-message state shared by the sessions of this process.
#[derive(Debug, Default)]
pub struct OfflineState {
    /// Timestamps messages as the server accepts them.
    pub clock: MessageClock,
    /// Ids of queued messages being delivered (or delivered but not yet removed).
    claimed: Mutex<HashSet<i64>>,
    /// Users with a delivery running, and whether it must run once more.
    active: Mutex<HashMap<i64, bool>>,
}

impl OfflineState {
    /// Fresh state.
    pub fn new() -> Self {
        Self::default()
    }

    fn claims(&self) -> std::sync::MutexGuard<'_, HashSet<i64>> {
        self.claimed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps the messages not claimed yet, claiming them.
    fn claim(&self, messages: Vec<QueuedMessage>) -> Vec<QueuedMessage> {
        let mut claimed = self.claims();
        messages
            .into_iter()
            .filter(|m| claimed.insert(m.id))
            .collect()
    }

    /// Marks a delivery to `user` as running; `false` (and a rerun noted) if
    /// one already runs.
    fn start(&self, user: i64) -> bool {
        let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        match active.get_mut(&user) {
            Some(rerun) => {
                *rerun = true;
                false
            }
            None => {
                active.insert(user, false);
                true
            }
        }
    }

    /// A delivery run to `user` ended: `true` if it must run once more, else
    /// it is no longer running.
    fn finish(&self, user: i64) -> bool {
        let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        match active.get_mut(&user) {
            Some(rerun) if *rerun => {
                *rerun = false;
                true
            }
            _ => {
                active.remove(&user);
                false
            }
        }
    }

    fn release(&self, ids: &[i64]) {
        let mut claimed = self.claims();
        for id in ids {
            claimed.remove(id);
        }
    }
}

/// Starts delivering `recipient`'s queued messages in the background. Called
/// while a delivery to them runs, it makes that one run again when done.
pub fn deliver_queued(ctx: Arc<ServerContext>, recipient: Account) {
    if !ctx.offline.start(recipient.id) {
        return;
    }
    tokio::spawn(async move {
        loop {
            run(Arc::clone(&ctx), recipient.clone()).await;
            if !ctx.offline.finish(recipient.id) {
                break;
            }
        }
    });
}

async fn run(ctx: Arc<ServerContext>, recipient: Account) {
    loop {
        let queued = match ctx.store.queued_messages(recipient.id, ROUND).await {
            Ok(queued) => queued,
            Err(error) => {
                tracing::warn!(%error, user = %recipient.email, "cannot read offline messages");
                return;
            }
        };
        let full_round = queued.len() == ROUND;
        let messages = ctx.offline.claim(queued);
        if messages.is_empty() {
            return;
        }
        // The recipient decides now whom they hear from: messages from senders
        // they block are dropped unread.
        let Some(session) = ctx.router.session(&recipient.email) else {
            ctx.offline.release(&ids(&messages));
            return;
        };
        let (allowed, blocked): (Vec<_>, Vec<_>) = messages
            .into_iter()
            .partition(|m| session.with_shared(|s| s.allows(&m.sender_email)));
        if !blocked.is_empty() {
            tracing::info!(
                user = %recipient.email,
                messages = blocked.len(),
                "dropping offline messages from blocked senders"
            );
            let blocked = ids(&blocked);
            tokio::spawn(remove(Arc::clone(&ctx), recipient.id, blocked));
        }
        let mut rounds = Vec::new();
        for (sender, messages) in by_sender(allowed) {
            rounds.push(tokio::spawn(offer(
                Arc::clone(&ctx),
                recipient.clone(),
                sender,
                messages,
            )));
        }
        let mut all_delivered = true;
        for round in rounds {
            all_delivered &= round.await.unwrap_or(false);
        }
        if !all_delivered || !full_round {
            return;
        }
    }
}

/// Opens a room on `sender`'s behalf holding `messages`, rings the recipient
/// into it and waits for the messages to be written to them (then removes
/// them) or for the room to close without them. Returns whether delivered.
async fn offer(
    ctx: Arc<ServerContext>,
    recipient: Account,
    sender: String,
    messages: Vec<QueuedMessage>,
) -> bool {
    let ids = ids(&messages);
    let sender_nick = messages
        .last()
        .map(|m| m.sender_nick.clone())
        .unwrap_or_else(|| sender.clone());
    let room = ctx.hub.create_room();
    let (receipt, mut written) = Receipt::new();
    room.offer(Delivery {
        recipient: recipient.email.clone(),
        sender_email: sender.clone(),
        sender_nick: sender_nick.clone(),
        messages,
        receipt,
    })
    .await;
    let session = ctx.router.session(&recipient.email);
    let rung = ctx.router.deliver(
        &recipient.email,
        Event::Ring {
            session_id: room.id().to_string(),
            sb_addr: ctx.sb_addr.clone(),
            caller_email: sender.clone(),
            caller_nick: sender_nick,
        },
    );
    let delivered = match session {
        // Not rung: the room closes unanswered, dropping the delivery.
        None => false,
        Some(_) if !rung => false,
        Some(session) => {
            let ended = tokio::select! {
                result = &mut written => Some(result.is_ok()),
                () = session.tx.closed() => None,
            };
            match ended {
                Some(delivered) => delivered,
                // The rung session ended first. If the delivery still waits,
                // take it back and let the user's next session have the
                // messages now; if they already answered, it is being written.
                None => match room.withdraw(&recipient.email).await {
                    Some(true) => {
                        ctx.offline.release(&ids);
                        ctx.router.deliver(&recipient.email, Event::OfflineQueued);
                        return false;
                    }
                    Some(false) | None => written.await.is_ok(),
                },
            }
        }
    };
    if delivered {
        tracing::info!(
            user = %recipient.email,
            %sender,
            messages = ids.len(),
            "offline messages delivered"
        );
        failpoint!("offline_before_remove");
        remove(ctx, recipient.id, ids).await;
    } else {
        ctx.offline.release(&ids);
    }
    delivered
}

/// Removes delivered (or dropped) messages from the store, retrying a few
/// times; the ids stay claimed until removed, so this process never delivers
/// them again (after a restart they would be: see the design notes).
async fn remove(ctx: Arc<ServerContext>, recipient: i64, ids: Vec<i64>) {
    let mut pause = REMOVE_BACKOFF;
    for attempt in 1..=REMOVE_ATTEMPTS {
        match ctx.store.remove_queued(recipient, &ids).await {
            Ok(_) => {
                ctx.offline.release(&ids);
                return;
            }
            Err(error) if attempt == REMOVE_ATTEMPTS => {
                tracing::error!(
                    %error,
                    messages = ids.len(),
                    "cannot remove delivered offline messages; they stay claimed \
                     in this process but will be delivered again after a restart"
                );
            }
            Err(error) => {
                tracing::warn!(%error, attempt, "cannot remove delivered offline messages; retrying");
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
        }
    }
}

fn ids(messages: &[QueuedMessage]) -> Vec<i64> {
    messages.iter().map(|m| m.id).collect()
}

/// Groups messages by sender, senders in the order of their first message,
/// each sender's messages in queue order.
fn by_sender(messages: Vec<QueuedMessage>) -> Vec<(String, Vec<QueuedMessage>)> {
    let mut groups: Vec<(String, Vec<QueuedMessage>)> = Vec::new();
    for message in messages {
        match groups.iter_mut().find(|(s, _)| *s == message.sender_email) {
            Some((_, group)) => group.push(message),
            None => groups.push((message.sender_email.clone(), vec![message])),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn queued(id: i64, sender: &str) -> QueuedMessage {
        QueuedMessage {
            id,
            sender_email: sender.into(),
            sender_nick: sender.into(),
            sent_at_us: id,
            payload: Bytes::new(),
            history: None,
        }
    }

    #[test]
    fn groups_keep_sender_and_message_order() {
        let groups = by_sender(vec![
            queued(1, "b"),
            queued(2, "a"),
            queued(3, "b"),
            queued(4, "c"),
            queued(5, "a"),
        ]);
        let shape: Vec<(String, Vec<i64>)> =
            groups.into_iter().map(|(s, m)| (s, ids(&m))).collect();
        assert_eq!(
            shape,
            [
                ("b".to_string(), vec![1, 3]),
                ("a".to_string(), vec![2, 5]),
                ("c".to_string(), vec![4])
            ]
        );
    }

    #[test]
    fn one_delivery_per_user_runs_again_when_triggered_meanwhile() {
        let state = OfflineState::new();
        assert!(state.start(1));
        assert!(state.start(2));
        // Triggered twice while running: one more run.
        assert!(!state.start(1));
        assert!(!state.start(1));
        assert!(state.finish(1));
        assert!(!state.finish(1));
        assert!(state.start(1));
        assert!(!state.finish(2));
    }

    #[test]
    fn claims_are_exclusive_until_released() {
        let state = OfflineState::new();
        let first = state.claim(vec![queued(1, "a"), queued(2, "a")]);
        assert_eq!(ids(&first), [1, 2]);
        let second = state.claim(vec![queued(2, "a"), queued(3, "a")]);
        assert_eq!(ids(&second), [3]);
        state.release(&[1, 2]);
        assert_eq!(ids(&state.claim(vec![queued(1, "a")])), [1]);
    }
}
