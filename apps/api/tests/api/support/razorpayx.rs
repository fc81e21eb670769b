//! A local RazorpayX: contacts, fund accounts and payouts, checking what the real one checks
//! (basic auth with the key pair, JSON bodies, `X-Payout-Idempotency` on every payout: the same
//! key with the same body returns the same payout, with another body a 400), and signing the
//! webhooks it is asked to send.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use serde_json::{Value, json};

pub const KEY_ID: &str = "rzp_test_payouts";
pub const KEY_SECRET: &str = "razorpayx-key-secret";
pub const WEBHOOK_SECRET: &str = "razorpayx-webhook-secret";
pub const ACCOUNT_NUMBER: &str = "7878780080316316";

#[derive(Default)]
struct State {
    contacts: Vec<Value>,
    fund_accounts: Vec<Value>,
    /// Payouts by id, and the body each idempotency key first came with.
    payouts: HashMap<String, Value>,
    keys: HashMap<String, (Value, String)>,
    /// Requests refused for a missing or wrong credential, header or body.
    refusals: Vec<String>,
    /// Answer every payout request with a 500 (after creating it when `create_then_fail`).
    outage: bool,
    create_then_fail: bool,
}

#[derive(Clone)]
pub struct FakeRazorpayX {
    pub base: String,
    state: Arc<Mutex<State>>,
}

impl FakeRazorpayX {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake RazorpayX");
        let port = listener.local_addr().expect("address").port();
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(shared.clone()))
                .route("/v1/contacts", web::post().to(create_contact))
                .route("/v1/fund_accounts", web::post().to(create_fund_account))
                .route("/v1/payouts", web::post().to(create_payout))
                .route("/v1/payouts/{id}", web::get().to(fetch_payout))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        tokio::spawn(server);
        Self { base: format!("http://127.0.0.1:{port}"), state }
    }

    /// The settings that point the server at this fake.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PAYOUT_PROVIDER", "razorpayx".to_owned()),
            ("RAZORPAYX_API_BASE", self.base.clone()),
            ("RAZORPAYX_KEY_ID", KEY_ID.to_owned()),
            ("RAZORPAYX_KEY_SECRET", KEY_SECRET.to_owned()),
            ("RAZORPAYX_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
            ("RAZORPAYX_ACCOUNT_NUMBER", ACCOUNT_NUMBER.to_owned()),
        ]
    }

    pub fn contacts(&self) -> Vec<Value> {
        self.state.lock().expect("lock").contacts.clone()
    }

    pub fn fund_accounts(&self) -> Vec<Value> {
        self.state.lock().expect("lock").fund_accounts.clone()
    }

    /// Every distinct payout created.
    pub fn payouts(&self) -> Vec<Value> {
        self.state.lock().expect("lock").payouts.values().cloned().collect()
    }

    pub fn refusals(&self) -> Vec<String> {
        self.state.lock().expect("lock").refusals.clone()
    }

    /// `true`: payout requests fail with a 500; `create_first`: the payout is made before the
    /// 500 (a lost answer).
    pub fn outage(&self, on: bool, create_first: bool) {
        let mut state = self.state.lock().expect("lock");
        state.outage = on;
        state.create_then_fail = create_first;
    }

    /// Moves a payout to `status` (as the bank would), with a UTR when processed.
    pub fn set_status(&self, payout_id: &str, status: &str) {
        let mut state = self.state.lock().expect("lock");
        let payout = state.payouts.get_mut(payout_id).expect("known payout");
        payout["status"] = json!(status);
        if status == "processed" {
            payout["utr"] = json!(format!("UTR{}", &payout_id[5..]));
        }
        if status != "processed" {
            payout["failure_reason"] = json!("Beneficiary bank offline");
        }
    }

    /// A signed webhook of `event` about a payout, as RazorpayX sends it.
    pub fn webhook(&self, event: &str, payout_id: &str) -> (String, String) {
        let mut payout = self.state.lock().expect("lock").payouts.get(payout_id).cloned().expect("known payout");
        let status = event.trim_start_matches("payout.");
        payout["status"] = json!(status);
        if status == "processed" {
            payout["utr"] = json!(format!("UTR{}", &payout_id[5..]));
        } else {
            payout["failure_reason"] = json!("Beneficiary account closed");
        }
        let body = json!({
            "entity": "event", "account_id": "acc_test", "event": event, "contains": ["payout"],
            "payload": { "payout": { "entity": payout } }, "created_at": chrono::Utc::now().timestamp(),
        })
        .to_string();
        let signature = talktime_services::gateway::hmac_hex(WEBHOOK_SECRET, body.as_bytes());
        (body, signature)
    }
}

type Shared = web::Data<Arc<Mutex<State>>>;

