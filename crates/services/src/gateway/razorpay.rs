use async_trait::async_trait;
use serde::Deserialize;

use super::{GatewayError, GatewayPayment, PaymentGateway, signature_matches};

#[derive(Debug, Clone)]
pub struct RazorpayConfig {
    /// Default `https://api.razorpay.com`; tests point it at a local fake.
    pub api_base: String,
    pub key_id: String,
    pub key_secret: talktime_domain::secret::Secret<String>,
    pub webhook_secret: talktime_domain::secret::Secret<String>,
}

/// Razorpay's REST API with basic auth (key id, key secret).
pub struct RazorpayGateway {
    client: reqwest::Client,
    config: RazorpayConfig,
}

impl RazorpayGateway {
    pub fn new(client: reqwest::Client, config: RazorpayConfig) -> Self {
        Self { client, config }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.config.api_base.trim_end_matches('/'), path)
    }

    async fn checked(response: reqwest::Response) -> Result<reqwest::Response, GatewayError> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = crate::excerpt(&response.text().await.unwrap_or_default(), 300);
        Err(GatewayError::Refused { status: status.as_u16(), body })
    }
}

#[derive(Deserialize)]
struct OrderCreated {
    id: String,
}

#[derive(Deserialize)]
struct PaymentList {
    items: Vec<PaymentItem>,
}

#[derive(Deserialize)]
struct PaymentItem {
    id: String,
    status: String,
}

#[async_trait]
impl PaymentGateway for RazorpayGateway {
    fn key_id(&self) -> &str {
        &self.config.key_id
    }

    async fn create_order(&self, amount_paise: i64, receipt: &str) -> Result<String, GatewayError> {
        let response = self
            .client
            .post(self.url("/v1/orders"))
            .basic_auth(&self.config.key_id, Some(&self.config.key_secret.expose()))
            .json(&serde_json::json!({ "amount": amount_paise, "currency": "INR", "receipt": receipt }))
            .send()
            .await?;
        let order: OrderCreated =
            Self::checked(response).await?.json().await.map_err(|e| GatewayError::Malformed(e.to_string()))?;
        Ok(order.id)
    }

    async fn order_payments(&self, order_id: &str) -> Result<Vec<GatewayPayment>, GatewayError> {
        let response = self
            .client
            .get(self.url(&format!("/v1/orders/{order_id}/payments")))
            .basic_auth(&self.config.key_id, Some(&self.config.key_secret.expose()))
            .send()
            .await?;
        let list: PaymentList =
            Self::checked(response).await?.json().await.map_err(|e| GatewayError::Malformed(e.to_string()))?;
        Ok(list.items.into_iter().map(|p| GatewayPayment { id: p.id, status: p.status }).collect())
    }

    fn payment_signature_valid(&self, order_id: &str, payment_id: &str, signature: &str) -> bool {
        signature_matches(self.config.key_secret.expose(), format!("{order_id}|{payment_id}").as_bytes(), signature)
    }

    fn webhook_signature_valid(&self, body: &[u8], signature: &str) -> bool {
        signature_matches(self.config.webhook_secret.expose(), body, signature)
    }
}
