//! `/telecaller`: a telecaller's own profile, application and bank details.

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use garde::Validate;
use serde::Deserialize;
use talktime_domain::account::Language;
use talktime_domain::profile::{self, BankDetails};
use talktime_services::accounts::{EditProfile, Reapply};
use utoipa::ToSchema;

use super::rules::{about_rule, dob_rule, name_rule};

use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::error::{ApiError, ErrorBody, FieldError};
use crate::extract::{CurrentTelecaller, ValidJson};
use crate::views::{BankDetailsView, Envelope, ProfileView, ok, profile_reply};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(edit_profile)
        .service(reapply)
        .service(get_bank_details)
        .service(save_bank_details)
        .service(delete_bank_details)
        .service(transactions)
        .service(availability);
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AvailabilityRequest {
    /// While her app has no connection: `true` shows her AWAY and rings her through a
    /// high-priority push to her devices (`POST /users/devices`; it ends when her last device
    /// goes); `false` keeps her OFFLINE.
    #[garde(skip)]
    pub reachable_by_push: bool,
}

/// Whether calls may ring her through a push while her app is closed (docs/push.md). Answers
/// the setting and her presence now.
#[utoipa::path(tag = "telecaller", security(("bearer" = [])),
    request_body = AvailabilityRequest, responses(
    (status = 200, body = Envelope<Object>),
    (status = 400, body = ErrorBody),
    (status = 403, body = ErrorBody),
))]
#[put("/telecaller/availability")]
pub(crate) async fn availability(
    state: web::Data<AppState>,
    telecaller: CurrentTelecaller,
    body: ValidJson<AvailabilityRequest>,
) -> Result<HttpResponse, ApiError> {
    let reachable = body.0.reachable_by_push;
    let presence = state.presence.set_reachable_by_push(&telecaller.0, reachable).await?;
    Ok(ok("Availability updated", serde_json::json!({ "reachableByPush": reachable, "presence": presence })))
}

super::users::edit_profile_request!(EditTelecallerProfileRequest {
    /// 50–500 characters.
    #[garde(inner(custom(about_rule)))]
    #[schema(min_length = 50)]
    about: Option<String>,
});

/// Edit an approved telecaller's name, language, avatar or about (at least one).
#[utoipa::path(tag = "telecaller", security(("bearer" = [])),
    request_body = EditTelecallerProfileRequest, responses(
    (status = 200, body = Envelope<ProfileView>),
    (status = 400, body = ErrorBody),
    (status = 403, description = "Not an approved telecaller", body = ErrorBody),
))]
#[patch("/telecaller/edit-profile")]
pub(crate) async fn edit_profile(
    state: web::Data<AppState>,
    telecaller: CurrentTelecaller,
    body: ValidJson<EditTelecallerProfileRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let edit = EditProfile { name: body.name, language: body.language, profile: body.profile, about: body.about };
    let updated = state.accounts.edit_telecaller_profile(&telecaller.0, edit).await?;
    profile_reply(&state, "Profile updated successfully", updated).await
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReapplyRequest {
    #[garde(custom(name_rule))]
    #[schema(min_length = 3)]
    pub name: String,
    /// `YYYY-MM-DD`; at least 18 years ago.
    #[garde(custom(dob_rule))]
    pub dob: String,
    #[garde(skip)]
    #[schema(inline)]
    pub language: Language,
    /// 50–500 characters.
    #[garde(custom(about_rule))]
    #[schema(min_length = 50)]
    pub about: String,
}

/// Resubmit a rejected application: back to PENDING. The rejection note stays visible until an
/// approval clears it.
#[utoipa::path(tag = "telecaller", security(("bearer" = [])),
    request_body = ReapplyRequest, responses(
    (status = 200, body = Envelope<ProfileView>),
    (status = 400, body = ErrorBody),
    (status = 409, description = "Not REJECTED", body = ErrorBody),
))]
#[patch("/telecaller/reapply")]
pub(crate) async fn reapply(
    state: web::Data<AppState>,
    telecaller: CurrentTelecaller,
    body: ValidJson<ReapplyRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let input = Reapply {
        name: body.name,
        dob: profile::parse_dob(&body.dob).map_err(|e| ApiError::field("dob", e.message))?,
        language: body.language,
        about: body.about,
    };
    let updated = state.accounts.reapply(&telecaller.0, input).await?;
    profile_reply(&state, "Application resubmitted for review", updated).await
}

