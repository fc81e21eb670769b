//! Test support: a fresh, migrated database per test on the local Postgres server.
//!
//! The server is `TEST_DATABASE_URL` (default `postgres://postgres:postgres@127.0.0.1:5432/postgres`).
//! Each database is named `tt_test_<uuid>`; `scripts/test.sh` drops leftovers before a run.

use sqlx::Connection;

use crate::{Db, RepoError};

pub struct TestDatabase {
    /// Connection URL of the new database.
    pub url: String,
    pub name: String,
    pub db: Db,
}

pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".to_owned())
}

impl TestDatabase {
    /// Creates and migrates a new database.
    pub async fn new() -> Result<Self, RepoError> {
        let server = server_url();
        let name = format!("tt_test_{}", uuid::Uuid::now_v7().simple());
        let mut admin = sqlx::PgConnection::connect(&server).await?;
        // A runtime string: a database name cannot be a bind parameter.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await?;
        admin.close().await?;
        let url = match server.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => format!("{server}/{name}"),
        };
        let db = Db::connect(&url, 10).await?;
        db.migrate().await?;
        Ok(Self { url, name, db })
    }
}

/// Moves a phone's live challenge `secs` into the past (its cooldown and expiry with it), as if
/// that much time had passed.
pub async fn age_otp(db: &Db, phone: &str, secs: i64) -> Result<(), RepoError> {
    sqlx::query!(
        "UPDATE otp_challenges SET sent_at = sent_at - make_interval(secs => $2::double precision), \
         expires_at = expires_at - make_interval(secs => $2::double precision) WHERE phone = $1",
        phone,
        secs as f64
    )
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The stored challenge's (attempts, consumed) for a phone.
pub async fn otp_row(db: &Db, phone: &str) -> Result<Option<(i32, bool)>, RepoError> {
    let row = sqlx::query!(
        r#"SELECT attempts, consumed_at IS NOT NULL AS "consumed!" FROM otp_challenges WHERE phone = $1"#,
        phone
    )
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(|r| (r.attempts, r.consumed)))
}

/// Sets an account's status directly, without revoking tokens (as an operator editing the
/// table would), to test that every request re-checks the status.
pub async fn force_status(db: &Db, phone: &str, status: &str) -> Result<(), RepoError> {
    sqlx::query!("UPDATE accounts SET status = $2 WHERE phone = $1", phone, status).execute(db.pool()).await?;
    Ok(())
}

pub async fn count_accounts(db: &Db) -> Result<i64, RepoError> {
    Ok(sqlx::query_scalar!("SELECT count(*) AS \"count!\" FROM accounts").fetch_one(db.pool()).await?)
}

