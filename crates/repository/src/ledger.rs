//! The double-entry coin ledger: journals of balanced entries, append-only. Only the services'
//! ledger module calls `post`; nothing else writes these tables.

use uuid::Uuid;

use talktime_domain::ids::AccountId;

use crate::{Executor, RepoError};

/// Where coins sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LedgerAccount {
    /// A phone account's wallet: the coins it bought or earned.
    Wallet(AccountId),
    /// A user's promotional wallet: granted coins, spent first, expiring.
    Promo(AccountId),
    /// What a user owes after a lost chargeback (at most 0), paid by her next recharges.
    DisputeDebt(AccountId),
    /// Where purchased coins come from.
    Gateway,
    /// The platform's share of calls.
    Revenue,
    /// Coins a telecaller asked to withdraw, until an admin decides.
    WithdrawalHolds,
    /// Coins paid out to banks.
    Payouts,
    /// Where promotional coins come from (and what they paid for goes back to).
    Marketing,
    /// The coins of payouts whose rupees were withheld as TDS, owed to the government.
    TdsPayable,
    /// Coins frozen in wallets while a chargeback on their recharge is open.
    DisputeHolds,
}

/// A promotional wallet's id: its owner's with these bits flipped (ids are random: no owner's
/// id is another's promotional one).
const PROMO_ID_MASK: u128 = 0x5052_4f4d_4f00_0000_0000_0000_0000_0000;
/// The same for her dispute debt.
const DEBT_ID_MASK: u128 = 0x4445_4254_0000_0000_0000_0000_0000_0000;

impl LedgerAccount {
    pub fn id(self) -> Uuid {
        match self {
            LedgerAccount::Wallet(account) => account.0,
            LedgerAccount::Promo(account) => Uuid::from_u128(account.0.as_u128() ^ PROMO_ID_MASK),
            LedgerAccount::DisputeDebt(account) => Uuid::from_u128(account.0.as_u128() ^ DEBT_ID_MASK),
            LedgerAccount::Gateway => Uuid::from_u128(1),
            LedgerAccount::Revenue => Uuid::from_u128(2),
            LedgerAccount::WithdrawalHolds => Uuid::from_u128(3),
            LedgerAccount::Payouts => Uuid::from_u128(4),
            LedgerAccount::Marketing => Uuid::from_u128(5),
            LedgerAccount::TdsPayable => Uuid::from_u128(6),
            LedgerAccount::DisputeHolds => Uuid::from_u128(7),
        }
    }

    /// The owner and kind of a per-account wallet.
    fn owned(self) -> Option<(Uuid, &'static str)> {
        match self {
            LedgerAccount::Wallet(owner) => Some((owner.0, "WALLET")),
            LedgerAccount::Promo(owner) => Some((owner.0, "PROMO_WALLET")),
            LedgerAccount::DisputeDebt(owner) => Some((owner.0, "DISPUTE_DEBT")),
            _ => None,
        }
    }
}

