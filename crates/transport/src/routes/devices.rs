//! Push devices of phone accounts (`/users/devices`): register a token, forget one.

use actix_web::{HttpResponse, delete, post, web};
use garde::Validate;
use serde::Deserialize;
use serde_json::json;
use talktime_domain::push::{DeviceKind, DevicePlatform};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{CurrentAccount, ValidJson};
use crate::views::{Envelope, ok};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(register).service(remove);
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceRequest {
    /// The FCM registration token the app got from Firebase, an iPhone's APNs device token, or
    /// its PushKit VoIP token (at most `PUSH_TOKEN_MAX_CHARS`, 512: longer than any token FCM or
    /// APNs issues).
    #[bound(chars(min = 1, max = 512))]
    pub token: String,
    /// `android`, `ios` or `web`.
    #[garde(skip)]
    #[schema(inline)]
    pub platform: DevicePlatform,
    /// `alert` (the default: every push but an iPhone's rings) or `voip` (an iPhone's PushKit
    /// token, rung through APNs; 400 `voip_needs_ios` on another platform, 400
    /// `voip_not_configured` without APNs).
    #[garde(skip)]
    #[serde(default)]
    #[schema(inline)]
    pub kind: Option<DeviceKind>,
}

/// Register this device for push notifications (users and telecallers; at most
/// `PUSH_MAX_DEVICES_PER_ACCOUNT` devices per account, the least recently registered forgotten
/// beyond it; a token moves to the account that registers it last; rate limited per account).
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = DeviceRequest,
    responses((status = 200, body = Envelope<Object>), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)))]
#[post("/users/devices")]
pub(crate) async fn register(
    state: web::Data<AppState>,
    account: CurrentAccount,
    body: ValidJson<DeviceRequest>,
) -> Result<HttpResponse, ApiError> {
    let platform = body.0.platform;
    let kind = body.0.kind.unwrap_or(DeviceKind::Alert);
    state.push.register_device(&account.0, &body.0.token, platform, kind).await?;
    Ok(ok("Device registered", json!({ "token": body.0.token, "platform": platform, "kind": kind })))
}

/// Stop pushing to this device (idempotent; only the caller's own devices).
#[utoipa::path(tag = "users", security(("bearer" = [])),
    params(("token" = String, Path, description = "The registration token")),
    responses((status = 200, body = Envelope<Option<String>>), (status = 400, body = ErrorBody)))]
#[delete("/users/devices/{token}")]
pub(crate) async fn remove(
    state: web::Data<AppState>,
    account: CurrentAccount,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.push.remove_device(&account.0, &path.into_inner()).await?;
    Ok(ok("Device removed", Option::<String>::None))
}
