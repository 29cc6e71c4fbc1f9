//! Group commit: one writer task per store gathers concurrent message writes
//! into one transaction, so SQLite can stay at `synchronous=FULL` (one fsync per
//! batch, not per message) and PostgreSQL commits once per batch. Each caller
//! gets a [`PendingWrite`] and learns its own result once the batch committed.
//!
//! A batch is whatever is queued when the writer wakes, topped up for at most
//! the configured window or until it holds `max_batch` messages. If the batch
//! transaction fails before `COMMIT`, each of its messages is retried in a
//! transaction of its own, so one bad message cannot fail the others; if
//! `COMMIT` itself fails, the batch may be stored and is not written again
//! (its writers get an error: at least once, never twice). A panic while
//! committing fails that batch only; the writer goes on.
//!
//! A batch with an offline queue entry commits `Durability::Synced` (its
//! acknowledgement waits for the disk); a batch of live messages' history
//! only commits `Durability::Deferred`, without waiting for the disk.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_util::FutureExt as _;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::messages::{self, MessageTx};
use super::{StoreError, StoreResult};
use crate::core::offline::{Appended, NewMessage};
use crate::failpoints::failpoint;

/// How the writer gathers messages into one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupCommit {
    /// Most messages in one transaction (at least 1).
    pub max_batch: usize,
    /// How long the writer waits for more messages after the first of a batch.
    pub window: Duration,
    /// How many writes may wait for the writer before submitters wait (or, for
    /// writes nobody waits for, are refused).
    pub queue: usize,
}

impl Default for GroupCommit {
    fn default() -> Self {
        GroupCommit {
            max_batch: 256,
            window: Duration::from_micros(1000),
            queue: 4096,
        }
    }
}

/// How firmly a batch's `COMMIT` must be on disk when it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// On disk, surviving a power loss (SQLite `synchronous=FULL`,
    /// PostgreSQL `synchronous_commit=on`): the batch queues offline
    /// messages, whose `ACK` promises exactly that.
    Synced,
    /// Safe if msnpd crashes (the operating system has the data), but a power
    /// loss or kernel crash may cost the last such commits (SQLite
    /// `synchronous=NORMAL` in WAL mode, PostgreSQL `synchronous_commit=off`):
    /// history entries of messages that were delivered live, whose `ACK`
    /// never waited for them (see protocol-spec/offline-messages.md). A later
    /// synced commit makes them durable too.
    Deferred,
}

impl Durability {
    /// What a batch of `messages` needs: synced if any of them queues an
    /// offline message.
    pub(crate) fn of(messages: &[&NewMessage]) -> Durability {
        if messages.iter().any(|message| !message.queue_for.is_empty()) {
            Durability::Synced
        } else {
            Durability::Deferred
        }
    }
}

/// A backend the writer can open message transactions on.
pub(crate) trait MessageBackend: Send + Sync + 'static {
    /// The transaction type.
    type Tx: MessageTx;
    /// Starts a write transaction whose commit is as durable as `durability` asks.
    async fn begin(&self, durability: Durability) -> StoreResult<Self::Tx>;
}

/// One write and where its result goes.
struct Job {
    message: NewMessage,
    reply: oneshot::Sender<StoreResult<Appended>>,
}

enum WriterCmd {
    Write(Job),
    /// Finish what was submitted before, then stop.
    Close(oneshot::Sender<()>),
}

/// The submitting side of a store's writer.
#[derive(Debug, Clone)]
pub(crate) struct MessageWriter {
    tx: mpsc::Sender<WriterCmd>,
}

/// The writer task's inbox (hand it to [`run`]).
pub(crate) struct WriterInbox {
    rx: mpsc::Receiver<WriterCmd>,
    options: GroupCommit,
}

impl std::fmt::Debug for WriterCmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriterCmd")
    }
}

/// A submitted write; [`PendingWrite::wait`] gives its result once committed.
#[derive(Debug)]
pub struct PendingWrite {
    rx: oneshot::Receiver<StoreResult<Appended>>,
}

impl PendingWrite {
    /// Waits for the batch holding this write to commit (or fail).
    pub async fn wait(self) -> StoreResult<Appended> {
        self.rx
            .await
            .unwrap_or_else(|_| Err(StoreError::Unavailable("the store writer stopped".into())))
    }
}

