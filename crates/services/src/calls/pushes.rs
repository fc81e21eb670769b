//! What calls push to a telecaller's devices (docs/push.md), written to the outbox in the
//! transaction of the call's own change.

use talktime_domain::account::Account;
use talktime_domain::call::Call;
use talktime_domain::push::PushKind;
use talktime_repository::Tx;
use talktime_repository::push::{Notification, enqueue};

use super::events::PartyCard;
use crate::ServiceError;

/// The incoming-call data message to an AWAY telecaller's devices, written with the call
/// (docs/push.md): high priority and no notification, so a native app draws its own full-screen
/// incoming-call screen.
pub(super) async fn incoming_call(tx: &mut Tx, call: &Call, caller: &Account) -> Result<(), ServiceError> {
    if call.call_type.is_chat() {
        return incoming_chat(tx, call, caller).await;
    }
    let notification = Notification {
        account: call.telecaller_id,
        kind: PushKind::IncomingCall,
        title: None,
        body: None,
        data: serde_json::json!({
            "type": "incoming_call",
            "callId": call.id.0,
            "callType": call.call_type,
            "callerId": caller.id.0,
            "callerName": caller.name,
            "callerProfile": caller.profile,
            "caller": PartyCard::from(caller),
            "ringDeadline": call.ring_deadline,
            "rate": call.user_rate,
        }),
        high_priority: true,
    };
    enqueue(tx, &notification).await?;
    Ok(())
}

/// A chat request to an AWAY telecaller: a high-priority alert ("… wants to chat").
async fn incoming_chat(tx: &mut Tx, call: &Call, caller: &Account) -> Result<(), ServiceError> {
    let body = format!("{} wants to chat", caller.name.as_deref().unwrap_or("A user"));
    let notification = Notification {
        account: call.telecaller_id,
        kind: PushKind::IncomingChat,
        title: Some("Chat request"),
        body: Some(&body),
        data: serde_json::json!({
            "type": "incoming_chat",
            "sessionId": call.id.0,
            "caller": PartyCard::from(caller),
            "requestDeadline": call.ring_deadline,
            "rate": call.user_rate,
        }),
        high_priority: true,
    };
    enqueue(tx, &notification).await?;
    Ok(())
}

/// A call that rang through a push stopped ringing before she answered (cancelled by the caller,
/// ended by an operator or a block): her devices are told to stop ringing.
pub(super) async fn call_cancelled(tx: &mut Tx, call: &Call) -> Result<(), ServiceError> {
    let notification = Notification {
        account: call.telecaller_id,
        kind: PushKind::CallCancelled,
        title: None,
        body: None,
        data: serde_json::json!({ "type": "call_cancelled", "callId": call.id.0 }),
        high_priority: true,
    };
    enqueue(tx, &notification).await?;
    Ok(())
}

/// "Missed call from …", written to the push outbox with the call's end (docs/push.md).
pub(super) async fn missed_call(tx: &mut Tx, call: &Call) -> Result<(), ServiceError> {
    let caller = talktime_repository::accounts::find_by_id(&mut **tx, call.user_id).await?;
    let name = caller.and_then(|c| c.name).unwrap_or_else(|| "a user".to_owned());
    let (title, body) = if call.call_type.is_chat() {
        ("Missed chat request", format!("Missed chat request from {name}"))
    } else {
        ("Missed call", format!("Missed call from {name}"))
    };
    let notification = Notification {
        account: call.telecaller_id,
        kind: PushKind::MissedCall,
        title: Some(title),
        body: Some(&body),
        data: serde_json::json!({ "type": "missed_call", "callId": call.id.0, "callType": call.call_type,
                                  "callerId": call.user_id.0, "callerName": name }),
        high_priority: false,
    };
    enqueue(tx, &notification).await?;
    Ok(())
}
