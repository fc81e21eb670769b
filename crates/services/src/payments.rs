//! Recharges: orders, client verification, webhooks and the reconciler. Whichever of verify,
//! webhook and reconciler comes first credits the coins; the others find it done.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use talktime_domain::account::{Account, Role};
use talktime_domain::ids::{PlanId, TransactionId};
use talktime_domain::money::{Paise, discounted_price};
use talktime_domain::pricing::AppConfig;
use talktime_domain::transaction::Transaction;
use talktime_domain::transaction::{TransactionKind, TransactionStatus};
use talktime_repository::transactions::{self, NewRecharge};
use talktime_repository::{Db, RepoError, Tx, plans};

use crate::auth::Budget;
use crate::gateway::PaymentGateway;
use crate::rate_limit::RateLimiter;
use crate::{ErrorKind, ServiceError, ledger};

const CREATE_ORDER_PER_USER: Budget = Budget { limit: 2, window: Duration::from_secs(60) };
const VERIFY_PER_USER: Budget = Budget { limit: 5, window: Duration::from_secs(60) };

#[derive(Debug, Clone, Copy)]
pub struct ReconcilerSettings {
    /// How often the reconciler runs.
    pub interval: Duration,
    /// PENDING orders younger than this are left to the app and the webhook.
    pub min_age: Duration,
    /// Unpaid orders older than this become FAILED.
    pub expire_after: Duration,
}

impl Default for ReconcilerSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(60),
            min_age: Duration::from_secs(300),
            expire_after: Duration::from_secs(24 * 3600),
        }
    }
}

/// A created order, as `/payment/create-order` answers it.
#[derive(Debug, Clone)]
pub struct OrderCreated {
    pub order_id: String,
    pub amount: Paise,
    pub plan_id: PlanId,
    pub coins: i64,
    pub key_id: String,
    pub coupon: Option<OrderCoupon>,
}

/// The outcome of crediting a recharge.
#[derive(Debug, Clone)]
pub struct Credited {
    pub recharge: Transaction,
    /// False when an earlier verify, webhook or reconciler run had already credited it.
    pub newly: bool,
}

/// What a webhook delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    Processed,
    Duplicate,
    Ignored,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    pub credited: usize,
    pub expired: usize,
}

pub struct PaymentService {
    db: Db,
    gateway: Arc<dyn PaymentGateway>,
    limiter: Arc<dyn RateLimiter>,
    reconciler: ReconcilerSettings,
    /// Told about every credit (and, through its presence service, the user's sockets), so a call in progress gets the new paid time.
    calls: Arc<crate::calls::CallService>,
    rewards: Rewards,
}

/// What a recharge can bring besides its coins: a coupon (reserved by the order, consumed at
/// capture), a first-recharge bonus, a referral reward.
pub struct Rewards {
    pub promotions: Arc<crate::promotions::PromotionService>,
    pub coupons: Arc<crate::coupons::CouponService>,
    pub referrals: Arc<crate::referrals::ReferralService>,
}

impl Rewards {
    /// In the transaction that captures `paid`.
    async fn on_capture(&self, tx: &mut Tx, paid: &Transaction, config: &AppConfig) -> Result<(), ServiceError> {
        self.promotions.first_recharge_bonus(tx, paid.account_id, paid.id, paid.coins, config).await?;
        self.promotions.coupon_bonus(tx, paid.account_id, paid.id).await?;
        self.referrals.reward(tx, paid.account_id, paid.id, config).await
    }
}

/// The coupon an order applied: its code, the discount and the bonus to come.
#[derive(Debug, Clone)]
pub struct OrderCoupon {
    pub code: String,
    pub discount: Paise,
    pub bonus_coins: i64,
}

fn order_not_found() -> ServiceError {
    ServiceError::not_found("order_not_found", "Order not found")
}

impl PaymentService {
    pub fn new(
        db: Db,
        gateway: Arc<dyn PaymentGateway>,
        limiter: Arc<dyn RateLimiter>,
        reconciler: ReconcilerSettings,
        calls: Arc<crate::calls::CallService>,
        rewards: Rewards,
    ) -> Self {
        Self { db, gateway, limiter, reconciler, calls, rewards }
    }

    /// After a commit that credited coins: tell the user's sockets the new balance, and extend
    /// the user's running call, if any.
    async fn credited(&self, credited: &Credited) {
        if !credited.newly {
            return;
        }
        let user = credited.recharge.account_id;
        match ledger::balance(&self.db, user).await {
            Ok(balance) => self.calls.presence().wallet_changed(Role::User, user, balance),
            Err(error) => tracing::warn!(%error, "could not read the balance after a recharge"),
        }
        if let Err(error) = self.calls.on_recharge(user).await {
            tracing::warn!(%error, "could not extend the running call after a recharge");
        }
    }

