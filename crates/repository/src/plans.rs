//! Coin packs.

use chrono::{DateTime, Utc};
use talktime_domain::ids::PlanId;
use uuid::Uuid;

use crate::{Executor, RepoError};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Plan {
    #[sqlx(try_from = "Uuid")]
    pub id: PlanId,
    pub amount_paise: i64,
    pub coins: i64,
    pub discount_hundredths: i32,
    pub is_active: bool,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub struct NewPlan {
    pub amount_paise: i64,
    pub coins: i64,
    pub discount_hundredths: i32,
    pub is_active: bool,
}

pub async fn create(ex: impl Executor<'_>, plan: &NewPlan) -> Result<Plan, RepoError> {
    Ok(sqlx::query_as(
        "INSERT INTO plans (id, amount_paise, coins, discount_hundredths, is_active) VALUES ($1, $2, $3, $4, $5) \
         RETURNING id, amount_paise, coins, discount_hundredths, is_active, deleted_at, created_at",
    )
    .bind(PlanId::new().0)
    .bind(plan.amount_paise)
    .bind(plan.coins)
    .bind(plan.discount_hundredths)
    .bind(plan.is_active)
    .fetch_one(ex)
    .await?)
}

/// Active, not deleted plans by price (index `plans_listing_idx`).
pub async fn list_active(ex: impl Executor<'_>) -> Result<Vec<Plan>, RepoError> {
    Ok(sqlx::query_as(
        "SELECT id, amount_paise, coins, discount_hundredths, is_active, deleted_at, created_at FROM plans \
         WHERE is_active AND deleted_at IS NULL ORDER BY amount_paise, id",
    )
    .fetch_all(ex)
    .await?)
}

/// An active, not deleted plan.
pub async fn find_active(ex: impl Executor<'_>, id: PlanId) -> Result<Option<Plan>, RepoError> {
    Ok(sqlx::query_as(
        "SELECT id, amount_paise, coins, discount_hundredths, is_active, deleted_at, created_at FROM plans \
         WHERE id = $1 AND is_active AND deleted_at IS NULL",
    )
    .bind(id.0)
    .fetch_optional(ex)
    .await?)
}
