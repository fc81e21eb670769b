//! Phone login with one-time codes, tokens, and resolving a token to the caller.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Timelike;

use talktime_domain::account::{Account, Role};
pub use talktime_domain::admin::Admin as AdminAccount;
use talktime_domain::admin::Admin;
use talktime_domain::ids::{AccountId, AdminId};
use talktime_domain::network::SiteNetwork;
use talktime_domain::otp::{OTP_MAX_ATTEMPTS, OTP_RESEND_COOLDOWN_SECS, OTP_TTL_SECS, OtpCode, OtpLength};
use talktime_domain::phone::Phone;
use talktime_repository::changes::Change;
use talktime_repository::{Db, RepoError, accounts, admins, otp};

use crate::ServiceError;
use crate::cache::ReadCache;
pub use crate::rate_limit::Budget;
use crate::rate_limit::{NetworkLimits, RateLimiter, network_key};
use crate::secrets::OtpHasher;
use crate::sms::SmsSender;
use crate::tokens::TokenIssuer;

const FIFTEEN_MINUTES: Duration = Duration::from_secs(15 * 60);
/// `/auth/send` and `/auth/resend` per phone.
pub const SEND_PER_PHONE: Budget = Budget { limit: 5, window: FIFTEEN_MINUTES };
/// `/auth/verify` per phone.
pub const VERIFY_PER_PHONE: Budget = Budget { limit: 10, window: FIFTEEN_MINUTES };

#[derive(Debug, Clone)]
pub struct OtpSettings {
    pub length: OtpLength,
    /// Store-review numbers with fixed codes; no SMS is sent to them.
    pub test_numbers: HashMap<String, String>,
    /// The three login routes together, per client network (`RATE_LIMIT_LOGIN_PER_IP`).
    pub per_network: Budget,
    pub sms: SmsPolicy,
}

impl Default for OtpSettings {
    fn default() -> Self {
        Self {
            length: OtpLength::DEFAULT,
            test_numbers: HashMap::new(),
            per_network: NetworkLimits::default().login,
            sms: SmsPolicy::default(),
        }
    }
}

/// Where codes may go and how many may leave per hour: the guard against SMS toll fraud
/// (bots requesting codes for premium-rate numbers, paid per message by us).
#[derive(Debug, Clone)]
pub struct SmsPolicy {
    /// The country of 10-digit national numbers (`SMS_COUNTRY_CODE`).
    pub home_country: String,
    /// Calling codes codes may be sent to (`SMS_ALLOWED_COUNTRY_CODES`).
    pub allowed_countries: Vec<String>,
    /// Codes sent per clock hour by the whole deployment (`SMS_MAX_PER_HOUR`); past it every
    /// send is refused until the hour turns: the last resort.
    pub max_per_hour: u32,
    /// Each network's share of the hour (an IPv4 /24 or an IPv6 /48;
    /// `SMS_MAX_PER_HOUR_PER_NETWORK`), so one network cannot spend everyone's budget.
    pub max_per_network: u32,
    /// Each calling code's share of the hour (`SMS_MAX_PER_HOUR_PER_COUNTRY`).
    pub max_per_country: u32,
}

impl SmsPolicy {
    /// A network's default share: 5% of the hour's budget (at least 10, at most all of it).
    pub fn default_per_network(max_per_hour: u32) -> u32 {
        (max_per_hour / 20).max(10).min(max_per_hour)
    }
}

impl Default for SmsPolicy {
    fn default() -> Self {
        Self {
            home_country: "91".into(),
            allowed_countries: vec!["91".into()],
            max_per_hour: 1_000,
            max_per_network: Self::default_per_network(1_000),
            max_per_country: 1_000,
        }
    }
}

/// Codes refused because a budget of the hour was spent, by budget (`/metrics`).
#[derive(Debug, Default)]
pub struct SmsRefusals {
    pub network: AtomicU64,
    pub country: AtomicU64,
    pub global: AtomicU64,
}

/// What the client is told after a code was sent.
#[derive(Debug, Clone, Copy)]
pub struct CodeSent {
    pub expires_in_secs: i64,
    pub resend_after_secs: i64,
}

/// A successful login.
#[derive(Debug, Clone)]
pub struct Login {
    pub account: Account,
    pub token: String,
    pub is_new_account: bool,
}