    /// Creates the gateway order and a PENDING recharge holding the price and coins.
    #[tracing::instrument(name = "create_order", skip_all, fields(user = %user.id, plan = %plan))]
    /// An order for a plan, optionally with a coupon: a discount lowers the amount charged; a
    /// bonus comes at capture. The coupon is reserved with the order (400 `coupon_invalid`).
    pub async fn create_order(
        &self,
        user: &Account,
        plan: PlanId,
        coupon: Option<&str>,
    ) -> Result<OrderCreated, ServiceError> {
        CREATE_ORDER_PER_USER.spend(&*self.limiter, &format!("pay:order:{}", user.id)).await?;
        let quote = match coupon {
            Some(code) => Some(self.rewards.coupons.quote(user, code, plan).await?),
            None => None,
        };
        let (plan, price) = match &quote {
            Some(quote) => (quote.plan.clone(), quote.applied.amount),
            None => {
                let plan = plans::find_active(self.db.pool(), plan)
                    .await?
                    .ok_or_else(|| ServiceError::not_found("plan_not_found", "Plan not found"))?;
                let price = discounted_price(Paise(plan.amount_paise), plan.discount_hundredths);
                (plan, price)
            }
        };
        // GST: included in the price, or added on top (docs/tax.md); the taxable value is fixed
        // now, with the order.
        let config = self.rewards.promotions.config().await?;
        let charge = talktime_domain::tax::charge(price.0, config.gst_rate_hundredths, config.gst_mode);
        let amount = Paise(charge.total);
        let id = TransactionId::new();
        let order_id = self.gateway.create_order(amount.0, &id.0.simple().to_string()).await.map_err(|error| {
            ServiceError::upstream(
                "payment_gateway_error",
                "The payment gateway is unavailable, please try again",
                error,
            )
        })?;
        let recharge = NewRecharge {
            id,
            account: user.id,
            plan: plan.id,
            coins: plan.coins,
            amount_paise: amount.0,
            taxable_paise: charge.taxable,
            gst_rate_hundredths: config.gst_rate_hundredths,
            gateway_order_id: &order_id,
        };
        let mut tx = self.db.begin().await?;
        transactions::insert_recharge(&mut *tx, &recharge).await?;
        if let Some(quote) = &quote {
            // The last redemption goes to one order: the others roll back (their gateway orders
            // are never paid).
            self.rewards.coupons.reserve(&mut tx, user, quote, id).await?;
        }
        tx.commit().await.map_err(RepoError::from)?;
        Ok(OrderCreated {
            order_id,
            amount,
            plan_id: plan.id,
            coins: plan.coins,
            key_id: self.gateway.key_id().to_owned(),
            coupon: quote.map(|q| OrderCoupon {
                code: q.coupon.code,
                discount: q.applied.discount,
                bonus_coins: q.applied.bonus_coins,
            }),
        })
    }