/// A telecaller with a complete profile, straight into the tables (tests of other features do
/// not need to go through the application and approval flow).
pub async fn create_telecaller(
    db: &Db,
    phone: &str,
    name: &str,
    language: &str,
    approval: &str,
) -> Result<talktime_domain::ids::AccountId, RepoError> {
    let id = talktime_domain::ids::AccountId::new();
    let mut tx = db.begin().await?;
    sqlx::query!(
        "INSERT INTO accounts (id, phone, role, name, dob, gender, language, profile) \
         VALUES ($1, $2, 'TELECALLER', $3, DATE '1995-01-01', 'FEMALE', $4, 'avatar-1')",
        id.0,
        phone,
        name,
        language
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO telecaller_profiles (account_id, about, approval_status) VALUES ($1, $2, $3)",
        id.0,
        "I enjoy long conversations about films, food, travel and everything in between.",
        approval
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Sets a telecaller's approval and note directly (the admin flow comes with the admin issue).
pub async fn set_approval(
    db: &Db,
    id: talktime_domain::ids::AccountId,
    approval: &str,
    note: Option<&str>,
) -> Result<(), RepoError> {
    sqlx::query!(
        "UPDATE telecaller_profiles SET approval_status = $2, verification_notes = $3 WHERE account_id = $1",
        id.0,
        approval,
        note
    )
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The raw stored bank row: (account_number_enc, ifsc_code, account_holder_name).
pub async fn raw_bank_row(
    db: &Db,
    id: talktime_domain::ids::AccountId,
) -> Result<Option<(Vec<u8>, String, String)>, RepoError> {
    let row = sqlx::query!(
        "SELECT account_number_enc, ifsc_code, account_holder_name FROM bank_details WHERE telecaller_id = $1",
        id.0
    )
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(|r| (r.account_number_enc, r.ifsc_code, r.account_holder_name)))
}

/// The books, as the shared end-of-test assertion checks them.
pub async fn assert_books_balance(db: &Db) {
    let books = crate::ledger::books(db.pool()).await.expect("read the books");
    assert!(books.balanced(), "the books do not balance: {books:?}");
}

/// Runs a fixed statement (tests that prove the database refuses something). A runtime string
/// on purpose: the statements are the tests' own, often ones the schema must reject.
pub async fn execute_raw(db: &Db, statement: &'static str) -> Result<u64, sqlx::Error> {
    sqlx::query(statement).execute(db.pool()).await.map(|r| r.rows_affected())
}

/// Moves a call's accept time and deadlines `secs` into the past, as if it had been running
/// that much longer.
pub async fn age_call(db: &Db, id: talktime_domain::ids::CallId, secs: i64) -> Result<(), RepoError> {
    sqlx::query!(
        "UPDATE calls SET accepted_at = accepted_at - make_interval(secs => $2::double precision), \
         connected_at = connected_at - make_interval(secs => $2::double precision), \
         billing_deadline = billing_deadline - make_interval(secs => $2::double precision), \
         media_deadline = media_deadline - make_interval(secs => $2::double precision), \
         created_at = created_at - make_interval(secs => $2::double precision) WHERE id = $1",
        id.0,
        secs as f64
    )
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Drops a test database, cutting every connection to it (a database outage, for readiness tests).
pub async fn drop_database(name: &str) -> Result<(), RepoError> {
    let mut admin = sqlx::PgConnection::connect(&server_url()).await?;
    // A runtime string: a database name cannot be a bind parameter.
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    Ok(())
}

/// Whether the call's LiveKit room is recorded as closed.
pub async fn room_closed(db: &Db, id: talktime_domain::ids::CallId) -> Result<bool, RepoError> {
    Ok(sqlx::query_scalar!("SELECT room_closed_at IS NOT NULL AS \"closed!\" FROM calls WHERE id = $1", id.0)
        .fetch_one(db.pool())
        .await?)
}

/// From now on every INSERT, UPDATE or DELETE on any table of this database fails (a statement
/// trigger raising `talktime: write forbidden`), until [`allow_writes`]: proves a path reads only.
pub async fn forbid_writes(db: &Db) -> Result<(), RepoError> {
    sqlx::raw_sql(
        "CREATE OR REPLACE FUNCTION talktime_forbid_write() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'talktime: write forbidden on %', TG_TABLE_NAME; END $$; \
         DO $$ DECLARE t text; BEGIN \
           FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP \
             EXECUTE format('CREATE TRIGGER talktime_forbid_write BEFORE INSERT OR UPDATE OR DELETE ON %I \
                             FOR EACH STATEMENT EXECUTE FUNCTION talktime_forbid_write()', t); \
           END LOOP; END $$;",
    )
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Undoes [`forbid_writes`].
pub async fn allow_writes(db: &Db) -> Result<(), RepoError> {
    sqlx::raw_sql(
        "DO $$ DECLARE t text; BEGIN \
           FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP \
             EXECUTE format('DROP TRIGGER IF EXISTS talktime_forbid_write ON %I', t); \
           END LOOP; END $$;",
    )
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Moves a ringing call's ring deadline into the past (the ring has timed out, whoever notices).
pub async fn expire_ring(db: &Db, id: talktime_domain::ids::CallId) -> Result<(), RepoError> {
    sqlx::query!("UPDATE calls SET ring_deadline = clock_timestamp() - interval '1 second' WHERE id = $1", id.0)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// How many push notifications of `kind` were ever queued (sent or not).
pub async fn queued_pushes(db: &Db, kind: talktime_domain::push::PushKind) -> Result<i64, RepoError> {
    Ok(sqlx::query_scalar!("SELECT count(*) AS \"count!\" FROM push_outbox WHERE kind = $1", kind.as_str())
        .fetch_one(db.pool())
        .await?)
}

/// How many journals of `cause` were posted (for one `cause_id` when given).
pub async fn journals_of(db: &Db, cause: &str, cause_id: Option<uuid::Uuid>) -> Result<i64, RepoError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM journals WHERE cause = $1 AND ($2::uuid IS NULL OR cause_id = $2)"#,
        cause,
        cause_id
    )
    .fetch_one(db.pool())
    .await?)
}

/// The push tokens an account holds.
pub async fn device_tokens(db: &Db, account: talktime_domain::ids::AccountId) -> Result<Vec<String>, RepoError> {
    Ok(sqlx::query_scalar!("SELECT token FROM devices WHERE account_id = $1 ORDER BY token", account.0)
        .fetch_all(db.pool())
        .await?)
}

/// Queues a backlog of `n` online alerts to `account`'s device `token`, due now.
pub async fn queue_online_alerts(
    db: &Db,
    account: talktime_domain::ids::AccountId,
    token: &str,
    n: i64,
) -> Result<(), RepoError> {
    sqlx::query!(
        "INSERT INTO push_outbox (id, account_id, token, kind, title, body) \
         SELECT gen_random_uuid(), $1, $2, 'ONLINE_ALERT', 'Online now', 'She is online' FROM generate_series(1, $3::bigint)",
        account.0,
        token,
        n
    )
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Moves the expiry of an account's promotional lots into the past, as if their days were up.
pub async fn expire_promo_lots(db: &Db, account: talktime_domain::ids::AccountId) -> Result<u64, RepoError> {
    Ok(sqlx::query!(
        "UPDATE promo_lots SET expires_at = clock_timestamp() - interval '1 second' WHERE account_id = $1",
        account.0
    )
    .execute(db.pool())
    .await?
    .rows_affected())
}

/// An Android device (`bulk-<id>`) for each account, in one statement.
pub async fn register_devices(db: &Db, accounts: &[talktime_domain::ids::AccountId]) -> Result<u64, RepoError> {
    let ids: Vec<uuid::Uuid> = accounts.iter().map(|a| a.0).collect();
    let done = sqlx::query!(
        "INSERT INTO devices (token, account_id, platform) SELECT 'bulk-' || id::text, id, 'android' \
         FROM unnest($1::uuid[]) AS a(id)",
        &ids
    )
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected())
}

/// Seconds between a broadcast's first and last push due times (its release spread).
pub async fn broadcast_spread_secs(db: &Db, broadcast: uuid::Uuid) -> Result<f64, RepoError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT coalesce(extract(epoch FROM max(next_attempt_at) - min(next_attempt_at)), 0)::float8 AS "secs!"
           FROM push_outbox WHERE broadcast_id = $1"#,
        broadcast
    )
    .fetch_one(db.pool())
    .await?)
}

/// The inputs of a session's settlement, as `session_funding` (SQL) takes them.
#[derive(Debug, Clone, Copy)]
pub struct FundingInputs {
    pub seconds: i64,
    pub user_rate: i64,
    pub telecaller_rate: i64,
    pub commission_hundredths: Option<i32>,
    pub free_seconds: i32,
    pub paid_balance: i64,
    pub promo_balance: i64,
}

/// What the SQL settlement rule makes of `inputs`: (free, promo, paid, earned, revenue,
/// marketing), to be checked against the domain's.
pub async fn session_funding(db: &Db, i: FundingInputs) -> Result<[i64; 6], RepoError> {
    let row = sqlx::query!(
        r#"SELECT free AS "free!", promo AS "promo!", paid AS "paid!", earned AS "earned!", revenue AS "revenue!",
                  marketing AS "marketing!"
           FROM session_funding($1, $2, $3, $4, $5, $6, $7)"#,
        i.seconds,
        i.user_rate,
        i.telecaller_rate,
        i.commission_hundredths,
        i.free_seconds,
        i.paid_balance,
        i.promo_balance
    )
    .fetch_one(db.pool())
    .await?;
    Ok([row.free, row.promo, row.paid, row.earned, row.revenue, row.marketing])
}
