//! `DELETE /users/me`: personal data erased, tokens and sockets ended, the books untouched, the
//! phone free for a new account; refused during a call or with a withdrawal pending.

use crate::support::ws::Ws;
use crate::support::{TestApp, spawn_app};
use serde_json::json;
use talktime_domain::ids::AccountId;
use talktime_repository::{accounts, testing};

/// The stored account: (phone, name, dob, status).
async fn stored(app: &TestApp, id: &str) -> (String, Option<String>, Option<chrono::NaiveDate>, String) {
    let account = accounts::find_by_id(app.db.pool(), id.parse::<AccountId>().unwrap()).await.unwrap().unwrap();
    (account.phone, account.name, account.dob, account.status.to_string())
}

#[tokio::test]
async fn a_deleted_user_is_erased_and_the_phone_signs_up_afresh() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let user = app.user().await;
    app.grant_coins(&user.id, 300).await;
    let (mut socket, _) = Ws::connect(&app, "/ws/user", &user.token).await;

    let deleted = app.delete_auth("/users/me", &user.token).await;
    deleted.assert(200);
    assert_eq!(socket.closed().await, Some(4003));
    let (phone, name, dob, status) = stored(&app, &user.id).await;
    assert_eq!(phone, format!("deleted-{}", user.id));
    assert_eq!((name, dob, status.as_str()), (None, None, "DELETED"));
    app.get_auth("/users/me", &user.token).await.assert(401);
    assert_eq!(app.balance(&user.id).await, 300, "the ledger keeps its entries");
    app.assert_books_balance().await;

    // Admins see it as deleted; it cannot be blocked or unblocked any more.
    let details = app.get_auth(&format!("/admin/users/{}", user.id), &admin).await;
    assert_eq!(details.body["data"]["accountStatus"], json!("DELETED"));
    let listed = app.get_auth("/admin/users", &admin).await;
    let row = listed.body["data"]["users"].as_array().unwrap().iter().find(|r| r["_id"] == json!(user.id)).cloned();
    assert_eq!(row.unwrap()["name"], json!("Deleted User"));
    app.post_auth(&format!("/admin/users/{}/block", user.id), &admin, &json!({}))
        .await
        .assert_error(409, "account_deleted");

    // The number is free: it signs up as a new account with an empty wallet.
    testing::age_otp(&app.db, &user.phone, 120).await.unwrap();
    let (_token, again) = app.login(&user.phone).await;
    assert_ne!(again["_id"], json!(user.id));
    assert_eq!(again["name"], json!(null));
    assert_eq!(again["wallet"]["balance"], json!(0));
}

#[tokio::test]
async fn a_deleted_telecaller_loses_her_bank_details_and_her_reports_name_a_deleted_user() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let user = app.user().await;
    let telecaller = app.earning_telecaller(0).await;
    let live = app.live_call(&user, &telecaller, None).await;
    let call = live.id.clone();

    // Not during a call.
    app.delete_auth("/users/me", &telecaller.token).await.assert_error(409, "call_in_progress");
    app.delete_auth("/users/me", &user.token).await.assert_error(409, "call_in_progress");
    live.end().await;
    app.post_auth(&format!("/calls/{call}/report"), &user.token, &json!({ "description": "Rude and abusive" }))
        .await
        .assert(200);

    // Not with a withdrawal pending.
    app.grant_coins(&telecaller.id, 1_000).await;
    let pending = app.post_auth("/payment/withdraw", &telecaller.token, &json!({ "coins": 500 })).await;
    pending.assert(200);
    app.delete_auth("/users/me", &telecaller.token).await.assert_error(409, "withdrawal_pending");
    let withdrawal = pending.body["data"]["_id"].as_str().unwrap();
    app.post_auth(&format!("/admin/withdrawals/{withdrawal}/reject"), &admin, &json!({ "reason": "Bank mismatch" }))
        .await
        .assert(200);

    app.delete_auth("/users/me", &telecaller.token).await.assert(200);
    let bank = testing::raw_bank_row(&app.db, telecaller.id.parse::<AccountId>().unwrap()).await.unwrap();
    assert!(bank.is_none(), "her bank details are gone");
    let (_, name, _, status) = stored(&app, &telecaller.id).await;
    assert_eq!((name, status.as_str()), (None, "DELETED"));
    // Users no longer find her.
    let listed = app.get_auth("/users/telecallers", &user.token).await;
    assert!(listed.body["data"]["data"].as_array().unwrap().iter().all(|c| c["_id"] != json!(telecaller.id)));

    // The reporter deletes too: the complaint stays and names a deleted user.
    app.delete_auth("/users/me", &user.token).await.assert(200);
    let detail = app.get_auth(&format!("/admin/telecallers/{}", telecaller.id), &admin).await;
    assert_eq!(detail.body["data"]["complaints"][0]["reportedByName"], json!("Deleted User"));
    let reports = app.get_auth("/admin/reports", &admin).await;
    assert_eq!(reports.body["data"]["reports"][0]["reportedByName"], json!("Deleted User"));
    assert_eq!(reports.body["data"]["reports"][0]["reported"]["accountStatus"], json!("DELETED"));
    app.assert_books_balance().await;
}

