//! Demo data for local use (`talktime seed --demo`). Every insert is idempotent.

use std::fmt;

use talktime_domain::ids::{AccountId, PlanId};

use crate::{Db, RepoError};

/// What the seed added this time.
#[derive(Debug, Default)]
pub struct SeedReport {
    pub plans: u64,
    pub telecallers: u64,
    pub admins: u64,
    pub gifts: u64,
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "demo data: {} plan(s), {} telecaller(s), {} gift(s), {} admin(s) added (admin e-mail: {DEMO_ADMIN_EMAIL})",
            self.plans, self.telecallers, self.gifts, self.admins
        )
    }
}

pub const DEMO_ADMIN_EMAIL: &str = "admin@talktime.local";

/// (rupees, coins, discount %; stored in hundredths of a percent)
const PLANS: &[(i64, i64, i32)] = &[(49, 50, 0), (99, 110, 10), (199, 240, 15), (499, 650, 20)];

/// (name, icon, coins)
const GIFTS: &[(&str, &str, i64)] =
    &[("Rose", "🌹", 10), ("Chocolate", "🍫", 50), ("Teddy", "🧸", 100), ("Crown", "👑", 500)];

/// (phone, name, language, avatar, about)
const TELECALLERS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "9000000101",
        "Ananya",
        "hindi",
        "avatar-2",
        "Friendly listener who loves music, movies and long conversations about life and travel.",
    ),
    (
        "9000000102",
        "Priya",
        "english",
        "avatar-4",
        "Happy to chat about books, careers and everyday things. Calm, patient and always kind.",
    ),
    (
        "9000000103",
        "Kavya",
        "tamil",
        "avatar-6",
        "Tamil and English speaker. Let us talk about food, cricket, family and your day at work.",
    ),
];

