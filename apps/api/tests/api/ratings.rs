//! Ratings on cards: users' ratings of their calls feed each telecaller's `rating`, smoothed
//! toward the platform's mean; `sort=rating` orders by it; an admin can hide a rating.

use serde_json::{Value, json};

use crate::support::ws::Ws;
use crate::support::{Session, TestApp, spawn_app};

/// A completed call of 40 s (long enough to count) from `user` to `telecaller` (whose socket `t`
/// stays open), then the user's feedback.
async fn rated_call(app: &TestApp, user: &Session, telecaller: &Session, t: &mut Option<Ws>, rating: i32) -> String {
    let live = app.live_call(user, telecaller, t.take()).await;
    let call = live.id.clone();
    live.talked(app, 40).await;
    *t = Some(live.end().await);
    app.post_auth(&format!("/calls/{call}/feedback"), &user.token, &json!({ "rating": rating })).await.assert(200);
    call
}

/// The ids of `/users/telecallers` (with `query`), in order, and their cards.
async fn listed(app: &TestApp, viewer: &Session, query: &str) -> (Vec<String>, Vec<Value>) {
    let reply = app.get_auth(&format!("/users/telecallers{query}"), &viewer.token).await;
    reply.assert(200);
    let cards = reply.body["data"]["data"].as_array().unwrap().clone();
    (cards.iter().map(|c| c["_id"].as_str().unwrap().to_owned()).collect(), cards)
}

fn card<'a>(cards: &'a [Value], id: &str) -> &'a Value {
    cards.iter().find(|c| c["_id"] == id).unwrap()
}

#[tokio::test]
async fn ratings_change_the_cards_and_the_order_and_a_hidden_one_stops_counting() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let first = app.telecaller(true).await;
    let second = app.telecaller(true).await;
    let mut a = Some(Ws::connect(&app, "/ws/telecaller", &first.token).await.0);
    let mut b = Some(Ws::connect(&app, "/ws/telecaller", &second.token).await.0);
    let (viewer, rater_a, rater_b) = (app.user().await, app.user().await, app.user().await);

    let (order, cards) = listed(&app, &viewer, "").await;
    assert_eq!(order, vec![first.id.clone(), second.id.clone()], "ONLINE, then the order they joined");
    assert_eq!(card(&cards, &first.id)["rating"], json!({ "average": null, "count": 0 }));

    rated_call(&app, &rater_a, &first, &mut a, 2).await;
    let hidden_call = rated_call(&app, &rater_b, &second, &mut b, 5).await;
    // Her rating of the user does not count toward her own card.
    app.post_auth(&format!("/calls/{hidden_call}/feedback"), &second.token, &json!({ "rating": 1 })).await.assert(200);

    // Platform mean 3.5: (2 + 9 × 3.5) / 10 and (5 + 9 × 3.5) / 10.
    let (order, cards) = listed(&app, &viewer, "").await;
    assert_eq!(order, vec![first.id.clone(), second.id.clone()], "the default order ignores ratings");
    assert_eq!(card(&cards, &first.id)["rating"], json!({ "average": 3.35, "count": 1 }));
    assert_eq!(card(&cards, &second.id)["rating"], json!({ "average": 3.65, "count": 1 }));
    let (by_rating, _) = listed(&app, &viewer, "?sort=rating").await;
    assert_eq!(by_rating, vec![second.id.clone(), first.id.clone()], "best rated first");
    app.get_auth("/users/telecallers?sort=stars", &viewer.token).await.assert_error(400, "validation_error");

    // Favorites and the admin list show the same rating.
    app.post_auth(&format!("/users/favorites/{}", second.id), &viewer.token, &json!({})).await.assert(200);
    let favorites = app.get_auth("/users/favorites", &viewer.token).await;
    assert_eq!(favorites.body["data"]["favorites"][0]["rating"]["average"], json!(3.65));
    let approved = app.get_auth("/admin/telecallers?status=APPROVED", &admin).await;
    let row = approved.body["data"]["telecallers"].as_array().unwrap().iter().find(|r| r["_id"] == json!(second.id));
    assert_eq!(row.unwrap()["rating"]["count"], json!(1));

    // An admin hides the 5: it stops counting (twice changes nothing), and the order follows.
    let hide = format!("/admin/feedback/{hidden_call}/{}", rater_b.id);
    for _ in 0..2 {
        app.patch_auth(&hide, &admin, &json!({ "hidden": true })).await.assert(200);
    }
    let (by_rating, cards) = listed(&app, &viewer, "?sort=rating").await;
    assert_eq!(card(&cards, &second.id)["rating"], json!({ "average": null, "count": 0 }));
    assert_eq!(card(&cards, &first.id)["rating"], json!({ "average": 2.0, "count": 1 }));
    assert_eq!(by_rating, vec![first.id.clone(), second.id.clone()]);
    let log = app.get_auth("/admin/audit-log", &admin).await;
    let hides =
        log.body["data"]["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "feedback.hide").count();
    assert_eq!(hides, 1, "a repeated hide is not a change");

    // Shown again, it counts again; unknown feedback is 404.
    app.patch_auth(&hide, &admin, &json!({ "hidden": false })).await.assert(200);
    let (_, cards) = listed(&app, &viewer, "").await;
    assert_eq!(card(&cards, &second.id)["rating"], json!({ "average": 3.65, "count": 1 }));
    app.patch_auth(&format!("/admin/feedback/{hidden_call}/{}", viewer.id), &admin, &json!({ "hidden": true }))
        .await
        .assert_error(404, "feedback_not_found");
    app.assert_books_balance().await;
}

/// A rating counts only from a call billed at least RATING_MIN_BILLED_SECONDS (30): a few
/// seconds' call may still leave its feedback and comment, which do not move her card.
#[tokio::test]
async fn a_rating_from_a_call_shorter_than_the_minimum_does_not_count() {
    let app = spawn_app().await;
    let telecaller = app.telecaller(true).await;
    let (viewer, rater) = (app.user().await, app.user().await);
    let mut t = Some(Ws::connect(&app, "/ws/telecaller", &telecaller.token).await.0);

    let live = app.live_call(&rater, &telecaller, t.take()).await;
    let short = live.id.clone();
    live.talked(&app, 29).await;
    t = Some(live.end().await);
    let body = json!({ "rating": 1, "comment": "Hung up at once" });
    app.post_auth(&format!("/calls/{short}/feedback"), &rater.token, &body).await.assert(200);
    let (_, cards) = listed(&app, &viewer, "").await;
    assert_eq!(card(&cards, &telecaller.id)["rating"], json!({ "average": null, "count": 0 }));
    let kept = talktime_repository::calls::feedback_on(app.db.pool(), short.parse().unwrap()).await.unwrap();
    assert_eq!(kept[0].comment.as_deref(), Some("Hung up at once"), "the feedback is kept");
    let admin = app.admin_token().await;
    // Hiding a rating that never counted takes nothing away.
    app.patch_auth(&format!("/admin/feedback/{short}/{}", rater.id), &admin, &json!({ "hidden": true }))
        .await
        .assert(200);

    rated_call(&app, &rater, &telecaller, &mut t, 4).await;
    let (_, cards) = listed(&app, &viewer, "").await;
    assert_eq!(card(&cards, &telecaller.id)["rating"]["count"], json!(1), "a 40 s call counts");
    app.assert_books_balance().await;
}
