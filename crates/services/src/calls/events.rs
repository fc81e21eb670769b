//! The payloads of the realtime events calls produce (the wire format of `docs/realtime.md`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use talktime_domain::call::{CallStatus, CallType, EndReason};
use uuid::Uuid;

pub use crate::presence::PartyCard;

/// `{token, url, roomName}` to join the call's LiveKit room.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveKitJoin {
    pub token: String,
    pub url: String,
    pub room_name: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRef {
    pub call_id: Uuid,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ringing {
    pub call_id: Uuid,
    pub call_type: CallType,
    pub telecaller: PartyCard,
    /// Coins per second the user pays for this call (copied onto it at initiate).
    pub rate: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Incoming {
    pub call_id: Uuid,
    pub call_type: CallType,
    pub caller: PartyCard,
    /// Coins per second the user pays for this call (copied onto it at initiate).
    pub rate: i64,
}

/// `call:accepted` for the user.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AcceptedForUser {
    pub call_id: Uuid,
    pub livekit: LiveKitJoin,
    pub max_duration_seconds: i64,
    /// Coins per second the user pays for this call (copied onto it at initiate).
    pub rate: i64,
}

/// `call:accepted` for the telecaller.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AcceptedForTelecaller {
    pub call_id: Uuid,
    pub call_type: CallType,
    pub caller: PartyCard,
    pub livekit: LiveKitJoin,
    pub max_duration_seconds: i64,
    /// Coins per second the user pays for this call (copied onto it at initiate).
    pub rate: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BalanceLow {
    pub call_id: Uuid,
    pub seconds_left: i64,
}

/// `call:connected`: both parties are in the room; the meter runs from `connectedAt`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Connected {
    pub call_id: Uuid,
    pub connected_at: DateTime<Utc>,
    pub max_duration_seconds: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Extended {
    pub call_id: Uuid,
    pub max_duration_seconds: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndedForUser {
    pub call_id: Uuid,
    pub reason: EndReason,
    pub duration_in_seconds: i64,
    pub coins_spent: i64,
    pub balance: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndedForTelecaller {
    pub call_id: Uuid,
    pub reason: EndReason,
    pub duration_in_seconds: i64,
    pub coins_earned: i64,
    pub balance: i64,
}

/// The active call in `session:ready`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActiveCall {
    pub call_id: Uuid,
    pub call_type: CallType,
    pub status: CallStatus,
    pub peer: PartyCard,
    pub accepted_at: Option<DateTime<Utc>>,
    pub max_duration_seconds: Option<i64>,
    /// Coins per second the user pays for this call (copied onto it at initiate).
    pub rate: i64,
    /// A fresh token when the call is ACCEPTED, to rejoin the room.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub livekit: Option<LiveKitJoin>,
}

/// `chat:accepted`, to both parties: the meter runs from `acceptedAt`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatAccepted {
    pub call_id: Uuid,
    pub user: PartyCard,
    pub telecaller: PartyCard,
    pub accepted_at: Option<DateTime<Utc>>,
    pub max_duration_seconds: i64,
    /// Coins per second the user pays for this chat (copied onto it at the request).
    pub rate: i64,
    /// The chat ends INACTIVE if no message comes by then.
    pub inactive_deadline: Option<DateTime<Utc>>,
}

/// The active chat in `session:ready`: the app fetches the messages after `lastSeq` it lacks.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActiveChat {
    pub session_id: Uuid,
    pub status: talktime_domain::chat::ChatStatus,
    pub peer: PartyCard,
    pub accepted_at: Option<DateTime<Utc>>,
    pub max_duration_seconds: Option<i64>,
    pub rate: i64,
    pub last_seq: i64,
    pub inactive_deadline: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionReady {
    pub active_call: Option<ActiveCall>,
    pub active_chat: Option<ActiveChat>,
    pub balance: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub online_telecallers: Option<usize>,
}

/// Admin feed: a call was accepted or finished.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallFeed {
    pub call_id: Uuid,
    pub user_id: Uuid,
    pub telecaller_id: Uuid,
    pub call_type: CallType,
    pub status: CallStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<EndReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_in_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coins_spent: Option<i64>,
}

/// A session event's data as its party reads it: a call's as it is; a chat's with `sessionId` for
/// `callId`, without `callType` (docs/chat.md).
pub fn for_session(call_type: CallType, data: impl Serialize) -> serde_json::Value {
    let mut value = serde_json::to_value(data).unwrap_or(serde_json::Value::Null);
    if call_type.is_chat()
        && let Some(object) = value.as_object_mut()
    {
        object.remove("callType");
        if let Some(id) = object.remove("callId") {
            object.insert("sessionId".to_owned(), id);
        }
    }
    value
}
