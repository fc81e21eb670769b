//! Pricing: the admin-editable prices (one row).

use chrono::{DateTime, Utc};

use crate::call::CallType;

/// The prices: conversion, minimum withdrawal, per-second rates, minimum call balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppConfig {
    /// Coins per rupee × 100.
    pub inr_to_coin_ratio_hundredths: i64,
    pub min_withdrawal_coins: i64,
    pub user_audio_coins_per_sec: i64,
    pub user_video_coins_per_sec: i64,
    pub telecaller_audio_coins_per_sec: i64,
    pub telecaller_video_coins_per_sec: i64,
    pub min_call_balance_seconds: i64,
    /// The platform's share of what a user pays for each call type, in hundredths of a percent
    /// (4000 = 40%), unless a telecaller has her own.
    pub audio_commission_hundredths: i32,
    pub video_commission_hundredths: i32,
    /// The range a telecaller may price each call type in (coins per second the user pays).
    pub audio_min_rate: i64,
    pub audio_max_rate: i64,
    pub video_min_rate: i64,
    pub video_max_rate: i64,
    /// Chat (docs/chat.md): the default price, her share of it, its commission, the range of
    /// hosts' own chat prices, and the seconds of balance a chat needs to start.
    pub user_chat_coins_per_sec: i64,
    pub telecaller_chat_coins_per_sec: i64,
    pub chat_commission_hundredths: i32,
    pub chat_min_rate: i64,
    pub chat_max_rate: i64,
    pub min_chat_balance_seconds: i64,
    /// Promotional coins for a USER completing her profile (once per phone number ever).
    pub signup_bonus_coins: i64,
    /// Promotional coins on a user's first captured recharge: this share of the plan's coins,
    /// hundredths of a percent.
    pub first_recharge_bonus_hundredths: i32,
    /// The first seconds of a user's first billed call, paid by marketing.
    pub first_call_free_seconds: i32,
    /// Promotional coins to both parties of a referral, at the referee's first recharge.
    pub referral_bonus_coins: i64,
    /// GST on recharges (docs/tax.md): rate in hundredths of a percent, inclusive or exclusive,
    /// and what an invoice says about the operator.
    pub gst_rate_hundredths: i32,
    pub gst_mode: crate::tax::GstMode,
    pub operator_gstin: Option<String>,
    pub operator_state: Option<String>,
    pub operator_legal_name: Option<String>,
    pub operator_address: Option<String>,
    pub invoice_prefix: String,
    pub sac_code: String,
    /// TDS on payouts (docs/tax.md): rates in hundredths of a percent with and without a
    /// verified PAN, the year's threshold in paise, the section named in the export.
    pub tds_rate_with_pan_hundredths: i32,
    pub tds_rate_without_pan_hundredths: i32,
    pub tds_annual_threshold_paise: i64,
    pub tds_section: String,
    pub updated_at: DateTime<Utc>,
}

/// The range an operator lets a telecaller price a call type in, coins per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceBounds {
    pub min: i64,
    pub max: i64,
}

impl PriceBounds {
    pub fn contains(self, rate: i64) -> bool {
        (self.min..=self.max).contains(&rate)
    }

    /// The nearest price inside the bounds.
    pub fn clamp(self, rate: i64) -> i64 {
        rate.clamp(self.min, self.max.max(self.min))
    }
}

/// A telecaller's own price per call type; `None`: she charges the platform's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HostRates {
    pub audio: Option<i64>,
    pub video: Option<i64>,
    pub chat: Option<i64>,
}

impl HostRates {
    pub fn of(self, call_type: CallType) -> Option<i64> {
        match call_type {
            CallType::Audio => self.audio,
            CallType::Video => self.video,
            CallType::Chat => self.chat,
        }
    }
}

/// The price in force per call type, coins per second (`rates: {audio, video}` on her card).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct RatesInForce {
    pub audio: i64,
    pub video: i64,
    pub chat: i64,
}

/// What her calls are billed at: her price or the default, her commission or the platform's.
///
/// ```
/// use talktime_domain::pricing::{HostRates, terms_between};
/// # let config = talktime_domain::pricing::AppConfig::example();
/// let her = HostRates { audio: Some(5), video: None, chat: None };
/// let terms = terms_between(&config, her, Some(4000), talktime_domain::call::CallType::Audio);
/// assert_eq!((terms.user_rate, terms.telecaller_rate, terms.commission_hundredths), (5, 3, 4000));
/// let terms = terms_between(&config, her, None, talktime_domain::call::CallType::Video);
/// assert_eq!((terms.user_rate, terms.commission_hundredths), (4, 5000));
/// ```
pub fn terms_between(config: &AppConfig, her: HostRates, commission: Option<i32>, call_type: CallType) -> TypePrices {
    let defaults = config.prices(call_type);
    let user_rate = her.of(call_type).unwrap_or(defaults.user_rate);
    let commission = commission.unwrap_or(defaults.commission_hundredths);
    TypePrices { user_rate, telecaller_rate: her_share(user_rate, commission), commission_hundredths: commission }
}

