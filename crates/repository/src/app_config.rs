//! The single row of admin-editable prices.

use chrono::{DateTime, Utc};

use crate::{Executor, RepoError};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AppConfig {
    /// Coins per rupee × 100.
    pub inr_to_coin_ratio_hundredths: i64,
    pub min_withdrawal_coins: i64,
    pub user_audio_coins_per_sec: i64,
    pub user_video_coins_per_sec: i64,
    pub telecaller_audio_coins_per_sec: i64,
    pub telecaller_video_coins_per_sec: i64,
    pub min_call_balance_seconds: i64,
    pub updated_at: DateTime<Utc>,
}

pub async fn get(ex: impl Executor<'_>) -> Result<AppConfig, RepoError> {
    Ok(sqlx::query_as(
        "SELECT inr_to_coin_ratio_hundredths, min_withdrawal_coins, user_audio_coins_per_sec, \
         user_video_coins_per_sec, telecaller_audio_coins_per_sec, telecaller_video_coins_per_sec, \
         min_call_balance_seconds, updated_at FROM app_config WHERE id",
    )
    .fetch_one(ex)
    .await?)
}
