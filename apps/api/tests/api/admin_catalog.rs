//! Admin: prices, plans, reports, live calls and the dashboard.

use crate::support::ws::Ws;
use crate::support::{FakeServer, TestApp, spawn_app, spawn_app_with};
use serde_json::json;
use talktime_domain::ids::CallId;

async fn call_app() -> (TestApp, FakeServer) {
    let rooms = FakeServer::start().await;
    rooms.route("POST", "/twirp/livekit.RoomService/DeleteRoom", 200, "");
    let app = spawn_app_with(&[("LIVEKIT_API_URL", rooms.base.as_str())]).await;
    (app, rooms)
}

#[tokio::test]
async fn new_prices_apply_to_the_next_call_not_the_running_one() {
    let (app, _rooms) = call_app().await;
    let admin = app.admin_token().await;
    let user = app.user().await;
    let telecaller = app.telecaller(true).await;
    app.grant_coins(&user.id, 10_000).await;
    let (mut u, _) = Ws::connect(&app, "/ws/user", &user.token).await;
    let (mut t, _) = Ws::connect(&app, "/ws/telecaller", &telecaller.token).await;
    u.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
    let first = u.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    t.expect("call:incoming").await;
    t.send("call:accept", json!({ "callId": first })).await;
    t.expect("call:accepted").await;

    let changed = app
        .client
        .put(app.url("/admin/config"))
        .bearer_auth(&admin)
        .json(&json!({ "userAudioCallCoinPerSec": 5, "telecallerAudioCallCoinPerSec": 3 }))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    testing_age(&app, &first, 10).await;
    u.send("call:end", json!({ "callId": first })).await;
    let ended = u.expect("call:ended").await;
    assert_eq!(ended["coinsSpent"], json!(20), "the running call keeps 2 coins/s");

    u.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
    let second = u.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    t.expect("call:incoming").await;
    t.send("call:accept", json!({ "callId": second })).await;
    t.expect("call:accepted").await;
    testing_age(&app, &second, 10).await;
    u.send("call:end", json!({ "callId": second })).await;
    let ended = u.expect("call:ended").await;
    assert_eq!(ended["coinsSpent"], json!(50), "the next call costs 5 coins/s");
    assert_eq!(t.expect("call:ended").await["coinsEarned"], json!(30));
    app.assert_books_balance().await;
}

async fn testing_age(app: &TestApp, call: &str, secs: i64) {
    talktime_repository::testing::age_call(&app.db, call.parse::<CallId>().unwrap(), secs).await.unwrap();
}

#[tokio::test]
async fn config_is_grouped_with_labels_and_validated() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let config = app.get_auth("/admin/config", &admin).await;
    config.assert(200);
    let data = &config.body["data"];
    assert_eq!(data["audioCall"]["userCoinPerSec"]["value"], json!(2));
    assert!(data["audioCall"]["userCoinPerSec"]["label"].is_string());
    assert!(data["withdrawal"]["inrToCoinRatio"]["description"].is_string());
    assert_eq!(data["call"]["minBalanceSeconds"]["value"], json!(60));

    let put = |body: serde_json::Value| {
        let app = &app;
        let admin = admin.clone();
        async move {
            crate::support::Reply::read(
                app.client.put(app.url("/admin/config")).bearer_auth(&admin).json(&body).send().await.unwrap(),
            )
            .await
        }
    };
    put(json!({})).await.assert_error(400, "validation_error");
    put(json!({ "telecallerVideoCallCoinPerSec": 9 })).await.assert_error(400, "telecaller_rate_above_user_rate");
    put(json!({ "minWithdrawalCoins": 0 })).await.assert_error(400, "validation_error");
    put(json!({ "inrToCoinRatio": 0.001 })).await.assert_error(400, "validation_error");
    put(json!({ "surprise": 1 })).await.assert_error(400, "validation_error");
    let ok = put(json!({ "inrToCoinRatio": 2.5, "minWithdrawalCoins": 100 })).await;
    ok.assert(200);
    assert_eq!(ok.body["data"]["withdrawal"]["inrToCoinRatio"]["value"], json!(2.5));
    let log = app.get_auth("/admin/audit-log", &admin).await;
    let entry = &log.body["data"]["entries"][0];
    assert_eq!(entry["action"], json!("config.update"));
    assert_eq!(entry["before"]["minWithdrawalCoins"], json!(500));
    assert_eq!(entry["after"]["minWithdrawalCoins"], json!(100));
}

