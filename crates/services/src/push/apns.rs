//! Apple Push Notification service: HTTP/2 with token-based authentication (an ES256 provider
//! JWT from the team's `.p8` key, renewed before it is an hour old). VoIP pushes ring iPhones
//! through PushKit; alert pushes carry everything else (docs/push.md).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use talktime_domain::push::{DeviceKind, PushKind};
use talktime_domain::secret::Secret;
use talktime_repository::push::Outgoing;

use super::{Delivery, PushSender};

#[derive(Debug, Clone)]
pub struct ApnsConfig {
    /// `https://api.push.apple.com` (production) or `https://api.sandbox.push.apple.com`
    /// (`APNS_ENVIRONMENT=sandbox`); tests point it at a local fake.
    pub api_base: String,
    pub key_id: String,
    pub team_id: String,
    /// The `.p8` key (PKCS#8 PEM).
    pub key_pem: Secret<String>,
    /// The app's bundle id; VoIP pushes go to `<topic>.voip`.
    pub topic: String,
}

/// A provider token is valid for an hour; this one is renewed well before.
const JWT_RENEW_AFTER: Duration = Duration::from_secs(50 * 60);

pub struct ApnsPush {
    client: reqwest::Client,
    config: ApnsConfig,
    key: EncodingKey,
    jwt: tokio::sync::Mutex<Option<(String, Instant)>>,
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

impl ApnsPush {
    /// Whether `pem` is a `.p8` key (an EC private key in PEM), for the settings' check.
    pub fn check_key(pem: &str) -> Result<(), String> {
        EncodingKey::from_ec_pem(pem.as_bytes()).map(|_| ()).map_err(|e| format!("not a .p8 EC private key: {e}"))
    }

    /// Fails when the key is not an EC private key in PEM.
    pub fn new(config: ApnsConfig) -> Result<Self, String> {
        let key = EncodingKey::from_ec_pem(config.key_pem.expose().as_bytes())
            .map_err(|e| format!("the APNs key is not a .p8 EC private key: {e}"))?;
        // APNs speaks HTTP/2 only: no HTTP/1.1 fallback (over TLS the handshake asks for h2).
        let client = reqwest::Client::builder()
            .http2_prior_knowledge()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("the APNs client cannot be built: {e}"))?;
        Ok(Self { client, config, key, jwt: tokio::sync::Mutex::new(None) })
    }

    /// The provider token, from the cache unless `renew` or it is old.
    async fn provider_token(&self, renew: bool) -> Result<String, String> {
        let mut cached = self.jwt.lock().await;
        if !renew && let Some((jwt, _)) = cached.as_ref().filter(|(_, made)| made.elapsed() < JWT_RENEW_AFTER) {
            return Ok(jwt.clone());
        }
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.config.key_id.clone());
        let claims = json!({ "iss": self.config.team_id, "iat": unix_now() });
        let jwt = jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| format!("APNs token: {e}"))?;
        *cached = Some((jwt.clone(), Instant::now()));
        Ok(jwt)
    }

    /// The request's headers and payload (APNs' JSON: `aps` and our fields beside it).
    fn request(&self, push: &Outgoing) -> (Vec<(&'static str, String)>, Value) {
        let mut payload = push.data.as_object().cloned().unwrap_or_default();
        let voip = push.device_kind == DeviceKind::Voip;
        let mut headers = Vec::new();
        if voip {
            // PushKit: the app must report the call to CallKit at once, from these fields.
            let deadline = push.data["ringDeadline"]
                .as_str()
                .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
                .map_or_else(|| unix_now() + 60, |d| d.timestamp());
            headers.push(("apns-topic", format!("{}.voip", self.config.topic)));
            headers.push(("apns-push-type", "voip".to_owned()));
            headers.push(("apns-priority", "10".to_owned()));
            headers.push(("apns-expiration", deadline.to_string()));
            if let Some(call) = push.data["callId"].as_str() {
                headers.push(("apns-collapse-id", call.to_owned()));
            }
            payload.insert("aps".to_owned(), json!({}));
        } else {
            let alert = push.title.is_some() || push.body.is_some();
            headers.push(("apns-topic", self.config.topic.clone()));
            headers.push(("apns-push-type", if alert { "alert" } else { "background" }.to_owned()));
            // Apple requires priority 5 for background pushes.
            let urgent = alert && push.high_priority;
            headers.push(("apns-priority", if urgent { "10" } else { "5" }.to_owned()));
            headers.push(("apns-expiration", (unix_now() + 86_400).to_string()));
            if push.kind == PushKind::CallCancelled
                && let Some(call) = push.data["callId"].as_str()
            {
                headers.push(("apns-collapse-id", call.to_owned()));
            }
            let aps = if alert {
                json!({ "alert": { "title": push.title, "body": push.body }, "sound": "default" })
            } else {
                json!({ "content-available": 1 })
            };
            payload.insert("aps".to_owned(), aps);
        }
        (headers, Value::Object(payload))
    }

    async fn post(&self, push: &Outgoing, jwt: &str) -> Result<(reqwest::StatusCode, String), String> {
        let url = format!("{}/3/device/{}", self.config.api_base.trim_end_matches('/'), push.token);
        let (headers, payload) = self.request(push);
        let mut request = self.client.post(url).bearer_auth(jwt).json(&payload);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let reply = request.send().await.map_err(|e| format!("APNs unreachable: {e}"))?;
        let status = reply.status();
        let body = reply.text().await.unwrap_or_default();
        let reason = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v["reason"].as_str().map(str::to_owned))
            .unwrap_or(body);
        Ok((status, reason))
    }
}

#[async_trait]
impl PushSender for ApnsPush {
    async fn send(&self, push: &Outgoing) -> Delivery {
        let mut renewed = false;
        loop {
            let jwt = match self.provider_token(renewed).await {
                Ok(jwt) => jwt,
                Err(error) => return Delivery::Failed(error),
            };
            let (status, reason) = match self.post(push, &jwt).await {
                Ok(answer) => answer,
                Err(error) => return Delivery::Retry(error),
            };
            return match (status.as_u16(), reason.as_str()) {
                (200, _) => Delivery::Sent,
                // An expired provider token: renewed once, then the same push again.
                (403, "ExpiredProviderToken") if !renewed => {
                    renewed = true;
                    continue;
                }
                (410, _) | (400, "BadDeviceToken" | "DeviceTokenNotForTopic") => Delivery::Unregistered,
                (429, _) | (500..=599, _) => Delivery::Retry(format!("APNs answered {status}: {reason}")),
                _ => Delivery::Failed(format!("APNs answered {status}: {reason}")),
            };
        }
    }
}
