//! Builds the application from settings: database, adapters, services, HTTP server.

use std::net::TcpListener;
use std::sync::Arc;

use talktime_repository::{Db, RepoError};
use talktime_services::accounts::AccountService;
use talktime_services::admin::AdminService;
use talktime_services::auth::{AuthService, OtpSettings, SmsPolicy};
use talktime_services::bus::{BusStats, EventBus, InProcessBus, RedisBus};
use talktime_services::cache::ReadCache;
use talktime_services::calls::{CallService, CallSettings, Realtime};
use talktime_services::catalog::{CatalogService, InMemorySnapshots, RedisSnapshots, SnapshotStore};
use talktime_services::cluster::Cluster;
use talktime_services::directory::{ConnectionDirectory, LocalDirectory, RedisDirectory};
use talktime_services::gateway::{PaymentGateway, RazorpayGateway, SandboxGateway};
use talktime_services::google::GoogleVerifier;
use talktime_services::health::{Probe, RedisProbe};
use talktime_services::livekit::{LiveKitRooms, LiveKitTokens, MediaWebhooks, NoMediaServer, RoomService};
use talktime_services::payments::{PaymentService, ReconcilerSettings};
use talktime_services::presence::{InMemoryPresence, PresenceRegistry, RedisPresence};
use talktime_services::rate_limit::{InMemoryRateLimiter, RateLimiter, RedisRateLimiter};
use talktime_services::secrets::{BankCipher, OtpHasher, PhoneDigests};
use talktime_services::sms::{LogSms, Msg91Sms, SmsSender, TwilioSms, WebhookSms};
use talktime_services::tokens::TokenIssuer;
use talktime_services::wallet::WalletService;
use talktime_transport::security::{HtmlPolicy, MetricsAccess};
use talktime_transport::ws::{ConnectionRegistry, Heartbeat, run_presence_flush, run_session_checks};
use talktime_transport::{AppState, HttpSettings, TrustedProxies, WsConnectBudgets};

