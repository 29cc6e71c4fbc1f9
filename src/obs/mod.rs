//! Observability: the Prometheus metrics every layer feeds ([`metrics()`]) and the
//! readiness check behind `/readyz` ([`readiness`]).

pub mod metrics;
pub mod readiness;

pub use metrics::{Limit, LoginMethod, metrics};