/// Why coins moved; with the cause's id, unique across the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    Recharge,
    Call,
    WithdrawalHold,
    WithdrawalPaid,
    WithdrawalReleased,
    /// A paid withdrawal the bank sent back: its coins return to her wallet (cause id: the
    /// withdrawal).
    WithdrawalReversed,
    /// Coins given back to a user for a bad call (cause id: the call).
    Refund,
    /// A balance carried over from the earlier backend (cause id: the account).
    OpeningBalance,
    /// Promotional coins granted (cause id: the lot).
    SignupBonus,
    FirstRechargeBonus,
    CouponBonus,
    ReferralBonus,
    /// What was left of a lot at its expiry, back to marketing (cause id: the lot).
    PromoExpiry,
    /// A chargeback opened, closed for her or lost (cause id: the dispute).
    DisputeHold,
    DisputeReleased,
    DisputeLost,
    /// What a recharge paid of her dispute debt (cause id: the recharge).
    DisputeRecovery,
    /// A chat session's settlement (cause id: the chat, a `calls` row).
    Chat,
    /// A gift sent during a call or chat (cause id: the `gift_sends` row).
    Gift,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Recharge => "RECHARGE",
            Cause::Call => "CALL",
            Cause::WithdrawalHold => "WITHDRAWAL_HOLD",
            Cause::WithdrawalPaid => "WITHDRAWAL_PAID",
            Cause::WithdrawalReleased => "WITHDRAWAL_RELEASED",
            Cause::WithdrawalReversed => "WITHDRAWAL_REVERSED",
            Cause::Refund => "REFUND",
            Cause::OpeningBalance => "OPENING_BALANCE",
            Cause::SignupBonus => "SIGNUP_BONUS",
            Cause::FirstRechargeBonus => "FIRST_RECHARGE_BONUS",
            Cause::CouponBonus => "COUPON_BONUS",
            Cause::ReferralBonus => "REFERRAL_BONUS",
            Cause::PromoExpiry => "PROMO_EXPIRY",
            Cause::DisputeHold => "DISPUTE_HOLD",
            Cause::DisputeReleased => "DISPUTE_RELEASED",
            Cause::DisputeLost => "DISPUTE_LOST",
            Cause::DisputeRecovery => "DISPUTE_RECOVERY",
            Cause::Chat => "CHAT",
            Cause::Gift => "GIFT",
        }
    }
}

/// The check constraint a wallet overdraft trips.
pub const WALLET_NOT_NEGATIVE: &str = "wallet_balance_not_negative";

/// Posts one journal of `entries` (which must sum to zero; the database checks it at commit).
/// Returns `false`, writing nothing, when this cause was already posted. Zero amounts are left out.
pub async fn post(
    tx: &mut crate::Tx,
    cause: Cause,
    cause_id: Uuid,
    entries: &[(LedgerAccount, i64)],
) -> Result<bool, RepoError> {
    let entries: Vec<(LedgerAccount, i64)> = entries.iter().copied().filter(|(_, amount)| *amount != 0).collect();
    if entries.is_empty() {
        // Nothing moves (a call that cost nothing): no journal.
        return Ok(false);
    }
    let owned: Vec<(Uuid, Uuid, &str)> = entries
        .iter()
        .filter_map(|(account, _)| account.owned().map(|(owner, kind)| (account.id(), owner, kind)))
        .collect();
    if !owned.is_empty() {
        let ids: Vec<Uuid> = owned.iter().map(|o| o.0).collect();
        let owners: Vec<Uuid> = owned.iter().map(|o| o.1).collect();
        let kinds: Vec<String> = owned.iter().map(|o| o.2.to_owned()).collect();
        sqlx::query!(
            "INSERT INTO ledger_accounts (id, kind, owner_id) SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[]) \
             ON CONFLICT (id) DO NOTHING",
            &ids,
            &kinds,
            &owners
        )
        .execute(&mut **tx)
        .await?;
    }
    let journal: Option<Uuid> = sqlx::query_scalar!("INSERT INTO journals (id, cause, cause_id) VALUES ($1, $2, $3) ON CONFLICT (cause, cause_id) DO NOTHING RETURNING id", Uuid::now_v7(), cause.as_str(), cause_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(journal) = journal else { return Ok(false) };
    let accounts: Vec<Uuid> = entries.iter().map(|(account, _)| account.id()).collect();
    let amounts: Vec<i64> = entries.iter().map(|(_, amount)| *amount).collect();
    sqlx::query!("INSERT INTO ledger_entries (journal_id, account_id, amount) SELECT $1, a, m FROM unnest($2::uuid[], $3::bigint[]) AS e(a, m)", journal, &accounts, &amounts)
    .execute(&mut **tx)
    .await?;
    Ok(true)
}

/// What an account can spend: its wallet and its promotional wallet (0 before the first entry).
pub async fn wallet_balance(ex: impl Executor<'_>, account: AccountId) -> Result<i64, RepoError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT coalesce(sum(balance), 0)::bigint AS "balance!" FROM ledger_accounts WHERE owner_id = $1"#,
        account.0
    )
    .fetch_one(ex)
    .await?)
}

