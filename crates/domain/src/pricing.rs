//! Pricing: the admin-editable prices (one row).

use chrono::{DateTime, Utc};

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
    pub updated_at: DateTime<Utc>,
}
