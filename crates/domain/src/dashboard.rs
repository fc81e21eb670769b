//! Figures for the admin dashboard.

wire_enum!(
    /// Whose sign-ups `user-distribution` counts: created today, in the last 7 or 30 UTC days
    /// (today included), or ever.
    DistributionPeriod { Today => "today", Last7Days => "last7days", Last30Days => "last30days", All => "all" }
);

wire_enum!(
    /// The span of `recharge-withdrawal-trends`: 24 hourly points, or 7 or 30 daily ones.
    TrendPeriod { Last24Hours => "last24hours", Last7Days => "last7days", Last30Days => "last30days" }
);

/// Users and telecallers created in a [`DistributionPeriod`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Distribution {
    pub users: i64,
    pub telecallers: i64,
}

/// Successful recharges and withdrawals (paise) in one hour or day of a trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrendPoint {
    pub start: chrono::DateTime<chrono::Utc>,
    pub recharge_paise: i64,
    pub withdrawal_paise: i64,
}

/// The platform's totals at one moment (amounts in paise, coins in coins).
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub recharge_paise: i64,
    pub withdrawal_paise: i64,
    pub users_total: i64,
    pub users_new_this_month: i64,
    pub incomplete_profiles: i64,
    pub telecallers_total: i64,
    pub telecallers_approved: i64,
    pub telecallers_pending: i64,
    pub telecallers_rejected: i64,
    pub calls_total: i64,
    pub call_seconds: i64,
    pub completed_calls: i64,
    pub coins_in_wallets: i64,
    /// Promotional coins in users' promotional wallets (the liability).
    pub promo_outstanding: i64,
    pub coins_held: i64,
    pub coins_earned_by_platform: i64,
}

/// Promotions in a period: what they cost and what is still owed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PromotionFigures {
    /// Promotional coins in users' wallets now (the liability).
    pub outstanding: i64,
    /// The marketing account now: the net cost of every promotion so far (negative).
    pub marketing_balance: i64,
    /// In calls that ended in the period: promotional coins spent, and free seconds' worth.
    pub promo_spent: i64,
    pub free_call_coins: i64,
    /// Promotional coins that expired in the period.
    pub expired: i64,
    /// Lots granted in the period, by cause: (cause, coins, lots).
    pub grants: Vec<(crate::promotion::LotCause, i64, i64)>,
    /// Coupon redemptions consumed in the period, and the discounts they gave (paise).
    pub coupon_redemptions: i64,
    pub coupon_discount_paise: i64,
}
