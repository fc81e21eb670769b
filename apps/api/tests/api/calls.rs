//! Realtime calls over real WebSocket connections to the spawned server, with a local fake
//! LiveKit RoomService that records DeleteRoom requests.
//!
//! The longest test module on purpose: every transition of the call state machine, its races and
//! its refusals, in the order `docs/call-flow.md` describes them.

use crate::support::stage::{ROOMS, stage};
use crate::support::ws::{Ws, refused};
use crate::support::{eventually, spawn_app_on};
use serde_json::{Value, json};
use talktime_domain::ids::CallId;
use talktime_repository::ledger::{self, LedgerAccount};
use talktime_repository::testing;

fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn a_full_call_bills_the_user_pays_the_telecaller_and_keeps_the_margin() {
    let stage = stage(&[], 1_000).await;
    let (mut user, ready) = Ws::connect(&stage.app, "/ws/user", &stage.user.token).await;
    assert_eq!(ready["balance"], json!(1_000));
    assert_eq!(ready["onlineTelecallers"], json!(0));
    assert_eq!(ready["activeCall"], json!(null));
    user.watch(&[&stage.telecaller.id]).await;
    let (mut telecaller, _) = Ws::connect(&stage.app, "/ws/telecaller", &stage.telecaller.token).await;
    let online = user.presence_of(&stage.telecaller.id).await;
    assert_eq!(online["telecallerId"], json!(stage.telecaller.id));
    assert_eq!(online["presence"], json!("ONLINE"));
    assert_eq!(online["telecaller"]["_id"], json!(stage.telecaller.id));

    user.send_with_ref("call:initiate", json!({ "telecallerId": stage.telecaller.id, "callType": "AUDIO" }), "r1")
        .await;
    let ringing = user.expect_frame("call:ringing").await;
    assert_eq!(ringing["ref"], json!("r1"));
    assert_eq!(ringing["data"]["telecaller"]["_id"], json!(stage.telecaller.id));
    let call = ringing["data"]["callId"].as_str().unwrap().to_owned();
    let incoming = telecaller.expect("call:incoming").await;
    assert_eq!((incoming["callId"].as_str(), incoming["callType"].as_str()), (Some(call.as_str()), Some("AUDIO")));
    assert_eq!(incoming["caller"]["_id"], json!(stage.user.id));

    telecaller.send("call:accept", json!({ "callId": call })).await;
    let accepted = telecaller.expect("call:accepted").await;
    assert_eq!(accepted["maxDurationSeconds"], json!(500), "1000 coins at 2 coins/s");
    assert_eq!(accepted["caller"]["_id"], json!(stage.user.id));
    let for_user = user.expect("call:accepted").await;
    assert_eq!(for_user["livekit"]["url"], json!("wss://media.example.test"));
    assert_eq!(for_user["livekit"]["roomName"], json!(call));
    let on_call = user.presence_of(&stage.telecaller.id).await;
    assert_eq!(on_call["presence"], json!("ON_CALL"));

    // Thirty seconds of talk.
    testing::age_call(&stage.app.db, call.parse::<CallId>().unwrap(), 30).await.unwrap();
    user.send("call:end", json!({ "callId": call })).await;
    let ended = user.expect("call:ended").await;
    assert_eq!(ended["reason"], json!("USER_ENDED"));
    assert_eq!(ended["durationInSeconds"], json!(30));
    assert_eq!(ended["coinsSpent"], json!(60));
    assert_eq!(ended["balance"], json!(940));
    let earned = telecaller.expect("call:ended").await;
    assert_eq!((earned["coinsEarned"].clone(), earned["balance"].clone()), (json!(30), json!(30)));
    assert_eq!(user.presence_of(&stage.telecaller.id).await["presence"], json!("ONLINE"));

    assert_eq!(stage.app.balance(&stage.user.id).await, 940);
    assert_eq!(stage.app.balance(&stage.telecaller.id).await, 30);
    assert_eq!(ledger::platform_balance(stage.app.db.pool(), LedgerAccount::Revenue).await.unwrap(), 30);
    stage.room_closed(&call).await;

    let history = stage.app.get_auth("/users/calls", &stage.user.token).await;
    let entry = &history.body["data"]["calls"][0];
    assert_eq!((entry["status"].clone(), entry["coinsSpent"].clone()), (json!("COMPLETED"), json!(60)));
    assert_eq!(entry["telecaller"]["_id"], json!(stage.telecaller.id));
    let theirs = stage.app.get_auth("/telecaller/calls", &stage.telecaller.token).await;
    assert_eq!(theirs.body["data"]["calls"][0]["coinsEarned"], json!(30));
    assert_eq!(theirs.body["data"]["calls"][0]["user"]["_id"], json!(stage.user.id));
    stage.app.assert_books_balance().await;
}