use crate::config::{PaymentGateway as GatewayChoice, PushProvider, Settings, SmsProvider};
use talktime_services::push::{FcmPush, LogPush, PushSender, PushService};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(#[from] RepoError),
    #[error("redis: {0}")]
    Redis(String),
    #[error("calls: {0}")]
    Calls(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
}

/// A bound, not yet running server (zero2prod's shape: tests bind port 0 and read the port).
pub struct Application {
    port: u16,
    db: Db,
    presence: Arc<dyn PresenceRegistry>,
    payments: Arc<PaymentService>,
    calls: Arc<CallService>,
    registry: Arc<ConnectionRegistry>,
    server: actix_web::dev::Server,
}

/// Stops a running application from outside (tests simulate a crashed or restarted node).
#[derive(Clone)]
pub struct Controller {
    server: actix_web::dev::ServerHandle,
    calls: Arc<CallService>,
    registry: Arc<ConnectionRegistry>,
}

impl Controller {
    /// Stops serving and stops this node's call timers and sweeper, as a crash would (no
    /// goodbye to clients); calls are left to whichever node still runs.
    pub async fn kill(&self) {
        self.calls.stop();
        self.server.stop(false).await;
    }

    /// Sends the presence parked since the last flush now (as the node's tick does).
    pub async fn flush_presence(&self) {
        self.registry.flush_presence(self.calls.online_telecallers().await);
    }

    /// Runs one call-sweeper pass now; returns how many calls it acted on.
    pub async fn sweep(&self) -> Result<usize, talktime_services::ServiceError> {
        self.calls.sweep_once().await
    }
}

impl Application {
    /// Connects to Postgres, applies pending migrations, and binds `BIND_ADDR`. A node running
    /// alone (no `REDIS_URL`) first gives the parties of calls that outlived a crash their
    /// reconnect grace.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let db = Db::connect(&settings.database.url, settings.database.max_connections).await?;
        db.migrate().await?;
        if settings.cluster.is_none() {
            let calls = CallService::start_graces_at_startup(&db, settings.reconnect_grace)
                .await
                .map_err(|e| StartupError::Calls(e.to_string()))?;
            if calls > 0 {
                tracing::info!(calls, "live calls from before the restart wait for their parties to reconnect");
            }
        }
        Self::build_with_db(settings, db)
    }

    pub fn build_with_db(settings: Settings, db: Db) -> Result<Self, StartupError> {
        let listener = TcpListener::bind(&settings.bind_addr)
            .map_err(|source| StartupError::Bind { addr: settings.bind_addr.clone(), source })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { addr: settings.bind_addr.clone(), source })?
            .port();

        let registry = Arc::new(
            ConnectionRegistry::new(settings.limits.ws_queue_capacity)
                .with_heartbeat(Heartbeat { ping: settings.ws_ping_interval, timeout: settings.ws_client_timeout })
                .with_max_per_account(settings.limits.ws_max_connections_per_account),
        );
        let ClusterParts { bus, presence, directory, limiter, snapshots, probes, bus_stats } =
            cluster_parts(&settings, registry.clone())?;
        let cache = ReadCache::new(db.clone());
        tokio::spawn(cache.clone().run_feed());
        let bank_cipher = BankCipher::new(settings.auth.secrets_key.expose());
        let calls = CallService::new(
            db.clone(),
            cache.clone(),
            Realtime { bus: bus.clone(), presence: presence.clone(), directory },
            rooms(&settings),
            LiveKitTokens::new(
                settings.livekit.url.clone(),
                settings.livekit.api_key.clone(),
                settings.livekit.api_secret.expose().clone(),
            ),
            limiter.clone(),
            CallSettings {
                ring_timeout: settings.ring_timeout,
                push_ring_timeout: settings.push_ring_timeout,
                reconnect_grace: settings.reconnect_grace,
                sweep_interval: settings.sweep_interval,
                room_retry: settings.room_retry,
                room_sweep: settings.livekit.room_sweep,
                heartbeat: settings.node_heartbeat(),
                media_timeout: settings.livekit.media_connect_timeout,
                online_alert_cooldown: settings.online_alert_cooldown,
                push_rings_per_hour: settings.push_rings_per_hour,
                rating_min_billed_secs: settings.rating_min_billed_secs,
            },
        );
        tokio::spawn(calls.clone().run_sweeper());
        if settings.livekit.room_service.is_some() {
            tokio::spawn(calls.clone().run_room_sweeper());
        }
        tokio::spawn(calls.clone().run_timers());
        tokio::spawn(run_presence_flush(Arc::downgrade(&registry), calls.clone(), settings.presence_flush));
        tokio::spawn(calls.clone().run_heartbeat());
        tokio::spawn(calls.clone().run_publish_reachable());
        let calls_handle = calls.clone();
        let registry_handle = registry.clone();
        let payments = Arc::new(PaymentService::new(
            db.clone(),
            payment_gateway(&settings),
            limiter.clone(),
            ReconcilerSettings {
                interval: settings.reconcile_interval,
                min_age: settings.reconcile_min_age,
                expire_after: settings.order_expiry,
            },
            Some(calls.clone()),
        ));
        tokio::spawn(payments.clone().run_reconciler());
        let push = Arc::new(PushService::new(
            db.clone(),
            push_sender(&settings),
            settings.push,
            limiter.clone(),
            calls.clone(),
        ));
        tokio::spawn(push.clone().run_worker());
        let auth = Arc::new(AuthService::new(
            db.clone(),
            sms_sender(&settings),
            limiter.clone(),
            OtpHasher::new(settings.auth.secrets_key.expose()),
            TokenIssuer::new(settings.auth.jwt_secret.expose().as_bytes(), settings.auth.jwt_ttl),
            OtpSettings {
                length: Some(settings.auth.otp_length),
                test_numbers: settings.auth.otp_test_numbers.clone(),
                per_network: Some(settings.limits.network.login),
                sms: SmsPolicy {
                    home_country: settings.sms_country_code.clone(),
                    allowed_countries: settings.limits.sms_allowed_countries.clone(),
                    max_per_hour: settings.limits.sms_max_per_hour,
                    max_per_network: settings.limits.sms_max_per_hour_per_network,
                    max_per_country: settings.limits.sms_max_per_hour_per_country,
                },
            },
            cache.clone(),
        ));
        tokio::spawn(run_session_checks(Arc::downgrade(&registry), auth.clone(), settings.session_check_interval));
        let admin = Arc::new(AdminService::new(
            db.clone(),
            auth.clone(),
            calls.clone(),
            Arc::new(GoogleVerifier::new(
                talktime_services::http_client(),
                settings.auth.google_jwks_url.clone(),
                settings.auth.google_client_ids.clone(),
            )),
            limiter.clone(),
            settings.limits.network.admin_sign_in,
        ));
        let state = AppState {
            db: db.clone(),
            auth,
            admin,
            production: settings.is_production(),
            allowed_origins: Arc::new(settings.cors_allowed_origins.clone()),
            http_metrics: Arc::default(),
            probes,
            bus_stats,
            console: settings.console_enabled.then(|| Arc::new(console_config(&settings))),
            accounts: Arc::new(AccountService::new(
                db.clone(),
                bank_cipher.clone(),
                bus.clone(),
                cache.clone(),
                calls.clone(),
                PhoneDigests::new(settings.auth.secrets_key.expose()),
            )),
            catalog: Arc::new(CatalogService::new(db.clone(), presence.clone(), cache, snapshots)),
            payments: payments.clone(),
            wallet: Arc::new(WalletService::new(db.clone(), limiter.clone(), bank_cipher, bus)),
            calls,
            push: push.clone(),
            media_webhooks: MediaWebhooks::new(&settings.livekit.api_key, settings.livekit.api_secret.expose()),
            limiter,
            ws_origins: settings.cors_allowed_origins.clone(),
            ws_connects: WsConnectBudgets {
                refused_per_network: settings.limits.network.ws_connect,
                per_account: settings.limits.ws_connect_per_account,
            },
            registry,
        };
        let http = HttpSettings {
            cors_allowed_origins: settings.cors_allowed_origins.clone(),
            trusted_proxies: if settings.is_production() {
                TrustedProxies::new(settings.trusted_proxies.clone()).watching_untrusted_forwarders()
            } else {
                TrustedProxies::new(settings.trusted_proxies.clone())
            },
            workers: settings.http_workers,
            hsts: settings.is_production(),
            html_policy: Some(HtmlPolicy::new(
                settings.livekit.room_service.as_ref().map(|_| settings.livekit.url.as_str()),
            )),
            metrics: Some(match (&settings.metrics_bind_addr, &settings.metrics_token) {
                (Some(_), _) => MetricsAccess::Elsewhere,
                (None, Some(token)) => MetricsAccess::Token(token.clone()),
                (None, None) => MetricsAccess::Open,
            }),
            metrics_listener: match &settings.metrics_bind_addr {
                Some(addr) => {
                    Some(TcpListener::bind(addr).map_err(|source| StartupError::Bind { addr: addr.clone(), source })?)
                }
                None => None,
            },
        };
        let server = talktime_transport::serve(listener, state, http)
            .map_err(|source| StartupError::Bind { addr: settings.bind_addr.clone(), source })?;
        Ok(Self { port, db, presence, payments, calls: calls_handle, registry: registry_handle, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The presence registry the telecaller list reads (fed by the realtime endpoints).
    pub fn presence(&self) -> Arc<dyn PresenceRegistry> {
        self.presence.clone()
    }

    pub fn controller(&self) -> Controller {
        Controller { server: self.server.handle(), calls: self.calls.clone(), registry: self.registry.clone() }
    }

    /// The payment service, whose reconciler pass tests run on demand.
    pub fn payments(&self) -> Arc<PaymentService> {
        self.payments.clone()
    }

    /// Serves until SIGINT or SIGTERM. Then: sockets are closed with 1012 (service restart) so
    /// apps reconnect to another node, this node's call timers and sweeper stop, its connections
    /// leave the directory (their calls get the reconnect grace and continue, or end, on the
    /// other nodes), no new connections are accepted, in-flight requests get up to 10 seconds
    /// to finish, and the events raised meanwhile are sent to the other nodes.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let (registry, calls) = (self.registry.clone(), self.calls.clone());
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutting down: closing sockets with 1012");
            registry.close_all(1012);
            calls.stop();
            calls.leave().await;
            handle.stop(true).await;
        });
        let served = self.server.await;
        // What stopping raised (presence changes, graces) must reach the other nodes before exit.
        self.calls.flush_events().await;
        served
    }
}

