//! Talktime's HTTP surface on actix-web: routes, auth extractors, the error envelope and the
//! OpenAPI document. It knows HTTP, not SQL; service errors become status codes in `error.rs`.

pub mod client_ip;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod openapi;
mod routes;
pub mod security;
mod server;
pub mod views;
pub mod ws;

use std::sync::Arc;

use talktime_services::Db;
use talktime_services::accounts::AccountService;
use talktime_services::admin::AdminService;
use talktime_services::auth::AuthService;
use talktime_services::calls::CallService;
use talktime_services::catalog::CatalogService;
use talktime_services::payments::PaymentService;
use talktime_services::presence::PresenceService;
use talktime_services::rate_limit::RateLimiter;
use talktime_services::wallet::WalletService;

pub use client_ip::TrustedProxies;
pub use server::{HttpSettings, serve};

/// WebSocket handshakes: those whose token is refused, per client network; accepted ones, per
/// account.
#[derive(Debug, Clone, Copy)]
pub struct WsConnectBudgets {
    pub refused_per_network: talktime_services::rate_limit::Budget,
    pub per_account: talktime_services::rate_limit::Budget,
}

/// What every handler can reach, shared by all workers.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub auth: Arc<AuthService>,
    pub accounts: Arc<AccountService>,
    pub catalog: Arc<CatalogService>,
    /// Telecallers' own prices.
    pub pricing: Arc<talktime_services::pricing::PricingService>,
    /// Promotional coins: balances and lots.
    pub promotions: Arc<talktime_services::promotions::PromotionService>,
    pub coupons: Arc<talktime_services::coupons::CouponService>,
    pub referrals: Arc<talktime_services::referrals::ReferralService>,
    /// GST: billing details, invoices, exports.
    pub tax: Arc<talktime_services::tax::TaxService>,
    pub payments: Arc<PaymentService>,
    pub wallet: Arc<WalletService>,
    /// Withdrawals paid through the payout provider, and its webhooks.
    pub payouts: Arc<talktime_services::payouts::PayoutService>,
    /// The notification inbox and preferences.
    pub inbox: Arc<talktime_services::notifications::InboxService>,
    /// Chargebacks for admins.
    pub disputes: Arc<talktime_services::disputes::DisputeService>,
    /// Telecallers' PANs.
    pub kyc: Arc<talktime_services::kyc::KycService>,
    pub calls: Arc<CallService>,
    /// Chat messages, typing and read receipts (the sessions are `calls`').
    pub chats: Arc<talktime_services::chats::ChatService>,
    /// The gift catalogue and gifts sent.
    pub gifts: Arc<talktime_services::gifts::GiftService>,
    /// Presence, who is connected, and notifications to an account's sockets.
    pub presence: Arc<PresenceService>,
    /// Devices and the push outbox's figures.
    pub push: Arc<talktime_services::push::PushService>,
    /// Verifies LiveKit's webhooks.
    pub media_webhooks: talktime_services::livekit::MediaWebhooks,
    pub limiter: Arc<dyn RateLimiter>,
    /// WebSocket handshakes per client network (`RATE_LIMIT_WS_CONNECT_PER_IP`).
    pub ws_connects: WsConnectBudgets,
    /// Browser origins that may open a WebSocket besides the server's own
    /// (`CORS_ALLOWED_ORIGINS`).
    pub ws_origins: Vec<String>,
    pub registry: Arc<ws::ConnectionRegistry>,
    pub admin: Arc<AdminService>,
    /// Production: dev sign-in is off and cookies are `Secure`.
    pub production: bool,
    /// Origins allowed to send cookie-authenticated state-changing requests (`CORS_ALLOWED_ORIGINS`).
    pub allowed_origins: Arc<Vec<String>>,
    pub http_metrics: Arc<metrics::HttpMetrics>,
    /// Dependencies `/health/ready` checks besides Postgres (Redis when configured).
    pub probes: Vec<Arc<dyn talktime_services::health::Probe>>,
    /// The console's settings (`/console/config.json`), or `None` when the console is off.
    pub console: Option<Arc<serde_json::Value>>,
    /// The Redis bus's counters (cluster mode only).
    pub bus_stats: Option<Arc<talktime_services::bus::BusStats>>,
}
