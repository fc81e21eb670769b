//! Chargebacks (docs/money.md#chargebacks): Razorpay's dispute webhooks about a captured
//! recharge. Opening one freezes what is left of the recharge's coins in her paid wallet; losing
//! it returns the recharge's coins to the gateway (the frozen ones, then what her paid wallet
//! holds, then a debt her next recharges pay first) and issues a credit note; winning or closing
//! it gives the frozen coins back. Each step is one journal, once per dispute.

use talktime_domain::dispute::{Dispute, DisputeStatus};
use talktime_domain::ids::{AccountId, TransactionId};
use talktime_domain::page::Page;
use talktime_domain::pricing::AppConfig;
use talktime_domain::transaction::{Transaction, TransactionStatus};
use talktime_repository::disputes::{self, NewDispute};
use talktime_repository::ledger::{self as books, Cause, LedgerAccount};
use talktime_repository::{Db, Tx};

use crate::ServiceError;
use crate::catalog::PageRequest;

/// What a dispute webhook says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisputeEvent {
    /// `payment.dispute.created` (and any other news of an open one).
    Opened,
    Lost,
    Won,
    Closed,
}

impl DisputeEvent {
    /// The event a webhook's name stands for (`None`: not a dispute's).
    pub fn from_webhook(event: &str) -> Option<Self> {
        let step = event.strip_prefix("payment.dispute.")?;
        Some(match step {
            "lost" => DisputeEvent::Lost,
            "won" => DisputeEvent::Won,
            "closed" => DisputeEvent::Closed,
            _ => DisputeEvent::Opened,
        })
    }
}

/// A dispute as a webhook names it.
pub struct DisputeNews<'a> {
    pub gateway_dispute_id: &'a str,
    pub event: DisputeEvent,
    pub amount_paise: Option<i64>,
    pub reason: Option<&'a str>,
}

/// Applies a dispute webhook about `recharge` in `tx`; whether her balance changed.
pub async fn apply(
    tx: &mut Tx,
    config: &AppConfig,
    recharge: &Transaction,
    news: &DisputeNews<'_>,
) -> Result<bool, ServiceError> {
    if recharge.status != TransactionStatus::Success {
        tracing::warn!(recharge = %recharge.id, "a dispute about a recharge never credited; ignored");
        return Ok(false);
    }
    let (dispute, opened) = match disputes::lock(tx, news.gateway_dispute_id).await? {
        Some(dispute) => (dispute, false),
        None => (open(tx, recharge, news).await?, true),
    };
    let user = dispute.account_id;
    let to = match news.event {
        DisputeEvent::Opened => return Ok(opened),
        DisputeEvent::Lost => DisputeStatus::Lost,
        DisputeEvent::Won => DisputeStatus::Won,
        DisputeEvent::Closed => DisputeStatus::Closed,
    };
    if dispute.status != DisputeStatus::Open {
        return Ok(opened);
    }
    let held = dispute.held_coins;
    if to == DisputeStatus::Lost {
        // What she spent of the recharge comes from her paid wallet now, and the rest she owes.
        let spent = dispute.coins - held;
        let (paid, _) = books::lock_balances(tx, user).await?;
        let collected = spent.min(paid);
        let owed = spent - collected;
        disputes::resolve(tx, dispute.id, to, owed).await?;
        let legs = [
            (LedgerAccount::DisputeHolds, -held),
            (LedgerAccount::Wallet(user), -collected),
            (LedgerAccount::DisputeDebt(user), -owed),
            (LedgerAccount::Gateway, dispute.coins),
        ];
        books::post(tx, Cause::DisputeLost, dispute.id, &legs).await?;
        crate::tax::credit_note(tx, config, recharge).await?;
    } else {
        disputes::resolve(tx, dispute.id, to, 0).await?;
        let legs = [(LedgerAccount::DisputeHolds, -held), (LedgerAccount::Wallet(user), held)];
        books::post(tx, Cause::DisputeReleased, dispute.id, &legs).await?;
    }
    Ok(true)
}

/// Opens the dispute, freezing what is left of the recharge's coins in her paid wallet.
async fn open(tx: &mut Tx, recharge: &Transaction, news: &DisputeNews<'_>) -> Result<Dispute, ServiceError> {
    let user = recharge.account_id;
    let (paid, _) = books::lock_balances(tx, user).await?;
    let held = recharge.coins.min(paid);
    let new = NewDispute {
        id: uuid::Uuid::now_v7(),
        gateway_dispute_id: news.gateway_dispute_id,
        recharge: recharge.id,
        account: user,
        amount_paise: news.amount_paise.unwrap_or(recharge.amount_paise),
        coins: recharge.coins,
        held_coins: held,
        reason: news.reason,
    };
    let Some(dispute) = disputes::open(tx, &new).await? else {
        // Another delivery opened it first (and froze the coins): take its row.
        return disputes::lock(tx, news.gateway_dispute_id)
            .await?
            .ok_or_else(|| ServiceError::conflict("dispute_conflict", "The dispute changed meanwhile"));
    };
    let legs = [(LedgerAccount::Wallet(user), -held), (LedgerAccount::DisputeHolds, held)];
    books::post(tx, Cause::DisputeHold, dispute.id, &legs).await?;
    Ok(dispute)
}

/// In the transaction capturing `recharge`, before its credit: locks what her lost disputes
/// still have her owe (so a concurrent dispute never waits on her wallet while holding them).
pub async fn owed(tx: &mut Tx, user: AccountId) -> Result<Vec<Dispute>, ServiceError> {
    Ok(disputes::owed(tx, user).await?)
}

/// After the capture's credit: her paid wallet pays her debts first, oldest first (journal
/// `DISPUTE_RECOVERY`, cause id the recharge).
pub async fn recover(
    tx: &mut Tx,
    recharge: TransactionId,
    user: AccountId,
    debts: &[Dispute],
) -> Result<(), ServiceError> {
    let owed: i64 = debts.iter().map(|d| d.owed_coins).sum();
    if owed == 0 {
        return Ok(());
    }
    let (paid, _) = books::lock_balances(tx, user).await?;
    let mut left = owed.min(paid);
    let legs = [(LedgerAccount::Wallet(user), -left), (LedgerAccount::DisputeDebt(user), left)];
    books::post(tx, Cause::DisputeRecovery, recharge.0, &legs).await?;
    for debt in debts {
        let part = debt.owed_coins.min(left);
        if part > 0 {
            disputes::pay_down(tx, debt.id, part).await?;
            left -= part;
        }
    }
    Ok(())
}

pub struct DisputeService {
    db: Db,
}

impl DisputeService {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// `GET /admin/disputes`: newest first, `OPEN` ones unless another status is asked.
    pub async fn list(&self, status: Option<DisputeStatus>, page: PageRequest) -> Result<Page<Dispute>, ServiceError> {
        Ok(disputes::page(&self.db, status, page.limit(), page.offset()).await?)
    }
}