/// Basic auth with the key pair and a JSON body, as RazorpayX requires.
fn refused(req: &HttpRequest, state: &Shared, body: &[u8]) -> Option<HttpResponse> {
    let expected =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{KEY_ID}:{KEY_SECRET}")));
    let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok());
    let why = if auth != Some(expected.as_str()) {
        Some("bad credentials")
    } else if serde_json::from_slice::<Value>(body).is_err() && req.method() == actix_web::http::Method::POST {
        Some("body is not JSON")
    } else {
        None
    }?;
    state.lock().expect("lock").refusals.push(format!("{} {}: {why}", req.method(), req.path()));
    Some(HttpResponse::Unauthorized().json(json!({ "error": { "code": "BAD_REQUEST_ERROR", "description": why } })))
}

fn bad_request(description: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({ "error": { "code": "BAD_REQUEST_ERROR", "description": description } }))
}

async fn create_contact(req: HttpRequest, body: web::Bytes, state: Shared) -> HttpResponse {
    if let Some(refusal) = refused(&req, &state, &body) {
        return refusal;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    if !body["name"].is_string() {
        return bad_request("The name field is required.");
    }
    let mut state = state.lock().expect("lock");
    let id = format!("cont_{:014}", state.contacts.len() + 1);
    let contact = json!({ "id": id, "entity": "contact", "name": body["name"], "type": body["type"],
        "reference_id": body["reference_id"], "active": true });
    state.contacts.push(contact.clone());
    HttpResponse::Created().json(contact)
}

async fn create_fund_account(req: HttpRequest, body: web::Bytes, state: Shared) -> HttpResponse {
    if let Some(refusal) = refused(&req, &state, &body) {
        return refusal;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let mut state = state.lock().expect("lock");
    let contact = body["contact_id"].as_str().unwrap_or_default();
    if !state.contacts.iter().any(|c| c["id"] == json!(contact)) {
        return bad_request("The contact id provided does not exist");
    }
    let bank = &body["bank_account"];
    if body["account_type"] != json!("bank_account") || !bank["ifsc"].is_string() || !bank["account_number"].is_string()
    {
        return bad_request("bank_account with name, ifsc and account_number is required");
    }
    let id = format!("fa_{:014}", state.fund_accounts.len() + 1);
    let account = json!({ "id": id, "entity": "fund_account", "contact_id": contact, "account_type": "bank_account",
        "bank_account": bank, "active": true });
    state.fund_accounts.push(account.clone());
    HttpResponse::Created().json(account)
}

async fn create_payout(req: HttpRequest, body: web::Bytes, state: Shared) -> HttpResponse {
    if let Some(refusal) = refused(&req, &state, &body) {
        return refusal;
    }
    let key = req.headers().get("x-payout-idempotency").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let mut state = state.lock().expect("lock");
    if !(4..=36).contains(&key.len()) {
        state.refusals.push("payout without a valid X-Payout-Idempotency".to_owned());
        return bad_request("Idempotency key is missing. Include idempotency header and key in the request.");
    }
    if state.outage && !state.create_then_fail {
        return HttpResponse::InternalServerError().json(json!({ "error": { "code": "SERVER_ERROR" } }));
    }
    if let Some((first_body, payout_id)) = state.keys.get(&key).cloned() {
        if first_body != body {
            state.refusals.push(format!("idempotency key {key} reused with another body"));
            return bad_request("Different request body sent for the same idempotency key");
        }
        let payout = state.payouts.get(&payout_id).cloned().unwrap_or_default();
        return HttpResponse::Ok().json(payout);
    }
    let valid = body["account_number"] == json!(ACCOUNT_NUMBER)
        && body["currency"] == json!("INR")
        && body["amount"].as_i64().is_some_and(|a| a >= 100)
        && matches!(body["mode"].as_str(), Some("IMPS" | "NEFT" | "RTGS" | "UPI"))
        && state.fund_accounts.iter().any(|f| f["id"] == body["fund_account_id"]);
    if !valid {
        state.refusals.push(format!("payout refused: {body}"));
        return bad_request("The payout request is invalid");
    }
    let id = format!("pout_{:014}", state.payouts.len() + 1);
    let payout = json!({ "id": id, "entity": "payout", "fund_account_id": body["fund_account_id"],
        "amount": body["amount"], "currency": "INR", "status": "queued", "utr": null, "mode": body["mode"],
        "purpose": body["purpose"], "reference_id": body["reference_id"], "queue_if_low_balance": body["queue_if_low_balance"] });
    state.payouts.insert(id.clone(), payout.clone());
    state.keys.insert(key, (body, id));
    if state.outage {
        return HttpResponse::InternalServerError().json(json!({ "error": { "code": "SERVER_ERROR" } }));
    }
    HttpResponse::Ok().json(payout)
}

async fn fetch_payout(req: HttpRequest, path: web::Path<String>, state: Shared) -> HttpResponse {
    if let Some(refusal) = refused(&req, &state, b"") {
        return refusal;
    }
    match state.lock().expect("lock").payouts.get(path.as_str()) {
        Some(payout) => HttpResponse::Ok().json(payout),
        None => bad_request("The id provided does not exist"),
    }
}
