//! Calls. Every transition is one conditional update from the state it leaves, so when an
//! accept, a cancel, a timeout and a disconnect race, exactly one wins.
//!
//! Longer than most modules on purpose: it is the whole state machine (ring, accept, connect,
//! end, graces, deadlines, sweeps, room cleanup), and reading its transitions side by side is
//! how their conditions are kept consistent. What calls leave behind is in [`history`].

use chrono::{DateTime, Utc};
use talktime_domain::call::Call;
use talktime_domain::call::{CallStatus, CallType, EndReason};
use talktime_domain::ids::{AccountId, CallId};
use uuid::Uuid;

use crate::{Executor, RepoError, Tx};

/// `query_as!(Call, …)`: `$head`, every column of `calls` typed as [`Call`] reads it (written
/// once, here), then `$tail`. The SQL stays a literal the compiler checks against the schema.
/// The NOT NULL columns say so (`!`): a row from a SQL function (`end_accepted_session`) has no
/// nullability the compiler can see.
macro_rules! call_query {
    ($head:tt, $tail:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Call,
            $head
                + r#"id AS "id!: CallId", user_id AS "user_id!: AccountId", telecaller_id AS "telecaller_id!: AccountId",
                  call_type AS "call_type!: CallType", status AS "status!: CallStatus",
                  end_reason AS "end_reason: EndReason", user_rate AS "user_rate!", telecaller_rate AS "telecaller_rate!",
                  commission_hundredths, created_at AS "created_at!", ring_deadline AS "ring_deadline!",
                  accepted_at, max_duration_seconds, billing_deadline, balance_low_sent AS "balance_low_sent!",
                  user_grace_deadline, telecaller_grace_deadline, ended_at, duration_seconds, coins_spent, coins_earned,
                  connected_at, media_deadline, user_joined_at, telecaller_joined_at, rung_by_push AS "rung_by_push!",
                  user_left_room_at, telecaller_left_room_at, user_media_grace_deadline, telecaller_media_grace_deadline,
                  free_seconds AS "free_seconds!", promo_spent AS "promo_spent!", free_coins AS "free_coins!",
                  inactive_deadline, last_seq AS "last_seq!", clock_timestamp() AS "now!""#
                + $tail
            $(, $arg)*
        )
    };
}

/// The partial unique indexes that keep one active call per party.
pub const ONE_ACTIVE_USER: &str = "calls_one_active_user";
pub const ONE_ACTIVE_TELECALLER: &str = "calls_one_active_telecaller";

pub struct NewCall {
    pub id: CallId,
    pub user: AccountId,
    pub telecaller: AccountId,
    pub call_type: CallType,
    pub user_rate: i64,
    pub telecaller_rate: i64,
    /// Her commission, or the platform's for this call type.
    pub commission_hundredths: i32,
    pub ring_secs: f64,
    pub rung_by_push: bool,
}

/// Puts a ringing call in, both parties locked against deletion for as long as the statement
/// (or the caller's transaction) runs: a deletion waits, then sees the call. `None` when a party
/// is gone. One round trip; the partial unique indexes refuse a second active call.
pub async fn insert_ringing(ex: impl Executor<'_>, call: &NewCall) -> Result<Option<Call>, RepoError> {
    Ok(call_query!(
        "WITH parties AS (SELECT count(*) AS n FROM (SELECT id FROM accounts WHERE id IN ($2, $3) AND status <> 'DELETED'
                                                    FOR KEY SHARE) locked)
         INSERT INTO calls (id, user_id, telecaller_id, call_type, status, user_rate, telecaller_rate, ring_deadline,
         rung_by_push, commission_hundredths)
         SELECT $1, $2, $3, $4, 'RINGING', $5, $6, clock_timestamp() + make_interval(secs => $7), $8, $9
         FROM parties WHERE parties.n = 2
         RETURNING ",
        "",
        call.id.0,
        call.user.0,
        call.telecaller.0,
        call.call_type.as_str(),
        call.user_rate,
        call.telecaller_rate,
        call.ring_secs,
        call.rung_by_push,
        call.commission_hundredths
    )
    .fetch_optional(ex)
    .await?)
}