    async fn own_order(&self, user: &Account, order_id: &str) -> Result<Transaction, ServiceError> {
        transactions::find_by_order(self.db.pool(), order_id)
            .await?
            .filter(|t| t.account_id == user.id && t.r#type == TransactionKind::Recharge)
            .ok_or_else(order_not_found)
    }

    /// The app's verification after Checkout: checks the signature against the **stored** order
    /// id and credits once. Repeating a successful verify answers the same success.
    #[tracing::instrument(name = "verify", skip_all, fields(user = %user.id, order = order_id))]
    pub async fn verify(
        &self,
        user: &Account,
        order_id: &str,
        payment_id: &str,
        signature: &str,
    ) -> Result<Credited, ServiceError> {
        VERIFY_PER_USER.spend(&*self.limiter, &format!("pay:verify:{}", user.id)).await?;
        let recharge = self.own_order(user, order_id).await?;
        let stored_order = recharge.gateway_order_id.as_deref().unwrap_or_default();
        if !self.gateway.payment_signature_valid(stored_order, payment_id, signature) {
            return Err(ServiceError::invalid("invalid_signature", "Payment signature verification failed"));
        }
        if recharge.status == TransactionStatus::Success && recharge.gateway_payment_id.as_deref() != Some(payment_id) {
            return Err(ServiceError::conflict("order_already_paid", "This order was paid with another payment"));
        }
        self.credit(recharge.id, payment_id).await
    }

    /// The app reports the user closed Checkout: PENDING → CANCELLED. A later captured payment
    /// still credits the order.
    #[tracing::instrument(name = "cancel", skip_all, fields(user = %user.id, order = order_id))]
    pub async fn cancel(&self, user: &Account, order_id: &str) -> Result<Transaction, ServiceError> {
        VERIFY_PER_USER.spend(&*self.limiter, &format!("pay:verify:{}", user.id)).await?;
        let recharge = self.own_order(user, order_id).await?;
        transactions::close_pending_recharge(self.db.pool(), recharge.id, TransactionStatus::Cancelled).await?;
        transactions::find(self.db.pool(), recharge.id).await?.ok_or_else(order_not_found)
    }

    /// Development: pays an own order in the sandbox and returns what Checkout would.
    pub async fn sandbox_pay(&self, user: &Account, order_id: &str) -> Result<(String, String, String), ServiceError> {
        let recharge = self.own_order(user, order_id).await?;
        let order = recharge.gateway_order_id.unwrap_or_default();
        let (payment_id, signature) = self
            .gateway
            .sandbox_payment(&order)
            .ok_or_else(|| ServiceError::not_found("not_found", "Route not found"))?;
        Ok((order, payment_id, signature))
    }

    async fn credit(&self, recharge: TransactionId, payment_id: &str) -> Result<Credited, ServiceError> {
        let config = self.rewards.promotions.config().await?;
        let mut tx = self.db.begin().await?;
        let credited = credit_in(&mut tx, &self.rewards, &config, recharge, payment_id).await?;
        tx.commit().await.map_err(RepoError::from)?;
        self.credited(&credited).await;
        Ok(credited)
    }

    /// A Razorpay webhook: signature over the raw body; `payment.captured` / `order.paid` credit,
    /// `payment.failed` fails a PENDING order; a redelivered event is acknowledged and ignored.
    ///
    /// The de-duplication key comes from the signed body (the event and the payment or order it
    /// is about), never from an unsigned header a replayer could change, and is recorded in the
    /// same transaction as the event's effect. Only a failure that a retry can fix (the
    /// database) is an error; a signed event that can never succeed is logged and acknowledged,
    /// or Razorpay would redeliver it for a day.
    #[tracing::instrument(name = "webhook", skip_all)]
    pub async fn webhook(&self, body: &[u8], signature: Option<&str>) -> Result<WebhookOutcome, ServiceError> {
        let valid = signature.is_some_and(|s| self.gateway.webhook_signature_valid(body, s));
        if !valid {
            return Err(ServiceError::invalid("invalid_signature", "Webhook signature verification failed"));
        }
        let event: WebhookEvent = match serde_json::from_slice(body) {
            Ok(event) => event,
            Err(error) => {
                tracing::error!(%error, "signed webhook is unreadable; acknowledged and dropped");
                return Ok(WebhookOutcome::Ignored);
            }
        };
        match self.apply_webhook(&event, body).await {
            Err(error) if error.kind != ErrorKind::Internal => {
                tracing::error!(%error, event = %event.event, "webhook cannot succeed; acknowledged and dropped");
                Ok(WebhookOutcome::Ignored)
            }
            outcome => outcome,
        }
    }

    async fn apply_webhook(&self, event: &WebhookEvent, body: &[u8]) -> Result<WebhookOutcome, ServiceError> {
        let payment = event.payload.payment.as_ref().map(|p| &p.entity);
        let order_id = payment
            .and_then(|p| p.order_id.clone())
            .or_else(|| event.payload.order.as_ref().map(|o| o.entity.id.clone()));
        let dispute = event.payload.dispute.as_ref().map(|d| &d.entity);
        let event_key = match (&event.id, &order_id, payment) {
            (Some(id), _, _) => id.clone(),
            (None, None, None) => format!("sha256:{:x}", Sha256::digest(body)),
            (None, order, payment) => format!(
                "{}:{}:{}{}",
                event.event,
                order.as_deref().unwrap_or_default(),
                payment.map(|p| p.id.as_str()).unwrap_or_default(),
                dispute.map(|d| format!(":{}", d.id)).unwrap_or_default()
            ),
        };

        let config = self.rewards.promotions.config().await?;
        let mut tx = self.db.begin().await?;
        if !transactions::record_webhook_event(&mut tx, &event_key, &event.event).await? {
            return Ok(WebhookOutcome::Duplicate);
        }
        let recharge = match &order_id {
            Some(order) => transactions::find_by_order(&mut *tx, order).await?,
            None => None,
        };
        let mut credited = None;
        let mut disputed = None;
        let step = crate::disputes::DisputeEvent::from_webhook(&event.event);
        let outcome = match (event.event.as_str(), recharge, payment) {
            (_, Some(recharge), _) if let (Some(step), Some(dispute)) = (step, dispute) => {
                let news = crate::disputes::DisputeNews {
                    gateway_dispute_id: &dispute.id,
                    event: step,
                    amount_paise: dispute.amount,
                    reason: dispute.reason_description.as_deref(),
                };
                if crate::disputes::apply(&mut tx, &config, &recharge, &news).await? {
                    disputed = Some(recharge.account_id);
                }
                WebhookOutcome::Processed
            }
            ("payment.captured" | "order.paid", Some(recharge), Some(payment)) => {
                credited = Some(credit_in(&mut tx, &self.rewards, &config, recharge.id, &payment.id).await?);
                WebhookOutcome::Processed
            }
            ("payment.failed", Some(recharge), _) => {
                transactions::close_pending_recharge(&mut *tx, recharge.id, TransactionStatus::Failed).await?;
                WebhookOutcome::Processed
            }
            _ => WebhookOutcome::Ignored,
        };
        tx.commit().await.map_err(RepoError::from)?;
        if let Some(credited) = &credited {
            self.credited(credited).await;
        }
        if let Some(user) = disputed
            && let Ok(balance) = ledger::balance(&self.db, user).await
        {
            self.calls.presence().wallet_changed(Role::User, user, balance);
        }
        if outcome == WebhookOutcome::Ignored {
            tracing::info!(event = %event.event, order = ?order_id, "webhook ignored");
        }
        Ok(outcome)
    }

    /// One reconciler pass: asks the gateway about PENDING orders older than `min_age` and
    /// credits captured ones; fails those unpaid for `expire_after`.
    pub async fn reconcile_once(&self) -> Result<ReconcileReport, ServiceError> {
        let mut report = ReconcileReport::default();
        let min_age = i64::try_from(self.reconciler.min_age.as_secs()).unwrap_or(i64::MAX);
        let expire_after = i64::try_from(self.reconciler.expire_after.as_secs()).unwrap_or(i64::MAX);
        for recharge in transactions::pending_recharges(self.db.pool(), min_age, 100).await? {
            let order = recharge.gateway_order_id.clone().unwrap_or_default();
            match self.gateway.order_payments(&order).await {
                Ok(payments) => {
                    if let Some(paid) = payments.iter().find(|p| p.status == "captured") {
                        if self.credit(recharge.id, &paid.id).await?.newly {
                            report.credited += 1;
                        }
                        continue;
                    }
                }
                Err(error) => tracing::warn!(%error, order, "reconciler could not reach the gateway"),
            }
            if transactions::expire_recharge(self.db.pool(), recharge.id, expire_after).await? {
                report.expired += 1;
            }
        }
        Ok(report)
    }

    /// Runs the reconciler forever at its interval.
    pub async fn run_reconciler(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(self.reconciler.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            match self.reconcile_once().await {
                Ok(report) if report != ReconcileReport::default() => tracing::info!(?report, "reconciler pass"),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "reconciler pass failed"),
            }
        }
    }
}

