//! Input an attacker would send: control characters in every kind of text, dates no calendar
//! holds, numbers past every column's range. Each answers 4xx with a stable code naming the
//! field, and nothing reaches Postgres that Postgres could refuse.

use crate::support::{ABOUT, Reply, TestApp, fresh_phone, spawn_app};
use serde_json::{Value, json};

/// Asserts a 400 `validation_error` whose `errors` name `field`.
fn assert_names_field(reply: &Reply, field: &str) {
    reply.assert_error(400, "validation_error");
    let fields: Vec<&str> =
        reply.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&field), "expected {field} among {fields:?}: {}", reply.body);
}

async fn new_account(app: &TestApp) -> String {
    app.login(&fresh_phone()).await.0
}

#[tokio::test]
async fn the_four_reported_probes_answer_400() {
    let app = spawn_app().await;

    let token = new_account(&app).await;
    let nul_name = app
        .patch_auth(
            "/users/complete-profile",
            &token,
            &json!({ "name": "Ravi\u{0}Kumar", "dob": "1995-05-10", "gender": "MALE", "language": "hindi", "role": "USER" }),
        )
        .await;
    assert_names_field(&nul_name, "name");

    let ancient = app
        .patch_auth(
            "/users/complete-profile",
            &token,
            &json!({ "name": "Ravi Kumar", "dob": "-5000-01-01", "gender": "MALE", "language": "hindi", "role": "USER" }),
        )
        .await;
    assert!(ancient.status == 400, "{}", ancient.body);
    assert_eq!(ancient.body["success"], json!(false));

    let user = app.user().await;
    let order = app
        .post_auth(
            "/payment/verify",
            &user.token,
            &json!({ "razorpay_order_id": "order_\u{0}x", "razorpay_payment_id": "pay_1", "razorpay_signature": "00" }),
        )
        .await;
    assert_names_field(&order, "razorpay_order_id");

    let admin = app.admin_token().await;
    let search = app.get_auth("/admin/users?search=ab%00cd", &admin).await;
    assert_names_field(&search, "search");
}

#[tokio::test]
async fn dates_outside_1900_to_today_are_refused_with_the_field() {
    let app = spawn_app().await;
    let token = new_account(&app).await;
    for dob in ["-5000-01-01", "0000-01-01", "1899-12-31", "+275760-09-13", "9999-12-31"] {
        let reply = app
            .patch_auth(
                "/users/complete-profile",
                &token,
                &json!({ "name": "Ravi Kumar", "dob": dob, "gender": "MALE", "language": "hindi", "role": "USER" }),
            )
            .await;
        assert_eq!(reply.status, 400, "{dob}: {}", reply.body);
        if reply.code() == "validation_error" {
            assert_names_field(&reply, "dob");
        }
    }
    // The first day of the window still works, and the profile was never half-written.
    let reply = app
        .patch_auth(
            "/users/complete-profile",
            &token,
            &json!({ "name": "Ravi Kumar", "dob": "1900-01-01", "gender": "MALE", "language": "hindi", "role": "USER" }),
        )
        .await;
    reply.assert(200);
    assert_eq!(reply.body["data"]["dob"].as_str().unwrap().get(..10), Some("1900-01-01"));
}

#[tokio::test]
async fn control_characters_are_refused_in_every_kind_of_text() {
    let app = spawn_app().await;
    let user = app.user().await;
    let telecaller = app.telecaller(true).await;
    let admin = app.admin_token().await;

    for bad in ["\u{0}", "\u{1b}[31m", "\u{7}", "\u{7f}", "\u{85}"] {
        let name = format!("Ravi{bad}Kumar");
        assert_names_field(&app.patch_auth("/users/edit-profile", &user.token, &json!({ "name": name })).await, "name");
        assert_names_field(
            &app.patch_auth("/users/edit-profile", &user.token, &json!({ "language": format!("hi{bad}") })).await,
            "language",
        );
        assert_names_field(
            &app.post_auth(
                "/telecaller/bank-details",
                &telecaller.token,
                &json!({ "accountNumber": "123456789", "ifscCode": "SBIN0001234", "accountHolderName": name }),
            )
            .await,
            "accountHolderName",
        );
        assert_names_field(&app.post("/auth/send", &json!({ "phone": format!("98765{bad}43210") })).await, "phone");
        assert_names_field(
            &app.post_auth("/payment/create-order", &user.token, &json!({ "planId": format!("x{bad}") })).await,
            "planId",
        );
        // Text where line breaks are meaningful still refuses the other control characters.
        let about = format!("{ABOUT}{bad}");
        assert_names_field(
            &app.patch_auth("/telecaller/edit-profile", &telecaller.token, &json!({ "about": about })).await,
            "about",
        );
        // Query parameters, on user and admin lists.
        let encoded: String = bad.bytes().map(|b| format!("%{b:02X}")).collect();
        assert_names_field(
            &app.get_auth(&format!("/users/telecallers?language=hi{encoded}"), &user.token).await,
            "language",
        );
        assert_names_field(&app.get_auth(&format!("/admin/users?search=9{encoded}"), &admin).await, "search");
        assert_names_field(
            &app.get_auth(&format!("/admin/telecallers?status=PENDING{encoded}"), &admin).await,
            "status",
        );
    }

    // Line breaks and tabs are fine where text spans lines, and stored as sent.
    let about = format!("{ABOUT}\nSecond line\twith a tab.");
    app.patch_auth("/telecaller/edit-profile", &telecaller.token, &json!({ "about": about })).await.assert(200);
    let me = app.get_auth("/users/me", &telecaller.token).await;
    assert_eq!(me.body["data"]["telecallerProfile"]["about"], json!(about));
    // ...but not in a name.
    assert_names_field(
        &app.patch_auth("/users/edit-profile", &user.token, &json!({ "name": "Ravi\nKumar" })).await,
        "name",
    );
    // Nested fields are named by their path.
    let nested = app.patch_auth("/users/edit-profile", &user.token, &json!({ "profile": { "x": "a\u{0}" } })).await;
    assert_names_field(&nested, "profile.x");
}

