//! Paid chat (docs/chat.md) over real sockets: the lifecycle billed against the ledger at her
//! chat price, messages (numbered, masked, stored once per clientId, on every socket, fetched
//! after a reconnect), inactivity, refusals, one session across calls and chats, moderation.

use crate::support::stage::{Stage, stage};
use crate::support::ws::Ws;
use crate::support::{Session, TestApp, eventually};
use serde_json::{Value, json};
use talktime_domain::ids::CallId;
use talktime_repository::ledger::{self, LedgerAccount};
use talktime_repository::testing;

/// Her own chat price, set as she would (audio and video stay the defaults).
async fn set_chat_price(app: &TestApp, telecaller: &Session, coins: i64) {
    app.put_auth(
        "/telecaller/rates",
        &telecaller.token,
        &json!({ "audioCoinsPerSecond": null, "videoCoinsPerSecond": null, "chatCoinsPerSecond": coins }),
    )
    .await
    .assert(200);
}

/// Requests and accepts a chat; answers its id.
async fn active_chat(stage: &Stage, user: &mut Ws, telecaller: &mut Ws) -> String {
    user.send("chat:request", json!({ "telecallerId": stage.telecaller.id })).await;
    let id = user.expect("chat:requested").await["sessionId"].as_str().expect("sessionId").to_owned();
    telecaller.expect("chat:incoming").await;
    telecaller.send("chat:accept", json!({ "sessionId": id })).await;
    telecaller.expect("chat:accepted").await;
    user.expect("chat:accepted").await;
    id
}

async fn say(ws: &mut Ws, chat: &str, client_id: &str, text: &str) -> Value {
    ws.send_with_ref("chat:message", json!({ "sessionId": chat, "clientId": client_id, "text": text }), client_id)
        .await;
    loop {
        let frame = ws.expect_frame("chat:message").await;
        if frame["ref"] == json!(client_id) {
            return frame["data"].clone();
        }
    }
}

