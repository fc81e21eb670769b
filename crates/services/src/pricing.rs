//! The prices operators set (audited): per-second rates, the withdrawal ratio and minimums.

use serde_json::json;
use talktime_domain::call::CallType;
use talktime_domain::ids::AdminId;
use talktime_domain::pricing::{AppConfig, Edit, reconcile};
use talktime_repository::pricing;
use talktime_repository::{RepoError, audit};

use crate::ServiceError;
use crate::admin::AdminService;

/// Price changes; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct ConfigInput {
    pub inr_to_coin_ratio_hundredths: Option<i64>,
    pub min_withdrawal_coins: Option<i64>,
    pub min_call_balance_seconds: Option<i64>,
    /// Each call type's user rate, telecaller rate and commission (see `pricing::reconcile`).
    pub audio: Edit,
    pub video: Edit,
}

impl ConfigInput {
    /// Nothing to change.
    pub fn is_empty(&self) -> bool {
        self.inr_to_coin_ratio_hundredths.is_none()
            && self.min_withdrawal_coins.is_none()
            && self.min_call_balance_seconds.is_none()
            && self.audio == Edit::default()
            && self.video == Edit::default()
    }
}

fn config_json(c: &AppConfig) -> serde_json::Value {
    json!({
        "inrToCoinRatioHundredths": c.inr_to_coin_ratio_hundredths, "minWithdrawalCoins": c.min_withdrawal_coins,
        "userAudioCallCoinPerSec": c.user_audio_coins_per_sec, "userVideoCallCoinPerSec": c.user_video_coins_per_sec,
        "telecallerAudioCallCoinPerSec": c.telecaller_audio_coins_per_sec,
        "telecallerVideoCallCoinPerSec": c.telecaller_video_coins_per_sec, "minCallBalanceSeconds": c.min_call_balance_seconds,
        "commissionHundredths": { "audio": c.audio_commission_hundredths, "video": c.video_commission_hundredths },
    })
}

impl AdminService {
    pub async fn config(&self) -> Result<AppConfig, ServiceError> {
        Ok(pricing::get(self.db().pool()).await?)
    }

    /// New prices apply to calls that start afterwards (running calls keep the rates copied onto them).
    pub async fn update_config(&self, by: AdminId, input: ConfigInput) -> Result<AppConfig, ServiceError> {
        let mut tx = self.db().begin().await?;
        let before = pricing::lock(&mut tx).await?;
        let mut after = AppConfig {
            inr_to_coin_ratio_hundredths: input
                .inr_to_coin_ratio_hundredths
                .unwrap_or(before.inr_to_coin_ratio_hundredths),
            min_withdrawal_coins: input.min_withdrawal_coins.unwrap_or(before.min_withdrawal_coins),
            min_call_balance_seconds: input.min_call_balance_seconds.unwrap_or(before.min_call_balance_seconds),
            ..before.clone()
        };
        for (call_type, edit) in [(CallType::Audio, input.audio), (CallType::Video, input.video)] {
            after.set_prices(call_type, reconcile(before.prices(call_type), edit));
        }
        if after.telecaller_audio_coins_per_sec > after.user_audio_coins_per_sec
            || after.telecaller_video_coins_per_sec > after.user_video_coins_per_sec
        {
            return Err(ServiceError::invalid(
                "telecaller_rate_above_user_rate",
                "A telecaller's rate can never be above the user's rate",
            ));
        }
        let saved = pricing::save(&mut tx, &after).await?;
        audit::audit(&mut tx, by, "config.update", "config", None, config_json(&before), config_json(&saved)).await?;
        tx.commit().await.map_err(RepoError::from)?;
        self.auth().cache().changed(talktime_repository::changes::Change::Config);
        Ok(saved)
    }
}
