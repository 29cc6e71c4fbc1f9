//! Switchboards: the cookies that admit users (from `XFR SB` and `RNG`), and one
//! task per conversation that relays messages between its participants. A room
//! also remembers its *absent* members (offline contacts invited with `CAL`,
//! and, with offline messages on, participants who left) so their messages can
//! be stored, and may hold an offline delivery for the user it was opened for.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::Rng;
use tokio::sync::{mpsc, oneshot};

use super::event_queue::{EventSender, TrySendError};

use super::events::{Event, Receipt};
use super::offline::{Conversation, QueuedMessage};

/// What a cookie admits its holder to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookiePurpose {
    /// A new room (cookie from `XFR SB`).
    Create,
    /// An existing room (cookie from `RNG`).
    Join {
        /// The room id (the session id sent in `RNG`).
        room: u64,
    },
}

#[derive(Debug)]
struct PendingCookie {
    email: String,
    nick: String,
    protocol: u8,
    purpose: CookiePurpose,
    expires: Instant,
}

/// One member of a room.
#[derive(Debug, Clone)]
pub struct Participant {
    /// Account name.
    pub email: String,
    /// Friendly name.
    pub nick: String,
    /// Client capabilities.
    pub capabilities: u64,
    /// The participant's switchboard connection outbox ([`EventSender::close`]
    /// closes the connection: slow reader).
    pub tx: EventSender,
}

/// Why joining or using a room failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RoomError {
    /// Unknown, expired or mismatched cookie.
    #[error("invalid cookie")]
    BadCookie,
    /// The room closed.
    #[error("room closed")]
    Closed,
    /// The room has its maximum number of participants.
    #[error("room full")]
    Full,
    /// The user is already in the room.
    #[error("already in room")]
    AlreadyJoined,
}

/// Queued messages a room hands to the user it was opened for, when they join
/// (answering the `RNG` sent on the sender's behalf).
#[derive(Debug)]
pub struct Delivery {
    /// Who the messages are for.
    pub recipient: String,
    /// Who sent them (shown as the caller and in `IRO`; absent from the room).
    pub sender_email: String,
    /// The sender's friendly name as stored with the first message.
    pub sender_nick: String,
    /// The messages, oldest first.
    pub messages: Vec<QueuedMessage>,
    /// Confirmed once the messages were written to the recipient's connection.
    pub receipt: Receipt,
}

/// What joining a room gives the joiner.
#[derive(Debug)]
pub struct Joined {
    /// The participants already there, in join order.
    pub others: Vec<Participant>,
    /// Queued messages waiting for the joiner in this room, if any.
    pub delivery: Option<Delivery>,
}

/// What the room did with a message.
#[derive(Debug, Default)]
pub struct Relay {
    /// The sender's friendly name (`None`: the sender is not in the room).
    pub nick: Option<String>,
    /// Participants the message was handed to, each with the receiver of its
    /// write confirmation (only when confirmations were asked for).
    pub receipts: Vec<(String, oneshot::Receiver<()>)>,
    /// How many participants the message was handed to without a confirmation.
    pub untracked: usize,
    /// Absent members (invited offline contacts, participants who left).
    pub absent: Vec<String>,
    /// The conversation the message belongs to: the pair of accounts when the
    /// room has only ever had two people (present or absent), else the room.
    pub conversation: Option<Conversation>,
}

enum RoomCmd {
    Join {
        who: Participant,
        reply: oneshot::Sender<Result<Joined, RoomError>>,
    },
    Message {
        from: String,
        payload: Bytes,
        confirm: bool,
        reply: oneshot::Sender<Relay>,
    },
    Roster {
        reply: oneshot::Sender<Vec<String>>,
    },
    InviteAbsent {
        email: String,
        reply: oneshot::Sender<Result<(), RoomError>>,
    },
    Ringing {
        email: String,
    },
    Offer {
        delivery: Delivery,
    },
    Withdraw {
        recipient: String,
        reply: oneshot::Sender<bool>,
    },
    Leave {
        email: String,
        idle: bool,
    },
}

