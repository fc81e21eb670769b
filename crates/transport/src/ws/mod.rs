//! The WebSocket endpoints `/ws/user`, `/ws/telecaller`, `/ws/admin`: one `select!` loop per
//! connection (client frames, outgoing queue, heartbeat). The handshake is `upgrade`, what
//! clients send is `frames`, and the local connection registry the bus delivers into is
//! `registry`.

mod frames;
mod registry;
mod upgrade;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use talktime_domain::account::{Account, Role};
use talktime_domain::ids::AccountId;
use talktime_services::ServiceError;
use talktime_services::bus::ServerEvent;
use talktime_services::calls::{Answer, Origin};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use crate::AppState;
use frames::ClientFrame;
use registry::{Conn, Out, Outgoing};
pub use registry::{ConnectionRegistry, Heartbeat, run_presence_flush, run_session_checks};
pub use upgrade::{configure, upgrade};

/// Frames above this are refused with close code 1009.
pub const MAX_FRAME_BYTES: usize = 16 * 1024;
/// How long a closing socket's writer gets to send the close frame before the connection is
/// cut (a client that stopped reading never takes it).
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// A connection watches at most this many telecallers' presence.
pub const MAX_WATCHED: usize = 100;

/// Who is on the other end of a socket.
#[derive(Clone)]
enum Peer {
    Account(Account),
    Admin(talktime_services::auth::AdminAccount),
}

impl Peer {
    fn id(&self) -> AccountId {
        match self {
            Peer::Account(a) => a.id,
            Peer::Admin(admin) => AccountId(admin.id.0),
        }
    }

    fn token_version(&self) -> i32 {
        match self {
            Peer::Account(a) => a.token_version,
            Peer::Admin(admin) => admin.token_version,
        }
    }
}

fn text(event: ServerEvent, data: &Value, reference: Option<&Value>) -> String {
    let mut frame = json!({ "event": event.as_str(), "data": data });
    if let Some(reference) = reference {
        frame["ref"] = reference.clone();
    }
    frame.to_string()
}

fn error_frame(event: ServerEvent, code: &str, message: &str, reference: Option<&Value>) -> String {
    text(event, &json!({ "code": code, "message": message }), reference)
}

/// A frame serialised once for many sockets, sent without copying it.
fn shared(frame: &Arc<str>) -> Message {
    let bytes = bytes::Bytes::from_owner(ArcText(frame.clone()));
    // An `Arc<str>` is UTF-8 by construction; the check is a formality on a short slice.
    Message::Text(Utf8Bytes::try_from(bytes).unwrap_or_default())
}

struct ArcText(Arc<str>);

impl AsRef<[u8]> for ArcText {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// One connection's life: `session:ready`, then frames both ways until either side closes.
///
/// Two tasks: this loop reads the client and keeps the heartbeat; a writer drains the socket's
/// outbox. Nothing here ever waits on a write, so a client that stops reading cannot freeze its
/// connection: its outbox overflows (1013) or its silence runs out the heartbeat, and the
/// connection is cut even if the close frame cannot be written.
async fn run(state: Arc<AppState>, role: Role, peer: Peer, socket: WebSocketStream<TcpStream>) {
    let account_id = peer.id();
    let (sink, mut stream) = socket.split();
    let conn = state.registry.register(role, account_id, peer.token_version());
    let heartbeat = state.registry.heartbeat;
    // The service calls are boxed: the future a connection parks in while idle stays small.
    conn.send(Out::Text(Box::pin(session_ready(&state, &peer, role)).await));
    let mut writer = actix_web::rt::spawn(write(conn.clone(), sink));
    let mut socket = Socket { state, role, peer, conn, watching: Vec::new() };
    let mut close: Option<CloseCode> = None;
    // Each socket's pings at its own phase of the interval (from its id), so sockets opened in
    // one burst do not all wake in the same instant every interval after.
    let phase = heartbeat.ping.mul_f64((socket.conn.id % 1024) as f64 / 1024.0);
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + phase, heartbeat.ping);
    let mut last_seen = Instant::now();
    let writer_done = loop {
        tokio::select! {
            message = stream.next() => {
                last_seen = Instant::now();
                let reply = match Step::of(message) {
                    Step::Close(code) => { close = code; break false }
                    Step::Text(body) => Box::pin(socket.handle_text(&body)).await,
                    Step::Reply(reply) => Some(reply),
                    Step::Nothing => None,
                };
                if let Some(reply) = reply {
                    socket.conn.send(Out::Text(reply));
                }
            }
            _ = &mut writer => break true,
            _ = ticker.tick() => {
                if last_seen.elapsed() > heartbeat.timeout {
                    close = Some(CloseCode::Away);
                    break false;
                }
                socket.conn.send(Out::Ping);
            }
        }
    };
    let Socket { state, peer, conn, watching, .. } = socket;
    state.registry.unregister(role, account_id, &conn, &watching);
    // The leaving is handled before the close frame answers the client's: once a client has
    // its close acknowledged, presence and calls already know it left.
    if let Peer::Account(_) = &peer
        && let Err(error) = Box::pin(state.calls.disconnected(account_id, role)).await
    {
        tracing::warn!(%error, "disconnect handling failed");
    }
    if !writer_done {
        // Let the writer say goodbye if it can; a client that does not read is cut off anyway.
        if let Some(code) = close {
            conn.force_close(u16::from(code));
        }
        if tokio::time::timeout(CLOSE_GRACE, &mut writer).await.is_err() {
            writer.abort();
        }
    }
}