/// Hundredths of a percent: the whole.
pub const WHOLE: i64 = 10_000;

/// The commission that leaves a telecaller `telecaller_rate` of a user's `user_rate` (how the
/// earlier two rates per call type read as a share), rounded to the hundredth of a percent.
///
/// ```
/// use talktime_domain::pricing::commission_between;
/// assert_eq!(commission_between(2, 1), 5000);
/// assert_eq!(commission_between(5, 3), 4000);
/// assert_eq!(commission_between(3, 2), 3333);
/// ```
pub fn commission_between(user_rate: i64, telecaller_rate: i64) -> i32 {
    if user_rate <= 0 {
        return 0;
    }
    // round(WHOLE × kept / user_rate), in integers: no float touches money.
    let (kept, user_rate) = (i128::from(user_rate - telecaller_rate.clamp(0, user_rate)), i128::from(user_rate));
    i32::try_from((2 * i128::from(WHOLE) * kept + user_rate) / (2 * user_rate)).unwrap_or(0)
}

/// What a commission leaves her of `paid`: floor(paid × (10000 − commission) / 10000).
///
/// ```
/// use talktime_domain::pricing::her_share;
/// assert_eq!(her_share(100, 4000), 60);
/// assert_eq!(her_share(7, 5000), 3);
/// ```
pub fn her_share(paid: i64, commission_hundredths: i32) -> i64 {
    let left = WHOLE - i64::from(commission_hundredths).clamp(0, WHOLE);
    i64::try_from(i128::from(paid.max(0)) * i128::from(left) / i128::from(WHOLE)).unwrap_or(0)
}

/// One call type's default prices after an edit, kept consistent: the commission is the truth
/// that settles calls; the telecaller rate is what it leaves her of the user's rate (the earlier
/// admin panel edits that rate, which sets the commission).
///
/// ```
/// use talktime_domain::pricing::{Edit, TypePrices, reconcile};
/// let now = TypePrices { user_rate: 2, telecaller_rate: 1, commission_hundredths: 5000 };
/// // The earlier panel: both rates.
/// let edit = Edit { user_rate: Some(5), telecaller_rate: Some(3), commission_hundredths: None };
/// assert_eq!(reconcile(now, edit), TypePrices { user_rate: 5, telecaller_rate: 3, commission_hundredths: 4000 });
/// // A commission: her rate follows.
/// let edit = Edit { user_rate: None, telecaller_rate: None, commission_hundredths: Some(2000) };
/// assert_eq!(reconcile(now, edit).telecaller_rate, 1);
/// // The user's rate alone: her share (the commission) stays.
/// let edit = Edit { user_rate: Some(10), telecaller_rate: None, commission_hundredths: None };
/// assert_eq!(reconcile(now, edit), TypePrices { user_rate: 10, telecaller_rate: 5, commission_hundredths: 5000 });
/// ```
pub fn reconcile(now: TypePrices, edit: Edit) -> TypePrices {
    let user_rate = edit.user_rate.unwrap_or(now.user_rate);
    match (edit.commission_hundredths, edit.telecaller_rate) {
        (Some(commission), _) => TypePrices {
            user_rate,
            telecaller_rate: her_share(user_rate, commission),
            commission_hundredths: commission,
        },
        (None, Some(telecaller_rate)) => TypePrices {
            user_rate,
            telecaller_rate,
            commission_hundredths: commission_between(user_rate, telecaller_rate),
        },
        (None, None) if edit.user_rate.is_some() => TypePrices {
            user_rate,
            telecaller_rate: her_share(user_rate, now.commission_hundredths),
            commission_hundredths: now.commission_hundredths,
        },
        (None, None) => now,
    }
}

/// A call type's prices: the default ones, or what one telecaller's calls bill at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypePrices {
    pub user_rate: i64,
    pub telecaller_rate: i64,
    pub commission_hundredths: i32,
}

/// What an admin changes of a call type's prices (`None`: unchanged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Edit {
    pub user_rate: Option<i64>,
    pub telecaller_rate: Option<i64>,
    pub commission_hundredths: Option<i32>,
}

impl AppConfig {
    pub fn prices(&self, call_type: CallType) -> TypePrices {
        match call_type {
            CallType::Audio => TypePrices {
                user_rate: self.user_audio_coins_per_sec,
                telecaller_rate: self.telecaller_audio_coins_per_sec,
                commission_hundredths: self.audio_commission_hundredths,
            },
            CallType::Video => TypePrices {
                user_rate: self.user_video_coins_per_sec,
                telecaller_rate: self.telecaller_video_coins_per_sec,
                commission_hundredths: self.video_commission_hundredths,
            },
            CallType::Chat => TypePrices {
                user_rate: self.user_chat_coins_per_sec,
                telecaller_rate: self.telecaller_chat_coins_per_sec,
                commission_hundredths: self.chat_commission_hundredths,
            },
        }
    }

