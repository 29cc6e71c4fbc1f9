//! The domain, independent of dialects: list and presence rules, who is online,
//! switchboards, offline messages and authentication. Never imports `proto`.

pub mod auth;
pub mod challenge;
pub mod event_queue;
pub mod events;
pub mod fan_out;
pub mod lists;
pub mod model;
pub mod offline;
pub mod presence;
pub mod registry;
pub mod switchboard;
