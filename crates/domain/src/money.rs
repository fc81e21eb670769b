//! Coins and rupees. Coins are whole numbers (`i64` everywhere: the ledger, the database's
//! checks and every view count them as such); rupee amounts are [`Paise`], converted to rupees
//! only for display. No floats in arithmetic.
//!
//! ```
//! use talktime_domain::money::{discounted_price, withdrawal_amount, Paise};
//!
//! // ₹99.99 with 15% off is 8499.15 paise, rounded half up to 8499.
//! assert_eq!(discounted_price(Paise(9999), 1500), Paise(8499));
//! // 1000 coins at 2.5 coins per rupee (250 hundredths) pay ₹400.
//! assert_eq!(withdrawal_amount(1000, 250), Paise(40000));
//! ```

use serde::{Deserialize, Serialize};

/// An amount of Indian rupees in paise (1/100 rupee).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Paise(pub i64);

impl Paise {
    /// The amount in rupees for display (the clients show rupees).
    pub fn as_rupees(self) -> f64 {
        from_hundredths(self.0)
    }
}

/// A value kept in hundredths (paise, percentages, ratios) for display: `1250` is `12.5`.
pub fn from_hundredths(hundredths: i64) -> f64 {
    hundredths as f64 / 100.0
}

/// The most coins any single admin-set amount may hold (a plan's coins, the minimum
/// withdrawal): far above any real price list, far below where sums of them could overflow a
/// wallet's 64-bit balance.
pub const MAX_SETTING_COINS: i64 = 1_000_000_000_000;

/// The highest per-second rate an admin may set, so rate × seconds never nears overflow.
pub const MAX_COINS_PER_SECOND: i64 = 1_000_000;

/// The longest minimum-balance window an admin may set (a day of talk).
pub const MAX_MIN_BALANCE_SECONDS: i64 = 86_400;

/// A plan's price after its discount, given in hundredths of a percent (0–9900: 12.5 % is
/// 1250), rounded half up to the paisa.
pub fn discounted_price(price: Paise, discount_hundredths: i32) -> Paise {
    let kept = i128::from(10_000 - discount_hundredths.clamp(0, 10_000));
    let scaled = i128::from(price.0) * kept; // ten-thousandths of a paisa
    Paise(i64::try_from((scaled + 5_000) / 10_000).unwrap_or(i64::MAX))
}

/// Rupees owed for a withdrawal of `coins` at `ratio_hundredths` coins per rupee (× 100),
/// rounded down to the paisa: floor(coins × 100 ÷ ratio) paise.
pub fn withdrawal_amount(coins: i64, ratio_hundredths: i64) -> Paise {
    if ratio_hundredths <= 0 || coins <= 0 {
        return Paise(0);
    }
    let paise = i128::from(coins) * 100 * 100 / i128::from(ratio_hundredths);
    Paise(i64::try_from(paise).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discounts_round_half_up() {
        assert_eq!(discounted_price(Paise(4900), 0), Paise(4900));
        assert_eq!(discounted_price(Paise(9900), 1000), Paise(8910));
        assert_eq!(discounted_price(Paise(150), 3300), Paise(101)); // 100.5 → 101
        assert_eq!(discounted_price(Paise(149), 3300), Paise(100)); // 99.83 → 100
        assert_eq!(discounted_price(Paise(1), 5000), Paise(1)); // 0.5 → 1
        assert_eq!(discounted_price(Paise(3), 9900), Paise(0)); // 0.03 → 0
        assert_eq!(discounted_price(Paise(10000), 1250), Paise(8750)); // 12.5 %
        assert_eq!(discounted_price(Paise(999), 1275), Paise(872)); // 871.63… → 872
    }

    #[test]
    fn withdrawals_round_down() {
        assert_eq!(withdrawal_amount(500, 100), Paise(50_000));
        assert_eq!(withdrawal_amount(1, 300), Paise(33)); // 33.33 paise
        assert_eq!(withdrawal_amount(100, 1), Paise(1_000_000)); // 0.01 coins per rupee
        assert_eq!(withdrawal_amount(0, 100), Paise(0));
    }
}
