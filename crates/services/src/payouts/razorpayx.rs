//! RazorpayX's Contacts, Fund Accounts and Payouts APIs (basic auth with the key id and secret;
//! a payout carries `X-Payout-Idempotency`, which RazorpayX requires and which makes a retry with
//! the same body return the same payout).

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;
use talktime_domain::ids::AccountId;

use super::{BankAccount, PayoutError, PayoutOrder, PayoutProvider, ProviderPayout};
use crate::gateway::signature_matches;

#[derive(Debug, Clone)]
pub struct RazorpayXConfig {
    /// Default `https://api.razorpay.com`; tests point it at a local fake.
    pub api_base: String,
    pub key_id: String,
    pub key_secret: talktime_domain::secret::Secret<String>,
    pub webhook_secret: talktime_domain::secret::Secret<String>,
    /// The operator's RazorpayX account number that payouts are paid from.
    pub account_number: String,
}

pub struct RazorpayX {
    client: reqwest::Client,
    config: RazorpayXConfig,
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

impl RazorpayX {
    pub fn new(client: reqwest::Client, config: RazorpayXConfig) -> Self {
        Self { client, config }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let url = format!("{}{}", self.config.api_base.trim_end_matches('/'), path);
        self.client.request(method, url).basic_auth(&self.config.key_id, Some(self.config.key_secret.expose()))
    }

    async fn answer<T: serde::de::DeserializeOwned>(request: reqwest::RequestBuilder) -> Result<T, PayoutError> {
        let response = request.send().await?;
        let status = response.status();
        if !status.is_success() {
            let body = crate::excerpt(&response.text().await.unwrap_or_default(), 300);
            return Err(PayoutError::Refused { status: status.as_u16(), body });
        }
        response.json().await.map_err(|e| PayoutError::Malformed(e.to_string()))
    }
}

#[async_trait]
impl PayoutProvider for RazorpayX {
    async fn create_contact(&self, telecaller: AccountId, name: &str) -> Result<String, PayoutError> {
        let body = json!({ "name": name, "type": "vendor", "reference_id": telecaller.0.to_string() });
        let created: Created = Self::answer(self.request(reqwest::Method::POST, "/v1/contacts").json(&body)).await?;
        Ok(created.id)
    }

    async fn create_fund_account(&self, contact_id: &str, bank: &BankAccount<'_>) -> Result<String, PayoutError> {
        let body = json!({
            "contact_id": contact_id,
            "account_type": "bank_account",
            "bank_account": { "name": bank.name, "ifsc": bank.ifsc, "account_number": bank.account_number },
        });
        let created: Created =
            Self::answer(self.request(reqwest::Method::POST, "/v1/fund_accounts").json(&body)).await?;
        Ok(created.id)
    }

    async fn create_payout(&self, order: &PayoutOrder<'_>) -> Result<ProviderPayout, PayoutError> {
        let body = json!({
            "account_number": self.config.account_number,
            "fund_account_id": order.fund_account_id,
            "amount": order.amount_paise,
            "currency": "INR",
            "mode": order.mode,
            "purpose": "payout",
            "queue_if_low_balance": true,
            "reference_id": order.reference_id,
            "narration": "Talktime earnings",
        });
        let request = self
            .request(reqwest::Method::POST, "/v1/payouts")
            .header("X-Payout-Idempotency", order.reference_id)
            .json(&body);
        Self::answer(request).await
    }

    async fn payout(&self, id: &str) -> Result<ProviderPayout, PayoutError> {
        Self::answer(self.request(reqwest::Method::GET, &format!("/v1/payouts/{id}"))).await
    }

    fn webhook_signature_valid(&self, body: &[u8], signature: &str) -> bool {
        signature_matches(self.config.webhook_secret.expose(), body, signature)
    }
}
