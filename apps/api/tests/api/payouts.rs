//! Withdrawals paid through RazorpayX: approved, paid by a payout of the net amount, settled by
//! signed webhooks or the reconciler exactly once, whatever their order and repetition; a
//! provider outage is retried with the same idempotency key (issue 25, docs/money.md).

use serde_json::{Value, json};
use talktime_repository::ledger::{self, LedgerAccount};

use crate::support::razorpayx::FakeRazorpayX;
use crate::support::{Session, TestApp, spawn_app, spawn_app_with};

async fn platform(app: &TestApp, account: LedgerAccount) -> i64 {
    ledger::platform_balance(app.db.pool(), account).await.unwrap()
}

async fn payout_app(extra: &[(&str, &str)]) -> (TestApp, FakeRazorpayX) {
    let fake = FakeRazorpayX::start().await;
    let mut vars: Vec<(&str, String)> = fake.vars();
    vars.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    (spawn_app_with(&vars).await, fake)
}

/// She asks for `coins`; the withdrawal's id.
async fn asked(app: &TestApp, telecaller: &Session, coins: i64) -> String {
    let reply = app.post_auth("/payment/withdraw", &telecaller.token, &json!({ "coins": coins })).await;
    reply.assert(200);
    reply.body["data"]["_id"].as_str().unwrap().to_owned()
}

async fn approve(app: &TestApp, admin: &str, id: &str) -> Value {
    let reply = app.post_auth(&format!("/admin/withdrawals/{id}/approve"), admin, &json!({})).await;
    reply.assert(200);
    reply.body["data"].clone()
}

async fn withdrawal(app: &TestApp, admin: &str, id: &str) -> Value {
    app.get_auth(&format!("/admin/transactions/{id}"), admin).await.body["data"].clone()
}

