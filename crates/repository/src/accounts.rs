//! Phone accounts and their telecaller profiles.

use chrono::{DateTime, NaiveDate, Utc};
use talktime_domain::account::{Account, TelecallerProfile};
use talktime_domain::ids::AccountId;
use uuid::Uuid;

use crate::{Executor, RepoError, parse_stored};

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: Uuid,
    phone: String,
    role: String,
    status: String,
    name: Option<String>,
    dob: Option<NaiveDate>,
    gender: Option<String>,
    language: Option<String>,
    profile: Option<String>,
    token_version: i32,
    created_at: DateTime<Utc>,
    about: Option<String>,
    approval_status: Option<String>,
    verification_notes: Option<String>,
}

impl TryFrom<AccountRow> for Account {
    type Error = RepoError;

    fn try_from(row: AccountRow) -> Result<Self, RepoError> {
        let telecaller = match (row.about, row.approval_status) {
            (Some(about), Some(status)) => Some(TelecallerProfile {
                about,
                approval_status: parse_stored("approval_status", &status)?,
                verification_notes: row.verification_notes,
            }),
            _ => None,
        };
        Ok(Account {
            id: AccountId(row.id),
            phone: row.phone,
            role: parse_stored("role", &row.role)?,
            status: parse_stored("status", &row.status)?,
            name: row.name,
            dob: row.dob,
            gender: row.gender.as_deref().map(|v| parse_stored("gender", v)).transpose()?,
            language: row.language.as_deref().map(|v| parse_stored("language", v)).transpose()?,
            profile: row.profile.as_deref().map(|v| parse_stored("profile", v)).transpose()?,
            token_version: row.token_version,
            created_at: row.created_at,
            telecaller,
        })
    }
}

/// The account with its telecaller profile, filtered by `$where` (a literal).
macro_rules! select_account {
    ($where:literal) => {
        concat!(
            "SELECT a.id, a.phone, a.role, a.status, a.name, a.dob, a.gender, a.language, a.profile, ",
            "a.token_version, a.created_at, t.about, t.approval_status, t.verification_notes ",
            "FROM accounts a LEFT JOIN telecaller_profiles t ON t.account_id = a.id ",
            $where
        )
    };
}

pub async fn find_by_id(ex: impl Executor<'_>, id: AccountId) -> Result<Option<Account>, RepoError> {
    let row: Option<AccountRow> =
        sqlx::query_as(select_account!("WHERE a.id = $1")).bind(id.0).fetch_optional(ex).await?;
    row.map(Account::try_from).transpose()
}

pub async fn find_by_phone(ex: impl Executor<'_>, phone: &str) -> Result<Option<Account>, RepoError> {
    let row: Option<AccountRow> =
        sqlx::query_as(select_account!("WHERE a.phone = $1")).bind(phone).fetch_optional(ex).await?;
    row.map(Account::try_from).transpose()
}

/// Inserts a new USER account for `phone` unless one exists; either way returns the account.
pub async fn create_if_absent(ex: &mut crate::Tx, phone: &str) -> Result<Account, RepoError> {
    sqlx::query("INSERT INTO accounts (id, phone) VALUES ($1, $2) ON CONFLICT (phone) DO NOTHING")
        .bind(AccountId::new().0)
        .bind(phone)
        .execute(&mut **ex)
        .await?;
    find_by_phone(&mut **ex, phone).await?.ok_or(RepoError::Database(sqlx::Error::RowNotFound))
}

/// Invalidates every token issued so far; returns the new version, or `None` for no such account.
pub async fn bump_token_version(ex: impl Executor<'_>, id: AccountId) -> Result<Option<i32>, RepoError> {
    Ok(sqlx::query_scalar(
        "UPDATE accounts SET token_version = token_version + 1, updated_at = now() WHERE id = $1 RETURNING token_version",
    )
    .bind(id.0)
    .fetch_optional(ex)
    .await?)
}

/// Sets ACTIVE/SUSPENDED; suspending also revokes every token. Returns whether a row changed.
pub async fn set_status(
    ex: impl Executor<'_>,
    id: AccountId,
    status: talktime_domain::account::AccountStatus,
) -> Result<bool, RepoError> {
    let done = sqlx::query(
        "UPDATE accounts SET status = $2, updated_at = now(), \
         token_version = token_version + CASE WHEN $2 = 'SUSPENDED' THEN 1 ELSE 0 END \
         WHERE id = $1 AND status <> $2",
    )
    .bind(id.0)
    .bind(status.as_str())
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}
