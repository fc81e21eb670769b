//! Withdrawals: held at request, then completed or rejected by an admin exactly once.

use crate::support::{Session, TestApp, spawn_app};
use futures_util::future::join_all;
use serde_json::json;
use talktime_repository::ledger::{self, LedgerAccount};

async fn platform(app: &TestApp, account: LedgerAccount) -> i64 {
    ledger::platform_balance(app.db.pool(), account).await.unwrap()
}

#[tokio::test]
async fn a_request_holds_the_coins_at_once_and_fixes_the_rupee_amount() {
    let app = spawn_app().await;
    let telecaller = app.earning_telecaller(2_000).await;
    let reply = app.post_auth("/payment/withdraw", &telecaller.token, &json!({ "coins": 750 })).await;
    reply.assert(200);
    let data = &reply.body["data"];
    assert_eq!(data["status"], json!("PENDING"));
    assert_eq!(data["type"], json!("WITHDRAWAL"));
    assert_eq!(data["coins"], json!(750));
    assert_eq!(data["amount"], json!(750.0), "1 coin per rupee by default");
    assert_eq!(data["bankDetails"]["accountNumber"], json!("XXXXXXXX7890"));
    assert_eq!(data["bankDetails"]["ifscCode"], json!("HDFC0001234"));
    assert_eq!(app.balance(&telecaller.id).await, 1_250);
    assert_eq!(platform(&app, LedgerAccount::WithdrawalHolds).await, 750);

    let history = app.get_auth("/telecaller/transactions", &telecaller.token).await;
    history.assert(200);
    assert_eq!(history.body["data"]["transactions"][0]["_id"], data["_id"]);
    // Bank details cannot be removed while the request is pending.
    app.delete_auth("/telecaller/bank-details", &telecaller.token).await.assert_error(409, "withdrawal_pending");
    app.assert_books_balance().await;
}

#[tokio::test]
async fn one_pending_withdrawal_at_a_time_even_when_requests_race() {
    let app = spawn_app().await;
    let telecaller = app.earning_telecaller(5_000).await;
    let body = json!({ "coins": 600 });
    let replies = join_all((0..6).map(|_| app.post_auth("/payment/withdraw", &telecaller.token, &body))).await;
    let accepted = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(accepted, 1, "{replies:?}");
    assert!(
        replies.iter().filter(|r| r.status != 200).all(|r| matches!(r.code(), "withdrawal_pending" | "rate_limited"))
    );
    assert!(replies.iter().any(|r| r.code() == "withdrawal_pending"));
    assert_eq!(app.balance(&telecaller.id).await, 4_400);
    app.assert_books_balance().await;
}

#[tokio::test]
async fn minimum_balance_bank_details_and_approval_are_checked() {
    let app = spawn_app().await;
    let telecaller = app.earning_telecaller(800).await;
    let below = app.post_auth("/payment/withdraw", &telecaller.token, &json!({ "coins": 499 })).await;
    below.assert_error(400, "below_minimum_withdrawal");
    app.post_auth("/payment/withdraw", &telecaller.token, &json!({ "coins": 801 }))
        .await
        .assert_error(400, "insufficient_balance");
    app.post_auth("/payment/withdraw", &telecaller.token, &json!({ "coins": 1.5 })).await.assert(400);
    app.post_auth("/payment/withdraw", &telecaller.token, &json!({ "coins": "500" })).await.assert(400);
    assert_eq!(app.balance(&telecaller.id).await, 800);

    let no_bank = app.telecaller(true).await;
    app.grant_coins(&no_bank.id, 1_000).await;
    app.post_auth("/payment/withdraw", &no_bank.token, &json!({ "coins": 500 }))
        .await
        .assert_error(400, "bank_details_required");
    let pending = app.telecaller(false).await;
    app.post_auth("/payment/withdraw", &pending.token, &json!({ "coins": 500 }))
        .await
        .assert_error(403, "telecaller_not_approved");
    let user = app.user().await;
    app.post_auth("/payment/withdraw", &user.token, &json!({ "coins": 500 })).await.assert_error(403, "forbidden_role");
    app.assert_books_balance().await;
}

