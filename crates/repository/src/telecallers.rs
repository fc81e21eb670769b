//! Telecallers as users see them: listings and favorites.

use talktime_domain::account::{AccountStatus, ApprovalStatus, Avatar, Gender, Language};
use talktime_domain::account::{FavoriteAdded, TelecallerCard};
use talktime_domain::ids::AccountId;
use talktime_domain::pricing::HostRates;
use talktime_domain::rating::RatingTally;
use uuid::Uuid;

use crate::{Executor, RepoError, Tx};

/// A card as read, with her rating tally and the platform's; `alerts` only in favorites.
struct CardRow {
    id: AccountId,
    name: Option<String>,
    profile: Option<Avatar>,
    language: Option<Language>,
    about: String,
    rating_sum: i64,
    rating_count: i64,
    platform_sum: i64,
    platform_count: i64,
    audio_rate: Option<i64>,
    chat_rate: Option<i64>,
    video_rate: Option<i64>,
    alerts: Option<bool>,
}

impl From<CardRow> for TelecallerCard {
    fn from(row: CardRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            profile: row.profile,
            language: row.language,
            about: row.about,
            rating: RatingTally {
                sum: row.rating_sum,
                count: row.rating_count,
                platform_sum: row.platform_sum,
                platform_count: row.platform_count,
            },
            rates: HostRates { audio: row.audio_rate, video: row.video_rate, chat: row.chat_rate },
        }
    }
}

/// `query_as!(CardRow, …)`: `$head`, the card's columns (written once, here; `a`: accounts, `t`:
/// her application, `r`: her tally, `p`: the platform's), then `$tail`.
macro_rules! card_query {
    ($head:tt, $tail:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            CardRow,
            $head
                + r#"a.id AS "id: AccountId", a.name, a.profile AS "profile: Avatar",
                     a.language AS "language: Language", t.about, coalesce(r.rating_sum, 0) AS "rating_sum!",
                     coalesce(r.rating_count, 0) AS "rating_count!", p.rating_sum AS platform_sum,
                     p.rating_count AS platform_count, t.audio_rate, t.video_rate, t.chat_rate"#
                + $tail
            $(, $arg)*
        )
    };
}

/// The listable ones among `ids` (approved, active), in no order. One query whatever the number
/// of ids (primary-key lookups).
pub async fn listable_among(ex: impl Executor<'_>, ids: &[Uuid]) -> Result<Vec<TelecallerCard>, RepoError> {
    let rows = card_query!(
        "SELECT ",
        r#", NULL::boolean AS alerts FROM accounts a
           JOIN telecaller_profiles t ON t.account_id = a.id AND t.approval_status = 'APPROVED'
           LEFT JOIN telecaller_ratings r ON r.telecaller_id = a.id CROSS JOIN rating_totals p
           WHERE a.id = ANY($1) AND a.status = 'ACTIVE' AND a.role = 'TELECALLER'"#,
        ids
    )
    .fetch_all(ex)
    .await?;
    Ok(rows.into_iter().map(TelecallerCard::from).collect())
}

/// The telecallers a user saved (primary-key range of `favorites`).
pub async fn favorite_ids(ex: impl Executor<'_>, user: AccountId) -> Result<Vec<AccountId>, RepoError> {
    let ids: Vec<Uuid> =
        sqlx::query_scalar!("SELECT telecaller_id FROM favorites WHERE user_id = $1", user.0).fetch_all(ex).await?;
    Ok(ids.into_iter().map(AccountId).collect())
}

/// Whether `id` is a telecaller, and if so whether users may see and call her.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    NotATelecaller,
    Unavailable,
    Listable,
}

pub async fn standing(ex: impl Executor<'_>, id: AccountId) -> Result<Standing, RepoError> {
    let row = sqlx::query_scalar!(
        r#"SELECT (a.status = 'ACTIVE' AND t.approval_status = 'APPROVED') AS "listable!" FROM accounts a
           JOIN telecaller_profiles t ON t.account_id = a.id WHERE a.id = $1 AND a.role = 'TELECALLER'"#,
        id.0
    )
    .fetch_optional(ex)
    .await?;
    Ok(match row {
        None => Standing::NotATelecaller,
        Some(false) => Standing::Unavailable,
        Some(true) => Standing::Listable,
    })
}

/// Saves a favorite unless the user has `cap` already. The user's account row is locked for the
/// count, so concurrent adds by one user queue up and the cap holds exactly.
pub async fn add_favorite(
    tx: &mut crate::Tx,
    user: AccountId,
    telecaller: AccountId,
    cap: i64,
) -> Result<FavoriteAdded, RepoError> {
    sqlx::query!("SELECT 1 AS locked FROM accounts WHERE id = $1 FOR UPDATE", user.0).fetch_optional(&mut **tx).await?;
    let saved = sqlx::query!(
        r#"SELECT count(*) AS "count!", coalesce(bool_or(telecaller_id = $2), false) AS "present!"
           FROM favorites WHERE user_id = $1"#,
        user.0,
        telecaller.0
    )
    .fetch_one(&mut **tx)
    .await?;
    let (count, present) = (saved.count, saved.present);
    if present {
        return Ok(FavoriteAdded::AlreadySaved);
    }
    if count >= cap {
        return Ok(FavoriteAdded::Full);
    }
    sqlx::query!("INSERT INTO favorites (user_id, telecaller_id) VALUES ($1, $2)", user.0, telecaller.0)
        .execute(&mut **tx)
        .await?;
    Ok(FavoriteAdded::Added)
}

pub async fn remove_favorite(ex: impl Executor<'_>, user: AccountId, telecaller: AccountId) -> Result<(), RepoError> {
    sqlx::query!("DELETE FROM favorites WHERE user_id = $1 AND telecaller_id = $2", user.0, telecaller.0)
        .execute(ex)
        .await?;
    Ok(())
}

