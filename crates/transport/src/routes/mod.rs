//! Route modules; each exposes `configure` for the application to compose.

pub(crate) mod admin;
pub(crate) mod admin_accounts;
pub(crate) mod admin_catalog;
pub(crate) mod auth;
pub(crate) mod calls;
mod console;
pub(crate) mod docs;
pub(crate) mod health;
pub(crate) mod payments;
pub(crate) mod rules;
pub(crate) mod telecaller;
pub(crate) mod users;

use actix_web::web::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.configure(health::configure)
        .configure(docs::configure)
        .configure(console::configure)
        .configure(auth::configure)
        .configure(users::configure)
        .configure(telecaller::configure)
        .configure(payments::configure)
        .configure(admin::configure)
        .configure(admin_accounts::configure)
        .configure(admin_catalog::configure)
        .configure(calls::configure)
        .configure(crate::ws::configure);
}
