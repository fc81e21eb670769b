//! Prices per host: her own price inside the operator's bounds, on every card and ring, copied
//! onto the call at initiate and billing it (docs/money.md).

use crate::support::ws::Ws;
use crate::support::{FakeServer, Session, TestApp, spawn_app_with};
use serde_json::{Value, json};
use talktime_domain::ids::CallId;

async fn call_app(overrides: &[(&str, &str)]) -> (TestApp, FakeServer) {
    let rooms = FakeServer::start().await;
    rooms.route("POST", "/twirp/livekit.RoomService/DeleteRoom", 200, "");
    let mut vars = vec![("LIVEKIT_API_URL", rooms.base.as_str())];
    vars.extend_from_slice(overrides);
    let app = spawn_app_with(&vars).await;
    (app, rooms)
}

async fn set_rates(app: &TestApp, telecaller: &Session, audio: Value, video: Value) -> crate::support::Reply {
    let body = json!({ "audioCoinsPerSecond": audio, "videoCoinsPerSecond": video });
    app.put_auth("/telecaller/rates", &telecaller.token, &body).await
}

/// The user's and her sockets, an audio call rung: (user, telecaller, callId, ringing, incoming).
async fn ring(app: &TestApp, user: &Session, telecaller: &Session) -> (Ws, Ws, String, Value, Value) {
    let (mut caller, _) = Ws::connect(app, "/ws/user", &user.token).await;
    let (mut callee, _) = Ws::connect(app, "/ws/telecaller", &telecaller.token).await;
    caller.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
    let ringing = caller.expect("call:ringing").await;
    let incoming = callee.expect("call:incoming").await;
    let call = ringing["callId"].as_str().unwrap().to_owned();
    (caller, callee, call, ringing, incoming)
}

/// Accepts, talks `secs` and ends: (user's `call:accepted`, user's `call:ended`, hers).
async fn talk(app: &TestApp, caller: &mut Ws, callee: &mut Ws, call: &str, secs: i64) -> (Value, Value, Value) {
    callee.send("call:accept", json!({ "callId": call })).await;
    let accepted = caller.expect("call:accepted").await;
    let for_her = callee.expect("call:accepted").await;
    assert_eq!(for_her["rate"], accepted["rate"], "both parties see the rate in force");
    talktime_repository::testing::age_call(&app.db, call.parse::<CallId>().unwrap(), secs).await.unwrap();
    caller.send("call:end", json!({ "callId": call })).await;
    (accepted, caller.expect("call:ended").await, callee.expect("call:ended").await)
}

#[tokio::test]
async fn a_call_to_a_host_with_her_own_price_bills_it_and_pays_her_share() {
    let (app, _rooms) = call_app(&[]).await;
    let (user, telecaller) = (app.user().await, app.telecaller(true).await);
    app.grant_coins(&user.id, 10_000).await;

    let mine = app.get_auth("/telecaller/rates", &telecaller.token).await;
    mine.assert(200);
    assert_eq!(
        mine.body["data"]["rates"],
        json!({ "audio": 2, "video": 4, "chat": 1 }),
        "the defaults until she sets one"
    );
    assert_eq!(mine.body["data"]["priceBounds"]["audio"], json!({ "min": 1, "max": 20 }));
    assert_eq!(mine.body["data"]["nextChangeAt"], Value::Null);

    let set = set_rates(&app, &telecaller, json!(5), Value::Null).await;
    set.assert(200);
    assert_eq!(set.body["data"]["rates"], json!({ "audio": 5, "video": 4, "chat": 1 }), "video stays the default");
    assert!(set.body["data"]["nextChangeAt"].is_string());
    let me = app.get_auth("/users/me", &telecaller.token).await;
    assert_eq!(me.body["data"]["telecallerProfile"]["rates"], json!({ "audio": 5, "video": 4, "chat": 1 }));

    let (online, _) = Ws::connect(&app, "/ws/telecaller", &telecaller.token).await;
    let list = app.get_auth("/users/telecallers", &user.token).await;
    list.assert(200);
    let card = &list.body["data"]["data"][0];
    assert_eq!(card["rates"], json!({ "audio": 5, "video": 4, "chat": 1 }));
    assert_eq!(list.body["data"]["audioCallCharge"], json!(2), "the defaults stay for the earlier app");
    online.close().await;

    let (mut caller, mut callee, call, ringing, incoming) = ring(&app, &user, &telecaller).await;
    assert_eq!(ringing["rate"], json!(5));
    assert_eq!(incoming["rate"], json!(5));
    let (accepted, for_user, for_her) = talk(&app, &mut caller, &mut callee, &call, 10).await;
    assert_eq!(accepted["rate"], json!(5));
    assert_eq!(for_user["coinsSpent"], json!(50), "10 s at her 5 coins/s");
    assert_eq!(for_her["coinsEarned"], json!(25), "her share at the default 50% commission");
    assert_eq!(app.balance(&user.id).await, 10_000 - 50);
    app.assert_books_balance().await;
}

