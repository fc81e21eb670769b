//! Promotions: promotional coins granted from the platform's marketing account into a user's
//! promotional wallet (a lot per grant, expiring after `PROMO_EXPIRY_DAYS`), the grants
//! themselves (signup bonus, first-recharge bonus, refunds' promotional part), and the sweeper
//! that expires what is left of a lot. Calls spend promotional coins first (`calls::ending`).

use std::sync::Arc;
use std::time::Duration;

use talktime_domain::account::Account;
use talktime_domain::ids::{AccountId, CallId, TransactionId};
use talktime_domain::pricing::AppConfig;
use talktime_domain::promotion::{Balances, LotCause, PromoLot, percent_of};
use talktime_repository::ledger::Cause;
use talktime_repository::promotions::{self, NewLot};
use talktime_repository::{Db, RepoError, Tx};
use uuid::Uuid;

use crate::ServiceError;
use crate::cache::ReadCache;
use crate::ledger;
use crate::secrets::PhoneDigests;

#[derive(Debug, Clone, Copy)]
pub struct PromotionSettings {
    /// Promotional coins expire this long after they were granted (`PROMO_EXPIRY_DAYS`).
    pub expiry: Duration,
    /// How often each node looks for expired lots.
    pub sweep_interval: Duration,
}

/// Lots expired per pass (the next pass takes the rest).
const EXPIRY_BATCH: i64 = 500;

pub struct PromotionService {
    db: Db,
    cache: Arc<ReadCache>,
    phones: PhoneDigests,
    settings: PromotionSettings,
}

impl PromotionService {
    pub fn new(db: Db, cache: Arc<ReadCache>, phones: PhoneDigests, settings: PromotionSettings) -> Self {
        Self { db, cache, phones, settings }
    }

    /// The promotions in force. Read before a transaction opens: a cache miss inside one would
    /// wait for a second connection while holding the first.
    pub async fn config(&self) -> Result<Arc<AppConfig>, ServiceError> {
        Ok(self.cache.config().await?)
    }

    /// Puts `coins` into the user's promotional wallet as a lot of `cause`, with its journal
    /// (cause id: the lot). `false` when the user may have only one lot of this cause and has it.
    pub async fn grant_lot(
        &self,
        tx: &mut Tx,
        user: AccountId,
        cause: LotCause,
        source: Option<Uuid>,
        coins: i64,
    ) -> Result<bool, ServiceError> {
        if coins <= 0 {
            return Ok(false);
        }
        let lot = NewLot {
            id: Uuid::now_v7(),
            account: user,
            cause,
            source,
            coins,
            expires_in_secs: self.settings.expiry.as_secs_f64(),
        };
        if !promotions::insert_lot(tx, &lot).await? {
            return Ok(false);
        }
        let journal = match cause {
            LotCause::SignupBonus => Cause::SignupBonus,
            LotCause::FirstRechargeBonus => Cause::FirstRechargeBonus,
            LotCause::CouponBonus => Cause::CouponBonus,
            LotCause::ReferralBonus => Cause::ReferralBonus,
            // A refund posts its own journal (`ledger::refund_call`); the lot only records it.
            LotCause::Refund => return Ok(true),
        };
        ledger::grant_promo(tx, journal, lot.id, user, coins).await?;
        Ok(true)
    }

    /// The signup bonus, when a USER completes her profile: once per phone number ever (a
    /// deleted and re-created account does not get it again).
    pub async fn signup_bonus(&self, tx: &mut Tx, user: &Account, config: &AppConfig) -> Result<(), ServiceError> {
        let coins = config.signup_bonus_coins;
        if coins <= 0 || !promotions::claim(tx, "SIGNUP_BONUS", &self.phones.digest(&user.phone), user.id).await? {
            return Ok(());
        }
        self.grant_lot(tx, user.id, LotCause::SignupBonus, None, coins).await?;
        Ok(())
    }

    /// The first-recharge bonus (`firstRechargeBonusPercent` of the plan's coins), in the
    /// transaction that captures the user's first recharge.
    pub async fn first_recharge_bonus(
        &self,
        tx: &mut Tx,
        user: AccountId,
        recharge: TransactionId,
        coins: i64,
        config: &AppConfig,
    ) -> Result<(), ServiceError> {
        let percent = config.first_recharge_bonus_hundredths;
        if percent <= 0 || promotions::has_other_recharge(&mut **tx, user, recharge.0).await? {
            return Ok(());
        }
        self.grant_lot(tx, user, LotCause::FirstRechargeBonus, Some(recharge.0), percent_of(coins, percent)).await?;
        Ok(())
    }

    /// The bonus of the coupon the order reserved, consumed at its capture (once: the
    /// redemption moves from RESERVED to REDEEMED in this transaction).
    pub async fn coupon_bonus(
        &self,
        tx: &mut Tx,
        user: AccountId,
        recharge: TransactionId,
    ) -> Result<(), ServiceError> {
        if let Some(coins) = talktime_repository::coupons::redeem(tx, recharge).await? {
            self.grant_lot(tx, user, LotCause::CouponBonus, Some(recharge.0), coins).await?;
        }
        Ok(())
    }

    /// A refund's promotional part comes back as a lot of its own (its journal is the refund's).
    pub async fn refunded(&self, tx: &mut Tx, user: AccountId, call: CallId, coins: i64) -> Result<(), ServiceError> {
        self.grant_lot(tx, user, LotCause::Refund, Some(call.0), coins).await?;
        Ok(())
    }

    /// What the account holds, paid and promotional, and when its promotional coins expire.
    pub async fn balances(&self, account: AccountId) -> Result<Balances, ServiceError> {
        let ((paid, promo, owed), promo_expiring) = futures_util::future::try_join(
            talktime_repository::ledger::balances(self.db.pool(), account),
            promotions::expiring(self.db.pool(), account),
        )
        .await?;
        Ok(Balances { paid, promo, owed, promo_expiring })
    }

    /// Up to `limit` of the account's promotional lots from `offset`, newest first, and whether
    /// more follow.
    pub async fn lots(
        &self,
        account: AccountId,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<PromoLot>, bool), ServiceError> {
        let mut lots = promotions::lots_page(self.db.pool(), account, limit, offset).await?;
        let more = talktime_domain::page::cut_to(&mut lots, limit);
        Ok((lots, more))
    }

    /// Expires every lot past its date: what is left of it goes back to marketing (journal
    /// `PROMO_EXPIRY`). Answers how many lots expired. Any node may run it: each lot expires once.
    pub async fn expire_due(&self) -> Result<u64, ServiceError> {
        let mut expired = 0;
        loop {
            let due = promotions::due(self.db.pool(), EXPIRY_BATCH).await?;
            let batch = due.len() as i64;
            for (lot, owner) in due {
                let mut tx = self.db.begin().await?;
                // Her promotional wallet first, as a settlement takes it: they take turns.
                talktime_repository::ledger::lock_balances(&mut tx, owner).await?;
                if let Some(coins) = promotions::expire(&mut tx, lot).await? {
                    ledger::expire_promo(&mut tx, lot, owner, coins).await?;
                    expired += 1;
                }
                tx.commit().await.map_err(RepoError::from)?;
            }
            if batch < EXPIRY_BATCH {
                return Ok(expired);
            }
        }
    }

    /// Runs [`PromotionService::expire_due`] forever at its interval.
    pub async fn run_expiry(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(self.settings.sweep_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match self.expire_due().await {
                Ok(0) => {}
                Ok(expired) => tracing::info!(expired, "promotional coins expired"),
                Err(error) => tracing::warn!(%error, "promotional expiry pass failed"),
            }
        }
    }
}
