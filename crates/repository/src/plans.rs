//! Coin packs: one model of the `plans` table for users' list and admins' catalog.

use talktime_domain::ids::PlanId;
use talktime_domain::plan::Plan;

use crate::{Executor, RepoError, Tx};

/// `query_as!(Plan, …)`: `$head`, every column of a plan (written once, here), then `$tail`.
macro_rules! plan_query {
    ($head:tt, $tail:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Plan,
            $head
                + "id, amount_paise, coins, discount_hundredths, is_active, deleted_at, created_at, updated_at"
                + $tail
            $(, $arg)*
        )
    };
}

pub struct NewPlan {
    pub amount_paise: i64,
    pub coins: i64,
    pub discount_hundredths: i32,
    pub is_active: bool,
}

pub async fn create(ex: impl Executor<'_>, plan: &NewPlan) -> Result<Plan, RepoError> {
    Ok(plan_query!(
        "INSERT INTO plans (id, amount_paise, coins, discount_hundredths, is_active) VALUES ($1, $2, $3, $4, $5) \
         RETURNING ",
        "",
        PlanId::new().0,
        plan.amount_paise,
        plan.coins,
        plan.discount_hundredths,
        plan.is_active
    )
    .fetch_one(ex)
    .await?)
}

/// Active, not deleted plans by price (index `plans_listing_idx`).
pub async fn list_active(ex: impl Executor<'_>) -> Result<Vec<Plan>, RepoError> {
    Ok(plan_query!("SELECT ", " FROM plans WHERE is_active AND deleted_at IS NULL ORDER BY amount_paise, id")
        .fetch_all(ex)
        .await?)
}

/// An active, not deleted plan.
pub async fn find_active(ex: impl Executor<'_>, id: PlanId) -> Result<Option<Plan>, RepoError> {
    Ok(plan_query!("SELECT ", " FROM plans WHERE id = $1 AND is_active AND deleted_at IS NULL", id.0)
        .fetch_optional(ex)
        .await?)
}

/// How many of `ids` are plans not deleted (one query, on the primary key).
pub async fn count_existing(ex: impl Executor<'_>, ids: &[uuid::Uuid]) -> Result<i64, RepoError> {
    Ok(sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM plans WHERE id = ANY($1) AND deleted_at IS NULL"#, ids)
        .fetch_one(ex)
        .await?)
}

/// A page of the plans not deleted, active or not, by price, with their count.
pub async fn page(db: &crate::Db, limit: i64, offset: i64) -> Result<talktime_domain::page::Page<Plan>, RepoError> {
    crate::paged(
        plan_query!(
            "SELECT ",
            " FROM plans WHERE deleted_at IS NULL ORDER BY amount_paise, id LIMIT $1 OFFSET $2",
            limit,
            offset
        )
        .fetch_all(db.pool()),
        sqlx::query_scalar!("SELECT count(*) AS \"count!\" FROM plans WHERE deleted_at IS NULL").fetch_one(db.pool()),
    )
    .await
}

/// A plan not deleted, locked until the transaction ends.
pub async fn lock(tx: &mut Tx, id: PlanId) -> Result<Option<Plan>, RepoError> {
    Ok(plan_query!("SELECT ", " FROM plans WHERE id = $1 AND deleted_at IS NULL FOR UPDATE", id.0)
        .fetch_optional(&mut **tx)
        .await?)
}

/// Writes the price, coins, discount and active flag of `plan`.
pub async fn update(tx: &mut Tx, plan: &Plan) -> Result<Plan, RepoError> {
    Ok(plan_query!(
        "UPDATE plans SET amount_paise = $2, coins = $3, discount_hundredths = $4, is_active = $5, updated_at = now() \
         WHERE id = $1 RETURNING ",
        "",
        plan.id.0,
        plan.amount_paise,
        plan.coins,
        plan.discount_hundredths,
        plan.is_active
    )
    .fetch_one(&mut **tx)
    .await?)
}

/// Soft delete: the plan leaves every list; recharges keep pointing at it.
pub async fn soft_delete(tx: &mut Tx, id: PlanId) -> Result<bool, RepoError> {
    let done = sqlx::query!("UPDATE plans SET deleted_at = now(), is_active = false, updated_at = now() WHERE id = $1 AND deleted_at IS NULL", id.0)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}