#[tokio::test]
async fn a_price_change_while_a_call_rings_does_not_change_that_call() {
    let (app, _rooms) = call_app(&[("RATE_CHANGE_COOLDOWN_HOURS", "0")]).await;
    let (user, telecaller) = (app.user().await, app.telecaller(true).await);
    app.grant_coins(&user.id, 10_000).await;
    set_rates(&app, &telecaller, json!(3), json!(6)).await.assert(200);

    let (mut caller, mut callee, call, ringing, _) = ring(&app, &user, &telecaller).await;
    assert_eq!(ringing["rate"], json!(3));
    set_rates(&app, &telecaller, json!(9), json!(9)).await.assert(200);
    let (accepted, for_user, for_her) = talk(&app, &mut caller, &mut callee, &call, 10).await;
    assert_eq!(accepted["rate"], json!(3), "the price copied at initiate");
    assert_eq!(for_user["coinsSpent"], json!(30));
    assert_eq!(for_her["coinsEarned"], json!(15));

    // The next call pays the new price.
    let (mut caller, mut callee, call, ringing, _) = ring(&app, &user, &telecaller).await;
    assert_eq!(ringing["rate"], json!(9));
    let (_, for_user, _) = talk(&app, &mut caller, &mut callee, &call, 2).await;
    assert_eq!(for_user["coinsSpent"], json!(18));
    app.assert_books_balance().await;
}

