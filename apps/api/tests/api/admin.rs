//! Admin sign-in with Google, cross-site protection, moderation effects, and the audit log.

use crate::support::ws::Ws;
use crate::support::{FakeServer, Reply, TestApp, spawn_app_with};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use talktime_domain::ids::CallId;
use talktime_repository::testing;

const PRIVATE_KEY: &str = include_str!("support/google_key.pem");
const MODULUS: &str = include_str!("support/google_key.n");
const CLIENT_ID: &str = "admin-panel.apps.googleusercontent.com";
const ADMIN_ORIGIN: &str = "https://admin.example.com";

struct Panel {
    app: TestApp,
    _jwks: FakeServer,
}

async fn panel() -> Panel {
    let jwks = FakeServer::start().await;
    jwks.route(
        "GET",
        "/oauth2/v3/certs",
        200,
        &json!({ "keys": [{ "kid": "k1", "kty": "RSA", "alg": "RS256", "use": "sig", "n": MODULUS.trim(), "e": "AQAB" }] }).to_string(),
    );
    let url = jwks.url("/oauth2/v3/certs");
    let app = spawn_app_with(&[
        ("GOOGLE_CLIENT_IDS", CLIENT_ID),
        ("GOOGLE_JWKS_URL", url.as_str()),
        ("CORS_ALLOWED_ORIGINS", ADMIN_ORIGIN),
    ])
    .await;
    talktime_repository::admins::create(app.db.pool(), "boss@example.com", "The Boss").await.unwrap();
    Panel { app, _jwks: jwks }
}

fn google_claims() -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "iss": "https://accounts.google.com", "aud": CLIENT_ID, "sub": "1234567890",
        "email": "Boss@Example.com", "email_verified": true, "iat": now, "exp": now + 3600,
    })
}

fn id_token(claims: &Value, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_pem(PRIVATE_KEY.as_bytes()).unwrap()).unwrap()
}

async fn sign_in(app: &TestApp, token: &str) -> Reply {
    app.post("/admin/auth/google", &json!({ "googleToken": token })).await
}

/// The `authenticationToken` cookie of a sign-in answer.
fn cookie(reply: &Reply) -> String {
    let header = reply.headers.get("set-cookie").expect("a cookie").to_str().unwrap().to_owned();
    assert!(header.contains("HttpOnly"), "{header}");
    assert!(header.contains("SameSite=Strict"), "{header}");
    header.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_valid_google_token_for_a_listed_admin_sets_the_cookie() {
    let panel = panel().await;
    let reply = sign_in(&panel.app, &id_token(&google_claims(), "k1")).await;
    reply.assert(200);
    assert_eq!(reply.body["data"]["email"], json!("boss@example.com"));
    let cookie = cookie(&reply);
    assert!(cookie.starts_with("authenticationToken="));
    let users = panel.app.client.get(panel.app.url("/admin/users")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(users.status(), 200);
}

#[tokio::test]
async fn bad_google_tokens_are_refused_with_the_right_status() {
    let panel = panel().await;
    let with = |field: &str, value: Value| {
        let mut claims = google_claims();
        claims[field] = value;
        claims
    };
    let now = chrono::Utc::now().timestamp();
    for (claims, kid, status) in [
        (with("aud", json!("someone-else")), "k1", 401),
        (with("iss", json!("https://evil.example.com")), "k1", 401),
        (with("exp", json!(now - 3600)), "k1", 401),
        (with("email_verified", json!(false)), "k1", 401),
        (google_claims(), "unknown-key", 401),
        (with("email", json!("intruder@example.com")), "k1", 403),
    ] {
        let reply = sign_in(&panel.app, &id_token(&claims, kid)).await;
        assert_eq!(reply.status, status, "{claims} {kid}: {}", reply.body);
        assert!(reply.headers.get("set-cookie").is_none());
    }
    // A valid token with its payload swapped fails the signature.
    let genuine = id_token(&google_claims(), "k1");
    let forged_payload = id_token(&with("email", json!("boss@example.com")), "k1");
    let parts: Vec<&str> = genuine.split('.').collect();
    let other: Vec<&str> = forged_payload.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], other[1], parts[2]);
    if other[1] != parts[1] {
        sign_in(&panel.app, &tampered).await.assert(401);
    }
    sign_in(&panel.app, "not-a-jwt").await.assert(401);
}

