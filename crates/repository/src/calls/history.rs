//! What calls leave behind: each side's history, the admins' list, and the feedback both sides
//! gave.

use talktime_domain::account::Avatar;
use talktime_domain::call::Feedback;
use talktime_domain::call::HistoryRow;
use talktime_domain::call::{AdminCallRow, CallFigures};
use talktime_domain::call::{CallStatus, CallType, EndReason};
use talktime_domain::ids::{AccountId, CallId};

use crate::{Executor, RepoError};

/// `query_as!(HistoryRow, …)`: one side's calls with `$coins` as its coins, joined to the peer
/// on `$peer_and_where`, newest first, a page (`$2` rows from `$3`).
macro_rules! history_query {
    ($coins:tt, $peer_and_where:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            HistoryRow,
            r#"SELECT c.id AS "id: CallId", c.call_type AS "call_type: CallType", c.status AS "status: CallStatus", c.created_at,
                 c.accepted_at, c.ended_at, c.duration_seconds, "#
                + $coins
                + r#" AS coins, c.end_reason AS "end_reason: EndReason", p.id AS "peer_id: AccountId", p.name AS peer_name,
                   p.profile AS "peer_profile: Avatar" FROM calls c JOIN accounts p ON p.id = "#
                + $peer_and_where
                + " ORDER BY c.created_at DESC, c.id DESC LIMIT $2 OFFSET $3"
            $(, $arg)*
        )
    };
}

/// One side's calls (or, with `chats`, chat sessions), newest first, with the peer joined in the
/// same query (`limit + 1` rows).
pub async fn history(
    ex: impl Executor<'_>,
    account: AccountId,
    as_user: bool,
    chats: bool,
    limit: i64,
    offset: i64,
) -> Result<Vec<HistoryRow>, RepoError> {
    // Four statements (the peer and the coins are the other side's; chats have partial indexes
    // of their own), each checked at compile time.
    let (a, n, o) = (account.0, limit + 1, offset);
    let rows = match (as_user, chats) {
        (true, false) => {
            history_query!("c.coins_spent", "c.telecaller_id WHERE c.user_id = $1 AND c.call_type <> 'CHAT'", a, n, o)
                .fetch_all(ex)
                .await?
        }
        (false, false) => {
            history_query!("c.coins_earned", "c.user_id WHERE c.telecaller_id = $1 AND c.call_type <> 'CHAT'", a, n, o)
                .fetch_all(ex)
                .await?
        }
        (true, true) => {
            history_query!("c.coins_spent", "c.telecaller_id WHERE c.user_id = $1 AND c.call_type = 'CHAT'", a, n, o)
                .fetch_all(ex)
                .await?
        }
        (false, true) => {
            history_query!("c.coins_earned", "c.user_id WHERE c.telecaller_id = $1 AND c.call_type = 'CHAT'", a, n, o)
                .fetch_all(ex)
                .await?
        }
    };
    Ok(rows)
}

/// Feedback, once per side (`false` when this side already gave it).
pub async fn add_feedback(
    ex: impl Executor<'_>,
    call: CallId,
    author: AccountId,
    rating: Option<i32>,
    comment: Option<&str>,
    counts: bool,
) -> Result<bool, RepoError> {
    let done = sqlx::query!("INSERT INTO call_feedback (call_id, author_id, rating, comment, counts) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING", call.0, author.0, rating, comment, counts)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The feedback both parties gave on a call (none, one or two rows; primary key lookup).
pub async fn feedback_on(ex: impl Executor<'_>, call: CallId) -> Result<Vec<Feedback>, RepoError> {
    Ok(sqlx::query_as!(
        Feedback,
        r#"SELECT author_id AS "author_id: AccountId", rating, comment, hidden, created_at FROM call_feedback WHERE call_id = $1"#,
        call.0
    )
    .fetch_all(ex)
    .await?)
}

/// Calls per status, calls ever created, and calls settled through the ledger.
pub async fn figures(ex: &sqlx::PgPool) -> Result<CallFigures, RepoError> {
    let by_status = sqlx::query!(
        r#"SELECT status AS "status: CallStatus", count(*) AS "count!" FROM calls GROUP BY status ORDER BY status"#
    )
    .fetch_all(ex)
    .await?
    .into_iter()
    .map(|r| (r.status, r.count))
    .collect();
    let totals = sqlx::query!(
        r#"SELECT (SELECT count(*) FROM calls) AS "setups!",
                  (SELECT count(*) FROM journals WHERE cause IN ('CALL', 'CHAT')) AS "settlements!""#
    )
    .fetch_one(ex)
    .await?;
    Ok(CallFigures { by_status, setups: totals.setups, settlements: totals.settlements })
}

pub async fn admin_page(
    db: &crate::Db,
    status: Option<CallStatus>,
    chats: bool,
    limit: i64,
    offset: i64,
) -> Result<talktime_domain::page::Page<AdminCallRow>, RepoError> {
    let status = status.map(CallStatus::as_str);
    crate::paged(
        sqlx::query_as!(AdminCallRow, "SELECT c.id AS \"id: CallId\", c.user_id AS \"user_id: AccountId\", u.name AS user_name, \
         c.telecaller_id AS \"telecaller_id: AccountId\", t.name AS telecaller_name, c.call_type AS \"call_type: CallType\", c.status AS \"status: CallStatus\", \
         c.end_reason AS \"end_reason: EndReason\", c.user_rate, c.created_at, c.accepted_at, c.ended_at, c.duration_seconds, c.coins_spent, c.coins_earned, \
         CASE WHEN c.status = 'ACCEPTED' THEN COALESCE(floor(extract(epoch FROM LEAST(now(), c.billing_deadline) - c.connected_at))::bigint, 0) END \
         AS elapsed_seconds \
         FROM calls c JOIN accounts u ON u.id = c.user_id JOIN accounts t ON t.id = c.telecaller_id \
         WHERE ($1::text IS NULL OR c.status = $1) AND (c.call_type = 'CHAT') = $4 ORDER BY c.created_at DESC, c.id DESC LIMIT $2 OFFSET $3", status, limit, offset, chats)
    .fetch_all(db.pool()),
        sqlx::query_scalar!("SELECT count(*) AS \"count!\" FROM calls WHERE ($1::text IS NULL OR status = $1) AND (call_type = 'CHAT') = $2", status, chats)
            .fetch_one(db.pool()),
    )
    .await
}

/// Hides or shows one side's feedback on a call; answers its rating when that changed anything
/// (`Some(None)`: changed, no rating), `None` when it already was so or there is no such feedback.
pub async fn set_feedback_hidden(
    ex: impl Executor<'_>,
    call: CallId,
    author: AccountId,
    hidden: bool,
) -> Result<Option<Option<i32>>, RepoError> {
    let changed: Option<Option<i32>> = sqlx::query_scalar!(
        "UPDATE call_feedback SET hidden = $3 WHERE call_id = $1 AND author_id = $2 AND hidden <> $3 \
         RETURNING CASE WHEN counts THEN rating END",
        call.0,
        author.0,
        hidden
    )
    .fetch_optional(ex)
    .await?;
    Ok(changed)
}
