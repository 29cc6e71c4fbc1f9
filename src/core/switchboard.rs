//! Switchboards: the cookies that admit users (from `XFR SB` and `RNG`), and one
//! task per conversation that relays messages between its participants.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::Rng;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::events::Event;

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
    /// The participant's switchboard connection outbox.
    pub tx: mpsc::Sender<Event>,
    /// Cancelled to close the participant's connection (slow reader).
    pub close: CancellationToken,
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

enum RoomCmd {
    Join {
        who: Participant,
        reply: oneshot::Sender<Result<Vec<Participant>, RoomError>>,
    },
    Message {
        from: String,
        payload: Bytes,
        reply: oneshot::Sender<usize>,
    },
    Roster {
        reply: oneshot::Sender<Vec<String>>,
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

    /// Joins the room; returns the participants already there (in join order).
    pub async fn join(&self, who: Participant) -> Result<Vec<Participant>, RoomError> {
        self.ask(|reply| RoomCmd::Join { who, reply })
            .await
            .unwrap_or(Err(RoomError::Closed))
    }

    /// Relays a message to every other participant; returns how many got it.
    pub async fn send(&self, from: &str, payload: Bytes) -> usize {
        self.ask(|reply| RoomCmd::Message {
            from: from.to_owned(),
            payload,
            reply,
        })
        .await
        .unwrap_or(0)
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
    /// A hub whose cookies last `cookie_lifetime`, with rooms of at most `max_participants`.
    pub fn new(cookie_lifetime: Duration, max_participants: usize) -> Arc<Self> {
        Arc::new(SwitchboardHub {
            state: Mutex::new(HubState::default()),
            next_room: AtomicU64::new(rand::rng().random_range(10_000_000..99_999_999)),
            cookie_lifetime,
            max_participants: max_participants.max(2),
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

    /// Starts a new, empty room task.
    pub fn create_room(self: &Arc<Self>) -> RoomHandle {
        let id = self.next_room.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(256);
        let handle = RoomHandle { id, tx };
        self.lock().rooms.insert(id, handle.clone());
        let hub = Arc::clone(self);
        tokio::spawn(async move {
            run_room(rx, hub.max_participants).await;
            hub.lock().rooms.remove(&id);
        });
        handle
    }
}

/// The room actor: owns the participant list; ends when the last one leaves.
async fn run_room(mut rx: mpsc::Receiver<RoomCmd>, max: usize) {
    let mut members: Vec<Participant> = Vec::new();
    let mut had_members = false;
    while let Some(cmd) = rx.recv().await {
        match cmd {
            RoomCmd::Join { who, reply } => {
                let result = if members.iter().any(|m| m.email == who.email) {
                    Err(RoomError::AlreadyJoined)
                } else if members.len() >= max {
                    Err(RoomError::Full)
                } else {
                    let before = members.clone();
                    for m in &members {
                        deliver(
                            m,
                            Event::Joined {
                                email: who.email.clone(),
                                nick: who.nick.clone(),
                                capabilities: who.capabilities,
                            },
                        );
                    }
                    members.push(who);
                    had_members = true;
                    Ok(before)
                };
                let _ = reply.send(result);
            }
            RoomCmd::Message {
                from,
                payload,
                reply,
            } => {
                let nick = members
                    .iter()
                    .find(|m| m.email == from)
                    .map(|m| m.nick.clone());
                let mut delivered = 0;
                if let Some(nick) = nick {
                    for m in members.iter().filter(|m| m.email != from) {
                        if deliver(
                            m,
                            Event::Message {
                                email: from.clone(),
                                nick: nick.clone(),
                                payload: payload.clone(),
                            },
                        ) {
                            delivered += 1;
                        }
                    }
                }
                let _ = reply.send(delivered);
            }
            RoomCmd::Roster { reply } => {
                let _ = reply.send(members.iter().map(|m| m.email.clone()).collect());
            }
            RoomCmd::Leave { email, idle } => {
                let before = members.len();
                members.retain(|m| m.email != email);
                if members.len() != before {
                    for m in &members {
                        deliver(
                            m,
                            Event::Left {
                                email: email.clone(),
                                idle,
                            },
                        );
                    }
                }
            }
        }
        if had_members && members.is_empty() {
            break;
        }
    }
}

fn deliver(member: &Participant, event: Event) -> bool {
    match member.tx.try_send(event) {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Full(_)) => {
            tracing::warn!(member = %member.email, "switchboard outbox full: closing slow member");
            member.close.cancel();
            false
        }
        Err(mpsc::error::TrySendError::Closed(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn participant(email: &str) -> (Participant, mpsc::Receiver<Event>) {
        let (tx, rx) = mpsc::channel(8);
        (
            Participant {
                email: email.into(),
                nick: email.into(),
                capabilities: 0,
                tx,
                close: CancellationToken::new(),
            },
            rx,
        )
    }

    #[test]
    fn cookies_are_single_use_and_bound_to_user_and_room() {
        let hub = SwitchboardHub::new(Duration::from_secs(60), 4);
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
        let hub = SwitchboardHub::new(Duration::ZERO, 4);
        let c = hub.issue_cookie("a@x.com", "A", 8, CookiePurpose::Create);
        assert_eq!(hub.redeem("a@x.com", &c, None), Err(RoomError::BadCookie));
    }

    #[tokio::test]
    async fn relay_join_leave_and_close() {
        let hub = SwitchboardHub::new(Duration::from_secs(60), 2);
        let room = hub.create_room();
        let (a, mut a_rx) = participant("a@x.com");
        let (b, mut b_rx) = participant("b@x.com");
        let (c, _c_rx) = participant("c@x.com");
        assert!(room.join(a).await.unwrap().is_empty());
        let before = room.join(b).await.unwrap();
        assert_eq!(before.len(), 1);
        assert!(
            matches!(a_rx.recv().await, Some(Event::Joined { email, .. }) if email == "b@x.com")
        );
        assert_eq!(room.join(c).await.unwrap_err(), RoomError::Full);
        assert_eq!(room.send("a@x.com", Bytes::from_static(b"hi")).await, 1);
        assert!(
            matches!(b_rx.recv().await, Some(Event::Message { payload, .. }) if &payload[..] == b"hi")
        );
        room.leave("b@x.com", false).await;
        assert!(matches!(a_rx.recv().await, Some(Event::Left { email, .. }) if email == "b@x.com"));
        assert_eq!(room.send("a@x.com", Bytes::from_static(b"alone")).await, 0);
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
}