/// `session:ready`: the account's snapshot (an admin's is empty).
async fn session_ready(state: &AppState, peer: &Peer, role: Role) -> String {
    let data = match peer {
        Peer::Account(account) => match state.calls.connected(account, role).await {
            Ok(ready) => serde_json::to_value(ready).unwrap_or(Value::Null),
            Err(error) => {
                tracing::error!(%error, "session:ready failed");
                Value::Null
            }
        },
        Peer::Admin(_) => json!({}),
    };
    text(ServerEvent::SessionReady, &data, None)
}

/// What one message from the client asks of the connection's loop.
enum Step {
    /// End the connection, with this close code (none: the connection is gone already).
    Close(Option<CloseCode>),
    /// A text frame for the protocol.
    Text(Utf8Bytes),
    /// Answer this at once.
    Reply(String),
    Nothing,
}

impl Step {
    fn of(message: Option<Result<Message, WsError>>) -> Self {
        match message {
            None => Self::Close(None),
            // tungstenite has queued the answering close frame; the writer flushes it (else the
            // client waits for it until the close grace cuts the connection).
            Some(Ok(Message::Close(_))) => Self::Close(Some(CloseCode::Normal)),
            Some(Err(WsError::Capacity(_))) => Self::Close(Some(CloseCode::Size)),
            Some(Err(WsError::Utf8(_))) => Self::Close(Some(CloseCode::Invalid)),
            Some(Err(WsError::Protocol(_))) => Self::Close(Some(CloseCode::Protocol)),
            Some(Err(_)) => Self::Close(None),
            Some(Ok(Message::Text(body))) if body.len() > MAX_FRAME_BYTES => Self::Close(Some(CloseCode::Size)),
            Some(Ok(Message::Binary(body))) if body.len() > MAX_FRAME_BYTES => Self::Close(Some(CloseCode::Size)),
            Some(Ok(Message::Text(body))) => Self::Text(body),
            Some(Ok(Message::Binary(_))) => {
                Self::Reply(error_frame(ServerEvent::Error, "invalid_message", "Binary frames are not supported", None))
            }
            // tungstenite answers pings itself; pongs only prove the client is there.
            Some(Ok(_)) => Self::Nothing,
        }
    }
}

/// The socket's writer: sends what the outbox holds, in order, until a close (or an overflow,
/// 1013) or a failed write.
async fn write(conn: Arc<Conn>, mut sink: SplitSink<WebSocketStream<TcpStream>, Message>) {
    loop {
        conn.wake.notified().await;
        let batch = match conn.take() {
            Outgoing::Overflowed => {
                let _ = sink.send(close_frame(CloseCode::Again)).await;
                return;
            }
            Outgoing::Deliver(batch) => batch,
        };
        for out in batch {
            let message = match out {
                Out::Frame(frame) => shared(&frame),
                Out::Text(text) => Message::text(text),
                Out::Ping => Message::Ping(bytes::Bytes::new()),
                Out::Close(code) => {
                    let _ = sink.send(close_frame(CloseCode::from(code))).await;
                    let _ = sink.close().await;
                    return;
                }
            };
            if sink.feed(message).await.is_err() {
                return;
            }
        }
        if sink.flush().await.is_err() {
            return;
        }
    }
}

fn close_frame(code: CloseCode) -> Message {
    Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::default() }))
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

