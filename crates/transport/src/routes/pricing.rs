//! Prices: `/admin/config` (grouped with labels to read, flat keys to write, audited), a
//! telecaller's own prices (`/telecaller/rates`) and their history for admins.

use actix_web::{HttpResponse, get, put, web};
use garde::Validate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{CurrentAdmin, CurrentTelecaller, ValidJson, ValidQuery};
use crate::views::{Envelope, ok};
use talktime_domain::ids::AccountId;
use talktime_domain::pricing::{Edit, HostRates, PriceBounds, RateChangeCause, RatesInForce};
use talktime_services::pricing::{ConfigInput, GstEdit, HerPrices, TdsEdit};

use super::rules::{ADMIN_PAGING, AdminPage, percent_hundredths};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_config).service(put_config).service(her_rates).service(set_rates).service(rate_history);
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
        "chat": {
            "userCoinPerSec": leaf(json!(c.user_chat_coins_per_sec), "User chat rate", "Coins per second a user pays for a chat (a telecaller's own chat price overrides it)"),
            "telecallerCoinPerSec": leaf(json!(c.telecaller_chat_coins_per_sec), "Telecaller chat earning", "Coins per second a telecaller earns on a chat at the default price"),
            "minBalanceSeconds": leaf(json!(c.min_chat_balance_seconds), "Minimum chat balance", "Seconds of chat a user must afford to request one"),
        },
        "commissionPercent": {
            "chat": leaf(json!(crate::views::percent(c.chat_commission_hundredths)), "Chat commission", "The platform's share of what a user pays for a chat (a telecaller's own share overrides it)"),
            "audio": leaf(json!(crate::views::percent(c.audio_commission_hundredths)), "Audio commission", "The platform's share of what a user pays for an audio call (a telecaller's own share overrides it)"),
            "video": leaf(json!(crate::views::percent(c.video_commission_hundredths)), "Video commission", "The platform's share of what a user pays for a video call (a telecaller's own share overrides it)"),
        },
        "priceBounds": {
            "audio": {
                "min": leaf(json!(c.audio_min_rate), "Lowest audio price", "The lowest price per second a telecaller may set for an audio call"),
                "max": leaf(json!(c.audio_max_rate), "Highest audio price", "The highest price per second a telecaller may set for an audio call"),
            },
            "video": {
                "min": leaf(json!(c.video_min_rate), "Lowest video price", "The lowest price per second a telecaller may set for a video call"),
                "max": leaf(json!(c.video_max_rate), "Highest video price", "The highest price per second a telecaller may set for a video call"),
            },
            "chat": {
                "min": leaf(json!(c.chat_min_rate), "Lowest chat price", "The lowest price per second a telecaller may set for a chat"),
                "max": leaf(json!(c.chat_max_rate), "Highest chat price", "The highest price per second a telecaller may set for a chat"),
            },
        },
        "promotions": {
            "signupBonusCoins": leaf(json!(c.signup_bonus_coins), "Signup bonus", "Promotional coins for a user who completes her profile (once per phone number ever)"),
            "firstRechargeBonusPercent": leaf(json!(crate::views::percent(c.first_recharge_bonus_hundredths)), "First-recharge bonus", "Promotional coins on a user's first recharge, as a share of the plan's coins"),
            "firstCallFreeSeconds": leaf(json!(c.first_call_free_seconds), "Free first call", "The first seconds of a user's first billed call, paid by marketing (the telecaller earns as usual)"),
            "referralBonusCoins": leaf(json!(c.referral_bonus_coins), "Referral bonus", "Promotional coins for both the referrer and the referee at the referee's first recharge"),
        },
        "gst": {
            "rate": leaf(json!(crate::views::percent(c.gst_rate_hundredths)), "GST rate", "GST percent on recharges"),
            "mode": leaf(json!(c.gst_mode), "GST mode", "INCLUSIVE: plan prices include GST; EXCLUSIVE: GST is added on top"),
            "operatorGstin": leaf(json!(c.operator_gstin), "Operator GSTIN", "The GSTIN on invoices"),
            "operatorState": leaf(json!(c.operator_state), "Operator state", "The operator's GST state code: buyers there pay CGST + SGST, others IGST"),
            "operatorLegalName": leaf(json!(c.operator_legal_name), "Legal name", "The seller's name on invoices"),
            "operatorAddress": leaf(json!(c.operator_address), "Address", "The seller's address on invoices"),
            "invoicePrefix": leaf(json!(c.invoice_prefix), "Invoice prefix", "Invoice numbers read PREFIX/2026-27/000001"),
            "sacCode": leaf(json!(c.sac_code), "SAC code", "The service's accounting code on invoices"),
        },
        "tds": {
            "ratePercentWithPan": leaf(json!(crate::views::percent(c.tds_rate_with_pan_hundredths)), "TDS with PAN", "Percent withheld from payouts to a telecaller whose PAN is verified"),
            "ratePercentWithoutPan": leaf(json!(crate::views::percent(c.tds_rate_without_pan_hundredths)), "TDS without PAN", "Percent withheld from payouts to a telecaller without a verified PAN"),
            "annualThresholdPaise": leaf(json!(c.tds_annual_threshold_paise), "TDS threshold", "Paise a telecaller may be paid in a financial year before TDS applies (then on the whole year)"),
            "section": leaf(json!(c.tds_section), "TDS section", "The Income Tax Act section named in the TDS export"),
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
    /// The platform's default chat price, coins per second (docs/chat.md).
    #[bound(range(min = 1, max = 1_000_000))]
    pub user_chat_coin_per_sec: Option<i64>,
    #[bound(range(min = 0, max = 1_000_000))]
    pub telecaller_chat_coin_per_sec: Option<i64>,
    /// Seconds at her chat price a user must afford to request a chat.
    #[bound(range(min = 1, max = 86_400))]
    pub min_chat_balance_seconds: Option<i64>,
    /// The platform's share of what a user pays, per call type (0–100, kept to the hundredth);
    /// her default rate follows it.
    #[garde(dive)]
    pub commission_percent: Option<CommissionPercentRequest>,
    /// The range each call type's own prices must stay in (coins per second); prices outside new
    /// bounds are moved to the nearest bound (audited).
    #[garde(dive)]
    pub price_bounds: Option<PriceBoundsRequest>,
    /// Promotional coins for a USER completing her profile, once per phone number ever (0: off).
    #[bound(range(min = 0, max = 1_000_000_000))]
    pub signup_bonus_coins: Option<i64>,
    /// Promotional coins on a user's first captured recharge, percent of the plan's coins (0–100,
    /// kept to the hundredth; 0: off).
    #[bound(range(min = 0.0, max = 100.0))]
    pub first_recharge_bonus_percent: Option<f64>,
    /// The first seconds of a user's first billed call, paid by marketing (0: off).
    #[bound(range(min = 0, max = 86_400))]
    pub first_call_free_seconds: Option<i32>,
    /// Promotional coins to the referrer and the referee at the referee's first recharge (0: off).
    #[bound(range(min = 0, max = 1_000_000_000))]
    pub referral_bonus_coins: Option<i64>,
    /// GST on recharges (docs/tax.md).
    #[garde(dive)]
    pub gst: Option<GstRequest>,
    /// TDS on payouts (docs/tax.md).
    #[garde(dive)]
    pub tds: Option<TdsRequest>,
}