pub async fn demo(db: &Db) -> Result<SeedReport, RepoError> {
    let mut tx = db.begin().await?;
    let mut report = SeedReport::default();

    // Plans are seeded only into an empty catalog, so admin edits are never duplicated.
    let existing: i64 = sqlx::query_scalar!("SELECT count(*) AS \"count!\" FROM plans").fetch_one(&mut *tx).await?;
    if existing == 0 {
        for (rupees, coins, discount) in PLANS {
            report.plans += sqlx::query!(
                "INSERT INTO plans (id, amount_paise, coins, discount_hundredths) VALUES ($1, $2, $3, $4)",
                PlanId::new().0,
                rupees * 100,
                coins,
                discount * 100
            )
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
    }

    report.gifts = seed_gifts(&mut tx).await?;

    sqlx::query!("INSERT INTO app_config (id, inr_to_coin_ratio_hundredths, min_withdrawal_coins, user_audio_coins_per_sec, \
         user_video_coins_per_sec, telecaller_audio_coins_per_sec, telecaller_video_coins_per_sec, min_call_balance_seconds, \
         audio_commission_hundredths, video_commission_hundredths, audio_max_rate, video_max_rate) \
         VALUES (true, 100, 500, 2, 4, 1, 2, 60, 5000, 5000, 20, 40) ON CONFLICT (id) DO NOTHING")
    .execute(&mut *tx)
    .await?;

    for (phone, name, language, avatar, about) in TELECALLERS {
        let id: Option<uuid::Uuid> = sqlx::query_scalar!(
            "INSERT INTO accounts (id, phone, role, name, dob, gender, language, profile) \
             VALUES ($1, $2, 'TELECALLER', $3, DATE '1996-04-12', 'FEMALE', $4, $5) \
             ON CONFLICT (phone) DO NOTHING RETURNING id",
            AccountId::new().0,
            phone,
            name,
            language,
            avatar
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = id {
            sqlx::query!(
                "INSERT INTO telecaller_profiles (account_id, about, approval_status) VALUES ($1, $2, 'APPROVED')",
                id,
                about
            )
            .execute(&mut *tx)
            .await?;
            report.telecallers += 1;
        }
    }

    report.admins = sqlx::query!(
        "INSERT INTO admins (id, email, name) VALUES ($1, $2, 'Demo Admin') ON CONFLICT (email) DO NOTHING",
        talktime_domain::ids::AdminId::new().0,
        DEMO_ADMIN_EMAIL
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();

    tx.commit().await?;
    Ok(report)
}

/// The demo telecallers that exist (id and token version), for the demo hosts.
pub async fn demo_telecallers(db: &Db) -> Result<Vec<(AccountId, i32)>, RepoError> {
    let phones: Vec<String> = TELECALLERS.iter().map(|(phone, ..)| (*phone).to_owned()).collect();
    let rows = sqlx::query!(
        r#"SELECT a.id AS "id: AccountId", a.token_version FROM accounts a
           JOIN telecaller_profiles t ON t.account_id = a.id
           WHERE a.phone = ANY($1) AND a.status = 'ACTIVE' AND t.approval_status = 'APPROVED' ORDER BY a.phone"#,
        &phones as &[String]
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.token_version)).collect())
}

/// Accounts made in bulk for the load tool: `users` USERs with complete profiles and
/// `telecallers` approved TELECALLERs, their phones `6<run:5><n:7>` so runs never collide. One
/// statement per kind, whatever the numbers. Answers (users, telecallers).
pub async fn load_population(
    db: &Db,
    run: u32,
    users: usize,
    telecallers: usize,
) -> Result<(Vec<AccountId>, Vec<AccountId>), RepoError> {
    let user_ids: Vec<uuid::Uuid> = (0..users).map(|_| AccountId::new().0).collect();
    let telecaller_ids: Vec<uuid::Uuid> = (0..telecallers).map(|_| AccountId::new().0).collect();
    let phones = |offset: usize, n: usize| -> Vec<String> {
        (offset..offset + n).map(|i| format!("6{:05}{:07}", run % 100_000, i)).collect()
    };
    let mut tx = db.begin().await?;
    sqlx::query!(
        "INSERT INTO accounts (id, phone, role, name, dob, gender, language, profile) \
         SELECT id, phone, 'USER', 'Load User', DATE '1990-01-01', 'MALE', 'english', NULL \
         FROM unnest($1::uuid[], $2::text[]) AS u(id, phone)",
        &user_ids,
        &phones(0, users)
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO accounts (id, phone, role, name, dob, gender, language, profile) \
         SELECT id, phone, 'TELECALLER', 'Load Host', DATE '1995-01-01', 'FEMALE', 'english', 'avatar-1' \
         FROM unnest($1::uuid[], $2::text[]) AS t(id, phone)",
        &telecaller_ids,
        &phones(users, telecallers)
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO telecaller_profiles (account_id, about, approval_status) \
         SELECT id, 'A load-test host who answers every call promptly and talks for a little while.', 'APPROVED' \
         FROM unnest($1::uuid[]) AS t(id)",
        &telecaller_ids
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((user_ids.into_iter().map(AccountId).collect(), telecaller_ids.into_iter().map(AccountId).collect()))
}

/// The demo gift catalogue, like the plans only into an empty one; answers the gifts added.
async fn seed_gifts(tx: &mut crate::Tx) -> Result<u64, RepoError> {
    let existing: i64 = sqlx::query_scalar!("SELECT count(*) AS \"count!\" FROM gifts").fetch_one(&mut **tx).await?;
    let mut added = 0;
    if existing == 0 {
        for (name, icon, coins) in GIFTS {
            added += sqlx::query!(
                "INSERT INTO gifts (id, name, icon, coins) VALUES ($1, $2, $3, $4)",
                talktime_domain::ids::GiftId::new().0,
                name,
                icon,
                coins
            )
            .execute(&mut **tx)
            .await?
            .rows_affected();
        }
    }
    Ok(added)
}
