//! Push notifications: the outbox worker, and the providers it sends through (Firebase Cloud
//! Messaging HTTP v1, APNs for iPhones when configured, or the log in development). Notifications are written to the outbox by
//! the transaction of the event that causes them (`talktime_repository::push::enqueue`); a
//! worker on every node claims due rows, sends, and records the outcome (docs/push.md).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};
use talktime_domain::account::Account;
use talktime_domain::ids::AccountId;
use talktime_domain::push::{DeviceKind, DevicePlatform, MAX_PUSH_ATTEMPTS, PushKind, push_retry_delay_secs};
use talktime_domain::secret::Secret;
use talktime_repository::push::{self, Outgoing};
use talktime_repository::{Db, Tx};

use crate::ServiceError;

mod apns;

pub use apns::{ApnsConfig, ApnsPush};

/// What a provider did with one notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// The token is no longer registered: forget it.
    Unregistered,
    /// Worth another try later (the provider was down or throttled).
    Retry(String),
    /// Will never succeed as it is.
    Failed(String),
}

#[async_trait]
pub trait PushSender: Send + Sync {
    async fn send(&self, push: &Outgoing) -> Delivery;
    /// Whether it can ring an iPhone through a PushKit VoIP token (APNs is configured).
    fn rings_iphones(&self) -> bool {
        false
    }
}

/// Sends each notification through the provider its device needs: iPhones through APNs when it
/// is configured (VoIP tokens only there), everything else through FCM (or the log).
pub struct RoutedPush {
    pub fcm: Arc<dyn PushSender>,
    pub apns: Option<Arc<dyn PushSender>>,
}

#[async_trait]
impl PushSender for RoutedPush {
    async fn send(&self, push: &Outgoing) -> Delivery {
        match (&self.apns, push.platform, push.device_kind) {
            (Some(apns), DevicePlatform::Ios, _) => apns.send(push).await,
            (None, _, DeviceKind::Voip) => Delivery::Failed("a VoIP token needs APNs (APNS_*)".into()),
            _ => self.fcm.send(push).await,
        }
    }

    fn rings_iphones(&self) -> bool {
        self.apns.is_some() || self.fcm.rings_iphones()
    }
}

/// Development: writes what would be sent to the log.
pub struct LogPush;

#[async_trait]
impl PushSender for LogPush {
    async fn send(&self, push: &Outgoing) -> Delivery {
        tracing::info!(kind = %push.kind, title = ?push.title, body = ?push.body, data = %push.data,
            high_priority = push.high_priority, platform = %push.platform, device = %push.device_kind,
            "push (PUSH_PROVIDER=log)");
        Delivery::Sent
    }

    fn rings_iphones(&self) -> bool {
        true
    }
}

/// A Firebase service account (the JSON file the Firebase console gives).
#[derive(Debug, Clone, Deserialize)]
pub struct FcmCredentials {
    pub project_id: String,
    pub client_email: String,
    pub private_key: Secret<String>,
    #[serde(default = "google_token_uri")]
    pub token_uri: String,
}

fn google_token_uri() -> String {
    "https://oauth2.googleapis.com/token".to_owned()
}

/// Firebase Cloud Messaging HTTP v1: an OAuth access token from the service account (a signed
/// JWT exchanged at `token_uri`, kept until a minute before it expires), then
/// `POST {api_base}/v1/projects/{project}/messages:send` per device.
pub struct FcmPush {
    client: reqwest::Client,
    credentials: FcmCredentials,
    api_base: String,
    token: tokio::sync::Mutex<Option<(String, std::time::Instant)>>,
}

impl FcmPush {
    pub fn new(client: reqwest::Client, credentials: FcmCredentials, api_base: String) -> Self {
        Self { client, credentials, api_base, token: tokio::sync::Mutex::new(None) }
    }

