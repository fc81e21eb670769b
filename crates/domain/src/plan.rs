//! Coin packs users buy.

use chrono::{DateTime, Utc};

use crate::ids::PlanId;

/// A coin pack (one model for users' list and admins' catalog).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub id: PlanId,
    pub amount_paise: i64,
    pub coins: i64,
    /// Hundredths of a percent (12.5 % is 1250).
    pub discount_hundredths: i32,
    pub is_active: bool,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
