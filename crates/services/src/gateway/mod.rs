//! The payment gateway port: Razorpay's Orders and Payments APIs, or a local sandbox.

mod razorpay;
mod sandbox;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub use razorpay::{RazorpayConfig, RazorpayGateway};
pub use sandbox::SandboxGateway;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("payment gateway unreachable: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("payment gateway refused: HTTP {status}: {body}")]
    Refused { status: u16, body: String },
    #[error("unexpected payment gateway answer: {0}")]
    Malformed(String),
}

/// A payment attempt on an order, as the gateway reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayPayment {
    pub id: String,
    /// Razorpay's status: `created`, `authorized`, `captured`, `refunded` or `failed`.
    pub status: String,
}

#[async_trait]
pub trait PaymentGateway: Send + Sync {
    /// The public key id the app's checkout needs.
    fn key_id(&self) -> &str;
    /// Creates an order for `amount_paise` INR; returns the gateway's order id.
    async fn create_order(&self, amount_paise: i64, receipt: &str) -> Result<String, GatewayError>;
    /// Payments made on an order (for the reconciler).
    async fn order_payments(&self, order_id: &str) -> Result<Vec<GatewayPayment>, GatewayError>;
    /// Checkout's signature: HMAC-SHA256(`order_id|payment_id`, key secret), hex.
    fn payment_signature_valid(&self, order_id: &str, payment_id: &str, signature: &str) -> bool;
    /// `X-Razorpay-Signature`: HMAC-SHA256(raw body, webhook secret), hex.
    fn webhook_signature_valid(&self, body: &[u8], signature: &str) -> bool;
    /// Development only: what Checkout would return after paying `order_id`.
    fn sandbox_payment(&self, _order_id: &str) -> Option<(String, String)> {
        None
    }
}

/// Hex HMAC-SHA256, as Razorpay signs.
pub fn hmac_hex(secret: &str, message: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(message);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares a received hex signature with the expected one in constant time.
pub fn signature_matches(secret: &str, message: &[u8], received: &str) -> bool {
    let expected = hmac_hex(secret, message);
    let received = received.trim().to_ascii_lowercase();
    expected.len() == received.len() && bool::from(expected.as_bytes().ct_eq(received.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures() {
        // Razorpay's documented scheme: HMAC-SHA256 of "order_id|payment_id".
        let signature = hmac_hex("secret", b"order_1|pay_1");
        assert_eq!(signature.len(), 64);
        assert!(signature_matches("secret", b"order_1|pay_1", &signature));
        assert!(signature_matches("secret", b"order_1|pay_1", &signature.to_uppercase()));
        assert!(!signature_matches("secret", b"order_1|pay_2", &signature));
        assert!(!signature_matches("other", b"order_1|pay_1", &signature));
        assert!(!signature_matches("secret", b"order_1|pay_1", ""));
    }
}
