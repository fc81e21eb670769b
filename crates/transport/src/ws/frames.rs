//! What clients send: one [`ClientFrame`], tagged by `event` with its `data`, and the events
//! each endpoint accepts. A frame that is not one answers an `error` event with a stable code
//! (`unknown_event`, `invalid_data`) and the connection stays up.

use serde::Deserialize;
use serde_json::{Value, json};
use talktime_domain::account::Role;
use talktime_domain::call::CallType;
use talktime_domain::ids::{AccountId, CallId, GiftId};
use talktime_services::bus::ServerEvent;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Initiate {
    pub telecaller_id: AccountId,
    pub call_type: CallType,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct CallRef {
    pub call_id: CallId,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ChatRequest {
    pub telecaller_id: AccountId,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct SessionRef {
    pub session_id: CallId,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ChatMessage {
    pub session_id: CallId,
    pub client_id: String,
    pub text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ChatRead {
    pub session_id: CallId,
    pub seq: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct GiftSend {
    pub gift_id: GiftId,
    pub session_id: CallId,
    pub client_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Watch {
    pub telecaller_ids: Vec<AccountId>,
}

/// A client frame. `ping` and `presence:request-counts` take no data (whatever is sent is
/// ignored); the others carry the struct of their variant.
#[derive(Debug, Deserialize)]
#[serde(tag = "event", content = "data")]
pub(super) enum ClientFrame {
    #[serde(rename = "ping", skip_deserializing)]
    Ping,
    #[serde(rename = "presence:request-counts", skip_deserializing)]
    RequestCounts,
    #[serde(rename = "presence:watch")]
    Watch(Watch),
    #[serde(rename = "call:initiate")]
    Initiate(Initiate),
    #[serde(rename = "call:accept")]
    Accept(CallRef),
    #[serde(rename = "call:reject")]
    Reject(CallRef),
    #[serde(rename = "call:cancel")]
    Cancel(CallRef),
    #[serde(rename = "call:end")]
    End(CallRef),
    #[serde(rename = "chat:request")]
    ChatRequest(ChatRequest),
    #[serde(rename = "chat:accept")]
    ChatAccept(SessionRef),
    #[serde(rename = "chat:reject")]
    ChatReject(SessionRef),
    #[serde(rename = "chat:end")]
    ChatEnd(SessionRef),
    #[serde(rename = "chat:message")]
    ChatMessage(ChatMessage),
    #[serde(rename = "chat:typing")]
    ChatTyping(SessionRef),
    #[serde(rename = "chat:read")]
    ChatRead(ChatRead),
    #[serde(rename = "gift:send")]
    GiftSend(GiftSend),
}

/// Why a frame is not one of the endpoint's (the `error` event's code and message).
#[derive(Debug, PartialEq, Eq)]
pub(super) enum FrameError {
    UnknownEvent(String),
    InvalidData(String),
}

impl FrameError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownEvent(_) => "unknown_event",
            Self::InvalidData(_) => "invalid_data",
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Self::UnknownEvent(message) | Self::InvalidData(message) => message,
        }
    }
}

/// Every event some endpoint accepts.
const EVENTS: &[&str] = &[
    "ping",
    "presence:request-counts",
    "presence:watch",
    "call:initiate",
    "call:accept",
    "call:reject",
    "call:cancel",
    "call:end",
    "chat:request",
    "chat:accept",
    "chat:reject",
    "chat:end",
    "chat:message",
    "chat:typing",
    "chat:read",
    "gift:send",
];

/// The events `role`'s endpoint accepts.
fn accepts(role: Role, event: &str) -> bool {
    match role {
        Role::User => {
            matches!(
                event,
                "ping" | "presence:watch" | "call:initiate" | "call:cancel" | "call:end" | "chat:request" | "gift:send"
            ) || is_chat_party_event(event)
        }
        Role::Telecaller => {
            matches!(event, "ping" | "call:accept" | "call:reject" | "call:end" | "chat:accept" | "chat:reject")
                || is_chat_party_event(event)
        }
        Role::Admin => matches!(event, "ping" | "presence:request-counts"),
    }
}

/// Events either party of a chat sends.
fn is_chat_party_event(event: &str) -> bool {
    matches!(event, "chat:end" | "chat:message" | "chat:typing" | "chat:read")
}

impl ClientFrame {
    /// The event a refusal of this frame is answered with: `chat:error` for chat actions,
    /// `error` for gifts, `call:error` for calls.
    pub fn error_event(&self) -> ServerEvent {
        match self {
            Self::ChatRequest(_)
            | Self::ChatAccept(_)
            | Self::ChatReject(_)
            | Self::ChatEnd(_)
            | Self::ChatMessage(_)
            | Self::ChatTyping(_)
            | Self::ChatRead(_) => ServerEvent::ChatError,
            Self::GiftSend(_) => ServerEvent::Error,
            _ => ServerEvent::CallError,
        }
    }

    /// `event` with its `data`, as `role`'s endpoint reads it: an event of another endpoint or of
    /// none is unknown here; one of this endpoint with data of the wrong shape is invalid.
    pub fn parse(role: Role, event: &str, data: Value) -> Result<Self, FrameError> {
        if !accepts(role, event) {
            return Err(FrameError::UnknownEvent(if EVENTS.contains(&event) {
                format!("`{event}` is not an event of this endpoint")
            } else {
                format!("Unknown event `{event}`")
            }));
        }
        match event {
            "ping" => Ok(Self::Ping),
            "presence:request-counts" => Ok(Self::RequestCounts),
            _ => match serde_json::from_value(json!({ "event": event, "data": data })) {
                // A chat is requested with `chat:request`, never rung as a call.
                Ok(Self::Initiate(Initiate { call_type: CallType::Chat, .. })) => Err(FrameError::InvalidData(
                    format!("{event}: callType must be AUDIO or VIDEO (a chat is requested with chat:request)"),
                )),
                other => other.map_err(|e| FrameError::InvalidData(format!("{event}: {e}"))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_endpoint_reads_its_own_events() {
        let id = "0193a0a0-0000-7000-8000-000000000001";
        let initiate =
            ClientFrame::parse(Role::User, "call:initiate", json!({ "telecallerId": id, "callType": "AUDIO" }));
        assert!(matches!(initiate, Ok(ClientFrame::Initiate(Initiate { call_type: CallType::Audio, .. }))));
        assert!(matches!(ClientFrame::parse(Role::Admin, "ping", json!(7)), Ok(ClientFrame::Ping)));
        assert_eq!(
            ClientFrame::parse(Role::User, "call:accept", json!({ "callId": id })).unwrap_err().code(),
            "unknown_event"
        );
        assert_eq!(ClientFrame::parse(Role::Telecaller, "call:fly", json!({})).unwrap_err().code(), "unknown_event");
        for bad in [json!(null), json!({ "callId": "x" }), json!({ "callId": id, "extra": 1 })] {
            let error = ClientFrame::parse(Role::Telecaller, "call:accept", bad).unwrap_err();
            assert_eq!(error.code(), "invalid_data");
            assert!(error.message().starts_with("call:accept: "), "{}", error.message());
        }
    }
}
