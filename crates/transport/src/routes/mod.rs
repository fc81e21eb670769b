//! Route modules, one per feature; each exposes `configure` for the application to compose.

pub(crate) mod accounts;
pub(crate) mod admins;
pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod call_moderation;
pub(crate) mod calls;
pub(crate) mod chats;
mod console;
pub(crate) mod coupons;
pub(crate) mod dashboard;
pub(crate) mod devices;
pub(crate) mod disputes;
pub(crate) mod docs;
pub(crate) mod gifts;
pub(crate) mod health;
pub(crate) mod kyc;
pub(crate) mod notifications;
pub(crate) mod payments;
pub(crate) mod payouts;
pub(crate) mod plans;
pub(crate) mod pricing;
pub(crate) mod referrals;
pub(crate) mod reports;
pub(crate) mod rules;
pub(crate) mod tax;
pub(crate) mod telecaller;
pub(crate) mod users;
pub(crate) mod withdrawals;

use utoipa_actix_web::service_config::ServiceConfig;

/// `/metrics` alone, for the separate scrape address (`METRICS_BIND_ADDR`).
pub(crate) fn metrics_service() -> impl actix_web::dev::HttpServiceFactory {
    health::metrics
}

pub fn configure(cfg: &mut ServiceConfig) {
    // Undocumented: the document itself and its viewer, the console, the WebSocket endpoints.
    cfg.map(|c| c.configure(docs::configure).configure(console::configure).configure(crate::ws::configure));
    // Every other route is documented where it is declared: registering it here adds it to the
    // OpenAPI document too (utoipa-actix-web), so the two cannot disagree.
    cfg.configure(health::configure)
        .configure(auth::configure)
        .configure(users::configure)
        .configure(devices::configure)
        .configure(telecaller::configure)
        .configure(payments::configure)
        .configure(withdrawals::configure)
        .configure(admins::configure)
        .configure(accounts::configure)
        .configure(audit::configure)
        .configure(plans::configure)
        .configure(pricing::configure)
        .configure(reports::configure)
        .configure(call_moderation::configure)
        .configure(dashboard::configure)
        .configure(calls::configure)
        .configure(chats::configure)
        .configure(gifts::configure)
        .configure(coupons::configure)
        .configure(referrals::configure)
        .configure(tax::configure)
        .configure(kyc::configure)
        .configure(payouts::configure)
        .configure(disputes::configure)
        .configure(notifications::configure);
}
