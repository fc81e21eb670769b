//! Builds the application from settings: database, adapters, services, HTTP server.

use std::net::TcpListener;
use std::sync::Arc;

use talktime_repository::{Db, RepoError};
use talktime_services::accounts::AccountService;
use talktime_services::admin::AdminService;
use talktime_services::auth::AuthService;
use talktime_services::bus::{BusStats, EventBus, InProcessBus, RedisBus};
use talktime_services::cache::ReadCache;
use talktime_services::calls::{CallService, Media};
use talktime_services::catalog::{CatalogService, InMemorySnapshots, RedisSnapshots, SnapshotStore};
use talktime_services::chats::ChatService;
use talktime_services::cluster::Cluster;
use talktime_services::coupons::CouponService;
use talktime_services::gateway::{PaymentGateway, RazorpayGateway, SandboxGateway};
use talktime_services::gifts::GiftService;
use talktime_services::google::GoogleVerifier;
use talktime_services::health::{Probe, RedisProbe};
use talktime_services::kyc::KycService;
use talktime_services::livekit::{LiveKitRooms, LiveKitTokens, MediaWebhooks, NoMediaServer, RoomService};
use talktime_services::notifications::InboxService;
use talktime_services::payments::PaymentService;
use talktime_services::payments::Rewards;
use talktime_services::payouts::{PayoutProvider, PayoutService, RazorpayX};
use talktime_services::presence::{
    ConnectionDirectory, InMemoryPresence, LocalDirectory, PresenceRegistry, PresenceService, Realtime, RedisDirectory,
    RedisPresence,
};
use talktime_services::pricing::PricingService;
use talktime_services::promotions::PromotionService;
use talktime_services::rate_limit::{InMemoryRateLimiter, RateLimiter, RedisRateLimiter};
use talktime_services::referrals::ReferralService;
use talktime_services::secrets::{OtpHasher, OwnerCipher, PhoneDigests};
use talktime_services::sms::{LogSms, Msg91Sms, SmsSender, TwilioSms, WebhookSms};
use talktime_services::tax::TaxService;
use talktime_services::tokens::TokenIssuer;
use talktime_services::wallet::WalletService;
use talktime_transport::security::{HtmlPolicy, MetricsAccess};
use talktime_transport::ws::{ConnectionRegistry, run_presence_flush, run_session_checks};
use talktime_transport::{AppState, HttpSettings, TrustedProxies};

use crate::config::{PaymentGateway as GatewayChoice, PushProvider, Settings, SmsProvider};
use talktime_services::push::{ApnsPush, FcmPush, LogPush, PushSender, PushService, RoutedPush};

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
    presence_service: Arc<PresenceService>,
    payments: Arc<PaymentService>,
    payouts: Arc<PayoutService>,
    promotions: Arc<PromotionService>,
    inbox: Arc<InboxService>,
    calls: Arc<CallService>,
    registry: Arc<ConnectionRegistry>,
    server: actix_web::dev::Server,
}

