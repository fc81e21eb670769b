//! `talktime demo`: the demo telecallers kept online by small bots that speak the real
//! WebSocket protocol (`/ws/telecaller`, exactly as the apps do): each answers a call or a chat
//! after a short ring and ends it after a while, and answers chat messages and gifts with canned
//! replies, so a newcomer sees hosts online and can call or chat with one from the console or any
//! client. Development only.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use talktime_domain::account::Role;
use talktime_repository::{Db, RepoError, seed};
use talktime_services::tokens::TokenIssuer;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[derive(Debug, Clone, Copy)]
pub struct DemoSettings {
    /// How long a demo host lets a call ring before accepting it.
    pub answer_after: Duration,
    /// How long she talks before she hangs up (the caller usually ends first).
    pub hang_up_after: Duration,
}

/// Starts a bot for every demo telecaller, connecting to the server at `addr`; they run (and
/// reconnect) for as long as the process does. Answers how many were started.
pub async fn run_hosts(
    addr: SocketAddr,
    db: &Db,
    tokens: &TokenIssuer,
    settings: DemoSettings,
) -> Result<usize, RepoError> {
    let hosts = seed::demo_telecallers(db).await?;
    for (id, version) in &hosts {
        let token = match tokens.issue(id.0, Role::Telecaller, *version) {
            Ok(token) => token,
            Err(error) => {
                tracing::warn!(%error, "cannot mint a demo host's token");
                continue;
            }
        };
        let id = *id;
        tokio::spawn(async move {
            loop {
                if let Err(error) = host(addr, &token, settings).await {
                    tracing::debug!(%error, %id, "demo host disconnected; reconnecting");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
    Ok(hosts.len())
}

type Error = Box<dyn std::error::Error + Send + Sync>;

/// What a demo host says in a chat, in turn.
const CANNED: &[&str] = &[
    "Hello! How is your day going?",
    "That sounds interesting, tell me more.",
    "I understand. What would you like to talk about?",
    "Ha, that is lovely to hear!",
    "I am listening.",
];

/// How long a demo host "types" before a reply.
const TYPING: Duration = Duration::from_millis(800);

/// Her reply to a chat event, if any: a canned line per message from the user (not her own
/// answers, which carry a `ref`) and thanks for a gift.
fn reply(frame: &Value) -> Option<Value> {
    let data = &frame["data"];
    let session = data["sessionId"].clone();
    let text = match frame["event"].as_str()? {
        "chat:message" if frame["ref"].is_null() => {
            let seq = data["seq"].as_u64().unwrap_or(0) as usize;
            CANNED[seq % CANNED.len()].to_owned()
        }
        "gift:received" => format!("Thank you for the {}!", data["name"].as_str().unwrap_or("gift")),
        _ => return None,
    };
    // Unique per reply: the message's number, or the gift's time.
    let client_id = format!("demo-{}-{}", data["seq"], data["sentAt"].as_str().unwrap_or_default());
    Some(json!({ "sessionId": session, "clientId": client_id, "text": text }))
}

/// One connection's worth of a demo host: answers rings and chat requests, ends them later,
/// replies in chats.
async fn host(addr: SocketAddr, token: &str, settings: DemoSettings) -> Result<(), Error> {
    let mut request = format!("ws://{addr}/ws/telecaller").into_client_request()?;
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse()?);
    let (socket, _) = tokio_tungstenite::connect_async(request).await?;
    let (mut sink, mut stream) = socket.split();
    // Timers send through here, so only this loop writes to the socket.
    let (later, mut due) = mpsc::unbounded_channel::<String>();
    let after = |delay: Duration, event: &'static str, data: Value| {
        let later = later.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = later.send(json!({ "event": event, "data": data, "ref": "demo" }).to_string());
        });
    };
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(message) = message else { return Ok(()) };
                let Message::Text(text) = message? else { continue };
                let frame: Value = serde_json::from_str(&text)?;
                let call = json!({ "callId": frame["data"]["callId"] });
                let chat = json!({ "sessionId": frame["data"]["sessionId"] });
                match frame["event"].as_str() {
                    Some("call:incoming") => after(settings.answer_after, "call:accept", call),
                    // Ending a call that is already over only earns a `call:error`: harmless.
                    Some("call:accepted") => after(settings.hang_up_after, "call:end", call),
                    Some("chat:incoming") => after(settings.answer_after, "chat:accept", chat),
                    Some("chat:accepted") => after(settings.hang_up_after, "chat:end", chat),
                    _ => {
                        if let Some(message) = reply(&frame) {
                            let typing = json!({ "event": "chat:typing", "data": { "sessionId": message["sessionId"] } });
                            sink.send(Message::text(typing.to_string())).await?;
                            after(TYPING, "chat:message", message);
                        }
                    }
                }
            }
            Some(out) = due.recv() => sink.send(Message::text(out)).await?,
        }
    }
}