async fn send(app: &TestApp, (body, signature): (String, String)) -> u16 {
    let reply = app
        .client
        .post(app.url("/webhooks/razorpayx"))
        .header("content-type", "application/json")
        .header("x-razorpay-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    reply.status().as_u16()
}

#[tokio::test]
async fn an_approved_withdrawal_is_paid_by_one_payout_of_its_net_amount() {
    let (app, fake) = payout_app(&[]).await;
    let admin = app.admin_token().await;
    let telecaller = app.earning_telecaller(2_000).await;
    let id = asked(&app, &telecaller, 600).await;
    assert_eq!(withdrawal(&app, &admin, &id).await["status"], json!("PENDING"), "no automatic approval by default");
    let approved = approve(&app, &admin, &id).await;
    assert_eq!(approved["status"], json!("APPROVED"));
    let payout_id = approved["payout"]["payoutId"].as_str().expect("the payout's id").to_owned();
    assert_eq!(approved["payout"]["mode"], json!("IMPS"));
    app.post_auth(&format!("/admin/withdrawals/{id}/approve"), &admin, &json!({}))
        .await
        .assert_error(409, "withdrawal_already_processed");
    app.post_auth(&format!("/admin/withdrawals/{id}/reject"), &admin, &json!({ "reason": "Changed my mind" }))
        .await
        .assert_error(409, "withdrawal_already_processed");

    assert!(fake.refusals().is_empty(), "{:?}", fake.refusals());
    assert_eq!(fake.contacts().len(), 1);
    let fund = &fake.fund_accounts()[0]["bank_account"];
    assert_eq!((fund["account_number"].clone(), fund["ifsc"].clone()), (json!("001234567890"), json!("HDFC0001234")));
    let payouts = fake.payouts();
    assert_eq!(payouts.len(), 1);
    assert_eq!(payouts[0]["amount"], json!(60_000));
    assert_eq!(payouts[0]["reference_id"], json!(id));
    assert_eq!(payouts[0]["queue_if_low_balance"], json!(true));

    // A bad signature moves nothing.
    let (body, _) = fake.webhook("payout.processed", &payout_id);
    assert_eq!(send(&app, (body, "0".repeat(64))).await, 400);
    assert_eq!(withdrawal(&app, &admin, &id).await["status"], json!("APPROVED"));
    for _ in 0..2 {
        assert_eq!(send(&app, fake.webhook("payout.processed", &payout_id)).await, 200);
    }
    let paid = withdrawal(&app, &admin, &id).await;
    assert_eq!(paid["status"], json!("SUCCESS"));
    assert_eq!(paid["transferReference"], json!(format!("UTR{}", &payout_id[5..])));
    assert_eq!(platform(&app, LedgerAccount::Payouts).await, 600);
    assert_eq!(platform(&app, LedgerAccount::WithdrawalHolds).await, 0);

    // Her next withdrawal reuses the contact and the fund account.
    let next = asked(&app, &telecaller, 500).await;
    approve(&app, &admin, &next).await;
    assert_eq!((fake.contacts().len(), fake.fund_accounts().len(), fake.payouts().len()), (1, 1, 2));
    app.assert_books_balance().await;
}

#[tokio::test]
async fn webhooks_in_any_order_and_repeated_give_one_outcome() {
    let (app, fake) = payout_app(&[]).await;
    let admin = app.admin_token().await;
    let orders: [&[&str]; 5] = [
        &["payout.processed", "payout.processed"],
        &["payout.processed", "payout.reversed", "payout.reversed"],
        &["payout.reversed", "payout.processed"],
        &["payout.failed", "payout.processed", "payout.failed"],
        &["payout.rejected", "payout.reversed"],
    ];
    for (n, events) in orders.iter().enumerate() {
        let telecaller = app.earning_telecaller(1_000).await;
        let id = asked(&app, &telecaller, 600).await;
        let payout_id = approve(&app, &admin, &id).await["payout"]["payoutId"].as_str().unwrap().to_owned();
        let (payouts_before, wallet_before) = (platform(&app, LedgerAccount::Payouts).await, 400);
        for event in *events {
            assert_eq!(send(&app, fake.webhook(event, &payout_id)).await, 200);
        }
        let settled = withdrawal(&app, &admin, &id).await;
        if n == 0 {
            assert_eq!(settled["status"], json!("SUCCESS"), "{events:?}");
            assert_eq!(platform(&app, LedgerAccount::Payouts).await, payouts_before + 600);
            assert_eq!(app.balance(&telecaller.id).await, wallet_before);
        } else {
            assert_eq!(settled["status"], json!("REJECTED"), "{events:?}");
            assert!(settled["rejectionReason"].as_str().unwrap().starts_with("Payout "), "{settled}");
            assert_eq!(platform(&app, LedgerAccount::Payouts).await, payouts_before, "{events:?}");
            assert_eq!(app.balance(&telecaller.id).await, 1_000, "{events:?}: her coins back once");
        }
        app.assert_books_balance().await;
    }
}

#[tokio::test]
async fn a_reversal_after_payment_returns_the_coins_and_the_tds() {
    let (app, fake) = payout_app(&[]).await;
    let admin = app.admin_token().await;
    let config = json!({ "tds": { "ratePercentWithoutPan": 20, "annualThresholdPaise": 0 } });
    app.put_auth("/admin/config", &admin, &config).await.assert(200);
    let telecaller = app.earning_telecaller(1_000).await;
    let id = asked(&app, &telecaller, 500).await;
    let approved = approve(&app, &admin, &id).await;
    assert_eq!(
        (approved["gross"].clone(), approved["tds"].clone(), approved["net"].clone()),
        (json!(500.0), json!(100.0), json!(400.0))
    );
    let payout_id = approved["payout"]["payoutId"].as_str().unwrap().to_owned();
    assert_eq!(fake.payouts()[0]["amount"], json!(40_000), "the net amount is paid");
    send(&app, fake.webhook("payout.processed", &payout_id)).await;
    assert_eq!(platform(&app, LedgerAccount::TdsPayable).await, 100);
    assert_eq!(platform(&app, LedgerAccount::Payouts).await, 400);
    send(&app, fake.webhook("payout.reversed", &payout_id)).await;
    assert_eq!(platform(&app, LedgerAccount::TdsPayable).await, 0);
    assert_eq!(platform(&app, LedgerAccount::Payouts).await, 0);
    assert_eq!(app.balance(&telecaller.id).await, 1_000);
    assert_eq!(withdrawal(&app, &admin, &id).await["status"], json!("REJECTED"));
    app.assert_books_balance().await;
}

#[tokio::test]
async fn a_provider_outage_then_recovery_pays_once() {
    let (app, fake) = payout_app(&[("PAYOUT_RECONCILE_AFTER_SECS", "0")]).await;
    let admin = app.admin_token().await;
    let telecaller = app.earning_telecaller(2_000).await;
    let id = asked(&app, &telecaller, 600).await;
    fake.outage(true, false);
    let approved = approve(&app, &admin, &id).await;
    assert_eq!(approved["status"], json!("APPROVED"), "a refusal leaves it approved");
    assert!(approved["payout"]["error"].as_str().unwrap().contains("500"), "{approved}");
    app.payouts().reconcile_once().await.unwrap();
    assert!(fake.payouts().is_empty());

    // The provider makes the payout but its answer is lost: the retry gets the same one.
    fake.outage(true, true);
    app.payouts().reconcile_once().await.unwrap();
    assert_eq!(fake.payouts().len(), 1);
    fake.outage(false, false);
    app.payouts().reconcile_once().await.unwrap();
    app.payouts().reconcile_once().await.unwrap();
    let payouts = fake.payouts();
    assert_eq!(payouts.len(), 1, "one payout whatever the retries");
    assert!(fake.refusals().is_empty(), "{:?}", fake.refusals());
    let payout_id = payouts[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(withdrawal(&app, &admin, &id).await["payout"]["payoutId"], json!(payout_id));

    // No webhook comes: the reconciler reads the payout and settles it.
    fake.set_status(&payout_id, "processed");
    assert_eq!(app.payouts().reconcile_once().await.unwrap(), 1);
    assert_eq!(app.payouts().reconcile_once().await.unwrap(), 0);
    send(&app, fake.webhook("payout.processed", &payout_id)).await;
    assert_eq!(withdrawal(&app, &admin, &id).await["status"], json!("SUCCESS"));
    assert_eq!(platform(&app, LedgerAccount::Payouts).await, 600);
    app.assert_books_balance().await;
}

#[tokio::test]
async fn small_withdrawals_are_approved_at_once_and_manual_payouts_refuse_approval() {
    let (app, fake) = payout_app(&[("PAYOUT_AUTO_APPROVE_BELOW_PAISE", "100000")]).await;
    let telecaller = app.earning_telecaller(3_000).await;
    let reply = app.post_auth("/payment/withdraw", &telecaller.token, &json!({ "coins": 999 })).await;
    reply.assert(200);
    assert_eq!(reply.body["data"]["status"], json!("APPROVED"));
    assert_eq!(fake.payouts().len(), 1);

    let manual = spawn_app().await;
    let admin = manual.admin_token().await;
    let telecaller = manual.earning_telecaller(1_000).await;
    let id = asked(&manual, &telecaller, 600).await;
    manual
        .post_auth(&format!("/admin/withdrawals/{id}/approve"), &admin, &json!({}))
        .await
        .assert_error(409, "payouts_manual");
    let unsigned = manual.client.post(manual.url("/webhooks/razorpayx")).body("{}").send().await.unwrap();
    assert_eq!(unsigned.status(), 400);
    manual.assert_books_balance().await;
}

#[tokio::test]
async fn a_withdrawal_all_withheld_as_tds_is_paid_without_a_transfer() {
    let (app, fake) = payout_app(&[]).await;
    let admin = app.admin_token().await;
    let config = json!({ "tds": { "ratePercentWithoutPan": 100, "annualThresholdPaise": 0 } });
    app.put_auth("/admin/config", &admin, &config).await.assert(200);
    let telecaller = app.earning_telecaller(1_000).await;
    let id = asked(&app, &telecaller, 500).await;
    let approved = approve(&app, &admin, &id).await;
    assert_eq!((approved["status"].clone(), approved["net"].clone()), (json!("SUCCESS"), json!(0.0)));
    assert!(fake.payouts().is_empty(), "nothing to transfer");
    assert_eq!(platform(&app, LedgerAccount::TdsPayable).await, 500);
    app.assert_books_balance().await;
}
