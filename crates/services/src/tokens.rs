//! Access tokens: HS256 JWTs with the algorithm pinned and issuer, audience and expiry checked.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use talktime_domain::account::Role;
use uuid::Uuid;

use crate::ServiceError;

pub const ISSUER: &str = "talktime";
pub const AUDIENCE: &str = "talktime-api";

/// The claims of a Talktime token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Account id, or admin id for `ADMIN`.
    pub sub: Uuid,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    /// Token version: a token whose `ver` is below the account's current version is revoked.
    pub ver: i32,
}

#[derive(Clone)]
pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl TokenIssuer {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Self { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), validation, ttl }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(&self, sub: Uuid, role: Role, ver: i32) -> Result<String, ServiceError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub,
            role,
            iat: now,
            exp: now + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            ver,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(ServiceError::internal)
    }

    /// Checks signature, algorithm, issuer, audience and expiry. Revocation is checked by the
    /// caller against the stored token version.
    pub fn verify(&self, token: &str) -> Result<Claims, ServiceError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map(|data| data.claims).map_err(
            |error| match error.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    ServiceError::unauthorized("token_expired", "Your session has expired, please log in again")
                }
                _ => ServiceError::unauthorized("invalid_token", "Invalid authentication token"),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let issuer = TokenIssuer::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60));
        let id = Uuid::now_v7();
        let token = issuer.issue(id, Role::User, 3).unwrap();
        let claims = issuer.verify(&token).unwrap();
        assert_eq!((claims.sub, claims.role, claims.ver), (id, Role::User, 3));

        let other = TokenIssuer::new(b"another-secret-another-secret-xx", Duration::from_secs(60));
        assert_eq!(other.verify(&token).unwrap_err().code, "invalid_token");
        assert_eq!(issuer.verify("not.a.token").unwrap_err().code, "invalid_token");
    }
}
