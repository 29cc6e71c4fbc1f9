//! The bounded queue of [`Event`]s into one session (its outbox input).
//!
//! A `VecDeque` behind a mutex, with a `Notify` for the one receiver and one
//! for senders waiting for room. Unlike a preallocating channel it holds no
//! buffer while empty: the storage grows with a burst and is released once the
//! burst is taken, so an idle connection's queue costs about a hundred bytes.
//! Senders mostly use [`EventSender::try_send`], which never waits: a full
//! queue means a slow reader, which the caller disconnects.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use super::events::Event;

/// Queued capacity kept after a burst is drained; more is released.
const KEEP_CAPACITY: usize = 8;

/// Why [`EventSender::try_send`] did not queue the event (it is handed back).
#[derive(Debug, PartialEq, Eq)]
pub enum TrySendError {
    /// The queue holds its capacity.
    Full(Event),
    /// The receiver is gone.
    Closed(Event),
}

/// Why [`EventReceiver::try_recv`] returned nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing queued now.
    Empty,
    /// Nothing queued and every sender is gone.
    Disconnected,
}

#[derive(Debug)]
struct State {
    items: VecDeque<Event>,
    senders: usize,
    receiver_alive: bool,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    capacity: usize,
    /// Wakes the receiver when an event arrives or the last sender leaves.
    arrived: Notify,
    /// Wakes senders waiting in [`EventSender::send`] when room appears, and
    /// in [`EventSender::closed`] when the receiver goes.
    room: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A queue holding at most `capacity` events (at least 1).
pub fn channel(capacity: usize) -> (EventSender, EventReceiver) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            items: VecDeque::new(),
            senders: 1,
            receiver_alive: true,
        }),
        capacity: capacity.max(1),
        arrived: Notify::new(),
        room: Notify::new(),
    });
    (
        EventSender {
            shared: Arc::clone(&shared),
        },
        EventReceiver { shared },
    )
}

/// Puts events into a session's queue. Cloning makes another sender.
#[derive(Debug)]
pub struct EventSender {
    shared: Arc<Shared>,
}

impl Clone for EventSender {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        EventSender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for EventSender {
    fn drop(&mut self) {
        let last = {
            let mut state = self.shared.lock();
            state.senders -= 1;
            state.senders == 0
        };
        if last {
            self.shared.arrived.notify_one();
        }
    }
}

impl EventSender {
    /// Queues `event` now, or hands it back when the queue is full or closed.
    pub fn try_send(&self, event: Event) -> Result<(), TrySendError> {
        {
            let mut state = self.shared.lock();
            if !state.receiver_alive {
                return Err(TrySendError::Closed(event));
            }
            if state.items.len() >= self.shared.capacity {
                return Err(TrySendError::Full(event));
            }
            state.items.push_back(event);
        }
        self.shared.arrived.notify_one();
        Ok(())
    }

    /// Completes once the receiver is gone (the session ended).
    pub async fn closed(&self) {
        loop {
            let room = self.shared.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            if !self.shared.lock().receiver_alive {
                return;
            }
            room.await;
        }
    }

    /// Queues `event`, waiting for room; hands it back when the receiver is gone.
    pub async fn send(&self, mut event: Event) -> Result<(), Event> {
        loop {
            let room = self.shared.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            match self.try_send(event) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Closed(back)) => return Err(back),
                Err(TrySendError::Full(back)) => event = back,
            }
            room.await;
        }
    }
}

/// The session's end of the queue.
#[derive(Debug)]
pub struct EventReceiver {
    shared: Arc<Shared>,
}

impl Drop for EventReceiver {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.receiver_alive = false;
        state.items = VecDeque::new();
        drop(state);
        self.shared.room.notify_waiters();
    }
}

impl EventReceiver {
    /// Takes the next event if one is queued.
    pub fn try_recv(&mut self) -> Result<Event, TryRecvError> {
        let mut state = self.shared.lock();
        let was_full = state.items.len() >= self.shared.capacity;
        match state.items.pop_front() {
            Some(event) => {
                if state.items.is_empty() && state.items.capacity() > KEEP_CAPACITY {
                    state.items = VecDeque::new();
                }
                drop(state);
                if was_full {
                    self.shared.room.notify_waiters();
                }
                Ok(event)
            }
            None if state.senders == 0 => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Waits for the next event; `None` once every sender is gone and the
    /// queue is empty. Cancel-safe: an event is only taken when returned.
    pub async fn recv(&mut self) -> Option<Event> {
        loop {
            match self.try_recv() {
                Ok(event) => return Some(event),
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) => self.shared.arrived.notified().await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::core::events::KickReason;

    fn ev(n: u32) -> Event {
        Event::AddedToReverseList {
            version: n,
            email: format!("u{n}@x.com"),
            nick: "n".into(),
        }
    }

    #[tokio::test]
    async fn bounded_ordered_and_released_after_a_burst() {
        let (tx, mut rx) = channel(100);
        for n in 0..100 {
            tx.try_send(ev(n)).unwrap();
        }
        assert!(matches!(tx.try_send(ev(100)), Err(TrySendError::Full(_))));
        for n in 0..100 {
            assert_eq!(rx.recv().await, Some(ev(n)));
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(rx.shared.lock().items.capacity(), 0);
    }

    #[tokio::test]
    async fn recv_wakes_on_send_and_ends_when_senders_are_gone() {
        let (tx, mut rx) = channel(4);
        let tx2 = tx.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            tx2.try_send(Event::Kick(KickReason::Shutdown)).unwrap();
        });
        assert_eq!(rx.recv().await, Some(Event::Kick(KickReason::Shutdown)));
        task.await.unwrap();
        drop(tx);
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    }

    #[tokio::test]
    async fn send_waits_for_room_and_fails_once_the_receiver_is_gone() {
        let (tx, mut rx) = channel(1);
        tx.try_send(ev(1)).unwrap();
        let tx2 = tx.clone();
        let waiting = tokio::spawn(async move { tx2.send(ev(2)).await });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!waiting.is_finished());
        assert_eq!(rx.recv().await, Some(ev(1)));
        waiting.await.unwrap().unwrap();
        assert_eq!(rx.recv().await, Some(ev(2)));
        let watcher = tx.clone();
        let closed = tokio::spawn(async move { watcher.closed().await });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!closed.is_finished());
        drop(rx);
        closed.await.unwrap();
        assert!(matches!(tx.try_send(ev(3)), Err(TrySendError::Closed(_))));
        assert_eq!(tx.send(ev(4)).await, Err(ev(4)));
    }
}
