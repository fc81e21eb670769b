use async_trait::async_trait;

use super::{SmsError, SmsSender, check_status};

/// POSTs `{"phone", "message"}` as JSON to a configured URL (an in-house SMS gateway).
pub struct WebhookSms {
    client: reqwest::Client,
    url: String,
}

impl WebhookSms {
    pub fn new(client: reqwest::Client, url: impl Into<String>) -> Self {
        Self { client, url: url.into() }
    }
}

#[async_trait]
impl SmsSender for WebhookSms {
    async fn send(&self, phone: &str, message: &str) -> Result<(), SmsError> {
        let response =
            self.client.post(&self.url).json(&serde_json::json!({ "phone": phone, "message": message })).send().await?;
        check_status(response).await?;
        Ok(())
    }
}
