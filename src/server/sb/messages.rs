//! `MSG` in a switchboard: relay to the participants present, store instant
//! messages durably for absent members (offline messages on), record them in
//! the conversation's history, and acknowledge only once the outcome is known:
//! written to every present participant's connection or committed to their
//! offline queue. A participant whose connection closes before the message was
//! written to it gets it queued instead. The outcome is settled in a task of
//! its own and comes back as [`Event::MessageOutcome`], so a connection never
//! waits for another one (two participants sending to each other at once would
//! otherwise wait for each other).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::SbSession;
use crate::core::event_queue::EventSender;
use crate::core::events::Event;
use crate::core::offline::{HistoryWrite, NewMessage};
use crate::failpoints::failpoint;
use crate::proto::command::AckMode;
use crate::proto::msg_content::is_instant_message;
use crate::proto::{Reply, TrId};
use crate::server::context::ServerContext;
use crate::server::outbox::Outbox;
use crate::store::{PendingWrite, StoreError};

/// How long the acknowledgement waits for the other participants' connections
/// to write the message. Longer than a connection's write timeout, so a stuck
/// reader has been disconnected (and the message queued for it) by then.
const WRITE_WAIT: Duration = Duration::from_secs(60);

/// How long a late queue entry waits for the message's history entry.
const HISTORY_WAIT: Duration = Duration::from_secs(30);

/// Whether a message with `mode` expects an answer when it succeeded / failed.
fn reply_for(mode: AckMode, delivered: bool) -> Option<bool> {
    match (mode, delivered) {
        (AckMode::Acknowledged | AckMode::Data, true) => Some(true),
        (AckMode::Acknowledged | AckMode::Data | AckMode::NakOnly, false) => Some(false),
        (AckMode::NakOnly | AckMode::Unacknowledged, _) => None,
    }
}

/// A message whose outcome is still open.
struct Unsettled {
    ctx: Arc<ServerContext>,
    own: EventSender,
    trid: TrId,
    mode: AckMode,
    /// The message as written to the store (no history, no recipients).
    message: NewMessage,
    /// Whether it may be queued for someone (an instant message, offline on).
    queueable: bool,
    /// Present participants' write confirmations.
    receipts: Vec<(String, oneshot::Receiver<()>)>,
    /// The write queueing it for the absent members (history included).
    durable: Option<Result<PendingWrite, StoreError>>,
    /// The history write of a message for present participants only.
    history: Option<PendingWrite>,
}

impl SbSession {
    /// `MSG trid mode length`: relay, store, and acknowledge as the mode asks.
    pub(super) async fn msg(
        &mut self,
        trid: TrId,
        mode: AckMode,
        payload: Bytes,
        out: &mut Outbox,
    ) {
        let Some(member) = self.member.as_ref() else {
            return;
        };
        let config = self.ctx.config.get();
        let settings = &config.offline;
        let confirm = mode != AckMode::Unacknowledged;
        let relay = member
            .room
            .send(&member.email, payload.clone(), confirm)
            .await;
        let Some(nick) = relay.nick else {
            if let Some(ok) = reply_for(mode, false) {
                out.send(if ok {
                    Reply::Ack { trid }
                } else {
                    Reply::Nak { trid }
                });
            }
            return;
        };
        let instant = is_instant_message(&payload);
        let queueable = instant && settings.enabled;
        let absent = if queueable { relay.absent } else { Vec::new() };
        if relay.receipts.is_empty() && relay.untracked == 0 && absent.is_empty() {
            // Nobody to give it to, now or later.
            if let Some(ok) = reply_for(mode, false) {
                out.send(if ok {
                    Reply::Ack { trid }
                } else {
                    Reply::Nak { trid }
                });
            }
            return;
        }
        let message = NewMessage {
            history: HistoryWrite::None,
            sender_email: member.email.clone(),
            sender_nick: nick,
            sent_at_us: self.ctx.offline.clock.now_us(),
            payload,
            queue_for: Vec::new(),
            queue_cap: settings.max_queued_per_user,
        };
        let history = match relay.conversation {
            Some(conversation) if instant && settings.history => HistoryWrite::New(conversation),
            _ => HistoryWrite::None,
        };
        // Submitted here, in the order messages arrive, so queue entries and
        // history numbers follow the order of sending.
        let mut durable = None;
        let mut history_write = None;
        if !absent.is_empty() {
            let write = NewMessage {
                history,
                queue_for: absent,
                ..message.clone()
            };
            durable = Some(self.ctx.store.submit_message(write).await);
        } else if history != HistoryWrite::None {
            let write = NewMessage {
                history,
                ..message.clone()
            };
            // Never hold up live chat for history: a busy or stalled store
            // loses the entry (logged), not the conversation.
            match self.ctx.store.try_submit_message(write) {
                Ok(pending) => history_write = Some(pending),
                Err(error) => history_lost(&error),
            }
        }
        let unsettled = Unsettled {
            ctx: Arc::clone(&self.ctx),
            own: self.events_tx.clone(),
            trid,
            mode,
            message,
            queueable,
            receipts: relay.receipts,
            durable,
            history: history_write,
        };
        tokio::spawn(unsettled.settle());
    }
}

