//! Telecallers' own prices (`PricingSettings`).

use std::time::Duration;

use talktime_services::pricing::PricingSettings;

use super::vars::Vars;

pub(super) fn read(v: &mut Vars) -> PricingSettings {
    let hours: f64 = v.parsed("RATE_CHANGE_COOLDOWN_HOURS", 24.0, "a number of hours");
    PricingSettings { rate_change_cooldown: Duration::from_secs_f64((hours.max(0.0) * 3600.0).min(1e9)) }
}
