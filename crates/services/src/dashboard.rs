//! The operators' dashboard: totals, sign-ups per period, recharge and withdrawal trends.

use chrono::{DateTime, Duration as Span, Timelike, Utc};
use talktime_domain::dashboard::{Distribution, DistributionPeriod, PromotionFigures, Stats, TrendPeriod, TrendPoint};
use talktime_repository::dashboard;

use crate::ServiceError;
use crate::admin::AdminService;

impl AdminService {
    pub async fn stats(&self) -> Result<Stats, ServiceError> {
        Ok(dashboard::stats(self.db()).await?)
    }

    /// Users and telecallers created in `period` (UTC days).
    pub async fn distribution(&self, period: DistributionPeriod) -> Result<Distribution, ServiceError> {
        Ok(dashboard::created_since(self.db(), since(period)).await?)
    }

    /// Promotions in `period` (UTC days): outstanding coins, spend, expiry, grants by cause,
    /// coupon redemptions.
    pub async fn promotions(&self, period: DistributionPeriod) -> Result<PromotionFigures, ServiceError> {
        Ok(dashboard::promotions(self.db(), since(period)).await?)
    }

    /// Recharge and withdrawal amounts (paise) per UTC hour (`last24hours`) or day.
    pub async fn trends(&self, period: TrendPeriod) -> Result<Vec<TrendPoint>, ServiceError> {
        let (hourly, buckets) = match period {
            TrendPeriod::Last24Hours => (true, 24),
            TrendPeriod::Last7Days => (false, 7),
            TrendPeriod::Last30Days => (false, 30),
        };
        Ok(dashboard::trends(self.db(), hourly, buckets).await?)
    }
}
/// Where a period of whole UTC days starts (`None`: all time).
pub(crate) fn since(period: DistributionPeriod) -> Option<DateTime<Utc>> {
    let today = start_of_day(Utc::now());
    match period {
        DistributionPeriod::Today => Some(today),
        DistributionPeriod::Last7Days => Some(today - Span::days(6)),
        DistributionPeriod::Last30Days => Some(today - Span::days(29)),
        DistributionPeriod::All => None,
    }
}

fn start_of_day(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_hour(0)
        .and_then(|t| t.with_minute(0))
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(t)
}