/// The parts that differ between one node and a cluster.
struct ClusterParts {
    bus: Arc<dyn EventBus>,
    presence: Arc<dyn PresenceRegistry>,
    directory: Arc<dyn ConnectionDirectory>,
    limiter: Arc<dyn RateLimiter>,
    snapshots: Arc<dyn SnapshotStore>,
    probes: Vec<Arc<dyn Probe>>,
    bus_stats: Option<Arc<BusStats>>,
}

/// Without `REDIS_URL`: one node, everything in process. With it: the Redis bus, directory,
/// presence and rate limits (each falling back to this node's own view while Redis is down),
/// and Redis in readiness.
fn cluster_parts(settings: &Settings, registry: Arc<ConnectionRegistry>) -> Result<ClusterParts, StartupError> {
    let Some(cluster_settings) = &settings.cluster else {
        let bus = Arc::new(InProcessBus::new());
        bus.attach(registry);
        return Ok(ClusterParts {
            bus,
            presence: Arc::new(InMemoryPresence::new()),
            directory: Arc::new(LocalDirectory::new()),
            limiter: Arc::new(InMemoryRateLimiter::new()),
            snapshots: Arc::new(InMemorySnapshots::new()),
            probes: Vec::new(),
            bus_stats: None,
        });
    };
    let cluster = Cluster::new(&cluster_settings.redis_url, &cluster_settings.namespace)
        .map_err(|e| StartupError::Redis(e.to_string()))?;
    tracing::info!(node = %cluster.node, namespace = %cluster.namespace, "cluster mode");
    let bus = RedisBus::start(&cluster);
    bus.attach(registry);
    Ok(ClusterParts {
        bus_stats: Some(bus.stats()),
        probes: vec![Arc::new(RedisProbe::new(cluster.clone(), bus.clone()))],
        bus,
        presence: Arc::new(RedisPresence::new(cluster.clone())),
        directory: Arc::new(RedisDirectory::new(cluster.clone(), cluster_settings.expiry)),
        snapshots: Arc::new(RedisSnapshots::new(cluster.clone())),
        limiter: Arc::new(RedisRateLimiter::new(cluster)),
    })
}

