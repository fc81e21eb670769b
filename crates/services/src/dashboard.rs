//! The operators' dashboard: totals, sign-ups per period, recharge and withdrawal trends.

use chrono::{DateTime, Duration as Span, Timelike, Utc};
use talktime_domain::dashboard::Stats;
use talktime_repository::dashboard;

use crate::ServiceError;
use crate::admin::AdminService;

impl AdminService {
    pub async fn stats(&self) -> Result<Stats, ServiceError> {
        Ok(dashboard::stats(self.db()).await?)
    }

    /// Users and telecallers created in `period` (`today`, `last7days`, `last30days`, `all`).
    pub async fn distribution(&self, period: &str) -> Result<(i64, i64), ServiceError> {
        let today = start_of_day(Utc::now());
        let since = match period {
            "today" => Some(today),
            "last7days" => Some(today - Span::days(6)),
            "last30days" => Some(today - Span::days(29)),
            _ => None,
        };
        Ok(dashboard::created_since(self.db(), since).await?)
    }

    /// Recharge and withdrawal amounts (paise) per UTC hour (`last24hours`) or day.
    pub async fn trends(&self, period: &str) -> Result<Vec<(DateTime<Utc>, i64, i64)>, ServiceError> {
        let (hourly, buckets) = match period {
            "last24hours" => (true, 24),
            "last7days" => (false, 7),
            _ => (false, 30),
        };
        Ok(dashboard::trends(self.db(), hourly, buckets).await?)
    }
}
fn start_of_day(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_hour(0)
        .and_then(|t| t.with_minute(0))
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(t)
}
