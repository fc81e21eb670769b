//! What clients send: one [`ClientFrame`], tagged by `event` with its `data`, and the events
//! each endpoint accepts. A frame that is not one answers an `error` event with a stable code
//! (`unknown_event`, `invalid_data`) and the connection stays up.

use serde::Deserialize;
use serde_json::{Value, json};
use talktime_domain::account::Role;
use talktime_domain::call::CallType;
use talktime_domain::ids::{AccountId, CallId};

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
];

/// The events `role`'s endpoint accepts.
fn accepts(role: Role, event: &str) -> bool {
    match role {
        Role::User => matches!(event, "ping" | "presence:watch" | "call:initiate" | "call:cancel" | "call:end"),
        Role::Telecaller => matches!(event, "ping" | "call:accept" | "call:reject" | "call:end"),
        Role::Admin => matches!(event, "ping" | "presence:request-counts"),
    }
}

impl ClientFrame {
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
            _ => serde_json::from_value(json!({ "event": event, "data": data }))
                .map_err(|e| FrameError::InvalidData(format!("{event}: {e}"))),
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
