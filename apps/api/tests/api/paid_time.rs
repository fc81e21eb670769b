//! Paid time only: the room made at accept, LiveKit's signed webhooks (joins that are not
//! theirs removed; the meter from the second join; SETUP_FAILED when the media never connects;
//! a party leaving the room starts the grace), refunds, failures after the accept's commit,
//! sockets that stop reading, stale sessions, and timers that go away with their calls.
//!
//! Long on purpose: these are the edges of billing, read together because each guards the
//! others' assumptions about when the meter starts and stops.

use crate::support::stage::{ROOMS, Stage, stage};
use crate::support::ws::Ws;
use crate::support::{Reply, eventually, fresh_ip};
use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};
use talktime_domain::ids::CallId;
use talktime_repository::ledger::{self, LedgerAccount};
use talktime_repository::testing;

impl Stage {
    /// LiveKit's webhook for `event` about `identity` in `room`, signed as LiveKit signs it
    /// (the dev key pair the test server runs with).
    async fn webhook(&self, event: &str, room: &str, identity: &str) -> Reply {
        let id = format!("EV_{}", uuid::Uuid::now_v7().simple());
        self.webhook_as(&id, chrono::Utc::now().timestamp(), event, room, identity).await
    }

    /// The webhook with LiveKit's event `id`, created at `created_at` (Unix seconds).
    async fn webhook_as(&self, id: &str, created_at: i64, event: &str, room: &str, identity: &str) -> Reply {
        let body = json!({
            "event": event, "id": id, "createdAt": created_at.to_string(),
            "room": { "sid": "RM_test", "name": room },
            "participant": { "sid": "PA_test", "identity": identity, "joinedAt": created_at.to_string() },
        })
        .to_string();
        self.post_webhook(&body, &sign(&body, "secret")).await
    }

    async fn post_webhook(&self, body: &str, authorization: &str) -> Reply {
        let request = self
            .app
            .client
            .post(self.app.url("/webhooks/livekit"))
            .header("authorization", authorization)
            .header("content-type", "application/webhook+json")
            .header("x-forwarded-for", fresh_ip())
            .body(body.to_owned());
        Reply::read(request.send().await.unwrap()).await
    }
}

/// A LiveKit webhook signature: a JWT from the API key, signed with the secret, whose `sha256`
/// claim is the body's hash.
fn sign(body: &str, secret: &str) -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body.as_bytes()));
    let now = chrono::Utc::now().timestamp();
    let claims = json!({ "iss": "devkey", "sha256": hash, "nbf": now - 5, "exp": now + 300 });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn the_room_is_made_at_accept_and_joins_that_are_not_theirs_are_thrown_out() {
    let stage = stage(&[], 1_000).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    let call = stage.accepted_call(&mut user, &mut telecaller).await;
    assert_eq!(stage.room_requests("CreateRoom", &call), 1, "the room is created explicitly");

    // A stranger in a live call's room: out, and the room with them.
    let stranger = uuid::Uuid::now_v7().to_string();
    stage.webhook("participant_joined", &call, &stranger).await.assert(200);
    assert_eq!(stage.room_requests("RemoveParticipant", &stranger), 1);

    // The call ends; a party joining its room afterwards (a token minted during the call) is
    // taken out and the room deleted again.
    user.send("call:end", json!({ "callId": call })).await;
    user.expect("call:ended").await;
    let deletes = stage.room_requests("DeleteRoom", &call);
    stage.webhook("participant_joined", &call, &stage.user.id).await.assert(200);
    let removed = stage.rooms.requests().iter().any(|r| {
        r.path == format!("{ROOMS}/RemoveParticipant") && r.body.contains(&call) && r.body.contains(&stage.user.id)
    });
    assert!(removed, "the late joiner was removed");
    eventually("the room deleted again", async || (stage.room_requests("DeleteRoom", &call) > deletes).then_some(()))
        .await;

    // Unsigned or forged webhooks change nothing.
    let body = json!({ "event": "participant_joined", "room": { "name": call } }).to_string();
    stage.post_webhook(&body, "not-a-jwt").await.assert_error(401, "invalid_signature");
    stage.post_webhook(&body, &sign(&body, "wrong-secret")).await.assert_error(401, "invalid_signature");
    stage.post_webhook(&body, &sign("another body", "secret")).await.assert_error(401, "invalid_signature");
    // Events that are not about joins are acknowledged.
    stage.webhook("room_started", &call, "").await.assert(200);
    stage.app.assert_books_balance().await;
}

