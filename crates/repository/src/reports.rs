//! Reports of one party of a call by the other, and the complaints an account received.

use talktime_domain::account::{AccountStatus, Role};
use talktime_domain::ids::{AccountId, CallId, ReportId};
use talktime_domain::report::Complaint;
use talktime_domain::report::ReportRow;
use talktime_domain::report::ReportStatus;

use crate::{Executor, RepoError, Tx};

/// Reports against an account: the latest five and the total.
pub async fn complaints(
    ex: &crate::Db,
    account: AccountId,
) -> Result<talktime_domain::page::Page<Complaint>, RepoError> {
    crate::paged(
        sqlx::query_as!(Complaint, "SELECT r.id AS \"id: ReportId\", r.call_id AS \"call_id: CallId\", r.reporter_id AS \"reporter_id: AccountId\", a.name AS reporter_name, a.status AS \"reporter_status: AccountStatus\", \
         r.description, r.status AS \"status: ReportStatus\", r.created_at FROM reports r JOIN accounts a ON a.id = r.reporter_id WHERE r.reported_id = $1 \
         ORDER BY r.created_at DESC, r.id DESC LIMIT 5", account.0)
    .fetch_all(ex.pool()),
        sqlx::query_scalar!("SELECT count(*) AS \"count!\" FROM reports WHERE reported_id = $1", account.0)
        .fetch_one(ex.pool()),
    )
    .await
}

/// `query_as!(ReportRow, …)`: a report with both parties, then `$rest`.
macro_rules! report_query {
    ($rest:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            ReportRow,
            r#"SELECT r.id AS "id: ReportId", r.call_id AS "call_id: CallId", r.reporter_id AS "reporter_id: AccountId", rp.name AS reporter_name, rp.phone AS reporter_phone,
                 rp.role AS "reporter_role: Role", rp.status AS "reporter_status: AccountStatus", r.reported_id AS "reported_id: AccountId",
                 rd.name AS reported_name, rd.phone AS reported_phone, rd.role AS "reported_role: Role",
                 rd.status AS "reported_status: AccountStatus", r.description, r.status AS "status: ReportStatus",
                 r.admin_notes, r.message_seq, r.resolved_at, r.created_at, r.updated_at FROM reports r
               JOIN accounts rp ON rp.id = r.reporter_id JOIN accounts rd ON rd.id = r.reported_id "#
                + $rest
            $(, $arg)*
        )
    };
}

pub async fn page(
    db: &crate::Db,
    status: Option<ReportStatus>,
    limit: i64,
    offset: i64,
) -> Result<talktime_domain::page::Page<ReportRow>, RepoError> {
    crate::paged(
        report_query!(
            "WHERE ($1::text IS NULL OR r.status = $1) ORDER BY r.created_at DESC, r.id DESC LIMIT $2 OFFSET $3",
            status.map(ReportStatus::as_str),
            limit,
            offset
        )
        .fetch_all(db.pool()),
        sqlx::query_scalar!(
            "SELECT count(*) AS \"count!\" FROM reports WHERE ($1::text IS NULL OR status = $1)",
            status.map(ReportStatus::as_str)
        )
        .fetch_one(db.pool()),
    )
    .await
}

pub async fn find(db: &crate::Db, id: ReportId) -> Result<Option<ReportRow>, RepoError> {
    Ok(report_query!("WHERE r.id = $1", id.0).fetch_optional(db.pool()).await?)
}

/// Moves a report from one of `from` to `to`, setting or clearing `resolved_at`; the previous
/// status, or `None` when the report was not in one of `from`.
pub async fn move_status(
    tx: &mut Tx,
    id: ReportId,
    from: &[ReportStatus],
    to: ReportStatus,
    notes: Option<&str>,
) -> Result<Option<ReportStatus>, RepoError> {
    let from: Vec<String> = from.iter().map(|s| s.as_str().to_owned()).collect();
    Ok(sqlx::query_scalar!(
        "WITH old AS (SELECT status FROM reports WHERE id = $1 FOR UPDATE) \
         UPDATE reports r SET status = $3, admin_notes = COALESCE($4, r.admin_notes), updated_at = now(), \
         resolved_at = CASE WHEN $3 IN ('RESOLVED', 'DISMISSED') THEN now() ELSE NULL END \
         FROM old WHERE r.id = $1 AND r.status = ANY($2) RETURNING old.status AS \"status: ReportStatus\"",
        id.0,
        &from,
        to.as_str(),
        notes
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// A report of the other party, once per reporter and call (`None` when already reported).
pub async fn add_report(
    ex: impl Executor<'_>,
    call: CallId,
    reporter: AccountId,
    reported: AccountId,
    description: &str,
    message_seq: Option<i64>,
) -> Result<Option<ReportId>, RepoError> {
    Ok(sqlx::query_scalar!(
        "INSERT INTO reports (id, call_id, reporter_id, reported_id, description, message_seq) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (call_id, reporter_id) DO NOTHING RETURNING id AS \"id: ReportId\"",
        ReportId::new().0,
        call.0,
        reporter.0,
        reported.0,
        description,
        message_seq
    )
    .fetch_optional(ex)
    .await?)
}
