//! Prices: what operators set (audited): default per-second rates, commissions, the bounds of
//! the telecallers' own prices, the withdrawal ratio and minimums; and each telecaller's own
//! price inside those bounds.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use talktime_domain::account::{Account, Role};
use talktime_domain::call::CallType;
use talktime_domain::ids::{AccountId, AdminId};
use talktime_domain::page::Page;
use talktime_domain::pricing::{AppConfig, Edit, HostRates, PriceBounds, RateChange, RatesInForce, reconcile};
use talktime_repository::changes::Change;
use talktime_repository::pricing::{self, RatesSet};
use talktime_repository::{Db, RepoError, audit};

use crate::ServiceError;
use crate::admin::AdminService;
use crate::cache::ReadCache;
use crate::catalog::PageRequest;

/// Price changes; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct ConfigInput {
    pub inr_to_coin_ratio_hundredths: Option<i64>,
    pub min_withdrawal_coins: Option<i64>,
    pub min_call_balance_seconds: Option<i64>,
    /// Each call type's user rate, telecaller rate and commission (see `pricing::reconcile`).
    pub audio: Edit,
    pub video: Edit,
    pub chat: Edit,
    /// New bounds of the telecallers' own prices; prices outside them are clamped.
    pub audio_bounds: Option<PriceBounds>,
    pub video_bounds: Option<PriceBounds>,
    pub chat_bounds: Option<PriceBounds>,
    /// The seconds at her chat price a user needs to request a chat.
    pub min_chat_balance_seconds: Option<i64>,
    /// Promotions (docs/money.md).
    pub signup_bonus_coins: Option<i64>,
    pub first_recharge_bonus_hundredths: Option<i32>,
    pub first_call_free_seconds: Option<i32>,
    pub referral_bonus_coins: Option<i64>,
    /// GST settings (docs/tax.md).
    pub gst: GstEdit,
    /// TDS settings (docs/tax.md).
    pub tds: TdsEdit,
}

/// What an admin changes of the TDS settings; `None` keeps a value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TdsEdit {
    pub rate_with_pan_hundredths: Option<i32>,
    pub rate_without_pan_hundredths: Option<i32>,
    pub annual_threshold_paise: Option<i64>,
    pub section: Option<String>,
}

impl TdsEdit {
    fn apply(self, c: &mut AppConfig) {
        c.tds_rate_with_pan_hundredths = self.rate_with_pan_hundredths.unwrap_or(c.tds_rate_with_pan_hundredths);
        c.tds_rate_without_pan_hundredths =
            self.rate_without_pan_hundredths.unwrap_or(c.tds_rate_without_pan_hundredths);
        c.tds_annual_threshold_paise = self.annual_threshold_paise.unwrap_or(c.tds_annual_threshold_paise);
        c.tds_section = self.section.unwrap_or(std::mem::take(&mut c.tds_section));
    }
}

/// What an admin changes of the GST settings: `None` keeps a value; for the operator's details
/// `Some(None)` clears one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GstEdit {
    pub rate_hundredths: Option<i32>,
    pub mode: Option<talktime_domain::tax::GstMode>,
    pub operator_gstin: Option<Option<String>>,
    pub operator_state: Option<Option<String>>,
    pub operator_legal_name: Option<Option<String>>,
    pub operator_address: Option<Option<String>>,
    pub invoice_prefix: Option<String>,
    pub sac_code: Option<String>,
}

