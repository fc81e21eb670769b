//! A telecaller's KYC: her PAN (`/telecaller/kyc`), verified or rejected by an admin
//! (`/admin/telecallers/{id}/kyc/…`), who alone sees it whole (`GET /admin/telecallers/{id}/kyc`).

use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use talktime_domain::ids::AccountId;
use talktime_domain::kyc::KycStatus;
use talktime_services::kyc::KycRecord;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{CurrentAdmin, CurrentTelecaller, ValidJson};
use crate::views::{Envelope, ok};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_kyc).service(put_kyc).service(admin_kyc).service(verify).service(reject);
}

/// Her KYC: `pan` masked (`XXXXXX234F`) except in the admin's detail.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KycView {
    /// `NOT_SUBMITTED`, `PENDING`, `VERIFIED` or `REJECTED`.
    #[schema(inline)]
    pub status: KycStatus,
    pub pan: Option<String>,
    pub name_on_pan: Option<String>,
    pub rejection_reason: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<KycRecord> for KycView {
    fn from(k: KycRecord) -> Self {
        Self {
            status: k.status,
            pan: k.pan,
            name_on_pan: k.name_on_pan,
            rejection_reason: k.rejection_reason,
            submitted_at: k.submitted_at,
            decided_at: k.decided_at,
        }
    }
}

/// Her KYC (`NOT_SUBMITTED` before she gives a PAN).
#[utoipa::path(tag = "telecaller", security(("bearer" = [])), responses((status = 200, body = Envelope<KycView>)))]
#[get("/telecaller/kyc")]
pub(crate) async fn get_kyc(
    state: web::Data<AppState>,
    telecaller: CurrentTelecaller,
) -> Result<HttpResponse, ApiError> {
    Ok(ok("KYC fetched successfully", KycView::from(state.kyc.mine(&telecaller.0).await?)))
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KycRequest {
    /// Her PAN: five capital letters, four digits, a capital letter.
    #[garde(length(chars, min = 10, max = 10))]
    #[schema(example = "ABCPE1234F", pattern = "^[A-Z]{5}[0-9]{4}[A-Z]$")]
    pub pan: String,
    /// Her name as the PAN card shows it, 2–100 characters.
    #[bound(trimmed(min = 2, max = 100))]
    pub name_on_pan: String,
}

/// Submit (or change) her PAN: it goes to `PENDING` for an admin to check; the same PAN and name
/// again change nothing.
#[utoipa::path(tag = "telecaller", security(("bearer" = [])), request_body = KycRequest, responses(
    (status = 200, body = Envelope<KycView>),
    (status = 400, description = "`invalid_pan`, `validation_error`", body = ErrorBody),
))]
#[put("/telecaller/kyc")]
pub(crate) async fn put_kyc(
    state: web::Data<AppState>,
    telecaller: CurrentTelecaller,
    body: ValidJson<KycRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let kyc = state.kyc.submit(&telecaller.0, &body.pan, body.name_on_pan.trim()).await?;
    Ok(ok("KYC submitted", KycView::from(kyc)))
}

/// A telecaller's KYC with her whole PAN.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = Envelope<KycView>), (status = 404, body = ErrorBody)))]
#[get("/admin/telecallers/{id}/kyc")]
pub(crate) async fn admin_kyc(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    path: web::Path<AccountId>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok("KYC fetched successfully", KycView::from(state.kyc.detail(path.into_inner()).await?)))
}

/// PENDING → VERIFIED, once (audited; 409 `kyc_not_pending` otherwise).
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), responses(
    (status = 200, body = Envelope<KycView>),
    (status = 404, body = ErrorBody),
    (status = 409, body = ErrorBody),
))]
#[post("/admin/telecallers/{id}/kyc/verify")]
pub(crate) async fn verify(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<AccountId>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok("KYC verified", KycView::from(state.kyc.decide(admin.0.id, path.into_inner(), None).await?)))
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KycRejectRequest {
    /// 5–500 characters, shown to the telecaller.
    #[bound(trimmed(min = 5, max = 500))]
    pub reason: String,
}

/// PENDING → REJECTED with the reason, once (audited; 409 `kyc_not_pending` otherwise).
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = KycRejectRequest, responses(
    (status = 200, body = Envelope<KycView>),
    (status = 404, body = ErrorBody),
    (status = 409, body = ErrorBody),
))]
#[post("/admin/telecallers/{id}/kyc/reject")]
pub(crate) async fn reject(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<AccountId>,
    body: ValidJson<KycRejectRequest>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.0.reason.trim().to_owned();
    Ok(ok("KYC rejected", KycView::from(state.kyc.decide(admin.0.id, path.into_inner(), Some(&reason)).await?)))
}
