//! Glue between the codec and the domain: listeners, the connection actor, the
//! gate, the shared limiters, the role handlers (notification, switchboard,
//! HTTP), offline delivery and the operator actions.

pub mod connection;
pub mod context;
pub mod gate;
pub mod http;
pub mod limits;
pub mod listener;
pub mod ns;
pub mod offline;
pub mod operator;
pub mod outbox;
pub mod sb;