impl GstEdit {
    /// Applies the edit to `c`, checking the GSTIN's shape and the state code.
    fn apply(self, c: &mut AppConfig) -> Result<(), ServiceError> {
        if let Some(Some(gstin)) = &self.operator_gstin
            && !talktime_domain::tax::is_gstin(gstin)
        {
            return Err(ServiceError::invalid_field("gst.operatorGstin", "validation_error", "is not a GSTIN"));
        }
        if let Some(Some(state)) = &self.operator_state
            && !talktime_domain::tax::is_state_code(state)
        {
            return Err(ServiceError::invalid_field(
                "gst.operatorState",
                "validation_error",
                "must be a GST state code (01–38)",
            ));
        }
        c.gst_rate_hundredths = self.rate_hundredths.unwrap_or(c.gst_rate_hundredths);
        c.gst_mode = self.mode.unwrap_or(c.gst_mode);
        c.operator_gstin = self.operator_gstin.unwrap_or(c.operator_gstin.take());
        c.operator_state = self.operator_state.unwrap_or(c.operator_state.take());
        c.operator_legal_name = self.operator_legal_name.unwrap_or(c.operator_legal_name.take());
        c.operator_address = self.operator_address.unwrap_or(c.operator_address.take());
        c.invoice_prefix = self.invoice_prefix.unwrap_or(std::mem::take(&mut c.invoice_prefix));
        c.sac_code = self.sac_code.unwrap_or(std::mem::take(&mut c.sac_code));
        Ok(())
    }
}

impl ConfigInput {
    /// Nothing to change.
    pub fn is_empty(&self) -> bool {
        self.inr_to_coin_ratio_hundredths.is_none()
            && self.min_withdrawal_coins.is_none()
            && self.min_call_balance_seconds.is_none()
            && self.audio == Edit::default()
            && self.video == Edit::default()
            && self.chat == Edit::default()
            && self.audio_bounds.is_none()
            && self.video_bounds.is_none()
            && self.chat_bounds.is_none()
            && self.min_chat_balance_seconds.is_none()
            && self.signup_bonus_coins.is_none()
            && self.first_recharge_bonus_hundredths.is_none()
            && self.first_call_free_seconds.is_none()
            && self.referral_bonus_coins.is_none()
            && self.gst == GstEdit::default()
            && self.tds == TdsEdit::default()
    }
}

