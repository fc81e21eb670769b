//! Phone accounts and their telecaller profiles.

use chrono::{DateTime, NaiveDate, Utc};
use talktime_domain::account::ListedAccount;
use talktime_domain::account::{
    Account, AccountStatus, ApprovalStatus, Avatar, Gender, Language, Role, TelecallerProfile,
};
use talktime_domain::ids::AccountId;
use talktime_domain::pricing::HostRates;
use uuid::Uuid;

use crate::{Executor, RepoError};

/// An account row with its telecaller profile (its columns `NULL` when there is none).
struct AccountRow {
    id: AccountId,
    phone: String,
    role: Role,
    status: AccountStatus,
    name: Option<String>,
    dob: Option<NaiveDate>,
    gender: Option<Gender>,
    language: Option<Language>,
    profile: Option<Avatar>,
    token_version: i32,
    created_at: DateTime<Utc>,
    referral_code: String,
    about: Option<String>,
    approval_status: Option<ApprovalStatus>,
    verification_notes: Option<String>,
    reachable_by_push: Option<bool>,
    audio_rate: Option<i64>,
    chat_rate: Option<i64>,
    video_rate: Option<i64>,
    rates_set_at: Option<DateTime<Utc>>,
    commission_hundredths: Option<i32>,
}

impl From<AccountRow> for Account {
    fn from(row: AccountRow) -> Self {
        let telecaller = match (row.about, row.approval_status) {
            (Some(about), Some(approval_status)) => Some(TelecallerProfile {
                about,
                approval_status,
                verification_notes: row.verification_notes,
                reachable_by_push: row.reachable_by_push.unwrap_or(false),
                rates: HostRates { audio: row.audio_rate, video: row.video_rate, chat: row.chat_rate },
                rates_set_at: row.rates_set_at,
                commission_hundredths: row.commission_hundredths,
            }),
            _ => None,
        };
        Account {
            id: row.id,
            phone: row.phone,
            role: row.role,
            status: row.status,
            name: row.name,
            dob: row.dob,
            gender: row.gender,
            language: row.language,
            profile: row.profile,
            token_version: row.token_version,
            created_at: row.created_at,
            referral_code: row.referral_code,
            telecaller,
        }
    }
}

/// `query_as!(AccountRow, …)`: the account with its telecaller profile, then `$where`.
macro_rules! account_query {
    ($where:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            AccountRow,
            r#"SELECT a.id AS "id: AccountId", a.phone, a.role AS "role: Role", a.status AS "status: AccountStatus",
                 a.name, a.dob, a.gender AS "gender: Gender", a.language AS "language: Language",
                 a.profile AS "profile: Avatar", a.token_version, a.created_at, a.referral_code, t.about AS "about?",
                 t.approval_status AS "approval_status?: ApprovalStatus", t.verification_notes,
                 t.reachable_by_push AS "reachable_by_push?", t.audio_rate, t.video_rate, t.chat_rate, t.rates_set_at,
                 t.commission_hundredths
               FROM accounts a LEFT JOIN telecaller_profiles t ON t.account_id = a.id "#
                + $where
            $(, $arg)*
        )
    };
}

pub async fn find_by_id(ex: impl Executor<'_>, id: AccountId) -> Result<Option<Account>, RepoError> {
    Ok(account_query!("WHERE a.id = $1", id.0).fetch_optional(ex).await?.map(Account::from))
}

/// The names of these accounts (one query, for a page of rows naming their owners).
pub async fn names(ex: impl Executor<'_>, ids: &[uuid::Uuid]) -> Result<Vec<(uuid::Uuid, Option<String>)>, RepoError> {
    let rows = sqlx::query!("SELECT id, name FROM accounts WHERE id = ANY($1)", ids).fetch_all(ex).await?;
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}

pub async fn find_by_phone(ex: impl Executor<'_>, phone: &str) -> Result<Option<Account>, RepoError> {
    Ok(account_query!("WHERE a.phone = $1", phone).fetch_optional(ex).await?.map(Account::from))
}

/// Inserts a new USER account for `phone` unless one exists; either way returns the account, and
/// whether this call created it.
pub async fn create_if_absent(ex: &mut crate::Tx, phone: &str) -> Result<(Account, bool), RepoError> {
    let created = sqlx::query!(
        "INSERT INTO accounts (id, phone) VALUES ($1, $2) ON CONFLICT (phone) DO NOTHING",
        AccountId::new().0,
        phone
    )
    .execute(&mut **ex)
    .await?
    .rows_affected()
        == 1;
    let account = find_by_phone(&mut **ex, phone).await?.ok_or(RepoError::Database(sqlx::Error::RowNotFound))?;
    Ok((account, created))
}