/// What a call's admission reads, in one round trip: whether either party has a live call (the
/// partial unique indexes still decide races); how often this user rang this telecaller
/// unanswered (calls never accepted: missed, rejected, cancelled, or still ringing) within the
/// window and how many calls to her rang through a push in the last hour (on the history
/// indexes); whether the user has had a billed call (a completed one that lasted a second or
/// more: no more free seconds); and what the user can spend (wallet and promotional wallet) and
/// owes after a lost chargeback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    pub user_busy: bool,
    pub telecaller_busy: bool,
    pub unanswered: i64,
    pub push_rings: i64,
    pub billed_before: bool,
    pub balance: i64,
    pub owed: i64,
}

pub async fn admission(
    ex: impl Executor<'_>,
    user: AccountId,
    telecaller: AccountId,
    window_secs: f64,
) -> Result<Admission, RepoError> {
    Ok(sqlx::query_as!(
        Admission,
        r#"SELECT EXISTS (SELECT 1 FROM calls WHERE status IN ('RINGING', 'ACCEPTED') AND user_id = $1)
                  OR EXISTS (SELECT 1 FROM calls WHERE status IN ('RINGING', 'ACCEPTED') AND telecaller_id = $1) AS "user_busy!",
                  EXISTS (SELECT 1 FROM calls WHERE status IN ('RINGING', 'ACCEPTED') AND telecaller_id = $2)
                  OR EXISTS (SELECT 1 FROM calls WHERE status IN ('RINGING', 'ACCEPTED') AND user_id = $2) AS "telecaller_busy!",
                  (SELECT count(*) FROM calls WHERE user_id = $1 AND telecaller_id = $2
                   AND created_at > clock_timestamp() - make_interval(secs => $3) AND accepted_at IS NULL) AS "unanswered!",
                  (SELECT count(*) FROM calls WHERE telecaller_id = $2 AND rung_by_push
                   AND created_at > clock_timestamp() - interval '1 hour') AS "push_rings!",
                  EXISTS (SELECT 1 FROM calls WHERE user_id = $1 AND status = 'COMPLETED' AND duration_seconds > 0)
                    AS "billed_before!",
                  w.balance AS "balance!", w.owed AS "owed!"
           FROM (SELECT coalesce(sum(balance), 0)::bigint AS balance,
                        coalesce(-sum(balance) FILTER (WHERE kind = 'DISPUTE_DEBT'), 0)::bigint AS owed
                 FROM ledger_accounts WHERE owner_id = $1) w"#,
        user.0,
        telecaller.0,
        window_secs
    )
    .fetch_one(ex)
    .await?)
}

pub async fn find(ex: impl Executor<'_>, id: CallId) -> Result<Option<Call>, RepoError> {
    Ok(call_query!("SELECT ", " FROM calls WHERE id = $1", id.0).fetch_optional(ex).await?)
}

/// Locks the call for a transition; `None` if it is locked by someone else right now or absent.
pub async fn lock(tx: &mut Tx, id: CallId) -> Result<Option<Call>, RepoError> {
    Ok(call_query!("SELECT ", " FROM calls WHERE id = $1 FOR UPDATE", id.0).fetch_optional(&mut **tx).await?)
}

/// The account's RINGING or ACCEPTED call, as user or telecaller. Each side is its own plain
/// scan of its partial unique index (an `OR` would be a bitmap scan, which cannot mark the
/// entries of ended calls dead and so visits every one of them until a vacuum).
pub async fn active_for(ex: impl Executor<'_>, account: AccountId) -> Result<Option<Call>, RepoError> {
    Ok(call_query!(
        "SELECT ",
        " FROM calls WHERE id = (SELECT id FROM calls WHERE user_id = $1 AND status IN ('RINGING', 'ACCEPTED')
                                 UNION ALL
                                 SELECT id FROM calls WHERE telecaller_id = $1 AND status IN ('RINGING', 'ACCEPTED')
                                 LIMIT 1)",
        account.0
    )
    .fetch_optional(ex)
    .await?)
}

/// When an accepted call's meter starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Meter {
    /// At the accept itself.
    FromAccept,
    /// When both parties are in the room, which must happen within this many seconds.
    FromMedia { within_secs: f64 },
    /// A chat: at the accept, and it ends when no message came for this many seconds.
    Chat { inactive_secs: f64 },
}