/// Each optional. Which section and rates apply is the operator's accountant's decision.
#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TdsRequest {
    /// Percent withheld with a verified PAN, 0–100 (kept to the hundredth).
    #[bound(range(min = 0.0, max = 100.0))]
    pub rate_percent_with_pan: Option<f64>,
    /// Percent withheld without one, 0–100.
    #[bound(range(min = 0.0, max = 100.0))]
    pub rate_percent_without_pan: Option<f64>,
    /// Paise a telecaller may be paid in a financial year before TDS applies.
    #[bound(range(min = 0, max = 1_000_000_000_000i64))]
    pub annual_threshold_paise: Option<i64>,
    /// The section named in the export (`194J`).
    #[bound(chars(min = 1, max = 16))]
    pub section: Option<String>,
}

/// Each optional; `null` clears one of the operator's details.
#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GstRequest {
    /// GST percent, 0–100 (kept to the hundredth).
    #[bound(range(min = 0.0, max = 100.0))]
    pub rate: Option<f64>,
    /// `INCLUSIVE` (the plan price includes GST) or `EXCLUSIVE` (added on top).
    #[garde(skip)]
    #[schema(inline)]
    pub mode: Option<talktime_domain::tax::GstMode>,
    /// The operator's GSTIN (shape checked).
    #[serde(default, deserialize_with = "super::rules::double_option")]
    #[garde(skip)]
    #[schema(value_type = Option<String>)]
    pub operator_gstin: Option<Option<String>>,
    /// The operator's GST state code (`01`–`38`).
    #[serde(default, deserialize_with = "super::rules::double_option")]
    #[garde(skip)]
    #[schema(value_type = Option<String>)]
    pub operator_state: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::rules::double_option")]
    #[bound(chars(min = 1, max = 200))]
    #[schema(value_type = Option<String>)]
    pub operator_legal_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::rules::double_option")]
    #[bound(chars(min = 1, max = 500))]
    #[schema(value_type = Option<String>)]
    pub operator_address: Option<Option<String>>,
    /// What invoice numbers start with (`TT/2026-27/000001`).
    #[bound(chars(min = 1, max = 16))]
    pub invoice_prefix: Option<String>,
    /// The SAC code on invoices.
    #[bound(chars(min = 4, max = 8))]
    pub sac_code: Option<String>,
}

