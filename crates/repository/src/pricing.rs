//! Pricing: the single row of admin-editable prices (`app_config`) and the telecallers' own
//! prices inside its bounds.

use chrono::{DateTime, Utc};
use talktime_domain::ids::AccountId;
use talktime_domain::page::Page;
use talktime_domain::pricing::{AppConfig, HostRates, PriceBounds, RateChange, RateChangeCause};
use talktime_domain::tax::GstMode;

use crate::{Executor, RepoError, Tx};

/// `query_as!(AppConfig, …)`: `$head`, the prices' columns (written once, here), then `$tail`.
macro_rules! config_query {
    ($head:tt, $tail:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            AppConfig,
            $head
                + "inr_to_coin_ratio_hundredths, min_withdrawal_coins, user_audio_coins_per_sec, \
                   user_video_coins_per_sec, telecaller_audio_coins_per_sec, telecaller_video_coins_per_sec, \
                   min_call_balance_seconds, audio_commission_hundredths, video_commission_hundredths, audio_min_rate, \
                   audio_max_rate, video_min_rate, video_max_rate, user_chat_coins_per_sec, telecaller_chat_coins_per_sec, \
                   chat_commission_hundredths, chat_min_rate, chat_max_rate, min_chat_balance_seconds, signup_bonus_coins, first_recharge_bonus_hundredths, \
                   first_call_free_seconds, referral_bonus_coins, gst_rate_hundredths, \
                   gst_mode AS \"gst_mode: GstMode\", operator_gstin, operator_state, operator_legal_name, operator_address, \
                   invoice_prefix, sac_code, tds_rate_with_pan_hundredths, tds_rate_without_pan_hundredths, \
                   tds_annual_threshold_paise, tds_section, updated_at"
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
         video_commission_hundredths = $9, audio_min_rate = $10, audio_max_rate = $11, video_min_rate = $12, \
         video_max_rate = $13, signup_bonus_coins = $14, first_recharge_bonus_hundredths = $15, \
         first_call_free_seconds = $16, referral_bonus_coins = $17, gst_rate_hundredths = $18, gst_mode = $19, \
         operator_gstin = $20, operator_state = $21, operator_legal_name = $22, operator_address = $23, \
         invoice_prefix = $24, sac_code = $25, tds_rate_with_pan_hundredths = $26, \
         tds_rate_without_pan_hundredths = $27, tds_annual_threshold_paise = $28, tds_section = $29, \
         user_chat_coins_per_sec = $30, telecaller_chat_coins_per_sec = $31, chat_commission_hundredths = $32, \
         chat_min_rate = $33, chat_max_rate = $34, min_chat_balance_seconds = $35, \
         updated_at = now() WHERE id RETURNING ",
        "",
        c.inr_to_coin_ratio_hundredths,
        c.min_withdrawal_coins,
        c.user_audio_coins_per_sec,
        c.user_video_coins_per_sec,
        c.telecaller_audio_coins_per_sec,
        c.telecaller_video_coins_per_sec,
        c.min_call_balance_seconds,
        c.audio_commission_hundredths,
        c.video_commission_hundredths,
        c.audio_min_rate,
        c.audio_max_rate,
        c.video_min_rate,
        c.video_max_rate,
        c.signup_bonus_coins,
        c.first_recharge_bonus_hundredths,
        c.first_call_free_seconds,
        c.referral_bonus_coins,
        c.gst_rate_hundredths,
        c.gst_mode.as_str(),
        c.operator_gstin,
        c.operator_state,
        c.operator_legal_name,
        c.operator_address,
        c.invoice_prefix,
        c.sac_code,
        c.tds_rate_with_pan_hundredths,
        c.tds_rate_without_pan_hundredths,
        c.tds_annual_threshold_paise,
        c.tds_section,
        c.user_chat_coins_per_sec,
        c.telecaller_chat_coins_per_sec,
        c.chat_commission_hundredths,
        c.chat_min_rate,
        c.chat_max_rate,
        c.min_chat_balance_seconds
    )
    .fetch_one(&mut **ex)
    .await?)
}

/// The prices, held against an update until the transaction ends (a telecaller's price is
/// checked against the bounds an admin may be changing).
pub async fn share(ex: &mut Tx) -> Result<AppConfig, RepoError> {
    Ok(config_query!("SELECT ", " FROM app_config WHERE id FOR SHARE").fetch_one(&mut **ex).await?)
}

/// What setting her price found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatesSet {
    /// Set (and logged); her prices before.
    Set(HostRates),
    /// She set them within the cooldown: she may again from this time.
    TooSoon(DateTime<Utc>),
    NotATelecaller,
}