#[tokio::test]
async fn with_webhooks_the_meter_starts_when_both_parties_are_in_the_room() {
    let stage = stage(&[("LIVEKIT_WEBHOOK_ENABLED", "true"), ("MEDIA_CONNECT_TIMEOUT_SECS", "120")], 1_000).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    let call = stage.accepted_call(&mut user, &mut telecaller).await;
    let call_id: CallId = call.parse().unwrap();
    // Thirty seconds pass between the accept and the media connecting: not billed.
    testing::age_call(&stage.app.db, call_id, 30).await.unwrap();
    stage.webhook("participant_joined", &call, &stage.user.id).await.assert(200);
    user.send("ping", json!({})).await;
    assert_eq!(user.next().await["event"], json!("pong"), "one join connects nothing");
    stage.webhook("participant_joined", &call, &stage.telecaller.id).await.assert(200);
    let connected = user.expect("call:connected").await;
    assert_eq!(connected["callId"], json!(call));
    assert_eq!(connected["maxDurationSeconds"], json!(500));
    assert!(connected["connectedAt"].is_string());
    assert_eq!(telecaller.expect("call:connected").await["callId"], json!(call));
    // A second join (a reconnect) moves nothing.
    stage.webhook("participant_joined", &call, &stage.user.id).await.assert(200);

    testing::age_call(&stage.app.db, call_id, 10).await.unwrap();
    user.send("call:end", json!({ "callId": call })).await;
    let ended = user.expect("call:ended").await;
    assert_eq!((ended["durationInSeconds"].clone(), ended["coinsSpent"].clone()), (json!(10), json!(20)));
    assert_eq!(stage.app.balance(&stage.user.id).await, 980);
    stage.app.assert_books_balance().await;
}

#[tokio::test]
async fn a_call_whose_media_never_connects_ends_setup_failed_at_no_charge() {
    let stage = stage(&[("LIVEKIT_WEBHOOK_ENABLED", "true"), ("MEDIA_CONNECT_TIMEOUT_SECS", "1")], 1_000).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    let call = stage.accepted_call(&mut user, &mut telecaller).await;
    // Only one party ever joins; LiveKit, asked, has nobody in the room.
    stage.webhook("participant_joined", &call, &stage.user.id).await.assert(200);
    let ended = user.expect("call:ended").await;
    assert_eq!(ended["reason"], json!("SETUP_FAILED"));
    assert_eq!((ended["durationInSeconds"].clone(), ended["coinsSpent"].clone()), (json!(0), json!(0)));
    assert_eq!(telecaller.expect("call:ended").await["coinsEarned"], json!(0));
    assert_eq!(stage.room_requests("ListParticipants", &call), 1, "LiveKit was asked before giving up");
    assert_eq!(stage.app.balance(&stage.user.id).await, 1_000);
    assert!(!ledger::is_posted(stage.app.db.pool(), ledger::Cause::Call, call.parse().unwrap()).await.unwrap());
    stage.app.assert_books_balance().await;
}

