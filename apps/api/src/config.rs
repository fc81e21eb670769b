//! Settings from the environment (optionally `.env`). In production, missing or unsafe settings
//! are all collected and reported in one message.
//!
//! Long on purpose: every setting is read, defaulted and checked in this one place (the README
//! table and `.env.example` mirror it), so a bad production configuration is refused as a whole;
//! its tests are at the end.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use base64::Engine;
use ipnet::IpNet;
use talktime_domain::otp::OtpLength;
use talktime_domain::secret::Secret;
use talktime_services::gateway::RazorpayConfig;
use talktime_services::rate_limit::{Budget, NetworkLimits};
use talktime_services::sms::{Msg91Config, TwilioConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

/// Where login codes go: `SMS_PROVIDER` with that provider's own settings, so a provider chosen
/// without its settings cannot be represented (the missing ones are reported at start).
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

/// PostgreSQL.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
}

/// Cluster mode: the nodes share the event bus, the connection directory, presence and rate
/// limits through Redis.
#[derive(Debug, Clone)]
pub struct ClusterSettings {
    pub redis_url: String,
    /// Prefix of every Redis key and channel (`REDIS_NAMESPACE`; default `talktime:<database>`),
    /// so deployments sharing one Redis never see each other.
    pub namespace: String,
    /// How often a node renews its entries in Redis, and how long they outlive its last renewal
    /// (a crashed node's connections and presence are gone within that).
    pub heartbeat: Duration,
    pub expiry: Duration,
}

/// Tokens, login codes, admin sign-in and the key for secrets at rest.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub jwt_secret: Secret<String>,
    pub jwt_ttl: Duration,
    /// 32 bytes; protects secrets at rest (OTP hashes, bank details).
    pub secrets_key: Secret<Vec<u8>>,
    pub otp_length: OtpLength,
    pub otp_test_numbers: HashMap<String, String>,
    pub google_client_ids: Vec<String>,
    pub google_jwks_url: String,
}

/// What protects the service from floods and abuse.
#[derive(Debug, Clone)]
pub struct LimitSettings {
    /// `RATE_LIMIT_*_PER_IP`: budgets per IPv4 address or IPv6 /64.
    pub network: NetworkLimits,
    /// `RATE_LIMIT_WS_CONNECT_PER_ACCOUNT`: accepted WebSocket handshakes per account per minute
    /// (default 60: one a second, far above any app's reconnects, far below a storm).
    pub ws_connect_per_account: Budget,
    /// `WS_MAX_CONNECTIONS_PER_ACCOUNT` (default 5, per node).
    pub ws_max_connections_per_account: usize,
    /// Outgoing frames a WebSocket connection may have queued before it is closed as too slow.
    pub ws_queue_capacity: usize,
    /// `SMS_ALLOWED_COUNTRY_CODES` (default `91`) and `SMS_MAX_PER_HOUR` (default 1000), with
    /// each network's (`SMS_MAX_PER_HOUR_PER_NETWORK`, default 5%) and each calling code's
    /// (`SMS_MAX_PER_HOUR_PER_COUNTRY`, default all of it) share.
    pub sms_allowed_countries: Vec<String>,
    pub sms_max_per_hour: u32,
    pub sms_max_per_hour_per_network: u32,
    pub sms_max_per_hour_per_country: u32,
}

/// The media server.
#[derive(Debug, Clone)]
pub struct LiveKitSettings {
    /// `LIVEKIT_URL`, sent to the apps.
    pub url: String,
    /// RoomService's base (`LIVEKIT_API_URL`, else derived from `LIVEKIT_URL`), or `None` when
    /// neither was given (local development: calls ring, connect and bill with no media server).
    pub room_service: Option<String>,
    pub api_key: String,
    pub api_secret: Secret<String>,
    /// With `LIVEKIT_WEBHOOK_ENABLED`, LiveKit posts its webhooks to `/webhooks/livekit` (the
    /// meter starts when both parties are in the room) and an accepted call's media must connect
    /// within this (`MEDIA_CONNECT_TIMEOUT_SECS`); `None` without webhooks.
    pub media_connect_timeout: Option<Duration>,
    /// How often the media server's rooms are listed and those of no live call closed
    /// (`ROOM_SWEEP_INTERVAL_MS`).
    pub room_sweep: Duration,
}

/// Where push notifications go: `PUSH_PROVIDER` with its settings.
#[derive(Debug, Clone)]
pub enum PushProvider {
    /// Development: what would be sent is logged.
    Log,
    /// Firebase Cloud Messaging HTTP v1 with a service account (`FCM_CREDENTIALS_FILE` or
    /// `FCM_CREDENTIALS_JSON`); `api_base` is `FCM_API_BASE` (tests point it at a fake).
    Fcm { credentials: talktime_services::push::FcmCredentials, api_base: String },
}