/// Sets her own prices (`None`: the default) unless she set them within `cooldown_secs`, and logs
/// the change; one statement, so two racing changes cannot both pass the cooldown.
pub async fn set_rates(
    ex: &mut Tx,
    telecaller: AccountId,
    rates: HostRates,
    cooldown_secs: f64,
) -> Result<RatesSet, RepoError> {
    let row = sqlx::query!(
        r#"WITH old AS (SELECT account_id, audio_rate, video_rate, chat_rate, rates_set_at FROM telecaller_profiles
                        WHERE account_id = $1 FOR UPDATE),
                changed AS (UPDATE telecaller_profiles t SET audio_rate = $2, video_rate = $3, chat_rate = $5,
                                   rates_set_at = clock_timestamp(), updated_at = now()
                            FROM old WHERE t.account_id = old.account_id
                              AND (old.rates_set_at IS NULL
                                   OR old.rates_set_at <= clock_timestamp() - make_interval(secs => $4))
                            RETURNING t.account_id),
                logged AS (INSERT INTO telecaller_rate_changes (telecaller_id, audio_rate, video_rate, chat_rate, cause)
                           SELECT account_id, $2, $3, $5, 'SET' FROM changed)
           SELECT old.audio_rate, old.video_rate, old.chat_rate, old.rates_set_at + make_interval(secs => $4) AS opens_at,
                  EXISTS (SELECT 1 FROM changed) AS "changed!"
           FROM old"#,
        telecaller.0,
        rates.audio,
        rates.video,
        cooldown_secs,
        rates.chat
    )
    .fetch_optional(&mut **ex)
    .await?;
    Ok(match row {
        None => RatesSet::NotATelecaller,
        Some(row) if row.changed => {
            RatesSet::Set(HostRates { audio: row.audio_rate, video: row.video_rate, chat: row.chat_rate })
        }
        Some(row) => RatesSet::TooSoon(row.opens_at.unwrap_or_else(Utc::now)),
    })
}

/// A price new bounds moved: whose, from what, to what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clamped {
    pub telecaller: AccountId,
    pub before: HostRates,
    pub after: HostRates,
}

/// Moves every own price outside the bounds to the nearest one inside (logged as CLAMPED).
pub async fn clamp_rates(
    ex: &mut Tx,
    audio: PriceBounds,
    video: PriceBounds,
    chat: PriceBounds,
) -> Result<Vec<Clamped>, RepoError> {
    let rows = sqlx::query!(
        r#"WITH old AS (SELECT account_id, audio_rate, video_rate, chat_rate FROM telecaller_profiles
                        WHERE audio_rate NOT BETWEEN $1 AND $2 OR video_rate NOT BETWEEN $3 AND $4
                           OR chat_rate NOT BETWEEN $5 AND $6 FOR UPDATE),
                changed AS (UPDATE telecaller_profiles t SET
                                audio_rate = CASE WHEN t.audio_rate IS NOT NULL THEN least(greatest(t.audio_rate, $1), $2) END,
                                video_rate = CASE WHEN t.video_rate IS NOT NULL THEN least(greatest(t.video_rate, $3), $4) END,
                                chat_rate = CASE WHEN t.chat_rate IS NOT NULL THEN least(greatest(t.chat_rate, $5), $6) END,
                                updated_at = now()
                            FROM old WHERE t.account_id = old.account_id
                            RETURNING t.account_id, t.audio_rate, t.video_rate, t.chat_rate),
                logged AS (INSERT INTO telecaller_rate_changes (telecaller_id, audio_rate, video_rate, chat_rate, cause)
                           SELECT account_id, audio_rate, video_rate, chat_rate, 'CLAMPED' FROM changed)
           SELECT c.account_id AS "account_id: AccountId", o.audio_rate AS before_audio, o.video_rate AS before_video,
                  o.chat_rate AS before_chat, c.audio_rate, c.video_rate, c.chat_rate
           FROM changed c JOIN old o USING (account_id)"#,
        audio.min,
        audio.max,
        video.min,
        video.max,
        chat.min,
        chat.max
    )
    .fetch_all(&mut **ex)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Clamped {
            telecaller: r.account_id,
            before: HostRates { audio: r.before_audio, video: r.before_video, chat: r.before_chat },
            after: HostRates { audio: r.audio_rate, video: r.video_rate, chat: r.chat_rate },
        })
        .collect())
}

/// Her price history, newest first, with the total (index `telecaller_rate_changes_idx`).
pub async fn rate_history(
    db: &crate::Db,
    telecaller: AccountId,
    limit: i64,
    offset: i64,
) -> Result<Page<RateChange>, RepoError> {
    crate::paged(
        sqlx::query_as!(
            RateChange,
            r#"SELECT audio_rate, video_rate, chat_rate, cause AS "cause: RateChangeCause", created_at FROM telecaller_rate_changes
               WHERE telecaller_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"#,
            telecaller.0,
            limit,
            offset
        )
        .fetch_all(db.pool()),
        sqlx::query_scalar!(
            r#"SELECT count(*) AS "count!" FROM telecaller_rate_changes WHERE telecaller_id = $1"#,
            telecaller.0
        )
        .fetch_one(db.pool()),
    )
    .await
}