#[tokio::test]
async fn a_chat_is_requested_accepted_messaged_and_billed_at_her_chat_price() {
    let stage = stage(&[], 1_000).await;
    set_chat_price(&stage.app, &stage.telecaller, 3).await;
    let (mut user, mut telecaller) = stage.sockets().await;

    user.send_with_ref("chat:request", json!({ "telecallerId": stage.telecaller.id }), "q").await;
    let requested = user.expect_frame("chat:requested").await;
    assert_eq!(requested["ref"], json!("q"));
    assert_eq!(requested["data"]["rate"], json!(3));
    assert_eq!(requested["data"]["callType"], json!(null), "a chat's events name no call type");
    let chat = requested["data"]["sessionId"].as_str().unwrap().to_owned();
    let incoming = telecaller.expect("chat:incoming").await;
    assert_eq!((incoming["sessionId"].clone(), incoming["caller"]["_id"].clone()), (json!(chat), json!(stage.user.id)));

    telecaller.send("chat:accept", json!({ "sessionId": chat })).await;
    let accepted = telecaller.expect("chat:accepted").await;
    assert_eq!(accepted["maxDurationSeconds"], json!(333), "1000 coins at 3 coins/s");
    assert_eq!(user.expect("chat:accepted").await["sessionId"], json!(chat));

    let first = say(&mut user, &chat, "m1", "hello! call me on 98765 43210 or mail me@example.com").await;
    assert_eq!((first["seq"].clone(), first["from"].clone()), (json!(1), json!(stage.user.id)));
    assert_eq!(first["text"], json!("hello! call me on *** or mail ***"));
    let heard = telecaller.expect("chat:message").await;
    assert_eq!((heard["seq"].clone(), heard["text"].clone()), (json!(1), first["text"].clone()));
    // A retry of the same clientId is the same message, stored once.
    let again = say(&mut user, &chat, "m1", "hello! call me on 98765 43210 or mail me@example.com").await;
    assert_eq!(again["seq"], json!(1));
    let reply = say(&mut telecaller, &chat, "t1", "hi there\nhow are you?").await;
    assert_eq!(reply["seq"], json!(2), "the retry took no number");
    assert_eq!(user.expect("chat:message").await["text"], json!("hi there\nhow are you?"));

    user.send("chat:typing", json!({ "sessionId": chat })).await;
    assert_eq!(telecaller.expect("chat:typing").await["from"], json!(stage.user.id));
    telecaller.send("chat:read", json!({ "sessionId": chat, "seq": 1 })).await;
    let read = user.expect("chat:read").await;
    assert_eq!((read["seq"].clone(), read["by"].clone()), (json!(1), json!(stage.telecaller.id)));

    testing::age_call(&stage.app.db, chat.parse::<CallId>().unwrap(), 40).await.unwrap();
    user.send("chat:end", json!({ "sessionId": chat })).await;
    let ended = user.expect("chat:ended").await;
    assert_eq!((ended["reason"].clone(), ended["durationInSeconds"].clone()), (json!("USER_ENDED"), json!(40)));
    assert_eq!((ended["coinsSpent"].clone(), ended["balance"].clone()), (json!(120), json!(880)));
    let earned = telecaller.expect("chat:ended").await;
    assert_eq!(earned["coinsEarned"], json!(60), "half of 120 at the default chat commission");

    assert_eq!(stage.app.balance(&stage.user.id).await, 880);
    assert_eq!(stage.app.balance(&stage.telecaller.id).await, 60);
    assert_eq!(ledger::platform_balance(stage.app.db.pool(), LedgerAccount::Revenue).await.unwrap(), 60);
    let journals = testing::journals_of(&stage.app.db, "CHAT", Some(chat.parse().unwrap())).await.unwrap();
    assert_eq!(journals, 1, "settled once under its own cause");
    assert_eq!(stage.room_requests("CreateRoom", &chat), 0, "a chat has no media room");

    let history = stage.app.get_auth("/users/chats", &stage.user.token).await;
    let entry = &history.body["data"]["chats"][0];
    assert_eq!((entry["_id"].clone(), entry["status"].clone()), (json!(chat), json!("COMPLETED")));
    assert_eq!((entry["coinsSpent"].clone(), entry["durationInSeconds"].clone()), (json!(120), json!(40)));
    let theirs = stage.app.get_auth("/telecaller/chats", &stage.telecaller.token).await;
    assert_eq!(theirs.body["data"]["chats"][0]["coinsEarned"], json!(60));
    let calls = stage.app.get_auth("/users/calls", &stage.user.token).await;
    assert_eq!(calls.body["data"]["calls"], json!([]), "chats are not calls in the call history");
    let all = stage.app.get_auth(&format!("/users/chats/{chat}/messages"), &stage.user.token).await;
    assert_eq!(all.body["data"]["messages"].as_array().unwrap().len(), 2);
    let after =
        stage.app.get_auth(&format!("/telecaller/chats/{chat}/messages?after=1"), &stage.telecaller.token).await;
    assert_eq!(after.body["data"]["messages"][0]["seq"], json!(2));
    let stranger = stage.app.user().await;
    stage
        .app
        .get_auth(&format!("/users/chats/{chat}/messages"), &stranger.token)
        .await
        .assert_error(404, "chat_not_found");
    stage.app.assert_books_balance().await;
}

#[tokio::test]
async fn every_refusal_is_a_chat_error_with_a_code() {
    let stage = stage(&[], 10).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    let refusal = async |ws: &mut Ws, event: &str, data: Value| {
        ws.send_with_ref(event, data, "x").await;
        let frame = ws.expect_frame("chat:error").await;
        assert_eq!(frame["ref"], json!("x"));
        frame["data"]["code"].as_str().unwrap().to_owned()
    };
    let nobody = uuid::Uuid::now_v7();
    assert_eq!(refusal(&mut user, "chat:request", json!({ "telecallerId": nobody })).await, "telecaller_not_found");
    assert_eq!(
        refusal(&mut user, "chat:request", json!({ "telecallerId": stage.telecaller.id })).await,
        "insufficient_balance",
        "10 coins are not 60 seconds at 1 coin/s"
    );
    assert_eq!(refusal(&mut telecaller, "chat:accept", json!({ "sessionId": nobody })).await, "chat_not_found");
    let message = json!({ "sessionId": nobody, "clientId": "a", "text": "hello" });
    assert_eq!(refusal(&mut user, "chat:message", message).await, "chat_not_found");
    let bell = json!({ "sessionId": nobody, "clientId": "a", "text": "ring\u{7}" });
    assert_eq!(refusal(&mut user, "chat:message", bell).await, "invalid_message");
    let long = json!({ "sessionId": nobody, "clientId": "a", "text": "x".repeat(2_001) });
    assert_eq!(refusal(&mut user, "chat:message", long).await, "invalid_message");
    let no_id = json!({ "sessionId": nobody, "clientId": "", "text": "hi" });
    assert_eq!(refusal(&mut user, "chat:message", no_id).await, "invalid_client_id");
    // A chat is never rung as a call.
    user.send("call:initiate", json!({ "telecallerId": stage.telecaller.id, "callType": "CHAT" })).await;
    assert_eq!(user.expect("error").await["code"], json!("invalid_data"));
    // Offline.
    telecaller.close().await;
    stage.app.grant_coins(&stage.user.id, 1_000).await;
    eventually("she went offline", async || {
        let reply = stage.app.get_auth("/users/telecallers", &stage.user.token).await;
        let listed =
            reply.body["data"]["data"].as_array().unwrap().iter().any(|t| t["_id"] == json!(stage.telecaller.id));
        (!listed).then_some(())
    })
    .await;
    assert_eq!(
        refusal(&mut user, "chat:request", json!({ "telecallerId": stage.telecaller.id })).await,
        "telecaller_offline"
    );
}

