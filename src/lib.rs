//! msnpd: a server for the MSN Messenger protocol family (MSNP2–MSNP12).
//!
//! Layers (see DESIGN §3): `proto` (codec, no I/O), `core` (domain rules), `server`
//! (listeners, connection actors, role handlers), `store` (SQLite/PostgreSQL),
//! `route` (how events reach users), `config`; `daemon` runs it all.
#![forbid(unsafe_code)]

pub mod activation;
pub mod admin;
pub mod admin_client;
pub mod config;
pub mod core;
pub mod daemon;
pub mod failpoints;
pub mod handover;
pub mod notify;
pub mod obs;
pub mod probe;
pub mod proto;
pub mod reload;
pub mod route;
pub mod server;
pub mod store;
pub mod tls;

pub use daemon::{ServeError, ServeOptions, serve, serve_with};
