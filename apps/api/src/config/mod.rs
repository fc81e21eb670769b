//! Settings from the environment (optionally `.env`), one file per concern: each reads its own
//! variables into the type its service consumes (`CallSettings`, `OtpSettings`, the
//! reconciler's, the providers'), and [`Settings::from_vars`] only puts them side by side. In
//! production, missing or unsafe settings are all collected and reported in one message. The
//! README table and `.env.example` document every variable read (a test holds them together).

mod auth;
mod calls;
mod media;
mod payments;
mod pricing;
mod promotions;
mod push;
mod realtime;
mod server;
mod sms;
mod store;
mod vars;

use std::fmt;
use std::time::Duration;

use talktime_domain::secret::Secret;
use talktime_services::auth::OtpSettings;
use talktime_services::calls::CallSettings;
use talktime_services::payments::ReconcilerSettings;
use talktime_services::pricing::PricingSettings;
use talktime_services::promotions::PromotionSettings;
use talktime_services::push::PushSettings;
use talktime_services::rate_limit::NetworkLimits;
use talktime_services::referrals::ReferralSettings;

pub use self::auth::AuthSettings;
use self::auth::{DEV_JWT_SECRET, DEV_SECRETS_KEY};
pub use self::media::LiveKitSettings;
use self::media::{DEV_LIVEKIT_KEY, DEV_LIVEKIT_SECRET};
pub use self::payments::{PaymentGateway, PayoutConfig};
pub use self::push::PushProvider;
pub use self::realtime::RealtimeSettings;
pub use self::server::ServerSettings;
pub use self::sms::SmsProvider;
pub use self::store::{ClusterSettings, DatabaseSettings};
use self::vars::Vars;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// `APP_ENV`: production unless `development` (or `test`) is said explicitly.
    pub env: AppEnv,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    /// Several nodes sharing Redis (`REDIS_URL`); `None` on one node.
    pub cluster: Option<ClusterSettings>,
    pub auth: AuthSettings,
    pub otp: OtpSettings,
    pub network_limits: NetworkLimits,
    pub realtime: RealtimeSettings,
    pub calls: CallSettings,
    pub chat: talktime_services::chats::ChatSettings,
    pub livekit: LiveKitSettings,
    pub payment_gateway: PaymentGateway,
    pub reconciler: ReconcilerSettings,
    pub payouts: PayoutConfig,
    pub sms_provider: SmsProvider,
    pub push_provider: PushProvider,
    /// APNs for iPhones (`APNS_*`), beside the push provider.
    pub apns: Option<talktime_services::push::ApnsConfig>,
    pub push: PushSettings,
    pub online_alert_cooldown: Duration,
    pub notification_retention: Duration,
    /// `BROADCAST_PER_SECOND`: how fast a broadcast's pushes are released.
    pub broadcast_per_second: u32,
    pub pricing: PricingSettings,
    pub promotions: PromotionSettings,
    pub referrals: ReferralSettings,
    /// `talktime demo`'s hosts: `DEMO_ANSWER_AFTER_MS`, `DEMO_HANG_UP_AFTER_SECS`.
    pub demo: crate::demo::DemoSettings,
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
        let database = store::database(&mut v, env == AppEnv::Production);
        v.finish((env, database))
    }

    /// `SECRETS_KEY` alone (`talktime import` recognises deleted accounts' phones with it).
    pub fn secrets_key_from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Secret<Vec<u8>>, ConfigError> {
        let mut v = Vars::new(vars);
        let prod = v.app_env() == AppEnv::Production;
        let key = auth::secrets_key(&mut v, prod);
        v.finish(Secret::new(key))
    }

    /// Reads the given variables only (tests pass their own).
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let mut v = Vars::new(vars);
        let settings = Self::read(&mut v);
        v.finish(settings)
    }

    fn read(v: &mut Vars) -> Self {
        let env = v.app_env();
        let prod = env == AppEnv::Production;
        let database = store::database(v, prod);
        let cluster = store::cluster(v, &database);
        let network_limits = realtime::network_limits(v);
        let sms = sms::policy(v);
        let livekit = media::read(v, prod);
        // On one node the heartbeat loop renews nothing: it keeps its pace of one second.
        let heartbeat = cluster.as_ref().map_or(Duration::from_secs(1), |c| c.heartbeat);
        let calls = calls::read(v, &livekit, heartbeat);
        let chat = calls::chat(v, &calls);
        Settings {
            env,
            server: server::read(v, prod),
            auth: auth::read(v, prod),
            otp: auth::otp(v, network_limits.login, sms),
            realtime: realtime::read(v, &network_limits),
            calls,
            chat,
            payment_gateway: payments::gateway(v, prod),
            reconciler: payments::reconciler(v),
            payouts: payments::payouts(v),
            sms_provider: sms::provider(v, prod),
            push_provider: push::provider(v),
            apns: push::apns(v),
            push: push::worker(v),
            online_alert_cooldown: push::online_alert_cooldown(v),
            notification_retention: push::notification_retention(v),
            broadcast_per_second: v.parsed("BROADCAST_PER_SECOND", 50, "a positive number").max(1),
            pricing: pricing::read(v),
            promotions: promotions::read(v),
            referrals: promotions::referrals(v),
            demo: crate::demo::DemoSettings {
                answer_after: Duration::from_millis(v.parsed("DEMO_ANSWER_AFTER_MS", 3_000u64, "milliseconds")),
                hang_up_after: v.secs("DEMO_HANG_UP_AFTER_SECS", 120),
            },
            network_limits,
            livekit,
            database,
            cluster,
        }
    }

    /// Before serving: a development server (which runs with the public development secrets and
    /// features) listens on an address other machines can reach only with
    /// `ALLOW_EXPOSED_DEVELOPMENT=true` as well. Production never gets here with them: its own
    /// checks refuse every development secret and feature.
    pub fn refuse_exposed_development(&self) -> Result<(), ConfigError> {
        let server = &self.server;
        if self.is_production() || server.allow_exposed_development || server::is_loopback(&server.bind_addr) {
            return Ok(());
        }
        Err(ConfigError {
            problems: vec![format!(
                "BIND_ADDR {} is reachable from other machines, and this is a development server with: {}. \
                 Bind to 127.0.0.1, run production settings (without APP_ENV=development), or set \
                 ALLOW_EXPOSED_DEVELOPMENT=true to serve a development server there on purpose",
                server.bind_addr,
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

    pub fn is_production(&self) -> bool {
        self.env == AppEnv::Production
    }
}

#[cfg(test)]
mod tests {
    use super::vars::parse_duration;
    use super::*;
    use base64::Engine;

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
        assert_eq!(settings.server.bind_addr, "0.0.0.0:8000");
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
        assert_eq!(settings.server.trusted_proxies.len(), 2);
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
            assert_eq!(settings.server.bind_addr, "127.0.0.1:8000", "development listens on this machine by default");
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

    /// The variables read outside [`Settings`] (the log filter).
    const READ_ELSEWHERE: &[&str] = &["RUST_LOG"];

    /// Every variable the settings read, with each provider chosen once so every branch asks.
    fn every_variable_read() -> std::collections::BTreeSet<String> {
        let fcm = r#"{"project_id":"p","client_email":"e@p.iam.gserviceaccount.com","private_key":"k"}"#;
        let choices: [&[(&str, &str)]; 3] = [
            &[
                ("SMS_PROVIDER", "webhook"),
                ("PAYMENT_GATEWAY", "razorpay"),
                ("PUSH_PROVIDER", "fcm"),
                ("FCM_CREDENTIALS_JSON", fcm),
                ("PAYOUT_PROVIDER", "razorpayx"),
                ("APNS_KEY_ID", "KEY1234567"),
                ("APNS_KEY_PEM", include_str!("../../tests/fixtures/apns_test_key.p8")),
            ],
            &[("SMS_PROVIDER", "msg91")],
            &[("SMS_PROVIDER", "twilio"), ("SMS_ALLOWED_COUNTRY_CODES", "91")],
        ];
        let mut read: std::collections::BTreeSet<String> = READ_ELSEWHERE.iter().map(|n| (*n).to_owned()).collect();
        for pairs in choices {
            let mut v = Vars::new(vars(pairs));
            let _ = Settings::read(&mut v);
            read.extend(v.read());
        }
        read
    }

    /// `NAME=` and `# NAME=` lines of `.env.example`.
    fn env_example() -> std::collections::BTreeSet<String> {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.env.example")).unwrap();
        text.lines()
            .filter_map(|line| line.trim_start_matches('#').trim().split_once('='))
            .map(|(name, _)| name.trim())
            .filter(|name| {
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            })
            .map(str::to_owned)
            .collect()
    }

    /// The names in the README's configuration table (`RAZORPAY_*` stands for every name it
    /// begins).
    fn readme_table() -> Vec<String> {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
        let table = text.split("## Configuration").nth(1).unwrap().split("\n## ").next().unwrap();
        let mut names = Vec::new();
        for row in table.lines().filter(|l| l.starts_with("| `")) {
            let first = row.split('|').nth(1).unwrap_or_default();
            names.extend(first.split('`').skip(1).step_by(2).flat_map(|n| n.split('/')).map(str::to_owned));
        }
        names
    }

    #[test]
    fn every_variable_read_is_documented_and_every_documented_one_is_read() {
        let read = every_variable_read();
        let example = env_example();
        let undocumented: Vec<_> = read.difference(&example).collect();
        assert!(undocumented.is_empty(), "read but not in .env.example: {undocumented:?}");
        let unread: Vec<_> = example.difference(&read).collect();
        assert!(unread.is_empty(), "in .env.example but never read: {unread:?}");
        for name in readme_table() {
            let known = match name.strip_suffix('*') {
                Some(prefix) => read.iter().any(|r| r.starts_with(prefix)),
                None => read.contains(&name),
            };
            assert!(known, "the README's configuration table names `{name}`, which is never read");
        }
    }
}