/// `{audio: {min, max}, video: {min, max}}`, each call type optional.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceBoundsRequest {
    #[garde(dive)]
    pub audio: Option<BoundsRequest>,
    #[garde(dive)]
    pub video: Option<BoundsRequest>,
    #[garde(dive)]
    pub chat: Option<BoundsRequest>,
}

/// Coins per second, `min` ≤ `max`.
#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BoundsRequest {
    #[bound(range(min = 1, max = 1_000_000))]
    pub min: i64,
    #[bound(range(min = 1, max = 1_000_000))]
    pub max: i64,
}

impl From<&BoundsRequest> for PriceBounds {
    fn from(b: &BoundsRequest) -> Self {
        PriceBounds { min: b.min, max: b.max }
    }
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
    #[bound(range(min = 0.0, max = 100.0))]
    pub chat: Option<f64>,
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
    let (commission_audio, commission_video, commission_chat) =
        b.commission_percent.map_or((None, None, None), |c| (c.audio, c.video, c.chat));
    let bounds = b.price_bounds.as_ref();

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
        chat: Edit {
            user_rate: b.user_chat_coin_per_sec,
            telecaller_rate: b.telecaller_chat_coin_per_sec,
            commission_hundredths: commission_chat.map(percent_hundredths),
        },
        min_chat_balance_seconds: b.min_chat_balance_seconds,
        signup_bonus_coins: b.signup_bonus_coins,
        first_recharge_bonus_hundredths: b.first_recharge_bonus_percent.map(percent_hundredths),
        first_call_free_seconds: b.first_call_free_seconds,
        referral_bonus_coins: b.referral_bonus_coins,
        gst: b
            .gst
            .map(|g| GstEdit {
                rate_hundredths: g.rate.map(percent_hundredths),
                mode: g.mode,
                operator_gstin: g.operator_gstin,
                operator_state: g.operator_state,
                operator_legal_name: g.operator_legal_name,
                operator_address: g.operator_address,
                invoice_prefix: g.invoice_prefix,
                sac_code: g.sac_code,
            })
            .unwrap_or_default(),
        tds: b
            .tds
            .map(|t| TdsEdit {
                rate_with_pan_hundredths: t.rate_percent_with_pan.map(percent_hundredths),
                rate_without_pan_hundredths: t.rate_percent_without_pan.map(percent_hundredths),
                annual_threshold_paise: t.annual_threshold_paise,
                section: t.section,
            })
            .unwrap_or_default(),
        audio_bounds: bounds.and_then(|b| b.audio.as_ref()).map(PriceBounds::from),
        video_bounds: bounds.and_then(|b| b.video.as_ref()).map(PriceBounds::from),
        chat_bounds: bounds.and_then(|b| b.chat.as_ref()).map(PriceBounds::from),
    };
    if input.is_empty() {
        return Err(ApiError::field("body", "give at least one setting"));
    }
    let saved = state.admin.update_config(admin.0.id, input).await?;
    Ok(ok("Config updated", config_view(&saved)))
}

/// `{min, max}` coins per second.
#[derive(Debug, Serialize, ToSchema)]
pub struct BoundsView {
    pub min: i64,
    pub max: i64,
}

impl From<PriceBounds> for BoundsView {
    fn from(b: PriceBounds) -> Self {
        Self { min: b.min, max: b.max }
    }
}

/// `{audio, video}`: her own prices, `null` where she charges the default.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnRatesView {
    pub audio: Option<i64>,
    pub video: Option<i64>,
    pub chat: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PriceBoundsView {
    pub audio: BoundsView,
    pub video: BoundsView,
    pub chat: BoundsView,
}

/// A telecaller's prices as she sees them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HerRatesView {
    /// What her calls cost now, coins per second (her own, or the platform's default).
    pub rates: RatesInForce,
    /// What she set (`null`: the default).
    pub own: OwnRatesView,
    pub price_bounds: PriceBoundsView,
    /// When she may change them again (`null`: now).
    pub next_change_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<HerPrices> for HerRatesView {
    fn from(p: HerPrices) -> Self {
        Self {
            rates: p.in_force,
            own: OwnRatesView { audio: p.own.audio, video: p.own.video, chat: p.own.chat },
            price_bounds: PriceBoundsView {
                audio: p.audio_bounds.into(),
                video: p.video_bounds.into(),
                chat: p.chat_bounds.into(),
            },
            next_change_at: p.next_change_at,
        }
    }
}

