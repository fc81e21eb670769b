//! Talktime's use cases. They reach the outside world (SMS, payment gateway, LiveKit, Google)
//! only through the traits defined here, so tests put local fakes behind them.

pub mod accounts;
pub mod admin;
pub mod auth;
pub mod bus;
pub mod cache;
pub mod calls;
pub mod catalog;
pub mod chats;
pub mod cluster;
pub mod coupons;
pub mod dashboard;
pub mod disputes;
mod error;
pub mod gateway;
pub mod gifts;
pub mod google;
pub mod health;
pub mod import;
pub mod kyc;
pub mod ledger;
pub mod livekit;
pub mod notifications;
pub mod payments;
pub mod payouts;
pub mod plans;
pub mod presence;
pub mod pricing;
pub mod promotions;
pub mod push;
pub mod rate_limit;
pub mod referrals;
pub mod reports;
pub mod secrets;
pub mod sms;
pub mod tax;
pub mod tokens;
pub mod wallet;

pub use error::{ErrorKind, ServiceError};

pub use talktime_repository::{Db, RepoError};

/// At most `max` characters of `text` (cut on a character boundary: provider error bodies can be
/// any text).
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// An HTTP client for outside APIs, with short timeouts: a hanging provider must not hold a
/// request for long.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn excerpts_cut_between_characters() {
        let text = "é".repeat(400);
        assert_eq!(super::excerpt(&text, 300).chars().count(), 300);
        assert_eq!(super::excerpt("short", 300), "short");
    }
}
