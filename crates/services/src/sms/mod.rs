//! Delivering one-time codes by SMS, behind [`SmsSender`], with four providers.

mod log;
mod msg91;
mod twilio;
mod webhook;

use async_trait::async_trait;

pub use self::log::LogSms;
pub use self::msg91::{Msg91Config, Msg91Sms};
pub use self::twilio::{TwilioConfig, TwilioSms};
pub use self::webhook::WebhookSms;

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("SMS provider unreachable: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("SMS provider refused the message: HTTP {status}: {body}")]
    Refused { status: u16, body: String },
}

#[async_trait]
pub trait SmsSender: Send + Sync {
    /// Sends `message` to `phone` (10–15 digits as the user typed them).
    async fn send(&self, phone: &str, message: &str) -> Result<(), SmsError>;
}

/// International form without `+`: a bare 10-digit national number gets `country_code`.
pub(crate) fn international(phone: &str, country_code: &str) -> String {
    if phone.len() == 10 { format!("{country_code}{phone}") } else { phone.to_owned() }
}

/// Turns a non-2xx answer into [`SmsError::Refused`], keeping a short excerpt of the body.
pub(crate) async fn check_status(response: reqwest::Response) -> Result<reqwest::Response, SmsError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = crate::excerpt(&response.text().await.unwrap_or_default(), 300);
    Err(SmsError::Refused { status: status.as_u16(), body })
}

#[cfg(test)]
mod tests {
    #[test]
    fn international_numbers() {
        assert_eq!(super::international("9876543210", "91"), "919876543210");
        assert_eq!(super::international("447700900123", "91"), "447700900123");
    }
}
