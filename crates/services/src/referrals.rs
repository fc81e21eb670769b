//! Referrals: every account has a code; a new user gives one at profile completion or within
//! `REFERRAL_WINDOW_DAYS`, and when her first recharge is captured both get `referralBonusCoins`
//! promotional coins, unless a rule refuses it (docs/money.md).

use std::sync::Arc;

use chrono::Utc;
use serde_json::json;
use talktime_domain::account::{Account, Role};
use talktime_domain::coupon::{REFERRAL_WINDOW_DAYS, Referral, ReferralStatus};
use talktime_domain::ids::{AccountId, TransactionId};
use talktime_domain::pricing::AppConfig;
use talktime_domain::promotion::LotCause;
use talktime_repository::{Db, RepoError, Tx, accounts, promotions as lots, referrals, transactions};

use crate::ServiceError;
use crate::promotions::PromotionService;
use crate::secrets::PhoneDigests;

#[derive(Debug, Clone, Copy)]
pub struct ReferralSettings {
    /// Rewards one referrer may get per calendar month (`REFERRAL_MAX_PER_MONTH`).
    pub max_per_month: i64,
}

/// 400 `referral_invalid` with its `reason`.
fn invalid(reason: &str, message: &str) -> ServiceError {
    ServiceError::invalid_field("code", "referral_invalid", message).with_details(json!({ "reason": reason }))
}

pub struct ReferralService {
    db: Db,
    promotions: Arc<PromotionService>,
    phones: PhoneDigests,
    settings: ReferralSettings,
}

impl ReferralService {
    pub fn new(db: Db, promotions: Arc<PromotionService>, phones: PhoneDigests, settings: ReferralSettings) -> Self {
        Self { db, promotions, phones, settings }
    }

    /// `POST /users/referral {code}` (and `referralCode` at profile completion, in its
    /// transaction): a USER says who referred her, within `REFERRAL_WINDOW_DAYS` of signing up
    /// and before her first recharge; once.
    pub async fn give(&self, tx: &mut Tx, user: &Account, code: &str) -> Result<(), ServiceError> {
        if user.role != Role::User {
            return Err(ServiceError::forbidden("forbidden_role", "Only users can be referred"));
        }
        let referrer = referrals::owner_of(&mut **tx, code).await?;
        let Some(referrer) = referrer else { return Err(invalid("unknown", "No account has this referral code")) };
        if referrer == user.id {
            return Err(invalid("own_code", "You cannot use your own referral code"));
        }
        if Utc::now() - user.created_at > chrono::Duration::days(REFERRAL_WINDOW_DAYS) {
            return Err(invalid("too_late", "A referral code can only be given in your first 7 days"));
        }
        if transactions::has_successful_recharge(&mut **tx, user.id).await? {
            return Err(invalid("already_recharged", "A referral code must be given before your first recharge"));
        }
        if !referrals::insert(tx, referrer, user.id).await? {
            return Err(ServiceError::conflict("already_referred", "You already gave a referral code"));
        }
        Ok(())
    }

    /// [`ReferralService::give`] on its own.
    pub async fn give_now(&self, user: &Account, code: &str) -> Result<(), ServiceError> {
        let mut tx = self.db.begin().await?;
        self.give(&mut tx, user, code).await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(())
    }

    /// At the capture of the referee's first recharge (in its transaction): both get the bonus,
    /// or the referral is REJECTED with the rule that refused it.
    pub async fn reward(
        &self,
        tx: &mut Tx,
        referee: AccountId,
        recharge: TransactionId,
        config: &AppConfig,
    ) -> Result<(), ServiceError> {
        let Some((referral, referrer)) = referrals::lock_pending(tx, referee).await? else { return Ok(()) };
        if lots::has_other_recharge(&mut **tx, referee, recharge.0).await? {
            return Ok(());
        }
        let refusal = self.refusal(tx, referee, referrer).await?;
        if let Some(reason) = refusal {
            referrals::decide(tx, referral, ReferralStatus::Rejected, Some(reason)).await?;
            return Ok(());
        }
        let coins = config.referral_bonus_coins;
        for account in [referee, referrer] {
            self.promotions.grant_lot(tx, account, LotCause::ReferralBonus, Some(referral), coins).await?;
        }
        referrals::decide(tx, referral, ReferralStatus::Rewarded, None).await?;
        Ok(())
    }

    /// The rule a reward would break, if any; when none, the referee's phone and devices are
    /// claimed (a phone or device brings one referral reward ever).
    async fn refusal(
        &self,
        tx: &mut Tx,
        referee: AccountId,
        referrer: AccountId,
    ) -> Result<Option<&'static str>, ServiceError> {
        let Some(phone) = accounts::find_by_id(&mut **tx, referee).await?.map(|a| a.phone) else {
            return Ok(Some("referee_gone"));
        };
        if referrals::share_a_device(&mut **tx, referee, referrer).await? {
            return Ok(Some("shared_device"));
        }
        if referrals::rewarded_this_month(tx, referrer).await? >= self.settings.max_per_month {
            return Ok(Some("referrer_monthly_limit"));
        }
        let digest = self.phones.digest(&phone);
        if lots::is_claimed(&mut **tx, "REFERRAL_PHONE", &digest).await? {
            return Ok(Some("phone_already_rewarded"));
        }
        if !referrals::claim_devices(tx, referee).await? {
            return Ok(Some("device_already_rewarded"));
        }
        if !lots::claim(tx, "REFERRAL_PHONE", &digest, referee).await? {
            return Ok(Some("phone_already_rewarded"));
        }
        Ok(None)
    }

    /// `GET /users/referrals`: the ones she referred, newest first, and whether more follow.
    pub async fn of_referrer(
        &self,
        user: AccountId,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Referral>, bool), ServiceError> {
        let mut found = referrals::of_referrer(self.db.pool(), user, limit, offset).await?;
        let more = talktime_domain::page::cut_to(&mut found, limit);
        Ok((found, more))
    }
}
