//! Host KYC (her PAN, checked by an admin), the withdrawal gate it opens, and TDS withheld on
//! payouts with its statement and export (issue 25, docs/tax.md).

use serde_json::{Value, json};
use talktime_repository::ledger::{self, LedgerAccount};

use crate::support::{Session, TestApp, spawn_app_with};

/// Tests here ask for more withdrawals than a telecaller may in an hour.
const MANY: (&str, &str) = ("RATE_LIMIT_WITHDRAW_PER_HOUR", "100");

const PAN: &str = "ABCPE1234F";

async fn platform(app: &TestApp, account: LedgerAccount) -> i64 {
    ledger::platform_balance(app.db.pool(), account).await.unwrap()
}

async fn submit(app: &TestApp, telecaller: &Session, pan: &str) -> Value {
    let reply =
        app.put_auth("/telecaller/kyc", &telecaller.token, &json!({ "pan": pan, "nameOnPan": "Asha Rao" })).await;
    reply.assert(200);
    reply.body["data"].clone()
}

async fn verified(app: &TestApp, admin: &str, telecaller: &Session) {
    submit(app, telecaller, PAN).await;
    app.post_auth(&format!("/admin/telecallers/{}/kyc/verify", telecaller.id), admin, &json!({})).await.assert(200);
}

/// Asks for `coins` and has an admin pay it by hand; the withdrawal as she sees it.
async fn paid(app: &TestApp, admin: &str, telecaller: &Session, coins: i64) -> Value {
    let asked = app.post_auth("/payment/withdraw", &telecaller.token, &json!({ "coins": coins })).await;
    asked.assert(200);
    let id = asked.body["data"]["_id"].as_str().unwrap().to_owned();
    let done = app
        .post_auth(&format!("/admin/withdrawals/{id}/complete"), admin, &json!({ "transferReference": "UTR0000001" }))
        .await;
    done.assert(200);
    asked.body["data"].clone()
}

/// How many entries of the audit log record `action`.
async fn audited(app: &TestApp, admin: &str, action: &str) -> usize {
    let log = app.get_auth("/admin/audit-log?limit=100", admin).await;
    log.body["data"]["entries"].as_array().unwrap().iter().filter(|e| e["action"] == json!(action)).count()
}

#[tokio::test]
async fn kyc_goes_pending_then_verified_or_rejected_and_a_new_pan_returns_to_pending() {
    let app = spawn_app_with(&[MANY]).await;
    let admin = app.admin_token().await;
    let telecaller = app.telecaller(true).await;
    let mine = app.get_auth("/telecaller/kyc", &telecaller.token).await;
    assert_eq!(mine.body["data"]["status"], json!("NOT_SUBMITTED"));
    for bad in ["ABCPE12345", "abcpe1234f", "ABCPE1234"] {
        let reply =
            app.put_auth("/telecaller/kyc", &telecaller.token, &json!({ "pan": bad, "nameOnPan": "Asha Rao" })).await;
        assert_eq!(reply.status, 400, "{bad}: {:?}", reply.body);
    }
    let submitted = submit(&app, &telecaller, PAN).await;
    assert_eq!(submitted["status"], json!("PENDING"));
    assert_eq!(submitted["pan"], json!("XXXXXX234F"), "masked to her");
    let detail = app.get_auth(&format!("/admin/telecallers/{}/kyc", telecaller.id), &admin).await;
    assert_eq!(detail.body["data"]["pan"], json!(PAN), "whole in the admin's detail");
    let stored = talktime_repository::kyc::find(app.db.pool(), telecaller.id.parse().unwrap()).await.unwrap().unwrap();
    let stored = stored.pan_enc;
    assert!(!stored.windows(PAN.len()).any(|w| w == PAN.as_bytes()), "stored encrypted");

    let verify = format!("/admin/telecallers/{}/kyc/verify", telecaller.id);
    let done = app.post_auth(&verify, &admin, &json!({})).await;
    done.assert(200);
    assert_eq!(done.body["data"]["status"], json!("VERIFIED"));
    app.post_auth(&verify, &admin, &json!({})).await.assert_error(409, "kyc_not_pending");
    // The same PAN again changes nothing; a new one goes back to PENDING.
    assert_eq!(submit(&app, &telecaller, PAN).await["status"], json!("VERIFIED"));
    assert_eq!(submit(&app, &telecaller, "ZZZPE9876K").await["status"], json!("PENDING"));
    let reject = format!("/admin/telecallers/{}/kyc/reject", telecaller.id);
    app.post_auth(&reject, &admin, &json!({ "reason": "no" })).await.assert_error(400, "validation_error");
    let rejected = app.post_auth(&reject, &admin, &json!({ "reason": "The name does not match the PAN" })).await;
    rejected.assert(200);
    assert_eq!(rejected.body["data"]["status"], json!("REJECTED"));
    let mine = app.get_auth("/telecaller/kyc", &telecaller.token).await;
    assert_eq!(mine.body["data"]["rejectionReason"], json!("The name does not match the PAN"));
    assert_eq!(mine.body["data"]["pan"], json!("XXXXXX876K"));
    assert_eq!(audited(&app, &admin, "telecaller.kyc.verify").await, 1);
    assert_eq!(audited(&app, &admin, "telecaller.kyc.reject").await, 1);
    let user = app.user().await;
    app.get_auth(&format!("/admin/telecallers/{}/kyc", user.id), &admin)
        .await
        .assert_error(404, "telecaller_not_found");
}

