//! A local APNs speaking HTTP/2 over cleartext (h2c, as the client's prior knowledge allows),
//! checking what the real one checks: the provider JWT (ES256 signature with the test key,
//! `kid`, `iss`, age under an hour), the topic, the push type, the priority and the expiration.
//! It answers 200, or what a test tells it for a token (410 Unregistered, 400 BadDeviceToken),
//! or 403 ExpiredProviderToken to the next requests.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

pub const KEY_ID: &str = "ABC123DEFG";
pub const TEAM_ID: &str = "DEF123GHIJ";
pub const TOPIC: &str = "com.talktime.app";
pub const KEY_PEM: &str = include_str!("../../fixtures/apns_test_key.p8");
const PUBLIC_PEM: &str = include_str!("../../fixtures/apns_test_key.pub.pem");

/// One push as APNs received it.
#[derive(Debug, Clone)]
pub struct ApnsRequest {
    pub token: String,
    /// Lower-case names.
    pub headers: HashMap<String, String>,
    pub payload: Value,
    /// What was wrong with it, if anything (then it was refused with 403 or 400).
    pub refused: Option<String>,
}

#[derive(Default)]
struct State {
    requests: Vec<ApnsRequest>,
    answers: HashMap<String, (u16, String)>,
    expire_next: usize,
}

#[derive(Clone)]
pub struct FakeApns {
    pub base: String,
    state: Arc<Mutex<State>>,
}

impl FakeApns {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake APNs");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let state: Arc<Mutex<State>> = Arc::default();
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, shared.clone()));
            }
        });
        Self { base, state }
    }

    /// The settings that point the server at this fake.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("APNS_KEY_ID", KEY_ID.to_owned()),
            ("APNS_TEAM_ID", TEAM_ID.to_owned()),
            ("APNS_KEY_PEM", KEY_PEM.to_owned()),
            ("APNS_TOPIC", TOPIC.to_owned()),
            ("APNS_ENVIRONMENT", "sandbox".to_owned()),
            ("APNS_API_BASE", self.base.clone()),
        ]
    }

    pub fn requests(&self) -> Vec<ApnsRequest> {
        self.state.lock().expect("lock").requests.clone()
    }

    /// Every later push to `token` is answered `status` with this reason.
    pub fn answer(&self, token: &str, status: u16, reason: &str) {
        self.state.lock().expect("lock").answers.insert(token.to_owned(), (status, reason.to_owned()));
    }

    /// The next `n` pushes are refused as sent with an expired provider token.
    pub fn expire_next(&self, n: usize) {
        self.state.lock().expect("lock").expire_next = n;
    }
}

async fn serve(socket: tokio::net::TcpStream, state: Arc<Mutex<State>>) {
    let Ok(mut connection) = h2::server::handshake(socket).await else { return };
    while let Some(Ok((request, mut respond))) = connection.accept().await {
        let state = state.clone();
        tokio::spawn(async move {
            let (parts, mut body) = request.into_parts();
            let mut bytes = Vec::new();
            while let Some(Ok(chunk)) = body.data().await {
                let _ = body.flow_control().release_capacity(chunk.len());
                bytes.extend_from_slice(&chunk);
            }
            let (status, reply) = handle(&state, &parts, &bytes);
            let response = http::Response::builder().status(status).body(()).expect("response");
            if let Ok(mut stream) = respond.send_response(response, reply.is_empty()) {
                let _ = stream.send_data(bytes::Bytes::from(reply), true);
            }
        });
    }
}

fn handle(state: &Mutex<State>, parts: &http::request::Parts, body: &[u8]) -> (u16, String) {
    let headers: HashMap<String, String> =
        parts.headers.iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned())).collect();
    let token = parts.uri.path().strip_prefix("/3/device/").unwrap_or_default().to_owned();
    let payload: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let refused = check(parts, &headers, &payload);
    let mut state = state.lock().expect("lock");
    state.requests.push(ApnsRequest { token: token.clone(), headers, payload, refused: refused.clone() });
    if let Some(why) = refused {
        return (400, json!({ "reason": why }).to_string());
    }
    if state.expire_next > 0 {
        state.expire_next -= 1;
        return (403, json!({ "reason": "ExpiredProviderToken" }).to_string());
    }
    match state.answers.get(&token) {
        Some((status, reason)) => (*status, json!({ "reason": reason }).to_string()),
        None => (200, String::new()),
    }
}

/// What APNs would refuse in a request; `None` when it is well formed.
fn check(parts: &http::request::Parts, headers: &HashMap<String, String>, payload: &Value) -> Option<String> {
    if parts.method != http::Method::POST || parts.version != http::Version::HTTP_2 {
        return Some("MethodNotAllowed".into());
    }
    if let Some(why) = check_jwt(headers.get("authorization")) {
        return Some(why);
    }
    let push_type = headers.get("apns-push-type").map(String::as_str);
    let topic = headers.get("apns-topic").map(String::as_str);
    let priority = headers.get("apns-priority").map(String::as_str);
    let expected_topic = if push_type == Some("voip") { format!("{TOPIC}.voip") } else { TOPIC.to_owned() };
    if topic != Some(expected_topic.as_str()) {
        return Some("TopicDisallowed".into());
    }
    let expires = headers.get("apns-expiration").and_then(|e| e.parse::<i64>().ok());
    let valid = match push_type {
        Some("voip") => priority == Some("10") && expires.is_some(),
        Some("alert") => matches!(priority, Some("10" | "5")) && payload["aps"]["alert"].is_object(),
        Some("background") => priority == Some("5"),
        _ => false,
    };
    if !valid || !payload["aps"].is_object() || expires.is_none() {
        return Some("BadRequest".into());
    }
    None
}

/// The provider token: ES256 with the test key, `kid` the key id, `iss` the team, `iat` within
/// the last hour.
fn check_jwt(authorization: Option<&String>) -> Option<String> {
    let Some(jwt) = authorization.and_then(|a| a.strip_prefix("bearer ").or_else(|| a.strip_prefix("Bearer "))) else {
        return Some("MissingProviderToken".into());
    };
    let header = jsonwebtoken::decode_header(jwt).ok()?;
    if header.alg != jsonwebtoken::Algorithm::ES256 || header.kid.as_deref() != Some(KEY_ID) {
        return Some("InvalidProviderToken".into());
    }
    let key = jsonwebtoken::DecodingKey::from_ec_pem(PUBLIC_PEM.as_bytes()).expect("test public key");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.validate_exp = false;
    validation.required_spec_claims = HashSet::new();
    let Ok(claims) = jsonwebtoken::decode::<Value>(jwt, &key, &validation) else {
        return Some("InvalidProviderToken".into());
    };
    let now = chrono::Utc::now().timestamp();
    let age = claims.claims["iat"].as_i64().map(|iat| now - iat);
    if claims.claims["iss"] != json!(TEAM_ID) || !age.is_some_and(|a| (-60..3600).contains(&a)) {
        return Some("InvalidProviderToken".into());
    }
    None
}