#[tokio::test]
async fn a_chat_nobody_writes_in_ends_inactive_and_bills_to_then() {
    let stage = stage(&[("CHAT_INACTIVITY_SECS", "1")], 1_000).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    let chat = active_chat(&stage, &mut user, &mut telecaller).await;
    let ended = user.expect("chat:ended").await;
    assert_eq!((ended["sessionId"].clone(), ended["reason"].clone()), (json!(chat), json!("INACTIVE")));
    assert_eq!(telecaller.expect("chat:ended").await["reason"], json!("INACTIVE"));
    let spent = ended["coinsSpent"].as_i64().unwrap();
    assert_eq!(stage.app.balance(&stage.user.id).await, 1_000 - spent);
    stage.app.assert_books_balance().await;
}

#[tokio::test]
async fn one_session_at_a_time_across_calls_and_chats() {
    let stage = stage(&[], 1_000).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    let other = stage.app.user().await;
    stage.app.grant_coins(&other.id, 1_000).await;
    let (mut caller, _) = Ws::connect(&stage.app, "/ws/user", &other.token).await;
    caller.watch(&[&stage.telecaller.id]).await;
    let chat = active_chat(&stage, &mut user, &mut telecaller).await;
    // She is ON_CALL to others, and cannot be called.
    assert_eq!(caller.presence_of(&stage.telecaller.id).await["presence"], json!("ON_CALL"));
    caller.send("call:initiate", json!({ "telecallerId": stage.telecaller.id, "callType": "AUDIO" })).await;
    assert_eq!(caller.expect("call:error").await["code"], json!("telecaller_busy"));
    caller.send("chat:request", json!({ "telecallerId": stage.telecaller.id })).await;
    assert_eq!(caller.expect("chat:error").await["code"], json!("telecaller_busy"));
    // The user in a chat cannot start a call.
    user.send("call:initiate", json!({ "telecallerId": stage.telecaller.id, "callType": "AUDIO" })).await;
    assert_eq!(user.expect("call:error").await["code"], json!("already_in_call"));
    user.send("chat:end", json!({ "sessionId": chat })).await;
    user.expect("chat:ended").await;
    telecaller.expect("chat:ended").await;

    // And the reverse: a user in a call cannot start a chat.
    let call = stage.accepted_call(&mut user, &mut telecaller).await;
    user.send("chat:request", json!({ "telecallerId": stage.telecaller.id })).await;
    assert_eq!(user.expect("chat:error").await["code"], json!("already_in_call"));
    user.send("call:end", json!({ "callId": call })).await;
    user.expect("call:ended").await;
    stage.app.assert_books_balance().await;
}

