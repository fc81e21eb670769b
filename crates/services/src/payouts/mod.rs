//! Payouts through a provider (RazorpayX): an approved withdrawal becomes a payout of its net
//! amount, whose webhooks (or the reconciler's look) pay it or give the coins back, exactly once
//! whatever the order and repetition of what the provider says (docs/money.md).

mod razorpayx;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use talktime_domain::account::Role;
use talktime_domain::ids::{AccountId, AdminId, TransactionId};
use talktime_domain::transaction::{Transaction, TransactionKind, TransactionStatus};
use talktime_repository::{Db, RepoError, audit, payouts, transactions};

pub use razorpayx::{RazorpayX, RazorpayXConfig};

use crate::presence::PresenceService;
use crate::secrets::OwnerCipher;
use crate::{ServiceError, ledger};

#[derive(Debug, thiserror::Error)]
pub enum PayoutError {
    #[error("payout provider unreachable: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("payout provider refused: HTTP {status}: {body}")]
    Refused { status: u16, body: String },
    #[error("unexpected payout provider answer: {0}")]
    Malformed(String),
}

/// Where a fund account pays to.
pub struct BankAccount<'a> {
    pub name: &'a str,
    pub ifsc: &'a str,
    pub account_number: &'a str,
}

/// A payout to ask for: `reference_id` is the withdrawal's id, also its idempotency key.
pub struct PayoutOrder<'a> {
    pub fund_account_id: &'a str,
    pub amount_paise: i64,
    pub mode: &'a str,
    pub reference_id: &'a str,
}

/// A payout as the provider reports it (its create and fetch answers, and webhooks' entity).
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderPayout {
    pub id: String,
    /// `queued`, `pending`, `processing`, `processed`, `reversed`, `failed`, `rejected`,
    /// `cancelled`.
    pub status: String,
    #[serde(default)]
    pub utr: Option<String>,
    #[serde(default)]
    pub reference_id: Option<String>,
    #[serde(default)]
    pub failure_reason: Option<String>,
}

#[async_trait]
pub trait PayoutProvider: Send + Sync {
    async fn create_contact(&self, telecaller: AccountId, name: &str) -> Result<String, PayoutError>;
    async fn create_fund_account(&self, contact_id: &str, bank: &BankAccount<'_>) -> Result<String, PayoutError>;
    async fn create_payout(&self, order: &PayoutOrder<'_>) -> Result<ProviderPayout, PayoutError>;
    async fn payout(&self, id: &str) -> Result<ProviderPayout, PayoutError>;
    /// `X-Razorpay-Signature`: HMAC-SHA256(raw body, webhook secret), hex.
    fn webhook_signature_valid(&self, body: &[u8], signature: &str) -> bool;
}

#[derive(Debug, Clone, Copy)]
pub struct PayoutSettings {
    /// Withdrawals whose net amount is below this are approved at once (0: never).
    pub auto_approve_below_paise: i64,
    /// How often the reconciler looks at approved withdrawals, and how long one waits first.
    pub reconcile_interval: Duration,
    pub reconcile_after: Duration,
}

/// Above this a payout goes by NEFT (IMPS's limit is ₹5 lakh).
const IMPS_MAX_PAISE: i64 = 50_000_000;

/// What the provider's word means for a withdrawal.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Paid {
        utr: String,
    },
    /// Failed, rejected or cancelled before paying.
    Failed {
        reason: String,
    },
    /// Sent back by the bank, after being processed (or, when webhooks come out of order,
    /// before we heard it was).
    Reversed {
        reason: String,
    },
}

fn outcome(payout: &ProviderPayout) -> Option<Outcome> {
    let reason = format!("Payout {}: {}", payout.status, payout.failure_reason.as_deref().unwrap_or("no reason given"));
    match payout.status.as_str() {
        "processed" => Some(Outcome::Paid { utr: payout.utr.clone().unwrap_or_else(|| payout.id.clone()) }),
        "reversed" => Some(Outcome::Reversed { reason }),
        "failed" | "rejected" | "cancelled" => Some(Outcome::Failed { reason }),
        _ => None,
    }
}

