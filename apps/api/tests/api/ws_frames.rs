//! Generated and mutated WebSocket frames against every endpoint of a live server: wrong types,
//! huge numbers, deep nesting, broken JSON, binary frames, fragments, text that is not UTF-8,
//! frames too big. Each answerable frame gets an `error` event (or its ordinary answer) and the
//! connection stays open; each frame that breaks the protocol closes the connection with its
//! documented code. Meanwhile a bystander's connection keeps being served.

use crate::support::spawn_app;
use crate::support::ws::Ws;
use serde_json::{Map, Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

/// Frames each endpoint gets while its connection must stay open.
const FRAMES_PER_ENDPOINT: usize = 2_000;
/// Frames of each protocol-breaking kind per endpoint (each costs a reconnection).
const BREAKS_PER_KIND: usize = 6;
/// The largest frame the server reads (docs/realtime.md).
const MAX_FRAME_BYTES: usize = 16 * 1024;

/// SplitMix64: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const EVENTS: &[&str] = &[
    "call:initiate",
    "call:cancel",
    "call:end",
    "call:accept",
    "call:reject",
    "chat:request",
    "chat:accept",
    "chat:reject",
    "chat:end",
    "chat:message",
    "chat:typing",
    "chat:read",
    "gift:send",
    "presence:watch",
    "presence:request-counts",
    "ping",
    "pong",
    "session:ready",
    "",
    "CALL:INITIATE",
    "call:initiate\u{0000}",
];

const KEYS: &[&str] = &[
    "telecallerId",
    "callType",
    "callId",
    "telecallerIds",
    "sessionId",
    "clientId",
    "text",
    "seq",
    "giftId",
    "event",
    "data",
    "ref",
    "__proto__",
    "",
    "ü",
];

fn text(rng: &mut Rng) -> String {
    let pieces = ["audio", "video", "AUDIO", "0", "-1", "null", "\u{0000}", "\u{202e}", "😀", "ñ", "\\", "\"", " "];
    match rng.below(5) {
        0 => uuid::Uuid::from_u128(u128::from(rng.next()) << 64 | u128::from(rng.next())).to_string(),
        1 => "x".repeat(rng.below(3000)),
        2 => (0..rng.below(20)).map(|_| char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('?')).collect(),
        _ => (0..rng.below(6)).map(|_| *rng.pick(&pieces)).collect(),
    }
}

fn number(rng: &mut Rng) -> Value {
    match rng.below(8) {
        0 => json!(u64::MAX),
        1 => json!(i64::MIN),
        2 => json!(1e308),
        3 => json!(-1e308),
        4 => json!(f64::MIN_POSITIVE),
        5 => json!(rng.next() as i64),
        6 => json!(0.5),
        _ => json!(-0.0),
    }
}

/// A JSON value, at most `depth` levels deep.
fn value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth == 0 { 4 } else { 6 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(50)),
        2 => number(rng),
        3 => Value::String(text(rng)),
        4 => Value::Array((0..rng.below(5)).map(|_| value(rng, depth - 1)).collect()),
        _ => {
            let mut object = Map::new();
            for _ in 0..rng.below(5) {
                object.insert((*rng.pick(KEYS)).to_owned(), value(rng, depth - 1));
            }
            Value::Object(object)
        }
    }
}

/// What the server must do with a frame.
enum Expect {
    /// Answer with an `error` (or `call:error`, `chat:error`) event.
    Error,
    /// Answer as it sees fit (a well-formed event may be served), but stay open.
    Anything,
}