/// RINGING → ACCEPTED by the callee (`chat`: the session must be a chat, else a call), before
/// the ring deadline, in one statement: the paid time is what the user's balance buys at the
/// call's rate (`domain::call::max_duration_secs`) plus its free seconds, which are `offered`
/// unless the user has had a billed call (as [`Admission::billed_before`]). With
/// [`Meter::FromAccept`] the paid time runs from now; otherwise it is only provisional until
/// [`connect`]. `None` when the call is not hers, not of that kind, or no longer ringing.
pub async fn accept(
    ex: impl Executor<'_>,
    id: CallId,
    telecaller: AccountId,
    chat: bool,
    offered: i32,
    meter: Meter,
) -> Result<Option<Call>, RepoError> {
    let (media_secs, inactive_secs) = match meter {
        Meter::FromAccept => (None, None),
        Meter::FromMedia { within_secs } => (Some(within_secs), None),
        Meter::Chat { inactive_secs } => (None, Some(inactive_secs)),
    };
    // One instant for every column, so the paid time is exactly `max_duration` seconds.
    Ok(call_query!("WITH t AS (SELECT clock_timestamp() AS at), p AS (SELECT c.id AS call, f.free, CASE WHEN c.user_rate <= 0 OR b.balance <= 0 THEN 0 ELSE b.balance / c.user_rate END + f.free AS max FROM calls c CROSS JOIN LATERAL (SELECT coalesce(sum(balance), 0)::bigint AS balance FROM ledger_accounts WHERE owner_id = c.user_id) b CROSS JOIN LATERAL (SELECT CASE WHEN $5::integer > 0 AND NOT EXISTS (SELECT 1 FROM calls h WHERE h.user_id = c.user_id AND h.status = 'COMPLETED' AND h.duration_seconds > 0) THEN $5::integer ELSE 0 END AS free) f WHERE c.id = $1) UPDATE calls SET status = 'ACCEPTED', accepted_at = t.at, max_duration_seconds = p.max, connected_at = CASE WHEN $4::double precision IS NULL THEN t.at END, billing_deadline = CASE WHEN $4::double precision IS NULL THEN t.at + make_interval(secs => p.max::double precision) END, media_deadline = t.at + make_interval(secs => $4::double precision), free_seconds = p.free, inactive_deadline = t.at + make_interval(secs => $6::double precision) FROM t, p WHERE calls.id = $1 AND p.call = $1 AND calls.telecaller_id = $2 AND calls.status = 'RINGING' AND calls.ring_deadline > t.at AND (calls.call_type = 'CHAT') = $3 RETURNING ", "", id.0, telecaller.0, chat, media_secs, offered, inactive_secs)
    .fetch_optional(ex)
    .await?)
}

/// Ends an ACCEPTED call or chat for `reason` and settles it, in one round trip (the SQL function
/// `end_accepted_session`: the update, the balances locked, the bill, the promotional lots, the
/// journal, the settlement on the row). `party`, when given, must be one of its parties; `chat`
/// says which kind of session is meant. `None` when it was not ACCEPTED (or not the party's).
pub async fn end_and_settle(
    ex: impl Executor<'_>,
    id: CallId,
    party: Option<AccountId>,
    chat: bool,
    reason: EndReason,
    room_retry_secs: f64,
) -> Result<Option<Call>, RepoError> {
    Ok(call_query!(
        "SELECT ",
        " FROM end_accepted_session($1, $2, $3, $4, $5, $6)",
        id.0,
        party.map(|p| p.0),
        chat,
        reason.as_str(),
        Uuid::now_v7(),
        room_retry_secs
    )
    .fetch_optional(ex)
    .await?)
}

/// A party joined the call's room (the earliest join counts); a join ends that party's media
/// grace (and only that: a socket's grace ends when a socket comes back). `None` unless the call
/// is ACCEPTED and `party` is one of its parties.
pub async fn joined(ex: impl Executor<'_>, id: CallId, party: AccountId) -> Result<Option<Call>, RepoError> {
    Ok(call_query!("UPDATE calls SET user_joined_at = CASE WHEN user_id = $2 THEN COALESCE(user_joined_at, clock_timestamp()) ELSE user_joined_at END, telecaller_joined_at = CASE WHEN telecaller_id = $2 THEN COALESCE(telecaller_joined_at, clock_timestamp()) ELSE telecaller_joined_at END, user_left_room_at = CASE WHEN user_id = $2 THEN NULL ELSE user_left_room_at END, telecaller_left_room_at = CASE WHEN telecaller_id = $2 THEN NULL ELSE telecaller_left_room_at END, user_media_grace_deadline = CASE WHEN user_id = $2 THEN NULL ELSE user_media_grace_deadline END, telecaller_media_grace_deadline = CASE WHEN telecaller_id = $2 THEN NULL ELSE telecaller_media_grace_deadline END WHERE id = $1 AND status = 'ACCEPTED' AND (user_id = $2 OR telecaller_id = $2) RETURNING ", "", id.0, party.0)
    .fetch_optional(ex)
    .await?)
}

