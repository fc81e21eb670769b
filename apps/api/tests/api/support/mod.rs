//! Black-box test support: the real server on a random port against a fresh database, and small
//! local HTTP servers standing in for outside APIs.
//!
//! Long on purpose: the one place every black-box test's helpers live (spawning, requests,
//! accounts, the live-call scene), so tests stay short and do not copy them.
#![allow(dead_code)] // each test binary uses a different part of this module

pub mod apns;
pub mod browser;
pub mod fake;
pub mod razorpayx;
pub mod stage;
pub mod ws;

use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{Value, json};
use talktime_api::{Application, Settings};
use talktime_repository::Db;
use talktime_repository::testing::TestDatabase;

pub use fake::FakeServer;

pub const JWT_SECRET: &str = "test-jwt-secret-0123456789abcdef0123456789";

pub struct TestApp {
    /// `http://127.0.0.1:<port>`
    pub address: String,
    pub port: u16,
    pub db: Db,
    pub db_url: String,
    pub db_name: String,
    /// Receives the SMS webhook (`{phone, message}`).
    pub sms: FakeServer,
    pub client: reqwest::Client,
    node: Node,
}

/// How the server under test runs.
enum Node {
    /// In this test process, with handles tests use directly.
    InProcess(InProcess),
    /// As its own `talktime serve` process (killed when the test ends).
    Process(NodeProcess),
    /// A process this test killed or stopped.
    Stopped,
}

struct InProcess {
    presence: std::sync::Arc<dyn talktime_services::presence::PresenceRegistry>,
    payments: std::sync::Arc<talktime_services::payments::PaymentService>,
    payouts: std::sync::Arc<talktime_services::payouts::PayoutService>,
    controller: talktime_api::startup::Controller,
}

/// A `talktime serve` process.
struct NodeProcess(std::process::Child);

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A complete production configuration (on top of the test defaults), its providers at
/// addresses nothing listens on: for tests of what production alone does.
pub const PRODUCTION: &[(&str, &str)] = &[
    ("APP_ENV", "production"),
    // 32 bytes of 0x07, base64.
    ("SECRETS_KEY", "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="),
    ("PAYMENT_GATEWAY", "razorpay"),
    ("RAZORPAY_KEY_ID", "rzp_test_production"),
    ("RAZORPAY_KEY_SECRET", "razorpay-key-secret"),
    ("RAZORPAY_WEBHOOK_SECRET", "razorpay-webhook-secret"),
    ("RAZORPAY_API_BASE", "http://127.0.0.1:9"),
    ("LIVEKIT_URL", "ws://127.0.0.1:9"),
    ("LIVEKIT_API_KEY", "APIproductiontest"),
    ("LIVEKIT_API_SECRET", "livekit-production-test-secret"),
    ("LIVEKIT_WEBHOOK_ENABLED", "true"),
    ("GOOGLE_CLIENT_IDS", "talktime-test.apps.googleusercontent.com"),
    ("METRICS_TOKEN", "metrics-token-0123456789"),
];

/// The real application with the test defaults.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// The real application; `overrides` replace or add environment variables.
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    let database = TestDatabase::new().await.expect("create a test database");
    spawn_app_on(database, overrides).await
}

