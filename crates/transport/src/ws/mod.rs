//! The WebSocket endpoints `/ws/user`, `/ws/telecaller`, `/ws/admin`: the handshake checks and
//! one `select!` loop per connection (client frames, outgoing queue, heartbeat). The local
//! connection registry the bus delivers into is `registry`.

mod registry;

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{CloseCode, CloseReason, Message, ProtocolError, Session};
use serde::Deserialize;
use serde_json::{Value, json};
use talktime_domain::account::{Account, ApprovalStatus, Role};
use talktime_domain::call::CallType;
use talktime_domain::ids::{AccountId, CallId};
use talktime_services::ServiceError;
use talktime_services::auth::Principal;
use talktime_services::bus::Delivery;
use talktime_services::calls::{Answer, Origin};
use talktime_services::rate_limit::Budget;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ClientIp, request_token};
use registry::Conn;
pub use registry::{ConnectionRegistry, run_presence_flush};

/// Frames above this are refused with close code 1009.
pub const MAX_FRAME_BYTES: usize = 16 * 1024;
const HEARTBEAT: Duration = Duration::from_secs(20);
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECTS_PER_IP: Budget = Budget { limit: 10, window: Duration::from_secs(60) };
/// A connection watches at most this many telecallers' presence.
pub const MAX_WATCHED: usize = 100;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/ws/user", web::get().to(user_socket))
        .route("/ws/telecaller", web::get().to(telecaller_socket))
        .route("/ws/admin", web::get().to(admin_socket));
}

/// Who is on the other end of a socket.
#[derive(Clone)]
enum Peer {
    Account(Account),
    Admin(AccountId),
}