/// A party left the call's room: their media grace starts (`grace_secs`), unless one already
/// runs. `None` unless the call is ACCEPTED and `party` is one of its parties.
pub async fn left_room(
    ex: impl Executor<'_>,
    id: CallId,
    party: AccountId,
    grace_secs: f64,
) -> Result<Option<Call>, RepoError> {
    Ok(call_query!("UPDATE calls SET user_left_room_at = CASE WHEN user_id = $2 THEN COALESCE(user_left_room_at, clock_timestamp()) ELSE user_left_room_at END, telecaller_left_room_at = CASE WHEN telecaller_id = $2 THEN COALESCE(telecaller_left_room_at, clock_timestamp()) ELSE telecaller_left_room_at END, user_media_grace_deadline = CASE WHEN user_id = $2 THEN COALESCE(user_media_grace_deadline, clock_timestamp() + make_interval(secs => $3)) ELSE user_media_grace_deadline END, telecaller_media_grace_deadline = CASE WHEN telecaller_id = $2 THEN COALESCE(telecaller_media_grace_deadline, clock_timestamp() + make_interval(secs => $3)) ELSE telecaller_media_grace_deadline END WHERE id = $1 AND status = 'ACCEPTED' AND (user_id = $2 OR telecaller_id = $2) RETURNING ", "", id.0, party.0, grace_secs)
    .fetch_optional(ex)
    .await?)
}

/// Starts the meter of an accepted call waiting for its media: from `at` (no earlier than the
/// accept, no later than now), for `max_duration` paid seconds. `None` when it already runs.
pub async fn connect(tx: &mut Tx, id: CallId, at: DateTime<Utc>, max_duration: i64) -> Result<Option<Call>, RepoError> {
    Ok(call_query!("WITH t AS (SELECT LEAST(GREATEST($2, accepted_at), clock_timestamp()) AS at FROM calls WHERE id = $1) UPDATE calls SET connected_at = t.at, max_duration_seconds = $3::bigint, media_deadline = NULL, billing_deadline = t.at + make_interval(secs => $3::bigint::double precision) FROM t WHERE id = $1 AND status = 'ACCEPTED' AND connected_at IS NULL RETURNING ", "", id.0, at, max_duration)
    .fetch_optional(&mut **tx)
    .await?)
}

/// Ends a RINGING call into `to` (REJECTED, CANCELLED or MISSED) for `reason`: nothing was
/// billed. (An ACCEPTED call ends with its settlement: [`end_and_settle`].) With `by` =
/// `(party, chat)` it is a party's cancel or reject without a lock taken first: only a call of
/// that party and kind, and not one rung through a push (whose end queues her push in the same
/// transaction, so it is ended locked, `by` = `None`). `None` when nothing matched.
pub async fn end_ringing(
    ex: impl Executor<'_>,
    id: CallId,
    to: CallStatus,
    reason: EndReason,
    by: Option<(AccountId, bool)>,
) -> Result<Option<Call>, RepoError> {
    let (party, chat) = by.map_or((None, None), |(party, chat)| (Some(party.0), Some(chat)));
    Ok(call_query!("UPDATE calls SET status = $2, end_reason = $3, ended_at = clock_timestamp(), duration_seconds = 0, user_grace_deadline = NULL, telecaller_grace_deadline = NULL WHERE id = $1 AND status = 'RINGING' AND ($4::uuid IS NULL OR ($4 IN (user_id, telecaller_id) AND (call_type = 'CHAT') = $5 AND NOT rung_by_push)) RETURNING ", "", id.0, to.as_str(), reason.as_str(), party, chat)
    .fetch_optional(ex)
    .await?)
}