/// The test environment: development, a fake SMS webhook, the test JWT secret; `overrides`
/// replace or add variables.
fn test_vars(sms: &FakeServer, overrides: &[(&str, &str)]) -> Vec<(String, String)> {
    let sms_url = sms.url("/sms");
    let mut vars: Vec<(String, String)> = [
        ("APP_ENV", "development"),
        ("BIND_ADDR", "127.0.0.1:0"),
        ("HTTP_WORKERS", "2"),
        ("JWT_SECRET", JWT_SECRET),
        ("SMS_PROVIDER", "webhook"),
        ("SMS_WEBHOOK_URL", sms_url.as_str()),
        // Presence updates without a second's wait.
        ("PRESENCE_FLUSH_MS", "20"),
        // Tests choose their client IP through X-Forwarded-For.
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for (key, value) in overrides {
        vars.retain(|(k, _)| k != key);
        vars.push(((*key).to_owned(), (*value).to_owned()));
    }
    vars
}

/// Another node (or a restarted one) on an existing test database.
pub async fn spawn_app_on(database: TestDatabase, overrides: &[(&str, &str)]) -> TestApp {
    let sms = FakeServer::start().await;
    let mut vars = test_vars(&sms, &[("DATABASE_URL", database.url.as_str())]);
    vars.retain(|(k, _)| !overrides.iter().any(|(o, _)| o == k));
    vars.extend(overrides.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let settings = Settings::from_vars(vars).expect("valid test settings");
    // Each node gets its own pool, as separate processes would.
    let pool = Db::connect(&database.url, 10).await.expect("connect");
    let app = Application::build_with_db(settings, pool).expect("build the application");
    let port = app.port();
    let presence = app.presence();
    let payments = app.payments();
    let payouts = app.payouts();
    let controller = app.controller();
    tokio::spawn(app.run_until_stopped());
    TestApp::new(port, database, sms, Node::InProcess(InProcess { presence, payments, payouts, controller }))
}

/// A node as its own `talktime serve` process on an existing test database, returned once
/// `/health/ready` answers 200 (with `REDIS_URL`, that includes its bus being subscribed). Its
/// log goes to `target/tmp/node-<port>.log`.
pub async fn spawn_node(database: TestDatabase, overrides: &[(&str, &str)]) -> TestApp {
    let sms = FakeServer::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("port").port();
    let bind = format!("127.0.0.1:{port}");
    let mut overrides = overrides.to_vec();
    overrides.extend([("BIND_ADDR", bind.as_str()), ("DATABASE_URL", database.url.as_str()), ("HTTP_WORKERS", "1")]);
    let log_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let log = std::fs::File::create(log_dir.join(format!("node-{port}.log"))).expect("log file");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_talktime"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .envs(test_vars(&sms, &overrides))
        .current_dir(log_dir)
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("start talktime");
    let app = TestApp::new(port, database, sms, Node::Process(NodeProcess(child)));
    app.wait_ready().await;
    app
}

/// Held by the tests that load both cores for seconds (the load tool's smoke run, a 2,000-user
/// broadcast) and by the test of a timing guarantee across nodes (a logout refused by the other
/// node's very next request, which rests on the change feed being heard first): they never run
/// at the same time, as the feed's listener would then be starved of CPU.
pub async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    static CPU: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    CPU.lock().await
}

/// Polls `probe` every 20 ms until it answers `Some`, for at most [`ws::WAIT`]; past that the
/// test fails, naming `what` it waited for. For outcomes the server reaches on its own time
/// (a worker's pass, a node's startup), never as a pause before looking.
pub async fn eventually<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + ws::WAIT;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(tokio::time::Instant::now() < deadline, "waited in vain for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A distinct client address per call, so per-IP limits only bite where a test wants them to.
pub fn fresh_ip() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255)
}

/// `n` characters of hex from a hash chain: as incompressible as random text.
pub fn random_text(n: usize) -> String {
    use sha2::Digest;
    let mut out = String::with_capacity(n + 64);
    let mut block = sha2::Sha256::digest(uuid::Uuid::now_v7().as_bytes());
    while out.len() < n {
        out.extend(block.iter().map(|b| format!("{b:02x}")));
        block = sha2::Sha256::digest(block);
    }
    out.truncate(n);
    out
}

/// A phone number unique within the test run.
pub fn fresh_phone() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("98{:08}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A response read whole: status, headers and JSON body (`Null` when not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        Self { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::Null) }
    }

    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    #[track_caller]
    pub fn assert(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.body);
        self
    }

    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> &Self {
        self.assert(status);
        assert_eq!(self.code(), code, "unexpected code; body: {}", self.body);
        assert_eq!(self.body["success"], json!(false));
        self
    }
}

impl TestApp {
    pub fn presence(&self) -> &dyn talktime_services::presence::PresenceRegistry {
        &*self.in_process().presence
    }

    pub fn payments(&self) -> &talktime_services::payments::PaymentService {
        &self.in_process().payments
    }

    pub fn payouts(&self) -> &talktime_services::payouts::PayoutService {
        &self.in_process().payouts
    }

    pub fn controller(&self) -> &talktime_api::startup::Controller {
        &self.in_process().controller
    }