#[tokio::test]
async fn every_socket_of_both_parties_gets_each_message_and_a_reconnect_fetches_what_it_missed() {
    let stage = stage(&[("RECONNECT_GRACE_SECS", "30")], 1_000).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    let chat = active_chat(&stage, &mut user, &mut telecaller).await;
    let (mut second, ready) = Ws::connect(&stage.app, "/ws/user", &stage.user.token).await;
    assert_eq!(ready["activeChat"]["sessionId"], json!(chat));
    assert_eq!(ready["activeChat"]["status"], json!("ACTIVE"));
    assert_eq!(ready["activeCall"], json!(null));

    say(&mut telecaller, &chat, "t1", "one").await;
    assert_eq!(user.expect("chat:message").await["seq"], json!(1));
    assert_eq!(second.expect("chat:message").await["seq"], json!(1));
    // Sent from one of her sockets: her other socket sees it too.
    say(&mut second, &chat, "u1", "two").await;
    assert_eq!(user.expect("chat:message").await["text"], json!("two"));
    assert_eq!(telecaller.expect("chat:message").await["seq"], json!(2));

    // Both user sockets drop; two messages arrive meanwhile; she comes back within the grace.
    user.close().await;
    second.close().await;
    say(&mut telecaller, &chat, "t2", "three").await;
    say(&mut telecaller, &chat, "t3", "four").await;
    let (_back, ready) = Ws::connect(&stage.app, "/ws/user", &stage.user.token).await;
    assert_eq!(ready["activeChat"]["lastSeq"], json!(4));
    let missed = stage.app.get_auth(&format!("/users/chats/{chat}/messages?after=2"), &stage.user.token).await;
    let texts: Vec<_> = missed.body["data"]["messages"].as_array().unwrap().iter().map(|m| m["text"].clone()).collect();
    assert_eq!(texts, vec![json!("three"), json!("four")]);
}

#[tokio::test]
async fn contacts_are_kept_when_masking_is_off() {
    let stage = stage(&[("CHAT_MASK_CONTACTS", "false")], 1_000).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    let chat = active_chat(&stage, &mut user, &mut telecaller).await;
    let said = say(&mut user, &chat, "m", "9876543210 www.example.com").await;
    assert_eq!(said["text"], json!("9876543210 www.example.com"));
}

#[tokio::test]
async fn admins_see_live_chats_end_one_and_read_a_reported_conversation_only_from_the_report() {
    let stage = stage(&[], 1_000).await;
    let admin = stage.app.admin_token().await;
    let (mut user, mut telecaller) = stage.sockets().await;
    let chat = active_chat(&stage, &mut user, &mut telecaller).await;
    say(&mut telecaller, &chat, "t1", "something rude").await;
    let live = stage.app.get_auth("/admin/chats?status=ACTIVE", &admin).await;
    assert_eq!(live.body["data"]["chats"][0]["_id"], json!(chat));
    let calls = stage.app.get_auth("/admin/calls?status=ACCEPTED", &admin).await;
    assert_eq!(calls.body["data"]["calls"], json!([]));

    let ended = stage.app.post_auth(&format!("/admin/chats/{chat}/end"), &admin, &json!({})).await;
    ended.assert(200);
    assert_eq!(
        (ended.body["data"]["status"].clone(), ended.body["data"]["endReason"].clone()),
        (json!("COMPLETED"), json!("ADMIN"))
    );
    assert_eq!(user.expect("chat:ended").await["reason"], json!("ADMIN"));

    let report = stage
        .app
        .post_auth(
            &format!("/calls/{chat}/report"),
            &stage.user.token,
            &json!({ "description": "She was rude to me in this chat", "messageSeq": 1 }),
        )
        .await;
    report.assert(200);
    let report_id = report.body["data"]["reportId"].as_str().unwrap().to_owned();
    let read = stage.app.get_auth(&format!("/admin/reports/{report_id}/messages"), &admin).await;
    read.assert(200);
    assert_eq!(read.body["data"]["messages"][0]["text"], json!("something rude"));
    let audit = stage.app.get_auth("/admin/audit-log", &admin).await;
    let actions: Vec<_> = audit.body["data"]["entries"]
        .as_array()
        .map(|e| e.iter().map(|x| x["action"].clone()).collect())
        .unwrap_or_default();
    assert!(actions.contains(&json!("chat.messages.read")), "{actions:?}");
    assert!(actions.contains(&json!("chat.end")), "{actions:?}");
    let bad_seq = stage
        .app
        .post_auth(
            &format!("/calls/{chat}/report"),
            &stage.telecaller.token,
            &json!({ "description": "Pointing at nothing at all", "messageSeq": 9 }),
        )
        .await;
    bad_seq.assert_error(400, "message_not_found");
    stage.app.assert_books_balance().await;
}
