use async_trait::async_trait;

use super::{SmsError, SmsSender, check_status, international};

#[derive(Debug, Clone)]
pub struct TwilioConfig {
    /// Default `https://api.twilio.com`.
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: talktime_domain::secret::Secret<String>,
    /// Sender number in E.164 form.
    pub from: String,
    pub country_code: String,
}

/// Twilio's Messages API (`POST /2010-04-01/Accounts/{sid}/Messages.json`, form-encoded,
/// basic auth with the account SID and auth token).
pub struct TwilioSms {
    client: reqwest::Client,
    config: TwilioConfig,
}

impl TwilioSms {
    pub fn new(client: reqwest::Client, config: TwilioConfig) -> Self {
        Self { client, config }
    }
}

#[async_trait]
impl SmsSender for TwilioSms {
    async fn send(&self, phone: &str, message: &str) -> Result<(), SmsError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.config.base_url.trim_end_matches('/'),
            self.config.account_sid
        );
        let to = format!("+{}", international(phone, &self.config.country_code));
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("To", &to)
            .append_pair("From", &self.config.from)
            .append_pair("Body", message)
            .finish();
        let response = self
            .client
            .post(url)
            .basic_auth(&self.config.account_sid, Some(&self.config.auth_token.expose()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await?;
        check_status(response).await?;
        Ok(())
    }
}