/// One frame the connection must survive, and what should answer it.
fn survivable(rng: &mut Rng) -> (Vec<Message>, Expect) {
    let text_message = |s: String| vec![Message::text(s)];
    match rng.below(100) {
        // A known (or nearly known) event with data of any shape.
        0..=34 => {
            let mut frame = json!({ "event": rng.pick(EVENTS), "data": value(rng, 4) });
            if rng.chance(40) {
                frame["ref"] = value(rng, 1);
            }
            (text_message(frame.to_string()), Expect::Anything)
        }
        // An object without a string `event`.
        35..=49 => {
            let mut object = value(rng, 3);
            if let Value::Object(fields) = &mut object {
                fields.insert("event".into(), if rng.chance(50) { number(rng) } else { value(rng, 2) });
                if fields["event"].is_string() {
                    fields.remove("event");
                }
            } else {
                object = json!({ "data": object });
            }
            (text_message(object.to_string()), Expect::Error)
        }
        // JSON that is not an object.
        50..=59 => {
            let frame = match value(rng, 3) {
                Value::Object(_) => json!([]),
                other => other,
            };
            (text_message(frame.to_string()), Expect::Error)
        }
        // Nesting deeper than any parser should follow.
        60..=64 => {
            let depth = 100 + rng.below(7_000);
            let frame = if rng.chance(50) {
                format!("{}{}", "[".repeat(depth), "]".repeat(depth))
            } else {
                format!("{{\"event\":\"ping\",\"data\":{}1{}}}", "{\"a\":".repeat(depth / 6), "}".repeat(depth / 6))
            };
            (text_message(frame), Expect::Anything)
        }
        // Broken JSON: a valid frame cut short or with bytes flipped.
        65..=84 => {
            let mut bytes = json!({ "event": rng.pick(EVENTS), "data": value(rng, 3) }).to_string().into_bytes();
            let cut = 1 + rng.below(bytes.len() - 1);
            bytes.truncate(cut);
            for _ in 0..rng.below(4) {
                let at = rng.below(bytes.len());
                bytes[at] = *rng.pick(b"{}[]\",:\\0ex");
            }
            let frame = String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            // Flips can make it valid again; the server may then answer anything but must stay.
            let expect = if serde_json::from_str::<Value>(&frame).is_ok() { Expect::Anything } else { Expect::Error };
            (text_message(frame), expect)
        }
        // Free text.
        85..=89 => {
            let frame = text(rng);
            let expect = if serde_json::from_str::<Value>(&frame).is_ok() { Expect::Anything } else { Expect::Error };
            (text_message(frame), expect)
        }
        // Binary.
        90..=94 => {
            let bytes: Vec<u8> = (0..rng.below(2_000)).map(|_| rng.next() as u8).collect();
            (vec![Message::binary(bytes)], Expect::Error)
        }
        // A ping split into fragments: reassembled and answered.
        _ => {
            let whole = json!({ "event": "ping", "data": {} }).to_string().into_bytes();
            let cut = 1 + rng.below(whole.len() - 1);
            let first = Frame::message(whole[..cut].to_vec(), OpCode::Data(Data::Text), false);
            let last = Frame::message(whole[cut..].to_vec(), OpCode::Data(Data::Continue), true);
            (vec![Message::Frame(first), Message::Frame(last)], Expect::Anything)
        }
    }
}

/// The frames that break the protocol, each with the close code documented for it.
fn breaking(rng: &mut Rng, kind: usize) -> (Vec<Message>, &'static [u16]) {
    match kind {
        // Text that is not UTF-8.
        0 => {
            let mut bytes = b"{\"event\":\"ping\",\"data\":\"".to_vec();
            bytes.extend([0xC3, 0x28, 0xFF, 0xFE][..1 + rng.below(4)].iter());
            bytes.extend(b"\"}");
            (vec![Message::Frame(Frame::message(bytes, OpCode::Data(Data::Text), true))], &[1007])
        }
        // A frame above 16 KiB.
        1 => {
            let frame = json!({ "event": "ping", "data": "x".repeat(MAX_FRAME_BYTES + 1 + rng.below(50_000)) });
            (vec![Message::text(frame.to_string())], &[1009])
        }
        // A continuation with nothing to continue.
        2 => {
            let frame = Frame::message(b"}".to_vec(), OpCode::Data(Data::Continue), true);
            (vec![Message::Frame(frame)], &[1002])
        }
        // A new message while one is still in fragments.
        _ => {
            let first = Frame::message(b"{\"event\":".to_vec(), OpCode::Data(Data::Text), false);
            let second = Frame::message(b"{}".to_vec(), OpCode::Data(Data::Text), true);
            (vec![Message::Frame(first), Message::Frame(second)], &[1002])
        }
    }
}

