//! `/users`: what a phone account does about itself.

use actix_web::{HttpResponse, get, web};

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::CurrentAccount;
use crate::views::{Envelope, ProfileView, ok};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(me);
}

/// The caller's profile (users and telecallers).
#[utoipa::path(get, path = "/users/me", tag = "users", security(("bearer" = [])), responses(
    (status = 200, body = Envelope<ProfileView>),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
))]
#[get("/users/me")]
pub(crate) async fn me(state: web::Data<AppState>, account: CurrentAccount) -> Result<HttpResponse, ApiError> {
    let balance = state.accounts.balance(account.0.id).await?.0;
    Ok(ok("Profile fetched successfully", ProfileView::new(account.0, balance)))
}