#[tokio::test]
async fn reject_and_cancel_end_a_ringing_call_without_money() {
    let stage = stage(&[], 1_000).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    user.send("call:initiate", json!({ "telecallerId": stage.telecaller.id, "callType": "VIDEO" })).await;
    let call = user.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    telecaller.expect("call:incoming").await;
    telecaller.send("call:reject", json!({ "callId": call })).await;
    telecaller.expect("call:rejected").await;
    assert_eq!(user.expect("call:rejected").await["callId"], json!(call));

    user.send("call:initiate", json!({ "telecallerId": stage.telecaller.id, "callType": "AUDIO" })).await;
    let second = user.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    telecaller.expect("call:incoming").await;
    user.send("call:cancel", json!({ "callId": second })).await;
    user.expect("call:cancelled").await;
    assert_eq!(telecaller.expect("call:cancelled").await["callId"], json!(second));
    // Too late to accept.
    telecaller.send("call:accept", json!({ "callId": second })).await;
    assert_eq!(telecaller.expect("call:error").await["code"], json!("call_unavailable"));

    let history = stage.app.get_auth("/users/calls", &stage.user.token).await;
    let statuses: Vec<&str> =
        history.body["data"]["calls"].as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["CANCELLED", "REJECTED"]);
    assert_eq!(stage.app.balance(&stage.user.id).await, 1_000);
    let rooms = stage.rooms.requests();
    assert!(rooms.iter().all(|r| r.path.ends_with("/ListRooms")), "no room to close for calls that never connected");
}

#[tokio::test]
async fn an_unanswered_call_is_missed_at_the_ring_timeout() {
    let stage = stage(&[("RING_TIMEOUT_SECS", "1")], 1_000).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    user.send("call:initiate", json!({ "telecallerId": stage.telecaller.id, "callType": "AUDIO" })).await;
    let call = user.expect("call:ringing").await["callId"].clone();
    telecaller.expect("call:incoming").await;
    assert_eq!(user.expect("call:missed").await["callId"], call);
    assert_eq!(telecaller.expect("call:missed").await["callId"], call);
    let history = stage.app.get_auth("/users/calls", &stage.user.token).await;
    assert_eq!(history.body["data"]["calls"][0]["endReason"], json!("RING_TIMEOUT"));
}

#[tokio::test]
async fn the_call_ends_when_the_money_runs_out_after_one_balance_warning() {
    // 130 coins at 2 coins/s pay 65 seconds.
    let stage = stage(&[], 130).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    let call = stage.accepted_call(&mut user, &mut telecaller).await;
    // 63 seconds in: the deadline is 2 seconds away.
    testing::age_call(&stage.app.db, call.parse::<CallId>().unwrap(), 63).await.unwrap();
    let mut warnings = Vec::new();
    let ended = loop {
        let frame = user.next().await;
        match frame["event"].as_str() {
            Some("call:balance-low") => warnings.push(frame["data"].clone()),
            Some("call:ended") => break frame["data"].clone(),
            _ => {}
        }
    };
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0]["secondsLeft"].as_i64().unwrap() <= 60);
    assert_eq!(ended["reason"], json!("BALANCE_EXHAUSTED"));
    assert_eq!(ended["durationInSeconds"], json!(65));
    assert_eq!((ended["coinsSpent"].clone(), ended["balance"].clone()), (json!(130), json!(0)));
    assert_eq!(telecaller.expect("call:ended").await["coinsEarned"], json!(65));
    stage.room_closed(&call).await;
    stage.app.assert_books_balance().await;
}

#[tokio::test]
async fn a_recharge_during_a_call_extends_it() {
    let stage = stage(&[], 200).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    let call = stage.accepted_call(&mut user, &mut telecaller).await;
    // A recharge lands through the sandbox gateway.
    let plan = talktime_repository::plans::create(
        stage.app.db.pool(),
        &talktime_repository::plans::NewPlan {
            amount_paise: 4900,
            coins: 100,
            discount_hundredths: 0,
            is_active: true,
        },
    )
    .await
    .unwrap();
    let order = stage
        .app
        .post_auth("/payment/create-order", &stage.user.token, &json!({ "planId": plan.id.to_string() }))
        .await;
    let order_id = order.body["data"]["orderId"].as_str().unwrap();
    let paid = stage.app.post_auth("/payment/sandbox/pay", &stage.user.token, &json!({ "orderId": order_id })).await;
    stage.app.post_auth("/payment/verify", &stage.user.token, &paid.body["data"]).await.assert(200);
    let extended = user.expect("call:extended").await;
    assert_eq!(
        (extended["callId"].as_str(), extended["maxDurationSeconds"].clone()),
        (Some(call.as_str()), json!(150))
    );
    assert_eq!(telecaller.expect("call:extended").await["maxDurationSeconds"], json!(150));
}

