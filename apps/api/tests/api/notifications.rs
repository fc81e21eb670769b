//! The notification inbox and preferences: what was pushed is kept (not rings), read once,
//! deleted after the retention and with the account; a muted category is neither pushed nor
//! stored (issue 26, docs/push.md).

use serde_json::{Value, json};

use crate::push::{fake_fcm, missed_call, push_settings, sends, wait_for_sends};
use crate::support::fake::FakeServer;
use crate::support::{Session, TestApp};

async fn app_with(fcm: &FakeServer, extra: &[(&'static str, &str)]) -> TestApp {
    let settings = extra.iter().fold(push_settings(fcm, "50"), |settings, (key, value)| settings.with(key, value));
    crate::support::spawn_app_with(&settings.vars()).await
}

async fn inbox(app: &TestApp, account: &Session) -> Value {
    let reply = app.get_auth("/users/notifications", &account.token).await;
    reply.assert(200);
    reply.body["data"].clone()
}

async fn with_phone(app: &TestApp, account: &Session) {
    let body = json!({ "token": format!("phone-{}", account.id), "platform": "android" });
    app.post_auth("/users/devices", &account.token, &body).await.assert(200);
}

#[tokio::test]
async fn a_missed_call_lands_in_the_inbox_once_and_is_read_once() {
    let fcm = fake_fcm().await;
    let app = app_with(&fcm, &[]).await;
    let (user, telecaller) = (app.user().await, app.telecaller(true).await);
    with_phone(&app, &telecaller).await;
    let call = missed_call(&app, &user, &telecaller).await;
    wait_for_sends(&fcm, 1).await;

    let data = inbox(&app, &telecaller).await;
    assert_eq!(data["unreadCount"], json!(1));
    let entry = &data["notifications"][0];
    assert_eq!((entry["category"].clone(), entry["kind"].clone()), (json!("missed_calls"), json!("MISSED_CALL")));
    assert_eq!(entry["data"]["callId"], json!(call));
    assert_eq!(entry["read"], json!(false));
    assert_eq!(data["notifications"].as_array().unwrap().len(), 1, "one entry, not one per device; no ring");
    assert_eq!(inbox(&app, &user).await["notifications"], json!([]));

    let id = entry["_id"].as_str().unwrap();
    let others = app.post_auth("/users/notifications/read", &user.token, &json!({ "ids": [id] })).await;
    assert_eq!(others.body["data"]["updated"], json!(0), "only her own");
    let read = app.post_auth("/users/notifications/read", &telecaller.token, &json!({ "ids": [id] })).await;
    assert_eq!(read.body["data"], json!({ "updated": 1, "unreadCount": 0 }));
    let again = app.post_auth("/users/notifications/read", &telecaller.token, &json!({ "all": true })).await;
    assert_eq!(again.body["data"]["updated"], json!(0));
    app.post_auth("/users/notifications/read", &telecaller.token, &json!({})).await.assert(400);
    assert_eq!(inbox(&app, &telecaller).await["notifications"][0]["read"], json!(true));
}

#[tokio::test]
async fn a_muted_category_is_neither_pushed_nor_stored() {
    let fcm = fake_fcm().await;
    let app = app_with(&fcm, &[]).await;
    let (user, telecaller) = (app.user().await, app.telecaller(true).await);
    with_phone(&app, &telecaller).await;
    let prefs = app.get_auth("/users/notification-preferences", &telecaller.token).await;
    let all_on =
        json!({ "missed_calls": true, "online_alerts": true, "wallet": true, "announcements": true, "offers": true });
    assert_eq!(prefs.body["data"]["categories"], all_on);
    let muted = app
        .put_auth(
            "/users/notification-preferences",
            &telecaller.token,
            &json!({ "categories": { "missed_calls": false } }),
        )
        .await;
    muted.assert(200);
    assert_eq!(muted.body["data"]["categories"]["missed_calls"], json!(false));
    assert_eq!(muted.body["data"]["categories"]["offers"], json!(true));
    // Rings are not a category.
    let ring = json!({ "categories": { "incoming_calls": false } });
    app.put_auth("/users/notification-preferences", &telecaller.token, &ring).await.assert(400);

    missed_call(&app, &user, &telecaller).await;
    // A second telecaller, not muted, is pushed to: her push shows the worker ran meanwhile.
    let other = app.telecaller(true).await;
    with_phone(&app, &other).await;
    missed_call(&app, &user, &other).await;
    let sent = wait_for_sends(&fcm, 1).await;
    assert!(sent.iter().all(|s| s["message"]["token"] == json!(format!("phone-{}", other.id))), "{sent:?}");
    assert_eq!(inbox(&app, &telecaller).await["notifications"], json!([]));
    assert_eq!(inbox(&app, &other).await["unreadCount"], json!(1));
    assert_eq!(sends(&fcm).len(), 1);
}

#[tokio::test]
async fn the_inbox_forgets_after_its_retention_and_with_the_account() {
    let fcm = fake_fcm().await;
    let app = app_with(&fcm, &[("NOTIFICATION_RETENTION_DAYS", "0")]).await;
    let (user, telecaller) = (app.user().await, app.telecaller(true).await);
    missed_call(&app, &user, &telecaller).await;
    assert_eq!(inbox(&app, &telecaller).await["unreadCount"], json!(1), "kept with no device too");
    assert_eq!(app.controller().expire_notifications().await.unwrap(), 1);
    assert_eq!(inbox(&app, &telecaller).await["notifications"], json!([]));

    let kept = app_with(&fcm, &[]).await;
    let (user, telecaller) = (kept.user().await, kept.telecaller(true).await);
    missed_call(&kept, &user, &telecaller).await;
    assert_eq!(kept.controller().expire_notifications().await.unwrap(), 0);
    kept.delete_auth("/users/me", &telecaller.token).await.assert(200);
    let left =
        talktime_repository::notifications::page(kept.db.pool(), telecaller.id.parse().unwrap(), 10, 0).await.unwrap();
    assert!(left.is_empty(), "erased with the account");
}

#[tokio::test]
async fn a_broadcast_reaches_its_segment_at_a_bounded_rate_and_a_ring_goes_out_first() {
    let _cpu = crate::support::exclusive().await;
    let fcm = fake_fcm().await;
    let app = app_with(&fcm, &[("BROADCAST_PER_SECOND", "1000")]).await;
    let admin = app.admin_token().await;
    let run = u32::from(rand_run());
    let (users, _) = talktime_repository::seed::load_population(&app.db, run, 2_000, 0).await.unwrap();
    talktime_repository::testing::register_devices(&app.db, &users).await.unwrap();
    let offers = [talktime_domain::notification::NotificationCategory::Offers];
    talktime_repository::notifications::set_muted(app.db.pool(), users[0], &offers).await.unwrap();

    let body = json!({ "title": "Diwali offer", "body": "20% more coins today", "category": "offers",
        "audience": { "role": "USER", "language": "english" } });
    let preview = app.post_auth("/admin/broadcasts?dryRun=true", &admin, &body).await;
    assert_eq!(preview.body["data"]["targeted"], json!(1_999), "the muted one is left out");
    let narrower = json!({ "title": "t", "body": "b", "category": "offers", "audience": { "role": "USER", "hasRecharged": true } });
    assert_eq!(
        app.post_auth("/admin/broadcasts?dryRun=true", &admin, &narrower).await.body["data"]["targeted"],
        json!(0)
    );
    let wrong = json!({ "title": "t", "body": "b", "category": "missed_calls", "audience": { "role": "USER" } });
    app.post_auth("/admin/broadcasts", &admin, &wrong).await.assert(400);
    assert!(sends(&fcm).is_empty(), "a preview sends nothing");

    let sent = app.post_auth("/admin/broadcasts", &admin, &body).await;
    sent.assert(200);
    let id = sent.body["data"]["_id"].as_str().unwrap().to_owned();
    assert_eq!(sent.body["data"]["targeted"], json!(1_999));
    let spread = talktime_repository::testing::broadcast_spread_secs(&app.db, id.parse().unwrap()).await.unwrap();
    assert!((1.9..2.1).contains(&spread), "1 999 pushes at 1 000 a second: {spread} s");

    // A ring meanwhile goes out ahead of what the broadcast still has to send.
    let caller = app.user().await;
    app.grant_coins(&caller.id, 1_000).await;
    let telecaller = app.telecaller(true).await;
    with_phone(&app, &telecaller).await;
    app.put_auth("/telecaller/availability", &telecaller.token, &json!({ "reachableByPush": true })).await.assert(200);
    let (mut u, _) = crate::support::ws::Ws::connect(&app, "/ws/user", &caller.token).await;
    u.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
    u.expect("call:ringing").await;
    let before_ring = crate::support::eventually("the ring pushed", || async {
        let all = sends(&fcm);
        let at = all.iter().position(|s| s["message"]["data"]["type"] == json!("incoming_call"))?;
        Some(all[..at].iter().filter(|s| s["message"]["data"]["type"] == json!("broadcast")).count())
    })
    .await;
    assert!(before_ring < 1_999, "the ring did not wait for the broadcast ({before_ring} sent before it)");

    let done = crate::support::eventually("the whole broadcast sent", || async {
        let figures = app.get_auth(&format!("/admin/broadcasts/{id}"), &admin).await.body["data"].clone();
        (figures["sent"] == json!(1_999)).then_some(figures)
    })
    .await;
    assert_eq!((done["failed"].clone(), done["opened"].clone()), (json!(0), json!(0)));
    let first = talktime_repository::notifications::page(app.db.pool(), users[1], 10, 0).await.unwrap();
    assert_eq!(first[0].title.as_deref(), Some("Diwali offer"));
    talktime_repository::notifications::mark_read(app.db.pool(), users[1], None).await.unwrap();
    let opened = app.get_auth(&format!("/admin/broadcasts/{id}"), &admin).await;
    assert_eq!(opened.body["data"]["opened"], json!(1));
}

/// A load-population run number of its own (phones `6<run>…` never collide across tests).
fn rand_run() -> u16 {
    (uuid::Uuid::now_v7().as_u128() % 60_000) as u16
}
