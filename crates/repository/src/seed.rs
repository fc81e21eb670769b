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
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "demo data: {} plan(s), {} telecaller(s), {} admin(s) added (admin e-mail: {DEMO_ADMIN_EMAIL})",
            self.plans, self.telecallers, self.admins
        )
    }
}

pub const DEMO_ADMIN_EMAIL: &str = "admin@talktime.local";

/// (rupees, coins, discount %)
const PLANS: &[(i64, i64, i32)] = &[(49, 50, 0), (99, 110, 10), (199, 240, 15), (499, 650, 20)];

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
    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM plans").fetch_one(&mut *tx).await?;
    if existing == 0 {
        for (rupees, coins, discount) in PLANS {
            report.plans +=
                sqlx::query("INSERT INTO plans (id, amount_paise, coins, discount_percentage) VALUES ($1, $2, $3, $4)")
                    .bind(PlanId::new().0)
                    .bind(rupees * 100)
                    .bind(coins)
                    .bind(discount)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
        }
    }

    sqlx::query(
        "INSERT INTO app_config (id, inr_to_coin_ratio_hundredths, min_withdrawal_coins, user_audio_coins_per_sec, \
         user_video_coins_per_sec, telecaller_audio_coins_per_sec, telecaller_video_coins_per_sec, min_call_balance_seconds) \
         VALUES (true, 100, 500, 2, 4, 1, 2, 60) ON CONFLICT (id) DO NOTHING",
    )
    .execute(&mut *tx)
    .await?;

    for (phone, name, language, avatar, about) in TELECALLERS {
        let id: Option<uuid::Uuid> = sqlx::query_scalar(
            "INSERT INTO accounts (id, phone, role, name, dob, gender, language, profile) \
             VALUES ($1, $2, 'TELECALLER', $3, DATE '1996-04-12', 'FEMALE', $4, $5) \
             ON CONFLICT (phone) DO NOTHING RETURNING id",
        )
        .bind(AccountId::new().0)
        .bind(phone)
        .bind(name)
        .bind(language)
        .bind(avatar)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = id {
            sqlx::query(
                "INSERT INTO telecaller_profiles (account_id, about, approval_status) VALUES ($1, $2, 'APPROVED')",
            )
            .bind(id)
            .bind(about)
            .execute(&mut *tx)
            .await?;
            report.telecallers += 1;
        }
    }

    report.admins = sqlx::query(
        "INSERT INTO admins (id, email, name) VALUES ($1, $2, 'Demo Admin') ON CONFLICT (email) DO NOTHING",
    )
    .bind(talktime_domain::ids::AdminId::new().0)
    .bind(DEMO_ADMIN_EMAIL)
    .execute(&mut *tx)
    .await?
    .rows_affected();

    tx.commit().await?;
    Ok(report)
}