/// Sets (or clears, with `None`) a party's reconnect deadline on its active call.
pub async fn set_grace(
    ex: impl Executor<'_>,
    account: AccountId,
    grace_secs: Option<f64>,
) -> Result<Option<Call>, RepoError> {
    // The call found as `active_for` finds it; the update checks it is still live.
    Ok(call_query!("UPDATE calls SET user_grace_deadline = CASE WHEN user_id = $1 THEN clock_timestamp() + make_interval(secs => $2) ELSE user_grace_deadline END, telecaller_grace_deadline = CASE WHEN telecaller_id = $1 THEN clock_timestamp() + make_interval(secs => $2) ELSE telecaller_grace_deadline END WHERE id = (SELECT id FROM calls WHERE user_id = $1 AND status IN ('RINGING', 'ACCEPTED') UNION ALL SELECT id FROM calls WHERE telecaller_id = $1 AND status IN ('RINGING', 'ACCEPTED') LIMIT 1) AND status IN ('RINGING', 'ACCEPTED') RETURNING ", "", account.0, grace_secs)
    .fetch_optional(ex)
    .await?)
}

/// Starts the reconnect grace for every party of a live call who has none yet; answers how many
/// calls it touched.
pub async fn start_all_graces(ex: impl Executor<'_>, grace_secs: f64) -> Result<u64, RepoError> {
    let done = sqlx::query!(
        "UPDATE calls SET \
         user_grace_deadline = COALESCE(user_grace_deadline, clock_timestamp() + make_interval(secs => $1)), \
         telecaller_grace_deadline = COALESCE(telecaller_grace_deadline, clock_timestamp() + make_interval(secs => $1)) \
         WHERE status IN ('RINGING', 'ACCEPTED')",
        grace_secs
    )
    .execute(ex)
    .await?;
    Ok(done.rows_affected())
}

/// Marks the balance warning sent; `false` when it already was (so it goes out once).
pub async fn mark_balance_low(ex: impl Executor<'_>, id: CallId) -> Result<bool, RepoError> {
    let done = sqlx::query!(
        "UPDATE calls SET balance_low_sent = true WHERE id = $1 AND status = 'ACCEPTED' AND NOT balance_low_sent",
        id.0
    )
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves an ACCEPTED call's paid time (a recharge landed); re-arms the balance warning when the
/// new deadline is more than `warn_secs` away.
pub async fn extend(
    ex: impl Executor<'_>,
    id: CallId,
    max_duration: i64,
    warn_secs: f64,
) -> Result<Option<Call>, RepoError> {
    Ok(call_query!("UPDATE calls SET max_duration_seconds = $2::bigint, billing_deadline = connected_at + make_interval(secs => $2::bigint::double precision), balance_low_sent = balance_low_sent AND connected_at + make_interval(secs => $2::bigint::double precision) <= clock_timestamp() + make_interval(secs => $3) WHERE id = $1 AND status = 'ACCEPTED' AND connected_at IS NOT NULL AND max_duration_seconds < $2 RETURNING ", "", id.0, max_duration, warn_secs)
    .fetch_optional(ex)
    .await?)
}

/// Sets an ACCEPTED call's paid time to `max_duration` seconds from its connection, shorter or
/// longer (a gift spent some of the balance it counted on); re-arms the balance warning as
/// [`extend`] does. The caller has checked the new time covers what was already billed.
pub async fn set_paid_time(
    tx: &mut Tx,
    id: CallId,
    max_duration: i64,
    warn_secs: f64,
) -> Result<Option<Call>, RepoError> {
    Ok(call_query!("UPDATE calls SET max_duration_seconds = $2::bigint, billing_deadline = connected_at + make_interval(secs => $2::bigint::double precision), balance_low_sent = balance_low_sent AND connected_at + make_interval(secs => $2::bigint::double precision) <= clock_timestamp() + make_interval(secs => $3) WHERE id = $1 AND status = 'ACCEPTED' AND connected_at IS NOT NULL RETURNING ", "", id.0, max_duration, warn_secs)
    .fetch_optional(&mut **tx)
    .await?)
}

/// Claims one active call with something due (a deadline passed, or the balance warning is due
/// within `warn_secs`), locked and skipped by other sweepers; calls in `skip` (this pass could not
/// process them) are left for the next pass.
pub async fn claim_due(tx: &mut Tx, warn_secs: f64, skip: &[Uuid]) -> Result<Option<Call>, RepoError> {
    Ok(call_query!("SELECT ", " FROM calls WHERE status IN ('RINGING', 'ACCEPTED') AND id <> ALL($2) AND ((status = 'RINGING' AND ring_deadline <= clock_timestamp()) OR (status = 'ACCEPTED' AND billing_deadline <= clock_timestamp()) OR (status = 'ACCEPTED' AND NOT balance_low_sent AND billing_deadline <= clock_timestamp() + make_interval(secs => $1)) OR (status = 'ACCEPTED' AND connected_at IS NULL AND media_deadline <= clock_timestamp()) OR user_grace_deadline <= clock_timestamp() OR telecaller_grace_deadline <= clock_timestamp() OR user_media_grace_deadline <= clock_timestamp() OR telecaller_media_grace_deadline <= clock_timestamp() OR inactive_deadline <= clock_timestamp()) ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED", warn_secs, skip)
    .fetch_optional(&mut **tx)
    .await?)
}

/// The parties of live calls who have no reconnect grace running: (call, party, role is user).
/// The sweeper checks they are still connected somewhere (a lost disconnect is caught here).
pub async fn unguarded_parties(ex: impl Executor<'_>) -> Result<Vec<(CallId, AccountId, bool)>, RepoError> {
    let rows = sqlx::query!(
        r#"SELECT id AS "id!: CallId", user_id AS "party!: AccountId", true AS "as_user!" FROM calls
           WHERE status IN ('RINGING', 'ACCEPTED') AND user_grace_deadline IS NULL
           UNION ALL
           SELECT id, telecaller_id, false FROM calls WHERE status IN ('RINGING', 'ACCEPTED')
             AND telecaller_grace_deadline IS NULL"#
    )
    .fetch_all(ex)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.party, r.as_user)).collect())
}

