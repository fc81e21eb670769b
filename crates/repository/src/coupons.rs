//! Coupons and their redemptions. A redemption is taken by a conditional update of the coupon's
//! `used` counter (so the last one goes to exactly one order), consumed once at capture, and
//! given back by a trigger when its order fails or expires.

use talktime_domain::coupon::{Coupon, CouponKind, CouponSettings, Redemption, RedemptionStatus};
use talktime_domain::ids::{AccountId, TransactionId};
use talktime_domain::page::Page;
use uuid::Uuid;

use crate::{Executor, RepoError, Tx};

/// `query_as!(Coupon, …)`: `$head`, every column of `coupons` (written once, here), `$tail`.
macro_rules! coupon_query {
    ($head:tt, $tail:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Coupon,
            $head
                + r#"id, code, kind AS "kind: CouponKind", value, max_redemptions, per_user_limit, valid_from,
                     valid_until, new_users_only, plan_ids, is_active, used, created_at, updated_at"#
                + $tail
            $(, $arg)*
        )
    };
}

/// The unique index on a coupon's code (case-insensitive).
pub const CODE_TAKEN: &str = "coupons_code_key";

/// Creates the coupon `id`, or replaces its settings (its `used` stays).
pub async fn save(tx: &mut Tx, id: Uuid, s: &CouponSettings) -> Result<Coupon, RepoError> {
    Ok(coupon_query!(
        "INSERT INTO coupons (id, code, kind, value, max_redemptions, per_user_limit, valid_from, valid_until, \
         new_users_only, plan_ids, is_active) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (id) DO UPDATE SET code = EXCLUDED.code, kind = EXCLUDED.kind, value = EXCLUDED.value, \
         max_redemptions = EXCLUDED.max_redemptions, per_user_limit = EXCLUDED.per_user_limit, \
         valid_from = EXCLUDED.valid_from, valid_until = EXCLUDED.valid_until, new_users_only = EXCLUDED.new_users_only, \
         plan_ids = EXCLUDED.plan_ids, is_active = EXCLUDED.is_active, updated_at = now() RETURNING ",
        "",
        id,
        s.code,
        s.kind.as_str(),
        s.value,
        s.max_redemptions,
        s.per_user_limit,
        s.valid_from,
        s.valid_until,
        s.new_users_only,
        &s.plan_ids,
        s.is_active
    )
    .fetch_one(&mut **tx)
    .await?)
}

pub async fn lock(tx: &mut Tx, id: Uuid) -> Result<Option<Coupon>, RepoError> {
    Ok(coupon_query!("SELECT ", " FROM coupons WHERE id = $1 FOR UPDATE", id).fetch_optional(&mut **tx).await?)
}

pub async fn find(ex: impl Executor<'_>, id: Uuid) -> Result<Option<Coupon>, RepoError> {
    Ok(coupon_query!("SELECT ", " FROM coupons WHERE id = $1", id).fetch_optional(ex).await?)
}

/// By code, whatever its case (index `coupons_code_key`).
pub async fn find_by_code(ex: impl Executor<'_>, code: &str) -> Result<Option<Coupon>, RepoError> {
    Ok(coupon_query!("SELECT ", " FROM coupons WHERE upper(code) = upper($1)", code).fetch_optional(ex).await?)
}

/// Coupons, newest first, with the total.
pub async fn page(db: &crate::Db, limit: i64, offset: i64) -> Result<Page<Coupon>, RepoError> {
    crate::paged(
        coupon_query!("SELECT ", " FROM coupons ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2", limit, offset)
            .fetch_all(db.pool()),
        sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM coupons"#).fetch_one(db.pool()),
    )
    .await
}

/// The user's redemptions of the coupon, reserved or consumed.
pub async fn used_by(ex: impl Executor<'_>, coupon: Uuid, account: AccountId) -> Result<i64, RepoError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM coupon_redemptions
           WHERE coupon_id = $1 AND account_id = $2 AND status <> 'RELEASED'"#,
        coupon,
        account.0
    )
    .fetch_one(ex)
    .await?)
}

/// One redemption taken for an order.
#[derive(Debug, Clone, Copy)]
pub struct Reservation {
    pub coupon: Uuid,
    pub account: AccountId,
    pub transaction: TransactionId,
    pub discount_paise: i64,
    pub bonus_coins: i64,
}

/// Takes one of the coupon's redemptions for an order: `false` (the caller rolls back) when none
/// is left, the coupon is inactive, or the user has used her share. The coupon row stays locked
/// until the transaction ends, so her count and the total are decided one order at a time.
pub async fn reserve(tx: &mut Tx, r: &Reservation, per_user_limit: i32) -> Result<bool, RepoError> {
    let taken = sqlx::query_scalar!(
        "UPDATE coupons SET used = used + 1, updated_at = now() \
         WHERE id = $1 AND is_active AND (max_redemptions IS NULL OR used < max_redemptions) RETURNING id",
        r.coupon
    )
    .fetch_optional(&mut **tx)
    .await?;
    if taken.is_none() || used_by(&mut **tx, r.coupon, r.account).await? >= i64::from(per_user_limit) {
        return Ok(false);
    }
    sqlx::query!(
        "INSERT INTO coupon_redemptions (id, coupon_id, account_id, transaction_id, status, discount_paise, bonus_coins) \
         VALUES ($1, $2, $3, $4, 'RESERVED', $5, $6)",
        Uuid::now_v7(),
        r.coupon,
        r.account.0,
        r.transaction.0,
        r.discount_paise,
        r.bonus_coins
    )
    .execute(&mut **tx)
    .await?;
    Ok(true)
}

/// Consumes the order's reserved redemption at capture: the coins it promised, `None` when the
/// order had none (or it was consumed or released already).
pub async fn redeem(tx: &mut Tx, transaction: TransactionId) -> Result<Option<i64>, RepoError> {
    Ok(sqlx::query_scalar!(
        "UPDATE coupon_redemptions SET status = 'REDEEMED', updated_at = clock_timestamp() \
         WHERE transaction_id = $1 AND status = 'RESERVED' RETURNING bonus_coins",
        transaction.0
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// A coupon's redemptions, newest first, with the total (index `coupon_redemptions_coupon_idx`).
pub async fn redemptions(db: &crate::Db, coupon: Uuid, limit: i64, offset: i64) -> Result<Page<Redemption>, RepoError> {
    crate::paged(
        sqlx::query_as!(
            Redemption,
            r#"SELECT id, account_id AS "account_id: AccountId", transaction_id AS "transaction_id: TransactionId",
                      status AS "status: RedemptionStatus", discount_paise, bonus_coins, created_at, updated_at
               FROM coupon_redemptions WHERE coupon_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"#,
            coupon,
            limit,
            offset
        )
        .fetch_all(db.pool()),
        sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM coupon_redemptions WHERE coupon_id = $1"#, coupon)
            .fetch_one(db.pool()),
    )
    .await
}
