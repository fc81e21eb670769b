//! Profiles, telecaller applications and bank details over HTTP.

use crate::support::{ABOUT, TestApp, fresh_phone, spawn_app};
use chrono::{Days, Months, Utc};
use serde_json::{Value, json};
use talktime_repository::testing;

fn complete_body(role: &str, gender: &str, dob: &str, about: Option<&str>) -> Value {
    let mut body = json!({ "name": "Meera Nair", "dob": dob, "gender": gender, "language": "malayalam", "role": role });
    if let Some(about) = about {
        body["about"] = json!(about);
    }
    body
}

async fn new_login(app: &TestApp) -> String {
    app.login(&fresh_phone()).await.0
}

#[tokio::test]
async fn completing_a_user_profile_happens_once() {
    let app = spawn_app().await;
    let token = new_login(&app).await;
    let reply =
        app.patch_auth("/users/complete-profile", &token, &complete_body("USER", "MALE", "1990-01-31", None)).await;
    reply.assert(200);
    let data = &reply.body["data"];
    assert_eq!(data["name"], json!("Meera Nair"));
    assert_eq!(data["dob"], json!("1990-01-31"));
    assert_eq!(data["gender"], json!("MALE"));
    assert_eq!(data["language"], json!("malayalam"));
    assert_eq!(data["role"], json!("USER"));
    assert!(reply.body.get("token").is_none(), "no new token without a role change");
    assert!(data.get("telecallerProfile").is_none());

    let again =
        app.patch_auth("/users/complete-profile", &token, &complete_body("USER", "MALE", "1990-01-31", None)).await;
    again.assert_error(409, "profile_already_complete");
    app.get_auth("/users/me", &token).await.assert(200);
}

#[tokio::test]
async fn becoming_a_telecaller_returns_a_token_that_opens_telecaller_routes_at_once() {
    let app = spawn_app().await;
    let token = new_login(&app).await;
    let reply = app
        .patch_auth(
            "/users/complete-profile",
            &token,
            &complete_body("TELECALLER", "FEMALE", "1994-07-01", Some(ABOUT)),
        )
        .await;
    reply.assert(200);
    let profile = &reply.body["data"];
    assert_eq!(profile["role"], json!("TELECALLER"));
    assert_eq!(profile["wallet"]["balance"], json!(0));
    assert_eq!(profile["telecallerProfile"]["approvalStatus"], json!("PENDING"));
    assert_eq!(profile["telecallerProfile"]["about"], json!(ABOUT));
    let new_token = reply.body["token"].as_str().expect("a new token").to_owned();

    // The new token is a telecaller's: telecaller routes answer by approval, not by role.
    app.get_auth("/telecaller/bank-details", &new_token).await.assert_error(403, "telecaller_not_approved");
    app.patch_auth(
        "/telecaller/reapply",
        &new_token,
        &json!({"name": "Meera", "dob": "1994-07-01", "language": "hindi", "about": ABOUT}),
    )
    .await
    .assert_error(409, "not_rejected");
    let me = app.get_auth("/users/me", &new_token).await;
    me.assert(200);
    assert_eq!(me.body["data"]["role"], json!("TELECALLER"));
    // The old USER token is revoked.
    app.get_auth("/users/me", &token).await.assert_error(401, "token_revoked");
}

#[tokio::test]
async fn telecallers_must_be_women_with_an_about_of_the_right_length() {
    let app = spawn_app().await;
    let token = new_login(&app).await;
    let path = "/users/complete-profile";
    app.patch_auth(path, &token, &complete_body("TELECALLER", "MALE", "1994-07-01", Some(ABOUT)))
        .await
        .assert_error(400, "telecaller_must_be_female");
    app.patch_auth(path, &token, &complete_body("TELECALLER", "OTHER", "1994-07-01", Some(ABOUT)))
        .await
        .assert_error(400, "telecaller_must_be_female");
    let missing = app.patch_auth(path, &token, &complete_body("TELECALLER", "FEMALE", "1994-07-01", None)).await;
    missing.assert_error(400, "validation_error");
    assert_eq!(missing.body["errors"][0]["field"], json!("about"));
    app.patch_auth(path, &token, &complete_body("USER", "FEMALE", "1994-07-01", Some(ABOUT)))
        .await
        .assert_error(400, "validation_error");
    for bad in ["a".repeat(49), "a".repeat(501), format!("  {}  ", "a".repeat(49))] {
        let reply =
            app.patch_auth(path, &token, &complete_body("TELECALLER", "FEMALE", "1994-07-01", Some(&bad))).await;
        reply.assert_error(400, "validation_error");
        assert_eq!(reply.body["errors"][0]["field"], json!("about"));
    }
    // Bounds are inclusive.
    let edge = "a".repeat(500);
    app.patch_auth(path, &token, &complete_body("TELECALLER", "FEMALE", "1994-07-01", Some(&edge))).await.assert(200);
    let other = new_login(&app).await;
    app.patch_auth(path, &other, &complete_body("TELECALLER", "FEMALE", "1994-07-01", Some(&"b".repeat(50))))
        .await
        .assert(200);
}

