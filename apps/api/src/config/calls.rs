//! The call timers and limits (`CallSettings`).

use std::time::Duration;

use talktime_services::calls::CallSettings;
use talktime_services::chats::ChatSettings;

use super::media::LiveKitSettings;
use super::vars::Vars;

/// `heartbeat`: how often this node renews its directory entries (the cluster's pace; on one
/// node the loop renews nothing).
pub(super) fn read(v: &mut Vars, livekit: &LiveKitSettings, heartbeat: Duration) -> CallSettings {
    CallSettings {
        ring_timeout: v.secs("RING_TIMEOUT_SECS", 30),
        push_ring_timeout: v.secs("PUSH_RING_TIMEOUT_SECS", 45),
        reconnect_grace: v.secs("RECONNECT_GRACE_SECS", 20),
        sweep_interval: v.millis("SWEEP_INTERVAL_MS", 1_000),
        room_retry: v.millis("ROOM_RETRY_MS", 10_000),
        room_sweep: livekit.room_sweep,
        heartbeat,
        media_timeout: livekit.media_connect_timeout,
        push_rings_per_hour: v.parsed("PUSH_RINGS_PER_HOUR", 20i64, "a number of calls").max(1),
        rating_min_billed_secs: v.parsed("RATING_MIN_BILLED_SECONDS", 30i64, "a number of seconds").max(0),
        chat_inactivity: v.secs("CHAT_INACTIVITY_SECS", 180),
    }
}

/// Chat messages (`CHAT_MASK_CONTACTS`; the inactivity window is the calls' `CHAT_INACTIVITY_SECS`).
pub(super) fn chat(v: &mut Vars, calls: &CallSettings) -> ChatSettings {
    ChatSettings { mask_contacts: v.flag("CHAT_MASK_CONTACTS", true), inactivity: calls.chat_inactivity }
}
