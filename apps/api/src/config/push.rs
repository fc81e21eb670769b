//! Where push notifications go (`PUSH_PROVIDER` with its settings) and the push worker's pace.

use std::time::Duration;

use talktime_domain::secret::Secret;
use talktime_services::push::{ApnsConfig, ApnsPush, FcmCredentials, PushSettings};

use super::vars::Vars;

#[derive(Debug, Clone)]
pub enum PushProvider {
    /// Development: what would be sent is logged.
    Log,
    /// Firebase Cloud Messaging HTTP v1 with a service account (`FCM_CREDENTIALS_FILE` or
    /// `FCM_CREDENTIALS_JSON`); `api_base` is `FCM_API_BASE` (tests point it at a fake).
    Fcm { credentials: FcmCredentials, api_base: String },
}

pub(super) fn provider(v: &mut Vars) -> PushProvider {
    match v.get("PUSH_PROVIDER").as_deref() {
        None | Some("log") => PushProvider::Log,
        Some("fcm") => fcm(v).unwrap_or(PushProvider::Log),
        Some(other) => {
            v.problems.push(format!("PUSH_PROVIDER must be `log` or `fcm` (got `{other}`)"));
            PushProvider::Log
        }
    }
}

/// `PUSH_PROVIDER=fcm`: the service-account key (inline, else from its file) and the URLs; `None`
/// after recording what is missing or unreadable.
fn fcm(v: &mut Vars) -> Option<PushProvider> {
    let json = match (v.get("FCM_CREDENTIALS_JSON"), v.get("FCM_CREDENTIALS_FILE")) {
        (Some(json), _) => json,
        (None, Some(path)) => std::fs::read_to_string(&path)
            .map_err(|error| v.problems.push(format!("FCM_CREDENTIALS_FILE `{path}` cannot be read: {error}")))
            .ok()?,
        (None, None) => {
            v.problems
                .push("FCM_CREDENTIALS_FILE or FCM_CREDENTIALS_JSON is missing (required by PUSH_PROVIDER=fcm)".into());
            return None;
        }
    };
    let mut credentials = serde_json::from_str::<FcmCredentials>(&json)
        .map_err(|error| v.problems.push(format!("the FCM credentials are not a service account key: {error}")))
        .ok()?;
    if let Some(url) = v.get("FCM_TOKEN_URL") {
        credentials.token_uri = url;
    }
    Some(PushProvider::Fcm { credentials, api_base: v.or("FCM_API_BASE", "https://fcm.googleapis.com") })
}

/// The push worker and device registrations (`PUSH_INTERVAL_MS`, `PUSH_CONCURRENCY`,
/// `PUSH_MAX_DEVICES_PER_ACCOUNT`).
pub(super) fn worker(v: &mut Vars) -> PushSettings {
    PushSettings {
        interval: v.millis("PUSH_INTERVAL_MS", 1_000),
        concurrency: v.parsed("PUSH_CONCURRENCY", 8usize, "a positive number").clamp(1, 256),
        max_devices_per_account: v.parsed("PUSH_MAX_DEVICES_PER_ACCOUNT", 10i64, "a positive number").max(1),
    }
}

/// At most one round of "she's online" pushes per telecaller within this
/// (`ONLINE_ALERT_COOLDOWN_SECS`).
pub(super) fn online_alert_cooldown(v: &mut Vars) -> Duration {
    v.secs("ONLINE_ALERT_COOLDOWN_SECS", 3_600)
}

/// How long the notification inbox keeps an entry (`NOTIFICATION_RETENTION_DAYS`, fractions
/// allowed).
pub(super) fn notification_retention(v: &mut Vars) -> Duration {
    let days: f64 = v.parsed("NOTIFICATION_RETENTION_DAYS", 90.0, "a number of days");
    Duration::from_secs_f64((days.max(0.0) * 86_400.0).min(1e10))
}

/// APNs for iPhones, when `APNS_KEY_ID` is set: the team, the `.p8` key (inline in
/// `APNS_KEY_PEM`, else from `APNS_KEY_FILE`), the app's topic, and the environment's endpoint
/// (`APNS_ENVIRONMENT` `production` or `sandbox`; `APNS_API_BASE` overrides it in tests).
pub(super) fn apns(v: &mut Vars) -> Option<ApnsConfig> {
    let key_id = v.get("APNS_KEY_ID")?;
    let by = "APNS_KEY_ID";
    let key_pem = match (v.get("APNS_KEY_PEM"), v.get("APNS_KEY_FILE")) {
        (Some(pem), _) => pem,
        (None, Some(path)) => std::fs::read_to_string(&path)
            .map_err(|error| v.problems.push(format!("APNS_KEY_FILE `{path}` cannot be read: {error}")))
            .ok()?,
        (None, None) => {
            v.problems.push("APNS_KEY_FILE or APNS_KEY_PEM is missing (required by APNS_KEY_ID)".into());
            return None;
        }
    };
    if let Err(error) = ApnsPush::check_key(&key_pem) {
        v.problems.push(format!("the APNs key: {error}"));
        return None;
    }
    let endpoint = match v.or("APNS_ENVIRONMENT", "production").as_str() {
        "production" => "https://api.push.apple.com",
        "sandbox" => "https://api.sandbox.push.apple.com",
        other => {
            v.problems.push(format!("APNS_ENVIRONMENT must be `production` or `sandbox` (got `{other}`)"));
            "https://api.push.apple.com"
        }
    };
    Some(ApnsConfig {
        api_base: v.or("APNS_API_BASE", endpoint),
        team_id: v.required("APNS_TEAM_ID", by),
        topic: v.required("APNS_TOPIC", by),
        key_pem: Secret::new(key_pem),
        key_id,
    })
}
