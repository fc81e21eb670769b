//! Plans, favorites and the online telecaller list over HTTP.

use std::collections::{HashMap, HashSet};

use crate::support::{TestApp, fresh_phone, spawn_app};
use futures_util::future::join_all;
use serde_json::json;
use talktime_domain::account::Presence;
use talktime_domain::ids::AccountId;
use talktime_repository::plans::{self, NewPlan};
use talktime_repository::testing;

async fn telecaller(app: &TestApp, language: &str, approval: &str) -> AccountId {
    testing::create_telecaller(&app.db, &fresh_phone(), "Lakshmi", language, approval).await.unwrap()
}

#[tokio::test]
async fn plans_list_active_ones_by_price() {
    let app = spawn_app().await;
    for (paise, coins, discount, active) in [(9900, 110, 10, true), (4900, 50, 0, true), (19900, 240, 0, false)] {
        plans::create(
            app.db.pool(),
            &NewPlan { amount_paise: paise, coins, discount_hundredths: discount * 100, is_active: active },
        )
        .await
        .unwrap();
    }
    let user = app.user().await;
    let reply = app.get_auth("/users/plans", &user.token).await;
    reply.assert(200);
    let list = reply.body["data"]["plans"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["amount"], json!(49.0));
    assert_eq!(list[1]["amount"], json!(99.0));
    assert_eq!(list[1]["discountPercentage"], json!(10));
    assert_eq!(list[1]["coins"], json!(110));
    assert!(list[0]["_id"].is_string() && list[0]["createdAt"].is_string());
    assert_eq!(reply.body["data"]["isFirstRecharge"], json!(true));

    let telecaller = app.telecaller(true).await;
    app.get_auth("/users/plans", &telecaller.token).await.assert_error(403, "forbidden_role");
}

#[tokio::test]
async fn favorites_rules() {
    let app = spawn_app().await;
    let user = app.user().await;
    let approved = telecaller(&app, "hindi", "APPROVED").await;
    let pending = telecaller(&app, "hindi", "PENDING").await;
    let other_user = app.user().await;

    let path = |id: &str| format!("/users/favorites/{id}");
    app.post_auth(&path(&user.id), &user.token, &json!({})).await.assert_error(400, "cannot_favorite_self");
    app.post_auth(&path(&uuid::Uuid::now_v7().to_string()), &user.token, &json!({}))
        .await
        .assert_error(404, "telecaller_not_found");
    app.post_auth(&path(&other_user.id), &user.token, &json!({})).await.assert_error(404, "telecaller_not_found");
    app.post_auth(&path("not-a-uuid"), &user.token, &json!({})).await.assert_error(404, "not_found");
    app.post_auth(&path(&pending.to_string()), &user.token, &json!({}))
        .await
        .assert_error(400, "telecaller_unavailable");

    let added = app.post_auth(&path(&approved.to_string()), &user.token, &json!({})).await;
    added.assert(200);
    assert_eq!(added.body["message"], json!("Added to favorites"));
    let again = app.post_auth(&path(&approved.to_string()), &user.token, &json!({})).await;
    again.assert(200);
    assert!(again.body["message"].as_str().unwrap().contains("already"));

    app.presence().set(approved, Presence::Online).await;
    let list = app.get_auth("/users/favorites", &user.token).await;
    list.assert(200);
    let favorites = list.body["data"]["favorites"].as_array().unwrap();
    assert_eq!(favorites.len(), 1);
    assert_eq!(favorites[0]["_id"], json!(approved.to_string()));
    assert_eq!(favorites[0]["presence"], json!("ONLINE"));
    assert!(favorites[0]["about"].is_string());
    assert_eq!(list.body["data"]["hasMore"], json!(false));

    // A favorite whose telecaller is no longer approved is hidden, not deleted.
    testing::set_approval(&app.db, approved, "REJECTED", Some("reason here")).await.unwrap();
    assert_eq!(app.get_auth("/users/favorites", &user.token).await.body["data"]["favorites"], json!([]));
    testing::set_approval(&app.db, approved, "APPROVED", None).await.unwrap();

    app.delete_auth(&path(&approved.to_string()), &user.token).await.assert(200);
    app.delete_auth(&path(&approved.to_string()), &user.token).await.assert(200);
    assert_eq!(app.get_auth("/users/favorites", &user.token).await.body["data"]["favorites"], json!([]));

    let telecaller_session = app.telecaller(true).await;
    app.get_auth("/users/favorites", &telecaller_session.token).await.assert_error(403, "forbidden_role");
}

