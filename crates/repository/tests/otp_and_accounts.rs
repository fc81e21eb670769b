//! Repository tier: the conditional statements behind login, against a fresh real database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use talktime_domain::account::{AccountStatus, Role};
use talktime_repository::otp::{self, Attempt, Issue, Unusable};
use talktime_repository::testing::{TestDatabase, age_otp};
use talktime_repository::{accounts, admins};

const PHONE: &str = "9876543210";

#[tokio::test]
async fn issue_respects_the_cooldown_and_replaces_the_previous_code() {
    let t = TestDatabase::new().await.unwrap();
    let mut conn = t.db.acquire().await.unwrap();
    assert!(matches!(otp::issue(&mut conn, PHONE, b"one", 300, 60).await.unwrap(), Issue::Stored { .. }));
    match otp::issue(&mut conn, PHONE, b"two", 300, 60).await.unwrap() {
        Issue::CoolingDown { retry_after_secs } => assert!((59..=60).contains(&retry_after_secs)),
        other => panic!("expected a cooldown, got {other:?}"),
    }
    // The refused issue did not replace the code.
    assert_eq!(otp::attempt(&mut *conn, PHONE, b"one", 5).await.unwrap(), Some(Attempt { attempts: 0, matched: true }));

    age_otp(&t.db, PHONE, 61).await.unwrap();
    assert!(matches!(otp::issue(&mut conn, PHONE, b"two", 300, 60).await.unwrap(), Issue::Stored { .. }));
    assert_eq!(otp::attempt(&mut *conn, PHONE, b"two", 5).await.unwrap(), Some(Attempt { attempts: 0, matched: true }));
}

#[tokio::test]
async fn attempts_count_up_to_the_limit_and_explain_why_a_code_is_unusable() {
    let t = TestDatabase::new().await.unwrap();
    let mut conn = t.db.acquire().await.unwrap();
    assert_eq!(otp::state(&mut *conn, PHONE, 5).await.unwrap(), Unusable::Missing);
    otp::issue(&mut conn, PHONE, b"right", 300, 60).await.unwrap();
    for n in 1..=5 {
        assert_eq!(
            otp::attempt(&mut *conn, PHONE, b"wrong", 5).await.unwrap(),
            Some(Attempt { attempts: n, matched: false })
        );
    }
    assert_eq!(otp::attempt(&mut *conn, PHONE, b"right", 5).await.unwrap(), None);
    assert_eq!(otp::state(&mut *conn, PHONE, 5).await.unwrap(), Unusable::Exhausted);

    age_otp(&t.db, PHONE, 61).await.unwrap();
    otp::issue(&mut conn, PHONE, b"right", 300, 60).await.unwrap();
    age_otp(&t.db, PHONE, 301).await.unwrap();
    assert_eq!(otp::attempt(&mut *conn, PHONE, b"right", 5).await.unwrap(), None);
    assert_eq!(otp::state(&mut *conn, PHONE, 5).await.unwrap(), Unusable::Expired);
}

#[tokio::test]
async fn withdraw_removes_only_the_named_challenge() {
    let t = TestDatabase::new().await.unwrap();
    let mut conn = t.db.acquire().await.unwrap();
    let Issue::Stored { sent_at } = otp::issue(&mut conn, PHONE, b"a", 300, 60).await.unwrap() else { panic!() };
    age_otp(&t.db, PHONE, 61).await.unwrap();
    otp::issue(&mut conn, PHONE, b"b", 300, 60).await.unwrap();
    otp::withdraw(&mut *conn, PHONE, sent_at).await.unwrap();
    assert!(otp::attempt(&mut *conn, PHONE, b"b", 5).await.unwrap().is_some_and(|a| a.matched));
}

#[tokio::test]
async fn accounts_are_created_once_per_phone_and_suspension_revokes_tokens() {
    let t = TestDatabase::new().await.unwrap();
    let mut tx = t.db.begin().await.unwrap();
    let (first, created) = accounts::create_if_absent(&mut tx, PHONE).await.unwrap();
    let (second, created_again) = accounts::create_if_absent(&mut tx, PHONE).await.unwrap();
    assert!(created && !created_again);
    tx.commit().await.unwrap();
    assert_eq!(first.id, second.id);
    assert_eq!((first.role, first.status, first.token_version), (Role::User, AccountStatus::Active, 0));
    assert!(!first.is_profile_complete());

    assert!(accounts::set_status(t.db.pool(), first.id, AccountStatus::Suspended).await.unwrap());
    assert!(!accounts::set_status(t.db.pool(), first.id, AccountStatus::Suspended).await.unwrap(), "already suspended");
    let suspended = accounts::find_by_id(t.db.pool(), first.id).await.unwrap().unwrap();
    assert_eq!((suspended.status, suspended.token_version), (AccountStatus::Suspended, 1));
    assert_eq!(accounts::bump_token_version(t.db.pool(), first.id).await.unwrap(), Some(2));
}

#[tokio::test]
async fn the_database_refuses_what_the_code_would_refuse() {
    let t = TestDatabase::new().await.unwrap();
    let mut tx = t.db.begin().await.unwrap();
    let error = accounts::create_if_absent(&mut tx, "12ab").await.unwrap_err();
    assert!(matches!(error, talktime_repository::RepoError::Check(_)), "{error:?}");
    drop(tx);

    admins::create(t.db.pool(), "A@B.com", "A").await.unwrap();
    let duplicate = admins::create(t.db.pool(), "a@b.COM", "B").await.unwrap_err();
    assert!(duplicate.is_unique(admins::EMAIL_KEY), "{duplicate:?}");
}
