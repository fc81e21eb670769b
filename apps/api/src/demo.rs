//! `talktime demo`: the demo telecallers kept online by small bots that speak the real
//! WebSocket protocol (`/ws/telecaller`, exactly as the apps do): each answers a call after a
//! short ring and hangs up after a while, so a newcomer sees hosts online and can call one from
//! the console or any client. Development only.

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

/// One connection's worth of a demo host: answers rings, hangs up later.
async fn host(addr: SocketAddr, token: &str, settings: DemoSettings) -> Result<(), Error> {
    let mut request = format!("ws://{addr}/ws/telecaller").into_client_request()?;
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse()?);
    let (socket, _) = tokio_tungstenite::connect_async(request).await?;
    let (mut sink, mut stream) = socket.split();
    // Timers send through here, so only this loop writes to the socket.
    let (later, mut due) = mpsc::unbounded_channel::<String>();
    let after = |delay: Duration, event: &'static str, call: Value| {
        let later = later.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = later.send(json!({ "event": event, "data": { "callId": call } }).to_string());
        });
    };
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(message) = message else { return Ok(()) };
                let Message::Text(text) = message? else { continue };
                let frame: Value = serde_json::from_str(&text)?;
                let call = frame["data"]["callId"].clone();
                match frame["event"].as_str() {
                    Some("call:incoming") => after(settings.answer_after, "call:accept", call),
                    // Ending a call that is already over only earns a `call:error`: harmless.
                    Some("call:accepted") => after(settings.hang_up_after, "call:end", call),
                    _ => {}
                }
            }
            Some(out) = due.recv() => sink.send(Message::text(out)).await?,
        }
    }
}
