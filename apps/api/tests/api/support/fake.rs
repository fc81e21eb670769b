//! A local HTTP server that records every request and answers with a configurable reply.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Lower-case names.
    pub headers: HashMap<String, String>,
    pub body: String,
}

#[derive(Clone)]
struct Shared {
    requests: Arc<Mutex<Vec<Recorded>>>,
    reply: Arc<Mutex<(u16, String)>>,
    /// Replies for exact `METHOD path`s, taking precedence over `reply`.
    routes: Arc<Mutex<HashMap<String, (u16, String)>>>,
    sequence: Arc<std::sync::atomic::AtomicU64>,
}

pub struct FakeServer {
    pub base: String,
    shared: Shared,
}

impl FakeServer {
    /// Starts on a random port, answering `200 {}` until told otherwise.
    pub async fn start() -> Self {
        let shared = Shared {
            requests: Arc::default(),
            reply: Arc::new(Mutex::new((200, "{}".to_owned()))),
            routes: Arc::default(),
            sequence: Arc::default(),
        };
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake server");
        let port = listener.local_addr().expect("address").port();
        let state = shared.clone();
        let server = HttpServer::new(move || {
            App::new().app_data(web::Data::new(state.clone())).default_service(web::to(record))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        tokio::spawn(server);
        Self { base: format!("http://127.0.0.1:{port}"), shared }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().expect("lock").clone()
    }

    /// Every later request gets this status and JSON body. `{seq}` in the body becomes a number
    /// that grows with each reply.
    pub fn respond_with(&self, status: u16, body: &str) {
        *self.shared.reply.lock().expect("lock") = (status, body.to_owned());
    }

    /// Requests for exactly `method` and `path` get this reply.
    pub fn route(&self, method: &str, path: &str, status: u16, body: &str) {
        self.shared.routes.lock().expect("lock").insert(format!("{method} {path}"), (status, body.to_owned()));
    }
}

async fn record(req: HttpRequest, body: web::Bytes, state: web::Data<Shared>) -> HttpResponse {
    let headers =
        req.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned())).collect();
    state.requests.lock().expect("lock").push(Recorded {
        method: req.method().to_string(),
        path: req.path().to_owned(),
        query: req.query_string().to_owned(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let routed = state.routes.lock().expect("lock").get(&format!("{} {}", req.method(), req.path())).cloned();
    let (status, body) = routed.unwrap_or_else(|| state.reply.lock().expect("lock").clone());
    let seq = state.sequence.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let body = body.replace("{seq}", &seq.to_string());
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
        .content_type("application/json")
        .body(body)
}
