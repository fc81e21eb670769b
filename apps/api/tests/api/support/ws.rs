//! A WebSocket client for the realtime endpoints.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{TestApp, fresh_ip};

/// How long a test waits for an expected event before failing.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// The outcome of a refused handshake: HTTP status and JSON body.
pub async fn refused(app: &TestApp, path: &str, token: Option<&str>) -> (u16, Value) {
    refused_from(app, path, token, &fresh_ip()).await
}

/// [`refused`] for a handshake from the client address `ip`.
pub async fn refused_from(app: &TestApp, path: &str, token: Option<&str>, ip: &str) -> (u16, Value) {
    match try_connect(app, path, token, ip).await {
        Ok(_) => panic!("the handshake to {path} was accepted"),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let body = response
                .body()
                .as_ref()
                .map(|b| serde_json::from_slice(b).unwrap_or(Value::Null))
                .unwrap_or(Value::Null);
            (response.status().as_u16(), body)
        }
        Err(other) => panic!("unexpected handshake error: {other}"),
    }
}

async fn try_connect(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    ip: &str,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    try_connect_with(app, path, token, ip, None).await
}

/// A handshake as a browser page at `origin` makes it.
pub async fn connect_with_origin(
    app: &TestApp,
    path: &str,
    token: &str,
    origin: &str,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    try_connect_with(app, path, Some(token), &fresh_ip(), Some(origin)).await
}

async fn try_connect_with(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    ip: &str,
    origin: Option<&str>,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let url = match token {
        Some(token) => format!("ws://127.0.0.1:{}{path}?token={token}", app.port),
        None => format!("ws://127.0.0.1:{}{path}", app.port),
    };
    let mut request = url.into_client_request()?;
    request.headers_mut().insert("x-forwarded-for", ip.parse().expect("header"));
    if let Some(origin) = origin {
        request.headers_mut().insert("origin", origin.parse().expect("header"));
    }
    let (stream, _) = tokio_tungstenite::connect_async(request).await?;
    Ok(Ws { stream })
}

/// A socket that sends and never reads what the server sends back.
pub struct Stalled {
    sink: futures_util::stream::SplitSink<WebSocketStream<MaybeTlsStream<TcpStream>>, Message>,
    /// Kept, never polled: what the server writes piles up.
    _unread: futures_util::stream::SplitStream<WebSocketStream<MaybeTlsStream<TcpStream>>>,
}

impl Stalled {
    /// Sends a frame; `false` once the server closed the connection or stopped reading for a
    /// couple of seconds.
    pub async fn send_only(&mut self, text: &str) -> bool {
        matches!(tokio::time::timeout(Duration::from_secs(2), self.sink.send(Message::text(text))).await, Ok(Ok(())))
    }
}

impl Ws {
    /// Connects and never reads.
    pub async fn connect_stalled(app: &TestApp, path: &str, token: &str) -> Stalled {
        let ws = try_connect(app, path, Some(token), &fresh_ip()).await.expect("connect");
        let (sink, unread) = ws.stream.split();
        Stalled { sink, _unread: unread }
    }

    /// Connects and reads `session:ready`; returns the socket and that event's data.
    pub async fn connect(app: &TestApp, path: &str, token: &str) -> (Ws, Value) {
        Self::connect_from(app, path, token, &fresh_ip()).await
    }

    /// [`Ws::connect`] from the client address `ip`.
    pub async fn connect_from(app: &TestApp, path: &str, token: &str, ip: &str) -> (Ws, Value) {
        let mut ws = try_connect(app, path, Some(token), ip).await.expect("connect");
        let ready = ws.expect("session:ready").await;
        (ws, ready)
    }

    pub async fn send(&mut self, event: &str, data: Value) {
        self.send_raw(&json!({ "event": event, "data": data }).to_string()).await;
    }

    pub async fn send_with_ref(&mut self, event: &str, data: Value, reference: &str) {
        self.send_raw(&json!({ "event": event, "data": data, "ref": reference }).to_string()).await;
    }

    /// Sends any message, raw frames included (a fragment, bytes that are not UTF-8).
    pub async fn send_message(&mut self, message: Message) -> bool {
        self.stream.send(message).await.is_ok()
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.stream.send(Message::text(text)).await.expect("send");
    }

    /// The next JSON frame but `presence:update`, which any user socket may get whenever the
    /// online count moves (panics after [`WAIT`]).
    pub async fn next(&mut self) -> Value {
        loop {
            let frame = self.next_any().await;
            if frame["event"] != "presence:update" {
                return frame;
            }
        }
    }

    /// The next JSON frame, whatever it is.
    pub async fn next_any(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("no frame arrived in time")
                .expect("the socket closed")
                .expect("read");
            if let Message::Text(text) = message {
                return serde_json::from_str(&text).expect("JSON frame");
            }
        }
    }

    /// Skips frames until `event` arrives; returns its data.
    pub async fn expect(&mut self, event: &str) -> Value {
        let frame = self.expect_frame(event).await;
        frame["data"].clone()
    }

    /// Skips frames until `event` arrives; returns the whole frame (with `ref`).
    pub async fn expect_frame(&mut self, event: &str) -> Value {
        loop {
            let frame = self.next_any().await;
            if frame["event"] == event {
                return frame;
            }
        }
    }

    /// The next JSON frame, or `None` when the server closed the socket (any close code).
    pub async fn next_or_close(&mut self) -> Option<Value> {
        loop {
            match tokio::time::timeout(WAIT, self.stream.next()).await.expect("nothing arrived in time") {
                Some(Ok(Message::Text(text))) => {
                    let frame: Value = serde_json::from_str(&text).expect("JSON frame");
                    if frame["event"] != "presence:update" {
                        return Some(frame);
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return None,
                Some(Ok(_)) => {}
            }
        }
    }

    /// Reads until the server closes; returns the close code.
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            match tokio::time::timeout(WAIT, self.stream.next()).await.expect("no close in time") {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// Watches these telecallers' presence (`presence:watch`); returns once the server has
    /// taken the watch set (its answer to a later `ping` arrived).
    pub async fn watch(&mut self, telecallers: &[&str]) {
        self.send("presence:watch", json!({ "telecallerIds": telecallers })).await;
        assert!(self.alive().await);
    }

    /// The next `presence:update` change about `telecaller` (skipping other frames).
    pub async fn presence_of(&mut self, telecaller: &str) -> Value {
        loop {
            let update = self.expect("presence:update").await;
            let changes = update["changes"].as_array().expect("changes");
            if let Some(change) = changes.iter().find(|c| c["telecallerId"] == telecaller) {
                return change.clone();
            }
        }
    }

    /// Whether the server answers a `ping` event (the connection is alive and served).
    pub async fn alive(&mut self) -> bool {
        self.send("ping", json!({})).await;
        self.expect("pong").await.is_object()
    }

    pub async fn close(mut self) {
        let _ = self
            .stream
            .close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                code: CloseCode::Normal,
                reason: "bye".into(),
            }))
            .await;
        // Read until the server's close frame: then the server has seen ours.
        while let Ok(Some(Ok(message))) = tokio::time::timeout(WAIT, self.stream.next()).await {
            if message.is_close() {
                break;
            }
        }
    }
}