/// Invalidates every token issued so far; returns the new version, or `None` for no such account.
pub async fn bump_token_version(ex: impl Executor<'_>, id: AccountId) -> Result<Option<i32>, RepoError> {
    Ok(sqlx::query_scalar!("UPDATE accounts SET token_version = token_version + 1, updated_at = now() WHERE id = $1 RETURNING token_version", id.0)
    .fetch_optional(ex)
    .await?)
}

/// Sets ACTIVE/SUSPENDED; suspending also revokes every token. Returns whether a row changed.
pub async fn set_status(
    ex: impl Executor<'_>,
    id: AccountId,
    status: talktime_domain::account::AccountStatus,
) -> Result<bool, RepoError> {
    let done = sqlx::query!(
        "UPDATE accounts SET status = $2, updated_at = now(), \
         token_version = token_version + CASE WHEN $2 = 'SUSPENDED' THEN 1 ELSE 0 END \
         WHERE id = $1 AND status <> $2 AND status <> 'DELETED'",
        id.0,
        status.as_str()
    )
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What completing a profile writes.
#[derive(Debug, Clone)]
pub struct CompletedProfile<'a> {
    pub name: &'a str,
    pub dob: NaiveDate,
    pub gender: talktime_domain::account::Gender,
    pub language: talktime_domain::account::Language,
    pub profile: Option<talktime_domain::account::Avatar>,
    pub role: talktime_domain::account::Role,
    /// Required for telecallers: creates the PENDING application.
    pub about: Option<&'a str>,
}

/// Completes a profile once: the update only matches an account whose profile is incomplete, so
/// of two racing requests one wins and the other gets `None`. A role change bumps the token
/// version, so tokens carrying the old role stop working.
pub async fn complete_profile(
    tx: &mut crate::Tx,
    id: AccountId,
    profile: &CompletedProfile<'_>,
) -> Result<Option<Account>, RepoError> {
    let done = sqlx::query!(
        "UPDATE accounts SET name = $2, dob = $3, gender = $4, language = $5, profile = $6, role = $7, \
         token_version = token_version + CASE WHEN role <> $7 THEN 1 ELSE 0 END, updated_at = now() \
         WHERE id = $1 AND (name IS NULL OR dob IS NULL)",
        id.0,
        profile.name,
        profile.dob,
        profile.gender.as_str(),
        profile.language.as_str(),
        profile.profile.map(|a| a.as_str()),
        profile.role.as_str()
    )
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    if let Some(about) = profile.about {
        sqlx::query!("INSERT INTO telecaller_profiles (account_id, about, approval_status) VALUES ($1, $2, 'PENDING') \
             ON CONFLICT (account_id) DO UPDATE SET about = EXCLUDED.about, approval_status = 'PENDING', updated_at = now()", id.0, about)
        .execute(&mut **tx)
        .await?;
    }
    find_by_id(&mut **tx, id).await
}

/// Changes to a profile; `None` leaves a field as it is. `profile: Some(None)` clears the avatar.
#[derive(Debug, Clone, Default)]
pub struct ProfileEdit<'a> {
    pub name: Option<&'a str>,
    pub language: Option<talktime_domain::account::Language>,
    pub profile: Option<Option<talktime_domain::account::Avatar>>,
    /// Telecallers only.
    pub about: Option<&'a str>,
}

pub async fn edit_profile(
    tx: &mut crate::Tx,
    id: AccountId,
    edit: &ProfileEdit<'_>,
) -> Result<Option<Account>, RepoError> {
    sqlx::query!(
        "UPDATE accounts SET name = COALESCE($2, name), language = COALESCE($3, language), \
         profile = CASE WHEN $4 THEN $5 ELSE profile END, updated_at = now() WHERE id = $1",
        id.0,
        edit.name,
        edit.language.map(|l| l.as_str()),
        edit.profile.is_some(),
        edit.profile.flatten().map(|a| a.as_str())
    )
    .execute(&mut **tx)
    .await?;
    if let Some(about) = edit.about {
        sqlx::query!(
            "UPDATE telecaller_profiles SET about = $2, updated_at = now() WHERE account_id = $1",
            id.0,
            about
        )
        .execute(&mut **tx)
        .await?;
    }
    find_by_id(&mut **tx, id).await
}

