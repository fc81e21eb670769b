//! The clients the scenarios drive: WebSocket peers (a reader task per socket), idle sockets
//! that only drain what they get, and a bare keep-alive HTTP/1.1 connection (cheaper than a full
//! HTTP client, so the tool takes little of the CPU it shares with the server).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use futures_util::stream::{SplitSink, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::{Error, Target};

/// How long a peer waits for an expected event.
pub const WAIT: Duration = Duration::from_secs(15);

/// A client address for `X-Forwarded-For`, new on every call (per-IP limits never bite; the
/// server must trust 127.0.0.1 as a proxy: `TRUSTED_PROXIES=127.0.0.1`).
pub fn next_client_ip() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("100.{}.{}.{}", 64 + ((n >> 16) & 63), (n >> 8) & 255, n & 255)
}

/// A TCP connection to the target. On loopback, sources rotate over 127.0.0.1–127.0.0.250, so
/// tens of thousands of sockets never run out of ephemeral ports.
pub async fn connect_tcp(target: &Target) -> Result<TcpStream, Error> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let socket = if target.addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    if target.addr.ip().is_loopback() && target.addr.is_ipv4() {
        let n = NEXT.fetch_add(1, Ordering::Relaxed) % 250;
        let source = Ipv4Addr::new(127, 0, 0, u8::try_from(n + 1).unwrap_or(1));
        socket.bind(SocketAddr::new(IpAddr::V4(source), 0))?;
    }
    socket.set_nodelay(true)?;
    Ok(socket.connect(target.addr).await?)
}

type Socket = WebSocketStream<TcpStream>;

/// Opens `path` with the bearer token; answers the socket and its `session:ready` data.
pub async fn open_ws(target: &Target, path: &str, token: &str) -> Result<(Socket, Value), Error> {
    let stream = connect_tcp(target).await?;
    let mut request = format!("ws://{}{path}", target.addr).into_client_request()?;
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse()?);
    request.headers_mut().insert("x-forwarded-for", next_client_ip().parse()?);
    let (mut socket, _) = tokio_tungstenite::client_async(request, stream).await?;
    loop {
        match tokio::time::timeout(WAIT, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let frame: Value = serde_json::from_str(&text)?;
                if frame["event"] == "session:ready" {
                    return Ok((socket, frame["data"].clone()));
                }
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(error))) => return Err(error.into()),
            Ok(None) => return Err("closed before session:ready".into()),
            Err(_) => return Err("no session:ready in time".into()),
        }
    }
}

/// A server event as the peer's reader received it.
#[derive(Debug, Clone)]
pub struct Frame {
    pub event: String,
    pub data: Value,
    pub at: Instant,
}

/// A socket driven by a scenario: frames go out through `send`, come in through `expect`.
pub struct Peer {
    sink: SplitSink<Socket, Message>,
    inbox: mpsc::UnboundedReceiver<Frame>,
    reader: tokio::task::AbortHandle,
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Peer {
    pub async fn connect(target: &Target, path: &str, token: &str) -> Result<(Peer, Value), Error> {
        let (socket, ready) = open_ws(target, path, token).await?;
        let (sink, mut stream) = socket.split();
        let (frames, inbox) = mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let at = Instant::now();
                let Message::Text(text) = message else { continue };
                let Ok(mut frame) = serde_json::from_str::<Value>(&text) else { continue };
                let event = frame["event"].as_str().unwrap_or_default().to_owned();
                if event == "presence:update" {
                    continue;
                }
                if frames.send(Frame { event, data: frame["data"].take(), at }).is_err() {
                    return;
                }
            }
        })
        .abort_handle();
        Ok((Peer { sink, inbox, reader }, ready))
    }

    pub async fn send(&mut self, event: &str, data: Value) -> Result<(), Error> {
        let text = json!({ "event": event, "data": data }).to_string();
        Ok(self.sink.send(Message::text(text)).await?)
    }

    /// Waits for `event`, skipping others; a `call:error`, `chat:error` or `error` instead is an
    /// error.
    pub async fn expect(&mut self, event: &str) -> Result<Frame, Error> {
        match self.answer(event).await? {
            Ok(frame) => Ok(frame),
            Err(refusal) => Err(format!("{event} expected, got {} {}", refusal.event, refusal.data).into()),
        }
    }

    /// Waits for `event`, skipping others: answers it, or (`Err`) the `call:error`,
    /// `chat:error` or `error` frame that came instead.
    pub async fn answer(&mut self, event: &str) -> Result<Result<Frame, Frame>, Error> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.inbox.recv())
                .await
                .map_err(|_| format!("no {event} in time"))?
                .ok_or("the socket closed")?;
            if frame.event == event {
                return Ok(Ok(frame));
            }
            if frame.event == "call:error" || frame.event == "chat:error" || frame.event == "error" {
                return Ok(Err(frame));
            }
        }
    }

    /// Whether the socket is still open (its reader ends when the server closes it).
    pub fn is_open(&self) -> bool {
        !self.reader.is_finished()
    }

    /// Forgets frames already received (events of an earlier call).
    pub fn drain(&mut self) {
        while self.inbox.try_recv().is_ok() {}
    }
}