    fn new(port: u16, database: TestDatabase, sms: FakeServer, node: Node) -> Self {
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            db: database.db,
            db_url: database.url,
            db_name: database.name,
            sms,
            client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client"),
            node,
        }
    }

    fn in_process(&self) -> &InProcess {
        match &self.node {
            Node::InProcess(handles) => handles,
            _ => panic!("an in-process node"),
        }
    }

    /// The node's process, taken out of the test app (dropping it kills it).
    fn take_process(&mut self) -> NodeProcess {
        match std::mem::replace(&mut self.node, Node::Stopped) {
            Node::Process(process) => process,
            _ => panic!("a running node process"),
        }
    }

    /// Kills the node's process outright (SIGKILL: no goodbye to anyone, as in a crash).
    pub fn kill(&mut self) {
        drop(self.take_process());
    }

    /// Sends SIGTERM to the node's process and waits for it to exit; answers its exit code.
    pub async fn terminate(&mut self) -> Option<i32> {
        let mut process = self.take_process();
        // A signal from the test itself: a minimal machine has no `kill` program.
        let pid = nix::unistd::Pid::from_raw(i32::try_from(process.0.id()).expect("pid"));
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
        for _ in 0..600 {
            if let Some(status) = process.0.try_wait().expect("wait") {
                return status.code();
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the node did not exit after SIGTERM");
    }

    /// Waits until `/health/ready` answers 200.
    pub async fn wait_ready(&self) {
        for _ in 0..400 {
            if self.client.get(self.url("/health/ready")).send().await.is_ok_and(|r| r.status() == 200) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("{} never became ready", self.address);
    }

    /// The same database, for a second node.
    pub fn database(&self) -> TestDatabase {
        TestDatabase { url: self.db_url.clone(), name: self.db_name.clone(), db: self.db.clone() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn post_from(&self, ip: &str, path: &str, body: &Value, token: Option<&str>) -> Reply {
        let mut request = self.client.post(self.url(path)).header("x-forwarded-for", ip).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        Reply::read(request.send().await.expect("request")).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.post_from(&fresh_ip(), path, body, None).await
    }

    pub async fn post_auth(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.post_from(&fresh_ip(), path, body, Some(token)).await
    }

    pub async fn get_auth(&self, path: &str, token: &str) -> Reply {
        let request = self.client.get(self.url(path)).bearer_auth(token).header("x-forwarded-for", fresh_ip());
        Reply::read(request.send().await.expect("request")).await
    }

    pub async fn patch_auth(&self, path: &str, token: &str, body: &Value) -> Reply {
        let request =
            self.client.patch(self.url(path)).bearer_auth(token).header("x-forwarded-for", fresh_ip()).json(body);
        Reply::read(request.send().await.expect("request")).await
    }

    pub async fn put_auth(&self, path: &str, token: &str, body: &Value) -> Reply {
        let request =
            self.client.put(self.url(path)).bearer_auth(token).header("x-forwarded-for", fresh_ip()).json(body);
        Reply::read(request.send().await.expect("request")).await
    }

    pub async fn delete_auth(&self, path: &str, token: &str) -> Reply {
        let request = self.client.delete(self.url(path)).bearer_auth(token).header("x-forwarded-for", fresh_ip());
        Reply::read(request.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        Reply::read(self.client.get(self.url(path)).send().await.expect("request")).await
    }

    pub async fn send_code(&self, phone: &str) -> Reply {
        self.post("/auth/send", &json!({ "phone": phone })).await
    }

    pub async fn verify(&self, phone: &str, otp: &str) -> Reply {
        self.post("/auth/verify", &json!({ "phone": phone, "otp": otp })).await
    }

    /// The code in the last SMS sent to `phone`.
    pub fn last_code(&self, phone: &str) -> String {
        self.sms
            .requests()
            .iter()
            .rev()
            .filter_map(|r| serde_json::from_str::<Value>(&r.body).ok())
            .find(|b| b["phone"] == phone)
            .and_then(|b| b["message"].as_str().map(code_in))
            .unwrap_or_else(|| panic!("no SMS was sent to {phone}"))
    }

    /// Logs in through send + verify; returns the token and the `user` object.
    pub async fn login(&self, phone: &str) -> (String, Value) {
        self.send_code(phone).await.assert(200);
        let reply = self.verify(phone, &self.last_code(phone)).await;
        reply.assert(200);
        let token = reply.body["token"].as_str().expect("token").to_owned();
        (token, reply.body["user"].clone())
    }
}

/// A logged-in account: its token and id.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub id: String,
    pub phone: String,
}

impl TestApp {
    /// A new USER with a complete profile.
    pub async fn user(&self) -> Session {
        let phone = fresh_phone();
        let (token, user) = self.login(&phone).await;
        self.patch_auth(
            "/users/complete-profile",
            &token,
            &json!({ "name": "Ravi Kumar", "dob": "1995-05-10", "gender": "MALE", "language": "hindi", "role": "USER" }),
        )
        .await
        .assert(200);
        Session { token, id: user["_id"].as_str().expect("id").to_owned(), phone }
    }

    /// A new telecaller who applied through the API; approved when `approve`.
    pub async fn telecaller(&self, approve: bool) -> Session {
        let phone = fresh_phone();
        let (token, user) = self.login(&phone).await;
        let reply = self
            .patch_auth(
                "/users/complete-profile",
                &token,
                &json!({
                    "name": "Asha Rao", "dob": "1996-02-11", "gender": "FEMALE", "language": "english",
                    "role": "TELECALLER", "about": ABOUT,
                }),
            )
            .await;
        reply.assert(200);
        let id = user["_id"].as_str().expect("id").to_owned();
        if approve {
            talktime_repository::testing::set_approval(&self.db, id.parse().expect("uuid"), "APPROVED", None)
                .await
                .expect("approve");
        }
        Session { token: reply.body["token"].as_str().expect("new token").to_owned(), id, phone }
    }
}

/// A signed-in admin: the token, and the `authenticationToken` cookie the panel holds instead
/// (send it with the panel's `Origin` for changes).
pub struct AdminSession {
    pub token: String,
    pub cookie: String,
}

impl TestApp {
    /// A new admin, signed in.
    pub async fn admin_session(&self) -> AdminSession {
        let token = self.admin_token().await;
        AdminSession { cookie: format!("authenticationToken={token}"), token }
    }

    /// A token for a new admin, minted as the admin sign-in will mint it.
    pub async fn admin_token(&self) -> String {
        let email = format!("admin{}@example.com", fresh_phone());
        let admin = talktime_repository::admins::create(self.db.pool(), &email, "Test Admin").await.expect("admin");
        let now = chrono::Utc::now().timestamp();
        let claims = json!({
            "sub": admin.id.0, "role": "ADMIN", "iat": now, "exp": now + 3600,
            "iss": "talktime", "aud": "talktime-api", "ver": admin.token_version,
        });
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
        )
        .expect("sign")
    }

    /// Puts coins in a wallet through the ledger API (as a recharge journal of its own).
    pub async fn grant_coins(&self, account: &str, coins: i64) {
        let mut tx = self.db.begin().await.expect("begin");
        talktime_services::ledger::credit_recharge(
            &mut tx,
            talktime_domain::ids::TransactionId::new(),
            account.parse().expect("id"),
            coins,
        )
        .await
        .expect("credit");
        tx.commit().await.expect("commit");
    }

    pub async fn balance(&self, account: &str) -> i64 {
        talktime_repository::ledger::wallet_balance(self.db.pool(), account.parse().expect("id"))
            .await
            .expect("balance")
    }

    /// The shared end-of-test check: every entry sums to zero and every wallet equals its entries.
    pub async fn assert_books_balance(&self) {
        talktime_repository::testing::assert_books_balance(&self.db).await;
    }
}

/// An `about` of valid length.
pub const ABOUT: &str = "I love talking about books, music and travel. Happy to listen and share stories.";

/// The first run of 4+ digits in an SMS text.
pub fn code_in(message: &str) -> String {
    message.split(|c: char| !c.is_ascii_digit()).find(|p| p.len() >= 4).unwrap_or_default().to_owned()
}

/// The bank details the tests save (the masked number ends in 7890).
pub const BANK: &str =
    r#"{"accountNumber": "001234567890", "ifscCode": "HDFC0001234", "accountHolderName": "Asha Rao"}"#;

impl TestApp {
    /// A new approved telecaller with bank details saved and `coins` in her wallet.
    pub async fn earning_telecaller(&self, coins: i64) -> Session {
        let telecaller = self.telecaller(true).await;
        let bank: Value = serde_json::from_str(BANK).expect("bank JSON");
        self.post_auth("/telecaller/bank-details", &telecaller.token, &bank).await.assert(201);
        if coins > 0 {
            self.grant_coins(&telecaller.id, coins).await;
        }
        telecaller
    }
}

/// An accepted call: the user's socket, the telecaller's, and the call's id (the scene many
/// tests start from).
pub struct LiveCall {
    pub id: String,
    pub user: ws::Ws,
    pub telecaller: ws::Ws,
}

impl TestApp {
    /// Funds `user`, connects both, rings the telecaller and has her accept. `telecaller_socket`
    /// is her already open socket, or `None` to open one.
    pub async fn live_call(&self, user: &Session, telecaller: &Session, telecaller_socket: Option<ws::Ws>) -> LiveCall {
        self.grant_coins(&user.id, 1_000).await;
        let mut t = match telecaller_socket {
            Some(socket) => socket,
            None => ws::Ws::connect(self, "/ws/telecaller", &telecaller.token).await.0,
        };
        let (mut u, _) = ws::Ws::connect(self, "/ws/user", &user.token).await;
        u.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
        let id = u.expect("call:ringing").await["callId"].as_str().expect("callId").to_owned();
        t.expect("call:incoming").await;
        t.send("call:accept", json!({ "callId": id })).await;
        t.expect("call:accepted").await;
        LiveCall { id, user: u, telecaller: t }
    }
}

impl LiveCall {
    /// The user hangs up and both hear `call:ended`; answers the telecaller's socket (she stays
    /// online).
    /// As if the parties had talked for `secs` already: the meter's start moves back (with
    /// the paid time's end), so ending now bills that long.
    pub async fn talked(&self, app: &TestApp, secs: i64) {
        let call = self.id.parse().expect("call id");
        talktime_repository::testing::age_call(&app.db, call, secs).await.expect("age the call");
    }

    pub async fn end(mut self) -> ws::Ws {
        self.user.send("call:end", json!({ "callId": self.id })).await;
        self.user.expect("call:ended").await;
        self.telecaller.expect("call:ended").await;
        self.telecaller
    }
}