async fn pending_withdrawal(app: &TestApp, coins: i64) -> (Session, String) {
    let telecaller = app.earning_telecaller(1_000).await;
    let reply = app.post_auth("/payment/withdraw", &telecaller.token, &json!({ "coins": coins })).await;
    reply.assert(200);
    (telecaller, reply.body["data"]["_id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn completing_pays_out_the_held_coins_once() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (telecaller, id) = pending_withdrawal(&app, 600).await;
    let done = app
        .post_auth(&format!("/admin/withdrawals/{id}/complete"), &admin, &json!({ "transferReference": "UTR123456" }))
        .await;
    done.assert(200);
    assert_eq!(done.body["data"]["status"], json!("SUCCESS"));
    assert_eq!(done.body["data"]["transferReference"], json!("UTR123456"));
    assert!(done.body["data"]["processedAt"].is_string());
    assert_eq!(app.balance(&telecaller.id).await, 400);
    assert_eq!(platform(&app, LedgerAccount::WithdrawalHolds).await, 0);
    assert_eq!(platform(&app, LedgerAccount::Payouts).await, 600);

    let again = app
        .post_auth(&format!("/admin/withdrawals/{id}/complete"), &admin, &json!({ "transferReference": "UTR999999" }))
        .await;
    again.assert_error(409, "withdrawal_already_processed");
    app.post_auth(&format!("/admin/withdrawals/{id}/reject"), &admin, &json!({ "reason": "changed mind" }))
        .await
        .assert_error(409, "withdrawal_already_processed");
    app.post_auth(&format!("/admin/withdrawals/{id}/complete"), &admin, &json!({ "transferReference": "abc" }))
        .await
        .assert_error(400, "validation_error");
    let history = app.get_auth("/telecaller/transactions", &telecaller.token).await;
    assert_eq!(history.body["data"]["transactions"][0]["status"], json!("SUCCESS"));
    app.assert_books_balance().await;
}

#[tokio::test]
async fn rejecting_returns_the_coins() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (telecaller, id) = pending_withdrawal(&app, 700).await;
    assert_eq!(app.balance(&telecaller.id).await, 300);
    let done = app
        .post_auth(
            &format!("/admin/withdrawals/{id}/reject"),
            &admin,
            &json!({ "reason": "Account name does not match" }),
        )
        .await;
    done.assert(200);
    assert_eq!(done.body["data"]["status"], json!("REJECTED"));
    assert_eq!(app.balance(&telecaller.id).await, 1_000);
    assert_eq!(platform(&app, LedgerAccount::WithdrawalHolds).await, 0);
    let history = app.get_auth("/telecaller/transactions", &telecaller.token).await;
    assert_eq!(history.body["data"]["transactions"][0]["rejectionReason"], json!("Account name does not match"));
    // A new request is possible again.
    app.post_auth("/payment/withdraw", &telecaller.token, &json!({ "coins": 500 })).await.assert(200);
    app.assert_books_balance().await;
}

#[tokio::test]
async fn racing_complete_and_reject_move_the_coins_exactly_once() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (telecaller, id) = pending_withdrawal(&app, 500).await;
    let complete = format!("/admin/withdrawals/{id}/complete");
    let reject = format!("/admin/withdrawals/{id}/reject");
    let complete_body = json!({ "transferReference": "UTR000111" });
    let reject_body = json!({ "reason": "duplicate request" });
    let replies = join_all((0..20).map(|i| {
        if i % 2 == 0 {
            app.post_auth(&complete, &admin, &complete_body)
        } else {
            app.post_auth(&reject, &admin, &reject_body)
        }
    }))
    .await;
    let winners: Vec<_> = replies.iter().filter(|r| r.status == 200).collect();
    assert_eq!(winners.len(), 1);
    assert!(replies.iter().filter(|r| r.status != 200).all(|r| r.code() == "withdrawal_already_processed"));
    let balance = app.balance(&telecaller.id).await;
    let payouts = platform(&app, LedgerAccount::Payouts).await;
    match winners[0].body["data"]["status"].as_str().unwrap() {
        "SUCCESS" => assert_eq!((balance, payouts), (500, 500)),
        "REJECTED" => assert_eq!((balance, payouts), (1_000, 0)),
        other => panic!("unexpected {other}"),
    }
    assert_eq!(platform(&app, LedgerAccount::WithdrawalHolds).await, 0);
    app.assert_books_balance().await;
}

#[tokio::test]
async fn admin_transaction_listing_and_details() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, first) = pending_withdrawal(&app, 500).await;
    let (_, second) = pending_withdrawal(&app, 600).await;
    app.post_auth(&format!("/admin/withdrawals/{first}/reject"), &admin, &json!({ "reason": "not valid" }))
        .await
        .assert(200);

    let pending = app.get_auth("/admin/transactions?type=WITHDRAWAL&status=PENDING", &admin).await;
    pending.assert(200);
    let items = pending.body["data"]["transactions"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["_id"], json!(second));
    assert_eq!(items[0]["bankDetails"]["accountNumber"], json!("XXXXXXXX7890"));
    assert_eq!(
        (pending.body["data"]["total"].clone(), pending.body["data"]["totalPages"].clone()),
        (json!(1), json!(1))
    );

    let all = app.get_auth("/admin/transactions?type=WITHDRAWAL&limit=1", &admin).await;
    assert_eq!((all.body["data"]["total"].clone(), all.body["data"]["totalPages"].clone()), (json!(2), json!(2)));
    assert_eq!(all.body["data"]["transactions"][0]["_id"], json!(second), "newest first");

    let detail = app.get_auth(&format!("/admin/transactions/{second}"), &admin).await;
    detail.assert(200);
    assert_eq!(detail.body["data"]["coins"], json!(600));
    assert_eq!(
        detail.body["data"]["bankDetails"]["accountNumber"],
        json!("001234567890"),
        "admins see the number to pay"
    );

    app.get_auth("/admin/transactions", &admin).await.assert_error(400, "validation_error");
    app.get_auth("/admin/transactions?type=GIFT", &admin).await.assert_error(400, "validation_error");
    app.get_auth("/admin/transactions?type=RECHARGE&status=DONE", &admin).await.assert_error(400, "validation_error");
    app.get_auth(&format!("/admin/transactions/{}", uuid::Uuid::now_v7()), &admin)
        .await
        .assert_error(404, "transaction_not_found");
    app.post_auth(
        &format!("/admin/withdrawals/{}/complete", uuid::Uuid::now_v7()),
        &admin,
        &json!({ "transferReference": "UTR55555" }),
    )
    .await
    .assert_error(404, "withdrawal_not_found");

    let user = app.user().await;
    app.get_auth("/admin/transactions?type=RECHARGE", &user.token).await.assert_error(403, "forbidden_role");
    app.get("/admin/transactions?type=RECHARGE").await.assert_error(401, "missing_token");
}
