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

/// The settlement of a call's end runs in SQL (`session_funding`, inside `end_accepted_session`)
/// for one round trip; the rule is the domain's (`call::session_funding`). Both must agree on
/// every input: the edges (no balance, free seconds beyond the call, no commission, a commission
/// of 0 and of 100%, promotional coins only, a free rate) and a spread of ordinary ones.
#[tokio::test]
async fn the_sql_settlement_agrees_with_the_domain_rule() {
    use talktime_domain::call::{Rates, session_funding};
    use talktime_repository::testing::{self, FundingInputs};

    let input =
        |seconds, (user_rate, telecaller_rate), commission_hundredths, free_seconds, (paid, promo)| FundingInputs {
            seconds,
            user_rate,
            telecaller_rate,
            commission_hundredths,
            free_seconds,
            paid_balance: paid,
            promo_balance: promo,
        };
    let t = TestDatabase::new().await.unwrap();
    let mut inputs = vec![
        input(0, (5, 3), Some(4000), 0, (0, 0)),
        input(10, (5, 3), Some(4000), 30, (0, 0)),
        input(100, (5, 3), None, 0, (43, 0)),
        input(100, (5, 9), None, 10, (1000, 7)),
        input(60, (8, 0), Some(0), 0, (0, 1000)),
        input(60, (8, 0), Some(10_000), 5, (100, 100)),
        input(3, (0, 0), Some(3000), 0, (10, 0)),
    ];
    // A fixed pseudo-random spread (the same every run, so a failure can be replayed).
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |below: u64| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        i64::try_from((state >> 33) % below).unwrap()
    };
    for _ in 0..400 {
        let user_rate = next(40);
        let rates = (user_rate, next(user_rate as u64 + 1));
        let commission = if next(5) == 0 { None } else { Some(i32::try_from(next(10_001)).unwrap()) };
        let free = i32::try_from(next(4) * next(90)).unwrap();
        inputs.push(input(next(4000), rates, commission, free, (next(4) * next(50_000), next(3) * next(5_000))));
    }
    for i in inputs {
        let rates = Rates {
            user_rate: i.user_rate,
            telecaller_rate: i.telecaller_rate,
            commission_hundredths: i.commission_hundredths,
        };
        let f = session_funding(i.seconds, rates, i.free_seconds, i.paid_balance, i.promo_balance);
        let expected = [f.free, f.promo, f.paid, f.earned, f.revenue, f.marketing];
        assert_eq!(testing::session_funding(&t.db, i).await.unwrap(), expected, "{i:?}");
        assert_eq!(-f.paid - f.promo + f.earned + f.revenue + f.marketing, 0, "balanced: {i:?}");
    }
}
