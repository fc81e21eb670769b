//! Withdrawals (held at request, then paid or released by an admin) and transaction histories.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use talktime_domain::account::{Account, Role};
use talktime_domain::ids::{AccountId, AdminId, TransactionId};
use talktime_domain::kyc::KycStatus;
use talktime_domain::money::{Paise, withdrawal_amount};
use talktime_domain::pricing::AppConfig;
use talktime_domain::tax::{financial_year, financial_year_bounds, tds_coins, tds_due};
use talktime_domain::transaction::{Decision, Transaction};
use talktime_domain::transaction::{TransactionKind, TransactionStatus};
use talktime_repository::transactions::{self, BankSnapshot, WithdrawalSums};
use talktime_repository::{Db, RepoError, accounts, bank, kyc, pricing};
use uuid::Uuid;

use crate::accounts::require_approved;
use crate::auth::Budget;
use crate::bus::ServerEvent;
use crate::catalog::PageRequest;
use crate::payouts::PayoutService;
use crate::presence::PresenceService;
use crate::rate_limit::RateLimiter;
use crate::secrets::OwnerCipher;
use crate::{ServiceError, ledger};
use talktime_domain::page::Page;

/// A page of someone's own transactions.
#[derive(Debug, Clone)]
pub struct TransactionPage {
    pub transactions: Vec<Transaction>,
    pub has_more: bool,
}

/// A withdrawal and the wallet balance right after it changed state.
#[derive(Debug, Clone)]
pub struct WithdrawalOutcome {
    pub withdrawal: Transaction,
    /// The telecaller's balance after the hold, payout or release.
    pub balance: i64,
}

/// An admin listing page: each transaction with its owner's name.
#[derive(Debug, Clone)]
pub struct AdminTransactionPage {
    pub transactions: Vec<(Transaction, Option<String>)>,
    pub total: i64,
}

/// One transaction for an admin: the withdrawal's full account number (needed to pay), and the
/// owner with the wallet balance now.
#[derive(Debug, Clone)]
pub struct AdminTransaction {
    pub transaction: Transaction,
    pub account_number: Option<String>,
    pub owner: Option<Account>,
    pub balance: i64,
}

#[derive(Debug, Clone, Copy)]
pub struct WalletSettings {
    /// `KYC_REQUIRED_ABOVE_PAISE`: her withdrawals in a financial year may reach this without a
    /// verified PAN.
    pub kyc_required_above_paise: i64,
    /// `RATE_LIMIT_WITHDRAW_PER_HOUR`: withdrawal requests a telecaller may make in an hour.
    pub withdrawals_per_hour: u32,
}

pub struct WalletService {
    db: Db,
    settings: WalletSettings,
    payouts: Arc<PayoutService>,
    limiter: Arc<dyn RateLimiter>,
    bank_cipher: OwnerCipher,
    /// Admins hear of withdrawals; her sockets of her balance.
    presence: Arc<PresenceService>,
}

fn withdrawal_not_found() -> ServiceError {
    ServiceError::not_found("withdrawal_not_found", "Withdrawal not found")
}

impl WalletService {
    pub fn new(
        db: Db,
        settings: WalletSettings,
        limiter: Arc<dyn RateLimiter>,
        bank_cipher: OwnerCipher,
        presence: Arc<PresenceService>,
        payouts: Arc<PayoutService>,
    ) -> Self {
        Self { db, settings, payouts, limiter, bank_cipher, presence }
    }

