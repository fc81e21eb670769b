//! Figures for the admin dashboard.

/// The platform's totals at one moment (amounts in paise, coins in coins).
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub recharge_paise: i64,
    pub withdrawal_paise: i64,
    pub users_total: i64,
    pub users_new_this_month: i64,
    pub incomplete_profiles: i64,
    pub telecallers_total: i64,
    pub telecallers_approved: i64,
    pub telecallers_pending: i64,
    pub telecallers_rejected: i64,
    pub calls_total: i64,
    pub call_seconds: i64,
    pub completed_calls: i64,
    pub coins_in_wallets: i64,
    pub coins_held: i64,
    pub coins_earned_by_platform: i64,
}