#[tokio::test]
async fn favorites_page_newest_first() {
    let app = spawn_app().await;
    let user = app.user().await;
    let mut saved = Vec::new();
    for _ in 0..5 {
        let id = telecaller(&app, "tamil", "APPROVED").await;
        app.post_auth(&format!("/users/favorites/{id}"), &user.token, &json!({})).await.assert(200);
        saved.push(id.to_string());
    }
    let first = app.get_auth("/users/favorites?page=1&limit=3", &user.token).await;
    let second = app.get_auth("/users/favorites?page=2&limit=3", &user.token).await;
    let ids = |r: &crate::support::Reply| -> Vec<String> {
        r.body["data"]["favorites"].as_array().unwrap().iter().map(|f| f["_id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(first.body["data"]["hasMore"], json!(true));
    assert_eq!(second.body["data"]["hasMore"], json!(false));
    let mut all = ids(&first);
    all.extend(ids(&second));
    saved.reverse();
    assert_eq!(all, saved);

    app.get_auth("/users/favorites?limit=0", &user.token).await.assert_error(400, "validation_error");
    app.get_auth("/users/favorites?limit=51", &user.token).await.assert_error(400, "validation_error");
    app.get_auth("/users/favorites?page=0", &user.token).await.assert_error(400, "validation_error");
    app.get_auth("/users/favorites?page=x", &user.token).await.assert(400);
    app.get_auth("/users/favorites?sort=name", &user.token).await.assert(400);
}

#[tokio::test]
async fn the_fifty_favorites_cap_holds_under_concurrent_adds() {
    let app = spawn_app().await;
    let user = app.user().await;
    let mut ids = Vec::new();
    for _ in 0..60 {
        ids.push(telecaller(&app, "hindi", "APPROVED").await);
    }
    let paths: Vec<String> = ids.iter().map(|id| format!("/users/favorites/{id}")).collect();
    let empty = json!({});
    let replies = join_all(paths.iter().map(|path| app.post_auth(path, &user.token, &empty))).await;
    let added = replies.iter().filter(|r| r.status == 200).count();
    let refused = replies.iter().filter(|r| r.code() == "favorites_limit_reached").count();
    assert_eq!((added, refused), (50, 10));
    let user_id: AccountId = user.id.parse().unwrap();
    assert_eq!(talktime_repository::telecallers::count_favorites(app.db.pool(), user_id).await.unwrap(), 50);
}

#[tokio::test]
async fn the_telecaller_list_shows_only_available_approved_active_telecallers_online_first() {
    let app = spawn_app().await;
    let user = app.user().await;
    let online = telecaller(&app, "hindi", "APPROVED").await;
    let on_call = telecaller(&app, "hindi", "APPROVED").await;
    let offline = telecaller(&app, "hindi", "APPROVED").await;
    let pending = telecaller(&app, "hindi", "PENDING").await;
    let suspended = telecaller(&app, "tamil", "APPROVED").await;
    let tamil = telecaller(&app, "tamil", "APPROVED").await;
    let suspended_phone =
        talktime_repository::accounts::find_by_id(app.db.pool(), suspended).await.unwrap().unwrap().phone;
    testing::force_status(&app.db, &suspended_phone, "SUSPENDED").await.unwrap();
    for (id, presence) in [
        (on_call, Presence::OnCall),
        (online, Presence::Online),
        (pending, Presence::Online),
        (suspended, Presence::Online),
        (tamil, Presence::Online),
    ] {
        app.presence().set(id, presence).await;
    }
    let _ = offline;
    app.post_auth(&format!("/users/favorites/{tamil}"), &user.token, &json!({})).await.assert(200);

    let reply = app.get_auth("/users/telecallers", &user.token).await;
    reply.assert(200);
    let data = &reply.body["data"];
    let listed: Vec<(String, String, bool)> = data["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["_id"].as_str().unwrap().to_owned(),
                t["presence"].as_str().unwrap().to_owned(),
                t["isFavorite"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert_eq!(listed[2], (on_call.to_string(), "ON_CALL".to_owned(), false), "ON_CALL after every ONLINE");
    let onlines: HashSet<&str> = listed[..2].iter().map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(onlines, HashSet::from([online.to_string().as_str(), tamil.to_string().as_str()]));
    assert!(listed.iter().any(|(id, _, fav)| *id == tamil.to_string() && *fav));
    assert_eq!(data["audioCallCharge"], json!(2));
    assert_eq!(data["videoCallCharge"], json!(4));
    assert_eq!(data["hasMore"], json!(false));

    let tamil_only = app.get_auth("/users/telecallers?language=tamil", &user.token).await;
    let tamil_ids: Vec<&str> =
        tamil_only.body["data"]["data"].as_array().unwrap().iter().map(|t| t["_id"].as_str().unwrap()).collect();
    assert_eq!(tamil_ids, [tamil.to_string()]);
    app.get_auth("/users/telecallers?language=elvish", &user.token).await.assert_error(400, "validation_error");

    // Presence is live: going offline leaves the list at once.
    app.presence().set(online, Presence::Offline).await;
    let after = app.get_auth("/users/telecallers", &user.token).await;
    assert_eq!(after.body["data"]["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn paging_while_presence_changes_never_repeats_or_skips_who_stayed_online() {
    let app = spawn_app().await;
    let user = app.user().await;
    let mut ids = Vec::new();
    for _ in 0..30 {
        let id = telecaller(&app, "english", "APPROVED").await;
        app.presence().set(id, Presence::Online).await;
        ids.push(id);
    }
    let page = |n: u32| {
        let token = user.token.clone();
        let app = &app;
        async move {
            let reply = app.get_auth(&format!("/users/telecallers?page={n}&limit=10"), &token).await;
            reply.assert(200);
            let ids: Vec<String> = reply.body["data"]["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["_id"].as_str().unwrap().to_owned())
                .collect();
            (ids, reply.body["data"]["hasMore"].as_bool().unwrap())
        }
    };

    let (first, more) = page(1).await;
    assert!(more);
    // Between pages: three from page 1 and two not yet seen go offline, two switch to a call,
    // and four newcomers come online.
    let unseen: Vec<AccountId> = ids.iter().filter(|id| !first.contains(&id.to_string())).copied().collect();
    let first_ids: Vec<AccountId> = first.iter().map(|s| s.parse().unwrap()).collect();
    let gone: Vec<AccountId> = first_ids[..3].iter().chain(unseen[..2].iter()).copied().collect();
    for id in &gone {
        app.presence().set(*id, Presence::Offline).await;
    }
    for id in &unseen[5..7] {
        app.presence().set(*id, Presence::OnCall).await;
    }
    for _ in 0..4 {
        let newcomer = telecaller(&app, "english", "APPROVED").await;
        app.presence().set(newcomer, Presence::Online).await;
    }

    let (second, more) = page(2).await;
    assert!(more);
    app.presence().set(unseen[9], Presence::Offline).await;
    let (third, more) = page(3).await;
    assert!(!more);

    let mut seen: HashMap<String, usize> = HashMap::new();
    for id in first.iter().chain(&second).chain(&third) {
        *seen.entry(id.clone()).or_default() += 1;
    }
    assert!(seen.values().all(|&n| n == 1), "an entry repeated: {seen:?}");
    let stayed: Vec<&AccountId> = ids.iter().filter(|id| !gone.contains(id) && **id != unseen[9]).collect();
    for id in stayed {
        assert!(seen.contains_key(&id.to_string()), "{id} stayed available but was skipped");
    }
    for id in &gone {
        let on_later_page = second.contains(&id.to_string()) || third.contains(&id.to_string());
        assert!(!on_later_page, "{id} went offline but was listed afterwards");
    }
}

#[tokio::test]
async fn listing_and_paging_write_nothing_to_postgres() {
    let app = spawn_app().await;
    let user = app.user().await;
    for _ in 0..12 {
        let id = telecaller(&app, "english", "APPROVED").await;
        app.presence().set(id, Presence::Online).await;
    }
    // A favorite, so the list has something per viewer to show.
    let first = app.get_auth("/users/telecallers?limit=5", &user.token).await;
    let saved = first.body["data"]["data"][0]["_id"].as_str().unwrap().to_owned();
    app.post_auth(&format!("/users/favorites/{saved}"), &user.token, &json!({})).await.assert(200);

    // Any INSERT, UPDATE or DELETE now fails the request that makes it.
    testing::forbid_writes(&app.db).await.unwrap();
    let mut seen = Vec::new();
    for page in 1..=3 {
        let reply = app.get_auth(&format!("/users/telecallers?page={page}&limit=5"), &user.token).await;
        reply.assert(200);
        for card in reply.body["data"]["data"].as_array().unwrap() {
            assert_eq!(card["isFavorite"], json!(card["_id"] == json!(saved)), "{card}");
            seen.push(card["_id"].as_str().unwrap().to_owned());
        }
        assert_eq!(reply.body["data"]["hasMore"], json!(page < 3));
    }
    app.get_auth("/users/telecallers?language=hindi", &user.token).await.assert(200);
    app.get_auth("/users/favorites", &user.token).await.assert(200);
    testing::allow_writes(&app.db).await.unwrap();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 12);
}