/// Her prices, the bounds they must stay in, and when she may change them.
#[utoipa::path(tag = "telecaller", security(("bearer" = [])),
    responses((status = 200, body = Envelope<HerRatesView>)))]
#[get("/telecaller/rates")]
pub(crate) async fn her_rates(
    state: web::Data<AppState>,
    telecaller: CurrentTelecaller,
) -> Result<HttpResponse, ApiError> {
    Ok(ok("Rates fetched successfully", HerRatesView::from(state.pricing.prices_of(&telecaller.0).await?)))
}

/// Both required: coins per second the user pays, or `null` to charge the platform's default.
/// The range is the operator's `priceBounds` (checked by the service, which names them).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RatesRequest {
    #[serde(default, deserialize_with = "super::rules::double_option")]
    #[garde(skip)]
    #[schema(value_type = Option<i64>, required = true, minimum = 1)]
    pub audio_coins_per_second: Option<Option<i64>>,
    #[serde(default, deserialize_with = "super::rules::double_option")]
    #[garde(skip)]
    #[schema(value_type = Option<i64>, required = true, minimum = 1)]
    pub video_coins_per_second: Option<Option<i64>>,
    /// Her chat price (docs/chat.md); optional: absent keeps what she has, `null` the default.
    #[serde(default, deserialize_with = "super::rules::double_option")]
    #[garde(skip)]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub chat_coins_per_second: Option<Option<i64>>,
}

/// Set her own prices: inside `priceBounds` (400 `rate_out_of_bounds` with `field`, `min`,
/// `max`), at most once per `RATE_CHANGE_COOLDOWN_HOURS` (429 `rate_change_too_soon` with
/// `opensAt`). Calls already placed keep their price.
#[utoipa::path(tag = "telecaller", security(("bearer" = [])), request_body = RatesRequest,
    responses((status = 200, body = Envelope<HerRatesView>), (status = 400, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
#[put("/telecaller/rates")]
pub(crate) async fn set_rates(
    state: web::Data<AppState>,
    telecaller: CurrentTelecaller,
    body: ValidJson<RatesRequest>,
) -> Result<HttpResponse, ApiError> {
    let Some(audio) = body.0.audio_coins_per_second else {
        return Err(ApiError::field("audioCoinsPerSecond", "is required"));
    };
    let Some(video) = body.0.video_coins_per_second else {
        return Err(ApiError::field("videoCoinsPerSecond", "is required"));
    };
    let chat = body.0.chat_coins_per_second.unwrap_or(telecaller.0.host_rates().chat);
    let saved = state.pricing.set_rates(&telecaller.0, HostRates { audio, video, chat }).await?;
    Ok(ok("Rates updated", HerRatesView::from(saved)))
}

/// One entry of her price history.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateChangeView {
    /// Coins per second, `null`: the platform's default.
    pub audio_coins_per_second: Option<i64>,
    pub video_coins_per_second: Option<i64>,
    pub chat_coins_per_second: Option<i64>,
    /// `SET` by her, or `CLAMPED` by new bounds.
    #[schema(inline)]
    pub cause: RateChangeCause,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateHistoryView {
    pub changes: Vec<RateChangeView>,
    pub total: i64,
    pub total_pages: i64,
}

/// A telecaller's price history, newest first.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path), AdminPage),
    responses((status = 200, body = Envelope<RateHistoryView>), (status = 404, body = ErrorBody)))]
#[get("/admin/telecallers/{id}/rates")]
pub(crate) async fn rate_history(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    path: web::Path<AccountId>,
    query: ValidQuery<AdminPage>,
) -> Result<HttpResponse, ApiError> {
    let page = ADMIN_PAGING.request(query.0.page, query.0.limit);
    let found = state.pricing.history(path.into_inner(), page).await?;
    let changes = found
        .rows
        .into_iter()
        .map(|c| RateChangeView {
            audio_coins_per_second: c.audio_rate,
            video_coins_per_second: c.video_rate,
            chat_coins_per_second: c.chat_rate,
            cause: c.cause,
            created_at: c.created_at,
        })
        .collect();
    let view = RateHistoryView { changes, total: found.total, total_pages: page.total_pages(found.total) };
    Ok(ok("Rate history fetched successfully", view))
}