/// The telecaller's bank details (full account number), or `data: null`.
#[utoipa::path(tag = "telecaller", security(("bearer" = [])), responses(
    (status = 200, body = Envelope<Option<BankDetailsView>>),
    (status = 403, body = ErrorBody),
))]
#[get("/telecaller/bank-details")]
pub(crate) async fn get_bank_details(
    state: web::Data<AppState>,
    telecaller: CurrentTelecaller,
) -> Result<HttpResponse, ApiError> {
    let details = state.accounts.bank_details(&telecaller.0).await?;
    Ok(ok("Bank details fetched successfully", details.map(BankDetailsView::from)))
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BankDetailsRequest {
    /// 9–18 digits.
    #[bound(chars(min = 1, max = 64))]
    pub account_number: String,
    /// IFSC, e.g. `HDFC0001234` (trimmed and upper-cased before checking).
    #[bound(chars(min = 1, max = 64))]
    pub ifsc_code: String,
    /// 3–100 letters and spaces.
    #[bound(chars(min = 1, max = 200))]
    pub account_holder_name: String,
}

/// Add or replace the bank details (stored encrypted).
#[utoipa::path(tag = "telecaller", security(("bearer" = [])),
    request_body = BankDetailsRequest, responses(
    (status = 201, body = Envelope<BankDetailsView>),
    (status = 400, body = ErrorBody),
    (status = 403, body = ErrorBody),
))]
#[post("/telecaller/bank-details")]
pub(crate) async fn save_bank_details(
    state: web::Data<AppState>,
    telecaller: CurrentTelecaller,
    body: ValidJson<BankDetailsRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let details =
        BankDetails::parse(&body.account_number, &body.ifsc_code, &body.account_holder_name).map_err(|rules| {
            ApiError::validation(
                rules.into_iter().map(|r| FieldError { field: r.field.to_owned(), message: r.message }).collect(),
            )
        })?;
    let saved = state.accounts.save_bank_details(&telecaller.0, details).await?;
    Ok(HttpResponse::Created().json(Envelope {
        success: true,
        message: "Bank details saved successfully".to_owned(),
        data: BankDetailsView::from(saved),
    }))
}

/// Remove the bank details (404 when there are none).
#[utoipa::path(tag = "telecaller", security(("bearer" = [])), responses(
    (status = 200, body = Envelope<Option<String>>),
    (status = 404, body = ErrorBody),
    (status = 409, description = "A withdrawal is pending", body = ErrorBody),
))]
#[delete("/telecaller/bank-details")]
pub(crate) async fn delete_bank_details(
    state: web::Data<AppState>,
    telecaller: CurrentTelecaller,
) -> Result<HttpResponse, ApiError> {
    state.accounts.delete_bank_details(&telecaller.0).await?;
    Ok(ok("Bank details removed", Option::<String>::None))
}

#[derive(Debug, serde::Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WithdrawalsView {
    pub transactions: Vec<crate::views::WithdrawalView>,
    pub has_more: bool,
    /// The gifts she received in calls and chats (what she earned), newest first, paged alike.
    pub gifts: Vec<super::gifts::GiftSentView>,
    pub gifts_has_more: bool,
}

/// The telecaller's withdrawals, newest first (APPROVED only; limit 1–50, default 10).
#[utoipa::path(tag = "telecaller", security(("bearer" = [])),
    params(super::rules::PageQuery), responses(
    (status = 200, body = Envelope<WithdrawalsView>),
    (status = 403, body = ErrorBody),
))]
#[get("/telecaller/transactions")]
pub(crate) async fn transactions(
    state: web::Data<AppState>,
    telecaller: CurrentTelecaller,
    query: crate::extract::ValidQuery<super::rules::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    talktime_services::accounts::require_approved(&telecaller.0)?;
    let page = super::rules::Paging { default_limit: 10, max_limit: 50 }.request(query.0.page, query.0.limit);
    let found = state
        .wallet
        .own_transactions(&telecaller.0, talktime_domain::transaction::TransactionKind::Withdrawal, page)
        .await?;
    let (gifts, gifts_has_more) = state.gifts.of_account(&telecaller.0, page.limit(), page.offset()).await?;
    Ok(ok(
        "Transactions fetched successfully",
        WithdrawalsView {
            transactions: found.transactions.into_iter().map(crate::views::WithdrawalView::from).collect(),
            has_more: found.has_more,
            gifts: gifts.into_iter().map(super::gifts::GiftSentView::from).collect(),
            gifts_has_more,
        },
    ))
}
