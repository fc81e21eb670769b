//! Chat messages. A chat session itself is a `calls` row (see [`crate::calls`]); its messages
//! are numbered by the row's `last_seq`, bumped by the statement that stores each message, so
//! numbers are gapless per session and a message can only land in an ACTIVE chat.

use chrono::{DateTime, Utc};
use talktime_domain::chat::ChatMessage;
use talktime_domain::ids::{AccountId, CallId};

use crate::{Executor, RepoError};

/// A message as stored: its number and time, and whether this `clientId` was stored before (a
/// retry: nothing new was written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub seq: i64,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub duplicate: bool,
}

/// The unique constraint a concurrent retry of the same `clientId` trips.
pub const ONCE_PER_CLIENT_ID: &str = "chat_messages_once_per_client_id";

/// Stores `body` from `sender` in the ACTIVE chat `chat` (of which `sender` is a party) under the
/// next number, and pushes the chat's inactivity deadline `inactive_secs` from now; or answers
/// the message stored before with this `client_id`. One statement. `None`: no such active chat of
/// this party (and no earlier message with this `client_id`).
pub async fn post(
    ex: impl Executor<'_>,
    chat: CallId,
    sender: AccountId,
    client_id: &str,
    body: &str,
    inactive_secs: f64,
) -> Result<Option<Posted>, RepoError> {
    let row = sqlx::query!(
        r#"WITH prior AS (SELECT seq, body, created_at FROM chat_messages
                          WHERE call_id = $1 AND sender_id = $2 AND client_id = $3),
                bumped AS (UPDATE calls SET last_seq = last_seq + 1,
                                  inactive_deadline = clock_timestamp() + make_interval(secs => $5)
                           WHERE id = $1 AND status = 'ACCEPTED' AND call_type = 'CHAT'
                             AND (user_id = $2 OR telecaller_id = $2) AND NOT EXISTS (SELECT 1 FROM prior)
                           RETURNING last_seq),
                stored AS (INSERT INTO chat_messages (call_id, seq, sender_id, client_id, body)
                           SELECT $1, last_seq, $2, $3, $4 FROM bumped RETURNING seq, body, created_at)
           SELECT seq AS "seq!", body AS "body!", created_at AS "created_at!", false AS "duplicate!" FROM stored
           UNION ALL SELECT seq, body, created_at, true FROM prior"#,
        chat.0,
        sender.0,
        client_id,
        body,
        inactive_secs
    )
    .fetch_optional(ex)
    .await?;
    Ok(row.map(|r| Posted { seq: r.seq, body: r.body, created_at: r.created_at, duplicate: r.duplicate }))
}

/// Up to `limit` messages of `chat` numbered after `after`, oldest first (primary key range).
pub async fn after(ex: impl Executor<'_>, chat: CallId, after: i64, limit: i64) -> Result<Vec<ChatMessage>, RepoError> {
    Ok(sqlx::query_as!(
        ChatMessage,
        r#"SELECT call_id AS "call_id: CallId", seq, sender_id AS "sender_id: AccountId", client_id, body, created_at
           FROM chat_messages WHERE call_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"#,
        chat.0,
        after,
        limit
    )
    .fetch_all(ex)
    .await?)
}

/// Whether message `seq` exists in `chat`.
pub async fn exists(ex: impl Executor<'_>, chat: CallId, seq: i64) -> Result<bool, RepoError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM chat_messages WHERE call_id = $1 AND seq = $2) AS "exists!""#,
        chat.0,
        seq
    )
    .fetch_one(ex)
    .await?)
}
