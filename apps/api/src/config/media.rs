//! The media server: LiveKit's URL, RoomService, keys and webhooks.

use std::time::Duration;

use talktime_domain::secret::Secret;

use super::vars::Vars;

pub(super) const DEV_LIVEKIT_KEY: &str = "devkey";
pub(super) const DEV_LIVEKIT_SECRET: &str = "secret";

#[derive(Debug, Clone)]
pub struct LiveKitSettings {
    /// `LIVEKIT_URL`, sent to the apps.
    pub url: String,
    /// RoomService's base (`LIVEKIT_API_URL`, else derived from `LIVEKIT_URL`), or `None` when
    /// neither was given (local development: calls ring, connect and bill with no media server).
    pub room_service: Option<String>,
    pub api_key: String,
    pub api_secret: Secret<String>,
    /// With `LIVEKIT_WEBHOOK_ENABLED`, LiveKit posts its webhooks to `/webhooks/livekit` (the
    /// meter starts when both parties are in the room) and an accepted call's media must connect
    /// within this (`MEDIA_CONNECT_TIMEOUT_SECS`); `None` without webhooks.
    pub media_connect_timeout: Option<Duration>,
    /// How often the media server's rooms are listed and those of no live call closed
    /// (`ROOM_SWEEP_INTERVAL_MS`).
    pub room_sweep: Duration,
}

pub(super) fn read(v: &mut Vars, prod: bool) -> LiveKitSettings {
    let url = v.get("LIVEKIT_URL");
    let api_key = v.get("LIVEKIT_API_KEY");
    let api_secret = v.get("LIVEKIT_API_SECRET");
    if url.is_none() {
        v.refuse_in_production(prod, "LIVEKIT_URL is missing");
    }
    match api_key.as_deref() {
        None => v.refuse_in_production(prod, "LIVEKIT_API_KEY is missing"),
        Some(DEV_LIVEKIT_KEY) => v.refuse_in_production(prod, "LIVEKIT_API_KEY is the LiveKit development key"),
        _ => {}
    }
    match api_secret.as_deref() {
        None => v.refuse_in_production(prod, "LIVEKIT_API_SECRET is missing"),
        Some(DEV_LIVEKIT_SECRET) => {
            v.refuse_in_production(prod, "LIVEKIT_API_SECRET is the LiveKit development secret")
        }
        _ => {}
    }
    let api_url = v.get("LIVEKIT_API_URL");
    let configured = url.is_some() || api_url.is_some();
    let url = url.unwrap_or_else(|| "ws://localhost:7880".into());
    let webhooks = v.flag("LIVEKIT_WEBHOOK_ENABLED", false);
    // Without webhooks the meter starts at accept whatever the media does, and nothing sees a
    // party who rejoins a room after the call: production needs them (they are signed with
    // LIVEKIT_API_KEY/LIVEKIT_API_SECRET, which LiveKit's `webhook.api_key` must name).
    if configured && !webhooks {
        v.refuse_in_production(
            prod,
            "LIVEKIT_WEBHOOK_ENABLED is off; production with a LiveKit server needs its webhooks (LiveKit's \
             `webhook.urls` pointing at /webhooks/livekit, signed with LIVEKIT_API_KEY)",
        );
    }
    let media_connect_timeout =
        Duration::from_secs(v.parsed("MEDIA_CONNECT_TIMEOUT_SECS", 20u64, "a number of seconds").max(1));
    LiveKitSettings {
        room_service: configured.then(|| api_url.unwrap_or_else(|| http_base_of(&url))),
        url,
        api_key: api_key.unwrap_or_else(|| DEV_LIVEKIT_KEY.into()),
        api_secret: Secret::new(api_secret.unwrap_or_else(|| DEV_LIVEKIT_SECRET.into())),
        media_connect_timeout: webhooks.then_some(media_connect_timeout),
        room_sweep: v.millis("ROOM_SWEEP_INTERVAL_MS", 30_000),
    }
}

/// `ws://host` → `http://host`, `wss://host` → `https://host`.
fn http_base_of(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("wss://") {
        format!("https://{rest}")
    } else if let Some(rest) = url.strip_prefix("ws://") {
        format!("http://{rest}")
    } else {
        url.to_owned()
    }
}
