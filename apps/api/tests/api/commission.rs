//! Prices per host, first part: the platform's commission per call type and per telecaller,
//! copied onto each call at initiate and settling it (docs/money.md).

use crate::support::ws::Ws;
use crate::support::{FakeServer, Session, TestApp, spawn_app_with};
use serde_json::{Value, json};
use talktime_domain::ids::CallId;

async fn call_app() -> (TestApp, FakeServer) {
    let rooms = FakeServer::start().await;
    rooms.route("POST", "/twirp/livekit.RoomService/DeleteRoom", 200, "");
    let app = spawn_app_with(&[("LIVEKIT_API_URL", rooms.base.as_str())]).await;
    (app, rooms)
}

/// An audio call from `user` to `telecaller`, accepted, `secs` of talk, ended by the user:
/// what the two `call:ended` frames said (user's, telecaller's).
struct Caller<'a> {
    app: &'a TestApp,
    user: Ws,
    telecaller: Ws,
    telecaller_id: &'a str,
}

impl<'a> Caller<'a> {
    async fn new(app: &'a TestApp, user: &Session, telecaller: &'a Session) -> Self {
        let (user, _) = Ws::connect(app, "/ws/user", &user.token).await;
        let (telecaller_ws, _) = Ws::connect(app, "/ws/telecaller", &telecaller.token).await;
        Self { app, user, telecaller: telecaller_ws, telecaller_id: &telecaller.id }
    }

    async fn ring(&mut self) -> String {
        self.user.send("call:initiate", json!({ "telecallerId": self.telecaller_id, "callType": "AUDIO" })).await;
        let call = self.user.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
        self.telecaller.expect("call:incoming").await;
        call
    }

    async fn talk(&mut self, call: &str, secs: i64) -> (Value, Value) {
        self.telecaller.send("call:accept", json!({ "callId": call })).await;
        self.telecaller.expect("call:accepted").await;
        talktime_repository::testing::age_call(&self.app.db, call.parse::<CallId>().unwrap(), secs).await.unwrap();
        self.user.send("call:end", json!({ "callId": call })).await;
        (self.user.expect("call:ended").await, self.telecaller.expect("call:ended").await)
    }
}

#[tokio::test]
async fn the_platform_commission_comes_from_the_earlier_rates_and_settles_calls() {
    let (app, _rooms) = call_app().await;
    let admin = app.admin_token().await;
    let config = app.get_auth("/admin/config", &admin).await;
    config.assert(200);
    // 2 and 1 coins/s: the platform keeps half, as before.
    assert_eq!(config.body["data"]["commissionPercent"]["audio"]["value"], json!(50));
    assert_eq!(config.body["data"]["commissionPercent"]["video"]["value"], json!(50));

    let changed = app.put_auth("/admin/config", &admin, &json!({ "commissionPercent": { "audio": 20 } })).await;
    changed.assert(200);
    assert_eq!(changed.body["data"]["commissionPercent"]["audio"]["value"], json!(20));
    assert_eq!(changed.body["data"]["commissionPercent"]["video"]["value"], json!(50), "video untouched");
    // Her default audio rate follows: floor(2 × 80%) = 1.
    assert_eq!(changed.body["data"]["audioCall"]["telecallerCoinPerSec"]["value"], json!(1));
    let log = app.get_auth("/admin/audit-log", &admin).await;
    let entry = &log.body["data"]["entries"][0];
    assert_eq!(entry["action"], json!("config.update"));
    assert_eq!(entry["before"]["commissionHundredths"]["audio"], json!(5000));
    assert_eq!(entry["after"]["commissionHundredths"]["audio"], json!(2000));

    let (user, telecaller) = (app.user().await, app.telecaller(true).await);
    app.grant_coins(&user.id, 10_000).await;
    let mut calls = Caller::new(&app, &user, &telecaller).await;
    let call = calls.ring().await;
    let (for_user, for_her) = calls.talk(&call, 10).await;
    assert_eq!(for_user["coinsSpent"], json!(20), "the user pays 2 coins/s");
    assert_eq!(for_her["coinsEarned"], json!(16), "she earns floor(20 × 80%)");
    app.assert_books_balance().await;

    // The earlier panel's two rates still set the share: 5 and 3 is 40%.
    let rates = json!({ "userAudioCallCoinPerSec": 5, "telecallerAudioCallCoinPerSec": 3 });
    let changed = app.put_auth("/admin/config", &admin, &rates).await;
    assert_eq!(changed.body["data"]["commissionPercent"]["audio"]["value"], json!(40));
}