/// Who a valid token speaks for, as the database sees them now.
#[derive(Debug, Clone)]
pub enum Principal {
    Account(Account),
    Admin(Admin),
}

pub struct AuthService {
    db: Db,
    sms: Arc<dyn SmsSender>,
    limiter: Arc<dyn RateLimiter>,
    hasher: OtpHasher,
    tokens: TokenIssuer,
    otp: OtpSettings,
    cache: Arc<ReadCache>,
    pub sms_refusals: SmsRefusals,
}

impl AuthService {
    pub fn new(
        db: Db,
        sms: Arc<dyn SmsSender>,
        limiter: Arc<dyn RateLimiter>,
        hasher: OtpHasher,
        tokens: TokenIssuer,
        otp: OtpSettings,
        cache: Arc<ReadCache>,
    ) -> Self {
        Self { cache, db, sms, limiter, hasher, tokens, otp, sms_refusals: SmsRefusals::default() }
    }

    pub fn tokens(&self) -> &TokenIssuer {
        &self.tokens
    }

    /// The read caches behind [`Self::authenticate`] (services that change accounts evict).
    pub fn cache(&self) -> &ReadCache {
        &self.cache
    }

    async fn spend(&self, key: String, budget: Budget) -> Result<(), ServiceError> {
        budget.spend(&*self.limiter, &key).await
    }

    /// `/auth/send` and `/auth/resend`: stores a new code and sends it. Never creates an account.
    pub async fn send_code(&self, phone: &Phone, ip: IpAddr) -> Result<CodeSent, ServiceError> {
        self.spend(network_key("login", ip), self.otp.per_network).await?;
        let Some(country) = phone.country_among(&self.otp.sms.home_country, &self.otp.sms.allowed_countries) else {
            return Err(ServiceError::invalid_field(
                "phone",
                "country_not_allowed",
                "Codes cannot be sent to numbers of this country",
            ));
        };
        let phone = phone.as_str();
        if accounts::find_by_phone(self.db.pool(), phone).await?.is_some_and(|a| a.is_suspended()) {
            return Err(ServiceError::suspended());
        }
        if let Some(wait) = otp::cooldown_remaining(self.db.pool(), phone, OTP_RESEND_COOLDOWN_SECS).await? {
            return Err(cooling_down(wait));
        }
        self.spend(format!("login:send:{phone}"), SEND_PER_PHONE).await?;

        let fixed = self.otp.test_numbers.get(phone).and_then(|code| OtpCode::parse(code, self.otp.length).ok());
        let code = match &fixed {
            Some(code) => code.clone(),
            None => OtpCode::generate(self.otp.length, getrandom::u32).map_err(ServiceError::internal)?,
        };
        if fixed.is_none() {
            self.spend_sms_budget(country, ip).await?;
        }
        let hash = self.hasher.hash(phone, &code);
        let mut conn = self.db.acquire().await?;
        let sent_at = match otp::issue(&mut conn, phone, &hash, OTP_TTL_SECS, OTP_RESEND_COOLDOWN_SECS).await? {
            otp::Issue::Stored { sent_at } => sent_at,
            otp::Issue::CoolingDown { retry_after_secs } => {
                return Err(cooling_down(retry_after_secs));
            }
        };
        drop(conn);

        if fixed.is_none() {
            let message = format!(
                "Your Talktime code is {}. It expires in {} minutes. Do not share it with anyone.",
                code.expose(),
                OTP_TTL_SECS / 60
            );
            if let Err(error) = self.sms.send(phone, &message).await {
                // The code never reached the phone: leave nothing usable behind.
                otp::withdraw(self.db.pool(), phone, sent_at).await?;
                tracing::warn!(%error, "SMS delivery failed");
                return Err(ServiceError::upstream(
                    "sms_delivery_failed",
                    "Could not send the code by SMS, please try again",
                    error,
                ));
            }
        }
        Ok(CodeSent { expires_in_secs: OTP_TTL_SECS, resend_after_secs: OTP_RESEND_COOLDOWN_SECS })
    }

