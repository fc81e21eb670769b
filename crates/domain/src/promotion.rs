//! Promotions: promotional coins (their own balance, spent first, expiring), the grants that
//! give them, and how a call's cost splits between what the user paid, what promotions paid and
//! what marketing paid (docs/money.md).

use chrono::{DateTime, Utc};

wire_enum!(
    /// Where a lot of promotional coins came from.
    LotCause {
        SignupBonus => "SIGNUP_BONUS",
        FirstRechargeBonus => "FIRST_RECHARGE_BONUS",
        CouponBonus => "COUPON_BONUS",
        ReferralBonus => "REFERRAL_BONUS",
        Refund => "REFUND",
    }
);

/// Coins that expire together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiring {
    pub coins: i64,
    pub expires_at: DateTime<Utc>,
}

/// A user's coins by source: `paid` (bought), `promo` (granted), what she `owes` after a lost
/// chargeback, and when the promotional ones expire (soonest first). Her balance is paid +
/// promo − owed (below zero while she owes more than she holds).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Balances {
    pub paid: i64,
    pub promo: i64,
    pub owed: i64,
    pub promo_expiring: Vec<Expiring>,
}

impl Balances {
    pub fn total(&self) -> i64 {
        self.paid + self.promo - self.owed
    }
}

/// One lot of promotional coins, as a user's history lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromoLot {
    pub id: uuid::Uuid,
    pub cause: LotCause,
    pub coins: i64,
    pub remaining: i64,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// A first-recharge bonus: `percent` (hundredths) of the plan's coins, rounded down.
///
/// ```
/// use talktime_domain::promotion::percent_of;
/// assert_eq!(percent_of(1_000, 2_500), 250);
/// assert_eq!(percent_of(99, 1_000), 9);
/// ```
pub fn percent_of(coins: i64, hundredths: i32) -> i64 {
    i64::try_from(i128::from(coins.max(0)) * i128::from(hundredths.max(0)) / 10_000).unwrap_or(0)
}

/// Where a call's coins come from and go to. `free` (a first call's free seconds) comes from
/// marketing; `promo` and `paid` from the user's two wallets (promotional first). She earns her
/// share of all of it; revenue keeps the commission on what was paid, and the commission on the
/// rest goes back to marketing, so promotions are never revenue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Funding {
    pub free: i64,
    pub promo: i64,
    pub paid: i64,
    pub earned: i64,
    /// Revenue's entry: the commission on `paid`.
    pub revenue: i64,
    /// Marketing's entry: `promo` less her share of what was not paid (negative when free
    /// seconds cost more than that).
    pub marketing: i64,
}

impl Funding {
    /// What the user was charged (both wallets).
    pub fn spent(&self) -> i64 {
        self.promo + self.paid
    }

    /// Splits a bill: `value` coins of talk of which `free` were free, `earned` hers, the user's
    /// part taken from `promo_balance` first.
    ///
    /// ```
    /// use talktime_domain::promotion::Funding;
    /// // 100 coins of talk, 30 of them free, 50 promotional coins, she earns half.
    /// let f = Funding::split(100, 30, 50, 50);
    /// assert_eq!((f.free, f.promo, f.paid, f.earned), (30, 50, 20, 50));
    /// assert_eq!((f.revenue, f.marketing), (10, 10));
    /// assert_eq!(-f.paid - f.promo + f.earned + f.revenue + f.marketing, 0);
    /// ```
    pub fn split(value: i64, free: i64, earned: i64, promo_balance: i64) -> Self {
        let (value, free) = (value.max(0), free.clamp(0, value.max(0)));
        let spent = value - free;
        let promo = spent.min(promo_balance.max(0));
        let paid = spent - promo;
        let earned = earned.clamp(0, value);
        let earned_on_paid = proportion(earned, paid, value);
        Funding {
            free,
            promo,
            paid,
            earned,
            revenue: paid - earned_on_paid,
            marketing: promo - (earned - earned_on_paid),
        }
    }
}

/// floor(amount × part / whole), 0 for an empty whole.
pub fn proportion(amount: i64, part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        return 0;
    }
    i64::try_from(i128::from(amount) * i128::from(part) / i128::from(whole)).unwrap_or(0)
}

/// How a refund of `coins` to the user moves: back to each wallet in proportion to what the call
/// took from it, taken from her (`from_telecaller`) and, for the rest, from revenue in proportion
/// to the paid part and from marketing for the promotional part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefundSplit {
    pub to_paid: i64,
    pub to_promo: i64,
    pub from_telecaller: i64,
    pub from_revenue: i64,
    pub from_marketing: i64,
}

impl RefundSplit {
    /// `spent` and `promo_spent`: what the call took from the user (both wallets) and from her
    /// promotional one.
    ///
    /// ```
    /// use talktime_domain::promotion::RefundSplit;
    /// // A call took 100 (40 promotional); refund 50, of which she gives back 20.
    /// let r = RefundSplit::new(50, 100, 40, 20);
    /// assert_eq!((r.to_paid, r.to_promo), (30, 20));
    /// assert_eq!((r.from_telecaller, r.from_revenue, r.from_marketing), (20, 18, 12));
    /// ```
    pub fn new(coins: i64, spent: i64, promo_spent: i64, from_telecaller: i64) -> Self {
        let to_promo = proportion(coins, promo_spent, spent);
        let rest = coins - from_telecaller;
        let from_revenue = proportion(rest, spent - promo_spent, spent);
        RefundSplit {
            to_paid: coins - to_promo,
            to_promo,
            from_telecaller,
            from_revenue,
            from_marketing: rest - from_revenue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Every split balances and never takes more from a wallet than it holds.
        #[test]
        fn splits_balance(value in 0i64..1_000_000, free in 0i64..1_000_000, share in 0i64..=100, promo in 0i64..1_000_000) {
            let earned = value * share / 100;
            let f = Funding::split(value, free, earned, promo);
            prop_assert_eq!(-f.paid - f.promo + f.earned + f.revenue + f.marketing, 0);
            prop_assert!(f.promo <= promo && f.promo >= 0 && f.paid >= 0 && f.revenue >= 0);
            prop_assert_eq!(f.free + f.spent(), value);
        }

        #[test]
        fn refunds_balance(spent in 1i64..1_000_000, promo_pct in 0i64..=100, coins_pct in 0i64..=100, her_pct in 0i64..=100) {
            let promo_spent = spent * promo_pct / 100;
            let coins = spent * coins_pct / 100;
            let from_her = coins * her_pct / 100;
            let r = RefundSplit::new(coins, spent, promo_spent, from_her);
            prop_assert_eq!(r.to_paid + r.to_promo - r.from_telecaller - r.from_revenue - r.from_marketing, 0);
            prop_assert!(r.to_promo <= promo_spent && r.to_paid <= spent - promo_spent + 1);
        }
    }
}