#[tokio::test]
async fn cookie_authenticated_changes_must_come_from_the_admin_origin() {
    let panel = panel().await;
    let reply = sign_in(&panel.app, &id_token(&google_claims(), "k1")).await;
    let cookie = cookie(&reply);
    let target = panel.app.user().await;
    let block = panel.app.url(&format!("/admin/users/{}/block", target.id));
    let foreign = panel
        .app
        .client
        .post(&block)
        .header("cookie", &cookie)
        .header("origin", "https://evil.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let missing = panel.app.client.post(&block).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(missing.status(), 403);
    panel.app.get_auth("/users/me", &target.token).await.assert(200);
    let allowed =
        panel.app.client.post(&block).header("cookie", &cookie).header("origin", ADMIN_ORIGIN).send().await.unwrap();
    assert_eq!(allowed.status(), 200);
    panel.app.get_auth("/users/me", &target.token).await.assert(401);
}

#[tokio::test]
async fn blocking_a_user_in_a_live_call_ends_it_bills_it_and_closes_the_socket() {
    let rooms = FakeServer::start().await;
    rooms.route("POST", "/twirp/livekit.RoomService/DeleteRoom", 200, "");
    let app = spawn_app_with(&[("LIVEKIT_API_URL", rooms.base.as_str())]).await;
    let admin = app.admin_token().await;
    let user = app.user().await;
    let telecaller = app.telecaller(true).await;
    app.grant_coins(&user.id, 1_000).await;
    let (mut user_ws, _) = Ws::connect(&app, "/ws/user", &user.token).await;
    let (mut telecaller_ws, _) = Ws::connect(&app, "/ws/telecaller", &telecaller.token).await;
    user_ws.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
    let call = user_ws.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    telecaller_ws.expect("call:incoming").await;
    telecaller_ws.send("call:accept", json!({ "callId": call })).await;
    telecaller_ws.expect("call:accepted").await;
    talktime_repository::testing::age_call(&app.db, call.parse::<CallId>().unwrap(), 20).await.unwrap();

    app.post_auth(&format!("/admin/users/{}/block", user.id), &admin, &json!({})).await.assert(200);
    let ended = telecaller_ws.expect("call:ended").await;
    assert_eq!(ended["reason"], json!("ACCOUNT_BLOCKED"));
    assert_eq!((ended["durationInSeconds"].clone(), ended["coinsEarned"].clone()), (json!(20), json!(20)));
    assert_eq!(user_ws.closed().await, Some(4003));
    app.get_auth("/users/me", &user.token).await.assert_error(401, "token_revoked");
    assert_eq!(app.balance(&user.id).await, 960);
    app.post_auth(&format!("/admin/users/{}/block", user.id), &admin, &json!({}))
        .await
        .assert_error(409, "already_in_that_state");
    app.post_auth(&format!("/admin/users/{}/unblock", user.id), &admin, &json!({})).await.assert(200);
    app.assert_books_balance().await;
}

#[tokio::test]
async fn approval_transitions_outside_the_rules_answer_409_and_change_nothing() {
    let panel = panel().await;
    let app = &panel.app;
    let admin = app.admin_token().await;
    let pending = app.telecaller(false).await;
    let approve = format!("/admin/telecallers/{}/approve", pending.id);
    let reject = format!("/admin/telecallers/{}/reject", pending.id);
    app.patch_auth(&reject, &admin, &json!({ "reason": "short" })).await.assert_error(400, "validation_error");
    app.patch_auth(&approve, &admin, &json!({})).await.assert(200);
    app.patch_auth(&approve, &admin, &json!({})).await.assert_error(409, "invalid_transition");
    let rejected = app.patch_auth(&reject, &admin, &json!({ "reason": "Documents did not match" })).await;
    rejected.assert(200);
    assert_eq!(rejected.body["data"]["telecallerProfile"]["approvalStatus"], json!("REJECTED"));
    app.patch_auth(&reject, &admin, &json!({ "reason": "Documents did not match again" }))
        .await
        .assert_error(409, "invalid_transition");
    app.patch_auth(&approve, &admin, &json!({})).await.assert_error(409, "invalid_transition");
    app.get_auth("/users/me", &pending.token).await.assert_error(401, "token_revoked");
    testing::age_otp(&app.db, &pending.phone, 61).await.unwrap();
    let (fresh, _) = app.login(&pending.phone).await;
    let me = app.get_auth("/users/me", &fresh).await;
    assert_eq!(me.body["data"]["telecallerProfile"]["verificationNotes"], json!("Documents did not match"));
    let user = app.user().await;
    app.patch_auth(&format!("/admin/telecallers/{}/approve", user.id), &admin, &json!({}))
        .await
        .assert_error(404, "telecaller_not_found");

    let listed = app.get_auth("/admin/telecallers?status=REJECTED", &admin).await;
    assert_eq!(listed.body["data"]["total"], json!(1));
    app.get_auth("/admin/telecallers", &admin).await.assert_error(400, "validation_error");
}

#[tokio::test]
async fn every_admin_change_is_in_the_audit_log() {
    let panel = panel().await;
    let app = &panel.app;
    let reply = sign_in(app, &id_token(&google_claims(), "k1")).await;
    let cookie = cookie(&reply);
    let pending = app.telecaller(false).await;
    let approve = app
        .client
        .patch(app.url(&format!("/admin/telecallers/{}/approve", pending.id)))
        .header("cookie", &cookie)
        .header("origin", ADMIN_ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(approve.status(), 200);
    let log =
        Reply::read(app.client.get(app.url("/admin/audit-log")).header("cookie", &cookie).send().await.unwrap()).await;
    log.assert(200);
    let entry = &log.body["data"]["entries"][0];
    assert_eq!(entry["action"], json!("telecaller.approve"));
    assert_eq!(entry["admin"]["email"], json!("boss@example.com"));
    assert_eq!(entry["targetId"], json!(pending.id));
    assert_eq!(entry["before"]["approvalStatus"], json!("PENDING"));
    assert_eq!(entry["after"]["approvalStatus"], json!("APPROVED"));

    // Signing out revokes the admin's tokens.
    let out = app
        .client
        .post(app.url("/admin/auth/logout"))
        .header("cookie", &cookie)
        .header("origin", ADMIN_ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    let after = app.client.get(app.url("/admin/audit-log")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(after.status(), 401);
}

#[tokio::test]
async fn development_sign_in_and_user_search() {
    let panel = panel().await;
    let app = &panel.app;
    let reply = app.post("/admin/auth/dev", &json!({ "email": "BOSS@example.com" })).await;
    reply.assert(200);
    let cookie = cookie(&reply);
    app.post("/admin/auth/dev", &json!({ "email": "nobody@example.com" })).await.assert_error(403, "not_an_admin");
    let user = app.user().await;
    let found = Reply::read(
        app.client
            .get(app.url(&format!("/admin/users?search={}", &user.phone[..6])))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap(),
    )
    .await;
    found.assert(200);
    assert!(found.body["data"]["users"].as_array().unwrap().iter().any(|u| u["_id"] == json!(user.id)));
    let detail = Reply::read(
        app.client.get(app.url(&format!("/admin/users/{}", user.id))).header("cookie", &cookie).send().await.unwrap(),
    )
    .await;
    assert_eq!(detail.body["data"]["walletBalance"], json!(0));
    assert_eq!(detail.body["data"]["totalComplaints"], json!(0));
}

#[tokio::test]
async fn admins_are_told_about_applications_withdrawals_and_reports() {
    let app = crate::support::spawn_app().await;
    let admin = app.admin_token().await;
    let (mut feed, _) = Ws::connect(&app, "/ws/admin", &admin).await;
    let applicant = app.telecaller(false).await;
    let applied = feed.expect("telecaller:applied").await;
    assert_eq!(applied["telecallerId"], json!(applicant.id));

    let telecaller = app.telecaller(true).await;
    app.post_auth(
        "/telecaller/bank-details",
        &telecaller.token,
        &json!({"accountNumber": "001234567890", "ifscCode": "HDFC0001234", "accountHolderName": "Asha Rao"}),
    )
    .await
    .assert(201);
    app.grant_coins(&telecaller.id, 600).await;
    let detail = app.get_auth(&format!("/admin/telecallers/{}", telecaller.id), &admin).await;
    assert_eq!(detail.body["data"]["bankDetails"]["accountNumber"], json!("XXXXXXXX7890"));
    assert_eq!(detail.body["data"]["presence"], json!("OFFLINE"));
    let withdrawal = app.post_auth("/payment/withdraw", &telecaller.token, &json!({ "coins": 500 })).await;
    withdrawal.assert(200);
    let requested = feed.expect("withdrawal:requested").await;
    assert_eq!((requested["telecallerId"].clone(), requested["coins"].clone()), (json!(telecaller.id), json!(500)));

    let id = withdrawal.body["data"]["_id"].as_str().unwrap();
    app.post_auth(&format!("/admin/withdrawals/{id}/complete"), &admin, &json!({ "transferReference": "UTR778899" }))
        .await
        .assert(200);
    let log = app.get_auth("/admin/audit-log", &admin).await;
    assert_eq!(log.body["data"]["entries"][0]["action"], json!("withdrawal.complete"));
    assert_eq!(log.body["data"]["entries"][0]["after"]["transferReference"], json!("UTR778899"));
}
