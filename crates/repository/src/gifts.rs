//! Gifts: the catalogue and every gift sent (its coins move in a `GIFT` journal, posted by the
//! services in the same transaction as the row).

use chrono::{DateTime, Utc};
use talktime_domain::gift::{Gift, GiftSent, TopGift};
use talktime_domain::ids::{AccountId, CallId, GiftId, GiftSendId};
use talktime_domain::page::Page;

use crate::{Executor, RepoError, Tx};

macro_rules! gift_query {
    ($head:tt, $tail:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Gift,
            $head + r#"id AS "id: GiftId", name, icon, coins, active, created_at, updated_at"# + $tail
            $(, $arg)*
        )
    };
}

macro_rules! sent_query {
    ($tail:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            GiftSent,
            r#"SELECT s.id AS "id: GiftSendId", s.gift_id AS "gift_id: GiftId", g.name, s.call_id AS "call_id: CallId",
                      s.user_id AS "user_id: AccountId", s.telecaller_id AS "telecaller_id: AccountId", s.coins, s.earned,
                      s.created_at
               FROM gift_sends s JOIN gifts g ON g.id = s.gift_id "# + $tail
            $(, $arg)*
        )
    };
}

/// Active gifts, cheapest first (index `gifts_active_idx`).
pub async fn active(ex: impl Executor<'_>) -> Result<Vec<Gift>, RepoError> {
    Ok(gift_query!("SELECT ", " FROM gifts WHERE active ORDER BY coins, id").fetch_all(ex).await?)
}

/// Every gift, for admins, newest first.
pub async fn page(db: &crate::Db, limit: i64, offset: i64) -> Result<Page<Gift>, RepoError> {
    crate::paged(
        gift_query!("SELECT ", " FROM gifts ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2", limit, offset)
            .fetch_all(db.pool()),
        sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM gifts"#).fetch_one(db.pool()),
    )
    .await
}

pub async fn find(ex: impl Executor<'_>, id: GiftId) -> Result<Option<Gift>, RepoError> {
    Ok(gift_query!("SELECT ", " FROM gifts WHERE id = $1", id.0).fetch_optional(ex).await?)
}

pub async fn insert(ex: impl Executor<'_>, name: &str, icon: &str, coins: i64) -> Result<Gift, RepoError> {
    Ok(gift_query!(
        "INSERT INTO gifts (id, name, icon, coins) VALUES ($1, $2, $3, $4) RETURNING ",
        "",
        GiftId::new().0,
        name,
        icon,
        coins
    )
    .fetch_one(ex)
    .await?)
}

/// Changes what is given (`None`: unchanged); `None` when there is no such gift.
pub async fn update(
    ex: impl Executor<'_>,
    id: GiftId,
    name: Option<&str>,
    icon: Option<&str>,
    coins: Option<i64>,
    active: Option<bool>,
) -> Result<Option<Gift>, RepoError> {
    Ok(gift_query!(
        "UPDATE gifts SET name = coalesce($2, name), icon = coalesce($3, icon), coins = coalesce($4, coins), \
         active = coalesce($5, active), updated_at = now() WHERE id = $1 RETURNING ",
        "",
        id.0,
        name,
        icon,
        coins,
        active
    )
    .fetch_optional(ex)
    .await?)
}

/// What removing a gift did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removed {
    Deleted,
    /// It was sent before: kept for the histories, and no longer offered.
    Deactivated,
    NotFound,
}

/// Deletes a gift never sent; deactivates one that was (one statement each way).
pub async fn remove(tx: &mut Tx, id: GiftId) -> Result<Removed, RepoError> {
    let deleted = sqlx::query!(
        "DELETE FROM gifts WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM gift_sends WHERE gift_id = $1)",
        id.0
    )
    .execute(&mut **tx)
    .await?;
    if deleted.rows_affected() == 1 {
        return Ok(Removed::Deleted);
    }
    let kept = sqlx::query!("UPDATE gifts SET active = false, updated_at = now() WHERE id = $1", id.0)
        .execute(&mut **tx)
        .await?;
    Ok(if kept.rows_affected() == 1 { Removed::Deactivated } else { Removed::NotFound })
}