fn closed() -> StoreError {
    StoreError::Unavailable("the store is closed".into())
}

impl MessageWriter {
    /// A writer handle and the inbox its task must [`run`] on.
    pub(crate) fn channel(options: GroupCommit) -> (MessageWriter, WriterInbox) {
        let (tx, rx) = mpsc::channel(options.queue.max(1));
        (MessageWriter { tx }, WriterInbox { rx, options })
    }

    /// Submits a write, waiting for room in the queue; writes are committed in
    /// the order they were submitted.
    pub(crate) async fn submit(&self, message: NewMessage) -> StoreResult<PendingWrite> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(WriterCmd::Write(Job { message, reply }))
            .await
            .map_err(|_| closed())?;
        Ok(PendingWrite { rx })
    }

    /// Submits a write without waiting: refused at once (Unavailable) when the
    /// queue is full, so a stalled store never stalls the caller. Dropping the
    /// returned [`PendingWrite`] is allowed; a failure is then only logged.
    pub(crate) fn try_submit(&self, message: NewMessage) -> StoreResult<PendingWrite> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .try_send(WriterCmd::Write(Job { message, reply }))
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => {
                    StoreError::Unavailable("the store writer is busy".into())
                }
                mpsc::error::TrySendError::Closed(_) => closed(),
            })?;
        Ok(PendingWrite { rx })
    }

    /// Commits everything submitted so far, then stops the writer; later
    /// submissions fail.
    pub(crate) async fn close(&self) {
        let (done, rx) = oneshot::channel();
        if self.tx.send(WriterCmd::Close(done)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

/// The writer task: gathers batches from `inbox` and commits them on `backend`
/// until closed or every handle is gone.
pub(crate) async fn run<B: MessageBackend>(backend: B, inbox: WriterInbox) {
    let WriterInbox { mut rx, options } = inbox;
    let max_batch = options.max_batch.max(1);
    let mut closing = None;
    while closing.is_none() {
        let Some(first) = rx.recv().await else {
            break;
        };
        let mut batch = match first {
            WriterCmd::Write(job) => vec![job],
            WriterCmd::Close(done) => {
                closing = Some(done);
                break;
            }
        };
        let deadline = Instant::now() + options.window;
        while batch.len() < max_batch {
            let next = match rx.try_recv() {
                Ok(cmd) => Some(cmd),
                Err(mpsc::error::TryRecvError::Disconnected) => None,
                Err(mpsc::error::TryRecvError::Empty) if options.window.is_zero() => None,
                Err(mpsc::error::TryRecvError::Empty) => {
                    tokio::select! {
                        cmd = rx.recv() => cmd,
                        () = tokio::time::sleep_until(deadline) => None,
                    }
                }
            };
            match next {
                Some(WriterCmd::Write(job)) => batch.push(job),
                Some(WriterCmd::Close(done)) => {
                    closing = Some(done);
                    break;
                }
                None => break,
            }
        }
        // A panic while committing (a bug) costs this batch, whose writers
        // learn that the writer stopped, not every later write.
        if AssertUnwindSafe(commit(&backend, batch))
            .catch_unwind()
            .await
            .is_err()
        {
            tracing::error!("the message writer panicked; its batch failed");
        }
    }
    rx.close();
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

/// Commits one batch and answers each job.
async fn commit<B: MessageBackend>(backend: &B, batch: Vec<Job>) {
    failpoint!("writer_before_batch");
    let messages: Vec<&NewMessage> = batch.iter().map(|job| &job.message).collect();
    let outcome = match backend.begin(Durability::of(&messages)).await {
        Ok(tx) => messages::apply_batch(tx, &messages).await,
        Err(error) => Err(error.into()),
    };
    match outcome {
        Ok(results) => {
            for (job, result) in batch.into_iter().zip(results) {
                answer(job, result);
            }
        }
        // Nothing was stored: retry each message alone, so one bad message
        // cannot fail the others. (Not after a failed COMMIT: the batch may
        // be stored, and writing it again would queue every message twice.)
        Err(failure) if batch.len() > 1 && !failure.at_commit => {
            let error = failure.error;
            tracing::warn!(%error, messages = batch.len(), "message batch failed; retrying one by one");
            for job in batch {
                let alone = [&job.message];
                let result = match backend.begin(Durability::of(&alone)).await {
                    Ok(tx) => match messages::apply_batch(tx, &alone).await {
                        Ok(mut results) => results.pop().unwrap_or_else(|| Err(closed())),
                        Err(failure) => Err(failure.error),
                    },
                    Err(error) => Err(error),
                };
                answer(job, result);
            }
        }
        Err(failure) => {
            if failure.at_commit {
                tracing::error!(
                    error = %failure.error,
                    messages = batch.len(),
                    "message batch COMMIT failed; it may or may not be stored"
                );
            }
            for job in batch {
                answer(job, Err(StoreError::Unavailable(failure.error.to_string())));
            }
        }
    }
}

/// Gives a job its result; a failure nobody waits for any more is logged.
fn answer(job: Job, result: StoreResult<Appended>) {
    if let Err(Err(error)) = job.reply.send(result) {
        tracing::warn!(%error, sender = %job.message.sender_email, "message write failed");
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use bytes::Bytes;

    use super::*;
    use crate::core::model::UserId;
    use crate::core::offline::HistoryWrite;
    use crate::store::messages::{HistoryRow, QueueRow};

    /// A backend in memory that counts transactions and fails any transaction
    /// holding a message from `poison@x.com`.
    #[derive(Clone, Default)]
    struct Fake {
        state: Arc<Mutex<FakeState>>,
    }

    #[derive(Default)]
    struct FakeState {
        transactions: usize,
        durabilities: Vec<Durability>,
        committed: Vec<String>,
    }

    struct FakeTx {
        state: Arc<Mutex<FakeState>>,
        written: Vec<String>,
    }

    impl MessageBackend for Fake {
        type Tx = FakeTx;
        async fn begin(&self, durability: Durability) -> StoreResult<FakeTx> {
            let mut state = self.state.lock().unwrap();
            state.transactions += 1;
            state.durabilities.push(durability);
            drop(state);
            Ok(FakeTx {
                state: Arc::clone(&self.state),
                written: Vec::new(),
            })
        }
    }

    impl MessageTx for FakeTx {
        async fn commit(self) -> StoreResult<()> {
            let mut state = self.state.lock().unwrap();
            let lost = self.written.iter().any(|w| w == "lost@x.com");
            state.committed.extend(self.written);
            if lost {
                // Committed, but the answer never came back.
                return Err(StoreError::Unavailable("connection lost".into()));
            }
            Ok(())
        }
        async fn user_ids(&mut self, emails: &[&str]) -> StoreResult<HashMap<String, UserId>> {
            Ok(emails.iter().map(|e| ((*e).to_owned(), 1)).collect())
        }
        async fn lock_recipients(&mut self, _ids: &[UserId]) -> StoreResult<()> {
            Ok(())
        }
        async fn queued_counts(&mut self, _ids: &[UserId]) -> StoreResult<HashMap<UserId, usize>> {
            Ok(HashMap::new())
        }
        async fn conversations(
            &mut self,
            _wanted: &[(String, Option<(UserId, UserId)>)],
        ) -> StoreResult<HashMap<String, (i64, i64)>> {
            Ok(HashMap::new())
        }
        async fn set_last_seqs(&mut self, _seqs: &[(i64, i64)]) -> StoreResult<()> {
            Ok(())
        }
        async fn insert_history(&mut self, _rows: &[HistoryRow<'_>]) -> StoreResult<()> {
            Ok(())
        }
        async fn insert_queued(&mut self, rows: &[QueueRow<'_>]) -> StoreResult<()> {
            for row in rows {
                if row.message.sender_email == "poison@x.com" {
                    return Err(StoreError::Unavailable("disk I/O error".into()));
                }
                self.written.push(row.message.sender_email.clone());
            }
            Ok(())
        }
    }

    fn message(sender: &str) -> NewMessage {
        NewMessage {
            history: HistoryWrite::None,
            sender_email: sender.into(),
            sender_nick: sender.into(),
            sent_at_us: 0,
            payload: Bytes::from_static(b"x"),
            queue_for: vec!["r@x.com".into()],
            queue_cap: 1000,
        }
    }

    fn writer(fake: &Fake, window: Duration) -> MessageWriter {
        let (writer, inbox) = MessageWriter::channel(GroupCommit {
            max_batch: 1000,
            window,
            queue: 1000,
        });
        tokio::spawn(run(fake.clone(), inbox));
        writer
    }

    #[tokio::test]
    async fn concurrent_writes_share_transactions() {
        let fake = Fake::default();
        let writer = writer(&fake, Duration::from_millis(50));
        let mut pending = Vec::new();
        for i in 0..100 {
            pending.push(writer.submit(message(&format!("{i}@x.com"))).await.unwrap());
        }
        for write in pending {
            write.wait().await.unwrap();
        }
        let state = fake.state.lock().unwrap();
        assert_eq!(state.committed.len(), 100);
        // In submission order, in far fewer transactions than writes.
        let expected: Vec<String> = (0..100).map(|i| format!("{i}@x.com")).collect();
        assert_eq!(state.committed, expected);
        assert!(
            state.transactions < 10,
            "{} transactions",
            state.transactions
        );
    }

    #[tokio::test]
    async fn a_failing_write_does_not_fail_its_batch() {
        let fake = Fake::default();
        let writer = writer(&fake, Duration::from_millis(50));
        let a = writer.submit(message("a@x.com")).await.unwrap();
        let poison = writer.submit(message("poison@x.com")).await.unwrap();
        let b = writer.submit(message("b@x.com")).await.unwrap();
        assert!(a.wait().await.is_ok());
        assert!(matches!(
            poison.wait().await,
            Err(StoreError::Unavailable(_))
        ));
        assert!(b.wait().await.is_ok());
        let state = fake.state.lock().unwrap();
        assert_eq!(state.committed, ["a@x.com", "b@x.com"]);
    }

    #[tokio::test]
    async fn a_failed_commit_is_not_written_again() {
        let fake = Fake::default();
        let writer = writer(&fake, Duration::from_millis(50));
        let a = writer.submit(message("a@x.com")).await.unwrap();
        let lost = writer.submit(message("lost@x.com")).await.unwrap();
        assert!(a.wait().await.is_err());
        assert!(lost.wait().await.is_err());
        let state = fake.state.lock().unwrap();
        // One transaction, no retries: each message is stored once.
        assert_eq!(state.transactions, 1);
        assert_eq!(state.committed, ["a@x.com", "lost@x.com"]);
    }

    #[tokio::test]
    async fn close_commits_what_was_submitted() {
        let fake = Fake::default();
        let writer = writer(&fake, Duration::ZERO);
        drop(writer.try_submit(message("a@x.com")).unwrap());
        let b = writer.submit(message("b@x.com")).await.unwrap();
        writer.close().await;
        assert!(b.wait().await.is_ok());
        assert_eq!(fake.state.lock().unwrap().committed, ["a@x.com", "b@x.com"]);
        assert!(writer.submit(message("c@x.com")).await.is_err());
        assert!(writer.try_submit(message("c@x.com")).is_err());
    }

    #[tokio::test]
    async fn only_batches_that_queue_a_message_wait_for_the_disk() {
        let fake = Fake::default();
        let writer = writer(&fake, Duration::ZERO);
        // (The fake keeps no history; what counts is that nothing is queued.)
        let history_only = NewMessage {
            queue_for: Vec::new(),
            ..message("live@x.com")
        };
        writer
            .submit(history_only)
            .await
            .unwrap()
            .wait()
            .await
            .unwrap();
        writer
            .submit(message("queued@x.com"))
            .await
            .unwrap()
            .wait()
            .await
            .unwrap();
        let durabilities = fake.state.lock().unwrap().durabilities.clone();
        assert_eq!(durabilities, [Durability::Deferred, Durability::Synced]);
        // One of each in one batch: the batch waits for the disk.
        let queued = message("queued@x.com");
        let history_only = NewMessage {
            queue_for: Vec::new(),
            ..message("live@x.com")
        };
        assert_eq!(
            Durability::of(&[&history_only, &queued]),
            Durability::Synced
        );
        assert_eq!(Durability::of(&[&history_only]), Durability::Deferred);
    }
}
