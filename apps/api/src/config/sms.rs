//! Where login codes go (`SMS_PROVIDER` with that provider's own settings) and how many may
//! leave, to where (`SmsPolicy`).

use talktime_domain::secret::Secret;
use talktime_services::auth::SmsPolicy;
use talktime_services::sms::{Msg91Config, TwilioConfig};

use super::vars::Vars;

/// A provider chosen without its settings cannot be represented (the missing ones are reported
/// at start).
#[derive(Debug, Clone)]
pub enum SmsProvider {
    /// Development: the code is written to the log.
    Log,
    /// `SMS_WEBHOOK_URL` receives `POST {"phone", "message"}`.
    Webhook {
        url: String,
    },
    Msg91(Msg91Config),
    Twilio(TwilioConfig),
}

pub(super) fn provider(v: &mut Vars, prod: bool) -> SmsProvider {
    let country_code = v.or("SMS_COUNTRY_CODE", "91");
    match v.get("SMS_PROVIDER").as_deref() {
        None | Some("log") => {
            v.refuse_in_production(
                prod,
                "SMS_PROVIDER is `log` (or unset); production needs `webhook`, `msg91` or `twilio`",
            );
            SmsProvider::Log
        }
        Some("webhook") => SmsProvider::Webhook { url: v.required("SMS_WEBHOOK_URL", "SMS_PROVIDER=webhook") },
        Some("msg91") => SmsProvider::Msg91(Msg91Config {
            base_url: v.or("MSG91_BASE_URL", "https://control.msg91.com"),
            auth_key: Secret::new(v.required("MSG91_AUTH_KEY", "SMS_PROVIDER=msg91")),
            template_id: v.required("MSG91_TEMPLATE_ID", "SMS_PROVIDER=msg91"),
            country_code,
        }),
        Some("twilio") => SmsProvider::Twilio(TwilioConfig {
            base_url: v.or("TWILIO_BASE_URL", "https://api.twilio.com"),
            account_sid: v.required("TWILIO_ACCOUNT_SID", "SMS_PROVIDER=twilio"),
            auth_token: Secret::new(v.required("TWILIO_AUTH_TOKEN", "SMS_PROVIDER=twilio")),
            from: v.required("TWILIO_FROM_NUMBER", "SMS_PROVIDER=twilio"),
            country_code,
        }),
        Some(other) => {
            v.problems.push(format!("SMS_PROVIDER must be `log`, `webhook`, `msg91` or `twilio` (got `{other}`)"));
            SmsProvider::Log
        }
    }
}

/// `SMS_ALLOWED_COUNTRY_CODES` (default `91`) and `SMS_MAX_PER_HOUR` (default 1000), with each
/// network's (`SMS_MAX_PER_HOUR_PER_NETWORK`, default 5%) and each calling code's
/// (`SMS_MAX_PER_HOUR_PER_COUNTRY`, default all of it) share.
pub(super) fn policy(v: &mut Vars) -> SmsPolicy {
    let allowed_countries = match v.get("SMS_ALLOWED_COUNTRY_CODES") {
        None => vec!["91".to_owned()],
        Some(_) => {
            v.list("SMS_ALLOWED_COUNTRY_CODES").into_iter().map(|c| c.trim_start_matches('+').to_owned()).collect()
        }
    };
    let calling_code = |c: &String| (1..=3).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_digit());
    if allowed_countries.is_empty() || !allowed_countries.iter().all(calling_code) {
        v.problems.push("SMS_ALLOWED_COUNTRY_CODES must list calling codes of 1 to 3 digits, e.g. `91,44`".into());
    }
    let max_per_hour = v.parsed("SMS_MAX_PER_HOUR", 1_000u32, "a number of codes").max(1);
    let network_share = SmsPolicy::default_per_network(max_per_hour);
    SmsPolicy {
        home_country: v.or("SMS_COUNTRY_CODE", "91"),
        allowed_countries,
        max_per_hour,
        max_per_network: v.parsed("SMS_MAX_PER_HOUR_PER_NETWORK", network_share, "a number of codes").max(1),
        max_per_country: v.parsed("SMS_MAX_PER_HOUR_PER_COUNTRY", max_per_hour, "a number of codes").max(1),
    }
}
