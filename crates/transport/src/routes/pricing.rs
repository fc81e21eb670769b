//! Prices (`/admin/config`): grouped with labels to read, flat keys to write, audited.

use actix_web::{HttpResponse, get, put, web};
use garde::Validate;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{CurrentAdmin, ValidJson};
use crate::views::ok;
use talktime_domain::pricing::Edit;
use talktime_services::pricing::ConfigInput;

use super::rules::percent_hundredths;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_config).service(put_config);
}

fn leaf(value: serde_json::Value, label: &str, description: &str) -> serde_json::Value {
    json!({ "value": value, "label": label, "description": description })
}

fn config_view(c: &talktime_domain::pricing::AppConfig) -> serde_json::Value {
    json!({
        "withdrawal": {
            "inrToCoinRatio": leaf(json!(talktime_domain::money::from_hundredths(c.inr_to_coin_ratio_hundredths)), "Coins per rupee", "How many coins make one rupee when a telecaller withdraws"),
            "minWithdrawalCoins": leaf(json!(c.min_withdrawal_coins), "Minimum withdrawal", "The fewest coins a telecaller may withdraw at once"),
        },
        "videoCall": {
            "userCoinPerSec": leaf(json!(c.user_video_coins_per_sec), "User video rate", "Coins per second a user pays for a video call"),
            "telecallerCoinPerSec": leaf(json!(c.telecaller_video_coins_per_sec), "Telecaller video earning", "Coins per second a telecaller earns on a video call"),
        },
        "audioCall": {
            "userCoinPerSec": leaf(json!(c.user_audio_coins_per_sec), "User audio rate", "Coins per second a user pays for an audio call"),
            "telecallerCoinPerSec": leaf(json!(c.telecaller_audio_coins_per_sec), "Telecaller audio earning", "Coins per second a telecaller earns on an audio call"),
        },
        "commissionPercent": {
            "audio": leaf(json!(crate::views::percent(c.audio_commission_hundredths)), "Audio commission", "The platform's share of what a user pays for an audio call (a telecaller's own share overrides it)"),
            "video": leaf(json!(crate::views::percent(c.video_commission_hundredths)), "Video commission", "The platform's share of what a user pays for a video call (a telecaller's own share overrides it)"),
        },
        "call": {
            "minBalanceSeconds": leaf(json!(c.min_call_balance_seconds), "Minimum call balance", "Seconds of talk a user must afford to start a call"),
        },
        "updatedAt": c.updated_at,
    })
}

/// The prices, grouped, each with a label and a description.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    responses((status = 200, body = Envelope<Object>)))]
#[get("/admin/config")]
pub(crate) async fn get_config(state: web::Data<AppState>, _admin: CurrentAdmin) -> Result<HttpResponse, ApiError> {
    Ok(ok("Config fetched successfully", config_view(&state.admin.config().await?)))
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConfigRequest {
    /// ≥ 0.01.
    #[garde(skip)]
    #[schema(minimum = 0.01, maximum = 1_000_000_000f64)]
    pub inr_to_coin_ratio: Option<f64>,
    #[bound(range(min = 1, max = 1_000_000_000_000i64))]
    pub min_withdrawal_coins: Option<i64>,
    #[bound(range(min = 1, max = 1_000_000))]
    pub user_video_call_coin_per_sec: Option<i64>,
    #[bound(range(min = 1, max = 1_000_000))]
    pub user_audio_call_coin_per_sec: Option<i64>,
    #[bound(range(min = 1, max = 1_000_000))]
    pub telecaller_video_call_coin_per_sec: Option<i64>,
    #[bound(range(min = 1, max = 1_000_000))]
    pub telecaller_audio_call_coin_per_sec: Option<i64>,
    #[bound(range(min = 1, max = 86_400))]
    pub min_call_balance_seconds: Option<i64>,
    /// The platform's share of what a user pays, per call type (0–100, kept to the hundredth);
    /// her default rate follows it.
    #[garde(dive)]
    pub commission_percent: Option<CommissionPercentRequest>,
}

/// `{audio, video}`, each optional.
#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommissionPercentRequest {
    #[bound(range(min = 0.0, max = 100.0))]
    pub audio: Option<f64>,
    #[bound(range(min = 0.0, max = 100.0))]
    pub video: Option<f64>,
}

/// Change prices (the flat keys the admin panel sends, at least one). New prices apply to calls
/// that start afterwards.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    request_body = ConfigRequest, responses((status = 200, body = Envelope<Object>), (status = 400, body = ErrorBody)))]
#[put("/admin/config")]
pub(crate) async fn put_config(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    body: ValidJson<ConfigRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let ratio = match b.inr_to_coin_ratio {
        None => None,
        Some(r) if (0.01..=1e9).contains(&r) => Some((r * 100.0).round() as i64),
        Some(_) => return Err(ApiError::field("inrToCoinRatio", "must be at least 0.01")),
    };
    let (commission_audio, commission_video) = b.commission_percent.map_or((None, None), |c| (c.audio, c.video));

    let input = ConfigInput {
        inr_to_coin_ratio_hundredths: ratio,
        min_withdrawal_coins: b.min_withdrawal_coins,
        min_call_balance_seconds: b.min_call_balance_seconds,
        audio: Edit {
            user_rate: b.user_audio_call_coin_per_sec,
            telecaller_rate: b.telecaller_audio_call_coin_per_sec,
            commission_hundredths: commission_audio.map(percent_hundredths),
        },
        video: Edit {
            user_rate: b.user_video_call_coin_per_sec,
            telecaller_rate: b.telecaller_video_call_coin_per_sec,
            commission_hundredths: commission_video.map(percent_hundredths),
        },
    };
    if input.is_empty() {
        return Err(ApiError::field("body", "give at least one setting"));
    }
    let saved = state.admin.update_config(admin.0.id, input).await?;
    Ok(ok("Config updated", config_view(&saved)))
}