    pub fn bounds(&self, call_type: CallType) -> PriceBounds {
        match call_type {
            CallType::Audio => PriceBounds { min: self.audio_min_rate, max: self.audio_max_rate },
            CallType::Video => PriceBounds { min: self.video_min_rate, max: self.video_max_rate },
            CallType::Chat => PriceBounds { min: self.chat_min_rate, max: self.chat_max_rate },
        }
    }

    pub fn set_bounds(&mut self, call_type: CallType, bounds: PriceBounds) {
        match call_type {
            CallType::Audio => (self.audio_min_rate, self.audio_max_rate) = (bounds.min, bounds.max),
            CallType::Video => (self.video_min_rate, self.video_max_rate) = (bounds.min, bounds.max),
            CallType::Chat => (self.chat_min_rate, self.chat_max_rate) = (bounds.min, bounds.max),
        }
    }

    /// Her prices in force: her own where she set one, the platform's default otherwise.
    pub fn rates_of(&self, her: HostRates) -> RatesInForce {
        RatesInForce {
            audio: her.audio.unwrap_or(self.user_audio_coins_per_sec),
            video: her.video.unwrap_or(self.user_video_coins_per_sec),
            chat: her.chat.unwrap_or(self.user_chat_coins_per_sec),
        }
    }

    /// A config to try things with (the seed's prices).
    #[doc(hidden)]
    pub fn example() -> Self {
        Self {
            inr_to_coin_ratio_hundredths: 100,
            min_withdrawal_coins: 500,
            user_audio_coins_per_sec: 2,
            user_video_coins_per_sec: 4,
            telecaller_audio_coins_per_sec: 1,
            telecaller_video_coins_per_sec: 2,
            min_call_balance_seconds: 60,
            audio_commission_hundredths: 5000,
            video_commission_hundredths: 5000,
            audio_min_rate: 1,
            audio_max_rate: 20,
            video_min_rate: 1,
            video_max_rate: 40,
            user_chat_coins_per_sec: 1,
            telecaller_chat_coins_per_sec: 0,
            chat_commission_hundredths: 5000,
            chat_min_rate: 1,
            chat_max_rate: 10,
            min_chat_balance_seconds: 60,
            signup_bonus_coins: 0,
            first_recharge_bonus_hundredths: 0,
            first_call_free_seconds: 0,
            referral_bonus_coins: 0,
            gst_rate_hundredths: 1800,
            gst_mode: crate::tax::GstMode::Inclusive,
            operator_gstin: None,
            operator_state: None,
            operator_legal_name: None,
            operator_address: None,
            invoice_prefix: "TT".to_owned(),
            sac_code: "998439".to_owned(),
            tds_rate_with_pan_hundredths: 1000,
            tds_rate_without_pan_hundredths: 2000,
            tds_annual_threshold_paise: 3_000_000,
            tds_section: "194J".to_owned(),
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    pub fn set_prices(&mut self, call_type: CallType, prices: TypePrices) {
        match call_type {
            CallType::Audio => {
                self.user_audio_coins_per_sec = prices.user_rate;
                self.telecaller_audio_coins_per_sec = prices.telecaller_rate;
                self.audio_commission_hundredths = prices.commission_hundredths;
            }
            CallType::Video => {
                self.user_video_coins_per_sec = prices.user_rate;
                self.telecaller_video_coins_per_sec = prices.telecaller_rate;
                self.video_commission_hundredths = prices.commission_hundredths;
            }
            CallType::Chat => {
                self.user_chat_coins_per_sec = prices.user_rate;
                self.telecaller_chat_coins_per_sec = prices.telecaller_rate;
                self.chat_commission_hundredths = prices.commission_hundredths;
            }
        }
    }
}

wire_enum!(
    /// Why her price changed: she set it, or new bounds moved it inside them.
    RateChangeCause { Set => "SET", Clamped => "CLAMPED" }
);

/// One entry of her price history (`None`: the platform's default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateChange {
    pub audio_rate: Option<i64>,
    pub video_rate: Option<i64>,
    pub chat_rate: Option<i64>,
    pub cause: RateChangeCause,
    pub created_at: DateTime<Utc>,
}

/// When a telecaller who last set her price at `last` may set it again.
pub fn next_rate_change(last: Option<DateTime<Utc>>, cooldown: chrono::Duration) -> Option<DateTime<Utc>> {
    last.map(|at| at + cooldown)
}
