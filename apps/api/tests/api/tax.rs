//! GST on recharges: the taxable value fixed with the order, an invoice per capture in the same
//! transaction with a gap-free number, CGST + SGST or IGST by the buyer's state, and the month's
//! CSV export whose totals are the sum of its rows (docs/tax.md).

use crate::support::{Session, TestApp, spawn_app};
use futures_util::future::join_all;
use serde_json::{Value, json};
use talktime_repository::plans::{self, NewPlan};

const GSTIN: &str = "29ABCDE1234F1Z5";

/// An app whose operator is in Karnataka (29), and a ₹99 plan.
async fn shop(mode: &str) -> (TestApp, String, String) {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let gst = json!({ "gst": { "mode": mode, "operatorGstin": GSTIN, "operatorState": "29",
                               "operatorLegalName": "Talktime Private Limited", "operatorAddress": "1 MG Road, Bengaluru" } });
    app.put_auth("/admin/config", &admin, &gst).await.assert(200);
    let plan = plans::create(
        app.db.pool(),
        &NewPlan { amount_paise: 9900, coins: 110, discount_hundredths: 0, is_active: true },
    )
    .await
    .unwrap();
    (app, plan.id.to_string(), admin)
}

async fn order(app: &TestApp, user: &Session, plan: &str) -> Value {
    let order = app.post_auth("/payment/create-order", &user.token, &json!({ "planId": plan })).await;
    order.assert(200);
    order.body["data"].clone()
}

/// Pays the order; answers the captured transaction's id.
async fn pay(app: &TestApp, user: &Session, order: &Value) -> String {
    let paid = app.post_auth("/payment/sandbox/pay", &user.token, &json!({ "orderId": order["orderId"] })).await;
    let verified = app.post_auth("/payment/verify", &user.token, &paid.body["data"]).await;
    verified.assert(200);
    verified.body["data"]["transactionId"].as_str().unwrap().to_owned()
}

async fn invoice(app: &TestApp, user: &Session, transaction: &str) -> Value {
    let found = app.get_auth(&format!("/users/transactions/{transaction}/invoice?format=json"), &user.token).await;
    found.assert(200);
    found.body["data"].clone()
}

/// The text of a PDF, as `pdftotext -layout` reads it.
fn pdf_text(bytes: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("invoice-{}.pdf", uuid::Uuid::now_v7()));
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    std::fs::remove_file(&path).ok();
    assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn this_year() -> String {
    talktime_domain::tax::financial_year(chrono::Utc::now())
}

#[tokio::test]
async fn a_buyer_in_the_operators_state_pays_cgst_and_sgst_inside_the_price() {
    let (app, plan, _) = shop("INCLUSIVE").await;
    let user = app.user().await;
    app.put_auth("/users/billing", &user.token, &json!({ "state": "29" })).await.assert(200);
    let placed = order(&app, &user, &plan).await;
    assert_eq!(placed["amount"], json!(9900), "inclusive: today's price stays");
    let transaction = pay(&app, &user, &placed).await;
    let issued = invoice(&app, &user, &transaction).await;
    assert_eq!(issued["number"], json!(format!("TT/{}/000001", this_year())));
    // 9900 ÷ 1.18 = 8389.83 → 8390 taxable; 1510 GST, half each.
    assert_eq!(
        (issued["taxable"].clone(), issued["cgst"].clone(), issued["sgst"].clone(), issued["igst"].clone()),
        (json!(8390), json!(755), json!(755), json!(0))
    );
    assert_eq!(issued["total"], json!(9900));
    assert_eq!(issued["seller"]["gstin"], json!(GSTIN));
    assert_eq!(issued["buyer"]["state"], json!("29"));
    assert_eq!(issued["sacCode"], json!("998439"));
    assert_eq!(issued["coins"], json!(110));

    // The same invoice as a PDF, read back by Debian's pdftotext (scripts/dev-pdf.sh).
    let pdf = app
        .client
        .get(app.url(&format!("/users/transactions/{transaction}/invoice")))
        .bearer_auth(&user.token)
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let text = pdf_text(&pdf.bytes().await.unwrap());
    for line in [
        "TAX INVOICE".to_owned(),
        format!("Number: TT/{}/000001", this_year()),
        "Seller: Talktime Private Limited".to_owned(),
        format!("GSTIN: {GSTIN}, state code: 29"),
        "110 coins (SAC 998439)".to_owned(),
        "Taxable value: INR 83.90".to_owned(),
        "CGST 9.00%: INR 7.55".to_owned(),
        "SGST 9.00%: INR 7.55".to_owned(),
        "IGST 18.00%: INR 0.00".to_owned(),
        "Total: INR 99.00".to_owned(),
    ] {
        assert!(text.contains(&line), "the PDF says `{line}`:\n{text}");
    }
    // Someone else's transaction has no invoice for her.
    let other = app.user().await;
    let path = format!("/users/transactions/{transaction}/invoice?format=json");
    app.get_auth(&path, &other.token).await.assert_error(404, "invoice_not_found");
    app.assert_books_balance().await;
}