pub struct PayoutService {
    db: Db,
    provider: Option<Arc<dyn PayoutProvider>>,
    bank_cipher: OwnerCipher,
    presence: Arc<PresenceService>,
    settings: PayoutSettings,
}

#[derive(Deserialize)]
struct WebhookEvent {
    event: String,
    payload: WebhookPayload,
}

#[derive(Deserialize)]
struct WebhookPayload {
    payout: Option<WebhookEntity>,
}

#[derive(Deserialize)]
struct WebhookEntity {
    entity: ProviderPayout,
}

fn withdrawal_not_found() -> ServiceError {
    ServiceError::not_found("withdrawal_not_found", "Withdrawal not found")
}

impl PayoutService {
    pub fn new(
        db: Db,
        provider: Option<Arc<dyn PayoutProvider>>,
        bank_cipher: OwnerCipher,
        presence: Arc<PresenceService>,
        settings: PayoutSettings,
    ) -> Self {
        Self { db, provider, bank_cipher, presence, settings }
    }

    /// A new withdrawal of `net_paise`: approved at once when a provider pays and it is below
    /// `PAYOUT_AUTO_APPROVE_BELOW_PAISE`.
    pub async fn requested(&self, withdrawal: &Transaction) -> Result<Option<Transaction>, ServiceError> {
        if self.provider.is_none() || withdrawal.net_paise() >= self.settings.auto_approve_below_paise {
            return Ok(None);
        }
        self.approve(None, withdrawal.id).await.map(Some)
    }