    /// A telecaller asks to withdraw `coins`: they are held at once (the wallet drops), the rupee
    /// amount is fixed at today's ratio, and the bank details are copied onto the request.
    #[tracing::instrument(name = "withdraw", skip_all, fields(telecaller = %telecaller.id, coins))]
    pub async fn withdraw(&self, telecaller: &Account, coins: i64) -> Result<WithdrawalOutcome, ServiceError> {
        require_approved(telecaller)?;
        let budget = Budget { limit: self.settings.withdrawals_per_hour, window: Duration::from_secs(3600) };
        budget.spend(&*self.limiter, &format!("pay:withdraw:{}", telecaller.id)).await?;
        let config = pricing::get(self.db.pool()).await?;
        if coins < config.min_withdrawal_coins {
            return Err(ServiceError::invalid_field(
                "coins",
                "below_minimum_withdrawal",
                format!("The minimum withdrawal is {} coins", config.min_withdrawal_coins),
            ));
        }
        let bank = bank::find(self.db.pool(), telecaller.id)
            .await?
            .ok_or_else(|| ServiceError::invalid("bank_details_required", "Add your bank details first"))?;
        if coins > ledger::balance(&self.db, telecaller.id).await? {
            return Err(ServiceError::invalid_field("coins", "insufficient_balance", "Not enough coins in the wallet"));
        }
        let amount = withdrawal_amount(coins, config.inr_to_coin_ratio_hundredths);
        let sums = self.withdrawal_sums(telecaller.id, &config, coins, amount.0).await?;
        let snapshot = BankSnapshot {
            account_enc: &bank.account_number_enc,
            account_len: bank.account_number_len,
            account_last4: &bank.account_last4,
            ifsc_code: &bank.ifsc_code,
            holder_name: &bank.account_holder_name,
        };
        let mut tx = self.db.begin().await?;
        // The account stays until this commits (a deletion waits, then sees the withdrawal).
        if talktime_repository::accounts::lock_parties(&mut tx, &[telecaller.id.0]).await? == 0 {
            return Err(ServiceError::not_found("account_not_found", "Account not found"));
        }
        let id = TransactionId::new();
        let withdrawal =
            match transactions::insert_withdrawal(&mut tx, id, telecaller.id, coins, &sums, &snapshot).await {
                Ok(withdrawal) => withdrawal,
                Err(error) if error.is_unique(transactions::ONE_PENDING_WITHDRAWAL) => {
                    return Err(ServiceError::conflict("withdrawal_pending", "A withdrawal is already pending"));
                }
                Err(error) => return Err(error.into()),
            };
        // The hold is what really checks the balance: the wallet may not go below zero.
        ledger::hold_withdrawal(&mut tx, id, telecaller.id, coins).await?;
        tx.commit().await.map_err(RepoError::from)?;
        crate::bus::send(
            &**self.presence.bus(),
            crate::bus::Audience::Everyone(talktime_domain::account::Role::Admin),
            ServerEvent::WithdrawalRequested,
            serde_json::json!({ "withdrawalId": id.0, "telecallerId": telecaller.id.0, "coins": coins, "amount": amount.as_rupees() }),
        );
        let balance = ledger::balance(&self.db, telecaller.id).await?;
        self.presence.wallet_changed(Role::Telecaller, telecaller.id, balance);
        let withdrawal = self.payouts.requested(&withdrawal).await?.unwrap_or(withdrawal);
        Ok(WithdrawalOutcome { withdrawal, balance })
    }