#[tokio::test]
async fn a_buyer_elsewhere_pays_igst_added_on_top_in_exclusive_mode() {
    let (app, plan, _) = shop("EXCLUSIVE").await;
    let (elsewhere, unknown) = (app.user().await, app.user().await);
    app.put_auth("/users/billing", &elsewhere.token, &json!({ "state": "27", "gstin": "27abcde1234f1z5" }))
        .await
        .assert(200);
    let placed = order(&app, &elsewhere, &plan).await;
    assert_eq!(placed["amount"], json!(11_682), "₹99 plus 18% (₹17.82)");
    let issued = invoice(&app, &elsewhere, &pay(&app, &elsewhere, &placed).await).await;
    assert_eq!(
        (issued["taxable"].clone(), issued["igst"].clone(), issued["cgst"].clone()),
        (json!(9900), json!(1782), json!(0))
    );
    assert_eq!(issued["buyer"]["gstin"], json!("27ABCDE1234F1Z5"), "kept upper-cased");
    // No state given: IGST.
    let placed = order(&app, &unknown, &plan).await;
    let issued = invoice(&app, &unknown, &pay(&app, &unknown, &placed).await).await;
    assert_eq!(issued["igst"], json!(1782));
    assert_eq!(issued["number"], json!(format!("TT/{}/000002", this_year())));
}

#[tokio::test]
async fn billing_details_and_the_operators_gstin_are_checked() {
    let (app, _, admin) = shop("INCLUSIVE").await;
    let user = app.user().await;
    for bad in [json!({ "state": "99" }), json!({ "state": "Karnataka" }), json!({ "gstin": "29ABCDE1234F1X5" })] {
        app.put_auth("/users/billing", &user.token, &bad).await.assert_error(400, "validation_error");
    }
    app.put_auth("/admin/config", &admin, &json!({ "gst": { "operatorGstin": "NOTAGSTIN" } })).await.assert(400);
    app.put_auth("/admin/config", &admin, &json!({ "gst": { "mode": "SOMETIMES" } })).await.assert(400);
    let billing = app.get_auth("/users/billing", &user.token).await;
    assert_eq!(billing.body["data"], json!({ "state": null, "gstin": null }));
}

#[tokio::test]
async fn a_hundred_concurrent_captures_get_a_hundred_consecutive_numbers_and_the_export_adds_up() {
    let (app, plan, admin) = shop("INCLUSIVE").await;
    let users = join_all((0..50).map(|_| app.user())).await;
    let mut orders = Vec::new();
    for user in &users {
        for _ in 0..2 {
            orders.push((user, order(&app, user, &plan).await));
        }
    }
    let transactions = join_all(orders.iter().map(|(user, order)| pay(&app, user, order))).await;
    let mut numbers: Vec<i64> = Vec::new();
    for ((user, _), transaction) in orders.iter().zip(&transactions) {
        let number = invoice(&app, user, transaction).await["number"].as_str().unwrap().to_owned();
        numbers.push(number.rsplit('/').next().unwrap().parse().unwrap());
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=100).collect::<Vec<i64>>(), "none shared, none skipped");

    let month =
        chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(19_800).unwrap()).format("%Y-%m").to_string();
    let export =
        app.client.get(app.url(&format!("/admin/tax/gst?month={month}"))).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(export.status(), 200);
    assert!(export.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = export.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 100 + 1, "a header, a row per invoice, the total");
    let column = |line: &str, i: usize| -> i64 {
        let cell = line.split(',').nth(i).unwrap();
        let (rupees, paise) = cell.split_once('.').unwrap();
        rupees.parse::<i64>().unwrap() * 100 + paise.parse::<i64>().unwrap()
    };
    for i in 9..14 {
        let sum: i64 = lines[1..101].iter().map(|l| column(l, i)).sum();
        assert_eq!(column(lines[101], i), sum, "column {i}");
    }
    assert_eq!(column(lines[101], 13), 100 * 9900, "what was charged");
    app.assert_books_balance().await;
}
