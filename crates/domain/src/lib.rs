//! Talktime's domain: the pure types and rules of a paid one-to-one calling platform.
//!
//! This crate has no I/O dependency (no database, HTTP, async runtime or Redis), so an integrator
//! can embed it to validate input or compute prices offline:
//!
//! ```
//! use talktime_domain::phone::Phone;
//!
//! let phone = Phone::parse(" 9876543210 ").unwrap();
//! assert_eq!(phone.as_str(), "9876543210");
//! assert!(Phone::parse("12345").is_err());
//! ```

#[macro_use]
mod macros;

pub mod account;
pub mod admin;
pub mod audit;
pub mod call;
pub mod chat;
pub mod coupon;
pub mod dashboard;
pub mod dispute;
pub mod gift;
pub mod ids;
pub mod kyc;
pub mod money;
pub mod network;
pub mod notification;
pub mod otp;
pub mod page;
pub mod phone;
pub mod plan;
pub mod pricing;
pub mod profile;
pub mod promotion;
pub mod push;
pub mod rating;
pub mod report;
pub mod secret;
pub mod tax;
pub mod transaction;

/// A wire string that names no variant of an enumeration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`")]
pub struct UnknownVariant {
    pub kind: &'static str,
    pub value: String,
}