#[tokio::test]
async fn her_price_stays_inside_the_bounds_and_changes_at_most_once_per_cooldown() {
    let (app, _rooms) = call_app(&[]).await;
    let (user, telecaller) = (app.user().await, app.telecaller(true).await);

    let high = set_rates(&app, &telecaller, json!(21), Value::Null).await;
    high.assert_error(400, "rate_out_of_bounds");
    assert_eq!(high.body["field"], json!("audioCoinsPerSecond"));
    assert_eq!((high.body["min"].clone(), high.body["max"].clone()), (json!(1), json!(20)));
    set_rates(&app, &telecaller, Value::Null, json!(0)).await.assert_error(400, "rate_out_of_bounds");
    let missing = app.put_auth("/telecaller/rates", &telecaller.token, &json!({ "audioCoinsPerSecond": 3 })).await;
    missing.assert_error(400, "validation_error");
    set_rates(&app, &user, json!(3), json!(3)).await.assert(403);
    // serde would read the struct from an array of its fields: a body is an object.
    app.put_auth("/telecaller/rates", &telecaller.token, &json!([null, null])).await.assert_error(400, "invalid_body");
    // Nothing refused was written.
    let admin = app.admin_token().await;
    let history = app.get_auth(&format!("/admin/telecallers/{}/rates", telecaller.id), &admin).await;
    assert_eq!(history.body["data"]["total"], json!(0));

    set_rates(&app, &telecaller, json!(4), json!(8)).await.assert(200);
    let again = set_rates(&app, &telecaller, json!(5), json!(8)).await;
    again.assert_error(429, "rate_change_too_soon");
    let opens = again.body["opensAt"].as_str().expect("when it opens");
    let opens = chrono::DateTime::parse_from_rfc3339(opens).unwrap();
    let hours = (opens.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes() as f64 / 60.0;
    assert!((23.9..=24.0).contains(&hours), "24 hours after her change, not {hours}");
    assert!(again.headers.get("retry-after").is_some());
    let mine = app.get_auth("/telecaller/rates", &telecaller.token).await;
    assert_eq!(mine.body["data"]["rates"], json!({ "audio": 4, "video": 8, "chat": 1 }));
}

#[tokio::test]
async fn new_bounds_clamp_every_price_outside_them_and_her_history_shows_it() {
    let (app, _rooms) = call_app(&[]).await;
    let (inside, outside) = (app.telecaller(true).await, app.telecaller(true).await);
    set_rates(&app, &inside, json!(5), Value::Null).await.assert(200);
    set_rates(&app, &outside, json!(12), json!(30)).await.assert(200);

    let admin = app.admin_token().await;
    let bounds = json!({ "priceBounds": { "audio": { "min": 2, "max": 10 }, "video": { "min": 2, "max": 25 } } });
    let saved = app.put_auth("/admin/config", &admin, &bounds).await;
    saved.assert(200);
    assert_eq!(saved.body["data"]["priceBounds"]["audio"]["max"]["value"], json!(10));
    let clamped = app.get_auth("/telecaller/rates", &outside.token).await;
    assert_eq!(clamped.body["data"]["rates"], json!({ "audio": 10, "video": 25, "chat": 1 }));
    let kept = app.get_auth("/telecaller/rates", &inside.token).await;
    assert_eq!(
        kept.body["data"]["rates"],
        json!({ "audio": 5, "video": 4, "chat": 1 }),
        "inside them, and the default"
    );

    let history = app.get_auth(&format!("/admin/telecallers/{}/rates", outside.id), &admin).await;
    history.assert(200);
    assert_eq!(history.body["data"]["total"], json!(2));
    let changes = &history.body["data"]["changes"];
    assert_eq!(changes[0]["cause"], json!("CLAMPED"));
    assert_eq!(changes[0]["audioCoinsPerSecond"], json!(10));
    assert_eq!(changes[1]["cause"], json!("SET"));
    assert_eq!(changes[1]["videoCoinsPerSecond"], json!(30));
    let log = app.get_auth("/admin/audit-log", &admin).await;
    let clamp = log.body["data"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == json!("telecaller.rates.clamp"))
        .expect("the clamp is audited")
        .clone();
    assert_eq!(clamp["targetId"], json!(outside.id));
    assert_eq!(clamp["before"]["audioCoinsPerSecond"], json!(12));
    assert_eq!(clamp["after"]["audioCoinsPerSecond"], json!(10));

    let inverted = json!({ "priceBounds": { "audio": { "min": 9, "max": 3 } } });
    app.put_auth("/admin/config", &admin, &inverted).await.assert_error(400, "invalid_price_bounds");
    let unknown = format!("/admin/telecallers/{}/rates", talktime_domain::ids::AccountId::new());
    app.get_auth(&unknown, &admin).await.assert_error(404, "telecaller_not_found");
}

#[tokio::test]
async fn the_list_sorts_by_price_filters_by_max_rate_and_admission_uses_her_price() {
    let (app, _rooms) = call_app(&[]).await;
    let user = app.user().await;
    let (dear, cheap, default) = (app.telecaller(true).await, app.telecaller(true).await, app.telecaller(true).await);
    set_rates(&app, &dear, json!(6), Value::Null).await.assert(200);
    set_rates(&app, &cheap, json!(3), Value::Null).await.assert(200);
    let mut sockets = Vec::new();
    for t in [&dear, &cheap, &default] {
        sockets.push(Ws::connect(&app, "/ws/telecaller", &t.token).await.0);
    }
    let ids = |reply: &crate::support::Reply| -> Vec<String> {
        reply.body["data"]["data"].as_array().unwrap().iter().map(|c| c["_id"].as_str().unwrap().to_owned()).collect()
    };
    let by_price = app.get_auth("/users/telecallers?sort=price", &user.token).await;
    by_price.assert(200);
    assert_eq!(ids(&by_price), vec![default.id.clone(), cheap.id.clone(), dear.id.clone()]);
    let affordable = app.get_auth("/users/telecallers?sort=price&maxRate=3", &user.token).await;
    assert_eq!(ids(&affordable), vec![default.id.clone(), cheap.id.clone()]);
    app.get_auth("/users/telecallers?maxRate=0", &user.token).await.assert_error(400, "validation_error");

    app.post_auth(&format!("/users/favorites/{}", dear.id), &user.token, &json!({})).await.assert(200);
    let favorites = app.get_auth("/users/favorites", &user.token).await;
    assert_eq!(favorites.body["data"]["favorites"][0]["rates"], json!({ "audio": 6, "video": 4, "chat": 1 }));

    // 60 s at the default 2 coins/s is affordable; 60 s at her 6 is not.
    app.grant_coins(&user.id, 200).await;
    let (mut caller, _) = Ws::connect(&app, "/ws/user", &user.token).await;
    caller.send("call:initiate", json!({ "telecallerId": dear.id, "callType": "AUDIO" })).await;
    let refused = caller.expect("call:error").await;
    assert_eq!(refused["code"], json!("insufficient_balance"));
    assert!(refused["message"].as_str().unwrap().contains("360"), "{refused}");
    caller.send("call:initiate", json!({ "telecallerId": default.id, "callType": "AUDIO" })).await;
    let ringing = caller.expect("call:ringing").await;
    assert_eq!(ringing["rate"], json!(2));
}

#[tokio::test]
async fn her_card_carries_her_prices_when_she_comes_online() {
    let (app, _rooms) = call_app(&[]).await;
    let (user, telecaller) = (app.user().await, app.telecaller(true).await);
    set_rates(&app, &telecaller, Value::Null, json!(7)).await.assert(200);
    let (mut watcher, _) = Ws::connect(&app, "/ws/user", &user.token).await;
    watcher.watch(&[&telecaller.id]).await;
    let (_her, _) = Ws::connect(&app, "/ws/telecaller", &telecaller.token).await;
    app.controller().flush_presence().await;
    let update = watcher.expect("presence:update").await;
    assert_eq!(update["changes"][0]["telecaller"]["rates"], json!({ "audio": 2, "video": 7, "chat": 1 }), "{update}");
}
