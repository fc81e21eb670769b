//! The response names the earlier backend's apps read, endpoint by endpoint (docs/migrating.md),
//! and `wallet:updated` whenever a balance changes outside a call.

use crate::support::ws::Ws;
use crate::support::{Session, TestApp, spawn_app};
use serde_json::{Value, json};
use talktime_repository::plans::{self, NewPlan};

/// Asserts `object` has every one of `keys`.
fn has_keys(object: &Value, keys: &[&str]) {
    for key in keys {
        assert!(object.get(key).is_some(), "`{key}` missing in {object}");
    }
}

/// A completed call between `user` and `telecaller`, with feedback from the user and a report
/// by the user; returns (call id, report id).
async fn reported_call(app: &TestApp, user: &Session, telecaller: &Session) -> (String, String) {
    let live = app.live_call(user, telecaller, None).await;
    let call = live.id.clone();
    live.end().await;
    app.post_auth(&format!("/calls/{call}/feedback"), &user.token, &json!({ "rating": 2, "comment": "Cut short" }))
        .await
        .assert(200);
    let report = app
        .post_auth(&format!("/calls/{call}/report"), &user.token, &json!({ "description": "Rude and abusive" }))
        .await;
    report.assert(200);
    (call, report.body["data"]["reportId"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn user_lists_keep_the_earlier_names() {
    let app = spawn_app().await;
    let user = app.user().await;
    let telecaller = app.telecaller(true).await;
    let (_t, _) = Ws::connect(&app, "/ws/telecaller", &telecaller.token).await;

    let listed = app.get_auth("/users/telecallers", &user.token).await;
    listed.assert(200);
    let data = &listed.body["data"];
    has_keys(data, &["data", "hasMore", "audioCallCharge", "videoCallCharge"]);
    assert!(data.get("telecallers").is_none(), "the list is `data`, not `telecallers`");
    assert_eq!(data["data"][0]["_id"], json!(telecaller.id));
    has_keys(&data["data"][0], &["_id", "name", "profile", "language", "about", "presence", "isFavorite"]);

    app.post_auth(&format!("/users/favorites/{}", telecaller.id), &user.token, &json!({})).await.assert(200);
    let favorites = app.get_auth("/users/favorites", &user.token).await;
    has_keys(&favorites.body["data"], &["favorites", "hasMore"]);
    has_keys(&app.get_auth("/users/transactions", &user.token).await.body["data"], &["transactions", "hasMore"]);
    has_keys(&app.get_auth("/users/calls", &user.token).await.body["data"], &["calls", "hasMore"]);
}

#[tokio::test]
async fn a_bare_token_without_the_bearer_prefix_is_accepted() {
    let app = spawn_app().await;
    let user = app.user().await;
    let reply = app.client.get(app.url("/users/me")).header("authorization", &user.token).send().await.unwrap();
    assert_eq!(reply.status(), 200);
    let wrong = app.client.get(app.url("/users/me")).header("authorization", "Basic abc").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
}

#[tokio::test]
async fn a_verified_recharge_answers_the_earlier_names_and_updates_the_wallet() {
    let app = spawn_app().await;
    let plan = plans::create(
        app.db.pool(),
        &NewPlan { amount_paise: 9900, coins: 110, discount_hundredths: 1250, is_active: true },
    )
    .await
    .unwrap();
    let user = app.user().await;
    app.grant_coins(&user.id, 5).await;
    let (mut socket, _) = Ws::connect(&app, "/ws/user", &user.token).await;
    let order = app.post_auth("/payment/create-order", &user.token, &json!({ "planId": plan.id.to_string() })).await;
    order.assert(200);
    assert_eq!(order.body["data"]["amount"], json!(8663), "₹99 less 12.5 %, rounded half up");
    let paid =
        app.post_auth("/payment/sandbox/pay", &user.token, &json!({ "orderId": order.body["data"]["orderId"] })).await;
    let verified = app.post_auth("/payment/verify", &user.token, &paid.body["data"]).await;
    verified.assert(200);
    let data = &verified.body["data"];
    has_keys(data, &["transactionId", "coins", "newBalance", "amount"]);
    assert_eq!(data["coins"], json!(110));
    assert_eq!(data["newBalance"], json!(115));
    assert_eq!(data["amount"], json!(86.63));
    assert_eq!(socket.expect("wallet:updated").await, json!({ "balance": 115 }));
    app.assert_books_balance().await;
}

#[tokio::test]
async fn withdrawals_answer_the_earlier_names_and_update_the_wallet() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let telecaller = app.earning_telecaller(2_000).await;
    let (mut socket, _) = Ws::connect(&app, "/ws/telecaller", &telecaller.token).await;

    let requested = app.post_auth("/payment/withdraw", &telecaller.token, &json!({ "coins": 500 })).await;
    requested.assert(200);
    let data = &requested.body["data"];
    has_keys(data, &["transactionId", "coins", "amount", "status", "currentBalance"]);
    assert_eq!((data["coins"].clone(), data["status"].clone()), (json!(500), json!("PENDING")));
    assert_eq!(data["currentBalance"], json!(1_500));
    assert_eq!(socket.expect("wallet:updated").await, json!({ "balance": 1_500 }));
    let first = data["transactionId"].as_str().unwrap().to_owned();

    let listed = app.get_auth("/admin/transactions?type=WITHDRAWAL", &admin).await;
    let row = &listed.body["data"]["transactions"][0];
    assert_eq!(row["user"]["_id"], json!(telecaller.id));
    has_keys(&row["user"], &["_id", "name"]);
    let details = app.get_auth(&format!("/admin/transactions/{first}"), &admin).await;
    let owner = &details.body["data"]["user"];
    has_keys(owner, &["_id", "name", "phone", "walletBalance"]);
    assert_eq!(owner["walletBalance"], json!(1_500));

    let completed = app
        .post_auth(&format!("/admin/withdrawals/{first}/complete"), &admin, &json!({ "transferReference": "UTR12345" }))
        .await;
    completed.assert(200);
    assert_eq!(completed.body["data"]["coinsDeducted"], json!(500));
    assert_eq!(completed.body["data"]["newBalance"], json!(1_500));

    // Rejected without a body: the coins come back, and the sockets hear it.
    let second = app.post_auth("/payment/withdraw", &telecaller.token, &json!({ "coins": 700 })).await;
    assert_eq!(socket.expect("wallet:updated").await, json!({ "balance": 800 }));
    let second = second.body["data"]["transactionId"].as_str().unwrap().to_owned();
    app.post_auth(&format!("/admin/withdrawals/{second}/reject"), &admin, &json!({ "reason": "          " }))
        .await
        .assert_error(400, "validation_error");
    let rejected = app.client.post(app.url(&format!("/admin/withdrawals/{second}/reject"))).bearer_auth(&admin).send();
    let rejected = crate::support::Reply::read(rejected.await.unwrap()).await;
    rejected.assert(200);
    assert_eq!(rejected.body["data"]["rejectionReason"], json!("No reason given"));
    assert_eq!(rejected.body["data"]["newBalance"], json!(1_500));
    assert_eq!(socket.expect("wallet:updated").await, json!({ "balance": 1_500 }));
    app.assert_books_balance().await;
}

#[tokio::test]
async fn reports_complaints_and_decisions_name_the_parties_as_before() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let user = app.user().await;
    let telecaller = app.earning_telecaller(0).await;
    let (_call, report) = reported_call(&app, &user, &telecaller).await;

    let listed = app.get_auth("/admin/reports", &admin).await;
    let row = &listed.body["data"]["reports"][0];
    has_keys(row, &["reportedBy", "reportedByName", "reportedAgainst", "reportedAgainstName"]);
    assert_eq!(row["reportedBy"], json!(user.id));
    assert_eq!(row["reportedAgainst"], json!(telecaller.id));

    let details = app.get_auth(&format!("/admin/reports/{report}"), &admin).await;
    let data = &details.body["data"];
    assert_eq!(data["reporter"]["role"], json!("USER"));
    assert_eq!(data["reported"]["role"], json!("TELECALLER"));
    assert_eq!(data["reported"]["accountStatus"], json!("ACTIVE"));
    assert_eq!(data["call"]["userFeedback"]["rating"], json!(2));
    assert_eq!(data["call"]["userFeedback"]["comment"], json!("Cut short"));
    assert_eq!(data["call"]["telecallerFeedback"], json!(null));

    let detail = app.get_auth(&format!("/admin/telecallers/{}", telecaller.id), &admin).await;
    let complaint = &detail.body["data"]["complaints"][0];
    assert_eq!(complaint["reportedBy"], json!(user.id));
    assert!(complaint["reportedByName"].is_string());
    let inner = &detail.body["data"]["telecallerProfile"];
    assert_eq!(inner["presence"], json!("OFFLINE"));
    assert_eq!(inner["bankDetails"]["accountNumber"], json!("XXXXXXXX7890"));

    // Decisions answer what the details show.
    let rejected = app
        .patch_auth(
            &format!("/admin/telecallers/{}/reject", telecaller.id),
            &admin,
            &json!({ "reason": "Profile photo does not match" }),
        )
        .await;
    rejected.assert(200);
    has_keys(&rejected.body["data"], &["walletBalance", "complaints", "totalComplaints", "telecallerProfile"]);
    assert_eq!(rejected.body["data"]["telecallerProfile"]["approvalStatus"], json!("REJECTED"));
    assert_eq!(rejected.body["data"]["complaints"][0]["reportedBy"], json!(user.id));
    let applicant = app.telecaller(false).await;
    let approved = app.patch_auth(&format!("/admin/telecallers/{}/approve", applicant.id), &admin, &json!({})).await;
    approved.assert(200);
    has_keys(&approved.body["data"], &["walletBalance", "complaints", "totalComplaints", "telecallerProfile"]);
    assert_eq!(approved.body["data"]["telecallerProfile"]["approvalStatus"], json!("APPROVED"));
    assert_eq!(approved.body["data"]["telecallerProfile"]["presence"], json!("OFFLINE"));
    app.assert_books_balance().await;
}

#[tokio::test]
async fn admin_plans_are_paged_and_take_two_decimal_discounts() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for (amount, coins) in [(49, 50), (99, 110), (199, 240)] {
        let created = app
            .post_auth("/admin/plans", &admin, &json!({ "amount": amount, "coins": coins, "discountPercentage": 12.5 }))
            .await;
        created.assert(201);
        assert_eq!(created.body["data"]["discountPercentage"], json!(12.5));
    }
    app.post_auth("/admin/plans", &admin, &json!({ "amount": 10, "coins": 1, "discountPercentage": 12.345 }))
        .await
        .assert_error(400, "validation_error");
    let page = app.get_auth("/admin/plans?page=2&limit=2", &admin).await;
    page.assert(200);
    let data = &page.body["data"];
    assert_eq!((data["page"].clone(), data["limit"].clone()), (json!(2), json!(2)));
    assert_eq!((data["total"].clone(), data["totalPages"].clone()), (json!(3), json!(2)));
    assert_eq!(data["plans"].as_array().unwrap().len(), 1);
    assert_eq!(data["plans"][0]["coins"], json!(240));
    let user = app.user().await;
    assert_eq!(
        app.get_auth("/users/plans", &user.token).await.body["data"]["plans"][0]["discountPercentage"],
        json!(12.5)
    );
}