/// What a rejected telecaller resubmits.
#[derive(Debug, Clone)]
pub struct Reapplication<'a> {
    pub name: &'a str,
    pub dob: NaiveDate,
    pub language: talktime_domain::account::Language,
    pub about: &'a str,
}

/// REJECTED → PENDING with the new details; `None` when the application is not REJECTED. The
/// rejection note stays until an approval clears it.
pub async fn reapply(
    tx: &mut crate::Tx,
    id: AccountId,
    again: &Reapplication<'_>,
) -> Result<Option<Account>, RepoError> {
    let done = sqlx::query!(
        "UPDATE telecaller_profiles SET approval_status = 'PENDING', about = $2, updated_at = now() \
         WHERE account_id = $1 AND approval_status = 'REJECTED'",
        id.0,
        again.about
    )
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    sqlx::query!(
        "UPDATE accounts SET name = $2, dob = $3, language = $4, updated_at = now() WHERE id = $1",
        id.0,
        again.name,
        again.dob,
        again.language.as_str()
    )
    .execute(&mut **tx)
    .await?;
    find_by_id(&mut **tx, id).await
}

/// Of these accounts, the ones whose sessions are over: gone, suspended, or token version no
/// longer `version` (logout, block, rejection, role change). One query.
pub async fn ended_sessions(ex: impl Executor<'_>, sessions: &[(AccountId, i32)]) -> Result<Vec<AccountId>, RepoError> {
    let ids: Vec<Uuid> = sessions.iter().map(|(id, _)| id.0).collect();
    let versions: Vec<i32> = sessions.iter().map(|(_, v)| *v).collect();
    let ended: Vec<Uuid> = sqlx::query_scalar!(
        "SELECT s.id AS \"id!\" FROM unnest($1::uuid[], $2::int[]) AS s(id, version) \
         LEFT JOIN accounts a ON a.id = s.id \
         WHERE a.id IS NULL OR a.status = 'SUSPENDED' OR a.token_version <> s.version",
        &ids,
        &versions
    )
    .fetch_all(ex)
    .await?;
    Ok(ended.into_iter().map(AccountId).collect())
}

/// What [`erase`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erased {
    Done,
    /// A RINGING or ACCEPTED call involves the account.
    InCall,
    /// A withdrawal of the account waits for an admin.
    WithdrawalPending,
    /// No such account, or already deleted.
    Gone,
}

/// The text a deleted telecaller's application keeps (the column needs 50–500 characters).
pub const ERASED_ABOUT: &str = "This account was deleted at its owner's request; its profile was erased.";