#[tokio::test]
async fn age_is_checked_on_the_day_of_the_request() {
    let app = spawn_app().await;
    let today = Utc::now().date_naive();
    let eighteen_years_ago = today.checked_sub_months(Months::new(18 * 12)).unwrap();
    let day_before_birthday = eighteen_years_ago.checked_add_days(Days::new(1)).unwrap();
    let token = new_login(&app).await;
    let path = "/users/complete-profile";

    let young =
        app.patch_auth(path, &token, &complete_body("USER", "MALE", &day_before_birthday.to_string(), None)).await;
    young.assert_error(400, "validation_error");
    assert_eq!(young.body["errors"][0]["field"], json!("dob"));
    let future = today.checked_add_days(Days::new(3)).unwrap().to_string();
    app.patch_auth(path, &token, &complete_body("USER", "MALE", &future, None))
        .await
        .assert_error(400, "validation_error");
    app.patch_auth(path, &token, &complete_body("USER", "MALE", "not-a-date", None))
        .await
        .assert_error(400, "validation_error");

    app.patch_auth(path, &token, &complete_body("USER", "MALE", &eighteen_years_ago.to_string(), None))
        .await
        .assert(200);
}

#[tokio::test]
async fn complete_profile_refuses_bad_values_and_unknown_fields() {
    let app = spawn_app().await;
    let token = new_login(&app).await;
    let path = "/users/complete-profile";
    let cases = [
        ("name", json!("Al")),
        ("name", json!("x".repeat(51))),
        ("gender", json!("female")),
        ("language", json!("klingon")),
        ("role", json!("ADMIN")),
        ("profile", json!("avatar-9")),
    ];
    for (field, value) in cases {
        let mut body = complete_body("USER", "MALE", "1990-01-01", None);
        body[field] = value;
        let reply = app.patch_auth(path, &token, &body).await;
        reply.assert_error(400, "validation_error");
        assert_eq!(reply.body["errors"][0]["field"], json!(field), "{}", reply.body);
    }
    let mut unknown = complete_body("USER", "MALE", "1990-01-01", None);
    unknown["isAdmin"] = json!(true);
    app.patch_auth(path, &token, &unknown).await.assert_error(400, "validation_error");
    let mut missing = complete_body("USER", "MALE", "1990-01-01", None);
    missing.as_object_mut().unwrap().remove("gender");
    app.patch_auth(path, &token, &missing).await.assert_error(400, "validation_error");
}

#[tokio::test]
async fn editing_a_user_profile() {
    let app = spawn_app().await;
    let fresh = new_login(&app).await;
    app.patch_auth("/users/edit-profile", &fresh, &json!({"language": "tamil"}))
        .await
        .assert_error(400, "profile_incomplete");

    let user = app.user().await;
    let path = "/users/edit-profile";
    let reply = app.patch_auth(path, &user.token, &json!({"name": "  Ravi   Shankar ", "profile": "avatar-3"})).await;
    reply.assert(200);
    assert_eq!(reply.body["data"]["name"], json!("Ravi Shankar"));
    assert_eq!(reply.body["data"]["profile"], json!("avatar-3"));
    assert_eq!(reply.body["data"]["language"], json!("hindi"), "untouched fields stay");

    let cleared = app.patch_auth(path, &user.token, &json!({"profile": null})).await;
    cleared.assert(200);
    assert_eq!(cleared.body["data"]["profile"], json!(null));

    app.patch_auth(path, &user.token, &json!({})).await.assert_error(400, "validation_error");
    app.patch_auth(path, &user.token, &json!({"name": "R2 D2"})).await.assert_error(400, "validation_error");
    app.patch_auth(path, &user.token, &json!({"profile": "avatar-0"})).await.assert_error(400, "validation_error");
    app.patch_auth(path, &user.token, &json!({"language": "latin"})).await.assert_error(400, "validation_error");
    app.patch_auth(path, &user.token, &json!({"about": ABOUT})).await.assert_error(400, "validation_error");

    let telecaller = app.telecaller(true).await;
    app.patch_auth(path, &telecaller.token, &json!({"language": "tamil"})).await.assert_error(403, "forbidden_role");
}