/// Sends `messages`, then a `ping` with a unique ref, and reads up to its `pong`; returns the
/// events in between.
async fn exchange(ws: &mut Ws, messages: Vec<Message>, serial: usize, sent: &str) -> Vec<Value> {
    for message in messages {
        assert!(ws.send_message(message).await, "the server closed the connection after {sent}");
    }
    let reference = format!("probe-{serial}");
    ws.send_with_ref("ping", json!({}), &reference).await;
    let mut events = Vec::new();
    loop {
        let frame = ws.next_or_close().await.unwrap_or_else(|| panic!("the connection closed after {sent}"));
        if frame["event"] == "pong" && frame["ref"] == reference.as_str() {
            return events;
        }
        events.push(frame);
    }
}

fn describe(messages: &[Message]) -> String {
    let shown: Vec<String> = messages
        .iter()
        .map(|m| match m {
            Message::Text(t) => t.chars().take(300).collect(),
            other => format!("{:?}", other).chars().take(300).collect(),
        })
        .collect();
    shown.join(" + ")
}

/// An error event: `error`, or a failed call or chat action's `call:error` / `chat:error`.
fn is_error(answer: &Value) -> bool {
    ["error", "call:error", "chat:error"].iter().any(|e| answer["event"] == *e)
}

/// Plays the generated frames against one endpoint; returns how many frames were sent.
async fn play(app: &crate::support::TestApp, path: &str, token: &str, seed: u64, bystander: &mut Ws) -> usize {
    let mut rng = Rng(seed);
    let (mut ws, _) = Ws::connect(app, path, token).await;
    let mut frames = 0;
    let mut errors = 0;
    for serial in 0..FRAMES_PER_ENDPOINT {
        let (messages, expect) = survivable(&mut rng);
        let sent = describe(&messages);
        frames += messages.len();
        let answers = exchange(&mut ws, messages, serial, &sent).await;
        for answer in &answers {
            assert!(answer["event"].is_string(), "a frame without an event after {sent}: {answer}");
            if is_error(answer) {
                assert!(answer["data"]["code"].is_string(), "an error without a code after {sent}: {answer}");
                assert!(answer["data"]["message"].is_string(), "an error without a message after {sent}: {answer}");
            }
        }
        let answered_error = answers.iter().any(is_error);
        if matches!(expect, Expect::Error) {
            assert!(answered_error, "{path}: no error event answered {sent}; got {answers:?}");
        }
        errors += usize::from(answered_error);
        if serial % 250 == 0 {
            assert!(bystander.alive().await, "the bystander stopped being served");
        }
    }
    assert!(errors > FRAMES_PER_ENDPOINT / 3, "{path}: only {errors} error events");
    ws.close().await;

    for kind in 0..4 {
        for _ in 0..BREAKS_PER_KIND {
            let (mut ws, _) = Ws::connect(app, path, token).await;
            let (messages, codes) = breaking(&mut rng, kind);
            let sent = describe(&messages);
            frames += messages.len();
            for message in messages {
                // The server may close before the last fragment is written.
                let _ = ws.send_message(message).await;
            }
            let code = ws.closed().await;
            assert!(
                code.is_some_and(|c| codes.contains(&c)),
                "{path}: {sent} closed with {code:?}, expected {codes:?}"
            );
        }
        assert!(bystander.alive().await, "the bystander stopped being served");
    }
    frames
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_survives_generated_and_mutated_frames() {
    let app = spawn_app().await;
    let user = app.user().await;
    let telecaller = app.telecaller(true).await;
    let admin = app.admin_token().await;
    let watcher = app.user().await;
    let (mut bystander, _) = Ws::connect(&app, "/ws/user", &watcher.token).await;

    let mut frames = 0;
    frames += play(&app, "/ws/user", &user.token, 1, &mut bystander).await;
    frames += play(&app, "/ws/telecaller", &telecaller.token, 2, &mut bystander).await;
    frames += play(&app, "/ws/admin", &admin, 3, &mut bystander).await;
    assert!(frames >= 5_000, "only {frames} frames were sent");

    // The server still serves new connections and requests, and no money moved.
    let (mut fresh, _) = Ws::connect(&app, "/ws/user", &user.token).await;
    assert!(fresh.alive().await);
    assert_eq!(app.get("/health").await.status, 200);
    app.assert_books_balance().await;
}
