//! The recent wire traffic of a case (bounded), shown when the case fails.

use std::collections::VecDeque;
use std::fmt;

use serde::Serialize;

/// How many entries a trace keeps.
pub const TRACE_CAPACITY: usize = 40;

/// What happened on a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The client sent a line.
    Sent,
    /// The server sent a line.
    Received,
    /// Something else: connect, close, HTTP.
    Note,
}

/// One traced event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceEntry {
    /// Session name without `@`.
    pub session: String,
    /// Which way.
    pub direction: Direction,
    /// The line or note.
    pub text: String,
}

impl fmt::Display for TraceEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let arrow = match self.direction {
            Direction::Sent => ">",
            Direction::Received => "<",
            Direction::Note => "-",
        };
        write!(f, "@{} {arrow} {}", self.session, self.text)
    }
}

/// A bounded log of traffic.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    entries: VecDeque<TraceEntry>,
}

impl Trace {
    /// Records an event, forgetting the oldest beyond [`TRACE_CAPACITY`].
    pub fn push(&mut self, session: &str, direction: Direction, text: impl Into<String>) {
        if self.entries.len() == TRACE_CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(TraceEntry {
            session: session.to_string(),
            direction,
            text: text.into(),
        });
    }

    /// The kept entries, oldest first.
    pub fn entries(&self) -> Vec<TraceEntry> {
        self.entries.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_latest() {
        let mut t = Trace::default();
        for i in 0..TRACE_CAPACITY + 5 {
            t.push("alice", Direction::Sent, format!("PNG {i}"));
        }
        let e = t.entries();
        assert_eq!(e.len(), TRACE_CAPACITY);
        assert_eq!(e[0].text, "PNG 5");
        assert_eq!(e[0].to_string(), "@alice > PNG 5");
    }
}