#[tokio::test]
async fn editing_a_telecaller_profile_needs_approval() {
    let app = spawn_app().await;
    let pending = app.telecaller(false).await;
    let path = "/telecaller/edit-profile";
    app.patch_auth(path, &pending.token, &json!({"language": "tamil"}))
        .await
        .assert_error(403, "telecaller_not_approved");

    let approved = app.telecaller(true).await;
    let about = "Updated: ".to_owned() + ABOUT;
    let reply = app.patch_auth(path, &approved.token, &json!({"about": about, "profile": "avatar-8"})).await;
    reply.assert(200);
    assert_eq!(reply.body["data"]["telecallerProfile"]["about"], json!(about));
    assert_eq!(reply.body["data"]["profile"], json!("avatar-8"));
    app.patch_auth(path, &approved.token, &json!({"about": "too short"})).await.assert_error(400, "validation_error");
    app.patch_auth(path, &approved.token, &json!({})).await.assert_error(400, "validation_error");

    let user = app.user().await;
    app.patch_auth(path, &user.token, &json!({"language": "tamil"})).await.assert_error(403, "forbidden_role");
}

#[tokio::test]
async fn a_rejected_telecaller_reapplies_and_keeps_the_note_until_approval() {
    let app = spawn_app().await;
    let telecaller = app.telecaller(true).await;
    let path = "/telecaller/reapply";
    let body = json!({"name": "Asha R", "dob": "1996-02-11", "language": "kannada", "about": ABOUT});
    app.patch_auth(path, &telecaller.token, &body).await.assert_error(409, "not_rejected");

    testing::set_approval(&app.db, telecaller.id.parse().unwrap(), "REJECTED", Some("Photo does not match"))
        .await
        .unwrap();
    let mut missing = body.clone();
    missing.as_object_mut().unwrap().remove("about");
    app.patch_auth(path, &telecaller.token, &missing).await.assert_error(400, "validation_error");
    let mut young = body.clone();
    young["dob"] = json!(Utc::now().date_naive().to_string());
    app.patch_auth(path, &telecaller.token, &young).await.assert_error(400, "validation_error");

    let reply = app.patch_auth(path, &telecaller.token, &body).await;
    reply.assert(200);
    let profile = &reply.body["data"];
    assert_eq!(profile["name"], json!("Asha R"));
    assert_eq!(profile["language"], json!("kannada"));
    assert_eq!(profile["telecallerProfile"]["approvalStatus"], json!("PENDING"));
    assert_eq!(profile["telecallerProfile"]["verificationNotes"], json!("Photo does not match"));
    app.patch_auth(path, &telecaller.token, &body).await.assert_error(409, "not_rejected");
}

#[tokio::test]
async fn bank_details_are_validated_normalised_encrypted_and_owner_only() {
    let app = spawn_app().await;
    let pending = app.telecaller(false).await;
    let path = "/telecaller/bank-details";
    app.get_auth(path, &pending.token).await.assert_error(403, "telecaller_not_approved");

    let telecaller = app.telecaller(true).await;
    let none = app.get_auth(path, &telecaller.token).await;
    none.assert(200);
    assert_eq!(none.body["data"], json!(null));
    app.delete_auth(path, &telecaller.token).await.assert_error(404, "bank_details_not_found");

    let bad = app
        .post_auth(
            path,
            &telecaller.token,
            &json!({"accountNumber": "12345678", "ifscCode": "HDFC1234567", "accountHolderName": "A1"}),
        )
        .await;
    bad.assert_error(400, "validation_error");
    let fields: Vec<&str> =
        bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["accountNumber", "ifscCode", "accountHolderName"]);

    let saved = app
        .post_auth(
            path,
            &telecaller.token,
            &json!({"accountNumber": " 001234567890 ", "ifscCode": " hdfc0001234 ", "accountHolderName": "Asha  Rao"}),
        )
        .await;
    saved.assert(201);
    assert_eq!(
        saved.body["data"],
        json!({"accountNumber": "001234567890", "ifscCode": "HDFC0001234", "accountHolderName": "Asha Rao"})
    );

    let (raw, ifsc, _) = testing::raw_bank_row(&app.db, telecaller.id.parse().unwrap()).await.unwrap().unwrap();
    assert!(!String::from_utf8_lossy(&raw).contains("001234567890"), "the account number is stored encrypted");
    assert!(!raw.windows(4).any(|w| w == b"7890"));
    assert_eq!(ifsc, "HDFC0001234");

    let fetched = app.get_auth(path, &telecaller.token).await;
    assert_eq!(fetched.body["data"]["accountNumber"], json!("001234567890"));

    let replaced = app
        .post_auth(
            path,
            &telecaller.token,
            &json!({"accountNumber": "987654321", "ifscCode": "SBIN0000001", "accountHolderName": "Asha Rao"}),
        )
        .await;
    replaced.assert(201);
    assert_eq!(app.get_auth(path, &telecaller.token).await.body["data"]["accountNumber"], json!("987654321"));

    app.delete_auth(path, &telecaller.token).await.assert(200);
    assert_eq!(app.get_auth(path, &telecaller.token).await.body["data"], json!(null));
    let user = app.user().await;
    app.get_auth(path, &user.token).await.assert_error(403, "forbidden_role");
}