/// Stops a running application from outside (tests simulate a crashed or restarted node).
#[derive(Clone)]
pub struct Controller {
    server: actix_web::dev::ServerHandle,
    calls: Arc<CallService>,
    promotions: Arc<PromotionService>,
    inbox: Arc<InboxService>,
    presence: Arc<PresenceService>,
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
        self.registry.flush_presence(self.presence.online_telecallers().await).await;
    }

    /// Runs one promotional-expiry pass now; returns how many lots expired.
    pub async fn expire_promotions(&self) -> Result<u64, talktime_services::ServiceError> {
        self.promotions.expire_due().await
    }

    /// Runs one notification-retention pass now; returns how many it deleted.
    pub async fn expire_notifications(&self) -> Result<u64, talktime_services::ServiceError> {
        self.inbox.expire_once().await
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
            let calls = CallService::start_graces_at_startup(&db, settings.calls.reconnect_grace)
                .await
                .map_err(|e| StartupError::Calls(e.to_string()))?;
            if calls > 0 {
                tracing::info!(calls, "live calls from before the restart wait for their parties to reconnect");
            }
        }
        Self::build_with_db(settings, db)
    }

    pub fn build_with_db(settings: Settings, db: Db) -> Result<Self, StartupError> {
        let listener = bind(&settings.server.bind_addr)?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { addr: settings.server.bind_addr.clone(), source })?
            .port();
        let realtime = settings.realtime;
        let registry = Arc::new(
            ConnectionRegistry::new(realtime.queue_capacity)
                .with_heartbeat(realtime.heartbeat)
                .with_max_per_account(realtime.max_connections_per_account),
        );
        let parts = cluster_parts(&settings, registry.clone())?;
        let services = Services::start(&settings, &db, &parts, &registry);
        let http = http_settings(&settings)?;
        let state = AppState {
            db: db.clone(),
            auth: services.auth,
            admin: services.admin,
            production: settings.is_production(),
            allowed_origins: Arc::new(settings.server.cors_allowed_origins.clone()),
            http_metrics: Arc::default(),
            probes: parts.probes,
            bus_stats: parts.bus_stats,
            console: settings.server.console_enabled.then(|| Arc::new(console_config(&settings))),
            accounts: services.accounts,
            catalog: services.catalog,
            pricing: services.pricing,
            promotions: services.promotions.clone(),
            coupons: services.coupons,
            referrals: services.referrals,
            tax: Arc::new(TaxService::new(db.clone(), OwnerCipher::pan(settings.auth.secrets_key.expose()))),
            kyc: services.kyc,
            disputes: Arc::new(talktime_services::disputes::DisputeService::new(db.clone())),
            inbox: services.inbox.clone(),
            payouts: services.payouts.clone(),
            payments: services.payments.clone(),
            wallet: services.wallet,
            calls: services.calls.clone(),
            chats: services.chats,
            gifts: services.gifts,
            presence: services.presence.clone(),
            push: services.push,
            media_webhooks: MediaWebhooks::new(&settings.livekit.api_key, settings.livekit.api_secret.expose()),
            limiter: parts.limiter,
            ws_origins: settings.server.cors_allowed_origins.clone(),
            ws_connects: realtime.connects,
            registry: registry.clone(),
        };
        let server = talktime_transport::serve(listener, state, http)
            .map_err(|source| StartupError::Bind { addr: settings.server.bind_addr.clone(), source })?;
        Ok(Self {
            port,
            db,
            presence: parts.presence,
            presence_service: services.presence,
            payments: services.payments,
            payouts: services.payouts,
            promotions: services.promotions,
            inbox: services.inbox,
            calls: services.calls,
            registry,
            server,
        })
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
        Controller {
            server: self.server.handle(),
            calls: self.calls.clone(),
            promotions: self.promotions.clone(),
            inbox: self.inbox.clone(),
            presence: self.presence_service.clone(),
            registry: self.registry.clone(),
        }
    }

    /// The payment service, whose reconciler pass tests run on demand.
    pub fn payments(&self) -> Arc<PaymentService> {
        self.payments.clone()
    }

    /// The payout service, whose reconciler pass tests run on demand.
    pub fn payouts(&self) -> Arc<PayoutService> {
        self.payouts.clone()
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

/// The services of one node, built from their settings, with their background tasks running.
struct Services {
    auth: Arc<AuthService>,
    admin: Arc<AdminService>,
    accounts: Arc<AccountService>,
    catalog: Arc<CatalogService>,
    pricing: Arc<PricingService>,
    promotions: Arc<PromotionService>,
    coupons: Arc<CouponService>,
    referrals: Arc<ReferralService>,
    payments: Arc<PaymentService>,
    wallet: Arc<WalletService>,
    payouts: Arc<PayoutService>,
    kyc: Arc<KycService>,
    inbox: Arc<InboxService>,
    calls: Arc<CallService>,
    chats: Arc<ChatService>,
    gifts: Arc<GiftService>,
    presence: Arc<PresenceService>,
    push: Arc<PushService>,
}

impl Services {
    fn start(settings: &Settings, db: &Db, parts: &ClusterParts, registry: &Arc<ConnectionRegistry>) -> Self {
        let cache = ReadCache::new(db.clone());
        tokio::spawn(cache.clone().run_feed());
        let secrets_key = settings.auth.secrets_key.expose();
        let realtime =
            Realtime { bus: parts.bus.clone(), registry: parts.presence.clone(), directory: parts.directory.clone() };
        let presence = PresenceService::new(db.clone(), cache.clone(), realtime, settings.online_alert_cooldown);
        tokio::spawn(presence.clone().run_publish_reachable());
        let limiter = &parts.limiter;
        let push = push_service(settings, db, limiter, &presence);
        let phones = PhoneDigests::new(secrets_key);
        let promotions =
            Arc::new(PromotionService::new(db.clone(), cache.clone(), phones.clone(), settings.promotions));
        tokio::spawn(promotions.clone().run_expiry());
        let coupons = Arc::new(CouponService::new(db.clone()));
        let referrals =
            Arc::new(ReferralService::new(db.clone(), promotions.clone(), phones.clone(), settings.referrals));
        let media = Media { rooms: rooms(settings), tokens: livekit_tokens(settings) };
        let calls = CallService::new(
            db.clone(),
            cache.clone(),
            presence.clone(),
            media,
            limiter.clone(),
            push.waker(),
            settings.calls,
        );
        spawn_call_tasks(&calls, settings, registry, &presence);
        let payments = Arc::new(PaymentService::new(
            db.clone(),
            payment_gateway(settings),
            limiter.clone(),
            settings.reconciler,
            calls.clone(),
            Rewards { promotions: promotions.clone(), coupons: coupons.clone(), referrals: referrals.clone() },
        ));
        tokio::spawn(payments.clone().run_reconciler());
        let auth = auth_service(settings, db, limiter, &cache);
        let checks = settings.realtime.session_check_interval;
        tokio::spawn(run_session_checks(Arc::downgrade(registry), auth.clone(), checks));
        let admin = admin_service(settings, db, &auth, &calls, limiter, &promotions);
        let bank_cipher = OwnerCipher::bank_details(secrets_key);
        let (wallet, payouts) = wallet_services(settings, db, limiter, &bank_cipher, &presence);
        Self {
            accounts: Arc::new(AccountService::new(
                db.clone(),
                bank_cipher,
                cache.clone(),
                presence.clone(),
                phones,
                promotions.clone(),
                referrals.clone(),
            )),
            pricing: Arc::new(PricingService::new(db.clone(), cache.clone(), settings.pricing)),
            catalog: Arc::new(CatalogService::new(
                db.clone(),
                parts.presence.clone(),
                cache.clone(),
                parts.snapshots.clone(),
            )),
            wallet,
            kyc: Arc::new(KycService::new(db.clone(), OwnerCipher::pan(secrets_key))),
            inbox: inbox_service(settings, db),
            chats: Arc::new(ChatService::new(db.clone(), calls.clone(), limiter.clone(), settings.chat)),
            gifts: Arc::new(GiftService::new(db.clone(), cache.clone(), calls.clone())),
            payouts,
            auth,
            admin,
            payments,
            calls,
            presence,
            push,
            promotions,
            coupons,
            referrals,
        }
    }
}

/// The admins' service.
fn admin_service(
    settings: &Settings,
    db: &Db,
    auth: &Arc<AuthService>,
    calls: &Arc<CallService>,
    limiter: &Arc<dyn RateLimiter>,
    promotions: &Arc<PromotionService>,
) -> Arc<AdminService> {
    Arc::new(AdminService::new(
        db.clone(),
        auth.clone(),
        calls.clone(),
        google_verifier(settings),
        limiter.clone(),
        settings.network_limits.admin_sign_in,
        promotions.clone(),
    ))
}

/// The push service, its worker running.
fn push_service(
    settings: &Settings,
    db: &Db,
    limiter: &Arc<dyn RateLimiter>,
    presence: &Arc<PresenceService>,
) -> Arc<PushService> {
    let push =
        Arc::new(PushService::new(db.clone(), push_sender(settings), settings.push, limiter.clone(), presence.clone()));
    tokio::spawn(push.clone().run_worker());
    push
}

/// Sign-in by SMS code, tokens, and the admins' sessions.
fn auth_service(
    settings: &Settings,
    db: &Db,
    limiter: &Arc<dyn RateLimiter>,
    cache: &Arc<ReadCache>,
) -> Arc<AuthService> {
    Arc::new(AuthService::new(
        db.clone(),
        sms_sender(settings),
        limiter.clone(),
        OtpHasher::new(settings.auth.secrets_key.expose()),
        TokenIssuer::new(settings.auth.jwt_secret.expose().as_bytes(), settings.auth.jwt_ttl),
        settings.otp.clone(),
        cache.clone(),
    ))
}

/// The call sweeper, timers, room sweeper (with a media server), directory heartbeat and the
/// presence flush.
fn spawn_call_tasks(
    calls: &Arc<CallService>,
    settings: &Settings,
    registry: &Arc<ConnectionRegistry>,
    presence: &Arc<PresenceService>,
) {
    tokio::spawn(calls.clone().run_sweeper());
    if settings.livekit.room_service.is_some() {
        tokio::spawn(calls.clone().run_room_sweeper());
    }
    tokio::spawn(calls.clone().run_timers());
    tokio::spawn(calls.clone().run_heartbeat());
    let flush = settings.realtime.presence_flush;
    tokio::spawn(run_presence_flush(Arc::downgrade(registry), presence.clone(), flush));
}

fn bind(addr: &str) -> Result<TcpListener, StartupError> {
    TcpListener::bind(addr).map_err(|source| StartupError::Bind { addr: addr.to_owned(), source })
}

/// CORS, proxies, workers, security headers and where `/metrics` is served.
fn http_settings(settings: &Settings) -> Result<HttpSettings, StartupError> {
    let server = &settings.server;
    let proxies = TrustedProxies::new(server.trusted_proxies.clone());
    Ok(HttpSettings {
        cors_allowed_origins: server.cors_allowed_origins.clone(),
        trusted_proxies: if settings.is_production() { proxies.watching_untrusted_forwarders() } else { proxies },
        workers: server.http_workers,
        hsts: settings.is_production(),
        html_policy: Some(HtmlPolicy::new(
            settings.livekit.room_service.as_ref().map(|_| settings.livekit.url.as_str()),
        )),
        metrics: Some(match (&server.metrics_bind_addr, &server.metrics_token) {
            (Some(_), _) => MetricsAccess::Elsewhere,
            (None, Some(token)) => MetricsAccess::Token(token.clone()),
            (None, None) => MetricsAccess::Open,
        }),
        metrics_listener: server.metrics_bind_addr.as_deref().map(bind).transpose()?,
    })
}

fn google_verifier(settings: &Settings) -> Arc<GoogleVerifier> {
    let auth = &settings.auth;
    Arc::new(GoogleVerifier::new(
        talktime_services::http_client(),
        auth.google_jwks_url.clone(),
        auth.google_client_ids.clone(),
    ))
}

fn livekit_tokens(settings: &Settings) -> LiveKitTokens {
    let livekit = &settings.livekit;
    LiveKitTokens::new(livekit.url.clone(), livekit.api_key.clone(), livekit.api_secret.expose().clone())
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

/// FCM (or the log), and APNs beside it for iPhones when configured (its key was checked with the
/// settings).
fn push_sender(settings: &Settings) -> Arc<dyn PushSender> {
    let fcm: Arc<dyn PushSender> = match &settings.push_provider {
        PushProvider::Log => Arc::new(LogPush),
        PushProvider::Fcm { credentials, api_base } => {
            Arc::new(FcmPush::new(talktime_services::http_client(), credentials.clone(), api_base.clone()))
        }
    };
    let apns = settings.apns.clone().and_then(|config| match ApnsPush::new(config) {
        Ok(apns) => Some(Arc::new(apns) as Arc<dyn PushSender>),
        Err(error) => {
            tracing::error!(%error, "APNs is off");
            None
        }
    });
    Arc::new(RoutedPush { fcm, apns })
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

/// The notification inbox, its retention sweep running.
fn inbox_service(settings: &Settings, db: &Db) -> Arc<InboxService> {
    let inbox = Arc::new(InboxService::new(db.clone(), settings.notification_retention, settings.broadcast_per_second));
    tokio::spawn(inbox.clone().run_retention());
    inbox
}

/// Withdrawals and their payouts (the payout reconciler running when a provider pays them).
fn wallet_services(
    settings: &Settings,
    db: &Db,
    limiter: &Arc<dyn RateLimiter>,
    bank_cipher: &OwnerCipher,
    presence: &Arc<PresenceService>,
) -> (Arc<WalletService>, Arc<PayoutService>) {
    let provider =
        settings.payouts.razorpayx.clone().map(|config| {
            Arc::new(RazorpayX::new(talktime_services::http_client(), config)) as Arc<dyn PayoutProvider>
        });
    let payouts = Arc::new(PayoutService::new(
        db.clone(),
        provider,
        bank_cipher.clone(),
        presence.clone(),
        settings.payouts.settings,
    ));
    tokio::spawn(payouts.clone().run_reconciler());
    let wallet = Arc::new(WalletService::new(
        db.clone(),
        settings.payouts.wallet,
        limiter.clone(),
        bank_cipher.clone(),
        presence.clone(),
        payouts.clone(),
    ));
    (wallet, payouts)
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