    /// One SMS out of this clock hour's budgets: the sender's network's share, the country's
    /// share, then the deployment's. Each key names the hour, so the budgets reset when the hour
    /// turns, on every node at once (the limiter is shared through Redis). A network or country
    /// that spent its share is refused alone; the global breaker stays the last resort.
    async fn spend_sms_budget(&self, country: &str, ip: IpAddr) -> Result<(), ServiceError> {
        let now = chrono::Utc::now();
        let hour = now.format("%Y%m%d%H");
        let until_next_hour = (3600 - i64::from(now.minute()) * 60 - i64::from(now.second())).unsigned_abs();
        let window = Duration::from_secs(3600);
        let policy = &self.otp.sms;
        // A share as large as the whole budget adds nothing: the global breaker answers then.
        let network = SiteNetwork::of(ip);
        if policy.max_per_network < policy.max_per_hour
            && self
                .limiter
                .hit(&format!("sms:hour:{hour}:net:{network}"), policy.max_per_network, window)
                .await
                .is_err()
        {
            self.sms_refusals.network.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%network, max = policy.max_per_network, "a network spent its SMS share of this hour");
            return Err(ServiceError::rate_limited_as(
                "sms_network_budget_exhausted",
                until_next_hour,
                "Too many codes were requested from your network, please try again later",
            ));
        }
        if policy.max_per_country < policy.max_per_hour
            && self.limiter.hit(&format!("sms:hour:{hour}:cc:{country}"), policy.max_per_country, window).await.is_err()
        {
            self.sms_refusals.country.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(country, max = policy.max_per_country, "a country spent its SMS share of this hour");
            return Err(ServiceError::unavailable(
                "sms_country_budget_exhausted",
                "Codes cannot be sent to numbers of this country right now, please try again later",
                until_next_hour,
            ));
        }
        if self.limiter.hit(&format!("sms:hour:{hour}"), policy.max_per_hour, window).await.is_ok() {
            return Ok(());
        }
        self.sms_refusals.global.fetch_add(1, Ordering::Relaxed);
        tracing::error!(
            max_per_hour = policy.max_per_hour,
            "SMS budget for this hour is spent: refusing every code until the hour turns (SMS_MAX_PER_HOUR)"
        );
        Err(ServiceError::unavailable(
            "sms_budget_exhausted",
            "Codes cannot be sent right now, please try again later",
            until_next_hour,
        ))
    }

    /// `/auth/verify`: checks the code (attempts counted atomically) and logs in, creating the
    /// account on first login.
    pub async fn verify(&self, phone: &Phone, code: &str, ip: IpAddr) -> Result<Login, ServiceError> {
        let code = OtpCode::parse(code, self.otp.length)
            .map_err(|e| ServiceError::invalid_field("otp", "invalid_otp", e.to_string()))?;
        self.spend(network_key("login", ip), self.otp.per_network).await?;
        let phone = phone.as_str();
        self.spend(format!("login:verify:{phone}"), VERIFY_PER_PHONE).await?;
        if accounts::find_by_phone(self.db.pool(), phone).await?.is_some_and(|a| a.is_suspended()) {
            return Err(ServiceError::suspended());
        }

        let hash = self.hasher.hash(phone, &code);
        let mut tx = self.db.begin().await?;
        let Some(attempt) = otp::attempt(&mut *tx, phone, &hash, OTP_MAX_ATTEMPTS).await? else {
            let reason = otp::state(&mut *tx, phone, OTP_MAX_ATTEMPTS).await?;
            return Err(unusable(reason));
        };
        if !attempt.matched {
            tx.commit().await.map_err(RepoError::from)?;
            let left = OTP_MAX_ATTEMPTS - attempt.attempts;
            let message = if left > 0 {
                format!("Incorrect code. {left} attempt(s) left")
            } else {
                "Incorrect code. No attempts left, request a new code".to_owned()
            };
            return Err(ServiceError::invalid_field("otp", "otp_invalid", message));
        }
        let (account, created) = accounts::create_if_absent(&mut tx, phone).await?;
        if account.is_suspended() {
            return Err(ServiceError::suspended());
        }
        tx.commit().await.map_err(RepoError::from)?;
        let token = self.tokens.issue(account.id.0, account.role, account.token_version)?;
        Ok(Login { account, token, is_new_account: created })
    }

    /// Revokes every token of the account.
    pub async fn logout(&self, account: AccountId) -> Result<(), ServiceError> {
        accounts::bump_token_version(self.db.pool(), account).await?;
        self.cache.changed(Change::Account(account));
        Ok(())
    }

    /// Revokes every token of an admin.
    pub async fn logout_admin(&self, admin: AdminId) -> Result<(), ServiceError> {
        admins::bump_token_version(self.db.pool(), admin).await?;
        self.cache.changed(Change::Admin(admin));
        Ok(())
    }

    /// A new token for the account as it is now (after a role change, say).
    pub fn token_for(&self, account: &Account) -> Result<String, ServiceError> {
        self.tokens.issue(account.id.0, account.role, account.token_version)
    }

    pub fn token_for_admin(&self, admin: &Admin) -> Result<String, ServiceError> {
        self.tokens.issue(admin.id.0, Role::Admin, admin.token_version)
    }

    /// Verifies a token and checks it against the stored state on every request: the account or
    /// admin exists, the token version is current, and a phone account is not suspended. The
    /// state comes from the read cache, which forgets an account the moment it changes.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, ServiceError> {
        let claims = self.tokens.verify(token)?;
        let revoked = || ServiceError::unauthorized("token_revoked", "This session has ended, please log in again");
        match claims.role {
            Role::Admin => {
                let admin = self.cache.admin(AdminId(claims.sub)).await?.ok_or_else(revoked)?;
                if admin.token_version != claims.ver {
                    return Err(revoked());
                }
                Ok(Principal::Admin((*admin).clone()))
            }
            Role::User | Role::Telecaller => {
                let account = self.cache.account(AccountId(claims.sub)).await?.ok_or_else(revoked)?;
                if account.token_version != claims.ver || account.role != claims.role {
                    return Err(revoked());
                }
                if account.is_suspended() {
                    return Err(ServiceError::suspended());
                }
                Ok(Principal::Account((*account).clone()))
            }
        }
    }
}

