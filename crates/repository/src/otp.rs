//! One-time-code challenges: one row per phone, replaced by each new code.

use chrono::{DateTime, Utc};

use crate::{Executor, RepoError};

/// Outcome of storing a new code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issue {
    /// Stored; `sent_at` identifies this challenge for [`withdraw`].
    Stored { sent_at: DateTime<Utc> },
    /// The previous code is younger than the cooldown; retry after this many seconds.
    CoolingDown { retry_after_secs: i64 },
}

/// Stores `code_hash` as the phone's live code unless the previous one was sent less than
/// `cooldown_secs` ago. One statement, so two racing sends yield one code.
pub async fn issue(
    conn: &mut sqlx::PgConnection,
    phone: &str,
    code_hash: &[u8],
    ttl_secs: i64,
    cooldown_secs: i64,
) -> Result<Issue, RepoError> {
    let stored: Option<DateTime<Utc>> = sqlx::query_scalar!(
        "INSERT INTO otp_challenges (phone, code_hash, attempts, sent_at, expires_at, consumed_at) \
         VALUES ($1, $2, 0, clock_timestamp(), clock_timestamp() + make_interval(secs => $3::double precision), NULL) \
         ON CONFLICT (phone) DO UPDATE SET code_hash = EXCLUDED.code_hash, attempts = 0, \
             sent_at = EXCLUDED.sent_at, expires_at = EXCLUDED.expires_at, consumed_at = NULL \
         WHERE otp_challenges.sent_at <= clock_timestamp() - make_interval(secs => $4::double precision) \
         RETURNING sent_at",
        phone,
        code_hash,
        ttl_secs as f64,
        cooldown_secs as f64
    )
    .fetch_optional(&mut *conn)
    .await?;
    match stored {
        Some(sent_at) => Ok(Issue::Stored { sent_at }),
        // Lost a race with another send inside the cooldown.
        None => Ok(Issue::CoolingDown {
            retry_after_secs: cooldown_remaining(&mut *conn, phone, cooldown_secs).await?.unwrap_or(1),
        }),
    }
}

/// Removes the challenge stored at `sent_at` (used when the SMS could not be sent, so no usable
/// code is left behind). A newer challenge is left alone.
pub async fn withdraw(ex: impl Executor<'_>, phone: &str, sent_at: DateTime<Utc>) -> Result<(), RepoError> {
    sqlx::query!("DELETE FROM otp_challenges WHERE phone = $1 AND sent_at = $2", phone, sent_at).execute(ex).await?;
    Ok(())
}

/// A verification attempt that was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// Wrong attempts so far, this one included.
    pub attempts: i32,
    /// The code matched and the challenge is now consumed.
    pub matched: bool,
}

/// Tries `code_hash` against the live challenge in one conditional update: a match consumes it,
/// a miss counts one attempt. `None` when there is no live challenge with tries left (then ask
/// [`state`] why).
pub async fn attempt(
    ex: impl Executor<'_>,
    phone: &str,
    code_hash: &[u8],
    max_attempts: i32,
) -> Result<Option<Attempt>, RepoError> {
    let row = sqlx::query!(
        r#"UPDATE otp_challenges SET
             attempts = attempts + CASE WHEN code_hash = $2 THEN 0 ELSE 1 END,
             consumed_at = CASE WHEN code_hash = $2 THEN clock_timestamp() END
         WHERE phone = $1 AND consumed_at IS NULL AND expires_at > clock_timestamp() AND attempts < $3
         RETURNING attempts, consumed_at IS NOT NULL AS "matched!""#,
        phone,
        code_hash,
        max_attempts
    )
    .fetch_optional(ex)
    .await?;
    Ok(row.map(|r| Attempt { attempts: r.attempts, matched: r.matched }))
}

/// Why a challenge cannot be tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    Missing,
    Consumed,
    Exhausted,
    Expired,
}

pub async fn state(ex: impl Executor<'_>, phone: &str, max_attempts: i32) -> Result<Unusable, RepoError> {
    let row = sqlx::query!(
        r#"SELECT consumed_at IS NOT NULL AS "consumed!", attempts >= $2 AS "exhausted!"
         FROM otp_challenges WHERE phone = $1"#,
        phone,
        max_attempts
    )
    .fetch_optional(ex)
    .await?
    .map(|r| (r.consumed, r.exhausted));
    Ok(match row {
        None => Unusable::Missing,
        Some((true, _)) => Unusable::Consumed,
        Some((false, true)) => Unusable::Exhausted,
        // Not consumed, tries left: it can only have expired.
        Some((false, false)) => Unusable::Expired,
    })
}

/// Seconds until a new code may be sent to `phone`, if a cooldown is running.
pub async fn cooldown_remaining(
    ex: impl Executor<'_>,
    phone: &str,
    cooldown_secs: i64,
) -> Result<Option<i64>, RepoError> {
    Ok(sqlx::query_scalar!(r#"SELECT GREATEST(1, ceil(extract(epoch FROM sent_at + make_interval(secs => $2::double precision) - clock_timestamp())))::bigint AS "remaining!"
         FROM otp_challenges WHERE phone = $1 AND sent_at > clock_timestamp() - make_interval(secs => $2::double precision)"#, phone, cooldown_secs as f64)
    .fetch_optional(ex)
    .await?)
}
