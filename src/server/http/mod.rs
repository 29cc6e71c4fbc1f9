//! The HTTP roles (DESIGN §1): the Passport 1.4 nexus and login endpoint on the
//! `http` listener ([`serve_nexus`]) and the operator endpoints on the `admin`
//! listener ([`serve_admin`]), both on hyper's HTTP/1 server, plus the password
//! check every login path shares ([`check_password`]).

pub mod admin;
pub mod login;
pub mod nexus;
pub mod passport;
mod response;
mod serve;
mod wire_case;

#[cfg(test)]
mod tests;

pub use admin::serve_admin;
pub use login::{LoginError, check_password, password_login};
pub use nexus::{HttpContext, serve_nexus};
pub use response::Body;
