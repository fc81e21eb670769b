//! Where coins are bought (`PAYMENT_GATEWAY` with that gateway's own settings), the reconciler
//! that settles what the apps and webhooks missed, and how withdrawals are paid out.

use talktime_domain::secret::Secret;
use talktime_services::gateway::RazorpayConfig;
use talktime_services::payments::ReconcilerSettings;
use talktime_services::payouts::{PayoutSettings, RazorpayXConfig};
use talktime_services::wallet::WalletSettings;

use super::vars::Vars;

#[derive(Debug, Clone)]
pub enum PaymentGateway {
    /// Development: orders are paid through `/payment/sandbox/pay`; webhooks are signed with
    /// `RAZORPAY_WEBHOOK_SECRET`, or `sandbox_webhook_secret` when unset.
    Sandbox {
        webhook_secret: Secret<String>,
    },
    Razorpay(RazorpayConfig),
}

pub(super) fn gateway(v: &mut Vars, prod: bool) -> PaymentGateway {
    let sandbox = |v: &Vars| PaymentGateway::Sandbox {
        webhook_secret: Secret::new(v.or("RAZORPAY_WEBHOOK_SECRET", "sandbox_webhook_secret")),
    };
    match v.get("PAYMENT_GATEWAY").as_deref() {
        None | Some("sandbox") if prod => {
            v.problems.push("PAYMENT_GATEWAY is `sandbox` (or unset); production needs `razorpay`".into());
            // Name what `razorpay` will need too, so one round of fixes is enough.
            razorpay(v);
            sandbox(v)
        }
        None | Some("sandbox") => sandbox(v),
        Some("razorpay") => PaymentGateway::Razorpay(razorpay(v)),
        Some(other) => {
            v.problems.push(format!("PAYMENT_GATEWAY must be `razorpay` or `sandbox` (got `{other}`)"));
            sandbox(v)
        }
    }
}

fn razorpay(v: &mut Vars) -> RazorpayConfig {
    RazorpayConfig {
        api_base: v.or("RAZORPAY_API_BASE", "https://api.razorpay.com"),
        key_id: v.required("RAZORPAY_KEY_ID", "PAYMENT_GATEWAY=razorpay"),
        key_secret: Secret::new(v.required("RAZORPAY_KEY_SECRET", "PAYMENT_GATEWAY=razorpay")),
        webhook_secret: Secret::new(v.required("RAZORPAY_WEBHOOK_SECRET", "PAYMENT_GATEWAY=razorpay")),
    }
}

pub(super) fn reconciler(v: &mut Vars) -> ReconcilerSettings {
    ReconcilerSettings {
        interval: v.millis("RECONCILE_INTERVAL_MS", 60_000),
        min_age: v.secs("RECONCILE_MIN_AGE_SECS", 300),
        expire_after: v.secs("ORDER_EXPIRY_SECS", 86_400),
    }
}

/// How withdrawals are paid (`PAYOUT_PROVIDER`: `manual`, by an admin's bank transfer, or
/// `razorpayx`) and when they need KYC.
#[derive(Debug, Clone)]
pub struct PayoutConfig {
    pub razorpayx: Option<RazorpayXConfig>,
    pub settings: PayoutSettings,
    pub wallet: WalletSettings,
}

pub(super) fn payouts(v: &mut Vars) -> PayoutConfig {
    let razorpayx = match v.get("PAYOUT_PROVIDER").as_deref() {
        None | Some("manual") => None,
        Some("razorpayx") => Some(razorpayx(v)),
        Some(other) => {
            v.problems.push(format!("PAYOUT_PROVIDER must be `manual` or `razorpayx` (got `{other}`)"));
            None
        }
    };
    PayoutConfig {
        razorpayx,
        settings: PayoutSettings {
            auto_approve_below_paise: v.parsed("PAYOUT_AUTO_APPROVE_BELOW_PAISE", 0, "paise"),
            reconcile_interval: v.millis("PAYOUT_RECONCILE_INTERVAL_MS", 60_000),
            reconcile_after: v.secs("PAYOUT_RECONCILE_AFTER_SECS", 600),
        },
        wallet: WalletSettings {
            kyc_required_above_paise: v.parsed("KYC_REQUIRED_ABOVE_PAISE", 1_000_000, "paise"),
            withdrawals_per_hour: v.parsed("RATE_LIMIT_WITHDRAW_PER_HOUR", 3, "a count"),
        },
    }
}

fn razorpayx(v: &mut Vars) -> RazorpayXConfig {
    let by = "PAYOUT_PROVIDER=razorpayx";
    RazorpayXConfig {
        api_base: v.or("RAZORPAYX_API_BASE", "https://api.razorpay.com"),
        key_id: v.required("RAZORPAYX_KEY_ID", by),
        key_secret: Secret::new(v.required("RAZORPAYX_KEY_SECRET", by)),
        webhook_secret: Secret::new(v.required("RAZORPAYX_WEBHOOK_SECRET", by)),
        account_number: v.required("RAZORPAYX_ACCOUNT_NUMBER", by),
    }
}
