//! Accounts carried over from the earlier backend (`talktime import`).

use talktime_domain::account::Account;

use crate::RepoError;

/// What [`insert_imported`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    New,
    /// This id is here already (an earlier run of the import).
    AlreadyImported,
    /// Another account holds the phone (it signed up on Talktime first).
    PhoneTaken,
    /// The phone belonged to an account that was deleted: it is not brought back.
    PhoneDeleted,
}

/// Inserts an account as the earlier backend had it (with its telecaller application), unless
/// its id or phone is taken.
pub async fn insert_imported(
    tx: &mut crate::Tx,
    account: &Account,
    phone_digest: &[u8],
) -> Result<Imported, RepoError> {
    let deleted: bool = sqlx::query_scalar!(
        "SELECT EXISTS (SELECT 1 FROM deleted_phones WHERE phone_digest = $1) AS \"deleted!\"",
        phone_digest
    )
    .fetch_one(&mut **tx)
    .await?;
    if deleted {
        return Ok(Imported::PhoneDeleted);
    }
    let inserted = sqlx::query!(
        "INSERT INTO accounts (id, phone, role, status, name, dob, gender, language, profile, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
        account.id.0,
        &account.phone,
        account.role.as_str(),
        account.status.as_str(),
        account.name.as_deref(),
        account.dob,
        account.gender.map(|g| g.as_str()),
        account.language.map(|l| l.as_str()),
        account.profile.map(|p| p.as_str()),
        account.created_at
    )
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1;
    if !inserted {
        let exists: bool =
            sqlx::query_scalar!("SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1) AS \"exists!\"", account.id.0)
                .fetch_one(&mut **tx)
                .await?;
        return Ok(if exists { Imported::AlreadyImported } else { Imported::PhoneTaken });
    }
    if let Some(telecaller) = &account.telecaller {
        sqlx::query!(
            "INSERT INTO telecaller_profiles (account_id, about, approval_status, verification_notes, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
            account.id.0,
            &telecaller.about,
            telecaller.approval_status.as_str(),
            telecaller.verification_notes.as_deref(),
            account.created_at
        )
        .execute(&mut **tx)
        .await?;
    }
    Ok(Imported::New)
}