/// Deletion takes the account's lock: raced against a withdrawal request, either the withdrawal
/// is refused or the deletion is (a pending withdrawal blocks it); never a deleted account with
/// a withdrawal pending. Many rounds, each a fresh telecaller.
#[tokio::test]
async fn deletion_never_races_past_a_withdrawal_request() {
    let app = spawn_app().await;
    for _ in 0..12 {
        let telecaller = app.earning_telecaller(1_000).await;
        let body = json!({ "coins": 600 });
        let (deleted, withdrawn) = tokio::join!(
            app.delete_auth("/users/me", &telecaller.token),
            app.post_auth("/payment/withdraw", &telecaller.token, &body),
        );
        let erased = deleted.status == 200;
        let pending = withdrawn.status == 200;
        assert!(erased != pending, "exactly one wins: deletion {deleted:?}, withdrawal {withdrawn:?}");
        let id = telecaller.id.parse::<AccountId>().unwrap();
        let has_pending = talktime_repository::transactions::has_pending_withdrawal(app.db.pool(), id).await.unwrap();
        assert_eq!(has_pending, pending);
    }
    app.assert_books_balance().await;
}

/// Raced against a call being started, a deletion leaves no live call on a deleted account.
#[tokio::test]
async fn deletion_never_races_past_a_call_being_started() {
    let app = spawn_app().await;
    let telecaller = app.telecaller(true).await;
    let (t, _) = Ws::connect(&app, "/ws/telecaller", &telecaller.token).await;
    for _ in 0..12 {
        let user = app.user().await;
        app.grant_coins(&user.id, 1_000).await;
        let (mut u, _) = Ws::connect(&app, "/ws/user", &user.token).await;
        let initiate = u.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" }));
        let (_, deleted) = tokio::join!(initiate, app.delete_auth("/users/me", &user.token));
        let id = user.id.parse::<AccountId>().unwrap();
        let active = talktime_repository::calls::active_for(app.db.pool(), id).await.unwrap();
        let account = accounts::find_by_id(app.db.pool(), id).await.unwrap().unwrap();
        if deleted.status == 200 {
            assert!(active.is_none(), "a deleted account kept a live call: {active:?}");
            assert_eq!(account.status.to_string(), "DELETED");
        } else {
            deleted.assert_error(409, "call_in_progress");
            let call = active.expect("the call that won");
            u.send("call:cancel", json!({ "callId": call.id.to_string() })).await;
            u.expect("call:cancelled").await;
        }
    }
    drop(t);
    app.assert_books_balance().await;
}

/// After a deletion, the telecaller's withdrawals keep only the masked bank number.
#[tokio::test]
async fn a_deleted_telecallers_withdrawals_keep_only_the_masked_number() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let telecaller = app.earning_telecaller(1_000).await;
    let reply = app.post_auth("/payment/withdraw", &telecaller.token, &json!({ "coins": 600 })).await;
    reply.assert(200);
    let withdrawal = reply.body["data"]["_id"].as_str().unwrap().to_owned();
    let body = json!({ "transferReference": "UTR123456" });
    app.post_auth(&format!("/admin/withdrawals/{withdrawal}/complete"), &admin, &body).await.assert(200);
    let before = app.get_auth(&format!("/admin/transactions/{withdrawal}"), &admin).await;
    let full = before.body["data"]["bankDetails"]["accountNumber"].as_str().unwrap().to_owned();
    assert!(!full.contains('X'), "admins see the full number while the account lives: {full}");

    app.delete_auth("/users/me", &telecaller.token).await.assert(200);
    let after = app.get_auth(&format!("/admin/transactions/{withdrawal}"), &admin).await;
    after.assert(200);
    let masked = after.body["data"]["bankDetails"]["accountNumber"].as_str().unwrap();
    assert!(masked.starts_with("XXXX") && masked.ends_with(&full[full.len() - 4..]), "{masked}");
    let row =
        talktime_repository::transactions::find(app.db.pool(), withdrawal.parse().unwrap()).await.unwrap().unwrap();
    assert!(row.bank_account_enc.is_none(), "the encrypted number is erased");
    app.assert_books_balance().await;
}
