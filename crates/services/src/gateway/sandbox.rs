use async_trait::async_trait;

use super::{GatewayError, GatewayPayment, PaymentGateway, hmac_hex, signature_matches};

/// A local stand-in for Razorpay (development only; refused in production): it issues order ids
/// and signs test payments with a fixed sandbox secret, so the whole flow works with curl.
pub struct SandboxGateway {
    webhook_secret: String,
}

const SANDBOX_KEY_ID: &str = "rzp_test_sandbox";
const SANDBOX_KEY_SECRET: &str = "sandbox_key_secret";

impl SandboxGateway {
    pub fn new(webhook_secret: impl Into<String>) -> Self {
        Self { webhook_secret: webhook_secret.into() }
    }
}

#[async_trait]
impl PaymentGateway for SandboxGateway {
    fn key_id(&self) -> &str {
        SANDBOX_KEY_ID
    }

    async fn create_order(&self, _amount_paise: i64, _receipt: &str) -> Result<String, GatewayError> {
        Ok(format!("order_sbx_{}", uuid::Uuid::now_v7().simple()))
    }

    async fn order_payments(&self, _order_id: &str) -> Result<Vec<GatewayPayment>, GatewayError> {
        Ok(Vec::new())
    }

    fn payment_signature_valid(&self, order_id: &str, payment_id: &str, signature: &str) -> bool {
        signature_matches(SANDBOX_KEY_SECRET, format!("{order_id}|{payment_id}").as_bytes(), signature)
    }

    fn webhook_signature_valid(&self, body: &[u8], signature: &str) -> bool {
        signature_matches(&self.webhook_secret, body, signature)
    }

    fn sandbox_payment(&self, order_id: &str) -> Option<(String, String)> {
        let payment_id = format!("pay_sbx_{}", uuid::Uuid::now_v7().simple());
        let signature = hmac_hex(SANDBOX_KEY_SECRET, format!("{order_id}|{payment_id}").as_bytes());
        Some((payment_id, signature))
    }
}