#[tokio::test]
async fn her_own_commission_wins_and_a_ringing_call_keeps_the_one_it_was_placed_with() {
    let (app, _rooms) = call_app().await;
    let admin = app.admin_token().await;
    let (user, telecaller) = (app.user().await, app.telecaller(true).await);
    app.grant_coins(&user.id, 10_000).await;
    let path = format!("/admin/telecallers/{}/commission", telecaller.id);

    let set = app.put_auth(&path, &admin, &json!({ "percent": 10 })).await;
    set.assert(200);
    assert_eq!(set.body["data"]["commissionPercent"], json!(10));
    let mut calls = Caller::new(&app, &user, &telecaller).await;
    let call = calls.ring().await;
    // Changed while the call rings: this call keeps the 10% it was placed with.
    app.put_auth(&path, &admin, &json!({ "percent": 90 })).await.assert(200);
    let (for_user, for_her) = calls.talk(&call, 10).await;
    assert_eq!((for_user["coinsSpent"].clone(), for_her["coinsEarned"].clone()), (json!(20), json!(18)));

    let call = calls.ring().await;
    let (_, for_her) = calls.talk(&call, 10).await;
    assert_eq!(for_her["coinsEarned"], json!(2), "the next call pays her 10% of 20");

    let cleared = app.put_auth(&path, &admin, &json!({ "percent": null })).await;
    cleared.assert(200);
    assert_eq!(cleared.body["data"]["commissionPercent"], Value::Null);
    let call = calls.ring().await;
    let (_, for_her) = calls.talk(&call, 10).await;
    assert_eq!(for_her["coinsEarned"], json!(10), "back to the platform's 50%");

    let log = app.get_auth("/admin/audit-log", &admin).await;
    let entry = &log.body["data"]["entries"][0];
    assert_eq!(entry["action"], json!("telecaller.commission"));
    assert_eq!(
        (entry["before"]["commissionHundredths"].clone(), entry["after"]["commissionHundredths"].clone()),
        (json!(9000), Value::Null)
    );
    app.assert_books_balance().await;
}

#[tokio::test]
async fn commissions_are_percentages_of_telecallers() {
    let (app, _rooms) = call_app().await;
    let admin = app.admin_token().await;
    let (user, telecaller) = (app.user().await, app.telecaller(true).await);
    let path = format!("/admin/telecallers/{}/commission", telecaller.id);
    for bad in [json!({ "percent": 101 }), json!({ "percent": -1 }), json!({ "percent": 100.5 }), json!({})] {
        let refused = app.put_auth(&path, &admin, &bad).await;
        refused.assert_error(400, "validation_error");
        assert_eq!(refused.body["errors"][0]["field"], json!("percent"), "{bad}");
    }
    app.put_auth(&format!("/admin/telecallers/{}/commission", user.id), &admin, &json!({ "percent": 5 }))
        .await
        .assert_error(404, "telecaller_not_found");
    let unknown = format!("/admin/telecallers/{}/commission", uuid::Uuid::now_v7());
    app.put_auth(&unknown, &admin, &json!({ "percent": 5 })).await.assert_error(404, "telecaller_not_found");
    let refused = app.put_auth("/admin/config", &admin, &json!({ "commissionPercent": { "video": 150 } })).await;
    refused.assert_error(400, "validation_error");
    app.put_auth(&path, &user.token, &json!({ "percent": 5 })).await.assert_error(403, "forbidden_role");
}