#[tokio::test]
async fn a_short_disconnect_resumes_the_call_and_a_long_one_ends_it() {
    let stage = stage(&[("RECONNECT_GRACE_SECS", "1")], 1_000).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    let call = stage.accepted_call(&mut user, &mut telecaller).await;
    let call_id: CallId = call.parse().unwrap();

    user.close().await;
    let (mut user, ready) = Ws::connect(&stage.app, "/ws/user", &stage.user.token).await;
    let active = &ready["activeCall"];
    assert_eq!(active["callId"], json!(call));
    assert_eq!(active["status"], json!("ACCEPTED"));
    assert_eq!(active["peer"]["_id"], json!(stage.telecaller.id));
    assert!(active["livekit"]["token"].is_string(), "a fresh LiveKit token to rejoin");
    let stored = talktime_repository::calls::find(stage.app.db.pool(), call_id).await.unwrap().unwrap();
    assert_eq!(stored.user_grace_deadline, None, "the reconnect cancelled the grace");

    telecaller.close().await;
    let ended = user.expect("call:ended").await;
    assert_eq!(ended["reason"], json!("TELECALLER_DISCONNECTED"));
    stage.room_closed(&call).await;
    stage.app.assert_books_balance().await;
}

#[tokio::test]
async fn calls_that_cannot_happen_are_refused_with_call_error() {
    let stage = stage(&[], 100).await;
    let (mut user, _) = Ws::connect(&stage.app, "/ws/user", &stage.user.token).await;
    let offline = stage.app.telecaller(true).await;
    user.send("call:initiate", json!({ "telecallerId": offline.id, "callType": "AUDIO" })).await;
    assert_eq!(user.expect("call:error").await["code"], json!("telecaller_offline"));

    let (mut telecaller, _) = Ws::connect(&stage.app, "/ws/telecaller", &stage.telecaller.token).await;
    user.send("call:initiate", json!({ "telecallerId": stage.telecaller.id, "callType": "AUDIO" })).await;
    assert_eq!(user.expect("call:error").await["code"], json!("insufficient_balance"), "100 coins < 2 × 60");

    // A rich caller rings her; a second caller finds her busy.
    let first = stage.app.user().await;
    stage.app.grant_coins(&first.id, 1_000).await;
    let (mut first_ws, _) = Ws::connect(&stage.app, "/ws/user", &first.token).await;
    first_ws.send("call:initiate", json!({ "telecallerId": stage.telecaller.id, "callType": "AUDIO" })).await;
    let call = first_ws.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    let second = stage.app.user().await;
    stage.app.grant_coins(&second.id, 1_000).await;
    let (mut second_ws, _) = Ws::connect(&stage.app, "/ws/user", &second.token).await;
    second_ws.send("call:initiate", json!({ "telecallerId": stage.telecaller.id, "callType": "AUDIO" })).await;
    assert_eq!(second_ws.expect("call:error").await["code"], json!("telecaller_busy"), "ringing counts as busy");

    telecaller.expect("call:incoming").await;
    telecaller.send("call:accept", json!({ "callId": call })).await;
    telecaller.expect("call:accepted").await;
    second_ws.send("call:initiate", json!({ "telecallerId": stage.telecaller.id, "callType": "AUDIO" })).await;
    assert_eq!(second_ws.expect("call:error").await["code"], json!("telecaller_busy"));

    // The caller in a call cannot start another.
    let other = stage.app.telecaller(true).await;
    let (_other_ws, _) = Ws::connect(&stage.app, "/ws/telecaller", &other.token).await;
    first_ws.send("call:initiate", json!({ "telecallerId": other.id, "callType": "AUDIO" })).await;
    assert_eq!(first_ws.expect("call:error").await["code"], json!("already_in_call"));
    first_ws.send("call:end", json!({ "callId": call })).await;
    first_ws.expect("call:ended").await;
    stage.app.assert_books_balance().await;
}

