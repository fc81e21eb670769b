//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{admin, admin_accounts, admin_catalog, auth, calls, health, payments, telecaller, users};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Talktime API",
        description = "REST API of Talktime, a paid one-to-one audio and video calling platform. \
                       Every response uses the envelope `{success, message, data}`; errors carry a stable `code`."
    ),
    paths(
        health::health,
        health::ready,
        health::metrics,
        auth::send,
        auth::resend,
        auth::verify,
        auth::logout,
        users::me,
        users::complete_profile,
        users::edit_profile,
        users::plans,
        users::favorites,
        users::add_favorite,
        users::remove_favorite,
        users::telecallers,
        telecaller::edit_profile,
        telecaller::reapply,
        telecaller::get_bank_details,
        telecaller::save_bank_details,
        telecaller::delete_bank_details,
        users::transactions,
        telecaller::transactions,
        payments::create_order,
        payments::verify,
        payments::webhook,
        payments::withdraw,
        payments::sandbox_pay,
        admin::transactions,
        admin::transaction,
        admin::complete_withdrawal,
        admin::reject_withdrawal,
        admin_accounts::google_sign_in,
        admin_accounts::dev_sign_in,
        admin_accounts::sign_out,
        admin_accounts::users,
        admin_accounts::user,
        admin_accounts::block,
        admin_accounts::unblock,
        admin_accounts::telecallers,
        admin_accounts::telecaller,
        admin_accounts::approve,
        admin_accounts::reject,
        admin_accounts::audit_log,
        admin_catalog::list_plans,
        admin_catalog::create_plan,
        admin_catalog::update_plan,
        admin_catalog::delete_plan,
        admin_catalog::get_config,
        admin_catalog::put_config,
        admin_catalog::reports,
        admin_catalog::report,
        admin_catalog::report_status,
        admin_catalog::calls,
        admin_catalog::end_call,
        admin_catalog::refund_call,
        admin_catalog::stats,
        admin_catalog::distribution,
        admin_catalog::trends,
        calls::user_calls,
        calls::telecaller_calls,
        calls::feedback,
        calls::report,
        calls::livekit_webhook,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::FieldError)),
    modifiers(&Security),
    tags(
        (name = "auth", description = "Phone login with one-time codes"),
        (name = "users", description = "A phone account's own data, plans, favorites and the telecaller list"),
        (name = "telecaller", description = "A telecaller's profile, application and bank details"),
        (name = "calls", description = "Call history, feedback and reports (calls themselves run over WebSocket)"),
        (name = "payments", description = "Recharges through Razorpay and withdrawals"),
        (name = "admin", description = "Operators (cookie or bearer)"),
        (name = "operations", description = "Health and documentation"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::extract::AUTH_COOKIE))),
        );
    }
}

/// The document as JSON.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