#[tokio::test]
async fn withdrawals_past_the_years_kyc_amount_need_a_verified_pan() {
    let app = spawn_app_with(&[("KYC_REQUIRED_ABOVE_PAISE", "100000"), MANY]).await;
    let admin = app.admin_token().await;
    let telecaller = app.earning_telecaller(5_000).await;
    let over = app.post_auth("/payment/withdraw", &telecaller.token, &json!({ "coins": 1_001 })).await;
    over.assert_error(400, "kyc_required");
    assert_eq!(app.balance(&telecaller.id).await, 5_000, "nothing held");
    paid(&app, &admin, &telecaller, 1_000).await;
    // ₹1,000 paid this year: any more needs the PAN, verified.
    app.post_auth("/payment/withdraw", &telecaller.token, &json!({ "coins": 500 }))
        .await
        .assert_error(400, "kyc_required");
    submit(&app, &telecaller, PAN).await;
    app.post_auth("/payment/withdraw", &telecaller.token, &json!({ "coins": 500 }))
        .await
        .assert_error(400, "kyc_required");
    app.post_auth(&format!("/admin/telecallers/{}/kyc/verify", telecaller.id), &admin, &json!({})).await.assert(200);
    app.post_auth("/payment/withdraw", &telecaller.token, &json!({ "coins": 500 })).await.assert(200);
    assert_eq!(app.balance(&telecaller.id).await, 3_500);
    app.assert_books_balance().await;
}

/// This financial year and quarter as the exports name them (`2026-27`, `2026-Q3`).
fn this_year_and_quarter() -> (String, String) {
    let now = chrono::Utc::now() + chrono::Duration::minutes(330);
    let year = talktime_domain::tax::financial_year(chrono::Utc::now());
    let month = chrono::Datelike::month(&now);
    let quarter = if month >= 4 { (month - 4) / 3 + 1 } else { 4 };
    let start: i32 = year[..4].parse().unwrap();
    (year, format!("{start}-Q{quarter}"))
}

