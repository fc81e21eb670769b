//! Token checks: signature, algorithm, issuer, audience, expiry, revocation and roles.

use crate::support::{JWT_SECRET, TestApp, eventually, fresh_phone, spawn_app};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

async fn logged_in(app: &TestApp) -> (String, Value) {
    let (token, _) = app.login(&fresh_phone()).await;
    let claims = claims_of(&token);
    (token, claims)
}

#[tokio::test]
async fn issued_tokens_carry_the_expected_claims() {
    let app = spawn_app().await;
    let (token, claims) = logged_in(&app).await;
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(header["alg"], json!("HS256"));
    assert_eq!(claims["role"], json!("USER"));
    assert_eq!(claims["iss"], json!("talktime"));
    assert_eq!(claims["aud"], json!("talktime-api"));
    let ttl = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(ttl, 7 * 24 * 3600);
    // A re-signed copy of the same claims is accepted, so the rejections below are about the
    // one thing each of them changes.
    app.get_auth("/users/me", &sign(&claims, JWT_SECRET)).await.assert(200);
}

#[tokio::test]
async fn missing_and_malformed_tokens_are_401() {
    let app = spawn_app().await;
    app.get("/users/me").await.assert_error(401, "missing_token");
    app.get_auth("/users/me", "garbage").await.assert_error(401, "invalid_token");
}

#[tokio::test]
async fn tampered_tokens_are_401() {
    let app = spawn_app().await;
    let (token, mut claims) = logged_in(&app).await;
    claims["role"] = json!("TELECALLER");
    let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    app.get_auth("/users/me", &tampered).await.assert_error(401, "invalid_token");
    app.get_auth("/users/me", &sign(&claims_of(&token), "another-secret-another-secret-xx"))
        .await
        .assert_error(401, "invalid_token");
}

#[tokio::test]
async fn expired_tokens_are_401() {
    let app = spawn_app().await;
    let (_, mut claims) = logged_in(&app).await;
    let now = chrono::Utc::now().timestamp();
    claims["iat"] = json!(now - 7200);
    claims["exp"] = json!(now - 3600);
    app.get_auth("/users/me", &sign(&claims, JWT_SECRET)).await.assert_error(401, "token_expired");
}

#[tokio::test]
async fn wrong_audience_or_issuer_is_401() {
    let app = spawn_app().await;
    let (_, claims) = logged_in(&app).await;
    let mut wrong_aud = claims.clone();
    wrong_aud["aud"] = json!("someone-else");
    app.get_auth("/users/me", &sign(&wrong_aud, JWT_SECRET)).await.assert_error(401, "invalid_token");
    let mut wrong_iss = claims;
    wrong_iss["iss"] = json!("evil");
    app.get_auth("/users/me", &sign(&wrong_iss, JWT_SECRET)).await.assert_error(401, "invalid_token");
}

#[tokio::test]
async fn alg_none_is_401() {
    let app = spawn_app().await;
    let (_, claims) = logged_in(&app).await;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    app.get_auth("/users/me", &format!("{header}.{payload}.")).await.assert_error(401, "invalid_token");
    app.get_auth("/users/me", &format!("{header}.{payload}")).await.assert_error(401, "invalid_token");
}

#[tokio::test]
async fn tokens_for_unknown_accounts_or_stale_versions_are_401() {
    let app = spawn_app().await;
    let (_, claims) = logged_in(&app).await;
    let mut stranger = claims.clone();
    stranger["sub"] = json!(uuid::Uuid::now_v7());
    app.get_auth("/users/me", &sign(&stranger, JWT_SECRET)).await.assert_error(401, "token_revoked");
    let mut old = claims;
    old["ver"] = json!(-1);
    app.get_auth("/users/me", &sign(&old, JWT_SECRET)).await.assert_error(401, "token_revoked");
}

#[tokio::test]
async fn an_admin_token_does_not_open_phone_account_routes() {
    let app = spawn_app().await;
    let admin = talktime_repository::admins::create(app.db.pool(), "Ops@Example.com", "Ops").await.unwrap();
    assert_eq!(admin.email, "ops@example.com");
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "sub": admin.id.0, "role": "ADMIN", "iat": now, "exp": now + 600,
        "iss": "talktime", "aud": "talktime-api", "ver": admin.token_version,
    });
    app.get_auth("/users/me", &sign(&claims, JWT_SECRET)).await.assert_error(403, "forbidden_role");
}

#[tokio::test]
async fn the_admin_cookie_is_read_too() {
    let app = spawn_app().await;
    let (token, _) = logged_in(&app).await;
    let reply = app
        .client
        .get(app.url("/users/me"))
        .header("cookie", format!("authenticationToken={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
}

/// Polls `GET /users/me` until it answers `status` (a change made outside the server reaches
/// its caches through Postgres's notifications, not through the request that made it).
async fn until_me_answers(app: &TestApp, token: &str, status: u16) {
    let what = format!("/users/me answering {status}");
    eventually(&what, async || (app.get_auth("/users/me", token).await.status == status).then_some(())).await;
}

#[tokio::test]
async fn an_operators_direct_change_reaches_the_cached_account() {
    let app = spawn_app().await;
    let phone = fresh_phone();
    let (token, _) = app.login(&phone).await;
    app.get_auth("/users/me", &token).await.assert(200);
    talktime_repository::testing::force_status(&app.db, &phone, "SUSPENDED").await.unwrap();
    until_me_answers(&app, &token, 403).await;
    talktime_repository::testing::force_status(&app.db, &phone, "ACTIVE").await.unwrap();
    until_me_answers(&app, &token, 200).await;
}

#[tokio::test]
async fn a_lost_change_feed_never_leaves_a_stale_account_served() {
    let app = spawn_app().await;
    let phone = fresh_phone();
    let (token, _) = app.login(&phone).await;
    app.get_auth("/users/me", &token).await.assert(200);
    // Postgres drops the server's listening connection; the change below is said while nobody
    // listens.
    let killed = talktime_repository::testing::execute_raw(
        &app.db,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .await
    .unwrap();
    assert_eq!(killed, 1, "the server listens on one connection");
    talktime_repository::testing::force_status(&app.db, &phone, "SUSPENDED").await.unwrap();
    until_me_answers(&app, &token, 403).await;
}