fn config_json(c: &AppConfig) -> serde_json::Value {
    json!({
        "inrToCoinRatioHundredths": c.inr_to_coin_ratio_hundredths, "minWithdrawalCoins": c.min_withdrawal_coins,
        "userAudioCallCoinPerSec": c.user_audio_coins_per_sec, "userVideoCallCoinPerSec": c.user_video_coins_per_sec,
        "telecallerAudioCallCoinPerSec": c.telecaller_audio_coins_per_sec,
        "telecallerVideoCallCoinPerSec": c.telecaller_video_coins_per_sec, "minCallBalanceSeconds": c.min_call_balance_seconds,
        "commissionHundredths": {
            "audio": c.audio_commission_hundredths, "video": c.video_commission_hundredths,
            "chat": c.chat_commission_hundredths,
        },
        "priceBounds": {
            "audio": { "min": c.audio_min_rate, "max": c.audio_max_rate },
            "video": { "min": c.video_min_rate, "max": c.video_max_rate },
            "chat": { "min": c.chat_min_rate, "max": c.chat_max_rate },
        },
        "chat": {
            "userChatCoinPerSec": c.user_chat_coins_per_sec, "telecallerChatCoinPerSec": c.telecaller_chat_coins_per_sec,
            "minChatBalanceSeconds": c.min_chat_balance_seconds,
        },
        "gst": {
            "rateHundredths": c.gst_rate_hundredths, "mode": c.gst_mode, "operatorGstin": c.operator_gstin,
            "operatorState": c.operator_state, "operatorLegalName": c.operator_legal_name,
            "operatorAddress": c.operator_address, "invoicePrefix": c.invoice_prefix, "sacCode": c.sac_code,
        },
        "promotions": {
            "signupBonusCoins": c.signup_bonus_coins, "firstRechargeBonusHundredths": c.first_recharge_bonus_hundredths,
            "firstCallFreeSeconds": c.first_call_free_seconds, "referralBonusCoins": c.referral_bonus_coins,
        },
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
        let gst = input.gst.clone();
        let tds = input.tds.clone();
        let mut after = AppConfig {
            inr_to_coin_ratio_hundredths: input
                .inr_to_coin_ratio_hundredths
                .unwrap_or(before.inr_to_coin_ratio_hundredths),
            min_withdrawal_coins: input.min_withdrawal_coins.unwrap_or(before.min_withdrawal_coins),
            min_call_balance_seconds: input.min_call_balance_seconds.unwrap_or(before.min_call_balance_seconds),
            min_chat_balance_seconds: input.min_chat_balance_seconds.unwrap_or(before.min_chat_balance_seconds),
            signup_bonus_coins: input.signup_bonus_coins.unwrap_or(before.signup_bonus_coins),
            first_recharge_bonus_hundredths: input
                .first_recharge_bonus_hundredths
                .unwrap_or(before.first_recharge_bonus_hundredths),
            first_call_free_seconds: input.first_call_free_seconds.unwrap_or(before.first_call_free_seconds),
            referral_bonus_coins: input.referral_bonus_coins.unwrap_or(before.referral_bonus_coins),
            ..before.clone()
        };
        for (call_type, edit, bounds) in [
            (CallType::Audio, input.audio, input.audio_bounds),
            (CallType::Video, input.video, input.video_bounds),
            (CallType::Chat, input.chat, input.chat_bounds),
        ] {
            after.set_prices(call_type, reconcile(before.prices(call_type), edit));
            if let Some(bounds) = bounds {
                if bounds.min > bounds.max {
                    return Err(ServiceError::invalid_field(
                        "priceBounds",
                        "invalid_price_bounds",
                        format!("The {call_type} bounds' min ({}) is above their max ({})", bounds.min, bounds.max),
                    ));
                }
                after.set_bounds(call_type, bounds);
            }
        }
        gst.apply(&mut after)?;
        tds.apply(&mut after);
        if after.telecaller_audio_coins_per_sec > after.user_audio_coins_per_sec
            || after.telecaller_video_coins_per_sec > after.user_video_coins_per_sec
            || after.telecaller_chat_coins_per_sec > after.user_chat_coins_per_sec
        {
            return Err(ServiceError::invalid(
                "telecaller_rate_above_user_rate",
                "A telecaller's rate can never be above the user's rate",
            ));
        }
        let saved = pricing::save(&mut tx, &after).await?;
        audit::audit(&mut tx, by, "config.update", "config", None, config_json(&before), config_json(&saved)).await?;
        let bounds = |c: &AppConfig| [CallType::Audio, CallType::Video, CallType::Chat].map(|t| c.bounds(t));
        let clamped = if bounds(&saved) != bounds(&before) {
            let [audio, video, chat] = bounds(&saved);
            pricing::clamp_rates(&mut tx, audio, video, chat).await?
        } else {
            Vec::new()
        };
        let entries: Vec<_> =
            clamped.iter().map(|m| (m.telecaller.0, rates_json(m.before), rates_json(m.after))).collect();
        audit::audit_each(&mut tx, by, "telecaller.rates.clamp", "account", &entries).await?;
        tx.commit().await.map_err(RepoError::from)?;
        let cache = self.auth().cache();
        cache.changed(Change::Config);
        for moved in clamped {
            cache.changed(Change::Account(moved.telecaller));
        }
        Ok(saved)
    }
}

fn rates_json(rates: HostRates) -> serde_json::Value {
    json!({ "audioCoinsPerSecond": rates.audio, "videoCoinsPerSecond": rates.video, "chatCoinsPerSecond": rates.chat })
}

#[derive(Debug, Clone, Copy)]
pub struct PricingSettings {
    /// A telecaller sets her own prices at most once per this long (`RATE_CHANGE_COOLDOWN_HOURS`).
    pub rate_change_cooldown: Duration,
}

/// A telecaller's prices as she sees them.
#[derive(Debug, Clone)]
pub struct HerPrices {
    /// What her calls cost now (her own or the default).
    pub in_force: RatesInForce,
    /// What she set (`None`: the default).
    pub own: HostRates,
    pub audio_bounds: PriceBounds,
    pub video_bounds: PriceBounds,
    pub chat_bounds: PriceBounds,
    /// When she may change them again (`None`: now).
    pub next_change_at: Option<DateTime<Utc>>,
}

/// Each telecaller's own price inside the operator's bounds.
pub struct PricingService {
    db: Db,
    cache: Arc<ReadCache>,
    settings: PricingSettings,
}

impl PricingService {
    pub fn new(db: Db, cache: Arc<ReadCache>, settings: PricingSettings) -> Self {
        Self { db, cache, settings }
    }

    fn cooldown(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.settings.rate_change_cooldown).unwrap_or(chrono::Duration::MAX)
    }

    /// Her prices, the bounds and when she may change them.
    pub async fn prices_of(&self, telecaller: &Account) -> Result<HerPrices, ServiceError> {
        let config = self.cache.config().await?;
        let own = telecaller.host_rates();
        let set_at = telecaller.telecaller.as_ref().and_then(|t| t.rates_set_at);
        let next = talktime_domain::pricing::next_rate_change(set_at, self.cooldown()).filter(|at| *at > Utc::now());
        Ok(HerPrices {
            in_force: config.rates_of(own),
            own,
            audio_bounds: config.bounds(CallType::Audio),
            video_bounds: config.bounds(CallType::Video),
            chat_bounds: config.bounds(CallType::Chat),
            next_change_at: next,
        })
    }

    /// `PUT /telecaller/rates`: her own prices (`None`: the default), inside the bounds, at most
    /// once per cooldown; logged in her price history. Calls already placed keep theirs.
    pub async fn set_rates(&self, telecaller: &Account, rates: HostRates) -> Result<HerPrices, ServiceError> {
        if telecaller.role != Role::Telecaller {
            return Err(ServiceError::forbidden("forbidden_role", "Only telecallers set prices"));
        }
        let mut tx = self.db.begin().await?;
        // Held against a bounds change until this commits: a price is never outside them.
        let config = pricing::share(&mut tx).await?;
        for (field, call_type) in [
            ("audioCoinsPerSecond", CallType::Audio),
            ("videoCoinsPerSecond", CallType::Video),
            ("chatCoinsPerSecond", CallType::Chat),
        ] {
            let bounds = config.bounds(call_type);
            if let Some(rate) = rates.of(call_type).filter(|rate| !bounds.contains(*rate)) {
                return Err(out_of_bounds(field, rate, bounds));
            }
        }
        let cooldown_secs = self.settings.rate_change_cooldown.as_secs_f64();
        match pricing::set_rates(&mut tx, telecaller.id, rates, cooldown_secs).await? {
            RatesSet::Set(_) => {}
            RatesSet::TooSoon(opens_at) => return Err(too_soon(opens_at)),
            RatesSet::NotATelecaller => {
                return Err(ServiceError::forbidden("forbidden_role", "Only telecallers set prices"));
            }
        }
        tx.commit().await.map_err(RepoError::from)?;
        self.cache.changed(Change::Account(telecaller.id));
        let now = self
            .cache
            .account(telecaller.id)
            .await?
            .ok_or_else(|| ServiceError::not_found("telecaller_not_found", "Telecaller not found"))?;
        self.prices_of(&now).await
    }

    /// Her price history, newest first.
    pub async fn history(&self, telecaller: AccountId, page: PageRequest) -> Result<Page<RateChange>, ServiceError> {
        let found = self.cache.account(telecaller).await?.filter(|a| a.telecaller.is_some());
        if found.is_none() {
            return Err(ServiceError::not_found("telecaller_not_found", "Telecaller not found"));
        }
        Ok(pricing::rate_history(&self.db, telecaller, page.limit(), page.offset()).await?)
    }
}

fn out_of_bounds(field: &'static str, rate: i64, bounds: PriceBounds) -> ServiceError {
    ServiceError::invalid_field(
        field,
        "rate_out_of_bounds",
        format!("{field} must be between {} and {} (got {rate})", bounds.min, bounds.max),
    )
    .with_details(json!({ "field": field, "min": bounds.min, "max": bounds.max }))
}

fn too_soon(opens_at: DateTime<Utc>) -> ServiceError {
    let wait = (opens_at - Utc::now()).num_seconds().max(1);
    ServiceError::rate_limited_as(
        "rate_change_too_soon",
        u64::try_from(wait).unwrap_or(1),
        format!("You can change your prices again at {}", opens_at.to_rfc3339()),
    )
    .with_details(json!({ "opensAt": opens_at }))
}