#[tokio::test]
async fn livekit_tokens_carry_identity_room_expiry_and_grants() {
    let stage = stage(&[], 1_000).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    user.send("call:initiate", json!({ "telecallerId": stage.telecaller.id, "callType": "AUDIO" })).await;
    let call = user.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    telecaller.expect("call:incoming").await;
    telecaller.send("call:accept", json!({ "callId": call })).await;
    let theirs = telecaller.expect("call:accepted").await;
    let mine = user.expect("call:accepted").await;

    let user_claims = claims(mine["livekit"]["token"].as_str().unwrap());
    assert_eq!(user_claims["sub"], json!(stage.user.id));
    assert_eq!(user_claims["iss"], json!("devkey"));
    assert_eq!(user_claims["name"], json!("Ravi Kumar"));
    let video = &user_claims["video"];
    assert_eq!(video["room"], json!(call));
    assert_eq!(video["roomJoin"], json!(true));
    assert_eq!(video["canSubscribe"], json!(true));
    assert_eq!(video["canPublishData"], json!(true));
    assert_eq!(video["canPublishSources"], json!(["microphone"]), "an audio call cannot publish the camera");
    let ttl = user_claims["exp"].as_i64().unwrap() - chrono::Utc::now().timestamp();
    assert!((50..=60).contains(&ttl), "a join window of a minute: ttl {ttl}");
    assert_ne!(video["roomCreate"], json!(true), "tokens cannot create rooms");
    let telecaller_claims = claims(theirs["livekit"]["token"].as_str().unwrap());
    assert_eq!(telecaller_claims["sub"], json!(stage.telecaller.id));
    assert_eq!(telecaller_claims["video"]["room"], json!(call));
    user.send("call:end", json!({ "callId": call })).await;
    user.expect("call:ended").await;

    // A video call may publish the camera.
    user.send("call:initiate", json!({ "telecallerId": stage.telecaller.id, "callType": "VIDEO" })).await;
    let video_call = user.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    telecaller.expect("call:incoming").await;
    telecaller.send("call:accept", json!({ "callId": video_call })).await;
    let token = user.expect("call:accepted").await["livekit"]["token"].as_str().unwrap().to_owned();
    assert_eq!(claims(&token)["video"]["canPublishSources"], json!(["microphone", "camera"]));
}