/// A handle to a running room.
#[derive(Debug, Clone)]
pub struct RoomHandle {
    id: u64,
    tx: mpsc::Sender<RoomCmd>,
}

impl std::fmt::Debug for RoomCmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RoomCmd")
    }
}

/// How long a room waits for its actor before answering "closed".
const ROOM_REPLY_TIMEOUT: Duration = Duration::from_secs(10);

impl RoomHandle {
    /// The room id (the session id of `RNG`/`CAL ... RINGING`).
    pub fn id(&self) -> u64 {
        self.id
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> RoomCmd) -> Option<T> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(make(reply)).await.ok()?;
        tokio::time::timeout(ROOM_REPLY_TIMEOUT, rx)
            .await
            .ok()?
            .ok()
    }

    /// Joins the room; returns the participants already there (in join order)
    /// and any delivery waiting for the joiner.
    pub async fn join(&self, who: Participant) -> Result<Joined, RoomError> {
        self.ask(|reply| RoomCmd::Join { who, reply })
            .await
            .unwrap_or(Err(RoomError::Closed))
    }

    /// Relays a message to every other participant, with a write confirmation
    /// per participant when `confirm` is set; says who got it, who is absent
    /// and which conversation it belongs to. An empty [`Relay`] if the room is
    /// gone or `from` is not in it.
    pub async fn send(&self, from: &str, payload: Bytes, confirm: bool) -> Relay {
        self.ask(|reply| RoomCmd::Message {
            from: from.to_owned(),
            payload,
            confirm,
            reply,
        })
        .await
        .unwrap_or_default()
    }

    /// Records `email` as an absent member (an offline contact invited with
    /// `CAL`). Full when present and absent members would exceed the room's
    /// maximum; Closed when the room is gone.
    pub async fn invite_absent(&self, email: &str) -> Result<(), RoomError> {
        self.ask(|reply| RoomCmd::InviteAbsent {
            email: email.to_owned(),
            reply,
        })
        .await
        .unwrap_or(Err(RoomError::Closed))
    }

    /// `email` was rung live: they are no longer an absent member.
    pub async fn ringing(&self, email: &str) {
        let _ = self
            .tx
            .send(RoomCmd::Ringing {
                email: email.to_owned(),
            })
            .await;
    }

    /// Takes back the delivery waiting for `recipient` (dropping it): `Some(true)`
    /// if it was still waiting, `Some(false)` if the recipient already joined
    /// and got it, `None` if the room is gone.
    pub async fn withdraw(&self, recipient: &str) -> Option<bool> {
        self.ask(|reply| RoomCmd::Withdraw {
            recipient: recipient.to_owned(),
            reply,
        })
        .await
    }

    /// Hands the room a delivery for `delivery.recipient`, given to them when they
    /// join; the sender becomes an absent member (so replies reach them). If the
    /// room closes first the delivery is dropped unconfirmed.
    pub async fn offer(&self, delivery: Delivery) {
        let _ = self.tx.send(RoomCmd::Offer { delivery }).await;
    }

    /// The account names in the room.
    pub async fn roster(&self) -> Vec<String> {
        self.ask(|reply| RoomCmd::Roster { reply })
            .await
            .unwrap_or_default()
    }

    /// Leaves the room (the others get `BYE`).
    pub async fn leave(&self, email: &str, idle: bool) {
        let _ = self
            .tx
            .send(RoomCmd::Leave {
                email: email.to_owned(),
                idle,
            })
            .await;
    }
}

#[derive(Debug, Default)]
struct HubState {
    cookies: HashMap<String, PendingCookie>,
    rooms: HashMap<u64, RoomHandle>,
}

/// All switchboards of this process, and the cookies that admit users to them.
#[derive(Debug)]
pub struct SwitchboardHub {
    state: Mutex<HubState>,
    next_room: AtomicU64,
    cookie_lifetime: Duration,
    max_participants: usize,
    keep_leavers: bool,
}