/// Deletes an account in `tx`: its personal data erased (name, date of birth, gender, language,
/// avatar, about, bank details, favorites, push devices), its phone replaced by a tombstone, every token
/// revoked. One conditional update decides, so a call or withdrawal that exists refuses it.
/// The row stays: the ledger, calls and reports name it.
pub async fn erase(tx: &mut crate::Tx, id: AccountId, phone_digest: &[u8]) -> Result<Erased, RepoError> {
    // The account's lock first, in a statement of its own: a withdrawal request or a call being
    // started holds a key-share lock on the row (see `lock_parties`) until it commits, so the
    // checks below (a new statement, a new snapshot) see what it wrote, and whatever comes after
    // the erasure finds the account gone.
    sqlx::query!("SELECT id FROM accounts WHERE id = $1 FOR UPDATE", id.0).fetch_optional(&mut **tx).await?;
    let done = sqlx::query!("UPDATE accounts SET status = 'DELETED', phone = 'deleted-' || id::text, name = NULL, dob = NULL, \
         gender = NULL, language = NULL, profile = NULL, token_version = token_version + 1, deleted_at = now(), \
         updated_at = now() \
         WHERE id = $1 AND status <> 'DELETED' \
         AND NOT EXISTS (SELECT 1 FROM calls WHERE user_id = $1 AND status IN ('RINGING', 'ACCEPTED')) \
         AND NOT EXISTS (SELECT 1 FROM calls WHERE telecaller_id = $1 AND status IN ('RINGING', 'ACCEPTED')) \
         AND NOT EXISTS (SELECT 1 FROM transactions WHERE account_id = $1 AND type = 'WITHDRAWAL' AND status IN ('PENDING', 'APPROVED'))", id.0)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 1 {
        sqlx::query!("DELETE FROM bank_details WHERE telecaller_id = $1", id.0).execute(&mut **tx).await?;
        sqlx::query!(
            "UPDATE transactions SET bank_account_enc = NULL, updated_at = now() \
             WHERE account_id = $1 AND type = 'WITHDRAWAL' AND bank_account_enc IS NOT NULL",
            id.0
        )
        .execute(&mut **tx)
        .await?;
        sqlx::query!("INSERT INTO deleted_phones (phone_digest) VALUES ($1) ON CONFLICT DO NOTHING", phone_digest)
            .execute(&mut **tx)
            .await?;
        sqlx::query!("DELETE FROM favorites WHERE user_id = $1", id.0).execute(&mut **tx).await?;
        sqlx::query!("DELETE FROM favorites WHERE telecaller_id = $1", id.0).execute(&mut **tx).await?;
        sqlx::query!("DELETE FROM devices WHERE account_id = $1", id.0).execute(&mut **tx).await?;
        sqlx::query!("DELETE FROM notifications WHERE account_id = $1", id.0).execute(&mut **tx).await?;
        sqlx::query!("DELETE FROM notification_preferences WHERE account_id = $1", id.0).execute(&mut **tx).await?;
        sqlx::query!(
            "UPDATE telecaller_profiles SET about = $2, verification_notes = NULL, reachable_by_push = false, \
             updated_at = now() WHERE account_id = $1",
            id.0,
            ERASED_ABOUT
        )
        .execute(&mut **tx)
        .await?;
        return Ok(Erased::Done);
    }
    // Why not (each a lookup on an index the constraints already need).
    let why = sqlx::query!(
        r#"SELECT (SELECT status FROM accounts WHERE id = $1) AS "status: AccountStatus",
             EXISTS (SELECT 1 FROM calls WHERE user_id = $1 AND status IN ('RINGING', 'ACCEPTED'))
               OR EXISTS (SELECT 1 FROM calls WHERE telecaller_id = $1 AND status IN ('RINGING', 'ACCEPTED'))
               AS "in_call!",
             EXISTS (SELECT 1 FROM transactions WHERE account_id = $1 AND type = 'WITHDRAWAL' AND status IN ('PENDING', 'APPROVED'))
               AS "pending!""#,
        id.0
    )
    .fetch_one(&mut **tx)
    .await?;
    let (status, in_call, pending) = (why.status, why.in_call, why.pending);
    Ok(match status {
        None | Some(AccountStatus::Deleted) => Erased::Gone,
        _ if in_call => Erased::InCall,
        _ if pending => Erased::WithdrawalPending,
        // The call or withdrawal ended between the two statements: the caller may try again.
        _ => Erased::InCall,
    })
}

/// Locks the rows of these accounts against erasure until the transaction ends (a key-share
/// lock: many may hold it at once, only [`erase`] waits for them); how many are there and not
/// deleted.
pub async fn lock_parties(tx: &mut crate::Tx, ids: &[uuid::Uuid]) -> Result<i64, RepoError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM (SELECT id FROM accounts WHERE id = ANY($1) AND status <> 'DELETED'
           FOR KEY SHARE) locked"#,
        ids
    )
    .fetch_one(&mut **tx)
    .await?)
}

/// Users (role USER), optionally by phone or name prefix, newest first, with the total.
pub async fn users_page(
    db: &crate::Db,
    search: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<talktime_domain::page::Page<ListedAccount>, RepoError> {
    let pattern = search.map(|s| format!("{}%", s.trim().to_lowercase().replace(['%', '_', '\\'], "")));
    crate::paged(
        sqlx::query_as!(
        ListedAccount,
        r#"SELECT a.id AS "id: AccountId", a.phone, a.name, a.gender AS "gender: Gender", a.language AS "language: Language",
             a.status AS "status: AccountStatus",
             NULL::text AS "approval_status: ApprovalStatus", a.created_at, NULL::bigint AS rating_sum, NULL::bigint AS rating_count,
             NULL::bigint AS platform_sum, NULL::bigint AS platform_count
           FROM accounts a WHERE a.role = 'USER' AND ($1::text IS NULL OR a.phone LIKE $1 OR lower(a.name) LIKE $1)
           ORDER BY a.created_at DESC, a.id DESC LIMIT $2 OFFSET $3"#,
        pattern.as_deref(),
        limit,
        offset
    )
    .fetch_all(db.pool()),
        sqlx::query_scalar!("SELECT count(*) AS \"count!\" FROM accounts a WHERE a.role = 'USER' AND ($1::text IS NULL OR a.phone LIKE $1 OR lower(a.name) LIKE $1)", pattern.as_deref())
    .fetch_one(db.pool()),
    )
    .await
}
