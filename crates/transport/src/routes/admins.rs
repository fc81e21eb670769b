//! Operators' sessions: Google (or development) sign-in setting the panel's cookie, and sign-out.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{HttpResponse, post, web};
use garde::Validate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AUTH_COOKIE, ClientIp, CurrentAdmin, ValidJson};
use crate::views::{Envelope, ok};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(google_sign_in).service(dev_sign_in).service(sign_out);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub email: String,
    pub name: String,
}

fn signed_in(state: &AppState, admin: talktime_services::auth::AdminAccount, token: String) -> HttpResponse {
    let ttl = i64::try_from(state.auth.tokens().ttl().as_secs()).unwrap_or(i64::MAX);
    let cookie = Cookie::build(AUTH_COOKIE, token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.production)
        .max_age(CookieDuration::seconds(ttl))
        .finish();
    let mut response = ok("Signed in", AdminView { id: admin.id.0, email: admin.email, name: admin.name });
    response.add_cookie(&cookie).ok();
    response
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GoogleSignInRequest {
    /// A Google ID token from Google Sign-In.
    #[bound(chars(min = 1, max = 8192))]
    pub google_token: String,
}

/// Sign in with a Google ID token; sets the `authenticationToken` cookie.
#[utoipa::path(tag = "admin", request_body = GoogleSignInRequest, responses(
    (status = 200, body = Envelope<AdminView>),
    (status = 401, description = "Bad Google token", body = ErrorBody),
    (status = 403, description = "Not an admin", body = ErrorBody),
    (status = 429, description = "Too many sign-ins from this network", body = ErrorBody),
))]
#[post("/admin/auth/google")]
pub(crate) async fn google_sign_in(
    state: web::Data<AppState>,
    ip: ClientIp,
    body: ValidJson<GoogleSignInRequest>,
) -> Result<HttpResponse, ApiError> {
    let (admin, token) = state.admin.google_sign_in(&body.0.google_token, ip.0).await?;
    Ok(signed_in(&state, admin, token))
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DevSignInRequest {
    #[bound(chars(min = 3, max = 320))]
    pub email: String,
}

/// Development only (404 in production): sign in as an existing admin by e-mail.
#[utoipa::path(tag = "admin", request_body = DevSignInRequest, responses(
    (status = 200, body = Envelope<AdminView>),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody),
    (status = 429, body = ErrorBody),
))]
#[post("/admin/auth/dev")]
pub(crate) async fn dev_sign_in(
    state: web::Data<AppState>,
    body: ValidJson<DevSignInRequest>,
) -> Result<HttpResponse, ApiError> {
    if state.production {
        return Err(ApiError::not_found());
    }
    let (admin, token) = state.admin.sign_in(&body.0.email).await?;
    Ok(signed_in(&state, admin, token))
}

/// Sign out: clears the cookie and revokes every token of this admin.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    responses((status = 200, body = Envelope<Option<String>>)))]
#[post("/admin/auth/logout")]
pub(crate) async fn sign_out(state: web::Data<AppState>, admin: CurrentAdmin) -> Result<HttpResponse, ApiError> {
    state.auth.logout_admin(admin.0.id).await?;
    // Its sockets close too (4003), on whichever node holds them.
    state
        .presence
        .disconnect_account(talktime_domain::account::Role::Admin, talktime_domain::ids::AccountId(admin.0.id.0));
    let mut response = ok("Signed out", Option::<String>::None);
    let mut expired = Cookie::new(AUTH_COOKIE, "");
    expired.set_path("/");
    expired.make_removal();
    response.add_removal_cookie(&expired).ok();
    Ok(response)
}