/// Where coins are bought: `PAYMENT_GATEWAY` with that gateway's own settings.
#[derive(Debug, Clone)]
pub enum PaymentGateway {
    /// Development: orders are paid through `/payment/sandbox/pay`; webhooks are signed with
    /// `RAZORPAY_WEBHOOK_SECRET`, or `sandbox_webhook_secret` when unset.
    Sandbox {
        webhook_secret: Secret<String>,
    },
    Razorpay(RazorpayConfig),
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// `APP_ENV`: production unless `development` (or `test`) is said explicitly.
    pub env: AppEnv,
    /// `BIND_ADDR`: `0.0.0.0:8000` in production, `127.0.0.1:8000` in development.
    pub bind_addr: String,
    /// `ALLOW_EXPOSED_DEVELOPMENT`: a development server may listen on an address other machines
    /// can reach (see [`Settings::refuse_exposed_development`]).
    pub allow_exposed_development: bool,
    pub database: DatabaseSettings,
    /// Several nodes sharing Redis (`REDIS_URL`); `None` on one node.
    pub cluster: Option<ClusterSettings>,
    pub auth: AuthSettings,
    pub limits: LimitSettings,
    pub cors_allowed_origins: Vec<String>,
    pub trusted_proxies: Vec<IpNet>,
    /// `METRICS_TOKEN`: `/metrics` needs `Authorization: Bearer` with it (required in production
    /// unless `METRICS_BIND_ADDR` serves the metrics on an address of their own).
    pub metrics_token: Option<Secret<String>>,
    pub metrics_bind_addr: Option<String>,
    /// HTTP worker threads (`HTTP_WORKERS`); one per core when unset.
    pub http_workers: Option<usize>,
    pub livekit: LiveKitSettings,
    pub payment_gateway: PaymentGateway,
    pub sms_provider: SmsProvider,
    pub push_provider: PushProvider,
    /// The push worker and device registrations (`PUSH_INTERVAL_MS`, `PUSH_CONCURRENCY`,
    /// `PUSH_MAX_DEVICES_PER_ACCOUNT`).
    pub push: talktime_services::push::PushSettings,
    /// At most one round of "she's online" pushes per telecaller within this
    /// (`ONLINE_ALERT_COOLDOWN_SECS`).
    pub online_alert_cooldown: Duration,
    /// `SMS_COUNTRY_CODE`: the home country of 10-digit numbers.
    pub sms_country_code: String,
    pub ring_timeout: Duration,
    /// How long a call to an AWAY telecaller rings (`PUSH_RING_TIMEOUT_SECS`).
    pub push_ring_timeout: Duration,
    /// Calls rung through a push per telecaller per hour (`PUSH_RINGS_PER_HOUR`, default 20).
    pub push_rings_per_hour: i64,
    /// A rating counts towards her card only from a call billed this long
    /// (`RATING_MIN_BILLED_SECONDS`, default 30).
    pub rating_min_billed_secs: i64,
    pub reconnect_grace: Duration,
    /// How often the payment reconciler runs, how old a PENDING order must be before it asks the
    /// gateway, and when an unpaid order becomes FAILED.
    pub reconcile_interval: Duration,
    pub reconcile_min_age: Duration,
    pub order_expiry: Duration,
    /// How often each node's call sweeper looks for overdue calls.
    pub sweep_interval: Duration,
    /// How often each node sends watchers their coalesced `presence:update`.
    pub presence_flush: Duration,
    /// How often the server pings a socket, and how long a silent one lives.
    pub ws_ping_interval: Duration,
    pub ws_client_timeout: Duration,
    /// How often each node checks its sockets' sessions against Postgres.
    pub session_check_interval: Duration,
    /// Serve the web console at `/console` (`CONSOLE_ENABLED`; on by default in development).
    pub console_enabled: bool,
    /// `talktime demo`'s hosts: `DEMO_ANSWER_AFTER_MS`, `DEMO_HANG_UP_AFTER_SECS`.
    pub demo: crate::demo::DemoSettings,
    /// Delay before a failed LiveKit DeleteRoom is tried again.
    pub room_retry: Duration,
}

