//! Pricing: the single row of admin-editable prices (`app_config`).

use talktime_domain::pricing::AppConfig;

use crate::{Executor, RepoError, Tx};

/// `query_as!(AppConfig, …)`: `$head`, the prices' columns (written once, here), then `$tail`.
macro_rules! config_query {
    ($head:tt, $tail:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            AppConfig,
            $head
                + "inr_to_coin_ratio_hundredths, min_withdrawal_coins, user_audio_coins_per_sec, \
                   user_video_coins_per_sec, telecaller_audio_coins_per_sec, telecaller_video_coins_per_sec, \
                   min_call_balance_seconds, audio_commission_hundredths, video_commission_hundredths, updated_at"
                + $tail
            $(, $arg)*
        )
    };
}

pub async fn get(ex: impl Executor<'_>) -> Result<AppConfig, RepoError> {
    Ok(config_query!("SELECT ", " FROM app_config WHERE id").fetch_one(ex).await?)
}

/// The prices, locked until the transaction ends (an update reads, checks and writes them).
pub async fn lock(ex: &mut Tx) -> Result<AppConfig, RepoError> {
    Ok(config_query!("SELECT ", " FROM app_config WHERE id FOR UPDATE").fetch_one(&mut **ex).await?)
}

pub async fn save(ex: &mut Tx, c: &AppConfig) -> Result<AppConfig, RepoError> {
    Ok(config_query!(
        "UPDATE app_config SET inr_to_coin_ratio_hundredths = $1, min_withdrawal_coins = $2, \
         user_audio_coins_per_sec = $3, user_video_coins_per_sec = $4, telecaller_audio_coins_per_sec = $5, \
         telecaller_video_coins_per_sec = $6, min_call_balance_seconds = $7, audio_commission_hundredths = $8, \
         video_commission_hundredths = $9, updated_at = now() WHERE id RETURNING ",
        "",
        c.inr_to_coin_ratio_hundredths,
        c.min_withdrawal_coins,
        c.user_audio_coins_per_sec,
        c.user_video_coins_per_sec,
        c.telecaller_audio_coins_per_sec,
        c.telecaller_video_coins_per_sec,
        c.min_call_balance_seconds,
        c.audio_commission_hundredths,
        c.video_commission_hundredths
    )
    .fetch_one(&mut **ex)
    .await?)
}