#[tokio::test]
async fn plans_crud_with_soft_delete() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let created =
        app.post_auth("/admin/plans", &admin, &json!({ "amount": 99.5, "coins": 120, "discountPercentage": 10 })).await;
    created.assert(201);
    let id = created.body["data"]["_id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["data"]["amount"], json!(99.5));
    app.post_auth("/admin/plans", &admin, &json!({ "amount": 0, "coins": 1 }))
        .await
        .assert_error(400, "validation_error");
    app.post_auth("/admin/plans", &admin, &json!({ "amount": 1.234, "coins": 1 }))
        .await
        .assert_error(400, "validation_error");
    app.post_auth("/admin/plans", &admin, &json!({ "amount": 10, "coins": 1, "discountPercentage": 100 }))
        .await
        .assert_error(400, "validation_error");

    let updated = app
        .client
        .put(app.url(&format!("/admin/plans/{id}")))
        .bearer_auth(&admin)
        .json(&json!({ "isActive": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), 200);
    let user = app.user().await;
    assert_eq!(
        app.get_auth("/users/plans", &user.token).await.body["data"]["plans"],
        json!([]),
        "inactive plans are hidden from users"
    );
    let listed = app.get_auth("/admin/plans", &admin).await;
    assert_eq!(listed.body["data"]["plans"][0]["isActive"], json!(false));

    app.delete_auth(&format!("/admin/plans/{id}"), &admin).await.assert(200);
    app.delete_auth(&format!("/admin/plans/{id}"), &admin).await.assert_error(404, "plan_not_found");
    assert_eq!(app.get_auth("/admin/plans", &admin).await.body["data"]["plans"], json!([]));
    let actions: Vec<String> = app.get_auth("/admin/audit-log", &admin).await.body["data"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["plan.delete", "plan.update", "plan.create"]);
}

#[tokio::test]
async fn reports_move_through_their_workflow_and_calls_can_be_ended_by_admins() {
    let (app, _rooms) = call_app().await;
    let admin = app.admin_token().await;
    let user = app.user().await;
    let telecaller = app.telecaller(true).await;
    app.grant_coins(&user.id, 1_000).await;
    let (mut u, _) = Ws::connect(&app, "/ws/user", &user.token).await;
    let (mut t, _) = Ws::connect(&app, "/ws/telecaller", &telecaller.token).await;
    u.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
    let call = u.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    t.expect("call:incoming").await;
    t.send("call:accept", json!({ "callId": call })).await;
    t.expect("call:accepted").await;
    testing_age(&app, &call, 12).await;

    let live = app.get_auth("/admin/calls?status=ACCEPTED", &admin).await;
    live.assert(200);
    let row = &live.body["data"]["calls"][0];
    assert_eq!(row["_id"], json!(call));
    assert!(row["elapsedSeconds"].as_i64().unwrap() >= 12);
    assert!(row["coinsSoFar"].as_i64().unwrap() >= 24);

    app.post_auth(&format!("/admin/calls/{call}/end"), &admin, &json!({})).await.assert(200);
    let ended = u.expect("call:ended").await;
    assert_eq!(ended["reason"], json!("ADMIN"));
    assert_eq!(ended["durationInSeconds"], json!(12));
    app.post_auth(&format!("/admin/calls/{call}/end"), &admin, &json!({})).await.assert_error(409, "call_not_active");

    let report = app
        .post_auth(&format!("/calls/{call}/report"), &user.token, &json!({ "description": "Rude and abusive" }))
        .await;
    let id = report.body["data"]["reportId"].as_str().unwrap().to_owned();
    let status = format!("/admin/reports/{id}/status");
    app.patch_auth(&status, &admin, &json!({ "status": "RESOLVED" })).await.assert_error(409, "invalid_transition");
    app.patch_auth(&status, &admin, &json!({ "status": "UNDER_REVIEW" })).await.assert(200);
    let resolved = app.patch_auth(&status, &admin, &json!({ "status": "RESOLVED", "adminNotes": "Warned" })).await;
    resolved.assert(200);
    assert!(resolved.body["data"]["resolvedAt"].is_string());
    let reopened = app.patch_auth(&status, &admin, &json!({ "status": "UNDER_REVIEW" })).await;
    assert_eq!(reopened.body["data"]["resolvedAt"], json!(null));
    assert_eq!(reopened.body["data"]["adminNotes"], json!("Warned"));
    app.patch_auth(&status, &admin, &json!({ "status": "PENDING" })).await.assert_error(409, "invalid_transition");
    let detail = app.get_auth(&format!("/admin/reports/{id}"), &admin).await;
    assert_eq!(detail.body["data"]["call"]["coinsSpent"], json!(24));
    assert_eq!(detail.body["data"]["reported"]["_id"], json!(telecaller.id));
    let listed = app.get_auth("/admin/reports?status=UNDER_REVIEW", &admin).await;
    assert_eq!(listed.body["data"]["total"], json!(1));
    let complaints = app.get_auth(&format!("/admin/telecallers/{}", telecaller.id), &admin).await;
    assert_eq!(complaints.body["data"]["totalComplaints"], json!(1));
    app.assert_books_balance().await;
}

#[tokio::test]
async fn the_dashboard_counts_from_the_books() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let user = app.user().await;
    app.telecaller(false).await;
    app.grant_coins(&user.id, 300).await;
    let stats = app.get_auth("/admin/dashboard/stats", &admin).await;
    stats.assert(200);
    let data = &stats.body["data"];
    assert_eq!(data["users"]["total"], json!(1));
    assert_eq!(data["users"]["newThisMonth"], json!(1));
    assert_eq!(data["telecallers"]["pending"], json!(1));
    assert_eq!(data["coins"]["inWallets"], json!(300));
    assert_eq!(data["calls"]["total"], json!(0));

    let today = app.get_auth("/admin/dashboard/user-distribution?period=today", &admin).await;
    assert_eq!(today.body["data"], json!({ "users": 1, "telecallers": 1 }));
    app.get_auth("/admin/dashboard/user-distribution?period=yesterday", &admin)
        .await
        .assert_error(400, "validation_error");
    let hourly = app.get_auth("/admin/dashboard/recharge-withdrawal-trends?period=last24hours", &admin).await;
    assert_eq!(hourly.body["data"]["trends"].as_array().unwrap().len(), 24);
    let daily = app.get_auth("/admin/dashboard/recharge-withdrawal-trends?period=last7days", &admin).await;
    let points = daily.body["data"]["trends"].as_array().unwrap();
    assert_eq!(points.len(), 7);
    assert_eq!(points[6]["label"], json!(chrono::Utc::now().format("%Y-%m-%d").to_string()));
}
