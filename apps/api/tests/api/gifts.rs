//! Gifts (docs/chat.md#gifts): the catalogue operators keep, and gifts sent during a call and a
//! chat: her share at the session's commission, once per clientId, refused without the coins.

use crate::support::stage::stage;
use crate::support::ws::Ws;
use serde_json::{Value, json};
use talktime_repository::ledger::{self, LedgerAccount};
use talktime_repository::testing;

async fn create_gift(app: &crate::support::TestApp, admin: &str, name: &str, coins: i64) -> String {
    let reply = app.post_auth("/admin/gifts", admin, &json!({ "name": name, "icon": "🌹", "coins": coins })).await;
    reply.assert(201);
    reply.body["data"]["_id"].as_str().unwrap().to_owned()
}

async fn send_gift(user: &mut Ws, gift: &str, session: &str, client_id: &str) -> Value {
    user.send_with_ref("gift:send", json!({ "giftId": gift, "sessionId": session, "clientId": client_id }), client_id)
        .await;
    loop {
        let frame = user.next().await;
        if frame["ref"] == json!(client_id) {
            return frame;
        }
    }
}

#[tokio::test]
async fn a_gift_in_a_call_pays_her_share_once_per_client_id_and_too_little_balance_moves_nothing() {
    let stage = stage(&[], 1_000).await;
    let admin = stage.app.admin_token().await;
    let rose = create_gift(&stage.app, &admin, "Rose", 100).await;
    let palace = create_gift(&stage.app, &admin, "Palace", 5_000).await;
    let catalogue = stage.app.get_auth("/users/gifts", &stage.user.token).await;
    let names: Vec<_> = catalogue.body["data"]["gifts"].as_array().unwrap().iter().map(|g| g["name"].clone()).collect();
    assert_eq!(names, vec![json!("Rose"), json!("Palace")], "cheapest first");

    let (mut user, mut telecaller) = stage.sockets().await;
    let call = stage.accepted_call(&mut user, &mut telecaller).await;
    let sent = send_gift(&mut user, &rose, &call, "g1").await;
    assert_eq!(sent["event"], json!("gift:received"));
    assert_eq!((sent["data"]["coins"].clone(), sent["data"]["balance"].clone()), (json!(100), json!(900)));
    let received = telecaller.expect("gift:received").await;
    assert_eq!((received["name"].clone(), received["from"].clone()), (json!("Rose"), json!(stage.user.id)));
    assert_eq!(stage.app.balance(&stage.telecaller.id).await, 50, "her half at the audio commission");
    assert_eq!(ledger::platform_balance(stage.app.db.pool(), LedgerAccount::Revenue).await.unwrap(), 50);

    // The same clientId again: the same gift, charged once.
    let again = send_gift(&mut user, &rose, &call, "g1").await;
    assert_eq!(again["data"]["balance"], json!(900));
    assert_eq!(stage.app.balance(&stage.user.id).await, 900);

    let refused = send_gift(&mut user, &palace, &call, "g2").await;
    assert_eq!(
        (refused["event"].clone(), refused["data"]["code"].clone()),
        (json!("error"), json!("insufficient_balance"))
    );
    assert_eq!(stage.app.balance(&stage.user.id).await, 900);
    assert_eq!(stage.app.balance(&stage.telecaller.id).await, 50);

    // The call's paid time follows the balance the gift left: 900 coins at 2 coins/s.
    user.send("call:end", json!({ "callId": call })).await;
    user.expect("call:ended").await;
    let gifts = testing::journals_of(&stage.app.db, "GIFT", None).await.unwrap();
    assert_eq!(gifts, 1);

    let mine = stage.app.get_auth("/users/transactions", &stage.user.token).await;
    assert_eq!(mine.body["data"]["gifts"][0]["coins"], json!(100));
    let hers = stage.app.get_auth("/telecaller/transactions", &stage.telecaller.token).await;
    assert_eq!(hers.body["data"]["gifts"][0]["earned"], json!(50));
    let figures = stage.app.get_auth("/admin/dashboard/gifts?period=today", &admin).await;
    assert_eq!(
        (figures.body["data"]["coins"].clone(), figures.body["data"]["revenue"].clone()),
        (json!(100), json!(50))
    );
    assert_eq!(figures.body["data"]["topGifts"][0]["name"], json!("Rose"));

    // A gift once sent is deactivated, not deleted; one never sent is deleted.
    let removed = stage.app.delete_auth(&format!("/admin/gifts/{rose}"), &admin).await;
    assert_eq!(removed.body["data"]["deleted"], json!(false));
    let removed = stage.app.delete_auth(&format!("/admin/gifts/{palace}"), &admin).await;
    assert_eq!(removed.body["data"]["deleted"], json!(true));
    let catalogue = stage.app.get_auth("/users/gifts", &stage.user.token).await;
    assert_eq!(catalogue.body["data"]["gifts"], json!([]));
    stage.app.assert_books_balance().await;
}

#[tokio::test]
async fn a_gift_in_a_chat_pays_her_share_at_the_chat_commission_and_never_cuts_what_was_billed() {
    let stage = stage(&[], 300).await;
    let admin = stage.app.admin_token().await;
    stage.app.put_auth("/admin/config", &admin, &json!({ "commissionPercent": { "chat": 40 } })).await.assert(200);
    let heart = create_gift(&stage.app, &admin, "Heart", 100).await;
    let (mut user, mut telecaller) = stage.sockets().await;
    user.send("chat:request", json!({ "telecallerId": stage.telecaller.id })).await;
    let chat = user.expect("chat:requested").await["sessionId"].as_str().unwrap().to_owned();
    telecaller.send("chat:accept", json!({ "sessionId": chat })).await;
    user.expect("chat:accepted").await;
    // 250 seconds of chat at 1 coin/s are owed already: only 50 of her 300 coins are free.
    talktime_repository::testing::age_call(&stage.app.db, chat.parse().unwrap(), 250).await.unwrap();
    let refused = send_gift(&mut user, &heart, &chat, "h1").await;
    assert_eq!(refused["data"]["code"], json!("insufficient_balance"));
    stage.app.grant_coins(&stage.user.id, 100).await;
    let sent = send_gift(&mut user, &heart, &chat, "h2").await;
    assert_eq!(sent["event"], json!("gift:received"));
    assert_eq!(telecaller.expect("gift:received").await["coins"], json!(100));
    assert_eq!(stage.app.balance(&stage.telecaller.id).await, 60, "60% of 100 at a 40% chat commission");

    user.send("chat:end", json!({ "sessionId": chat })).await;
    let ended = user.expect("chat:ended").await;
    let billed = ended["durationInSeconds"].as_i64().unwrap();
    assert!(billed >= 250, "billed {billed}");
    assert_eq!(ended["coinsSpent"], json!(billed), "every second billed after the gift");
    let conversation = stage.app.get_auth(&format!("/users/chats/{chat}/messages"), &stage.user.token).await;
    assert_eq!(conversation.body["data"]["gifts"][0]["name"], json!("Heart"));
    stage.app.assert_books_balance().await;
}
