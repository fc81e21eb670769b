//! The console in a real browser (headless Chromium through ChromeDriver): a user signs in,
//! buys coins in the sandbox, calls a demo host (a bot on the real WebSocket endpoint), watches
//! the balance drop, ends the call and finds it in the history; meanwhile an admin, in a browser
//! of their own, sees the call in the live list. Then she chats with a demo host, who answers
//! with canned lines, and sends a gift. Nothing is fetched from anywhere but the server.

use std::time::Duration;

use crate::support::browser::Driver;
use serde_json::Value;
use talktime_api::demo::{DemoSettings, run_hosts};
use talktime_services::tokens::TokenIssuer;

fn number(text: &str) -> i64 {
    text.trim().parse().unwrap_or(-1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_calls_a_demo_host_from_the_console_while_an_admin_watches() {
    let app = crate::support::spawn_app_with(&[("OTP_TEST_NUMBERS", "9000000001:123456")]).await;
    talktime_repository::seed::demo(&app.db).await.unwrap();
    let tokens = TokenIssuer::new(crate::support::JWT_SECRET.as_bytes(), Duration::from_secs(3600));
    let demo = DemoSettings { answer_after: Duration::from_millis(300), hang_up_after: Duration::from_secs(120) };
    let addr = format!("127.0.0.1:{}", app.port).parse().unwrap();
    assert_eq!(run_hosts(addr, &app.db, &tokens, demo).await.unwrap(), 3);
    let console = app.url("/console");
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");

    let driver = Driver::start().await;
    let user = driver.browser().await;
    user.goto(&console).await;
    user.type_into("#user-phone", "9000000001").await;
    user.click("#user-send").await;
    user.type_into("#user-code", "123456").await;
    user.click("#user-verify").await;
    user.type_into("#profile-name", "Ravi Kumar").await;
    user.click("#profile-save").await;

    // Coins from the sandbox gateway (the biggest plan: a call needs a minute's worth).
    user.click("#plans .card:last-child .buy").await;
    let balance = number(&user.wait_text("#user-balance", "coins", |t| number(t) > 0).await);

    // A demo host is online; call her. She answers; the meter runs and the balance drops.
    user.click("#online-list .call[data-type=AUDIO]").await;
    user.wait_text("#call-status", "the call connected", |t| t == "Connected").await;
    user.wait_text("#call-balance", "the balance dropping", |t| (0..balance).contains(&number(t))).await;
    user.screenshot(&shots.join("console-user.png")).await;

    // An admin, in a browser of their own, sees the call in the live list.
    let admin = driver.browser().await;
    admin.goto(&console).await;
    admin.click("button.mode[data-mode=admin]").await;
    admin.click("#admin-signin").await;
    admin.wait_text("#admin-live", "the live call", |t| t.contains("Ravi Kumar")).await;
    admin.wait_text("#admin-stats", "the dashboard figures", |t| t.contains("Users")).await;
    admin.screenshot(&shots.join("console-admin.png")).await;

    // The user hangs up and finds the call, with the coins it cost, in the history.
    tokio::time::sleep(Duration::from_millis(1_100)).await; // at least one whole billed second
    user.click("#call-end").await;
    let summary = user.wait_text("#call-summary", "the call's cost", |t| t.contains("coins")).await;
    let spent = user.wait_text("#history .history-row .coins", "the spent coins", |t| number(t) > 0).await;
    assert!(summary.contains(&format!("{} coins", number(&spent))), "{summary} / {spent}");
    let after = number(&user.wait_text("#user-balance", "the new balance", |t| number(t) < balance).await);
    assert_eq!(after, balance - number(&spent));
    assert_eq!(app.balance(&talktime_domain_user(&app).await).await, after);

    // A chat with a demo host: she accepts, answers each message with a canned line, and
    // thanks for a gift; the chat is billed and listed.
    user.click("#online-list .chat").await;
    user.wait_text("#chat-status", "the chat accepted", |t| t == "Chatting").await;
    user.type_into("#chat-text", "Hello there").await;
    user.click("#chat-send").await;
    user.wait_text("#chat-messages", "her canned reply", |t| t.contains("Hello there") && t.contains("tell me more"))
        .await;
    user.click("#chat-panel .gift").await;
    user.wait_text("#chat-messages", "her thanks for the gift", |t| t.contains("Thank you for the Rose")).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await; // at least one whole billed second
    user.click("#chat-end").await;
    user.wait_text("#chat-summary", "the chat's cost", |t| t.contains("coins")).await;
    user.wait_text("#chat-history .chat-row .coins", "the chat in the history", |t| number(t) > 0).await;
    let gifts = app.get_auth("/admin/dashboard/gifts?period=today", &app.admin_token().await).await;
    assert_eq!(gifts.body["data"]["topGifts"][0]["name"], serde_json::json!("Rose"));

    // The admin broadcasts an announcement; the user finds it in her inbox, her preferences
    // beside it.
    admin.type_into("#bc-title", "Weekend offer").await;
    admin.type_into("#bc-body", "Double coins on Sunday").await;
    admin.click("#bc-preview").await;
    admin.wait_text("#bc-result", "the audience", |t| t.starts_with("Would reach")).await;
    admin.click("#bc-send").await;
    admin.wait_text("#bc-result", "the broadcast's figures", |t| t.contains("targeted")).await;
    user.wait_text("#user-prefs", "the preferences", |t| t.contains("offers")).await;
    user.click("#user-read-all").await;
    user.wait_text("#user-inbox", "the announcement", |t| t.contains("Weekend offer")).await;

    // Every resource either page loaded came from the server itself.
    for browser in [&user, &admin] {
        let loaded = browser.execute("return performance.getEntriesByType('resource').map(e => e.name)").await;
        for name in loaded.as_array().unwrap().iter().filter_map(Value::as_str) {
            assert!(name.starts_with(&app.address), "fetched from elsewhere: {name}");
        }
    }
    user.quit().await;
    admin.quit().await;
    app.assert_books_balance().await;
}

/// The id of the console's user (the one with the test phone number).
async fn talktime_domain_user(app: &crate::support::TestApp) -> String {
    talktime_repository::accounts::find_by_phone(app.db.pool(), "9000000001").await.unwrap().unwrap().id.to_string()
}

#[tokio::test]
async fn the_console_can_be_turned_off_and_the_explorer_is_served_from_the_binary() {
    let off = crate::support::spawn_app_with(&[("CONSOLE_ENABLED", "false")]).await;
    for path in ["/console", "/console/app.js", "/console/config.json"] {
        off.get(path).await.assert_error(404, "not_found");
    }
    let on = crate::support::spawn_app().await;
    let page = on.client.get(on.url("/console")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("/console/app.js"));
    let config = on.get("/console/config.json").await;
    assert_eq!(config.body["payments"]["gateway"], serde_json::json!("sandbox"));
    assert_eq!(config.body["media"]["configured"], serde_json::json!(false));
    on.get("/console/nothing.js").await.assert_error(404, "not_found");
    let explorer = on.client.get(on.url("/docs")).send().await.unwrap().text().await.unwrap();
    assert!(explorer.contains("/docs/rapidoc-min.js") && explorer.contains("/openapi.json"));
    let script = on.client.get(on.url("/docs/rapidoc-min.js")).send().await.unwrap();
    assert_eq!(script.status(), 200);
    assert!(script.bytes().await.unwrap().len() > 100_000);
}