    async fn access_token(&self) -> Result<String, String> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && std::time::Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let claims = json!({
            "iss": self.credentials.client_email,
            "scope": "https://www.googleapis.com/auth/firebase.messaging",
            "aud": self.credentials.token_uri,
            "iat": now,
            "exp": now + 3600,
        });
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(self.credentials.private_key.expose().as_bytes())
            .map_err(|e| format!("FCM private key: {e}"))?;
        let assertion = jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256), &claims, &key)
            .map_err(|e| format!("FCM assertion: {e}"))?;
        let reply = self
            .client
            .post(&self.credentials.token_uri)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            // A JWT is URL-safe already; the grant type's colons are encoded.
            .body(format!("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}"))
            .send()
            .await
            .map_err(|e| format!("FCM token exchange: {e}"))?;
        if !reply.status().is_success() {
            return Err(format!("FCM token exchange answered {}", reply.status()));
        }
        #[derive(Deserialize)]
        struct Token {
            access_token: String,
            #[serde(default = "an_hour")]
            expires_in: u64,
        }
        fn an_hour() -> u64 {
            3600
        }
        let token: Token = reply.json().await.map_err(|e| format!("FCM token exchange: {e}"))?;
        let until = std::time::Instant::now() + Duration::from_secs(token.expires_in.saturating_sub(60));
        *cached = Some((token.access_token.clone(), until));
        Ok(token.access_token)
    }

    /// The HTTP v1 message: data values must be strings.
    fn message(push: &Outgoing) -> Value {
        let data: serde_json::Map<String, Value> = push
            .data
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.as_str().map_or_else(|| v.to_string(), str::to_owned))))
                    .collect()
            })
            .unwrap_or_default();
        let mut android = json!({ "priority": if push.high_priority { "high" } else { "normal" } });
        if push.kind == PushKind::IncomingCall {
            // A ring is worth nothing after its deadline: FCM drops it rather than deliver it late.
            android["ttl"] = json!(format!("{}s", ring_seconds_left(&push.data)));
        }
        let mut message = json!({
            "token": push.token,
            "data": data,
            "android": android,
            "apns": { "headers": { "apns-priority": if push.high_priority { "10" } else { "5" } } },
        });
        if push.title.is_some() || push.body.is_some() {
            message["notification"] = json!({ "title": push.title, "body": push.body });
        }
        json!({ "message": message })
    }
}

#[async_trait]
impl PushSender for FcmPush {
    async fn send(&self, push: &Outgoing) -> Delivery {
        let token = match self.access_token().await {
            Ok(token) => token,
            Err(error) => return Delivery::Retry(error),
        };
        let url = format!("{}/v1/projects/{}/messages:send", self.api_base, self.credentials.project_id);
        let reply = match self.client.post(url).bearer_auth(token).json(&Self::message(push)).send().await {
            Ok(reply) => reply,
            Err(error) => return Delivery::Retry(format!("FCM unreachable: {error}")),
        };
        let status = reply.status();
        if status.is_success() {
            return Delivery::Sent;
        }
        let body = reply.text().await.unwrap_or_default();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            // The access token may have been revoked early: fetch a new one next time.
            *self.token.lock().await = None;
        }
        // 404 UNREGISTERED: the app was uninstalled; 400 INVALID_ARGUMENT: not a token FCM knows.
        if status == reqwest::StatusCode::NOT_FOUND
            || body.contains("UNREGISTERED")
            || (status == reqwest::StatusCode::BAD_REQUEST && body.contains("INVALID_ARGUMENT"))
        {
            Delivery::Unregistered
        } else if status.is_server_error()
            || status == reqwest::StatusCode::TOO_MANY_REQUESTS
            || status == reqwest::StatusCode::UNAUTHORIZED
        {
            Delivery::Retry(format!("FCM answered {status}: {}", crate::excerpt(&body, 200)))
        } else {
            Delivery::Failed(format!("FCM answered {status}: {}", crate::excerpt(&body, 200)))
        }
    }
}

