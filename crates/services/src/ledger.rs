//! The only writer of the ledger: one function per kind of coin movement, each posting one
//! balanced journal inside the caller's transaction (so the movement commits or rolls back with
//! the state change that caused it). A cause posted twice is refused by the database.

use talktime_domain::ids::AccountId;
use talktime_domain::ids::{CallId, TransactionId};
use talktime_repository::ledger::{self, Books, Cause, LedgerAccount, WALLET_NOT_NEGATIVE};
use talktime_repository::{Db, RepoError, Tx};
use uuid::Uuid;

use crate::ServiceError;

fn posted(result: Result<bool, RepoError>) -> Result<bool, ServiceError> {
    match result {
        Err(error) if matches!(&error, RepoError::Check(name) if name == WALLET_NOT_NEGATIVE) => {
            Err(ServiceError::invalid("insufficient_balance", "Not enough coins in the wallet"))
        }
        other => Ok(other?),
    }
}

/// Posts one balanced journal for `cause` and its id; `false` if it was posted already.
async fn post(tx: &mut Tx, cause: Cause, id: Uuid, legs: &[(LedgerAccount, i64)]) -> Result<bool, ServiceError> {
    posted(ledger::post(tx, cause, id, legs).await)
}

/// A paid recharge: gateway −coins, user wallet +coins. `false` if already posted.
pub async fn credit_recharge(
    tx: &mut Tx,
    recharge: TransactionId,
    user: AccountId,
    coins: i64,
) -> Result<bool, ServiceError> {
    post(tx, Cause::Recharge, recharge.0, &[(LedgerAccount::Gateway, -coins), (LedgerAccount::Wallet(user), coins)])
        .await
}

/// A balance carried over from the earlier backend: the gateway −coins (they were bought there),
/// the wallet +coins. Once per account (the cause id is the account).
pub async fn open_balance(tx: &mut Tx, account: AccountId, coins: i64) -> Result<bool, ServiceError> {
    post(
        tx,
        Cause::OpeningBalance,
        account.0,
        &[(LedgerAccount::Gateway, -coins), (LedgerAccount::Wallet(account), coins)],
    )
    .await
}

/// A settled call: user −spent, telecaller +earned, revenue +(spent − earned).
pub async fn settle_call(
    tx: &mut Tx,
    call: CallId,
    user: AccountId,
    telecaller: AccountId,
    spent: i64,
    earned: i64,
) -> Result<bool, ServiceError> {
    post(
        tx,
        Cause::Call,
        call.0,
        &[
            (LedgerAccount::Wallet(user), -spent),
            (LedgerAccount::Wallet(telecaller), earned),
            (LedgerAccount::Revenue, spent - earned),
        ],
    )
    .await
}

/// A refund for a bad call: user +coins, telecaller −`from_telecaller`, revenue −the rest.
/// `false` if this call was refunded already.
pub async fn refund_call(
    tx: &mut Tx,
    call: CallId,
    user: AccountId,
    telecaller: AccountId,
    coins: i64,
    from_telecaller: i64,
) -> Result<bool, ServiceError> {
    post(
        tx,
        Cause::Refund,
        call.0,
        &[
            (LedgerAccount::Wallet(user), coins),
            (LedgerAccount::Wallet(telecaller), -from_telecaller),
            (LedgerAccount::Revenue, from_telecaller - coins),
        ],
    )
    .await
}

/// A withdrawal request: telecaller −coins, holds +coins (fails with `insufficient_balance`).
pub async fn hold_withdrawal(
    tx: &mut Tx,
    withdrawal: TransactionId,
    telecaller: AccountId,
    coins: i64,
) -> Result<bool, ServiceError> {
    post(
        tx,
        Cause::WithdrawalHold,
        withdrawal.0,
        &[(LedgerAccount::Wallet(telecaller), -coins), (LedgerAccount::WithdrawalHolds, coins)],
    )
    .await
}

/// A completed withdrawal: holds −coins, payouts +coins.
pub async fn pay_withdrawal(tx: &mut Tx, withdrawal: TransactionId, coins: i64) -> Result<bool, ServiceError> {
    post(
        tx,
        Cause::WithdrawalPaid,
        withdrawal.0,
        &[(LedgerAccount::WithdrawalHolds, -coins), (LedgerAccount::Payouts, coins)],
    )
    .await
}

/// A rejected withdrawal: holds −coins, telecaller +coins.
pub async fn release_withdrawal(
    tx: &mut Tx,
    withdrawal: TransactionId,
    telecaller: AccountId,
    coins: i64,
) -> Result<bool, ServiceError> {
    post(
        tx,
        Cause::WithdrawalReleased,
        withdrawal.0,
        &[(LedgerAccount::WithdrawalHolds, -coins), (LedgerAccount::Wallet(telecaller), coins)],
    )
    .await
}

pub async fn balance(db: &Db, account: AccountId) -> Result<i64, ServiceError> {
    Ok(ledger::wallet_balance(db.pool(), account).await?)
}

/// The check of the books that tests and the admin dashboard use.
pub async fn books(db: &Db) -> Result<Books, ServiceError> {
    Ok(ledger::books(db.pool()).await?)
}
