//! Graceful shutdown of the real binary: SIGTERM closes sockets with 1012 and the process exits.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;
use support::{FakeServer, JWT_SECRET, fresh_phone};
use talktime_repository::testing::TestDatabase;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn sigterm_closes_sockets_with_1012_and_exits() {
    let database = TestDatabase::new().await.unwrap();
    let sms = FakeServer::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_talktime"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &database.url)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("HTTP_WORKERS", "1")
        .env("JWT_SECRET", JWT_SECRET)
        .env("SMS_PROVIDER", "webhook")
        .env("SMS_WEBHOOK_URL", sms.url("/sms"))
        .env("RUST_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start talktime");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..200 {
        if client.get(format!("{base}/health")).send().await.is_ok_and(|r| r.status() == 200) {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "the server did not come up");

    let phone = fresh_phone();
    client.post(format!("{base}/auth/send")).json(&json!({ "phone": phone })).send().await.unwrap();
    let message = serde_json::from_str::<serde_json::Value>(&sms.requests()[0].body).unwrap();
    let code = support::code_in(message["message"].as_str().unwrap());
    let login: serde_json::Value = client
        .post(format!("{base}/auth/verify"))
        .json(&json!({ "phone": phone, "otp": code }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap();
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws/user?token={token}")).await.unwrap();
    use futures_util::StreamExt;
    let first = socket.next().await.unwrap().unwrap();
    assert!(first.to_text().unwrap().contains("session:ready"));

    let killed = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(killed.success());
    let code = loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("no close in time") {
            Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => continue,
            other => panic!("unexpected end: {other:?}"),
        }
    };
    assert_eq!(code, Some(1012));
    let mut exited = None;
    for _ in 0..200 {
        if let Some(status) = child.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = exited.unwrap_or_else(|| {
        let _ = child.kill();
        panic!("the server did not exit after SIGTERM")
    });
    assert!(status.success(), "{status:?}");
}