/// Whole seconds from now to a ring push's `ringDeadline` (0 when it passed or is missing).
fn ring_seconds_left(data: &Value) -> i64 {
    data["ringDeadline"]
        .as_str()
        .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
        .map_or(0, |deadline| (deadline.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds().max(0))
}

/// The outbox worker's figures, for `/metrics`.
#[derive(Debug, Default)]
pub struct PushStats {
    pub sent: AtomicU64,
    pub failed: AtomicU64,
    pub retried: AtomicU64,
}

/// How the outbox worker and device registrations behave.
#[derive(Debug, Clone, Copy)]
pub struct PushSettings {
    /// How often each node's worker looks for due notifications (`PUSH_INTERVAL_MS`); rings and
    /// their cancels wake it at once.
    pub interval: Duration,
    /// Sends one worker has in flight at once (`PUSH_CONCURRENCY`).
    pub concurrency: usize,
    /// Devices one account may have (`PUSH_MAX_DEVICES_PER_ACCOUNT`); registering one more
    /// forgets the least recently registered.
    pub max_devices_per_account: i64,
}

/// Device registrations per account: an app registers its token at start and when it changes.
pub const REGISTRATIONS_PER_ACCOUNT: crate::rate_limit::Budget =
    crate::rate_limit::Budget { limit: 20, window: Duration::from_secs(3600) };

pub struct PushService {
    db: Db,
    sender: Arc<dyn PushSender>,
    settings: PushSettings,
    limiter: Arc<dyn crate::rate_limit::RateLimiter>,
    /// Told when a telecaller's devices change: whether she can be AWAY may have too.
    presence: Arc<crate::presence::PresenceService>,
    /// Wakes the worker when a ring or its cancel is in the outbox (calls hold a handle), so it
    /// goes out at once rather than at the next pass.
    wake: Arc<tokio::sync::Notify>,
    pub stats: Arc<PushStats>,
}

/// How many notifications one pass claims, and how long a claim lasts before the rows are due
/// again (a worker that died mid-send).
const BATCH: i64 = 100;
const LEASE_SECS: f64 = 60.0;

impl PushService {
    pub fn new(
        db: Db,
        sender: Arc<dyn PushSender>,
        settings: PushSettings,
        limiter: Arc<dyn crate::rate_limit::RateLimiter>,
        presence: Arc<crate::presence::PresenceService>,
    ) -> Self {
        Self { db, sender, settings, limiter, presence, wake: Arc::default(), stats: Arc::default() }
    }

    /// What a ring's enqueuer pokes so the worker sends it at once.
    pub fn waker(&self) -> Arc<tokio::sync::Notify> {
        self.wake.clone()
    }

    /// Registers a device of a phone account (a token moves to the account registering it; the
    /// account it leaves may have lost its last device).
    #[tracing::instrument(name = "register_device", skip_all, fields(account = %account.id))]
    pub async fn register_device(
        &self,
        account: &Account,
        token: &str,
        platform: DevicePlatform,
        kind: DeviceKind,
    ) -> Result<(), ServiceError> {
        if kind == DeviceKind::Voip && platform != DevicePlatform::Ios {
            return Err(ServiceError::invalid_field("kind", "voip_needs_ios", "A VoIP token belongs to an iPhone"));
        }
        if kind == DeviceKind::Voip && !self.sender.rings_iphones() {
            return Err(ServiceError::invalid_field(
                "kind",
                "voip_not_configured",
                "This server does not push to iPhones through APNs (APNS_* is not set)",
            ));
        }
        REGISTRATIONS_PER_ACCOUNT.spend(&*self.limiter, &format!("push:register:{}", account.id)).await?;
        let mut tx = self.db.begin().await?;
        let left = push::register_device(&mut tx, account.id, token, platform, kind).await?;
        push::keep_latest_devices(&mut tx, account.id, self.settings.max_devices_per_account).await?;
        self.forgot_devices(tx, left).await
    }

    /// Forgets a device of the account; idempotent.
    pub async fn remove_device(&self, account: &Account, token: &str) -> Result<(), ServiceError> {
        let mut tx = self.db.begin().await?;
        push::remove_device(&mut tx, account.id, token).await?;
        self.forgot_devices(tx, Some(account.id)).await
    }

    /// `account` lost a device in `tx`: with none left a telecaller is no longer reachable by
    /// push, and an AWAY one goes OFFLINE (docs/push.md).
    async fn forgot_devices(&self, mut tx: Tx, account: Option<AccountId>) -> Result<(), ServiceError> {
        let mut ended = None;
        if let Some(account) = account
            && push::end_reachability_without_devices(&mut tx, account).await?
        {
            ended = Some(account);
        }
        tx.commit().await.map_err(talktime_repository::RepoError::from)?;
        match ended {
            Some(account) => self.presence.refresh(account).await,
            None => Ok(()),
        }
    }

    /// Notifications waiting to be sent.
    pub async fn depth(&self) -> Result<i64, ServiceError> {
        Ok(push::depth(self.db.pool()).await?)
    }

    /// Sends what is due, then waits `interval` (or a ring's wake-up), for ever.
    pub async fn run_worker(self: Arc<Self>) {
        loop {
            match self.pass().await {
                // A full batch: more may be due right away.
                Ok(n) if n as i64 == BATCH => continue,
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "push outbox pass failed"),
            }
            tokio::select! {
                () = tokio::time::sleep(self.settings.interval) => {}
                () = self.wake.notified() => {}
            }
        }
    }

    /// One pass: claims due notifications and sends them, `concurrency` at a time, the priority
    /// lane (rings and their cancels) before anything else; how many it claimed.
    pub async fn pass(&self) -> Result<usize, ServiceError> {
        use futures_util::StreamExt;
        let due = push::claim_due(self.db.pool(), BATCH, LEASE_SECS).await?;
        let claimed = due.len();
        let (urgent, other): (Vec<Outgoing>, Vec<Outgoing>) = due.into_iter().partition(|p| p.high_priority);
        for lane in [urgent, other] {
            let outcomes: Vec<Result<(), ServiceError>> = futures_util::stream::iter(lane)
                .map(|push| async move { self.deliver(&push).await })
                .buffer_unordered(self.settings.concurrency.max(1))
                .collect()
                .await;
            outcomes.into_iter().collect::<Result<(), _>>()?;
        }
        Ok(claimed)
    }

    /// Sends one notification and records what came of it.
    async fn deliver(&self, push: &Outgoing) -> Result<(), ServiceError> {
        match self.sender.send(push).await {
            Delivery::Sent => {
                push::mark_sent(self.db.pool(), push.id).await?;
                self.stats.sent.fetch_add(1, Relaxed);
            }
            Delivery::Unregistered => {
                let mut tx = self.db.begin().await?;
                let owner = push::forget_token(&mut tx, &push.token).await?;
                self.forgot_devices(tx, owner).await?;
                push::give_up(self.db.pool(), push.id, "token no longer registered").await?;
                self.stats.failed.fetch_add(1, Relaxed);
            }
            Delivery::Retry(error) if push.attempts < MAX_PUSH_ATTEMPTS => {
                tracing::warn!(%error, attempts = push.attempts, "push failed; retrying later");
                push::retry_later(self.db.pool(), push.id, push_retry_delay_secs(push.attempts), &error).await?;
                self.stats.retried.fetch_add(1, Relaxed);
            }
            Delivery::Retry(error) | Delivery::Failed(error) => {
                tracing::error!(%error, attempts = push.attempts, "push given up");
                push::give_up(self.db.pool(), push.id, &error).await?;
                self.stats.failed.fetch_add(1, Relaxed);
            }
        }
        Ok(())
    }
}
