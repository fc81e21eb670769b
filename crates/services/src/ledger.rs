//! The only writer of the ledger: one function per kind of coin movement, each posting one
//! balanced journal inside the caller's transaction (so the movement commits or rolls back with
//! the state change that caused it). A cause posted twice is refused by the database.

use talktime_domain::call::{Call, EndReason};
use talktime_domain::ids::TransactionId;
use talktime_domain::ids::{AccountId, CallId, GiftSendId};
use talktime_domain::promotion::{Funding, RefundSplit};
use talktime_domain::transaction::Transaction;
use talktime_repository::ledger::LedgerAccount::{
    Gateway, Marketing, Payouts, Promo, Revenue, TdsPayable, Wallet, WithdrawalHolds,
};
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

/// An ACCEPTED call (CALL) or chat (CHAT) ended for `reason` and settled, in one statement (see
/// `repository::calls::end_and_settle`): the user's wallets −paid and −promo (promotional coins
/// first, soonest-expiring lots first), telecaller +earned, revenue +the commission on what was
/// paid, marketing the rest (see [`Funding`]). `None` when it was not ACCEPTED (or not
/// `party`'s). The one journal of a session that is posted in SQL: its rule is the domain's
/// (`call::session_funding`), checked against it by a repository test.
pub async fn settle_session(
    ex: impl talktime_repository::Executor<'_>,
    call: CallId,
    party: Option<AccountId>,
    chat: bool,
    reason: EndReason,
    room_retry_secs: f64,
) -> Result<Option<Call>, ServiceError> {
    Ok(talktime_repository::calls::end_and_settle(ex, call, party, chat, reason, room_retry_secs).await?)
}

/// A gift sent (GIFT, cause id: the gift sent): the same legs as a session's settlement.
pub async fn send_gift(tx: &mut Tx, id: GiftSendId, user: AccountId, telecaller: AccountId, f: &Funding) -> Posted {
    post(tx, Cause::Gift, id.0, &spend_legs(user, telecaller, f)).await
}

/// What a user's spending with a telecaller moves.
fn spend_legs(user: AccountId, telecaller: AccountId, f: &Funding) -> [(LedgerAccount, i64); 5] {
    [
        (Wallet(user), -f.paid),
        (Promo(user), -f.promo),
        (Wallet(telecaller), f.earned),
        (Revenue, f.revenue),
        (Marketing, f.marketing),
    ]
}

/// A refund for a bad call, back to the wallets the call took from (see [`RefundSplit`]).
/// `false` if this call was refunded already.
pub async fn refund_call(tx: &mut Tx, call: &Call, r: &RefundSplit) -> Posted {
    let legs = [
        (Wallet(call.user_id), r.to_paid),
        (Promo(call.user_id), r.to_promo),
        (Wallet(call.telecaller_id), -r.from_telecaller),
        (Revenue, -r.from_revenue),
        (Marketing, -r.from_marketing),
    ];
    post(tx, Cause::Refund, call.id.0, &legs).await
}

/// Promotional coins granted: marketing −coins, the user's promotional wallet +coins (cause id:
/// the lot).
pub async fn grant_promo(tx: &mut Tx, cause: Cause, lot: Uuid, user: AccountId, coins: i64) -> Posted {
    transfer(tx, cause, lot, (Marketing, Promo(user)), coins).await
}

/// What was left of an expired lot, back to marketing.
pub async fn expire_promo(tx: &mut Tx, lot: Uuid, user: AccountId, coins: i64) -> Posted {
    transfer(tx, Cause::PromoExpiry, lot, (Promo(user), Marketing), coins).await
}

/// A withdrawal request: telecaller −coins, holds +coins (fails with `insufficient_balance`).
pub async fn hold_withdrawal(tx: &mut Tx, id: TransactionId, telecaller: AccountId, coins: i64) -> Posted {
    transfer(tx, Cause::WithdrawalHold, id.0, (Wallet(telecaller), WithdrawalHolds), coins).await
}

/// A paid withdrawal: holds −coins, payouts +(coins − TDS coins), TDS payable +TDS coins.
pub async fn pay_withdrawal(tx: &mut Tx, w: &Transaction) -> Posted {
    let legs = [(WithdrawalHolds, -w.coins), (Payouts, w.coins - w.tds_coins), (TdsPayable, w.tds_coins)];
    post(tx, Cause::WithdrawalPaid, w.id.0, &legs).await
}

/// A paid withdrawal the bank sent back: payouts and TDS payable give their parts back to her
/// wallet.
pub async fn reverse_withdrawal(tx: &mut Tx, w: &Transaction) -> Posted {
    let legs = [(Payouts, -(w.coins - w.tds_coins)), (TdsPayable, -w.tds_coins), (Wallet(w.account_id), w.coins)];
    post(tx, Cause::WithdrawalReversed, w.id.0, &legs).await
}

/// A rejected withdrawal: holds −coins, telecaller +coins.
pub async fn release_withdrawal(tx: &mut Tx, id: TransactionId, telecaller: AccountId, coins: i64) -> Posted {
    transfer(tx, Cause::WithdrawalReleased, id.0, (WithdrawalHolds, Wallet(telecaller)), coins).await
}

/// What an account can spend (its wallet and promotional wallet).
pub async fn balance(db: &Db, account: AccountId) -> Result<i64, ServiceError> {
    Ok(ledger::wallet_balance(db.pool(), account).await?)
}

/// What two accounts can spend (as [`balance`]), in one read.
pub async fn balances_of(db: &Db, first: AccountId, second: AccountId) -> Result<(i64, i64), ServiceError> {
    Ok(ledger::wallet_balances(db.pool(), first, second).await?)
}

/// The check of the books that tests and the admin dashboard use.
pub async fn books(db: &Db) -> Result<Books, ServiceError> {
    Ok(ledger::books(db.pool()).await?)
}
