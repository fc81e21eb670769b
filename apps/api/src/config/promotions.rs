//! Promotional coins (`PromotionSettings`).

use std::time::Duration;

use talktime_services::promotions::PromotionSettings;
use talktime_services::referrals::ReferralSettings;

use super::vars::Vars;

pub(super) fn read(v: &mut Vars) -> PromotionSettings {
    let days: f64 = v.parsed("PROMO_EXPIRY_DAYS", 90.0, "a number of days");
    PromotionSettings {
        expiry: Duration::from_secs_f64((days.max(0.0) * 86_400.0).min(1e10)),
        sweep_interval: v.millis("PROMO_SWEEP_INTERVAL_MS", 60_000),
    }
}

pub(super) fn referrals(v: &mut Vars) -> ReferralSettings {
    ReferralSettings { max_per_month: v.parsed("REFERRAL_MAX_PER_MONTH", 10i64, "a number of rewards").max(0) }
}