pub async fn count_favorites(ex: impl Executor<'_>, user: AccountId) -> Result<i64, RepoError> {
    Ok(sqlx::query_scalar!("SELECT count(*) AS \"count!\" FROM favorites WHERE user_id = $1", user.0)
        .fetch_one(ex)
        .await?)
}

/// A page of the user's listable favorites, newest saved first (index `favorites_listing_idx`).
/// Fetches `limit + 1` rows so the caller knows whether more follow.
pub async fn favorites_page(
    ex: impl Executor<'_>,
    user: AccountId,
    limit: i64,
    offset: i64,
) -> Result<Vec<(TelecallerCard, bool)>, RepoError> {
    let rows = card_query!(
        "SELECT ",
        r#", f.alerts AS "alerts?" FROM favorites f
           JOIN accounts a ON a.id = f.telecaller_id AND a.status = 'ACTIVE' AND a.role = 'TELECALLER'
           JOIN telecaller_profiles t ON t.account_id = a.id AND t.approval_status = 'APPROVED'
           LEFT JOIN telecaller_ratings r ON r.telecaller_id = a.id CROSS JOIN rating_totals p
           WHERE f.user_id = $1 ORDER BY f.created_at DESC, f.telecaller_id DESC LIMIT $2 OFFSET $3"#,
        user.0,
        limit + 1,
        offset
    )
    .fetch_all(ex)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let alerts = row.alerts.unwrap_or(false);
            (TelecallerCard::from(row), alerts)
        })
        .collect())
}

/// Turns a favorite's online alerts on or off; `false` when it is not a favorite.
pub async fn set_alerts(
    ex: impl Executor<'_>,
    user: AccountId,
    telecaller: AccountId,
    enabled: bool,
) -> Result<bool, RepoError> {
    let done = sqlx::query!(
        "UPDATE favorites SET alerts = $3 WHERE user_id = $1 AND telecaller_id = $2",
        user.0,
        telecaller.0,
        enabled
    )
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// PENDING → APPROVED (clearing the note), or PENDING/APPROVED → REJECTED with a note. Returns
/// the previous status, or `None` when the application was not in a state this move leaves.
pub async fn decide_application(
    tx: &mut Tx,
    telecaller: AccountId,
    approve: bool,
    note: Option<&str>,
) -> Result<Option<String>, RepoError> {
    let before = if approve {
        sqlx::query_scalar!(
            "UPDATE telecaller_profiles t SET approval_status = 'APPROVED', verification_notes = NULL, updated_at = now() \
             FROM (SELECT approval_status FROM telecaller_profiles WHERE account_id = $1 FOR UPDATE) old \
             WHERE t.account_id = $1 AND t.approval_status = 'PENDING' RETURNING old.approval_status",
            telecaller.0
        )
        .fetch_optional(&mut **tx)
        .await?
    } else {
        sqlx::query_scalar!(
            "UPDATE telecaller_profiles t SET approval_status = 'REJECTED', verification_notes = $2, updated_at = now() \
             FROM (SELECT approval_status FROM telecaller_profiles WHERE account_id = $1 FOR UPDATE) old \
             WHERE t.account_id = $1 AND t.approval_status IN ('PENDING', 'APPROVED') RETURNING old.approval_status",
            telecaller.0,
            note
        )
        .fetch_optional(&mut **tx)
        .await?
    };
    Ok(before)
}

/// Telecallers with one approval status, newest application first, with the total.
pub async fn applications_page(
    db: &crate::Db,
    approval: ApprovalStatus,
    limit: i64,
    offset: i64,
) -> Result<talktime_domain::page::Page<talktime_domain::account::ListedAccount>, RepoError> {
    let approval = approval.as_str();
    crate::paged(
        sqlx::query_as!(
            talktime_domain::account::ListedAccount,
            r#"SELECT a.id AS "id: AccountId", a.phone, a.name, a.gender AS "gender: Gender", a.language AS "language: Language",
             a.status AS "status: AccountStatus",
             t.approval_status AS "approval_status?: ApprovalStatus", a.created_at,
             coalesce(r.rating_sum, 0) AS rating_sum, coalesce(r.rating_count, 0) AS rating_count,
             p.rating_sum AS "platform_sum?", p.rating_count AS "platform_count?"
           FROM telecaller_profiles t JOIN accounts a ON a.id = t.account_id
           LEFT JOIN telecaller_ratings r ON r.telecaller_id = a.id CROSS JOIN rating_totals p
           WHERE t.approval_status = $1
           ORDER BY t.created_at DESC, t.account_id DESC LIMIT $2 OFFSET $3"#,
            approval,
            limit,
            offset
        )
        .fetch_all(db.pool()),
        sqlx::query_scalar!(
            "SELECT count(*) AS \"count!\" FROM telecaller_profiles WHERE approval_status = $1",
            approval
        )
        .fetch_one(db.pool()),
    )
    .await
}

/// Sets (or, with `None`, clears) her own commission; answers the one before, `None` when she
/// is not a telecaller.
pub async fn set_commission(
    tx: &mut crate::Tx,
    telecaller: AccountId,
    commission: Option<i32>,
) -> Result<Option<Option<i32>>, RepoError> {
    Ok(sqlx::query_scalar!(
        "WITH old AS (SELECT commission_hundredths FROM telecaller_profiles WHERE account_id = $1 FOR UPDATE) \
         UPDATE telecaller_profiles t SET commission_hundredths = $2, updated_at = now() FROM old \
         WHERE t.account_id = $1 RETURNING old.commission_hundredths",
        telecaller.0,
        commission
    )
    .fetch_optional(&mut **tx)
    .await?)
}