    /// PENDING → APPROVED (audited when an admin did it), then the payout is asked for. A
    /// provider's refusal leaves it APPROVED, to be asked for again by the reconciler.
    #[tracing::instrument(name = "approve_payout", skip_all, fields(withdrawal = %id))]
    pub async fn approve(&self, admin: Option<AdminId>, id: TransactionId) -> Result<Transaction, ServiceError> {
        if self.provider.is_none() {
            return Err(ServiceError::conflict(
                "payouts_manual",
                "Payouts are made by hand: complete the withdrawal with its transfer reference",
            ));
        }
        let mut tx = self.db.begin().await?;
        let Some(approved) = transactions::approve_withdrawal(&mut tx, id, admin).await? else {
            drop(tx);
            return Err(match transactions::find(self.db.pool(), id).await? {
                Some(t) if t.r#type == TransactionKind::Withdrawal => ServiceError::conflict(
                    "withdrawal_already_processed",
                    format!("This withdrawal is already {}", t.status),
                ),
                _ => withdrawal_not_found(),
            });
        };
        if let Some(admin) = admin {
            let after = json!({ "status": "APPROVED", "net": approved.net_paise() });
            audit::audit(
                &mut tx,
                admin,
                "withdrawal.approve",
                "withdrawal",
                Some(id.0),
                json!({ "status": "PENDING" }),
                after,
            )
            .await?;
        }
        tx.commit().await.map_err(RepoError::from)?;
        self.pay(&approved).await?;
        Ok(transactions::find(self.db.pool(), id).await?.unwrap_or(approved))
    }

    /// Asks the provider for the payout of an APPROVED withdrawal (contact and fund account
    /// first, once each), and applies its answer. The provider's refusal is recorded, not
    /// returned.
    async fn pay(&self, w: &Transaction) -> Result<(), ServiceError> {
        let Some(provider) = &self.provider else { return Ok(()) };
        if w.net_paise() <= 0 {
            // All of it was withheld as TDS: nothing to transfer, it is paid as it stands.
            self.settle(w.id, None, Outcome::Paid { utr: "TDS".to_owned() }).await?;
            return Ok(());
        }
        match self.ask(&**provider, w).await {
            Ok(payout) => {
                transactions::record_payout(self.db.pool(), w.id, Ok((&payout.id, mode(w)))).await?;
                if let Some(outcome) = outcome(&payout) {
                    self.settle(w.id, Some(&payout.id), outcome).await?;
                }
            }
            Err(Asked::Provider(error)) => {
                tracing::warn!(%error, withdrawal = %w.id, "payout provider refused; the reconciler will ask again");
                transactions::record_payout(self.db.pool(), w.id, Err(&error.to_string())).await?;
            }
            Err(Asked::Service(error)) => return Err(error),
        }
        Ok(())
    }

    async fn ask(&self, provider: &dyn PayoutProvider, w: &Transaction) -> Result<ProviderPayout, Asked> {
        let owner = w.account_id;
        let contact = match payouts::contact(self.db.pool(), owner).await? {
            Some(contact) => contact,
            None => {
                let name = w.bank_holder_name.as_deref().unwrap_or("Telecaller");
                let created = provider.create_contact(owner, name).await?;
                payouts::save_contact(self.db.pool(), owner, &created).await?
            }
        };
        let sealed = w.bank_account_enc.as_deref().ok_or_else(|| {
            Asked::Service(ServiceError::conflict("bank_details_erased", "The withdrawal's bank details were erased"))
        })?;
        let ifsc = w.bank_ifsc_code.as_deref().unwrap_or_default();
        let bank_key = Sha256::new().chain_update(sealed).chain_update(ifsc).finalize().to_vec();
        let fund_account = match payouts::fund_account(self.db.pool(), owner, &bank_key).await? {
            Some(fund_account) => fund_account,
            None => {
                let number = self.bank_cipher.open(owner, sealed)?;
                let name = w.bank_holder_name.as_deref().unwrap_or_default();
                let bank = BankAccount { name, ifsc, account_number: &number };
                let created = provider.create_fund_account(&contact, &bank).await?;
                payouts::save_fund_account(self.db.pool(), owner, &bank_key, &created).await?
            }
        };
        let reference = w.id.0.to_string();
        let order = PayoutOrder {
            fund_account_id: &fund_account,
            amount_paise: w.net_paise(),
            mode: mode(w),
            reference_id: &reference,
        };
        Ok(provider.create_payout(&order).await?)
    }

    /// Applies a payout's end to its withdrawal, once: APPROVED → SUCCESS (the paid journal,
    /// with its TDS) or REJECTED (the hold released); SUCCESS → REJECTED when a paid one is
    /// reversed (the reversal journal). Anything else was already applied.
    async fn settle(&self, id: TransactionId, payout_id: Option<&str>, outcome: Outcome) -> Result<bool, ServiceError> {
        use TransactionStatus::{Approved, Rejected, Success};
        let mut tx = self.db.begin().await?;
        let Some(w) = transactions::lock_withdrawal(&mut tx, id).await? else { return Ok(false) };
        // Only a withdrawal handed to the provider, and only by its own payout.
        let other_payout = matches!((w.payout_id.as_deref(), payout_id), (Some(ours), Some(theirs)) if ours != theirs);
        if w.approved_at.is_none() || other_payout {
            tracing::warn!(withdrawal = %id, payout = ?payout_id, "payout news for a withdrawal it does not pay; ignored");
            return Ok(false);
        }
        let settled = match (w.status, &outcome) {
            (Approved, Outcome::Paid { utr }) => {
                let paid =
                    transactions::settle_payout(&mut tx, id, payout_id, Approved, Success, Some(utr), None).await?;
                ledger::pay_withdrawal(&mut tx, &w).await?;
                paid
            }
            (Approved, Outcome::Failed { reason } | Outcome::Reversed { reason }) => {
                let back =
                    transactions::settle_payout(&mut tx, id, payout_id, Approved, Rejected, None, Some(reason)).await?;
                ledger::release_withdrawal(&mut tx, id, w.account_id, w.coins).await?;
                back
            }
            (Success, Outcome::Reversed { reason }) => {
                let back =
                    transactions::settle_payout(&mut tx, id, payout_id, Success, Rejected, None, Some(reason)).await?;
                ledger::reverse_withdrawal(&mut tx, &w).await?;
                back
            }
            _ => None,
        };
        tx.commit().await.map_err(RepoError::from)?;
        if matches!(&settled, Some(t) if t.status == Rejected) {
            let balance = ledger::balance(&self.db, w.account_id).await?;
            self.presence.wallet_changed(Role::Telecaller, w.account_id, balance);
        }
        Ok(settled.is_some())
    }

    /// `POST /webhooks/razorpayx`: signed over the raw body; `payout.processed`, `.reversed`,
    /// `.failed` and `.rejected` settle the withdrawal named by `reference_id` (or the payout's
    /// id). Whether it changed anything.
    #[tracing::instrument(name = "payout_webhook", skip_all)]
    pub async fn webhook(&self, body: &[u8], signature: Option<&str>) -> Result<bool, ServiceError> {
        let valid =
            self.provider.as_ref().is_some_and(|p| signature.is_some_and(|s| p.webhook_signature_valid(body, s)));
        if !valid {
            return Err(ServiceError::invalid("invalid_signature", "Webhook signature verification failed"));
        }
        let event: WebhookEvent = match serde_json::from_slice(body) {
            Ok(event) => event,
            Err(error) => {
                tracing::error!(%error, "signed payout webhook is unreadable; acknowledged and dropped");
                return Ok(false);
            }
        };
        let Some(payout) = event.payload.payout.map(|p| p.entity) else { return Ok(false) };
        let outcome = match event.event.as_str() {
            "payout.processed" | "payout.reversed" | "payout.failed" | "payout.rejected" => outcome(&payout),
            _ => None,
        };
        let Some(outcome) = outcome else { return Ok(false) };
        let by_reference = payout.reference_id.as_deref().and_then(|r| r.parse().ok()).map(TransactionId);
        let id = match by_reference {
            Some(id) => Some(id),
            None => transactions::find_by_payout(self.db.pool(), &payout.id).await?,
        };
        let Some(id) = id else {
            tracing::warn!(payout = %payout.id, "payout webhook for no known withdrawal; acknowledged");
            return Ok(false);
        };
        self.settle(id, Some(&payout.id), outcome).await
    }

    /// One reconciler pass over withdrawals APPROVED longer than `reconcile_after`: a payout
    /// never created is asked for again (same idempotency key); one created is fetched and its
    /// end applied. How many were settled.
    pub async fn reconcile_once(&self) -> Result<usize, ServiceError> {
        let mut settled = 0;
        let after = self.settings.reconcile_after.as_secs_f64();
        for w in transactions::approved_waiting(self.db.pool(), after, 100).await? {
            // One withdrawal's trouble never stops the others'.
            match self.reconcile(&w).await {
                Ok(true) => settled += 1,
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, withdrawal = %w.id, "payout reconciler could not settle it"),
            }
        }
        Ok(settled)
    }

    async fn reconcile(&self, w: &Transaction) -> Result<bool, ServiceError> {
        let (Some(provider), Some(payout_id)) = (&self.provider, &w.payout_id) else {
            self.pay(w).await?;
            return Ok(false);
        };
        let payout = provider.payout(payout_id).await.map_err(|e| {
            ServiceError::upstream("payout_provider_unavailable", "The payout provider could not be reached", e)
        })?;
        match outcome(&payout) {
            Some(outcome) => self.settle(w.id, Some(&payout.id), outcome).await,
            None => Ok(false),
        }
    }

    /// Runs the reconciler forever at its interval (nothing to do without a provider).
    pub async fn run_reconciler(self: Arc<Self>) {
        if self.provider.is_none() {
            return;
        }
        let mut ticker = tokio::time::interval(self.settings.reconcile_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            if let Err(error) = self.reconcile_once().await {
                tracing::error!(%error, "payout reconciler pass failed");
            }
        }
    }
}

/// IMPS up to its limit, NEFT above.
fn mode(w: &Transaction) -> &'static str {
    if w.net_paise() <= IMPS_MAX_PAISE { "IMPS" } else { "NEFT" }
}

/// Why asking for a payout stopped: the provider (recorded, retried later) or our side.
enum Asked {
    Provider(PayoutError),
    Service(ServiceError),
}

impl From<PayoutError> for Asked {
    fn from(error: PayoutError) -> Self {
        Asked::Provider(error)
    }
}

impl From<ServiceError> for Asked {
    fn from(error: ServiceError) -> Self {
        Asked::Service(error)
    }
}

impl From<RepoError> for Asked {
    fn from(error: RepoError) -> Self {
        Asked::Service(error.into())
    }
}