    /// A new withdrawal's rupees (docs/tax.md): the KYC gate once her year's withdrawals pass
    /// `KYC_REQUIRED_ABOVE_PAISE`, and the TDS on it at the rate her KYC allows.
    async fn withdrawal_sums<'c>(
        &self,
        telecaller: AccountId,
        config: &'c AppConfig,
        coins: i64,
        amount_paise: i64,
    ) -> Result<WithdrawalSums<'c>, ServiceError> {
        let (start, end) = financial_year_bounds(&financial_year(Utc::now()))
            .ok_or_else(|| ServiceError::internal(std::io::Error::other("the financial year is out of range")))?;
        let year = transactions::paid_between(self.db.pool(), telecaller, start, end).await?;
        let verified = kyc::find(self.db.pool(), telecaller).await?.is_some_and(|k| k.status == KycStatus::Verified);
        if !verified && year.paid + amount_paise > self.settings.kyc_required_above_paise {
            return Err(ServiceError::invalid(
                "kyc_required",
                "Withdrawals this year above this amount need a verified PAN: submit your KYC first",
            )
            .with_details(
                serde_json::json!({ "kycRequiredAbove": Paise(self.settings.kyc_required_above_paise).as_rupees() }),
            ));
        }
        let rate = if verified { config.tds_rate_with_pan_hundredths } else { config.tds_rate_without_pan_hundredths };
        let tds = tds_due(year, amount_paise, config.tds_annual_threshold_paise, rate);
        Ok(WithdrawalSums {
            amount_paise,
            tds_paise: tds,
            tds_coins: tds_coins(coins, amount_paise, tds),
            tds_rate_hundredths: rate,
            tds_section: &config.tds_section,
            with_pan: verified,
        })
    }

    /// PENDING → SUCCESS (held coins paid out) or REJECTED (held coins back to the wallet), once.
    #[tracing::instrument(name = "decide", skip_all, fields(withdrawal = %id, admin = %admin))]
    pub async fn decide(
        &self,
        admin: AdminId,
        id: TransactionId,
        decision: Decision<'_>,
    ) -> Result<WithdrawalOutcome, ServiceError> {
        let mut tx = self.db.begin().await?;
        let Some(decided) = transactions::decide_withdrawal(&mut tx, id, &decision, admin).await? else {
            drop(tx);
            return match transactions::find(self.db.pool(), id).await? {
                Some(t) if t.r#type == TransactionKind::Withdrawal => Err(ServiceError::conflict(
                    "withdrawal_already_processed",
                    format!("This withdrawal is already {}", t.status),
                )),
                _ => Err(withdrawal_not_found()),
            };
        };
        let (action, after) = match &decision {
            Decision::Complete { transfer_reference } => (
                "withdrawal.complete",
                serde_json::json!({ "status": "SUCCESS", "transferReference": transfer_reference }),
            ),
            Decision::Reject { reason } => {
                ("withdrawal.reject", serde_json::json!({ "status": "REJECTED", "reason": reason }))
            }
        };
        talktime_repository::audit::audit(
            &mut tx,
            admin,
            action,
            "withdrawal",
            Some(decided.id.0),
            serde_json::json!({ "status": "PENDING", "coins": decided.coins }),
            after,
        )
        .await?;
        let telecaller = decided.account_id;
        let released = matches!(decision, Decision::Reject { .. });
        match decision {
            Decision::Complete { .. } => ledger::pay_withdrawal(&mut tx, &decided).await?,
            Decision::Reject { .. } => {
                ledger::release_withdrawal(&mut tx, decided.id, telecaller, decided.coins).await?
            }
        };
        tx.commit().await.map_err(RepoError::from)?;
        let balance = ledger::balance(&self.db, telecaller).await?;
        // A payout leaves the wallet as the hold left it; a release gives the coins back.
        if released {
            self.presence.wallet_changed(Role::Telecaller, telecaller, balance);
        }
        Ok(WithdrawalOutcome { withdrawal: decided, balance })
    }

    /// A user's recharges or a telecaller's withdrawals, newest first.
    pub async fn own_transactions(
        &self,
        account: &Account,
        kind: TransactionKind,
        page: PageRequest,
    ) -> Result<TransactionPage, ServiceError> {
        let (limit, offset) = (page.limit(), page.offset());
        let mut transactions = transactions::owner_page(self.db.pool(), account.id, kind, limit, offset).await?;
        let has_more = talktime_domain::page::cut_to(&mut transactions, limit);
        Ok(TransactionPage { transactions, has_more })
    }

    pub async fn admin_transactions(
        &self,
        kind: TransactionKind,
        status: Option<TransactionStatus>,
        page: PageRequest,
    ) -> Result<AdminTransactionPage, ServiceError> {
        let (limit, offset) = (page.limit(), page.offset());
        let Page { rows: transactions, total } =
            transactions::admin_page(&self.db, kind, status, limit, offset).await?;
        let owners: Vec<Uuid> = transactions.iter().map(|t| t.account_id.0).collect();
        let names: std::collections::HashMap<Uuid, Option<String>> =
            accounts::names(self.db.pool(), &owners).await?.into_iter().collect();
        let transactions = transactions
            .into_iter()
            .map(|t| {
                let name = names.get(&t.account_id.0).cloned().flatten();
                (t, name)
            })
            .collect();
        Ok(AdminTransactionPage { transactions, total })
    }

    pub async fn admin_transaction(&self, id: TransactionId) -> Result<AdminTransaction, ServiceError> {
        let transaction = transactions::find(self.db.pool(), id)
            .await?
            .ok_or_else(|| ServiceError::not_found("transaction_not_found", "Transaction not found"))?;
        let owner_id = transaction.account_id;
        let account_number = match &transaction.bank_account_enc {
            Some(sealed) => Some(self.bank_cipher.open(owner_id, sealed)?),
            None => None,
        };
        let owner = accounts::find_by_id(self.db.pool(), owner_id).await?;
        let balance = ledger::balance(&self.db, owner_id).await?;
        Ok(AdminTransaction { transaction, account_number, owner, balance })
    }
}