#[tokio::test]
async fn leaving_the_room_starts_the_grace_and_coming_back_ends_it() {
    let stage = stage(&[("LIVEKIT_WEBHOOK_ENABLED", "true"), ("RECONNECT_GRACE_SECS", "1")], 1_000).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    let call = stage.accepted_call(&mut user, &mut telecaller).await;
    for party in [&stage.user.id, &stage.telecaller.id] {
        stage.webhook("participant_joined", &call, party).await.assert(200);
    }
    user.expect("call:connected").await;
    // She drops out of the room and comes back: the call goes on.
    stage.webhook("participant_left", &call, &stage.telecaller.id).await.assert(200);
    let grace = talktime_repository::calls::find(stage.app.db.pool(), call.parse().unwrap()).await.unwrap().unwrap();
    assert!(grace.telecaller_media_grace_deadline.is_some());
    assert_eq!(grace.telecaller_grace_deadline, None, "her socket is still there");
    stage.webhook("participant_joined", &call, &stage.telecaller.id).await.assert(200);
    let back = talktime_repository::calls::find(stage.app.db.pool(), call.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(back.telecaller_media_grace_deadline, None);
    // She leaves for good: the grace ends the call, though both sockets stay.
    stage.webhook("participant_left", &call, &stage.telecaller.id).await.assert(200);
    let ended = user.expect("call:ended").await;
    assert_eq!(ended["reason"], json!("TELECALLER_DISCONNECTED"));
    stage.app.assert_books_balance().await;
}

/// Out of the room, reconnecting her socket over and over does not keep the call (and the
/// user's meter) running: only a rejoin ends the media grace, and the call is billed to the
/// moment she left.
#[tokio::test]
async fn a_socket_reconnect_does_not_end_the_media_grace_and_the_meter_stops_when_she_left() {
    let stage = stage(&[("LIVEKIT_WEBHOOK_ENABLED", "true"), ("RECONNECT_GRACE_SECS", "2")], 1_000).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    let call = stage.accepted_call(&mut user, &mut telecaller).await;
    for party in [&stage.user.id, &stage.telecaller.id] {
        stage.webhook("participant_joined", &call, party).await.assert(200);
    }
    user.expect("call:connected").await;
    // Ten seconds of talk, then she leaves the room.
    testing::execute_raw(
        &stage.app.db,
        "UPDATE calls SET connected_at = connected_at - interval '10 seconds', \
         billing_deadline = billing_deadline - interval '10 seconds'",
    )
    .await
    .unwrap();
    stage.webhook("participant_left", &call, &stage.telecaller.id).await.assert(200);
    // Her socket comes and goes while she stays out of the room.
    telecaller.close().await;
    let (again, ready) = Ws::connect(&stage.app, "/ws/telecaller", &stage.telecaller.token).await;
    assert_eq!(ready["activeCall"]["callId"], json!(call));
    let row = talktime_repository::calls::find(stage.app.db.pool(), call.parse().unwrap()).await.unwrap().unwrap();
    assert!(row.telecaller_media_grace_deadline.is_some(), "a socket does not end the media grace");

    let ended = user.expect("call:ended").await;
    assert_eq!(ended["reason"], json!("TELECALLER_DISCONNECTED"));
    let row = talktime_repository::calls::find(stage.app.db.pool(), call.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(row.duration_seconds, Some(10), "billed to the moment she left, not through the grace");
    assert_eq!(row.coins_spent, Some(10 * row.user_rate));
    drop(again);
    stage.app.assert_books_balance().await;
}

/// A room that belongs to no live call (LiveKit made it when someone joined with a kept token,
/// or its DeleteRoom was lost) is closed by the sweeper; the live call's room stays.
#[tokio::test]
async fn the_sweeper_closes_every_room_that_belongs_to_no_live_call() {
    let stage = stage(&[("ROOM_SWEEP_INTERVAL_MS", "50")], 1_000).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    let call = stage.accepted_call(&mut user, &mut telecaller).await;
    let over = CallId::new().to_string();
    stage.open_rooms(&[&call, &over, "lobby"]);
    stage.room_closed(&over).await;
    stage.room_closed("lobby").await;
    assert_eq!(stage.room_requests("DeleteRoom", &call), 0, "the live call's room stays open");
    // ListRooms was asked as LiveKit requires: a token of the API key with the roomList grant.
    let list = stage.rooms.requests().into_iter().find(|r| r.path.ends_with("/ListRooms")).unwrap();
    let token = list.headers["authorization"].strip_prefix("Bearer ").unwrap().to_owned();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<serde_json::Value>(
        &token,
        &jsonwebtoken::DecodingKey::from_secret(b"secret"),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!((claims["iss"].as_str(), claims["video"]["roomList"].as_bool()), (Some("devkey"), Some(true)));
    stage.app.assert_books_balance().await;
}

/// `session:ready` hands a party of an ACCEPTED call the token it minted within the last 10 s,
/// not a new one per reconnect.
#[tokio::test]
async fn session_ready_repeats_a_recent_token_instead_of_minting_one_per_reconnect() {
    let stage = stage(&[], 1_000).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    let call = stage.accepted_call(&mut user, &mut telecaller).await;
    let (first, ready) = Ws::connect(&stage.app, "/ws/user", &stage.user.token).await;
    assert_eq!(ready["activeCall"]["callId"], json!(call));
    let token = ready["activeCall"]["livekit"]["token"].as_str().unwrap().to_owned();
    // A token minted a second later would differ (its nbf and exp are in whole seconds).
    let minted = chrono::Utc::now().timestamp();
    eventually("the next second", async || (chrono::Utc::now().timestamp() > minted).then_some(())).await;
    first.close().await;
    let (_second, again) = Ws::connect(&stage.app, "/ws/user", &stage.user.token).await;
    assert_eq!(again["activeCall"]["livekit"]["token"].as_str(), Some(token.as_str()));
}

/// A webhook older than five minutes is refused (a captured one cannot be replayed), and each
/// event id is acted on once.
#[tokio::test]
async fn stale_and_redelivered_webhooks_change_nothing() {
    let stage = stage(&[("LIVEKIT_WEBHOOK_ENABLED", "true")], 1_000).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    let call = stage.accepted_call(&mut user, &mut telecaller).await;
    let now = chrono::Utc::now().timestamp();
    let stale = stage.webhook_as("EV_stale", now - 301, "participant_joined", &call, &stage.user.id).await;
    stale.assert_error(400, "stale_webhook");
    let row = talktime_repository::calls::find(stage.app.db.pool(), call.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(row.user_joined_at, None, "the stale join was not heard");

    for party in [&stage.user.id, &stage.telecaller.id] {
        stage.webhook("participant_joined", &call, party).await.assert(200);
    }
    user.expect("call:connected").await;
    // She leaves and comes back; the same `participant_left` delivered again is ignored.
    stage.webhook_as("EV_left_once", now, "participant_left", &call, &stage.telecaller.id).await.assert(200);
    stage.webhook("participant_joined", &call, &stage.telecaller.id).await.assert(200);
    stage.webhook_as("EV_left_once", now, "participant_left", &call, &stage.telecaller.id).await.assert(200);
    let row = talktime_repository::calls::find(stage.app.db.pool(), call.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(row.telecaller_media_grace_deadline, None, "a redelivery starts no grace");
    stage.app.assert_books_balance().await;
}

/// DeleteRoom counts as done by LiveKit's Twirp code `not_found`, never by the words of an
/// error: a failure whose message merely says "not found" is tried again.
#[tokio::test]
async fn delete_room_success_is_decided_by_the_error_code() {
    let stage = stage(&[("ROOM_RETRY_MS", "50")], 1_000).await;
    stage.rooms.route(
        "POST",
        &format!("{ROOMS}/DeleteRoom"),
        500,
        r#"{"code":"internal","msg":"room not_found in cache, NotFound 404"}"#,
    );
    let (mut user, mut telecaller) = stage.sockets().await;
    let call = stage.accepted_call(&mut user, &mut telecaller).await;
    user.send("call:end", json!({ "callId": call })).await;
    user.expect("call:ended").await;
    eventually("DeleteRoom tried again", async || (stage.room_requests("DeleteRoom", &call) >= 2).then_some(())).await;
    // LiveKit's own `not_found` (the room is gone): done, no more tries.
    stage.rooms.route(
        "POST",
        &format!("{ROOMS}/DeleteRoom"),
        404,
        r#"{"code":"not_found","msg":"requested room does not exist"}"#,
    );
    let id: CallId = call.parse().unwrap();
    eventually("the room marked closed", async || testing::room_closed(&stage.app.db, id).await.unwrap().then_some(()))
        .await;
    stage.app.assert_books_balance().await;
}

#[tokio::test]
async fn a_failure_after_the_accepts_commit_ends_the_call_at_no_charge() {
    let stage = stage(&[], 1_000).await;
    stage.rooms.route("POST", &format!("{ROOMS}/CreateRoom"), 500, r#"{"code":"internal","msg":"boom"}"#);
    let (mut user, mut telecaller) = stage.sockets().await;
    user.send("call:initiate", json!({ "telecallerId": stage.telecaller.id, "callType": "AUDIO" })).await;
    let call = user.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    telecaller.expect("call:incoming").await;
    telecaller.send("call:accept", json!({ "callId": call })).await;
    // She hears the call end and her accept fail, in that order.
    let mut heard = Vec::new();
    while heard.len() < 2 {
        let frame = telecaller.next().await;
        match frame["event"].as_str() {
            Some("call:ended") => {
                assert_eq!(frame["data"]["reason"], json!("SETUP_FAILED"));
                heard.push("ended");
            }
            Some("call:error") => {
                assert_eq!(frame["data"]["code"], json!("setup_failed"));
                heard.push("error");
            }
            _ => {}
        }
    }
    let ended = user.expect("call:ended").await;
    assert_eq!((ended["callId"].clone(), ended["reason"].clone()), (json!(call), json!("SETUP_FAILED")));
    assert_eq!((ended["durationInSeconds"].clone(), ended["coinsSpent"].clone()), (json!(0), json!(0)));
    assert_eq!(stage.app.balance(&stage.user.id).await, 1_000);
    let row = talktime_repository::calls::find(stage.app.db.pool(), call.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(row.coins_spent, Some(0));
    stage.app.assert_books_balance().await;
}

#[tokio::test]
async fn an_accept_after_the_ring_deadline_is_refused() {
    let stage = stage(&[("SWEEP_INTERVAL_MS", "3600000")], 1_000).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    user.send("call:initiate", json!({ "telecallerId": stage.telecaller.id, "callType": "AUDIO" })).await;
    let call = user.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    telecaller.expect("call:incoming").await;
    testing::expire_ring(&stage.app.db, call.parse().unwrap()).await.unwrap();
    telecaller.send("call:accept", json!({ "callId": call })).await;
    assert_eq!(telecaller.expect("call:error").await["code"], json!("call_unavailable"));
    let row = talktime_repository::calls::find(stage.app.db.pool(), call.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(row.accepted_at, None);
}

#[tokio::test]
async fn a_refund_moves_the_stated_coins_once() {
    let stage = stage(&[], 1_000).await;
    let admin = stage.app.admin_token().await;
    let (mut user, mut telecaller) = stage.sockets().await;
    let call = stage.accepted_call(&mut user, &mut telecaller).await;
    let path = format!("/admin/calls/{call}/refund");
    stage
        .app
        .post_auth(&path, &admin, &json!({ "coins": 10, "reason": "Poor line" }))
        .await
        .assert_error(400, "call_not_refundable");
    testing::age_call(&stage.app.db, call.parse().unwrap(), 30).await.unwrap();
    user.send("call:end", json!({ "callId": call })).await;
    let ended = user.expect("call:ended").await;
    assert_eq!((ended["coinsSpent"].clone(), ended["balance"].clone()), (json!(60), json!(940)));

    for (body, code) in [
        (json!({ "coins": 61, "reason": "Poor line" }), "refund_too_large"),
        (json!({ "coins": 0, "reason": "Poor line" }), "validation_error"),
        (json!({ "coins": 10, "reason": "no" }), "validation_error"),
        (json!({ "coins": 10 }), "validation_error"),
    ] {
        stage.app.post_auth(&path, &admin, &body).await.assert_error(400, code);
    }
    stage.app.post_auth(&path, &stage.user.token, &json!({ "coins": 10, "reason": "Poor line" })).await.assert(403);

    // 40 of the 60: her share is half (she earned 30 of 60), 20; revenue gives the other 20.
    let refund = stage.app.post_auth(&path, &admin, &json!({ "coins": 40, "reason": "The line kept dropping" })).await;
    refund.assert(200);
    let data = &refund.body["data"];
    assert_eq!(
        (data["coins"].clone(), data["fromTelecaller"].clone(), data["fromRevenue"].clone()),
        (json!(40), json!(20), json!(20))
    );
    assert_eq!((data["userBalance"].clone(), data["telecallerBalance"].clone()), (json!(980), json!(10)));
    assert_eq!(user.expect("wallet:updated").await, json!({ "balance": 980 }));
    assert_eq!(stage.app.balance(&stage.user.id).await, 980);
    assert_eq!(stage.app.balance(&stage.telecaller.id).await, 10);
    assert_eq!(ledger::platform_balance(stage.app.db.pool(), LedgerAccount::Revenue).await.unwrap(), 10);
    stage
        .app
        .post_auth(&path, &admin, &json!({ "coins": 1, "reason": "Again please" }))
        .await
        .assert_error(409, "already_refunded");
    stage
        .app
        .post_auth(
            &format!("/admin/calls/{}/refund", uuid::Uuid::now_v7()),
            &admin,
            &json!({ "coins": 1, "reason": "Nothing here" }),
        )
        .await
        .assert_error(404, "call_not_found");
    let audit = stage.app.get_auth("/admin/audit-log", &admin).await;
    assert!(audit.body.to_string().contains("call.refund"), "{}", audit.body);
    stage.app.assert_books_balance().await;
}

#[tokio::test]
async fn a_socket_that_stops_reading_is_closed_and_counted_gone_while_others_are_served() {
    let stage = stage(&[("WS_PING_INTERVAL_MS", "200"), ("WS_CLIENT_TIMEOUT_MS", "1500")], 0).await;
    let (mut user, _) = Ws::connect(&stage.app, "/ws/user", &stage.user.token).await;
    let mut stalled = Ws::connect_stalled(&stage.app, "/ws/telecaller", &stage.telecaller.token).await;
    let listed = async || {
        let reply = stage.app.get_auth("/users/telecallers", &stage.user.token).await;
        reply.body["data"].to_string().contains(&stage.telecaller.id)
    };
    eventually("her coming ONLINE", async || listed().await.then_some(())).await;
    // She sends frames whose answers are big and never reads them: the server's writes back up.
    let flood = tokio::spawn(async move {
        let name = "x".repeat(15_000);
        for _ in 0..600 {
            if !stalled.send_only(&json!({ "event": name, "data": {} }).to_string()).await {
                break;
            }
        }
    });
    // Meanwhile everyone else is served (and answers the heartbeat), and she goes OFFLINE.
    eventually("her stalled socket closed", async || {
        assert!(user.alive().await);
        (!listed().await).then_some(())
    })
    .await;
    assert!(user.alive().await);
    flood.abort();
}

#[tokio::test]
async fn timers_go_away_with_their_calls() {
    let stage = stage(&[], 1_000).await;
    let timers = async || {
        let text = stage.app.client.get(stage.app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        text.lines().find_map(|l| l.strip_prefix("call_timers ")).unwrap().trim().parse::<u64>().unwrap()
    };
    assert_eq!(timers().await, 0);
    let (mut user, mut telecaller) = stage.sockets().await;
    // Two rounds: four initiates, under the limit of five a minute.
    for _ in 0..2 {
        let call = stage.accepted_call(&mut user, &mut telecaller).await;
        assert!(timers().await >= 2, "the paid time and its warning are watched");
        user.send("call:end", json!({ "callId": call })).await;
        user.expect("call:ended").await;
        telecaller.expect("call:ended").await;
        user.send("call:initiate", json!({ "telecallerId": stage.telecaller.id, "callType": "AUDIO" })).await;
        let ringing = user.expect("call:ringing").await["callId"].clone();
        user.send("call:cancel", json!({ "callId": ringing })).await;
        user.expect("call:cancelled").await;
    }
    assert_eq!(timers().await, 0, "no timer outlives its call");
}

#[tokio::test]
async fn old_sockets_cannot_act_after_the_account_changed() {
    let stage = stage(&[], 1_000).await;
    let admin = stage.app.admin_token().await;
    // A telecaller's old socket after her rejection: it cannot accept (its close may be late).
    let (mut user, mut telecaller) = stage.sockets().await;
    user.send("call:initiate", json!({ "telecallerId": stage.telecaller.id, "callType": "AUDIO" })).await;
    let call = user.expect("call:ringing").await["callId"].clone();
    // Rejected straight in the database (no socket is closed for her): the node hears it.
    testing::set_approval(&stage.app.db, stage.telecaller.id.parse().unwrap(), "REJECTED", Some("reason given"))
        .await
        .unwrap();
    eventually("the rejection reaching the node", async || {
        let me = stage.app.get_auth("/users/me", &stage.telecaller.token).await;
        (me.body["data"]["telecallerProfile"]["approvalStatus"] == "REJECTED").then_some(())
    })
    .await;
    telecaller.send("call:accept", json!({ "callId": call })).await;
    let refused = Some(telecaller.expect("call:error").await).filter(|e| e["code"] == "telecaller_not_approved");
    assert!(refused.is_some(), "the rejected telecaller could accept");
    user.send("call:cancel", json!({ "callId": call })).await;
    user.expect("call:cancelled").await;

    // A user who becomes a telecaller: her user sockets close (4003).
    let phone = crate::support::fresh_phone();
    let (token, _) = stage.app.login(&phone).await;
    let (mut old, _) = Ws::connect(&stage.app, "/ws/user", &token).await;
    stage
        .app
        .patch_auth(
            "/users/complete-profile",
            &token,
            &json!({ "name": "Meera Iyer", "dob": "1994-03-03", "gender": "FEMALE", "language": "tamil",
                     "role": "TELECALLER", "about": crate::support::ABOUT }),
        )
        .await
        .assert(200);
    assert_eq!(old.closed().await, Some(4003));

    // An admin who signs out: their sockets close too.
    let (mut admin_ws, _) = Ws::connect(&stage.app, "/ws/admin", &admin).await;
    stage.app.post_auth("/admin/auth/logout", &admin, &json!({})).await.assert(200);
    assert_eq!(admin_ws.closed().await, Some(4003));
}

#[tokio::test]
async fn a_party_connected_nowhere_gets_the_grace_even_if_its_disconnect_was_lost() {
    let stage = stage(&[("RECONNECT_GRACE_SECS", "1")], 1_000).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    let call = stage.accepted_call(&mut user, &mut telecaller).await;
    let call_id: CallId = call.parse().unwrap();
    user.close().await;
    // As if the disconnect's handling had failed: no grace on the call.
    eventually("the grace set by the disconnect", async || {
        let row = talktime_repository::calls::find(stage.app.db.pool(), call_id).await.unwrap().unwrap();
        row.user_grace_deadline.map(|_| ())
    })
    .await;
    testing::execute_raw(&stage.app.db, "UPDATE calls SET user_grace_deadline = NULL").await.unwrap();
    // The sweeper finds him connected nowhere, gives the grace, and the call ends with it.
    let ended = telecaller.expect("call:ended").await;
    assert_eq!(ended["reason"], json!("USER_DISCONNECTED"));
    stage.app.assert_books_balance().await;
}