/// The gift `user` sent with `client_id`, if any.
pub async fn sent_by_client_id(
    ex: impl Executor<'_>,
    user: AccountId,
    client_id: &str,
) -> Result<Option<GiftSent>, RepoError> {
    Ok(sent_query!("WHERE s.user_id = $1 AND s.client_id = $2", user.0, client_id).fetch_optional(ex).await?)
}

pub struct NewSend<'a> {
    pub id: GiftSendId,
    pub gift: GiftId,
    pub call: CallId,
    pub user: AccountId,
    pub telecaller: AccountId,
    pub client_id: &'a str,
    pub coins: i64,
    pub promo_coins: i64,
    pub earned: i64,
}

/// Records a gift sent; `false` when this `client_id` of hers was recorded already.
pub async fn insert_send(tx: &mut Tx, s: &NewSend<'_>) -> Result<bool, RepoError> {
    let done = sqlx::query!(
        "INSERT INTO gift_sends (id, gift_id, call_id, user_id, telecaller_id, client_id, coins, promo_coins, earned) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (user_id, client_id) DO NOTHING",
        s.id.0,
        s.gift.0,
        s.call.0,
        s.user.0,
        s.telecaller.0,
        s.client_id,
        s.coins,
        s.promo_coins,
        s.earned
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The gifts sent during one call or chat, in order.
pub async fn sent_in(ex: impl Executor<'_>, call: CallId) -> Result<Vec<GiftSent>, RepoError> {
    Ok(sent_query!("WHERE s.call_id = $1 ORDER BY s.created_at, s.id", call.0).fetch_all(ex).await?)
}

/// A page of the gifts a user sent (`sent`) or a telecaller received, newest first (indexes
/// `gift_sends_user_idx`, `gift_sends_telecaller_idx`).
pub async fn of_account(
    ex: impl Executor<'_>,
    account: AccountId,
    sent: bool,
    limit: i64,
    offset: i64,
) -> Result<Vec<GiftSent>, RepoError> {
    let rows = if sent {
        sent_query!(
            "WHERE s.user_id = $1 ORDER BY s.created_at DESC, s.id DESC LIMIT $2 OFFSET $3",
            account.0,
            limit,
            offset
        )
        .fetch_all(ex)
        .await?
    } else {
        sent_query!(
            "WHERE s.telecaller_id = $1 ORDER BY s.created_at DESC, s.id DESC LIMIT $2 OFFSET $3",
            account.0,
            limit,
            offset
        )
        .fetch_all(ex)
        .await?
    };
    Ok(rows)
}

/// Gift figures since `since`: coins spent, what the platform kept, gifts sent, and the top
/// `top` gifts by coins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GiftFigures {
    pub coins: i64,
    pub revenue: i64,
    pub sent: i64,
    pub top: Vec<TopGift>,
}

pub async fn figures(ex: &sqlx::PgPool, since: DateTime<Utc>, top: i64) -> Result<GiftFigures, RepoError> {
    let totals = sqlx::query!(
        r#"SELECT coalesce(sum(coins), 0)::bigint AS "coins!", coalesce(sum(coins - earned), 0)::bigint AS "revenue!",
                  count(*) AS "sent!" FROM gift_sends WHERE created_at >= $1"#,
        since
    )
    .fetch_one(ex)
    .await?;
    let top = sqlx::query_as!(
        TopGift,
        r#"SELECT s.gift_id AS "gift_id: GiftId", g.name, count(*) AS "sent!", sum(s.coins)::bigint AS "coins!"
           FROM gift_sends s JOIN gifts g ON g.id = s.gift_id WHERE s.created_at >= $1
           GROUP BY s.gift_id, g.name ORDER BY 4 DESC, 3 DESC LIMIT $2"#,
        since,
        top
    )
    .fetch_all(ex)
    .await?;
    Ok(GiftFigures { coins: totals.coins, revenue: totals.revenue, sent: totals.sent, top })
}