async fn user_socket(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, actix_web::Error> {
    open(req, body, state, Role::User).await
}

async fn telecaller_socket(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, actix_web::Error> {
    open(req, body, state, Role::Telecaller).await
}

async fn admin_socket(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, actix_web::Error> {
    open(req, body, state, Role::Admin).await
}

/// The handshake: rate limit, token (header, cookie, or `token` query parameter), role and
/// standing; refusals answer with the JSON error body before any upgrade.
async fn open(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    role: Role,
) -> Result<HttpResponse, actix_web::Error> {
    let ip = {
        use actix_web::FromRequest;
        ClientIp::extract(&req).await?.0
    };
    CONNECTS_PER_IP.spend(&*state.limiter, &format!("ws:ip:{ip}")).await.map_err(ApiError::from)?;
    let token = request_token(&req)
        .or_else(|| {
            web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
                .ok()
                .and_then(|q| q.get("token").cloned())
        })
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "missing_token", "Authentication required"))?;
    let principal = state.auth.authenticate(&token).await.map_err(ApiError::from)?;
    let forbidden = |code: &'static str, message: &str| ApiError::new(StatusCode::FORBIDDEN, code, message);
    let peer = match (role, principal) {
        (Role::User, Principal::Account(a)) if a.role == Role::User => Peer::Account(a),
        (Role::Telecaller, Principal::Account(a)) if a.role == Role::Telecaller => {
            if a.approval_status() != Some(ApprovalStatus::Approved) {
                return Err(forbidden("telecaller_not_approved", "Your telecaller profile is not approved").into());
            }
            Peer::Account(a)
        }
        (Role::Admin, Principal::Admin(admin)) => Peer::Admin(AccountId(admin.id.0)),
        _ => return Err(forbidden("forbidden_role", "You do not have access to this endpoint").into()),
    };
    let (response, session, stream) = actix_ws::handle(&req, body)?;
    let stream = stream.max_frame_size(MAX_FRAME_BYTES);
    let account = match &peer {
        Peer::Account(a) => a.id,
        Peer::Admin(id) => *id,
    };
    // One span per connection; the query string (which may hold the token) is never recorded.
    let span = tracing::info_span!("ws", role = %role, account = %account);
    actix_web::rt::spawn(tracing::Instrument::instrument(run(state.into_inner(), role, peer, session, stream), span));
    Ok(response)
}

fn text(event: &str, data: &Value, reference: Option<&Value>) -> String {
    let mut frame = json!({ "event": event, "data": data });
    if let Some(reference) = reference {
        frame["ref"] = reference.clone();
    }
    frame.to_string()
}

fn error_frame(event: &str, code: &str, message: &str, reference: Option<&Value>) -> String {
    text(event, &json!({ "code": code, "message": message }), reference)
}

/// One connection's life: `session:ready`, then frames both ways until either side closes.
async fn run(state: Arc<AppState>, role: Role, peer: Peer, mut session: Session, mut stream: actix_ws::MessageStream) {
    let account_id = match &peer {
        Peer::Account(a) => a.id,
        Peer::Admin(id) => *id,
    };
    let (conn, mut queue) = state.registry.register(role, account_id);
    let ready = match &peer {
        Peer::Account(account) => match state.calls.connected(account, role).await {
            Ok(ready) => serde_json::to_value(ready).unwrap_or(Value::Null),
            Err(error) => {
                tracing::error!(%error, "session:ready failed");
                Value::Null
            }
        },
        Peer::Admin(_) => json!({}),
    };
    let mut socket = Socket { state, role, peer, conn, watching: Vec::new() };
    let mut close = None;
    if session.text(text("session:ready", &ready, None)).await.is_err() {
        close = Some(CloseCode::Away);
    }
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    let mut last_seen = Instant::now();
    while close.is_none() {
        tokio::select! {
            message = stream.recv() => match message {
                None | Some(Ok(Message::Close(_))) => break,
                Some(Err(ProtocolError::Overflow)) => close = Some(CloseCode::Size),
                Some(Err(_)) => close = Some(CloseCode::Protocol),
                Some(Ok(Message::Text(body))) => {
                    last_seen = Instant::now();
                    if let Some(reply) = socket.handle_text(&body).await
                        && session.text(reply).await.is_err()
                    {
                        break;
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    last_seen = Instant::now();
                    let reply = error_frame("error", "invalid_message", "Binary frames are not supported", None);
                    if session.text(reply).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Ping(bytes))) => {
                    last_seen = Instant::now();
                    if session.pong(&bytes).await.is_err() {
                        break;
                    }
                }
                Some(Ok(_)) => last_seen = Instant::now(),
            },
            delivery = queue.recv() => match delivery {
                Some(Delivery::Frame(frame)) => {
                    if session.text(&*frame).await.is_err() {
                        break;
                    }
                }
                Some(Delivery::Close(code)) => close = Some(CloseCode::Other(code)),
                Some(Delivery::Change(_)) => {}
                None => break,
            },
            _ = socket.conn.overflow.notified() => close = Some(CloseCode::Again),
            _ = heartbeat.tick() => {
                if last_seen.elapsed() > CLIENT_TIMEOUT {
                    close = Some(CloseCode::Away);
                } else if session.ping(b"").await.is_err() {
                    break;
                }
            }
        }
    }
    let Socket { state, peer, conn, watching, .. } = socket;
    state.registry.unregister(role, account_id, &conn, &watching);
    if let Peer::Account(_) = &peer
        && let Err(error) = state.calls.disconnected(account_id, role).await
    {
        tracing::warn!(%error, "disconnect handling failed");
    }
    let _ = session.close(close.map(|code| CloseReason { code, description: None })).await;
}

/// What a connection's loop knows about its socket.
struct Socket {
    state: Arc<AppState>,
    role: Role,
    peer: Peer,
    conn: Arc<Conn>,
    /// The telecallers whose presence it watches (at most [`MAX_WATCHED`]).
    watching: Vec<AccountId>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct InitiateData {
    telecaller_id: uuid::Uuid,
    call_type: CallType,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CallData {
    call_id: uuid::Uuid,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WatchData {
    telecaller_ids: Vec<uuid::Uuid>,
}

impl Socket {
    /// Parses one client frame and answers it. Nothing a client sends can fail the connection.
    /// `None` when the message needs no answer.
    async fn handle_text(&mut self, body: &str) -> Option<String> {
        let Ok(message) = serde_json::from_str::<Value>(body) else {
            return Some(error_frame("error", "invalid_json", "Frames must be JSON objects", None));
        };
        let reference = message.get("ref").filter(|r| r.is_string() || r.is_number());
        let Some(event) = message.get("event").and_then(Value::as_str) else {
            return Some(error_frame("error", "invalid_message", "A frame needs a string `event`", reference));
        };
        let data = message.get("data").cloned().unwrap_or(Value::Null);
        let (state, role) = (&self.state, self.role);
        let origin = Origin { role, connection: self.conn.id };
        let parse = |kind| -> Result<CallData, String> {
            serde_json::from_value(data.clone()).map_err(|e| format!("{kind}: {e}"))
        };
        let result: Result<Answer, ServiceError> = match (&self.peer, event) {
            (_, "ping") => return Some(text("pong", &json!({}), reference)),
            (Peer::Account(_), "presence:watch") if role == Role::User => {
                return match serde_json::from_value::<WatchData>(data) {
                    Ok(d) if d.telecaller_ids.len() > MAX_WATCHED => Some(error_frame(
                        "error",
                        "invalid_data",
                        &format!("presence:watch: at most {MAX_WATCHED} telecallerIds"),
                        reference,
                    )),
                    Ok(d) => {
                        let mut ids: Vec<AccountId> = d.telecaller_ids.into_iter().map(AccountId).collect();
                        ids.sort_unstable();
                        ids.dedup();
                        state.registry.watch(&self.conn, &self.watching, &ids);
                        self.watching = ids;
                        // Nothing to answer: changes arrive in `presence:update`.
                        return None;
                    }
                    Err(e) => Some(error_frame("error", "invalid_data", &format!("presence:watch: {e}"), reference)),
                };
            }
            (Peer::Account(user), "call:initiate") if role == Role::User => {
                match serde_json::from_value::<InitiateData>(data.clone()) {
                    Ok(d) => state.calls.initiate(user, origin, AccountId(d.telecaller_id), d.call_type).await,
                    Err(e) => {
                        return Some(error_frame("error", "invalid_data", &format!("call:initiate: {e}"), reference));
                    }
                }
            }
            (Peer::Account(account), "call:cancel" | "call:end" | "call:accept" | "call:reject") => {
                let allowed = match role {
                    Role::User => matches!(event, "call:cancel" | "call:end"),
                    Role::Telecaller => matches!(event, "call:accept" | "call:reject" | "call:end"),
                    Role::Admin => false,
                };
                if !allowed {
                    return Some(error_frame(
                        "error",
                        "unknown_event",
                        &format!("`{event}` is not an event of this endpoint"),
                        reference,
                    ));
                }
                let call = match parse(event) {
                    Ok(d) => CallId(d.call_id),
                    Err(message) => return Some(error_frame("error", "invalid_data", &message, reference)),
                };
                match event {
                    "call:cancel" => state.calls.cancel(account, origin, call).await,
                    "call:end" => state.calls.end(account, origin, call).await,
                    "call:accept" => state.calls.accept(account, origin, call).await,
                    _ => state.calls.reject(account, origin, call).await,
                }
            }
            (Peer::Admin(_), "presence:request-counts") => match state.calls.counts().await {
                Ok(counts) => {
                    return Some(text(
                        "presence:counts",
                        &serde_json::to_value(counts).unwrap_or(Value::Null),
                        reference,
                    ));
                }
                Err(error) => Err(error),
            },
            _ => return Some(error_frame("error", "unknown_event", &format!("Unknown event `{event}`"), reference)),
        };
        Some(match result {
            Ok(answer) => text(answer.event, &answer.data, reference),
            Err(error) if error.kind == talktime_services::ErrorKind::RateLimited => text(
                "error",
                &json!({ "code": "rate_limited", "message": error.message, "retryAfter": error.retry_after_secs }),
                reference,
            ),
            Err(error) if error.kind == talktime_services::ErrorKind::Internal => {
                tracing::error!(%error, cause = ?error.source, "call action failed");
                error_frame("call:error", "internal_error", "Something went wrong", reference)
            }
            Err(error) => error_frame("call:error", error.code, &error.message, reference),
        })
    }
}
