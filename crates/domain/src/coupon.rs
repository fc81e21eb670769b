//! Coupons: codes users apply to an order, and referrals between users (docs/money.md).

use chrono::{DateTime, Utc};

use crate::ids::{AccountId, PlanId};
use crate::money::{Paise, discounted_price};

wire_enum!(
    /// What a coupon gives: promotional coins (a number, or a percent of the plan's coins) at
    /// capture, or a percent off the amount charged.
    CouponKind { BonusCoins => "BONUS_COINS", BonusPercent => "BONUS_PERCENT", DiscountPercent => "DISCOUNT_PERCENT" }
);

wire_enum!(
    /// A redemption's state: taken by an order, consumed at its capture, or given back.
    RedemptionStatus { Reserved => "RESERVED", Redeemed => "REDEEMED", Released => "RELEASED" }
);

wire_enum!(
    /// Why a code was refused (`coupon_invalid`'s `reason`).
    CouponRefusal { Expired => "expired", Exhausted => "exhausted", NotEligible => "not_eligible", Unknown => "unknown" }
);

wire_enum!(
    /// Where a referral stands.
    ReferralStatus { Pending => "PENDING", Rewarded => "REWARDED", Rejected => "REJECTED" }
);

/// A coupon as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coupon {
    pub id: uuid::Uuid,
    pub code: String,
    pub kind: CouponKind,
    /// Coins (`BONUS_COINS`) or a whole percent.
    pub value: i64,
    pub max_redemptions: Option<i32>,
    pub per_user_limit: i32,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub new_users_only: bool,
    /// Plans it applies to (empty: all).
    pub plan_ids: Vec<uuid::Uuid>,
    pub is_active: bool,
    /// Redemptions reserved or consumed.
    pub used: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A coupon's settings, to create one or replace them.
#[derive(Debug, Clone)]
pub struct CouponSettings {
    pub code: String,
    pub kind: CouponKind,
    pub value: i64,
    pub max_redemptions: Option<i32>,
    pub per_user_limit: i32,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub new_users_only: bool,
    pub plan_ids: Vec<uuid::Uuid>,
    pub is_active: bool,
}

impl From<&Coupon> for CouponSettings {
    fn from(c: &Coupon) -> Self {
        Self {
            code: c.code.clone(),
            kind: c.kind,
            value: c.value,
            max_redemptions: c.max_redemptions,
            per_user_limit: c.per_user_limit,
            valid_from: c.valid_from,
            valid_until: c.valid_until,
            new_users_only: c.new_users_only,
            plan_ids: c.plan_ids.clone(),
            is_active: c.is_active,
        }
    }
}

/// What applying a coupon to a plan gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// What the order charges, in paise.
    pub amount: Paise,
    pub discount: Paise,
    /// Promotional coins at capture.
    pub bonus_coins: i64,
}

/// Who is applying it, and to what.
#[derive(Debug, Clone, Copy)]
pub struct Applicant {
    pub plan: PlanId,
    pub now: DateTime<Utc>,
    /// She has never had a captured recharge.
    pub is_new_user: bool,
    /// Her redemptions of this coupon, reserved or consumed.
    pub used_by_her: i64,
}

impl Coupon {
    /// Whether `applicant` may use it now (the last redemption is still decided by the
    /// conditional update that takes it).
    ///
    /// ```
    /// # use talktime_domain::coupon::*;
    /// # let mut c = Coupon::example();
    /// # let who = Applicant { plan: talktime_domain::ids::PlanId::new(), now: chrono::Utc::now(), is_new_user: false, used_by_her: 0 };
    /// assert_eq!(c.refusal(&who), None);
    /// c.new_users_only = true;
    /// assert_eq!(c.refusal(&who), Some(CouponRefusal::NotEligible));
    /// ```
    pub fn refusal(&self, who: &Applicant) -> Option<CouponRefusal> {
        if !self.is_active || self.valid_until.is_some_and(|until| who.now >= until) {
            return Some(CouponRefusal::Expired);
        }
        if self.max_redemptions.is_some_and(|max| self.used >= max) || who.used_by_her >= i64::from(self.per_user_limit)
        {
            return Some(CouponRefusal::Exhausted);
        }
        let not_yet = self.valid_from.is_some_and(|from| who.now < from);
        let other_plan = !self.plan_ids.is_empty() && !self.plan_ids.contains(&who.plan.0);
        if not_yet || other_plan || (self.new_users_only && !who.is_new_user) {
            return Some(CouponRefusal::NotEligible);
        }
        None
    }

    /// What it gives on a plan priced `price` (after the plan's own discount) with `coins`.
    ///
    /// ```
    /// # use talktime_domain::coupon::*;
    /// # use talktime_domain::money::Paise;
    /// let mut c = Coupon::example();
    /// c.kind = CouponKind::DiscountPercent;
    /// c.value = 20;
    /// assert_eq!(c.apply(Paise(9_999), 100).amount, Paise(7_999));
    /// c.kind = CouponKind::BonusPercent;
    /// assert_eq!(c.apply(Paise(9_999), 110).bonus_coins, 22);
    /// ```
    pub fn apply(&self, price: Paise, coins: i64) -> Applied {
        match self.kind {
            CouponKind::DiscountPercent => {
                let percent = i32::try_from(self.value.clamp(0, 100)).unwrap_or(0);
                let amount = discounted_price(price, percent * 100);
                Applied { amount, discount: Paise(price.0 - amount.0), bonus_coins: 0 }
            }
            CouponKind::BonusCoins => Applied { amount: price, discount: Paise(0), bonus_coins: self.value },
            CouponKind::BonusPercent => Applied {
                amount: price,
                discount: Paise(0),
                bonus_coins: crate::promotion::percent_of(coins, i32::try_from(self.value * 100).unwrap_or(0)),
            },
        }
    }

    #[doc(hidden)]
    pub fn example() -> Self {
        Coupon {
            id: uuid::Uuid::nil(),
            code: "WELCOME".to_owned(),
            kind: CouponKind::BonusCoins,
            value: 50,
            max_redemptions: None,
            per_user_limit: 1,
            valid_from: None,
            valid_until: None,
            new_users_only: false,
            plan_ids: Vec::new(),
            is_active: true,
            used: 0,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }
}

/// One redemption of a coupon, as its admin detail lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redemption {
    pub id: uuid::Uuid,
    pub account_id: AccountId,
    pub transaction_id: crate::ids::TransactionId,
    pub status: RedemptionStatus,
    pub discount_paise: i64,
    pub bonus_coins: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A referral as its referrer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    pub id: uuid::Uuid,
    pub referee_id: AccountId,
    pub referee_name: Option<String>,
    pub status: ReferralStatus,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// How long after signing up a user may still give a referral code.
pub const REFERRAL_WINDOW_DAYS: i64 = 7;
