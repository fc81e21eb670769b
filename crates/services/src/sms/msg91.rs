use async_trait::async_trait;

use super::{SmsError, SmsSender, check_status, international};

#[derive(Debug, Clone)]
pub struct Msg91Config {
    /// Default `https://control.msg91.com`.
    pub base_url: String,
    pub auth_key: talktime_domain::secret::Secret<String>,
    /// A DLT-approved flow template with a `##otp##` variable.
    pub template_id: String,
    pub country_code: String,
}

/// MSG91's Flow API (`POST /api/v5/flow`), sending our own code as the template's `otp` variable.
pub struct Msg91Sms {
    client: reqwest::Client,
    config: Msg91Config,
}

impl Msg91Sms {
    pub fn new(client: reqwest::Client, config: Msg91Config) -> Self {
        Self { client, config }
    }
}

/// Extracts the code from our message: the flow template carries its own wording.
fn code_in(message: &str) -> &str {
    message.split(|c: char| !c.is_ascii_digit()).find(|part| part.len() >= 4).unwrap_or_default()
}

#[async_trait]
impl SmsSender for Msg91Sms {
    async fn send(&self, phone: &str, message: &str) -> Result<(), SmsError> {
        let url = format!("{}/api/v5/flow", self.config.base_url.trim_end_matches('/'));
        let body = serde_json::json!({
            "template_id": self.config.template_id,
            "short_url": "0",
            "recipients": [{ "mobiles": international(phone, &self.config.country_code), "otp": code_in(message) }],
        });
        let response = self
            .client
            .post(url)
            .header("authkey", self.config.auth_key.expose())
            .header("accept", "application/json")
            .json(&body)
            .send()
            .await?;
        let response = check_status(response).await?;
        // MSG91 can answer 200 with {"type": "error", ...}.
        let text = response.text().await.unwrap_or_default();
        let refused = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .is_some_and(|v| v.get("type").and_then(|t| t.as_str()) == Some("error"));
        if refused {
            return Err(SmsError::Refused { status: 200, body: text.chars().take(300).collect() });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_code() {
        assert_eq!(super::code_in("Your Talktime code is 123456. It expires in 5 minutes."), "123456");
    }
}