/// What two accounts can spend (as [`wallet_balance`]), in one read.
pub async fn wallet_balances(
    ex: impl Executor<'_>,
    first: AccountId,
    second: AccountId,
) -> Result<(i64, i64), RepoError> {
    let row = sqlx::query!(
        r#"SELECT coalesce(sum(balance) FILTER (WHERE owner_id = $1), 0)::bigint AS "first!",
                  coalesce(sum(balance) FILTER (WHERE owner_id = $2), 0)::bigint AS "second!"
           FROM ledger_accounts WHERE owner_id IN ($1, $2)"#,
        first.0,
        second.0
    )
    .fetch_one(ex)
    .await?;
    Ok((row.first, row.second))
}

/// The account's paid and promotional balances, locked until the transaction ends (a call's
/// settlement and a lot's expiry take turns).
pub async fn lock_balances(tx: &mut crate::Tx, account: AccountId) -> Result<(i64, i64), RepoError> {
    // The paid wallet first, as a recharge's credit and then its bonus take them: no deadlock.
    let rows = sqlx::query!(
        "SELECT kind, balance FROM ledger_accounts WHERE owner_id = $1 ORDER BY kind DESC FOR UPDATE",
        account.0
    )
    .fetch_all(&mut **tx)
    .await?;
    let of = |kind: &str| rows.iter().filter(|r| r.kind == kind).map(|r| r.balance).sum::<i64>();
    Ok((of("WALLET"), of("PROMO_WALLET")))
}

/// The account's paid and promotional balances, and what it owes after a lost chargeback.
pub async fn balances(ex: impl Executor<'_>, account: AccountId) -> Result<(i64, i64, i64), RepoError> {
    let row = sqlx::query!(
        r#"SELECT coalesce(sum(balance) FILTER (WHERE kind = 'WALLET'), 0)::bigint AS "paid!",
                  coalesce(sum(balance) FILTER (WHERE kind = 'PROMO_WALLET'), 0)::bigint AS "promo!",
                  coalesce(-sum(balance) FILTER (WHERE kind = 'DISPUTE_DEBT'), 0)::bigint AS "owed!"
           FROM ledger_accounts WHERE owner_id = $1"#,
        account.0
    )
    .fetch_one(ex)
    .await?;
    Ok((row.paid, row.promo, row.owed))
}

/// A platform account's balance: the sum of its entries.
pub async fn platform_balance(ex: impl Executor<'_>, account: LedgerAccount) -> Result<i64, RepoError> {
    Ok(sqlx::query_scalar!(
        "SELECT coalesce(sum(amount), 0)::bigint AS \"sum!\" FROM ledger_entries WHERE account_id = $1",
        account.id()
    )
    .fetch_one(ex)
    .await?)
}

/// Whether the journal for this cause exists.
pub async fn is_posted(ex: impl Executor<'_>, cause: Cause, cause_id: Uuid) -> Result<bool, RepoError> {
    Ok(sqlx::query_scalar!(
        "SELECT EXISTS (SELECT 1 FROM journals WHERE cause = $1 AND cause_id = $2) AS \"exists!\"",
        cause.as_str(),
        cause_id
    )
    .fetch_one(ex)
    .await?)
}

/// A check of the books.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Books {
    /// Sum of every entry: 0 when the books balance.
    pub total: i64,
    /// Journals whose entries do not sum to zero, or with fewer than two entries.
    pub unbalanced_journals: i64,
    /// Wallets (paid or promotional) whose balance column differs from the sum of their entries.
    pub mismatched_wallets: i64,
    /// Users whose promotional wallet differs from what is left of their promotional lots.
    pub mismatched_promo_lots: i64,
    pub negative_wallets: i64,
    /// COMPLETED calls and chats that lasted a second or more without their settlement journal.
    pub unsettled_calls: i64,
    /// 1 when TDS_PAYABLE differs from the TDS coins of the withdrawals paid (and not reversed).
    pub mismatched_tds: i64,
    /// 1 when DISPUTE_HOLDS differs from the coins frozen by open disputes, or the users' debts
    /// from what lost disputes still have them owe.
    pub mismatched_disputes: i64,
    /// Gifts sent without their GIFT journal.
    pub unposted_gifts: i64,
}

