//! Ratings on telecaller cards: the users' 1–5 ratings of their calls with her, smoothed toward
//! the platform's mean until she has [`SMOOTHING_RATINGS`] of them, so one early rating neither
//! crowns nor sinks her.

wire_enum!(
    /// How the telecaller list is ordered (`sort`): ONLINE before ON_CALL always, then by id
    /// (`presence`, the default), best rated first (`rating`) or cheapest first (`price`: her
    /// audio price in force, then her video price).
    ListOrder { Presence => "presence", Rating => "rating", Price => "price" }
);

/// Below this many ratings, the missing ones count as the platform's mean.
pub const SMOOTHING_RATINGS: i64 = 10;

/// A telecaller's rating tally and the platform's, as stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RatingTally {
    pub sum: i64,
    pub count: i64,
    pub platform_sum: i64,
    pub platform_count: i64,
}

impl RatingTally {
    /// The shown average, to two decimals: `(sum + (10 − n) × platform mean) ÷ 10` while she has
    /// fewer than 10 ratings, `sum ÷ n` from then on; `None` before her first rating.
    pub fn average(&self) -> Option<f64> {
        if self.count <= 0 {
            return None;
        }
        let own = self.sum as f64;
        let average = if self.count >= SMOOTHING_RATINGS || self.platform_count <= 0 {
            own / self.count as f64
        } else {
            let mean = self.platform_sum as f64 / self.platform_count as f64;
            (own + (SMOOTHING_RATINGS - self.count) as f64 * mean) / SMOOTHING_RATINGS as f64
        };
        Some((average * 100.0).round() / 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(sum: i64, count: i64, platform_sum: i64, platform_count: i64) -> RatingTally {
        RatingTally { sum, count, platform_sum, platform_count }
    }

    #[test]
    fn few_ratings_lean_on_the_platform_mean() {
        assert_eq!(tally(0, 0, 40, 10).average(), None);
        // One 5 among a platform averaging 4: (5 + 9 × 4) / 10.
        assert_eq!(tally(5, 1, 40, 10).average(), Some(4.1));
        // Ten ratings or more: her own average.
        assert_eq!(tally(30, 10, 400, 100).average(), Some(3.0));
        // Nobody else rated yet: her own.
        assert_eq!(tally(5, 1, 5, 1).average(), Some(5.0));
        assert_eq!(tally(5, 1, 0, 0).average(), Some(5.0));
    }
}
