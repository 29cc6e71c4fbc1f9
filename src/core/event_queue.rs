//! The bounded queue of [`Event`]s into one session (its outbox input).
//!
//! A `VecDeque` behind a mutex, with the one receiver's waker beside it and a
//! `Notify` for senders waiting for room. The receiver is polled
//! ([`EventReceiver::poll_next`]), so waiting for an event keeps no state in
//! the connection's future. Unlike a preallocating channel it holds no
//! buffer while empty: the storage grows with a burst and is released once the
//! burst is taken, so an idle connection's queue costs about a hundred bytes.
//! Senders mostly use [`EventSender::try_send`], which never waits: a full
//! queue means a slow reader, which the caller disconnects.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

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

/// What [`EventReceiver::poll_next`] has for the session.
#[derive(Debug, PartialEq)]
pub enum Next {
    /// A sender asked for the session to close.
    Close,
    /// The next queued event.
    Event(Event),
    /// Nothing queued and every sender is gone.
    Disconnected,
}

/// What one look into the queue found.
enum Taken {
    Close,
    Event(Event),
    Empty,
    Disconnected,
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
    /// A sender asked for the session to close (kick, slow reader): the
    /// receiver sees it before any queued event.
    close_requested: bool,
    /// The receiver waiting in [`EventReceiver::poll_next`] or
    /// [`EventReceiver::recv`], if it is.
    receiver_waker: Option<Waker>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    capacity: usize,
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
            close_requested: false,
            receiver_waker: None,
        }),
        capacity: capacity.max(1),
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
        let waker = {
            let mut state = self.shared.lock();
            state.senders -= 1;
            if state.senders == 0 {
                state.receiver_waker.take()
            } else {
                None
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl EventSender {
    /// Queues `event` now, or hands it back when the queue is full or closed.
    pub fn try_send(&self, event: Event) -> Result<(), TrySendError> {
        let waker = {
            let mut state = self.shared.lock();
            if !state.receiver_alive {
                return Err(TrySendError::Closed(event));
            }
            if state.items.len() >= self.shared.capacity {
                return Err(TrySendError::Full(event));
            }
            state.items.push_back(event);
            state.receiver_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Asks the session to close: its receiver returns [`Next::Close`] before
    /// any event still queued. Used for slow readers and kicks.
    pub fn close(&self) {
        let waker = {
            let mut state = self.shared.lock();
            state.close_requested = true;
            state.receiver_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Whether a close was asked for (by any sender).
    pub fn close_requested(&self) -> bool {
        self.shared.lock().close_requested
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
        state.receiver_waker = None;
        drop(state);
        self.shared.room.notify_waiters();
    }
}

impl EventReceiver {
    /// Takes the next event if one is queued (close requests are not
    /// looked at).
    pub fn try_recv(&mut self) -> Result<Event, TryRecvError> {
        match self.take(None, false) {
            Taken::Event(event) => Ok(event),
            Taken::Empty | Taken::Close => Err(TryRecvError::Empty),
            Taken::Disconnected => Err(TryRecvError::Disconnected),
        }
    }

    /// Under one lock: a close request (if `honour_close`), else the next
    /// event; when there is neither, leaves `waiting` (if any) to be woken
    /// when one comes.
    fn take(&mut self, waiting: Option<&Waker>, honour_close: bool) -> Taken {
        let mut state = self.shared.lock();
        if honour_close && state.close_requested {
            return Taken::Close;
        }
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
                Taken::Event(event)
            }
            None if state.senders == 0 => Taken::Disconnected,
            None => {
                if let Some(waker) = waiting {
                    match &mut state.receiver_waker {
                        Some(kept) if kept.will_wake(waker) => {}
                        slot => *slot = Some(waker.clone()),
                    }
                }
                Taken::Empty
            }
        }
    }

    /// A close request, else the next event, else arranges for `cx` to be
    /// woken when either comes; [`Next::Disconnected`] once every sender is
    /// gone and the queue is empty. Keeps no state of its own between polls.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Next> {
        match self.take(Some(cx.waker()), true) {
            Taken::Close => Poll::Ready(Next::Close),
            Taken::Event(event) => Poll::Ready(Next::Event(event)),
            Taken::Disconnected => Poll::Ready(Next::Disconnected),
            Taken::Empty => Poll::Pending,
        }
    }

    /// Waits for the next event; `None` once every sender is gone and the
    /// queue is empty. Ignores close requests. Cancel-safe: an event is only
    /// taken when returned.
    pub async fn recv(&mut self) -> Option<Event> {
        poll_fn(|cx| match self.take(Some(cx.waker()), false) {
            Taken::Event(event) => Poll::Ready(Some(event)),
            Taken::Disconnected => Poll::Ready(None),
            Taken::Empty | Taken::Close => Poll::Pending,
        })
        .await
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

    #[tokio::test]
    async fn a_close_request_wakes_the_receiver_and_comes_before_queued_events() {
        let (tx, mut rx) = channel(4);
        let closer = tx.clone();
        let waiting = tokio::spawn(async move {
            let next = poll_fn(|cx| rx.poll_next(cx)).await;
            (next, rx)
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!waiting.is_finished());
        closer.close();
        let (next, mut rx) = waiting.await.unwrap();
        assert_eq!(next, Next::Close);

        // Queued events stay takeable (the shutdown drain uses them), but a
        // poll answers the close first.
        tx.try_send(ev(1)).unwrap();
        assert!(tx.close_requested());
        assert_eq!(poll_fn(|cx| rx.poll_next(cx)).await, Next::Close);
        assert_eq!(rx.try_recv(), Ok(ev(1)));
    }
}
