//! The only writer of the ledger: one function per kind of coin movement, each posting one
//! balanced journal inside the caller's transaction (so the movement commits or rolls back with
//! the state change that caused it). A cause posted twice is refused by the database.

use talktime_domain::call::Call;
use talktime_domain::ids::AccountId;
use talktime_domain::ids::TransactionId;
use talktime_repository::ledger::LedgerAccount::{Gateway, Payouts, Revenue, Wallet, WithdrawalHolds};
use talktime_repository::ledger::{self, Books, Cause, LedgerAccount, WALLET_NOT_NEGATIVE};
use talktime_repository::{Db, RepoError, Tx};
use uuid::Uuid;

use crate::ServiceError;

fn posted(result: Result<bool, RepoError>) -> Posted {
    match result {
        Err(error) if matches!(&error, RepoError::Check(name) if name == WALLET_NOT_NEGATIVE) => {
            Err(ServiceError::invalid("insufficient_balance", "Not enough coins in the wallet"))
        }
        other => Ok(other?),
    }
}

/// Posts one balanced journal for `cause` and its id; `false` if it was posted already.
async fn post(tx: &mut Tx, cause: Cause, id: Uuid, legs: &[(LedgerAccount, i64)]) -> Posted {
    posted(ledger::post(tx, cause, id, legs).await)
}

/// `coins` from one account to another, as the journal of `cause` and its id.
async fn transfer(tx: &mut Tx, cause: Cause, id: Uuid, (from, to): Legs, coins: i64) -> Posted {
    post(tx, cause, id, &[(from, -coins), (to, coins)]).await
}

type Legs = (LedgerAccount, LedgerAccount);

/// Whether the journal was posted now (`false`: it was already).
type Posted = Result<bool, ServiceError>;

/// A paid recharge: gateway −coins, user wallet +coins. `false` if already posted.
pub async fn credit_recharge(tx: &mut Tx, id: TransactionId, user: AccountId, coins: i64) -> Posted {
    transfer(tx, Cause::Recharge, id.0, (Gateway, Wallet(user)), coins).await
}

/// A balance carried over from the earlier backend: the gateway −coins (they were bought there),
/// the wallet +coins. Once per account (the cause id is the account).
pub async fn open_balance(tx: &mut Tx, account: AccountId, coins: i64) -> Posted {
    transfer(tx, Cause::OpeningBalance, account.0, (Gateway, Wallet(account)), coins).await
}

/// A settled call: user −spent, telecaller +earned, revenue +(spent − earned).
pub async fn settle_call(tx: &mut Tx, call: &Call, spent: i64, earned: i64) -> Posted {
    post(tx, Cause::Call, call.id.0, &call_legs(call, -spent, earned)).await
}

/// A refund for a bad call: user +coins, telecaller −`from_telecaller`, revenue −the rest.
/// `false` if this call was refunded already.
pub async fn refund_call(tx: &mut Tx, call: &Call, coins: i64, from_telecaller: i64) -> Posted {
    post(tx, Cause::Refund, call.id.0, &call_legs(call, coins, -from_telecaller)).await
}

/// A call's journal: the user's and the telecaller's wallets move by these, revenue by what
/// balances them.
fn call_legs(call: &Call, user: i64, telecaller: i64) -> [(LedgerAccount, i64); 3] {
    [(Wallet(call.user_id), user), (Wallet(call.telecaller_id), telecaller), (Revenue, -(user + telecaller))]
}

/// A withdrawal request: telecaller −coins, holds +coins (fails with `insufficient_balance`).
pub async fn hold_withdrawal(tx: &mut Tx, id: TransactionId, telecaller: AccountId, coins: i64) -> Posted {
    transfer(tx, Cause::WithdrawalHold, id.0, (Wallet(telecaller), WithdrawalHolds), coins).await
}

/// A completed withdrawal: holds −coins, payouts +coins.
pub async fn pay_withdrawal(tx: &mut Tx, id: TransactionId, coins: i64) -> Posted {
    transfer(tx, Cause::WithdrawalPaid, id.0, (WithdrawalHolds, Payouts), coins).await
}

/// A rejected withdrawal: holds −coins, telecaller +coins.
pub async fn release_withdrawal(tx: &mut Tx, id: TransactionId, telecaller: AccountId, coins: i64) -> Posted {
    transfer(tx, Cause::WithdrawalReleased, id.0, (WithdrawalHolds, Wallet(telecaller)), coins).await
}

pub async fn balance(db: &Db, account: AccountId) -> Result<i64, ServiceError> {
    Ok(ledger::wallet_balance(db.pool(), account).await?)
}

/// The check of the books that tests and the admin dashboard use.
pub async fn books(db: &Db) -> Result<Books, ServiceError> {
    Ok(ledger::books(db.pool()).await?)
}