#[tokio::test]
async fn numbers_past_every_range_answer_400() {
    let app = spawn_app().await;
    let user = app.user().await;
    let telecaller = app.telecaller(true).await;
    let admin = app.admin_token().await;

    for query in [
        "page=0",
        "page=-1",
        "page=99999999999999999999",
        "page=9223372036854775807",
        "limit=0",
        "limit=51",
        "limit=1e3",
        "page=1.5",
    ] {
        let reply = app.get_auth(&format!("/users/calls?{query}"), &user.token).await;
        assert_eq!(reply.status, 400, "{query}: {}", reply.body);
    }
    // The biggest page a client could ask for answers an empty page, not an overflow.
    let far = app.get_auth("/users/calls?page=2147483647&limit=50", &user.token).await;
    assert!(far.status == 200 || far.status == 400, "{}", far.body);
    let far = app.get_auth("/admin/users?page=2147483647&limit=100", &admin).await;
    assert!(far.status == 200 || far.status == 400, "{}", far.body);

    for coins in [json!(-1), json!(0), json!(1e300), json!(9_223_372_036_854_775_807_i64), json!("10"), json!(1.5)] {
        let reply = app.post_auth("/payment/withdraw", &telecaller.token, &json!({ "coins": coins })).await;
        assert!(reply.status == 400 || reply.status == 409, "{coins}: {} {}", reply.status, reply.body);
    }
    for amount in [json!(1e300), json!(-5), json!(92_233_720_368_547_758.07), json!(0.001), json!(5e-324), json!(0.004)]
    {
        let reply = app
            .post_auth("/admin/plans", &admin, &json!({ "amount": amount, "coins": 10, "discountPercentage": 0 }))
            .await;
        assert_eq!(reply.status, 400, "{amount}: {}", reply.body);
    }
    for coins in [json!(9_223_372_036_854_775_807_i64), json!(1e20)] {
        let reply = app
            .post_auth("/admin/plans", &admin, &json!({ "amount": 10, "coins": coins, "discountPercentage": 0 }))
            .await;
        assert_eq!(reply.status, 400, "{coins}: {}", reply.body);
    }
    for value in [json!(9_223_372_036_854_775_807_i64), json!(-1), json!(1e30)] {
        let reply = app.put_auth("/admin/config", &admin, &json!({ "minCallBalanceSeconds": value })).await;
        assert_eq!(reply.status, 400, "{value}: {}", reply.body);
    }
    for rating in [json!(0), json!(6), json!(i64::MAX), json!(-1)] {
        let reply = app
            .post_auth(&format!("/calls/{}/feedback", uuid::Uuid::nil()), &user.token, &json!({ "rating": rating }))
            .await;
        assert_eq!(reply.status, 400, "{rating}: {}", reply.body);
    }
}

#[tokio::test]
async fn malformed_ids_and_paths_answer_4xx() {
    let app = spawn_app().await;
    let user = app.user().await;
    let admin = app.admin_token().await;
    for id in ["not-a-uuid", "%00", "00000000-0000-0000-0000-00000000000%00", "1", &"a".repeat(2000)] {
        let reply = app.post_auth(&format!("/users/favorites/{id}"), &user.token, &json!({})).await;
        assert!(reply.status == 400 || reply.status == 404, "{id}: {}", reply.body);
        let reply = app.get_auth(&format!("/admin/users/{id}"), &admin).await;
        assert!(reply.status == 400 || reply.status == 404, "{id}: {}", reply.body);
    }
    let reply = app.get_auth("/console/%00", &admin).await;
    assert!(reply.status == 400 || reply.status == 404, "{}", reply.body);
    let reply = app.get("/console/..%2f..%2fCargo.toml").await;
    assert!(reply.status == 400 || reply.status == 404, "{}", reply.body);
}

#[tokio::test]
async fn strings_longer_than_any_column_are_refused_before_postgres() {
    let app = spawn_app().await;
    let user = app.user().await;
    let admin = app.admin_token().await;
    let long = "a".repeat(10_000);
    for body in [json!({ "language": long }), json!({ "profile": long })] {
        let reply = app.patch_auth("/users/edit-profile", &user.token, &body).await;
        assert_eq!(reply.status, 400, "{}", reply.body);
    }
    assert_eq!(app.get_auth(&format!("/admin/users?search={long}"), &admin).await.status, 400);
    assert_eq!(app.get_auth(&format!("/users/telecallers?language={long}"), &user.token).await.status, 400);
    let reply = app
        .post_auth(
            "/payment/verify",
            &user.token,
            &json!({ "razorpay_order_id": long, "razorpay_payment_id": "pay_1", "razorpay_signature": "00" }),
        )
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    // Everything above was refused without writing: the profile still holds what it had.
    let me = app.get_auth("/users/me", &user.token).await;
    assert_eq!(me.body["data"]["language"], json!("hindi"));
    let _: &Value = &me.body;
}
