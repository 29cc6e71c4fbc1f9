//! The independent MSNP client: TCP connection with line and payload framing,
//! a minimal HTTP/1.1 client, Passport 1.4 login, challenge answers and URL
//! encoding. Nothing here knows about cases.

pub mod challenge;
pub mod conn;
pub mod http;
pub mod line;
pub mod passport;
pub mod urlenc;