impl AuthService {
    /// Of the sessions a node holds sockets for (role, account, token version), the ones that
    /// ended since (a block, logout, rejection or role change whose close never reached this
    /// node, say because the bus was down). Two queries whatever the number.
    pub async fn ended_sessions(
        &self,
        sessions: &[(Role, AccountId, i32)],
    ) -> Result<Vec<(Role, AccountId)>, ServiceError> {
        let phones: Vec<(AccountId, i32)> =
            sessions.iter().filter(|(role, _, _)| *role != Role::Admin).map(|(_, id, v)| (*id, *v)).collect();
        let admins: Vec<(AdminId, i32)> =
            sessions.iter().filter(|(role, _, _)| *role == Role::Admin).map(|(_, id, v)| (AdminId(id.0), *v)).collect();
        let mut ended = Vec::new();
        if !phones.is_empty() {
            let gone: std::collections::HashSet<AccountId> =
                accounts::ended_sessions(self.db.pool(), &phones).await?.into_iter().collect();
            ended.extend(
                sessions
                    .iter()
                    .filter(|(role, id, _)| *role != Role::Admin && gone.contains(id))
                    .map(|(r, id, _)| (*r, *id)),
            );
        }
        if !admins.is_empty() {
            let gone = admins::ended_sessions(self.db.pool(), &admins).await?;
            ended.extend(gone.into_iter().map(|id| (Role::Admin, AccountId(id.0))));
        }
        Ok(ended)
    }
}

fn cooling_down(retry_after_secs: i64) -> ServiceError {
    let secs = u64::try_from(retry_after_secs).unwrap_or(1);
    ServiceError {
        code: "otp_cooldown",
        ..ServiceError::rate_limited(secs, format!("Please wait {secs} seconds before requesting a new code"))
    }
}

fn unusable(reason: otp::Unusable) -> ServiceError {
    match reason {
        otp::Unusable::Missing | otp::Unusable::Consumed => {
            ServiceError::invalid("otp_not_found", "No active code for this number, request a new one")
        }
        otp::Unusable::Expired => ServiceError::invalid("otp_expired", "This code has expired, request a new one"),
        otp::Unusable::Exhausted => {
            ServiceError::invalid("otp_attempts_exhausted", "Too many wrong attempts, request a new code")
        }
    }
}