impl Books {
    pub fn balanced(&self) -> bool {
        self.total == 0
            && self.unbalanced_journals == 0
            && self.mismatched_wallets == 0
            && self.mismatched_promo_lots == 0
            && self.negative_wallets == 0
            && self.unsettled_calls == 0
            && self.mismatched_tds == 0
            && self.mismatched_disputes == 0
            && self.unposted_gifts == 0
    }
}

pub async fn books(ex: impl Executor<'_>) -> Result<Books, RepoError> {
    Ok(sqlx::query_as!(Books, "SELECT \
           (SELECT coalesce(sum(amount), 0)::bigint FROM ledger_entries) AS \"total!\", \
           (SELECT count(*) FROM (SELECT j.id FROM journals j LEFT JOIN ledger_entries e ON e.journal_id = j.id \
              GROUP BY j.id HAVING coalesce(sum(e.amount), 0) <> 0 OR count(e.id) < 2) u) AS \"unbalanced_journals!\", \
           (SELECT count(*) FROM ledger_accounts a WHERE a.kind IN ('WALLET', 'PROMO_WALLET', 'DISPUTE_DEBT') AND a.balance <> \
              (SELECT coalesce(sum(amount), 0) FROM ledger_entries e WHERE e.account_id = a.id)) AS \"mismatched_wallets!\", \
           (SELECT count(*) FROM (SELECT account_id, sum(remaining) AS remaining FROM promo_lots GROUP BY account_id) l \
              FULL JOIN (SELECT owner_id, balance FROM ledger_accounts WHERE kind = 'PROMO_WALLET') w \
              ON w.owner_id = l.account_id WHERE coalesce(l.remaining, 0) <> coalesce(w.balance, 0)) AS \"mismatched_promo_lots!\", \
           (SELECT count(*) FROM ledger_accounts WHERE kind IN ('WALLET', 'PROMO_WALLET') AND balance < 0) AS \"negative_wallets!\", \
           (SELECT count(*) FROM calls c WHERE c.status = 'COMPLETED' AND c.duration_seconds > 0 \
              AND c.coins_spent > 0 AND NOT EXISTS \
              (SELECT 1 FROM journals j WHERE j.cause IN ('CALL', 'CHAT') AND j.cause_id = c.id)) AS \"unsettled_calls!\", \
           (SELECT (coalesce((SELECT sum(amount) FROM ledger_entries WHERE account_id = '00000000-0000-0000-0000-000000000006'), 0) \
              <> coalesce((SELECT sum(tds_coins) FROM transactions WHERE type = 'WITHDRAWAL' AND status = 'SUCCESS'), 0))::int::bigint) \
              AS \"mismatched_tds!\", \
           (SELECT (coalesce((SELECT sum(amount) FROM ledger_entries WHERE account_id = '00000000-0000-0000-0000-000000000007'), 0) \
              <> coalesce((SELECT sum(held_coins) FROM disputes WHERE status = 'OPEN'), 0) \
              OR coalesce((SELECT -sum(balance) FROM ledger_accounts WHERE kind = 'DISPUTE_DEBT'), 0) \
              <> coalesce((SELECT sum(owed_coins) FROM disputes), 0))::int::bigint) AS \"mismatched_disputes!\", \
           (SELECT count(*) FROM gift_sends g WHERE NOT EXISTS \
              (SELECT 1 FROM journals j WHERE j.cause = 'GIFT' AND j.cause_id = g.id)) AS \"unposted_gifts!\"")
    .fetch_one(ex)
    .await?)
}