/// What the web console is told about this server (`/console/config.json`).
fn console_config(settings: &Settings) -> serde_json::Value {
    let (gateway, key_id) = match &settings.payment_gateway {
        GatewayChoice::Sandbox { .. } => ("sandbox", None),
        GatewayChoice::Razorpay(config) => ("razorpay", Some(&config.key_id)),
    };
    serde_json::json!({
        "environment": if settings.is_production() { "production" } else { "development" },
        "media": { "configured": settings.livekit.room_service.is_some(), "url": settings.livekit.url },
        "payments": { "gateway": gateway, "razorpayKeyId": key_id },
        "admin": {
            "devSignIn": !settings.is_production(),
            "googleClientId": settings.auth.google_client_ids.first(),
        },
    })
}

/// LiveKit's RoomService, or nothing when no media server is configured (local development).
fn rooms(settings: &Settings) -> Arc<dyn RoomService> {
    let Some(room_service) = &settings.livekit.room_service else {
        tracing::warn!("no LIVEKIT_URL: calls ring, connect and bill, but no media room is created");
        return Arc::new(NoMediaServer);
    };
    Arc::new(LiveKitRooms::new(room_service, &settings.livekit.api_key, settings.livekit.api_secret.expose()))
}

fn push_sender(settings: &Settings) -> Arc<dyn PushSender> {
    match &settings.push_provider {
        PushProvider::Log => Arc::new(LogPush),
        PushProvider::Fcm { credentials, api_base } => {
            Arc::new(FcmPush::new(talktime_services::http_client(), credentials.clone(), api_base.clone()))
        }
    }
}

fn sms_sender(settings: &Settings) -> Arc<dyn SmsSender> {
    let client = talktime_services::http_client();
    match &settings.sms_provider {
        SmsProvider::Log => Arc::new(LogSms),
        SmsProvider::Webhook { url } => Arc::new(WebhookSms::new(client, url.clone())),
        SmsProvider::Msg91(config) => Arc::new(Msg91Sms::new(client, config.clone())),
        SmsProvider::Twilio(config) => Arc::new(TwilioSms::new(client, config.clone())),
    }
}

fn payment_gateway(settings: &Settings) -> Arc<dyn PaymentGateway> {
    match &settings.payment_gateway {
        GatewayChoice::Razorpay(config) => {
            Arc::new(RazorpayGateway::new(talktime_services::http_client(), config.clone()))
        }
        GatewayChoice::Sandbox { webhook_secret } => Arc::new(SandboxGateway::new(webhook_secret.expose().clone())),
    }
}

/// SIGINT (Ctrl-C) or SIGTERM (orchestrators).
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
