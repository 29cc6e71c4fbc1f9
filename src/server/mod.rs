//! Glue between `proto` and `core`: listeners, connection actors and the role
//! handlers (DESIGN §3).

pub mod http;
