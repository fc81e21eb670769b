//! Google ID tokens for admin sign-in, verified against Google's JSON Web Key Set.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::RwLock;

use crate::ServiceError;

const ISSUERS: [&str; 2] = ["accounts.google.com", "https://accounts.google.com"];
/// Keys are refetched at most this often when a token names an unknown key id.
const MIN_REFRESH: Duration = Duration::from_secs(10);
/// And at least this often, as Google rotates them.
const MAX_AGE: Duration = Duration::from_secs(6 * 3600);

#[async_trait]
pub trait IdTokenVerifier: Send + Sync {
    /// The verified e-mail address of a Google ID token.
    async fn verified_email(&self, id_token: &str) -> Result<String, ServiceError>;
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kid: String,
    n: String,
    e: String,
    #[serde(default)]
    kty: String,
}

#[derive(Deserialize)]
struct GoogleClaims {
    email: Option<String>,
    #[serde(default)]
    email_verified: serde_json::Value,
}

struct Cache {
    keys: HashMap<String, DecodingKey>,
    fetched: Option<Instant>,
}

/// Verifies RS256 ID tokens: key from the JWKS (cached, refreshed on an unknown key id),
/// audience among `GOOGLE_CLIENT_IDS`, issuer Google, not expired, `email_verified` true.
pub struct GoogleVerifier {
    client: reqwest::Client,
    jwks_url: String,
    client_ids: Vec<String>,
    cache: RwLock<Cache>,
}

fn refused(message: &str) -> ServiceError {
    ServiceError::unauthorized("invalid_google_token", message)
}

impl GoogleVerifier {
    pub fn new(client: reqwest::Client, jwks_url: String, client_ids: Vec<String>) -> Self {
        Self { client, jwks_url, client_ids, cache: RwLock::new(Cache { keys: HashMap::new(), fetched: None }) }
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, ServiceError> {
        {
            let cache = self.cache.read().await;
            let fresh = cache.fetched.is_some_and(|t| t.elapsed() < MAX_AGE);
            if let (Some(key), true) = (cache.keys.get(kid), fresh) {
                return Ok(key.clone());
            }
        }
        let mut cache = self.cache.write().await;
        // An unknown key id triggers a refetch, but not more than once per MIN_REFRESH, so a
        // stream of forged key ids cannot hammer Google.
        if cache.fetched.is_none_or(|t| t.elapsed() >= MIN_REFRESH) {
            let jwks: Jwks = self
                .client
                .get(&self.jwks_url)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|e| ServiceError::upstream("google_keys_unavailable", "Could not fetch Google's keys", e))?
                .json()
                .await
                .map_err(|e| ServiceError::upstream("google_keys_unavailable", "Google's keys are unreadable", e))?;
            cache.keys = jwks
                .keys
                .into_iter()
                .filter(|k| k.kty.is_empty() || k.kty == "RSA")
                .filter_map(|k| DecodingKey::from_rsa_components(&k.n, &k.e).ok().map(|key| (k.kid, key)))
                .collect();
            cache.fetched = Some(Instant::now());
        }
        cache.keys.get(kid).cloned().ok_or_else(|| refused("The token was signed with an unknown key"))
    }
}

#[async_trait]
impl IdTokenVerifier for GoogleVerifier {
    async fn verified_email(&self, id_token: &str) -> Result<String, ServiceError> {
        let header = jsonwebtoken::decode_header(id_token).map_err(|_| refused("Malformed Google token"))?;
        if header.alg != Algorithm::RS256 {
            return Err(refused("Unexpected token algorithm"));
        }
        let kid = header.kid.ok_or_else(|| refused("The token names no key"))?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&self.client_ids);
        validation.set_issuer(&ISSUERS);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = 30;
        let claims = jsonwebtoken::decode::<GoogleClaims>(id_token, &key, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => refused("The Google token has expired"),
                jsonwebtoken::errors::ErrorKind::InvalidAudience => refused("The Google token is for another app"),
                jsonwebtoken::errors::ErrorKind::InvalidIssuer => refused("The token was not issued by Google"),
                _ => refused("Invalid Google token"),
            })?
            .claims;
        let verified = claims.email_verified == serde_json::json!(true) || claims.email_verified == "true";
        match (claims.email, verified) {
            (Some(email), true) => Ok(email.trim().to_lowercase()),
            _ => Err(refused("The Google account's e-mail is not verified")),
        }
    }
}