/// A socket held open that reads and drops whatever arrives (answering the server's pings), and
/// calls `on_text` for each text frame. Closed when dropped.
pub struct Held(tokio::task::AbortHandle);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Held {
    pub fn spawn(socket: Socket, mut on_text: impl FnMut(&str, Instant) + Send + 'static) -> Held {
        let (_sink, mut stream) = socket.split();
        let task = tokio::spawn(async move {
            // The sink stays alive (and the socket open) as long as the task runs.
            let _sink = _sink;
            while let Some(Ok(message)) = stream.next().await {
                if let Message::Text(text) = message {
                    on_text(&text, Instant::now());
                }
            }
        });
        Held(task.abort_handle())
    }
}

/// One keep-alive HTTP/1.1 connection for GET requests.
pub struct HttpConn {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl HttpConn {
    pub async fn connect(target: &Target) -> Result<Self, Error> {
        Ok(Self { stream: connect_tcp(target).await?, buffer: Vec::with_capacity(16 * 1024) })
    }

    /// Sends `request` (a whole GET request) and reads the answer; answers its status and body.
    pub async fn round_trip(&mut self, request: &[u8]) -> Result<(u16, Vec<u8>), Error> {
        self.stream.write_all(request).await?;
        self.buffer.clear();
        let header_end = loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                break end + 4;
            }
            self.read_more().await?;
        };
        let head = std::str::from_utf8(&self.buffer[..header_end])?;
        let status: u16 = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or("no status line")?;
        let length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
            })
            .ok_or("no content-length")?;
        while self.buffer.len() < header_end + length {
            self.read_more().await?;
        }
        Ok((status, self.buffer[header_end..header_end + length].to_vec()))
    }

    async fn read_more(&mut self) -> Result<(), Error> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        self.buffer.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A GET request with a bearer token, from a client address of its own.
pub fn get_request(target: &Target, path: &str, token: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nX-Forwarded-For: {}\r\n\r\n",
        target.addr,
        next_client_ip()
    )
    .into_bytes()
}

/// Open file descriptors of a process (entries of `/proc/<pid>/fd`).
pub fn open_fds(pid: u32) -> Option<u64> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64)
}

/// The server's resident memory in KiB (`VmRSS` of `/proc/<pid>/status`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| line.strip_prefix("VmRSS:")?.trim().strip_suffix("kB")?.trim().parse().ok())
}

/// Opens a socket per token on `path`, `parallel` at a time; sends `hello` (then waits for the
/// answer to a `ping`, so the server has taken it) and hands each socket to `keep`. Answers the
/// kept sockets, how many failed, and the first error.
pub async fn open_many<T: Send + 'static>(
    target: &Target,
    path: &'static str,
    tokens: Vec<String>,
    parallel: usize,
    hello: Option<String>,
    keep: impl Fn(usize, Socket) -> T + Send + Sync + 'static,
) -> (Vec<T>, usize, Option<String>) {
    let keep = std::sync::Arc::new(keep);
    let total = tokens.len();
    let mut opened = Vec::with_capacity(total);
    let (mut failed, mut first_error) = (0, None);
    let mut pending = futures_util::stream::iter(tokens.into_iter().enumerate().map(|(i, token)| {
        let (target, keep, hello) = (target.clone(), keep.clone(), hello.clone());
        async move {
            let (mut socket, _) = open_ws(&target, path, &token).await?;
            if let Some(hello) = hello {
                socket.send(Message::text(hello)).await?;
                socket.send(Message::text(r#"{"event":"ping"}"#)).await?;
                wait_for(&mut socket, "pong").await?;
            }
            Ok::<_, Error>(keep(i, socket))
        }
    }))
    .buffer_unordered(parallel.max(1));
    let mut last = Instant::now();
    while let Some(result) = pending.next().await {
        match result {
            Ok(kept) => opened.push(kept),
            Err(error) => {
                failed += 1;
                first_error.get_or_insert_with(|| error.to_string());
            }
        }
        if last.elapsed() > Duration::from_secs(2) {
            crate::progress(format!("{} of {total} sockets open on {path}", opened.len()));
            last = Instant::now();
        }
    }
    (opened, failed, first_error)
}

async fn wait_for(socket: &mut Socket, event: &str) -> Result<(), Error> {
    let marker = format!(r#""event":"{event}""#);
    loop {
        match tokio::time::timeout(WAIT, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) if text.contains(&marker) => return Ok(()),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(error))) => return Err(error.into()),
            Ok(None) => return Err("closed".into()),
            Err(_) => return Err(format!("no {event} in time").into()),
        }
    }
}