impl Unsettled {
    /// Waits for the outcome, queues the message for whoever it could not be
    /// written to, and answers `ACK`/`NAK` as the mode asks.
    async fn settle(self) {
        let Unsettled {
            ctx,
            own,
            trid,
            mode,
            message,
            queueable,
            receipts,
            durable,
            history,
        } = self;
        let mut delivered = true;
        let mut history_at = None;
        if let Some(write) = durable {
            let result = match write {
                Ok(pending) => pending.wait().await,
                Err(error) => Err(error),
            };
            match result {
                Ok(appended) => {
                    failpoint!("sb_after_commit");
                    history_at = appended.history;
                    notify(&ctx, appended.queued.iter().map(String::as_str));
                }
                Err(error) => {
                    refused(&error, &message.sender_email);
                    delivered = false;
                }
            }
        }
        let deadline = Instant::now() + WRITE_WAIT;
        let mut missed = Vec::new();
        for (email, written) in receipts {
            match tokio::time::timeout_at(deadline, written).await {
                Ok(Ok(())) => {}
                // Their connection closed before the message was written.
                Ok(Err(_)) => missed.push(email),
                // Still not written: it may yet be, so it cannot be queued.
                Err(_) => delivered = false,
            }
        }
        if !missed.is_empty() {
            if queueable {
                let history_at = match (history_at, history) {
                    (Some(at), _) => Some(at),
                    (None, Some(pending)) => tokio::time::timeout(HISTORY_WAIT, pending.wait())
                        .await
                        .ok()
                        .and_then(Result::ok)
                        .and_then(|appended| appended.history),
                    (None, None) => None,
                };
                let late = NewMessage {
                    history: history_at.map_or(HistoryWrite::None, HistoryWrite::Existing),
                    queue_for: missed,
                    ..message.clone()
                };
                match ctx.store.append_message(late).await {
                    Ok(appended) => {
                        notify(&ctx, appended.queued.iter().map(String::as_str));
                    }
                    Err(error) => {
                        refused(&error, &message.sender_email);
                        delivered = false;
                    }
                }
            } else {
                delivered = false;
            }
        }
        // A `return` here loses the answer (the sender never hears).
        failpoint!("sb_before_ack", return);
        if let Some(delivered) = reply_for(mode, delivered) {
            let _ = own.send(Event::MessageOutcome { trid, delivered }).await;
        }
    }
}

/// Tells the recipients' sessions that messages wait for them.
fn notify<'a>(ctx: &ServerContext, recipients: impl Iterator<Item = &'a str>) {
    for recipient in recipients {
        ctx.router.deliver(recipient, Event::OfflineQueued);
    }
}

/// Logs why a message could not be stored.
fn refused(error: &StoreError, sender: &str) {
    match error {
        StoreError::QueueFull { recipient } => {
            crate::obs::metrics().limit_rejection(crate::obs::Limit::OfflineQueue);
            tracing::warn!(
                %sender,
                %recipient,
                "offline message refused (NAK): the recipient's offline queue is full \
                 (offline.max_queued_per_user)"
            )
        }
        error => tracing::warn!(%error, %sender, "offline message not stored (NAK)"),
    }
}

/// Notes a history entry the store could not take. Under a relay burst that
/// outruns the store writer this happens per message, so the warning is
/// logged at most once a second, with the number lost since the last one;
/// the per-message path takes no lock.
fn history_lost(error: &StoreError) {
    static LOST: AtomicU64 = AtomicU64::new(0);
    static NEXT_LOG_MS: AtomicU64 = AtomicU64::new(0);
    static START: OnceLock<Instant> = OnceLock::new();
    LOST.fetch_add(1, Ordering::Relaxed);
    let now_ms =
        u64::try_from(START.get_or_init(Instant::now).elapsed().as_millis()).unwrap_or(u64::MAX);
    let next = NEXT_LOG_MS.load(Ordering::Relaxed);
    if now_ms >= next
        && NEXT_LOG_MS
            .compare_exchange(next, now_ms + 1000, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        let lost = LOST.swap(0, Ordering::Relaxed);
        tracing::warn!(%error, lost, "history entries not written");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_follow_the_mode() {
        assert_eq!(reply_for(AckMode::Acknowledged, true), Some(true));
        assert_eq!(reply_for(AckMode::Acknowledged, false), Some(false));
        assert_eq!(reply_for(AckMode::Data, true), Some(true));
        assert_eq!(reply_for(AckMode::NakOnly, true), None);
        assert_eq!(reply_for(AckMode::NakOnly, false), Some(false));
        assert_eq!(reply_for(AckMode::Unacknowledged, false), None);
    }
}