/// Every problem found, so an operator fixes them all in one go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "refusing to start: {} configuration problem(s):", self.problems.len())?;
        for problem in &self.problems {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

const DEV_JWT_SECRET: &str = "development-only-jwt-secret-do-not-use-in-production";
/// 32 bytes of `0x01`: development only.
const DEV_SECRETS_KEY: [u8; 32] = [1; 32];
const DEV_LIVEKIT_KEY: &str = "devkey";
const DEV_LIVEKIT_SECRET: &str = "secret";

struct Vars {
    map: HashMap<String, String>,
    problems: Vec<String>,
}

impl Vars {
    fn new(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        Self { map: vars.into_iter().collect(), problems: Vec::new() }
    }

    /// The value, with empty strings treated as unset.
    fn get(&self, name: &str) -> Option<String> {
        self.map.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    fn or(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or_else(|| default.to_owned())
    }

    fn parsed<T: std::str::FromStr>(&mut self, name: &str, default: T, what: &str) -> T {
        match self.get(name) {
            None => default,
            Some(raw) => raw.parse().unwrap_or_else(|_| {
                self.problems.push(format!("{name} must be {what} (got `{raw}`)"));
                default
            }),
        }
    }

    /// A setting that `by` (the provider chosen) needs: reported when missing.
    fn required(&mut self, name: &str, by: &str) -> String {
        self.get(name).unwrap_or_else(|| {
            self.problems.push(format!("{name} is missing (required by {by})"));
            String::new()
        })
    }

    /// `APP_ENV`: production unless development is asked for, so a forgotten APP_ENV never puts
    /// the development secrets and features on a server.
    fn app_env(&mut self) -> AppEnv {
        match self.get("APP_ENV").map(|e| e.to_ascii_lowercase()).as_deref() {
            None | Some("production" | "prod") => AppEnv::Production,
            Some("development" | "dev" | "test") => AppEnv::Development,
            Some(other) => {
                self.problems.push(format!("APP_ENV must be `production`, `development` or `test` (got `{other}`)"));
                AppEnv::Production
            }
        }
    }

    /// The problems found, if any; when APP_ENV was not given, the first says that this is
    /// why production's rules applied.
    fn finish<T>(mut self, value: T) -> Result<T, ConfigError> {
        if self.problems.is_empty() {
            return Ok(value);
        }
        if self.get("APP_ENV").is_none() {
            self.problems.insert(
                0,
                "APP_ENV is not set, so this runs as production (set APP_ENV=development for a local development \
                 server)"
                    .into(),
            );
        }
        Err(ConfigError { problems: self.problems })
    }

    /// `SECRETS_KEY`: 32 bytes in base64, required in production (a fixed key in development).
    fn secrets_key(&mut self, prod: bool) -> Vec<u8> {
        match self.get("SECRETS_KEY") {
            None => {
                if prod {
                    self.problems.push("SECRETS_KEY is missing (32 random bytes, base64)".into());
                }
                DEV_SECRETS_KEY.to_vec()
            }
            Some(raw) => match base64::engine::general_purpose::STANDARD.decode(&raw) {
                Ok(bytes) if bytes.len() == 32 => {
                    if prod && bytes == DEV_SECRETS_KEY {
                        self.problems.push("SECRETS_KEY is the development default".into());
                    }
                    bytes
                }
                _ => {
                    self.problems.push("SECRETS_KEY must be 32 bytes encoded in base64".into());
                    DEV_SECRETS_KEY.to_vec()
                }
            },
        }
    }

    fn database(&mut self, prod: bool) -> DatabaseSettings {
        let url = self.get("DATABASE_URL").unwrap_or_else(|| {
            if prod {
                self.problems.push("DATABASE_URL is missing".into());
            }
            "postgres://postgres:postgres@127.0.0.1:5432/talktime".into()
        });
        DatabaseSettings { url, max_connections: self.parsed("DATABASE_MAX_CONNECTIONS", 20u32, "a positive integer") }
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`); anything else is reported.
    fn flag(&mut self, name: &str, default: bool) -> bool {
        match self.get(name).map(|v| v.to_ascii_lowercase()).as_deref() {
            None => default,
            Some("true" | "1" | "yes" | "on") => true,
            Some("false" | "0" | "no" | "off") => false,
            Some(other) => {
                self.problems.push(format!("{name} must be true or false (got `{other}`)"));
                default
            }
        }
    }

    fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default()
    }
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars())
    }

    /// Only what the operator commands (`migrate`, `seed`, `import`, `admin`) need: the
    /// environment and the database.
    pub fn database_from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(AppEnv, DatabaseSettings), ConfigError> {
        let mut v = Vars::new(vars);
        let env = v.app_env();
        let database = v.database(env == AppEnv::Production);
        v.finish((env, database))
    }

    /// `SECRETS_KEY` alone (`talktime import` recognises deleted accounts' phones with it).
    pub fn secrets_key_from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Secret<Vec<u8>>, ConfigError> {
        let mut v = Vars::new(vars);
        let prod = v.app_env() == AppEnv::Production;
        let key = v.secrets_key(prod);
        v.finish(Secret::new(key))
    }

    /// Reads the given variables only (tests pass their own).
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let mut v = Vars::new(vars);

        let env = v.app_env();
        let prod = env == AppEnv::Production;
        let allow_exposed_development = v.flag("ALLOW_EXPOSED_DEVELOPMENT", false);

        let database = v.database(prod);

        let jwt_secret = v.get("JWT_SECRET");
        match &jwt_secret {
            None if prod => v.problems.push("JWT_SECRET is missing".into()),
            Some(secret) if prod && secret.len() < 32 => {
                v.problems.push("JWT_SECRET is too short (use at least 32 random characters)".into())
            }
            Some(secret) if prod && secret == DEV_JWT_SECRET => {
                v.problems.push("JWT_SECRET is the development default".into())
            }
            _ => {}
        }
        let jwt_ttl = match v.get("JWT_TTL") {
            None => Duration::from_secs(7 * 24 * 3600),
            Some(raw) => parse_duration(&raw).unwrap_or_else(|| {
                v.problems.push(format!("JWT_TTL must be a duration like `7d`, `12h`, `3600` (got `{raw}`)"));
                Duration::from_secs(7 * 24 * 3600)
            }),
        };

        let cors_allowed_origins = v.list("CORS_ALLOWED_ORIGINS");
        if prod && cors_allowed_origins.iter().any(|o| o == "*") {
            v.problems.push("CORS_ALLOWED_ORIGINS must not contain `*` in production".into());
        }
        let mut trusted_proxies = Vec::new();
        for raw in v.list("TRUSTED_PROXIES") {
            let parsed = raw.parse::<IpNet>().or_else(|_| raw.parse::<std::net::IpAddr>().map(IpNet::from));
            match parsed {
                Ok(net) => trusted_proxies.push(net),
                Err(_) => v.problems.push(format!("TRUSTED_PROXIES entry `{raw}` is not an IP address or CIDR range")),
            }
        }
        let metrics_token = v.get("METRICS_TOKEN").map(Secret::new);
        let metrics_bind_addr = v.get("METRICS_BIND_ADDR");
        if prod && metrics_token.is_none() && metrics_bind_addr.is_none() {
            v.problems
                .push("METRICS_TOKEN is missing (or METRICS_BIND_ADDR: /metrics on an address of its own)".into());
        }
        let http_workers = v.get("HTTP_WORKERS").and_then(|raw| raw.parse().ok()).filter(|n: &usize| *n > 0);

        let livekit_url = v.get("LIVEKIT_URL");
        let livekit_api_key = v.get("LIVEKIT_API_KEY");
        let livekit_api_secret = v.get("LIVEKIT_API_SECRET");
        if prod {
            if livekit_url.is_none() {
                v.problems.push("LIVEKIT_URL is missing".into());
            }
            match livekit_api_key.as_deref() {
                None => v.problems.push("LIVEKIT_API_KEY is missing".into()),
                Some(DEV_LIVEKIT_KEY) => v.problems.push("LIVEKIT_API_KEY is the LiveKit development key".into()),
                _ => {}
            }
            match livekit_api_secret.as_deref() {
                None => v.problems.push("LIVEKIT_API_SECRET is missing".into()),
                Some(DEV_LIVEKIT_SECRET) => {
                    v.problems.push("LIVEKIT_API_SECRET is the LiveKit development secret".into())
                }
                _ => {}
            }
        }
        let livekit_configured = livekit_url.is_some() || v.get("LIVEKIT_API_URL").is_some();
        let livekit_url = livekit_url.unwrap_or_else(|| "ws://localhost:7880".into());
        let livekit_api_url = v.get("LIVEKIT_API_URL").unwrap_or_else(|| http_base_of(&livekit_url));
        let livekit_webhook_enabled = v.flag("LIVEKIT_WEBHOOK_ENABLED", false);
        // Without webhooks the meter starts at accept whatever the media does, and nothing sees
        // a party who rejoins a room after the call: production needs them (they are signed with
        // LIVEKIT_API_KEY/LIVEKIT_API_SECRET, which LiveKit's `webhook.api_key` must name).
        if prod && livekit_configured && !livekit_webhook_enabled {
            v.problems.push(
                "LIVEKIT_WEBHOOK_ENABLED is off; production with a LiveKit server needs its webhooks \
                 (LiveKit's `webhook.urls` pointing at /webhooks/livekit, signed with LIVEKIT_API_KEY)"
                    .into(),
            );
        }
        let media_connect_timeout =
            Duration::from_secs(v.parsed("MEDIA_CONNECT_TIMEOUT_SECS", 20u64, "a number of seconds").max(1));
        let livekit = LiveKitSettings {
            url: livekit_url,
            room_service: livekit_configured.then_some(livekit_api_url),
            api_key: livekit_api_key.unwrap_or_else(|| DEV_LIVEKIT_KEY.into()),
            api_secret: Secret::new(livekit_api_secret.unwrap_or_else(|| DEV_LIVEKIT_SECRET.into())),
            media_connect_timeout: livekit_webhook_enabled.then_some(media_connect_timeout),
            room_sweep: Duration::from_millis(v.parsed("ROOM_SWEEP_INTERVAL_MS", 30_000u64, "milliseconds").max(10)),
        };

        let sandbox = |v: &Vars| PaymentGateway::Sandbox {
            webhook_secret: Secret::new(v.or("RAZORPAY_WEBHOOK_SECRET", "sandbox_webhook_secret")),
        };
        let razorpay = |v: &mut Vars| RazorpayConfig {
            api_base: v.or("RAZORPAY_API_BASE", "https://api.razorpay.com"),
            key_id: v.required("RAZORPAY_KEY_ID", "PAYMENT_GATEWAY=razorpay"),
            key_secret: Secret::new(v.required("RAZORPAY_KEY_SECRET", "PAYMENT_GATEWAY=razorpay")),
            webhook_secret: Secret::new(v.required("RAZORPAY_WEBHOOK_SECRET", "PAYMENT_GATEWAY=razorpay")),
        };
        let payment_gateway = match v.get("PAYMENT_GATEWAY").as_deref() {
            None | Some("sandbox") if prod => {
                v.problems.push("PAYMENT_GATEWAY is `sandbox` (or unset); production needs `razorpay`".into());
                // Name what `razorpay` will need too, so one round of fixes is enough.
                razorpay(&mut v);
                sandbox(&v)
            }
            None | Some("sandbox") => sandbox(&v),
            Some("razorpay") => PaymentGateway::Razorpay(razorpay(&mut v)),
            Some(other) => {
                v.problems.push(format!("PAYMENT_GATEWAY must be `razorpay` or `sandbox` (got `{other}`)"));
                sandbox(&v)
            }
        };

        let push_provider = match v.get("PUSH_PROVIDER").as_deref() {
            None | Some("log") => PushProvider::Log,
            Some("fcm") => fcm_provider(&mut v).unwrap_or(PushProvider::Log),
            Some(other) => {
                v.problems.push(format!("PUSH_PROVIDER must be `log` or `fcm` (got `{other}`)"));
                PushProvider::Log
            }
        };
        let push = talktime_services::push::PushSettings {
            interval: Duration::from_millis(v.parsed("PUSH_INTERVAL_MS", 1_000u64, "milliseconds").max(10)),
            concurrency: v.parsed("PUSH_CONCURRENCY", 8usize, "a positive number").clamp(1, 256),
            max_devices_per_account: v.parsed("PUSH_MAX_DEVICES_PER_ACCOUNT", 10i64, "a positive number").max(1),
        };
        let online_alert_cooldown =
            Duration::from_secs(v.parsed("ONLINE_ALERT_COOLDOWN_SECS", 3_600u64, "a number of seconds"));

        let sms_country_code = v.or("SMS_COUNTRY_CODE", "91");
        let sms_provider = match v.get("SMS_PROVIDER").as_deref() {
            None | Some("log") => {
                if prod {
                    v.problems.push(
                        "SMS_PROVIDER is `log` (or unset); production needs `webhook`, `msg91` or `twilio`".into(),
                    );
                }
                SmsProvider::Log
            }
            Some("webhook") => SmsProvider::Webhook { url: v.required("SMS_WEBHOOK_URL", "SMS_PROVIDER=webhook") },
            Some("msg91") => SmsProvider::Msg91(Msg91Config {
                base_url: v.or("MSG91_BASE_URL", "https://control.msg91.com"),
                auth_key: Secret::new(v.required("MSG91_AUTH_KEY", "SMS_PROVIDER=msg91")),
                template_id: v.required("MSG91_TEMPLATE_ID", "SMS_PROVIDER=msg91"),
                country_code: sms_country_code.clone(),
            }),
            Some("twilio") => SmsProvider::Twilio(TwilioConfig {
                base_url: v.or("TWILIO_BASE_URL", "https://api.twilio.com"),
                account_sid: v.required("TWILIO_ACCOUNT_SID", "SMS_PROVIDER=twilio"),
                auth_token: Secret::new(v.required("TWILIO_AUTH_TOKEN", "SMS_PROVIDER=twilio")),
                from: v.required("TWILIO_FROM_NUMBER", "SMS_PROVIDER=twilio"),
                country_code: sms_country_code.clone(),
            }),
            Some(other) => {
                v.problems.push(format!("SMS_PROVIDER must be `log`, `webhook`, `msg91` or `twilio` (got `{other}`)"));
                SmsProvider::Log
            }
        };

        let otp_length = match v.get("OTP_LENGTH") {
            None => OtpLength::DEFAULT,
            Some(raw) => raw.parse::<u8>().ok().and_then(|n| OtpLength::new(n).ok()).unwrap_or_else(|| {
                v.problems.push(format!("OTP_LENGTH must be between 4 and 8 (got `{raw}`)"));
                OtpLength::DEFAULT
            }),
        };
        let mut otp_test_numbers = HashMap::new();
        for entry in v.list("OTP_TEST_NUMBERS") {
            match entry.split_once(':') {
                Some((phone, code))
                    if talktime_domain::phone::Phone::parse(phone).is_ok()
                        && talktime_domain::otp::OtpCode::parse(code, otp_length).is_ok() =>
                {
                    otp_test_numbers.insert(phone.trim().to_owned(), code.trim().to_owned());
                }
                _ => v.problems.push(format!(
                    "OTP_TEST_NUMBERS entry `{entry}` must be `phone:code` with a {}-digit code",
                    otp_length.digits()
                )),
            }
        }

        let sms_allowed_countries = match v.get("SMS_ALLOWED_COUNTRY_CODES") {
            None => vec!["91".to_owned()],
            Some(_) => {
                v.list("SMS_ALLOWED_COUNTRY_CODES").into_iter().map(|c| c.trim_start_matches('+').to_owned()).collect()
            }
        };
        if sms_allowed_countries.is_empty()
            || sms_allowed_countries
                .iter()
                .any(|c| !(1..=3).contains(&c.len()) || !c.bytes().all(|b| b.is_ascii_digit()))
        {
            v.problems.push("SMS_ALLOWED_COUNTRY_CODES must list calling codes of 1 to 3 digits, e.g. `91,44`".into());
        }
        let sms_max_per_hour = v.parsed("SMS_MAX_PER_HOUR", 1_000u32, "a number of codes").max(1);
        let sms_max_per_hour_per_network = v
            .parsed(
                "SMS_MAX_PER_HOUR_PER_NETWORK",
                talktime_services::auth::SmsPolicy::default_per_network(sms_max_per_hour),
                "a number of codes",
            )
            .max(1);
        let sms_max_per_hour_per_country =
            v.parsed("SMS_MAX_PER_HOUR_PER_COUNTRY", sms_max_per_hour, "a number of codes").max(1);
        let defaults = NetworkLimits::default();
        let network_limits = NetworkLimits {
            login: Budget {
                limit: v.parsed("RATE_LIMIT_LOGIN_PER_IP", defaults.login.limit, "a number of requests").max(1),
                ..defaults.login
            },
            admin_sign_in: Budget {
                limit: v
                    .parsed("RATE_LIMIT_ADMIN_SIGN_IN_PER_IP", defaults.admin_sign_in.limit, "a number of requests")
                    .max(1),
                ..defaults.admin_sign_in
            },
            ws_connect: Budget {
                limit: v
                    .parsed("RATE_LIMIT_WS_CONNECT_PER_IP", defaults.ws_connect.limit, "a number of requests")
                    .max(1),
                ..defaults.ws_connect
            },
        };
        let ws_max_connections_per_account =
            v.parsed("WS_MAX_CONNECTIONS_PER_ACCOUNT", 5usize, "a positive number").max(1);
        let ws_connect_per_account = Budget {
            limit: v.parsed("RATE_LIMIT_WS_CONNECT_PER_ACCOUNT", 60u32, "a number of handshakes").max(1),
            window: Duration::from_secs(60),
        };

        let google_client_ids = v.list("GOOGLE_CLIENT_IDS");
        if prod && google_client_ids.is_empty() {
            v.problems.push("GOOGLE_CLIENT_IDS is missing (admin sign-in)".into());
        }

        let secrets_key = v.secrets_key(prod);

        let ring_timeout = Duration::from_secs(v.parsed("RING_TIMEOUT_SECS", 30u64, "a number of seconds"));
        let push_ring_timeout = Duration::from_secs(v.parsed("PUSH_RING_TIMEOUT_SECS", 45u64, "a number of seconds"));
        let push_rings_per_hour = v.parsed("PUSH_RINGS_PER_HOUR", 20i64, "a number of calls").max(1);
        let rating_min_billed_secs = v.parsed("RATING_MIN_BILLED_SECONDS", 30i64, "a number of seconds").max(0);
        let reconnect_grace = Duration::from_secs(v.parsed("RECONNECT_GRACE_SECS", 20u64, "a number of seconds"));

        let reconcile_interval =
            Duration::from_millis(v.parsed("RECONCILE_INTERVAL_MS", 60_000u64, "milliseconds").max(10));
        let reconcile_min_age = Duration::from_secs(v.parsed("RECONCILE_MIN_AGE_SECS", 300u64, "a number of seconds"));
        let order_expiry = Duration::from_secs(v.parsed("ORDER_EXPIRY_SECS", 86_400u64, "a number of seconds"));

        let sweep_interval = Duration::from_millis(v.parsed("SWEEP_INTERVAL_MS", 1_000u64, "milliseconds").max(10));
        let ws_queue_capacity = v.parsed("WS_QUEUE_CAPACITY", 256usize, "a positive number").max(1);
        let presence_flush = Duration::from_millis(v.parsed("PRESENCE_FLUSH_MS", 1_000u64, "milliseconds").max(10));
        let ws_ping_interval =
            Duration::from_millis(v.parsed("WS_PING_INTERVAL_MS", 20_000u64, "milliseconds").max(10));
        let ws_client_timeout =
            Duration::from_millis(v.parsed("WS_CLIENT_TIMEOUT_MS", 60_000u64, "milliseconds").max(10));
        let console_enabled = v.flag("CONSOLE_ENABLED", !prod);
        let demo = crate::demo::DemoSettings {
            answer_after: Duration::from_millis(v.parsed("DEMO_ANSWER_AFTER_MS", 3_000u64, "milliseconds")),
            hang_up_after: Duration::from_secs(v.parsed("DEMO_HANG_UP_AFTER_SECS", 120u64, "a number of seconds")),
        };
        let session_check_interval =
            Duration::from_millis(v.parsed("SESSION_CHECK_INTERVAL_MS", 30_000u64, "milliseconds").max(10));
        let room_retry = Duration::from_millis(v.parsed("ROOM_RETRY_MS", 10_000u64, "milliseconds").max(10));
        let node_heartbeat = Duration::from_millis(v.parsed("NODE_HEARTBEAT_MS", 1_000u64, "milliseconds").max(10));
        let node_expiry = Duration::from_millis(v.parsed("NODE_EXPIRY_MS", 5_000u64, "milliseconds"));
        if node_expiry < node_heartbeat * 2 {
            v.problems.push("NODE_EXPIRY_MS must be at least twice NODE_HEARTBEAT_MS".into());
        }
        let redis_namespace =
            v.get("REDIS_NAMESPACE").unwrap_or_else(|| format!("talktime:{}", database_name(&database.url)));

        let settings = Settings {
            env,
            bind_addr: v.or("BIND_ADDR", if prod { "0.0.0.0:8000" } else { "127.0.0.1:8000" }),
            allow_exposed_development,
            database,
            cluster: v.get("REDIS_URL").map(|redis_url| ClusterSettings {
                redis_url,
                namespace: redis_namespace,
                heartbeat: node_heartbeat,
                expiry: node_expiry,
            }),
            auth: AuthSettings {
                jwt_secret: Secret::new(jwt_secret.unwrap_or_else(|| DEV_JWT_SECRET.into())),
                jwt_ttl,
                secrets_key: Secret::new(secrets_key),
                otp_length,
                otp_test_numbers,
                google_client_ids,
                google_jwks_url: v.or("GOOGLE_JWKS_URL", "https://www.googleapis.com/oauth2/v3/certs"),
            },
            limits: LimitSettings {
                network: network_limits,
                ws_max_connections_per_account,
                ws_connect_per_account,
                ws_queue_capacity,
                sms_allowed_countries,
                sms_max_per_hour,
                sms_max_per_hour_per_network,
                sms_max_per_hour_per_country,
            },
            cors_allowed_origins,
            trusted_proxies,
            metrics_token,
            metrics_bind_addr,
            http_workers,
            livekit,
            payment_gateway,
            sms_provider,
            push_provider,
            push,
            online_alert_cooldown,
            sms_country_code,
            ring_timeout,
            push_ring_timeout,
            push_rings_per_hour,
            rating_min_billed_secs,
            reconnect_grace,
            reconcile_interval,
            reconcile_min_age,
            order_expiry,
            sweep_interval,
            presence_flush,
            ws_ping_interval,
            ws_client_timeout,
            session_check_interval,
            console_enabled,
            demo,
            room_retry,
        };
        v.finish(settings)
    }

    /// Before serving: a development server (which runs with the public development secrets and
    /// features) listens on an address other machines can reach only with
    /// `ALLOW_EXPOSED_DEVELOPMENT=true` as well. Production never gets here with them: its own
    /// checks refuse every development secret and feature.
    pub fn refuse_exposed_development(&self) -> Result<(), ConfigError> {
        if self.is_production() || self.allow_exposed_development || is_loopback(&self.bind_addr) {
            return Ok(());
        }
        Err(ConfigError {
            problems: vec![format!(
                "BIND_ADDR {} is reachable from other machines, and this is a development server with: {}. \
                 Bind to 127.0.0.1, run production settings (without APP_ENV=development), or set \
                 ALLOW_EXPOSED_DEVELOPMENT=true to serve a development server there on purpose",
                self.bind_addr,
                self.development_only().join("; ")
            )],
        })
    }

    /// The development secrets and features this configuration runs with (unsafe on a server
    /// others can reach).
    fn development_only(&self) -> Vec<&'static str> {
        let mut found = Vec::new();
        if self.auth.jwt_secret.expose() == DEV_JWT_SECRET {
            found.push("JWT_SECRET is the public development secret (anyone can mint tokens)");
        }
        if self.auth.secrets_key.expose().as_slice() == DEV_SECRETS_KEY {
            found.push("SECRETS_KEY is the development key (OTP hashes and bank details readable)");
        }
        if matches!(self.payment_gateway, PaymentGateway::Sandbox { .. }) {
            found.push("PAYMENT_GATEWAY is the sandbox (free coins)");
        }
        if matches!(self.sms_provider, SmsProvider::Log) {
            found.push("SMS_PROVIDER is `log` (codes in the log)");
        }
        if self.livekit.api_key == DEV_LIVEKIT_KEY || self.livekit.api_secret.expose() == DEV_LIVEKIT_SECRET {
            found.push("LIVEKIT_API_KEY/LIVEKIT_API_SECRET are the LiveKit development pair");
        }
        if !self.is_production() {
            found.push("/admin/auth/dev is open (admin sign-in without Google)");
        }
        found
    }

    /// How often this node renews its presence in the cluster (on one node, the pace of the same
    /// loop, which then renews nothing).
    pub fn node_heartbeat(&self) -> Duration {
        self.cluster.as_ref().map_or(Duration::from_secs(1), |c| c.heartbeat)
    }

    pub fn is_production(&self) -> bool {
        self.env == AppEnv::Production
    }
}

/// `PUSH_PROVIDER=fcm`: the service-account key (inline, else from its file) and the URLs; `None`
/// after recording what is missing or unreadable.
fn fcm_provider(v: &mut Vars) -> Option<PushProvider> {
    let json = match (v.get("FCM_CREDENTIALS_JSON"), v.get("FCM_CREDENTIALS_FILE")) {
        (Some(json), _) => json,
        (None, Some(path)) => std::fs::read_to_string(&path)
            .map_err(|error| v.problems.push(format!("FCM_CREDENTIALS_FILE `{path}` cannot be read: {error}")))
            .ok()?,
        (None, None) => {
            v.problems
                .push("FCM_CREDENTIALS_FILE or FCM_CREDENTIALS_JSON is missing (required by PUSH_PROVIDER=fcm)".into());
            return None;
        }
    };
    let mut credentials = serde_json::from_str::<talktime_services::push::FcmCredentials>(&json)
        .map_err(|error| v.problems.push(format!("the FCM credentials are not a service account key: {error}")))
        .ok()?;
    if let Some(url) = v.get("FCM_TOKEN_URL") {
        credentials.token_uri = url;
    }
    Some(PushProvider::Fcm { credentials, api_base: v.or("FCM_API_BASE", "https://fcm.googleapis.com") })
}

/// Whether `BIND_ADDR` only accepts connections from this machine.
fn is_loopback(bind: &str) -> bool {
    let host = bind.rsplit_once(':').map_or(bind, |(host, _)| host).trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The database a URL names (`postgres://…/talktime?sslmode=…` → `talktime`).
fn database_name(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    path.rsplit_once('/').map_or("", |(_, name)| name)
}

/// `ws://host` → `http://host`, `wss://host` → `https://host`.
fn http_base_of(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("wss://") {
        format!("https://{rest}")
    } else if let Some(rest) = url.strip_prefix("ws://") {
        format!("http://{rest}")
    } else {
        url.to_owned()
    }
}

/// `3600`, `45s`, `30m`, `12h` or `7d`.
fn parse_duration(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let (digits, unit) = match raw.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => raw.split_at(i),
        None => (raw, "s"),
    };
    let n: u64 = digits.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    (secs > 0).then(|| Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `pairs` on a development server on this machine only (unless `pairs` say otherwise).
    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut all = vec![
            ("APP_ENV".to_owned(), "development".to_owned()),
            ("BIND_ADDR".to_owned(), "127.0.0.1:8000".to_owned()),
        ];
        all.extend(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        all
    }

    #[test]
    fn a_provider_carries_its_own_settings_or_names_what_it_lacks() {
        let error =
            Settings::from_vars(vars(&[("SMS_PROVIDER", "msg91"), ("PAYMENT_GATEWAY", "razorpay")])).unwrap_err();
        let text = error.to_string();
        for name in ["MSG91_AUTH_KEY", "MSG91_TEMPLATE_ID", "RAZORPAY_KEY_ID", "RAZORPAY_WEBHOOK_SECRET"] {
            assert!(text.contains(name), "{name} missing from {text}");
        }
        assert!(!text.contains("TWILIO"), "settings of providers not chosen are not asked for: {text}");
        let push = Settings::from_vars(vars(&[("PUSH_PROVIDER", "fcm")])).unwrap_err().to_string();
        assert!(push.contains("FCM_CREDENTIALS_FILE or FCM_CREDENTIALS_JSON"), "{push}");
        let push = Settings::from_vars(vars(&[("PUSH_PROVIDER", "fcm"), ("FCM_CREDENTIALS_JSON", "{}")]))
            .unwrap_err()
            .to_string();
        assert!(push.contains("not a service account key"), "{push}");

        let settings = Settings::from_vars(vars(&[
            ("SMS_PROVIDER", "twilio"),
            ("TWILIO_ACCOUNT_SID", "AC123"),
            ("TWILIO_AUTH_TOKEN", "token"),
            ("TWILIO_FROM_NUMBER", "+15550001111"),
            ("SMS_COUNTRY_CODE", "44"),
            ("PAYMENT_GATEWAY", "razorpay"),
            ("RAZORPAY_KEY_ID", "rzp_live_x"),
            ("RAZORPAY_KEY_SECRET", "secret"),
            ("RAZORPAY_WEBHOOK_SECRET", "hook"),
        ]))
        .unwrap();
        let SmsProvider::Twilio(twilio) = &settings.sms_provider else { panic!("{:?}", settings.sms_provider) };
        assert_eq!((twilio.from.as_str(), twilio.country_code.as_str()), ("+15550001111", "44"));
        let PaymentGateway::Razorpay(razorpay) = &settings.payment_gateway else { panic!("not razorpay") };
        assert_eq!(razorpay.key_id, "rzp_live_x");
    }

    #[test]
    fn development_defaults_start() {
        let settings = Settings::from_vars(vars(&[("BIND_ADDR", "0.0.0.0:8000"), ("APP_ENV", "development")])).unwrap();
        assert_eq!(settings.env, AppEnv::Development);
        assert_eq!(settings.bind_addr, "0.0.0.0:8000");
        assert_eq!(settings.auth.jwt_ttl, Duration::from_secs(7 * 86_400));
        assert_eq!(settings.livekit.room_service, None, "no media server unless configured");
        assert!(matches!(settings.sms_provider, SmsProvider::Log));
        assert_eq!(settings.auth.secrets_key.expose().len(), 32);
    }

    #[test]
    fn production_without_secrets_names_every_problem() {
        let error = Settings::from_vars(vars(&[("APP_ENV", "production")])).unwrap_err();
        let text = error.to_string();
        for name in [
            "DATABASE_URL",
            "JWT_SECRET",
            "SECRETS_KEY",
            "PAYMENT_GATEWAY",
            "RAZORPAY_KEY_ID",
            "RAZORPAY_KEY_SECRET",
            "RAZORPAY_WEBHOOK_SECRET",
            "SMS_PROVIDER",
            "LIVEKIT_URL",
            "LIVEKIT_API_KEY",
            "LIVEKIT_API_SECRET",
            "GOOGLE_CLIENT_IDS",
            "METRICS_TOKEN",
        ] {
            assert!(text.contains(name), "{name} not named in:\n{text}");
        }
    }

    #[test]
    fn production_refuses_development_credentials() {
        let error = Settings::from_vars(vars(&[
            ("APP_ENV", "production"),
            ("LIVEKIT_API_KEY", "devkey"),
            ("LIVEKIT_API_SECRET", "secret"),
            ("SMS_PROVIDER", "log"),
            ("PAYMENT_GATEWAY", "sandbox"),
            ("JWT_SECRET", "short"),
        ]))
        .unwrap_err();
        let text = error.to_string();
        assert!(text.contains("LIVEKIT_API_KEY is the LiveKit development key"));
        assert!(text.contains("LIVEKIT_API_SECRET is the LiveKit development secret"));
        assert!(text.contains("SMS_PROVIDER is `log`"));
        assert!(text.contains("PAYMENT_GATEWAY is `sandbox`"));
        assert!(text.contains("JWT_SECRET is too short"));
    }

    #[test]
    fn complete_production_settings_start() {
        let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let settings = Settings::from_vars(vars(&[
            ("APP_ENV", "production"),
            ("DATABASE_URL", "postgres://db/talktime"),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef-prod"),
            ("SECRETS_KEY", &key),
            ("PAYMENT_GATEWAY", "razorpay"),
            ("RAZORPAY_KEY_ID", "rzp_live_x"),
            ("RAZORPAY_KEY_SECRET", "s"),
            ("RAZORPAY_WEBHOOK_SECRET", "w"),
            ("SMS_PROVIDER", "twilio"),
            ("TWILIO_ACCOUNT_SID", "AC1"),
            ("TWILIO_AUTH_TOKEN", "t"),
            ("TWILIO_FROM_NUMBER", "+15550000000"),
            ("LIVEKIT_URL", "wss://media.example.com"),
            ("LIVEKIT_API_KEY", "APIxyz"),
            ("LIVEKIT_API_SECRET", "long-secret"),
            ("LIVEKIT_WEBHOOK_ENABLED", "true"),
            ("METRICS_TOKEN", "a-long-random-metrics-token"),
            ("GOOGLE_CLIENT_IDS", "a.apps.googleusercontent.com"),
            ("TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1"),
            ("JWT_TTL", "12h"),
        ]))
        .unwrap();
        assert_eq!(settings.livekit.room_service.as_deref(), Some("https://media.example.com"));
        assert_eq!(settings.trusted_proxies.len(), 2);
        assert_eq!(settings.auth.jwt_ttl, Duration::from_secs(12 * 3600));
    }

    #[test]
    fn bad_values_are_reported() {
        let error = Settings::from_vars(vars(&[
            ("OTP_LENGTH", "12"),
            ("SMS_PROVIDER", "webhook"),
            ("TRUSTED_PROXIES", "nope"),
            ("OTP_TEST_NUMBERS", "9000000001:12"),
            ("JWT_TTL", "forever"),
        ]))
        .unwrap_err();
        assert_eq!(error.problems.len(), 5, "{error}");
    }

    const REDIS: (&str, &str) = ("REDIS_URL", "redis://127.0.0.1:6379");

    #[test]
    fn redis_namespace_follows_the_database() {
        let settings =
            Settings::from_vars(vars(&[("DATABASE_URL", "postgres://u:p@db:5432/tt_prod?sslmode=require"), REDIS]))
                .unwrap();
        assert_eq!(settings.cluster.as_ref().map(|c| c.namespace.as_str()), Some("talktime:tt_prod"));
        let settings = Settings::from_vars(vars(&[("REDIS_NAMESPACE", "blue"), REDIS])).unwrap();
        assert_eq!(settings.cluster.as_ref().map(|c| c.namespace.as_str()), Some("blue"));
        let problems =
            Settings::from_vars(vars(&[("NODE_HEARTBEAT_MS", "1000"), ("NODE_EXPIRY_MS", "1500")])).unwrap_err();
        assert!(problems.problems.iter().any(|p| p.contains("NODE_EXPIRY_MS")), "{problems:?}");
        let one_node = Settings::from_vars(vars(&[])).unwrap();
        assert!(one_node.cluster.is_none(), "no cluster settings without REDIS_URL");
    }

    /// Variables as given, without the test defaults.
    fn bare(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_vars(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
    }

    #[test]
    fn without_app_env_it_is_production_whatever_the_address() {
        for bind in ["0.0.0.0:8000", "127.0.0.1:8000", "[::1]:8000"] {
            let error = bare(&[("BIND_ADDR", bind)]).unwrap_err();
            assert!(error.problems[0].contains("APP_ENV is not set"), "{error}");
            for named in ["JWT_SECRET", "SECRETS_KEY", "PAYMENT_GATEWAY", "SMS_PROVIDER", "LIVEKIT_API_KEY"] {
                assert!(error.to_string().contains(named), "{named} missing from: {error}");
            }
        }
        assert!(bare(&[("APP_ENV", "staging")]).unwrap_err().to_string().contains("APP_ENV must be"));
        for development in ["development", "test", "DEV"] {
            let settings = bare(&[("APP_ENV", development)]).unwrap();
            assert_eq!(settings.env, AppEnv::Development);
            assert_eq!(settings.bind_addr, "127.0.0.1:8000", "development listens on this machine by default");
        }
    }

    #[test]
    fn production_with_a_media_server_needs_its_webhooks() {
        let error = Settings::from_vars(vars(&[("APP_ENV", "production"), ("LIVEKIT_URL", "wss://m.example.com")]))
            .unwrap_err();
        assert!(error.to_string().contains("LIVEKIT_WEBHOOK_ENABLED"), "{error}");
        let error = Settings::from_vars(vars(&[
            ("APP_ENV", "production"),
            ("LIVEKIT_URL", "wss://m.example.com"),
            ("LIVEKIT_WEBHOOK_ENABLED", "true"),
        ]))
        .unwrap_err();
        assert!(!error.to_string().contains("LIVEKIT_WEBHOOK_ENABLED"), "{error}");
    }

    #[test]
    fn an_exposed_development_server_needs_allow_exposed_development() {
        let development = |pairs: &[(&str, &str)]| Settings::from_vars(vars(pairs))?.refuse_exposed_development();
        let error = development(&[("BIND_ADDR", "0.0.0.0:8000")]).unwrap_err().to_string();
        for named in [
            "BIND_ADDR 0.0.0.0:8000",
            "ALLOW_EXPOSED_DEVELOPMENT",
            "JWT_SECRET",
            "SECRETS_KEY",
            "PAYMENT_GATEWAY",
            "LIVEKIT_API_KEY",
            "/admin/auth/dev",
        ] {
            assert!(error.contains(named), "{named} missing from: {error}");
        }
        assert!(development(&[("BIND_ADDR", "192.168.1.10:8000")]).is_err());
        assert!(development(&[("BIND_ADDR", "[::]:8000")]).is_err());
        for local in ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "127.0.0.1:0"] {
            assert!(development(&[("BIND_ADDR", local)]).is_ok(), "{local}");
        }
        assert!(development(&[("BIND_ADDR", "0.0.0.0:8000"), ("ALLOW_EXPOSED_DEVELOPMENT", "true")]).is_ok());
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let settings = Settings::from_vars(vars(&[
            ("JWT_SECRET", "jwt-secret-that-must-not-leak-0123456789"),
            ("LIVEKIT_API_SECRET", "livekit-secret-that-must-not-leak"),
            ("RAZORPAY_KEY_SECRET", "razorpay-secret-that-must-not-leak"),
            ("RAZORPAY_WEBHOOK_SECRET", "webhook-secret-that-must-not-leak"),
        ]))
        .unwrap();
        let printed = format!("{settings:?}");
        assert!(!printed.contains("must-not-leak"), "{printed}");
        assert!(printed.contains("[redacted]"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("3600"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("7d"), Some(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("0"), None);
        assert_eq!(parse_duration("5w"), None);
    }
}