#[tokio::test]
async fn malformed_frames_get_error_events_and_never_close_the_connection() {
    let stage = stage(&[], 1_000).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    let cases = [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_message"),
        (r#"{"data": {}}"#, "invalid_message"),
        (r#"{"event": 5}"#, "invalid_message"),
        (r#"{"event": "call:fly", "data": {}}"#, "unknown_event"),
        (r#"{"event": "call:accept", "data": {"callId": "x"}}"#, "unknown_event"),
        (r#"{"event": "call:initiate", "data": null}"#, "invalid_data"),
        (r#"{"event": "call:initiate", "data": {"telecallerId": 7, "callType": "AUDIO"}}"#, "invalid_data"),
        (r#"{"event": "call:initiate", "data": {"telecallerId": "not-a-uuid", "callType": "AUDIO"}}"#, "invalid_data"),
        (r#"{"event": "call:cancel", "data": {"callId": null}}"#, "invalid_data"),
    ];
    for (frame, code) in cases {
        user.send_raw(frame).await;
        let error = user.expect("error").await;
        assert_eq!(error["code"], json!(code), "{frame}");
    }
    user.send_with_ref("call:cancel", json!({ "callId": uuid::Uuid::now_v7() }), "x9").await;
    let unknown_call = user.expect_frame("call:error").await;
    assert_eq!(
        (unknown_call["ref"].clone(), unknown_call["data"]["code"].clone()),
        (json!("x9"), json!("call_not_found"))
    );
    assert!(user.alive().await);

    // An oversized frame closes that connection only (1009).
    let (mut big, _) = Ws::connect(&stage.app, "/ws/user", &stage.user.token).await;
    big.send_raw(&format!(r#"{{"event": "ping", "data": "{}"}}"#, "x".repeat(20 * 1024))).await;
    assert_eq!(big.closed().await, Some(1009));
    assert!(user.alive().await);
    assert!(telecaller.alive().await);
    stage.app.get("/health").await.assert(200);
}

#[tokio::test]
async fn watchers_get_coalesced_presence_of_the_telecallers_they_watch_only() {
    // No flush tick of its own during the test: the test flushes when it wants a frame.
    let stage = stage(&[("PRESENCE_FLUSH_MS", "3600000")], 1_000).await;
    let other = stage.app.telecaller(true).await;
    let (mut watcher, ready) = Ws::connect(&stage.app, "/ws/user", &stage.user.token).await;
    assert_eq!(ready["onlineTelecallers"], json!(0));
    watcher.watch(&[&stage.telecaller.id]).await;
    let bystander = stage.app.user().await;
    let (mut idle, _) = Ws::connect(&stage.app, "/ws/user", &bystander.token).await;

    // ONLINE → ON_CALL → ONLINE, and an unwatched telecaller coming online, all in one interval.
    let (mut caller, mut telecaller) = stage.sockets().await;
    let (unwatched, _) = Ws::connect(&stage.app, "/ws/telecaller", &other.token).await;
    let call = stage.accepted_call(&mut caller, &mut telecaller).await;
    caller.send("call:end", json!({ "callId": call })).await;
    caller.expect("call:ended").await;
    stage.app.controller().flush_presence().await;

    let update = watcher.expect("presence:update").await;
    let changes = update["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "only the watched telecaller, once: {update}");
    assert_eq!(changes[0]["telecallerId"], json!(stage.telecaller.id));
    assert_eq!(changes[0]["presence"], json!("ONLINE"), "the last state");
    assert_eq!(changes[0]["telecaller"]["_id"], json!(stage.telecaller.id), "her card, as she came ONLINE");
    assert_eq!(changes[0]["telecaller"]["about"], json!(crate::support::ABOUT));
    assert_eq!(update["onlineTelecallers"], json!(2));
    // A connection that watches nobody gets the count only.
    assert_eq!(idle.expect("presence:update").await, json!({ "changes": [], "onlineTelecallers": 2 }));
    // One frame per flush: the next frame on the watcher is the answer to this ping.
    watcher.send("ping", json!({})).await;
    assert_eq!(watcher.next_any().await["event"], json!("pong"));

    // Nothing changed since: a flush sends nothing.
    stage.app.controller().flush_presence().await;
    idle.send("ping", json!({})).await;
    assert_eq!(idle.next_any().await["event"], json!("pong"));

    // Going offline is a change (with no card); the unwatched one leaving is not sent to her.
    telecaller.close().await;
    unwatched.close().await;
    watcher.watch(&[&stage.telecaller.id, &other.id]).await;
    stage.app.controller().flush_presence().await;
    let update = watcher.expect("presence:update").await;
    assert_eq!(
        update,
        json!({ "changes": [{ "telecallerId": stage.telecaller.id, "presence": "OFFLINE", "telecaller": null }],
                "onlineTelecallers": 0 })
    );
    stage.app.assert_books_balance().await;
}

#[tokio::test]
async fn a_bad_watch_set_gets_an_error_and_the_connection_stays() {
    let stage = stage(&[], 1_000).await;
    let (mut user, _) = Ws::connect(&stage.app, "/ws/user", &stage.user.token).await;
    let too_many: Vec<String> = (0..101).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let cases = [
        json!({ "telecallerIds": too_many }),
        json!({ "telecallerIds": ["not-a-uuid"] }),
        json!({ "telecallerIds": "0193" }),
        json!({ "ids": [] }),
        json!(null),
    ];
    for data in cases {
        user.send_with_ref("presence:watch", data.clone(), "w").await;
        let error = user.expect_frame("error").await;
        assert_eq!(
            (error["data"]["code"].clone(), error["ref"].clone()),
            (json!("invalid_data"), json!("w")),
            "{data}"
        );
    }
    // A hundred is fine, and so is clearing the set.
    let hundred: Vec<String> = (0..100).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    user.send("presence:watch", json!({ "telecallerIds": hundred })).await;
    user.send("presence:watch", json!({ "telecallerIds": [] })).await;
    assert!(user.alive().await);
    // Telecallers have nothing to watch.
    let (mut telecaller, _) = Ws::connect(&stage.app, "/ws/telecaller", &stage.telecaller.token).await;
    telecaller.send("presence:watch", json!({ "telecallerIds": [] })).await;
    assert_eq!(telecaller.expect("error").await["code"], json!("unknown_event"));
}

#[tokio::test]
async fn handshakes_are_checked_before_the_upgrade() {
    let stage = stage(&[], 1_000).await;
    let (status, body) = refused(&stage.app, "/ws/user", None).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("missing_token")));
    let (status, _) = refused(&stage.app, "/ws/user", Some("garbage")).await;
    assert_eq!(status, 401);
    let (status, body) = refused(&stage.app, "/ws/telecaller", Some(&stage.user.token)).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden_role")));
    let pending = stage.app.telecaller(false).await;
    let (status, body) = refused(&stage.app, "/ws/telecaller", Some(&pending.token)).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("telecaller_not_approved")));
    let (status, _) = refused(&stage.app, "/ws/admin", Some(&stage.user.token)).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn logout_closes_the_accounts_sockets_with_4003() {
    let stage = stage(&[], 1_000).await;
    let (mut first, _) = Ws::connect(&stage.app, "/ws/user", &stage.user.token).await;
    let (mut second, _) = Ws::connect(&stage.app, "/ws/user", &stage.user.token).await;
    let (mut telecaller, _) = Ws::connect(&stage.app, "/ws/telecaller", &stage.telecaller.token).await;
    stage.app.post_auth("/auth/logout", &stage.user.token, &json!({})).await.assert(200);
    assert_eq!(first.closed().await, Some(4003));
    assert_eq!(second.closed().await, Some(4003));
    assert!(telecaller.alive().await, "other accounts stay connected");
}

#[tokio::test]
async fn call_actions_are_rate_limited() {
    let stage = stage(&[], 1_000).await;
    let (mut user, _) = Ws::connect(&stage.app, "/ws/user", &stage.user.token).await;
    let offline = stage.app.telecaller(true).await;
    for _ in 0..5 {
        user.send("call:initiate", json!({ "telecallerId": offline.id, "callType": "AUDIO" })).await;
        assert_eq!(user.expect("call:error").await["code"], json!("telecaller_offline"));
    }
    user.send("call:initiate", json!({ "telecallerId": offline.id, "callType": "AUDIO" })).await;
    let limited = user.expect("error").await;
    assert_eq!(limited["code"], json!("rate_limited"));
    assert!(limited["retryAfter"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn admins_count_distinct_accounts_and_live_calls() {
    let stage = stage(&[], 1_000).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    let (_second_tab, _) = Ws::connect(&stage.app, "/ws/user", &stage.user.token).await;
    let admin = stage.app.admin_token().await;
    let (mut admin_ws, _) = Ws::connect(&stage.app, "/ws/admin", &admin).await;
    stage.accepted_call(&mut user, &mut telecaller).await;
    admin_ws.expect("call:started").await;
    admin_ws.send("presence:request-counts", json!({})).await;
    let counts = admin_ws.expect("presence:counts").await;
    assert_eq!(counts["onlineUsers"], json!(1), "two tabs, one account");
    assert_eq!(counts["onlineTelecallers"], json!(1));
    assert_eq!(counts["activeCalls"], json!(1));
    assert!(counts["timestamp"].is_string());
}

/// The ending events (`call:ended` / `call:cancelled`) this connection got for `call`: reads up to
/// the first, then on to the `pong` of a `ping` sent after it, so a duplicate would be seen.
async fn endings(ws: &mut Ws, call: &str) -> Vec<String> {
    let is_ending = |frame: &Value| {
        frame["data"]["callId"] == json!(call)
            && matches!(frame["event"].as_str(), Some("call:ended" | "call:cancelled"))
    };
    let mut seen = Vec::new();
    loop {
        let frame = ws.next().await;
        if is_ending(&frame) {
            seen.push(frame["event"].as_str().unwrap_or_default().to_owned());
            break;
        }
    }
    ws.send("ping", json!({})).await;
    loop {
        let frame = ws.next().await;
        if frame["event"] == "pong" {
            return seen;
        }
        if is_ending(&frame) {
            seen.push(frame["event"].as_str().unwrap_or_default().to_owned());
        }
    }
}

#[tokio::test]
async fn racing_accept_cancel_end_and_disconnect_end_each_call_exactly_once() {
    let stage = stage(&[], 1_000).await;
    for round in 0..100 {
        let user = stage.app.user().await;
        let telecaller = stage.app.telecaller(true).await;
        stage.app.grant_coins(&user.id, 1_000).await;
        let (mut u1, _) = Ws::connect(&stage.app, "/ws/user", &user.token).await;
        let (mut u2, _) = Ws::connect(&stage.app, "/ws/user", &user.token).await;
        let (mut t1, _) = Ws::connect(&stage.app, "/ws/telecaller", &telecaller.token).await;
        let (mut t2, _) = Ws::connect(&stage.app, "/ws/telecaller", &telecaller.token).await;
        // A third telecaller connection that drops in the middle of it all.
        let (t3, _) = Ws::connect(&stage.app, "/ws/telecaller", &telecaller.token).await;
        u1.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
        let call = u1.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
        t1.expect("call:incoming").await;
        t2.expect("call:incoming").await;
        u2.expect("call:ringing").await;

        let id = json!({ "callId": call });
        tokio::join!(
            t1.send("call:accept", id.clone()),
            async {
                t2.send("call:accept", id.clone()).await;
                t2.send("call:end", id.clone()).await;
            },
            u1.send("call:cancel", id.clone()),
            u2.send("call:end", id.clone()),
            t3.close(),
        );
        // Whatever won, make sure the call is over, then check each side saw one ending.
        tokio::join!(u1.send("call:end", id.clone()), t1.send("call:end", id.clone()));
        for ws in [&mut u1, &mut u2, &mut t1, &mut t2] {
            let seen = endings(ws, &call).await;
            assert_eq!(seen.len(), 1, "round {round}: one ending per connection, got {seen:?}");
        }
        let ended =
            talktime_repository::calls::find(stage.app.db.pool(), call.parse().unwrap()).await.unwrap().unwrap();
        assert!(!ended.status.is_active(), "round {round}: the call is over");
        let posted = ledger::is_posted(stage.app.db.pool(), ledger::Cause::Call, ended.id.0).await.unwrap();
        if ended.accepted_at.is_some() {
            stage.room_closed(&call).await;
            assert_eq!(stage.room_requests("DeleteRoom", &call), 1, "round {round}: one DeleteRoom");
        } else {
            assert!(!posted);
        }
        for ws in [u1, u2, t1, t2] {
            ws.close().await;
        }
    }
    stage.app.assert_books_balance().await;
}

#[tokio::test]
async fn a_restarted_server_still_ends_and_settles_a_call_at_its_deadline() {
    let stage = stage(&[], 130).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    let call = stage.accepted_call(&mut user, &mut telecaller).await;
    let call_id: CallId = call.parse().unwrap();
    // The node dies; a new one starts on the same database.
    stage.app.controller().kill().await;
    testing::age_call(&stage.app.db, call_id, 64).await.unwrap();
    let rooms = &stage.rooms;
    let restarted =
        spawn_app_on(stage.app.database(), &[("LIVEKIT_API_URL", rooms.base.as_str()), ("SWEEP_INTERVAL_MS", "100")])
            .await;
    let settled = eventually("the new node ending the call", async || {
        let current = talktime_repository::calls::find(restarted.db.pool(), call_id).await.unwrap().unwrap();
        (!current.status.is_active()).then_some(current)
    })
    .await;
    assert_eq!(settled.end_reason, Some(talktime_domain::call::EndReason::BalanceExhausted));
    assert_eq!((settled.duration_seconds, settled.coins_spent), (Some(65), Some(130)));
    assert_eq!(restarted.balance(&stage.user.id).await, 0);
    assert_eq!(restarted.balance(&stage.telecaller.id).await, 65);
    assert!(ledger::is_posted(restarted.db.pool(), ledger::Cause::Call, call_id.0).await.unwrap());
    stage.room_closed(&call).await;
    restarted.assert_books_balance().await;
}

#[tokio::test]
async fn feedback_and_reports() {
    let stage = stage(&[], 1_000).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    let call = stage.accepted_call(&mut user, &mut telecaller).await;
    let feedback = format!("/calls/{call}/feedback");
    let report = format!("/calls/{call}/report");
    stage
        .app
        .post_auth(&feedback, &stage.user.token, &json!({ "rating": 5 }))
        .await
        .assert_error(400, "call_not_completed");
    user.send("call:end", json!({ "callId": call })).await;
    user.expect("call:ended").await;

    stage
        .app
        .post_auth(&feedback, &stage.user.token, &json!({ "rating": 6 }))
        .await
        .assert_error(400, "validation_error");
    stage
        .app
        .post_auth(&feedback, &stage.user.token, &json!({ "rating": 5, "comment": "Lovely chat" }))
        .await
        .assert(200);
    stage
        .app
        .post_auth(&feedback, &stage.user.token, &json!({ "rating": 4 }))
        .await
        .assert_error(409, "feedback_already_given");
    stage.app.post_auth(&feedback, &stage.telecaller.token, &json!({ "comment": "Polite caller" })).await.assert(200);
    let stranger = stage.app.user().await;
    stage.app.post_auth(&feedback, &stranger.token, &json!({ "rating": 3 })).await.assert_error(404, "call_not_found");

    stage
        .app
        .post_auth(&report, &stage.user.token, &json!({ "description": "short" }))
        .await
        .assert_error(400, "validation_error");
    let reported =
        stage.app.post_auth(&report, &stage.telecaller.token, &json!({ "description": "Used abusive language" })).await;
    reported.assert(200);
    assert!(reported.body["data"]["reportId"].is_string());
    stage
        .app
        .post_auth(&report, &stage.telecaller.token, &json!({ "description": "Used abusive language again" }))
        .await
        .assert_error(409, "already_reported");
    stage
        .app
        .post_auth(&report, &stranger.token, &json!({ "description": "I was not even there" }))
        .await
        .assert_error(404, "call_not_found");
}

#[tokio::test]
async fn a_failed_delete_room_is_retried_until_it_succeeds() {
    let stage = stage(&[("ROOM_RETRY_MS", "200")], 1_000).await;
    stage.rooms.route("POST", &format!("{ROOMS}/DeleteRoom"), 503, r#"{"code":"unavailable","msg":"try later"}"#);
    let (mut user, mut telecaller) = stage.sockets().await;
    let call = stage.accepted_call(&mut user, &mut telecaller).await;
    user.send("call:end", json!({ "callId": call })).await;
    user.expect("call:ended").await;
    stage.room_closed(&call).await;
    // LiveKit comes back: the sweeper's retry closes the room and records it.
    stage.rooms.route("POST", &format!("{ROOMS}/DeleteRoom"), 200, "");
    let id: CallId = call.parse().unwrap();
    eventually("DeleteRoom retried and the room recorded as closed", async || {
        let attempts = stage.room_requests("DeleteRoom", &call);
        let recorded = talktime_repository::testing::room_closed(&stage.app.db, id).await.unwrap();
        (attempts >= 2 && recorded).then_some(())
    })
    .await;
    // Once closed, nobody asks again.
    let attempts = stage.room_requests("DeleteRoom", &call);
    stage.app.controller().sweep().await.unwrap();
    assert_eq!(stage.room_requests("DeleteRoom", &call), attempts);
}

/// Nobody keeps a telecaller ringing: three unanswered calls from one user to her within ten
/// minutes, then `too_many_rings` (others, and calls to others, go on).
#[tokio::test]
async fn three_unanswered_rings_to_one_telecaller_then_too_many_rings() {
    let app = crate::support::spawn_app().await;
    let user = app.user().await;
    app.grant_coins(&user.id, 1_000).await;
    let (her, other) = (app.telecaller(true).await, app.telecaller(true).await);
    let (mut t, _) = Ws::connect(&app, "/ws/telecaller", &her.token).await;
    let (_o, _) = Ws::connect(&app, "/ws/telecaller", &other.token).await;
    let (mut u, _) = Ws::connect(&app, "/ws/user", &user.token).await;
    for _ in 0..3 {
        u.send("call:initiate", json!({ "telecallerId": her.id, "callType": "AUDIO" })).await;
        let call = u.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
        t.expect("call:incoming").await;
        u.send("call:cancel", json!({ "callId": call })).await;
        u.expect("call:cancelled").await;
        t.expect("call:cancelled").await;
    }
    u.send("call:initiate", json!({ "telecallerId": her.id, "callType": "AUDIO" })).await;
    assert_eq!(u.expect("call:error").await["code"], json!("too_many_rings"));
    // Another telecaller can still be called, and another user can still call her.
    u.send("call:initiate", json!({ "telecallerId": other.id, "callType": "AUDIO" })).await;
    u.expect("call:ringing").await;
    let second = app.user().await;
    app.grant_coins(&second.id, 1_000).await;
    let (mut s, _) = Ws::connect(&app, "/ws/user", &second.token).await;
    s.send("call:initiate", json!({ "telecallerId": her.id, "callType": "AUDIO" })).await;
    s.expect("call:ringing").await;
    app.assert_books_balance().await;
}

/// Her phone is rung through a push at most PUSH_RINGS_PER_HOUR times an hour.
#[tokio::test]
async fn push_rings_per_telecaller_are_limited_per_hour() {
    let app = crate::support::spawn_app_with(&[("PUSH_RINGS_PER_HOUR", "1")]).await;
    let telecaller = app.telecaller(true).await;
    app.post_auth("/users/devices", &telecaller.token, &json!({ "token": "her-phone", "platform": "android" }))
        .await
        .assert(200);
    app.put_auth("/telecaller/availability", &telecaller.token, &json!({ "reachableByPush": true })).await.assert(200);
    let (first, second) = (app.user().await, app.user().await);
    for user in [&first, &second] {
        app.grant_coins(&user.id, 1_000).await;
    }
    let (mut a, _) = Ws::connect(&app, "/ws/user", &first.token).await;
    a.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
    let call = a.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    a.send("call:cancel", json!({ "callId": call })).await;
    a.expect("call:cancelled").await;
    let (mut b, _) = Ws::connect(&app, "/ws/user", &second.token).await;
    b.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
    assert_eq!(b.expect("call:error").await["code"], json!("too_many_rings"));
    // Connected, she is rung on her socket as usual.
    let (mut t, _) = Ws::connect(&app, "/ws/telecaller", &telecaller.token).await;
    b.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
    b.expect("call:ringing").await;
    t.expect("call:incoming").await;
    app.assert_books_balance().await;
}

/// Service entry points carry spans with the ids they act on, so one call can be followed
/// through a node's log (here by the statements run inside its spans).
#[tokio::test]
async fn a_call_can_be_followed_through_the_log_by_its_id() {
    let database = talktime_repository::testing::TestDatabase::new().await.unwrap();
    let node = crate::support::spawn_node(database, &[("RUST_LOG", "info,sqlx=debug")]).await;
    let (user, telecaller) = (node.user().await, node.telecaller(true).await);
    let live = node.live_call(&user, &telecaller, None).await;
    let call = live.id.clone();
    live.end().await;
    let log_path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("node-{}.log", node.port));
    let log = std::fs::read_to_string(log_path).unwrap();
    for span in [format!("accept{{call={call}"), format!("end{{call={call}")] {
        assert!(log.contains(&span), "no line inside `{span}` in the node's log");
    }
    assert!(log.contains(&format!("initiate{{user={}", user.id)), "no line inside the initiate span");
}