impl Socket {
    /// Parses one client frame and answers it. Nothing a client sends can fail the connection.
    /// `None` when the message needs no answer.
    async fn handle_text(&mut self, body: &str) -> Option<String> {
        let Ok(message) = serde_json::from_str::<Value>(body) else {
            return Some(error_frame(ServerEvent::Error, "invalid_json", "Frames must be JSON objects", None));
        };
        let reference = message.get("ref").filter(|r| r.is_string() || r.is_number());
        let Some(event) = message.get("event").and_then(Value::as_str) else {
            return Some(error_frame(
                ServerEvent::Error,
                "invalid_message",
                "A frame needs a string `event`",
                reference,
            ));
        };
        let data = message.get("data").cloned().unwrap_or(Value::Null);
        let frame = match ClientFrame::parse(self.role, event, data) {
            Ok(frame) => frame,
            Err(error) => return Some(error_frame(ServerEvent::Error, error.code(), error.message(), reference)),
        };
        let error_event = frame.error_event();
        let result = match self.act(frame).await? {
            Acted::Answered(result) => result,
            Acted::Frame(event, data) => return Some(text(event, &data, reference)),
            Acted::Refused(message) => {
                return Some(error_frame(ServerEvent::Error, "invalid_data", &message, reference));
            }
        };
        Some(match result {
            Ok(answer) => text(answer.event, &answer.data, reference),
            Err(error) if error.kind == talktime_services::ErrorKind::RateLimited => text(
                ServerEvent::Error,
                &json!({ "code": "rate_limited", "message": error.message, "retryAfter": error.retry_after_secs }),
                reference,
            ),
            Err(error) if error.kind == talktime_services::ErrorKind::Internal => {
                tracing::error!(%error, cause = ?error.source, "call action failed");
                error_frame(error_event, "internal_error", "Something went wrong", reference)
            }
            Err(error) => error_frame(error_event, error.code, &error.message, reference),
        })
    }

    /// Does what a frame asks; `None` when it needs no answer.
    async fn act(&mut self, frame: ClientFrame) -> Option<Acted> {
        let state = &self.state;
        let origin = Origin { role: self.role, connection: self.conn.id };
        let answered = match (frame, &self.peer) {
            (ClientFrame::Ping, _) => return Some(Acted::Frame(ServerEvent::Pong, json!({}))),
            (ClientFrame::RequestCounts, _) => match state.presence.counts().await {
                Ok(counts) => {
                    return Some(Acted::Frame(
                        ServerEvent::PresenceCounts,
                        serde_json::to_value(counts).unwrap_or(Value::Null),
                    ));
                }
                Err(error) => Err(error),
            },
            (ClientFrame::Watch(watch), _) if watch.telecaller_ids.len() > MAX_WATCHED => {
                return Some(Acted::Refused(format!("presence:watch: at most {MAX_WATCHED} telecallerIds")));
            }
            (ClientFrame::Watch(watch), _) => {
                let mut ids = watch.telecaller_ids;
                ids.sort_unstable();
                ids.dedup();
                state.registry.watch(&self.conn, &self.watching, &ids);
                self.watching = ids;
                // Nothing to answer: changes arrive in `presence:update`.
                return None;
            }
            (ClientFrame::Initiate(call), Peer::Account(user)) => {
                state.calls.initiate(user, origin, call.telecaller_id, call.call_type).await
            }
            (ClientFrame::Accept(call), Peer::Account(telecaller)) => {
                state.calls.accept(telecaller, origin, call.call_id).await
            }
            (ClientFrame::Reject(call), Peer::Account(telecaller)) => {
                state.calls.reject(telecaller, origin, call.call_id).await
            }
            (ClientFrame::Cancel(call), Peer::Account(user)) => state.calls.cancel(user, origin, call.call_id).await,
            (ClientFrame::End(call), Peer::Account(account)) => state.calls.end(account, origin, call.call_id).await,
            (ClientFrame::ChatRequest(chat), Peer::Account(user)) => {
                state.calls.request_chat(user, origin, chat.telecaller_id).await
            }
            (ClientFrame::ChatAccept(chat), Peer::Account(telecaller)) => {
                state.calls.accept_chat(telecaller, origin, chat.session_id).await
            }
            (ClientFrame::ChatReject(chat), Peer::Account(telecaller)) => {
                state.calls.reject_chat(telecaller, origin, chat.session_id).await
            }
            (ClientFrame::ChatEnd(chat), Peer::Account(account)) => {
                state.calls.end_chat(account, origin, chat.session_id).await
            }
            (ClientFrame::ChatMessage(m), Peer::Account(account)) => {
                state.chats.send_message(account, origin, m.session_id, &m.client_id, &m.text).await
            }
            (ClientFrame::ChatTyping(chat), Peer::Account(account)) => {
                match state.chats.typing(account, chat.session_id).await {
                    Ok(()) => return None,
                    Err(error) => Err(error),
                }
            }
            (ClientFrame::ChatRead(read), Peer::Account(account)) => {
                match state.chats.read(account, read.session_id, read.seq).await {
                    Ok(()) => return None,
                    Err(error) => Err(error),
                }
            }
            (ClientFrame::GiftSend(gift), Peer::Account(user)) => {
                state.gifts.send(user, origin, gift.gift_id, gift.session_id, &gift.client_id).await
            }
            // The admin endpoint admits no call event.
            (_, Peer::Admin(_)) => return None,
        };
        Some(Acted::Answered(answered))
    }
}

/// What acting on a frame came to.
enum Acted {
    /// A service's answer (or refusal) to a call action.
    Answered(Result<Answer, ServiceError>),
    /// A frame to answer with.
    Frame(ServerEvent, Value),
    /// Data the frame's shape allowed but its rules do not (`invalid_data`).
    Refused(String),
}