/// Marks the recharge paid and posts its journal in `tx`, or reports it was already credited.
/// A capture also brings what the recharge earned besides its coins ([`Rewards`]).
async fn credit_in(
    tx: &mut Tx,
    rewards: &Rewards,
    config: &AppConfig,
    recharge: TransactionId,
    payment_id: &str,
) -> Result<Credited, ServiceError> {
    match transactions::mark_recharge_paid(tx, recharge, payment_id).await {
        Ok(Some(paid)) => {
            let debts = crate::disputes::owed(tx, paid.account_id).await?;
            ledger::credit_recharge(tx, paid.id, paid.account_id, paid.coins).await?;
            crate::disputes::recover(tx, paid.id, paid.account_id, &debts).await?;
            rewards.on_capture(tx, &paid, config).await?;
            crate::tax::invoice_capture(tx, config, paid.id).await?;
            Ok(Credited { recharge: paid, newly: true })
        }
        Ok(None) => {
            let current = transactions::find(&mut **tx, recharge).await?.ok_or_else(order_not_found)?;
            if current.status == TransactionStatus::Success {
                Ok(Credited { recharge: current, newly: false })
            } else {
                Err(ServiceError::conflict("order_not_payable", "This order cannot be credited"))
            }
        }
        Err(error) if error.is_unique("transactions_gateway_payment_id_key") => {
            Err(ServiceError::conflict("payment_already_used", "This payment was already used for another order"))
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Debug, Deserialize)]
struct WebhookEvent {
    #[serde(default)]
    id: Option<String>,
    event: String,
    #[serde(default)]
    payload: WebhookPayload,
}

#[derive(Debug, Default, Deserialize)]
struct WebhookPayload {
    payment: Option<Wrapped<PaymentEntity>>,
    order: Option<Wrapped<OrderEntity>>,
    dispute: Option<Wrapped<DisputeEntity>>,
}

#[derive(Debug, Deserialize)]
struct DisputeEntity {
    id: String,
    #[serde(default)]
    amount: Option<i64>,
    #[serde(default)]
    reason_description: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Wrapped<T> {
    entity: T,
}

#[derive(Debug, Deserialize)]
struct PaymentEntity {
    id: String,
    order_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct OrderEntity {
    id: String,
}