#[tokio::test]
async fn tds_is_withheld_once_the_years_payouts_pass_the_threshold_and_the_exports_equal_the_ledger() {
    let app = spawn_app_with(&[MANY]).await;
    let admin = app.admin_token().await;
    let config = json!({ "tds": { "ratePercentWithPan": 10, "ratePercentWithoutPan": 20,
        "annualThresholdPaise": 100_000, "section": "194J" } });
    let saved = app.put_auth("/admin/config", &admin, &config).await;
    saved.assert(200);
    assert_eq!(saved.body["data"]["tds"]["annualThresholdPaise"]["value"], json!(100_000));
    let telecaller = app.earning_telecaller(5_000).await;
    verified(&app, &admin, &telecaller).await;

    // ₹600: within ₹1,000, nothing withheld.
    let first = paid(&app, &admin, &telecaller, 600).await;
    assert_eq!(
        (first["gross"].clone(), first["tds"].clone(), first["net"].clone()),
        (json!(600.0), json!(0.0), json!(600.0))
    );
    // ₹600 more: ₹1,200 in the year, 10% of all of it.
    let second = paid(&app, &admin, &telecaller, 600).await;
    assert_eq!(
        (second["gross"].clone(), second["tds"].clone(), second["net"].clone()),
        (json!(600.0), json!(120.0), json!(480.0))
    );
    assert_eq!(second["tdsSection"], json!("194J"));
    // ₹500 more: 10% of it.
    let third = paid(&app, &admin, &telecaller, 500).await;
    assert_eq!(third["tds"], json!(50.0));
    assert_eq!(platform(&app, LedgerAccount::TdsPayable).await, 170);
    assert_eq!(platform(&app, LedgerAccount::Payouts).await, 600 + 480 + 450);

    // A withdrawal rejected withholds nothing.
    let asked = app.post_auth("/payment/withdraw", &telecaller.token, &json!({ "coins": 1_000 })).await;
    assert_eq!(asked.body["data"]["tds"], json!(100.0));
    let id = asked.body["data"]["_id"].as_str().unwrap();
    app.post_auth(&format!("/admin/withdrawals/{id}/reject"), &admin, &json!({ "reason": "Wrong bank details" }))
        .await
        .assert(200);
    assert_eq!(platform(&app, LedgerAccount::TdsPayable).await, 170);
    assert_eq!(app.balance(&telecaller.id).await, 5_000 - 1_700);

    let (year, quarter) = this_year_and_quarter();
    let statement = app.get_auth(&format!("/telecaller/tax/statement?year={year}"), &telecaller.token).await;
    statement.assert(200);
    let data = &statement.body["data"];
    assert_eq!(data["payouts"].as_array().unwrap().len(), 3);
    assert_eq!(data["totals"], json!({ "gross": 1700.0, "tds": 170.0, "net": 1530.0 }));
    assert_eq!(data["pan"], json!("XXXXXX234F"));
    app.get_auth("/telecaller/tax/statement?year=2026-28", &telecaller.token).await.assert(400);

    let export =
        app.client.get(app.url(&format!("/admin/tax/tds?quarter={quarter}"))).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(export.status(), 200);
    let csv = export.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "telecaller_id,pan,name,section,payments,paid,withheld,dates");
    let row: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(&row[..7], [telecaller.id.as_str(), PAN, "Asha Rao", "194J", "3", "1700.00", "170.00"]);
    assert_eq!(row[7].split(';').count(), 3);
    // The withheld total is the ledger's TDS payable (one coin per rupee).
    assert_eq!(lines.last().unwrap(), &"TOTAL,,,,3,1700.00,170.00,");
    app.get_auth("/admin/tax/tds?quarter=2026-Q5", &admin).await.assert(400);
    app.assert_books_balance().await;
}

#[tokio::test]
async fn without_a_verified_pan_the_higher_rate_applies() {
    let app = spawn_app_with(&[MANY]).await;
    let admin = app.admin_token().await;
    let config = json!({ "tds": { "ratePercentWithoutPan": 20, "annualThresholdPaise": 50_000 } });
    app.put_auth("/admin/config", &admin, &config).await.assert(200);
    let telecaller = app.earning_telecaller(2_000).await;
    let first = paid(&app, &admin, &telecaller, 600).await;
    assert_eq!(
        (first["tds"].clone(), first["net"].clone(), first["tdsRate"].clone()),
        (json!(120.0), json!(480.0), json!(20))
    );
    assert_eq!(platform(&app, LedgerAccount::TdsPayable).await, 120);
    app.assert_books_balance().await;
}