/// Claims a room whose DeleteRoom is due (first try failed, or nobody tried), pushing its next
/// attempt back by `backoff_secs` so one caller tries at a time.
pub async fn claim_room_cleanup(ex: impl Executor<'_>, backoff_secs: f64) -> Result<Option<CallId>, RepoError> {
    let id: Option<Uuid> = sqlx::query_scalar!(
        "UPDATE calls SET room_retry_at = clock_timestamp() + make_interval(secs => $1) WHERE id = ( \
           SELECT id FROM calls WHERE room_closed_at IS NULL AND room_retry_at <= clock_timestamp() \
           ORDER BY room_retry_at LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id",
        backoff_secs
    )
    .fetch_optional(ex)
    .await?;
    Ok(id.map(CallId))
}

/// Which of these calls are live (RINGING or ACCEPTED): their rooms may stay open.
pub async fn live_among(ex: impl Executor<'_>, ids: &[Uuid]) -> Result<Vec<CallId>, RepoError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id AS "id!: CallId" FROM calls WHERE id = ANY($1) AND status IN ('RINGING', 'ACCEPTED')"#,
        ids
    )
    .fetch_all(ex)
    .await?)
}

pub async fn mark_room_closed(ex: impl Executor<'_>, id: CallId) -> Result<(), RepoError> {
    sqlx::query!("UPDATE calls SET room_closed_at = clock_timestamp() WHERE id = $1", id.0).execute(ex).await?;
    Ok(())
}

/// ACCEPTED calls right now.
pub async fn count_accepted(ex: impl Executor<'_>) -> Result<i64, RepoError> {
    Ok(sqlx::query_scalar!("SELECT count(*) AS \"count!\" FROM calls WHERE status = 'ACCEPTED'").fetch_one(ex).await?)
}

mod history;
mod media_events;

pub use history::*;
pub use media_events::*;

/// What a soak run checks after its faults (`talktime-load`'s `soak`): calls and chats created
/// since `since` that never ended, and any that were settled by more than one journal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Integrity {
    pub unended: i64,
    pub settled_twice: i64,
}

/// [`Integrity`] since `since`. A check run once after a load run, not on the request path: it
/// scans the run's calls and settlement journals.
pub async fn integrity(ex: impl Executor<'_>, since: DateTime<Utc>) -> Result<Integrity, RepoError> {
    Ok(sqlx::query_as!(
        Integrity,
        r#"SELECT
             (SELECT count(*) FROM calls WHERE status IN ('RINGING', 'ACCEPTED') AND created_at >= $1) AS "unended!",
             (SELECT count(*) FROM (SELECT cause_id FROM journals
                                    WHERE cause IN ('CALL', 'CHAT') AND created_at >= $1
                                    GROUP BY cause_id HAVING count(*) > 1) twice) AS "settled_twice!""#,
        since
    )
    .fetch_one(ex)
    .await?)
}
