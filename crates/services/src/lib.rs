//! Talktime's use cases. They reach the outside world (SMS, payment gateway, LiveKit, Google)
//! only through the traits defined here, so tests put local fakes behind them.

pub mod accounts;
pub mod auth;
pub mod catalog;
mod error;
pub mod presence;
pub mod rate_limit;
pub mod secrets;
pub mod sms;
pub mod tokens;

pub use error::{ErrorKind, ServiceError};
pub use talktime_repository::{Db, RepoError};
