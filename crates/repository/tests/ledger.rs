//! Repository tier: the ledger's constraints hold even against code that tries to break them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use talktime_domain::ids::AccountId;
use talktime_repository::RepoError;
use talktime_repository::ledger::{self, Cause, LedgerAccount};
use talktime_repository::testing::{TestDatabase, assert_books_balance};
use uuid::Uuid;

async fn account(t: &TestDatabase, phone: &str) -> AccountId {
    let mut tx = t.db.begin().await.unwrap();
    let (account, _) = talktime_repository::accounts::create_if_absent(&mut tx, phone).await.unwrap();
    tx.commit().await.unwrap();
    account.id
}

#[tokio::test]
async fn balanced_journals_move_wallet_balances_and_a_cause_posts_once() {
    let t = TestDatabase::new().await.unwrap();
    let user = account(&t, "9000000001").await;
    let recharge = Uuid::now_v7();
    let entries = [(LedgerAccount::Gateway, -100), (LedgerAccount::Wallet(user), 100)];
    let mut tx = t.db.begin().await.unwrap();
    assert!(ledger::post(&mut tx, Cause::Recharge, recharge, &entries).await.unwrap());
    assert!(!ledger::post(&mut tx, Cause::Recharge, recharge, &entries).await.unwrap(), "same cause again");
    tx.commit().await.unwrap();
    assert_eq!(ledger::wallet_balance(t.db.pool(), user).await.unwrap(), 100);
    assert_eq!(ledger::platform_balance(t.db.pool(), LedgerAccount::Gateway).await.unwrap(), -100);
    assert!(ledger::is_posted(t.db.pool(), Cause::Recharge, recharge).await.unwrap());
    assert_books_balance(&t.db).await;
}

#[tokio::test]
async fn an_unbalanced_journal_is_refused_at_commit() {
    let t = TestDatabase::new().await.unwrap();
    let user = account(&t, "9000000002").await;
    let mut tx = t.db.begin().await.unwrap();
    ledger::post(
        &mut tx,
        Cause::Recharge,
        Uuid::now_v7(),
        &[(LedgerAccount::Gateway, -100), (LedgerAccount::Wallet(user), 99)],
    )
    .await
    .unwrap();
    let error = RepoError::from(tx.commit().await.unwrap_err());
    assert!(matches!(&error, RepoError::Check(name) if name == "journal_balanced"), "{error:?}");
    assert_eq!(ledger::wallet_balance(t.db.pool(), user).await.unwrap(), 0);
    assert_books_balance(&t.db).await;
}

#[tokio::test]
async fn a_wallet_cannot_go_below_zero() {
    let t = TestDatabase::new().await.unwrap();
    let user = account(&t, "9000000003").await;
    let mut tx = t.db.begin().await.unwrap();
    let error = ledger::post(
        &mut tx,
        Cause::Call,
        Uuid::now_v7(),
        &[(LedgerAccount::Wallet(user), -1), (LedgerAccount::Revenue, 1)],
    )
    .await
    .unwrap_err();
    assert!(matches!(&error, RepoError::Check(name) if name == ledger::WALLET_NOT_NEGATIVE), "{error:?}");
}

#[tokio::test]
async fn entries_and_journals_are_append_only() {
    let t = TestDatabase::new().await.unwrap();
    let user = account(&t, "9000000004").await;
    let mut tx = t.db.begin().await.unwrap();
    ledger::post(
        &mut tx,
        Cause::Recharge,
        Uuid::now_v7(),
        &[(LedgerAccount::Gateway, -5), (LedgerAccount::Wallet(user), 5)],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    for statement in
        ["UPDATE ledger_entries SET amount = amount * 2", "DELETE FROM ledger_entries", "DELETE FROM journals"]
    {
        let error = sqlx_execute(&t, statement).await;
        assert!(error.contains("append-only"), "{statement}: {error}");
    }
    assert_books_balance(&t.db).await;
}

async fn sqlx_execute(t: &TestDatabase, statement: &'static str) -> String {
    talktime_repository::testing::execute_raw(&t.db, statement)
        .await
        .map(|_| String::new())
        .unwrap_or_else(|e| e.to_string())
}
