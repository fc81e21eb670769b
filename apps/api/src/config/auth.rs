//! Tokens, the key for secrets at rest, admin sign-in, and login codes (`OtpSettings`, with the
//! SMS policy and the per-network login budget).

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use talktime_domain::otp::{OtpCode, OtpLength};
use talktime_domain::phone::Phone;
use talktime_domain::secret::Secret;
use talktime_services::auth::{OtpSettings, SmsPolicy};
use talktime_services::rate_limit::Budget;

use super::vars::{Vars, parse_duration};

pub(super) const DEV_JWT_SECRET: &str = "development-only-jwt-secret-do-not-use-in-production";
/// 32 bytes of `0x01`: development only.
pub(super) const DEV_SECRETS_KEY: [u8; 32] = [1; 32];

/// Tokens, admin sign-in and the key for secrets at rest.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub jwt_secret: Secret<String>,
    pub jwt_ttl: Duration,
    /// 32 bytes; protects secrets at rest (OTP hashes, bank details).
    pub secrets_key: Secret<Vec<u8>>,
    pub google_client_ids: Vec<String>,
    pub google_jwks_url: String,
}

pub(super) fn read(v: &mut Vars, prod: bool) -> AuthSettings {
    let jwt_secret = v.get("JWT_SECRET");
    match &jwt_secret {
        None => v.refuse_in_production(prod, "JWT_SECRET is missing"),
        Some(secret) if secret.len() < 32 => {
            v.refuse_in_production(prod, "JWT_SECRET is too short (use at least 32 random characters)")
        }
        Some(secret) if secret == DEV_JWT_SECRET => {
            v.refuse_in_production(prod, "JWT_SECRET is the development default")
        }
        _ => {}
    }
    let week = Duration::from_secs(7 * 24 * 3600);
    let jwt_ttl = match v.get("JWT_TTL") {
        None => week,
        Some(raw) => parse_duration(&raw).unwrap_or_else(|| {
            v.problems.push(format!("JWT_TTL must be a duration like `7d`, `12h`, `3600` (got `{raw}`)"));
            week
        }),
    };
    let google_client_ids = v.list("GOOGLE_CLIENT_IDS");
    if google_client_ids.is_empty() {
        v.refuse_in_production(prod, "GOOGLE_CLIENT_IDS is missing (admin sign-in)");
    }
    AuthSettings {
        jwt_secret: Secret::new(jwt_secret.unwrap_or_else(|| DEV_JWT_SECRET.into())),
        jwt_ttl,
        secrets_key: Secret::new(secrets_key(v, prod)),
        google_client_ids,
        google_jwks_url: v.or("GOOGLE_JWKS_URL", "https://www.googleapis.com/oauth2/v3/certs"),
    }
}

/// `SECRETS_KEY`: 32 bytes in base64, required in production (a fixed key in development).
pub(super) fn secrets_key(v: &mut Vars, prod: bool) -> Vec<u8> {
    let Some(raw) = v.get("SECRETS_KEY") else {
        v.refuse_in_production(prod, "SECRETS_KEY is missing (32 random bytes, base64)");
        return DEV_SECRETS_KEY.to_vec();
    };
    match base64::engine::general_purpose::STANDARD.decode(&raw) {
        Ok(bytes) if bytes.len() == 32 => {
            if bytes == DEV_SECRETS_KEY {
                v.refuse_in_production(prod, "SECRETS_KEY is the development default");
            }
            bytes
        }
        _ => {
            v.problems.push("SECRETS_KEY must be 32 bytes encoded in base64".into());
            DEV_SECRETS_KEY.to_vec()
        }
    }
}

/// Login codes: their length, the store-review numbers, the per-network login budget and where
/// SMS may go.
pub(super) fn otp(v: &mut Vars, per_network: Budget, sms: SmsPolicy) -> OtpSettings {
    let length = match v.get("OTP_LENGTH") {
        None => OtpLength::DEFAULT,
        Some(raw) => raw.parse::<u8>().ok().and_then(|n| OtpLength::new(n).ok()).unwrap_or_else(|| {
            v.problems.push(format!("OTP_LENGTH must be between 4 and 8 (got `{raw}`)"));
            OtpLength::DEFAULT
        }),
    };
    let mut test_numbers = HashMap::new();
    for entry in v.list("OTP_TEST_NUMBERS") {
        match entry.split_once(':') {
            Some((phone, code)) if Phone::parse(phone).is_ok() && OtpCode::parse(code, length).is_ok() => {
                test_numbers.insert(phone.trim().to_owned(), code.trim().to_owned());
            }
            _ => v.problems.push(format!(
                "OTP_TEST_NUMBERS entry `{entry}` must be `phone:code` with a {}-digit code",
                length.digits()
            )),
        }
    }
    OtpSettings { length, test_numbers, per_network, sms }
}
