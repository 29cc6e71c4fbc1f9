//! Fault injection for tests: named failpoints at the places that matter for
//! durability (see `docs/reliability.md`). With the cargo feature `failpoints`
//! they are `fail` crate failpoints, configured when `msnpd serve` starts
//! from the `FAILPOINTS` environment variable (`name=action;name=action`, e.g.
//! `FAILPOINTS=sb_before_ack=return(abort)`); without it they compile to
//! nothing.
//!
//! Actions (the `fail` crate's, plus one of ours):
//! - `panic`: panics where the point is (inside a tokio task the runtime
//!   catches it: a bug in that task, not a crash of the process);
//! - `sleep(ms)`, `delay(ms)`, `pause`: hold the thread there;
//! - `return(abort)`: aborts the whole process on the spot (SIGABRT, no
//!   destructors, no flushing: a crash at exactly that point);
//! - `return` (any other or no argument): takes the point's error path, if
//!   it has one (`failpoint!(name, value)` returns `value`); a point without
//!   one ignores it.
//!
//! The points:
//!
//! | name | where |
//! |---|---|
//! | `writer_before_batch` | group-commit writer, before a batch's transaction starts (`store/writer.rs`) |
//! | `store_before_commit` | a message batch's writes done, before `COMMIT` (`store/messages.rs`) |
//! | `store_after_commit` | right after a message batch committed, before anyone learns it (`store/messages.rs`) |
//! | `sb_after_commit` | `MSG` in a switchboard: the offline-queue write committed, before delivery is awaited and `ACK` sent (`server/sb/messages.rs`) |
//! | `sb_before_ack` | `MSG`: outcome known, right before `ACK`/`NAK` is sent (`server/sb/messages.rs`) |
//! | `offline_before_remove` | offline delivery written to the recipient, before the queue entries are removed (`server/offline.rs`) |

/// Called when a failpoint fired with `return(arg)`: aborts the process for
/// `return(abort)`.
#[cfg(feature = "failpoints")]
pub fn fired(name: &str, arg: Option<&str>) {
    if arg == Some("abort") {
        eprintln!("msnpd: failpoint {name}: aborting the process");
        std::process::abort();
    }
}

/// `failpoint!("name")` marks a point; `failpoint!("name", value)` also
/// returns `value` from the enclosing function when the point is configured
/// as `return` (`failpoint!("name", return)` in a function returning `()`). Compiles to nothing without the `failpoints` feature.
#[cfg(feature = "failpoints")]
macro_rules! failpoint {
    ($name:literal) => {
        if let Some(arg) = ::fail::eval($name, |arg| arg) {
            $crate::failpoints::fired($name, arg.as_deref());
        }
    };
    ($name:literal, return) => {
        if let Some(arg) = ::fail::eval($name, |arg| arg) {
            $crate::failpoints::fired($name, arg.as_deref());
            return;
        }
    };
    ($name:literal, $value:expr) => {
        if let Some(arg) = ::fail::eval($name, |arg| arg) {
            $crate::failpoints::fired($name, arg.as_deref());
            return $value;
        }
    };
}

/// Without the `failpoints` feature a failpoint is nothing.
#[cfg(not(feature = "failpoints"))]
macro_rules! failpoint {
    ($name:literal) => {};
    ($name:literal, return) => {};
    ($name:literal, $value:expr) => {};
}

pub(crate) use failpoint;
