//! Administrators. Emails are stored lower-case and matched case-insensitively.

use talktime_domain::admin::Admin;
use talktime_domain::ids::AdminId;
use uuid::Uuid;

use crate::{Executor, RepoError};

/// Unique index on the e-mail address.
pub const EMAIL_KEY: &str = "admins_email_key";

pub async fn create(ex: impl Executor<'_>, email: &str, name: &str) -> Result<Admin, RepoError> {
    Ok(sqlx::query_as!(
        Admin,
        "INSERT INTO admins (id, email, name) VALUES ($1, lower($2), $3) \
         RETURNING id, email, name, token_version, created_at",
        AdminId::new().0,
        email.trim(),
        name.trim()
    )
    .fetch_one(ex)
    .await?)
}

pub async fn find_by_email(ex: impl Executor<'_>, email: &str) -> Result<Option<Admin>, RepoError> {
    Ok(sqlx::query_as!(
        Admin,
        "SELECT id, email, name, token_version, created_at FROM admins WHERE email = lower($1)",
        email.trim()
    )
    .fetch_optional(ex)
    .await?)
}

pub async fn find_by_id(ex: impl Executor<'_>, id: AdminId) -> Result<Option<Admin>, RepoError> {
    Ok(sqlx::query_as!(Admin, "SELECT id, email, name, token_version, created_at FROM admins WHERE id = $1", id.0)
        .fetch_optional(ex)
        .await?)
}

pub async fn bump_token_version(ex: impl Executor<'_>, id: AdminId) -> Result<Option<i32>, RepoError> {
    Ok(sqlx::query_scalar!(
        "UPDATE admins SET token_version = token_version + 1 WHERE id = $1 RETURNING token_version",
        id.0
    )
    .fetch_optional(ex)
    .await?)
}

/// Of these admins, the ones whose sessions are over: removed, or token version no longer
/// `version` (signed out). One query.
pub async fn ended_sessions(ex: impl Executor<'_>, sessions: &[(AdminId, i32)]) -> Result<Vec<AdminId>, RepoError> {
    let ids: Vec<Uuid> = sessions.iter().map(|(id, _)| id.0).collect();
    let versions: Vec<i32> = sessions.iter().map(|(_, v)| *v).collect();
    let ended: Vec<Uuid> = sqlx::query_scalar!(
        "SELECT s.id AS \"id!\" FROM unnest($1::uuid[], $2::int[]) AS s(id, version) \
         LEFT JOIN admins a ON a.id = s.id WHERE a.id IS NULL OR a.token_version <> s.version",
        &ids,
        &versions
    )
    .fetch_all(ex)
    .await?;
    Ok(ended.into_iter().map(AdminId).collect())
}