/// The admitted identity of a switchboard user after a cookie check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    /// Friendly name carried by the cookie.
    pub nick: String,
    /// The protocol version number the holder's client speaks (opaque to the core).
    pub protocol: u8,
    /// What the cookie admits to.
    pub purpose: CookiePurpose,
}

impl SwitchboardHub {
    /// A hub whose cookies last `cookie_lifetime`, with rooms of at most
    /// `max_participants`; with `keep_leavers`, participants who leave stay in
    /// their room as absent members (offline messages on).
    pub fn new(
        cookie_lifetime: Duration,
        max_participants: usize,
        keep_leavers: bool,
    ) -> Arc<Self> {
        Arc::new(SwitchboardHub {
            state: Mutex::new(HubState::default()),
            next_room: AtomicU64::new(rand::rng().random_range(10_000_000..99_999_999)),
            cookie_lifetime,
            max_participants: max_participants.max(2),
            keep_leavers,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Issues a one-time cookie for `email` (with their nick and the protocol version
    /// their client speaks) for `purpose`.
    pub fn issue_cookie(
        &self,
        email: &str,
        nick: &str,
        protocol: u8,
        purpose: CookiePurpose,
    ) -> String {
        let mut rng = rand::rng();
        let cookie = format!(
            "{}.{}.{}",
            rng.random_range(10_000_000u64..99_999_999),
            rng.random_range(1_000_000_000u64..9_999_999_999),
            rng.random_range(10_000u32..99_999)
        );
        let now = Instant::now();
        let mut state = self.lock();
        state.cookies.retain(|_, c| c.expires > now);
        state.cookies.insert(
            cookie.clone(),
            PendingCookie {
                email: email.to_owned(),
                nick: nick.to_owned(),
                protocol,
                purpose,
                expires: now + self.cookie_lifetime,
            },
        );
        cookie
    }

    /// Consumes a cookie presented by `email`; `room` must match for join cookies.
    pub fn redeem(
        &self,
        email: &str,
        cookie: &str,
        room: Option<u64>,
    ) -> Result<Admission, RoomError> {
        let mut state = self.lock();
        let pending = state.cookies.remove(cookie).ok_or(RoomError::BadCookie)?;
        let valid = pending.email == email
            && pending.expires > Instant::now()
            && match (pending.purpose, room) {
                (CookiePurpose::Create, None) => true,
                (CookiePurpose::Join { room: want }, Some(got)) => want == got,
                _ => false,
            };
        if !valid {
            return Err(RoomError::BadCookie);
        }
        Ok(Admission {
            nick: pending.nick,
            protocol: pending.protocol,
            purpose: pending.purpose,
        })
    }

    /// The running room with this id.
    pub fn room(&self, id: u64) -> Option<RoomHandle> {
        self.lock().rooms.get(&id).cloned()
    }

    /// Number of open rooms.
    pub fn room_count(&self) -> usize {
        self.lock().rooms.len()
    }

    /// Starts a new, empty room task. A room nobody joins within the cookie
    /// lifetime closes; a room closes when its last present member leaves.
    pub fn create_room(self: &Arc<Self>) -> RoomHandle {
        let id = self.next_room.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(256);
        let handle = RoomHandle { id, tx };
        self.lock().rooms.insert(id, handle.clone());
        let hub = Arc::clone(self);
        let room = Room {
            members: Vec::new(),
            absent: Vec::new(),
            ever: BTreeSet::new(),
            key: format!("{:032x}", rand::random::<u128>()),
            deliveries: HashMap::new(),
            max: hub.max_participants,
            keep_leavers: hub.keep_leavers,
        };
        let first_join = Instant::now() + hub.cookie_lifetime;
        tokio::spawn(async move {
            room.run(rx, first_join).await;
            hub.lock().rooms.remove(&id);
        });
        handle
    }
}

/// The state of one room, owned by its task.
struct Room {
    /// Present participants, in join order.
    members: Vec<Participant>,
    /// Absent members: invited offline contacts and (with `keep_leavers`)
    /// participants who left.
    absent: Vec<String>,
    /// Everyone who has been a present or absent member: decides whether the
    /// room is a one-to-one conversation.
    ever: BTreeSet<String>,
    /// Random key of the room's own conversation (when more than two people).
    key: String,
    /// Deliveries waiting for their recipient to join.
    deliveries: HashMap<String, Delivery>,
    max: usize,
    keep_leavers: bool,
}

impl Room {
    /// Runs until the last present member leaves, or until `first_join` passes
    /// with nobody having joined.
    async fn run(mut self, mut rx: mpsc::Receiver<RoomCmd>, first_join: Instant) {
        let mut had_members = false;
        loop {
            let cmd = if had_members {
                rx.recv().await
            } else {
                tokio::time::timeout_at(first_join.into(), rx.recv())
                    .await
                    .ok()
                    .flatten()
            };
            let Some(cmd) = cmd else {
                break;
            };
            match cmd {
                RoomCmd::Join { who, reply } => {
                    let result = self.join(who);
                    had_members |= result.is_ok();
                    let _ = reply.send(result);
                }
                RoomCmd::Message {
                    from,
                    payload,
                    confirm,
                    reply,
                } => {
                    let _ = reply.send(self.relay(&from, &payload, confirm));
                }
                RoomCmd::Roster { reply } => {
                    let _ = reply.send(self.members.iter().map(|m| m.email.clone()).collect());
                }
                RoomCmd::InviteAbsent { email, reply } => {
                    let _ = reply.send(self.invite_absent(email));
                }
                RoomCmd::Ringing { email } => self.absent.retain(|a| *a != email),
                RoomCmd::Offer { delivery } => {
                    self.ever.insert(delivery.recipient.clone());
                    self.ever.insert(delivery.sender_email.clone());
                    if !self.absent.contains(&delivery.sender_email) {
                        self.absent.push(delivery.sender_email.clone());
                    }
                    self.deliveries.insert(delivery.recipient.clone(), delivery);
                }
                RoomCmd::Withdraw { recipient, reply } => {
                    let _ = reply.send(self.deliveries.remove(&recipient).is_some());
                }
                RoomCmd::Leave { email, idle } => self.leave(email, idle),
            }
            if had_members && self.members.is_empty() {
                break;
            }
        }
    }

    fn join(&mut self, who: Participant) -> Result<Joined, RoomError> {
        if self.members.iter().any(|m| m.email == who.email) {
            return Err(RoomError::AlreadyJoined);
        }
        if self.members.len() >= self.max {
            return Err(RoomError::Full);
        }
        let others = self.members.clone();
        for m in &self.members {
            deliver(
                m,
                Event::Joined {
                    email: who.email.clone(),
                    nick: who.nick.clone(),
                    capabilities: who.capabilities,
                },
            );
        }
        self.absent.retain(|a| *a != who.email);
        self.ever.insert(who.email.clone());
        let delivery = self.deliveries.remove(&who.email);
        self.members.push(who);
        Ok(Joined { others, delivery })
    }

    fn relay(&mut self, from: &str, payload: &Bytes, confirm: bool) -> Relay {
        let Some(nick) = self
            .members
            .iter()
            .find(|m| m.email == from)
            .map(|m| m.nick.clone())
        else {
            return Relay::default();
        };
        let mut relay = Relay {
            absent: self.absent.clone(),
            conversation: self.conversation(),
            ..Relay::default()
        };
        for m in self.members.iter().filter(|m| m.email != from) {
            let (receipt, rx) = if confirm {
                let (receipt, rx) = Receipt::new();
                (Some(receipt), Some(rx))
            } else {
                (None, None)
            };
            let handed = deliver(
                m,
                Event::Message {
                    email: from.to_owned(),
                    nick: nick.clone(),
                    payload: payload.clone(),
                    receipt,
                },
            );
            match rx {
                // Not handed over: the receipt is gone and the receiver says so.
                Some(rx) => relay.receipts.push((m.email.clone(), rx)),
                None if handed => relay.untracked += 1,
                None => {}
            }
        }
        relay.nick = Some(nick);
        relay
    }

    /// The conversation of the room's messages: the pair when only two people
    /// have ever been in it, else the room itself.
    fn conversation(&self) -> Option<Conversation> {
        let mut ever = self.ever.iter();
        match (ever.next(), ever.next(), ever.next()) {
            (Some(a), Some(b), None) => Some(Conversation::pair(a, b)),
            (Some(_), Some(_), Some(_)) => Some(Conversation::Room {
                key: self.key.clone(),
            }),
            _ => None,
        }
    }

    fn invite_absent(&mut self, email: String) -> Result<(), RoomError> {
        if self.absent.contains(&email) {
            return Ok(());
        }
        if self.members.len() + self.absent.len() >= self.max {
            return Err(RoomError::Full);
        }
        self.ever.insert(email.clone());
        self.absent.push(email);
        Ok(())
    }

    fn leave(&mut self, email: String, idle: bool) {
        let before = self.members.len();
        self.members.retain(|m| m.email != email);
        if self.members.len() == before {
            return;
        }
        for m in &self.members {
            deliver(
                m,
                Event::Left {
                    email: email.clone(),
                    idle,
                },
            );
        }
        if self.keep_leavers && !self.absent.contains(&email) {
            self.absent.push(email);
        }
    }
}

fn deliver(member: &Participant, event: Event) -> bool {
    match member.tx.try_send(event) {
        Ok(()) => true,
        Err(TrySendError::Full(_)) => {
            tracing::warn!(member = %member.email, "switchboard outbox full: closing slow member");
            member.tx.close();
            false
        }
        Err(TrySendError::Closed(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn participant(email: &str) -> (Participant, crate::core::event_queue::EventReceiver) {
        let (tx, rx) = crate::core::event_queue::channel(8);
        (
            Participant {
                email: email.into(),
                nick: email.into(),
                capabilities: 0,
                tx,
            },
            rx,
        )
    }

    #[test]
    fn cookies_are_single_use_and_bound_to_user_and_room() {
        let hub = SwitchboardHub::new(Duration::from_secs(60), 4, false);
        let c = hub.issue_cookie("a@x.com", "A", 8, CookiePurpose::Create);
        assert_eq!(hub.redeem("b@x.com", &c, None), Err(RoomError::BadCookie));
        let c = hub.issue_cookie("a@x.com", "A", 8, CookiePurpose::Create);
        assert!(hub.redeem("a@x.com", &c, None).is_ok());
        assert_eq!(hub.redeem("a@x.com", &c, None), Err(RoomError::BadCookie));
        let j = hub.issue_cookie("b@x.com", "B", 8, CookiePurpose::Join { room: 7 });
        assert_eq!(
            hub.redeem("b@x.com", &j, Some(8)),
            Err(RoomError::BadCookie)
        );
        let j = hub.issue_cookie("b@x.com", "B", 8, CookiePurpose::Join { room: 7 });
        assert!(hub.redeem("b@x.com", &j, Some(7)).is_ok());
    }

    #[test]
    fn cookies_expire() {
        let hub = SwitchboardHub::new(Duration::ZERO, 4, false);
        let c = hub.issue_cookie("a@x.com", "A", 8, CookiePurpose::Create);
        assert_eq!(hub.redeem("a@x.com", &c, None), Err(RoomError::BadCookie));
    }

    #[tokio::test]
    async fn relay_join_leave_and_close() {
        let hub = SwitchboardHub::new(Duration::from_secs(60), 2, false);
        let room = hub.create_room();
        let (a, mut a_rx) = participant("a@x.com");
        let (b, mut b_rx) = participant("b@x.com");
        let (c, _c_rx) = participant("c@x.com");
        assert!(room.join(a).await.unwrap().others.is_empty());
        let before = room.join(b).await.unwrap();
        assert_eq!(before.others.len(), 1);
        assert!(before.delivery.is_none());
        assert!(
            matches!(a_rx.recv().await, Some(Event::Joined { email, .. }) if email == "b@x.com")
        );
        assert_eq!(room.join(c).await.unwrap_err(), RoomError::Full);
        let relay = room.send("a@x.com", Bytes::from_static(b"hi"), false).await;
        assert_eq!(relay.untracked, 1);
        assert_eq!(relay.nick.as_deref(), Some("a@x.com"));
        assert_eq!(
            relay.conversation,
            Some(Conversation::pair("a@x.com", "b@x.com"))
        );
        assert!(
            matches!(b_rx.recv().await, Some(Event::Message { payload, .. }) if &payload[..] == b"hi")
        );
        room.leave("b@x.com", false).await;
        assert!(matches!(a_rx.recv().await, Some(Event::Left { email, .. }) if email == "b@x.com"));
        let alone = room
            .send("a@x.com", Bytes::from_static(b"alone"), true)
            .await;
        assert!(alone.receipts.is_empty() && alone.untracked == 0 && alone.absent.is_empty());
        room.leave("a@x.com", false).await;
        for _ in 0..100 {
            if hub.room_count() == 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(hub.room_count(), 0);
        assert!(hub.room(room.id()).is_none());
    }

    async fn wait_closed(hub: &SwitchboardHub, room: &RoomHandle) {
        for _ in 0..1000 {
            if hub.room(room.id()).is_none() {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("room {} did not close", room.id());
    }

    #[tokio::test]
    async fn receipts_confirm_writes_and_fail_when_dropped() {
        let hub = SwitchboardHub::new(Duration::from_secs(60), 4, false);
        let room = hub.create_room();
        let (a, _a_rx) = participant("a@x.com");
        let (b, mut b_rx) = participant("b@x.com");
        let (c, c_rx) = participant("c@x.com");
        room.join(a).await.unwrap();
        room.join(b).await.unwrap();
        room.join(c).await.unwrap();
        drop(c_rx);
        let mut relay = room.send("a@x.com", Bytes::from_static(b"hi"), true).await;
        assert_eq!(relay.untracked, 0);
        assert_eq!(relay.receipts.len(), 2);
        // b's connection writes it and confirms; c's connection is gone.
        assert!(matches!(b_rx.recv().await, Some(Event::Joined { .. })));
        let Some(Event::Message { receipt, .. }) = b_rx.recv().await else {
            panic!("no message for b")
        };
        receipt.unwrap().confirm();
        let (c_email, c_done) = relay.receipts.pop().unwrap();
        let (b_email, b_done) = relay.receipts.pop().unwrap();
        assert_eq!((b_email.as_str(), c_email.as_str()), ("b@x.com", "c@x.com"));
        assert!(b_done.await.is_ok());
        assert!(c_done.await.is_err());
        // Three people: the room's own conversation.
        assert!(matches!(
            relay.conversation,
            Some(Conversation::Room { .. })
        ));
    }

    #[tokio::test]
    async fn absent_members_and_leavers() {
        let hub = SwitchboardHub::new(Duration::from_secs(60), 3, true);
        let room = hub.create_room();
        let (a, _a_rx) = participant("a@x.com");
        let (b, _b_rx) = participant("b@x.com");
        room.join(a).await.unwrap();
        room.invite_absent("c@x.com").await.unwrap();
        // Inviting again is harmless; a fourth member would exceed the maximum.
        room.invite_absent("c@x.com").await.unwrap();
        room.join(b).await.unwrap();
        assert_eq!(room.invite_absent("d@x.com").await, Err(RoomError::Full));
        let relay = room.send("a@x.com", Bytes::from_static(b"x"), true).await;
        assert_eq!(relay.absent, ["c@x.com"]);
        // b leaves and stays as an absent member; c is rung live and is not.
        room.leave("b@x.com", false).await;
        room.ringing("c@x.com").await;
        let relay = room.send("a@x.com", Bytes::from_static(b"y"), true).await;
        assert_eq!(relay.absent, ["b@x.com"]);
        assert!(relay.receipts.is_empty());
        assert!(matches!(
            relay.conversation,
            Some(Conversation::Room { .. })
        ));
        // Rejoining makes b present again.
        let (b, _b_rx2) = participant("b@x.com");
        room.join(b).await.unwrap();
        let relay = room.send("a@x.com", Bytes::from_static(b"z"), true).await;
        assert!(relay.absent.is_empty());
        assert_eq!(relay.receipts.len(), 1);
    }

    #[tokio::test]
    async fn leavers_are_forgotten_without_offline_messages() {
        let hub = SwitchboardHub::new(Duration::from_secs(60), 3, false);
        let room = hub.create_room();
        let (a, _a_rx) = participant("a@x.com");
        let (b, _b_rx) = participant("b@x.com");
        room.join(a).await.unwrap();
        room.join(b).await.unwrap();
        room.leave("b@x.com", false).await;
        let relay = room.send("a@x.com", Bytes::from_static(b"x"), true).await;
        assert!(relay.absent.is_empty() && relay.receipts.is_empty());
        // A message from someone not in the room goes nowhere.
        let stranger = room.send("z@x.com", Bytes::from_static(b"x"), true).await;
        assert!(stranger.nick.is_none());
    }

    #[tokio::test]
    async fn deliveries_go_to_their_recipient_on_join() {
        let hub = SwitchboardHub::new(Duration::from_secs(60), 4, true);
        let room = hub.create_room();
        let (receipt, done) = Receipt::new();
        room.offer(Delivery {
            recipient: "b@x.com".into(),
            sender_email: "a@x.com".into(),
            sender_nick: "A".into(),
            messages: vec![QueuedMessage {
                id: 7,
                sender_email: "a@x.com".into(),
                sender_nick: "A".into(),
                sent_at_us: 1,
                payload: Bytes::from_static(b"hello"),
                history: None,
            }],
            receipt,
        })
        .await;
        assert_eq!(room.withdraw("c@x.com").await, Some(false));
        let (b, _b_rx) = participant("b@x.com");
        let joined = room.join(b).await.unwrap();
        assert!(joined.others.is_empty());
        assert_eq!(room.withdraw("b@x.com").await, Some(false));
        let delivery = joined.delivery.unwrap();
        assert_eq!(delivery.messages[0].id, 7);
        delivery.receipt.confirm();
        assert!(done.await.is_ok());
        // The sender is an absent member: a reply is for them, one to one.
        let relay = room.send("b@x.com", Bytes::from_static(b"re"), true).await;
        assert_eq!(relay.absent, ["a@x.com"]);
        assert_eq!(
            relay.conversation,
            Some(Conversation::pair("a@x.com", "b@x.com"))
        );
    }

    #[tokio::test]
    async fn rooms_nobody_joins_close_and_drop_their_delivery() {
        let hub = SwitchboardHub::new(Duration::from_millis(20), 4, true);
        let room = hub.create_room();
        let (receipt, done) = Receipt::new();
        room.offer(Delivery {
            recipient: "b@x.com".into(),
            sender_email: "a@x.com".into(),
            sender_nick: "A".into(),
            messages: Vec::new(),
            receipt,
        })
        .await;
        // Nobody joins before the cookie lifetime ends: the room closes.
        assert!(done.await.is_err());
        wait_closed(&hub, &room).await;
        assert_eq!(hub.room_count(), 0);
        assert_eq!(room.withdraw("b@x.com").await, None);
    }

    #[tokio::test]
    async fn withdrawn_deliveries_are_dropped() {
        let hub = SwitchboardHub::new(Duration::from_secs(60), 4, true);
        let room = hub.create_room();
        let (receipt, done) = Receipt::new();
        room.offer(Delivery {
            recipient: "b@x.com".into(),
            sender_email: "a@x.com".into(),
            sender_nick: "A".into(),
            messages: Vec::new(),
            receipt,
        })
        .await;
        assert_eq!(room.withdraw("b@x.com").await, Some(true));
        assert!(done.await.is_err());
        let (b, _b_rx) = participant("b@x.com");
        assert!(room.join(b).await.unwrap().delivery.is_none());
    }
}
