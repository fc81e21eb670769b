//! `/auth`: phone login with one-time codes.

use actix_web::cookie::Cookie;
use actix_web::{HttpResponse, post, web};
use garde::Validate;
use serde::{Deserialize, Serialize};
use talktime_domain::phone::Phone;
use utoipa::ToSchema;

use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AUTH_COOKIE, ClientIp, CurrentAccount, ValidJson};
use crate::views::{Envelope, ProfileView, ok};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(send).service(resend).service(verify).service(logout);
}

pub(crate) fn phone_rule(value: &str, _: &()) -> garde::Result {
    Phone::parse(value).map(|_| ()).map_err(|e| garde::Error::new(e.to_string()))
}

fn digits_rule(value: &str, _: &()) -> garde::Result {
    if value.bytes().all(|b| b.is_ascii_digit()) { Ok(()) } else { Err(garde::Error::new("must contain only digits")) }
}

fn parse_phone(raw: &str) -> Result<Phone, ApiError> {
    Phone::parse(raw).map_err(|e| ApiError::field("phone", e.to_string()))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneRequest {
    /// 10–15 digits.
    #[garde(custom(phone_rule))]
    #[schema(example = "9876543210")]
    pub phone: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    #[garde(custom(phone_rule))]
    #[schema(example = "9876543210")]
    pub phone: String,
    /// `OTP_LENGTH` digits (default 6).
    #[garde(length(min = 4, max = 8), custom(digits_rule))]
    #[schema(example = "123456")]
    pub otp: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CodeSentView {
    pub phone: String,
    /// Seconds the code stays valid.
    pub expires_in: i64,
    /// Seconds before another code may be requested.
    pub resend_after: i64,
}

/// `/auth/verify`'s answer: `token` and `user` at the top level, where the mobile app reads them,
/// and again inside `data`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    pub success: bool,
    pub message: String,
    pub token: String,
    pub user: ProfileView,
    pub data: LoginData,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginData {
    pub token: String,
    pub user: ProfileView,
    pub is_new_user: bool,
}

async fn send_code(
    state: &AppState,
    ip: ClientIp,
    body: PhoneRequest,
    message: &str,
) -> Result<HttpResponse, ApiError> {
    let phone = parse_phone(&body.phone)?;
    let sent = state.auth.send_code(&phone, ip.0).await?;
    Ok(ok(
        message,
        CodeSentView {
            phone: phone.to_string(),
            expires_in: sent.expires_in_secs,
            resend_after: sent.resend_after_secs,
        },
    ))
}

/// Send a one-time code by SMS. Does not create an account.
#[utoipa::path(tag = "auth", request_body = PhoneRequest, responses(
    (status = 200, body = Envelope<CodeSentView>),
    (status = 400, description = "Invalid phone", body = ErrorBody),
    (status = 403, description = "Account suspended", body = ErrorBody),
    (status = 429, description = "Cooldown, rate limit, or the network's SMS share of the hour spent (`sms_network_budget_exhausted`); see Retry-After", body = ErrorBody),
    (status = 502, description = "SMS provider failed", body = ErrorBody),
    (status = 503, description = "The country's (`sms_country_budget_exhausted`) or the deployment's (`sms_budget_exhausted`) SMS budget of the hour spent; see Retry-After", body = ErrorBody),
))]
#[post("/auth/send")]
pub(crate) async fn send(
    state: web::Data<AppState>,
    ip: ClientIp,
    body: ValidJson<PhoneRequest>,
) -> Result<HttpResponse, ApiError> {
    send_code(&state, ip, body.0, "OTP sent successfully").await
}

/// Send a new code to the same phone. Answers the same whether or not the number has an account.
#[utoipa::path(tag = "auth", request_body = PhoneRequest, responses(
    (status = 200, body = Envelope<CodeSentView>),
    (status = 400, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 429, body = ErrorBody),
    (status = 502, body = ErrorBody),
    (status = 503, body = ErrorBody),
))]
#[post("/auth/resend")]
pub(crate) async fn resend(
    state: web::Data<AppState>,
    ip: ClientIp,
    body: ValidJson<PhoneRequest>,
) -> Result<HttpResponse, ApiError> {
    send_code(&state, ip, body.0, "OTP resent successfully").await
}

/// Check the code and log in; the account is created on first login.
#[utoipa::path(tag = "auth", request_body = VerifyRequest, responses(
    (status = 200, body = LoginResponse),
    (status = 400, description = "No code, expired, wrong (attempts left in the message) or attempts exhausted", body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 429, body = ErrorBody),
))]
#[post("/auth/verify")]
pub(crate) async fn verify(
    state: web::Data<AppState>,
    ip: ClientIp,
    body: ValidJson<VerifyRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let phone = parse_phone(&body.phone)?;
    let login = state.auth.verify(&phone, &body.otp, ip.0).await?;
    let figures = state.accounts.figures(&login.account).await?;
    let user = ProfileView::new(login.account.clone(), &figures);
    let again = ProfileView::new(login.account, &figures);
    Ok(HttpResponse::Ok().json(LoginResponse {
        success: true,
        message: "Login successful".to_owned(),
        token: login.token.clone(),
        user,
        data: LoginData { token: login.token, user: again, is_new_user: login.is_new_account },
    }))
}

/// Log out everywhere: every token of this account stops working.
#[utoipa::path(tag = "auth", security(("bearer" = [])), responses(
    (status = 200, body = Envelope<Option<String>>),
    (status = 401, body = ErrorBody),
))]
#[post("/auth/logout")]
pub(crate) async fn logout(state: web::Data<AppState>, account: CurrentAccount) -> Result<HttpResponse, ApiError> {
    state.auth.logout(account.0.id).await?;
    state.presence.disconnect_account(account.0.role, account.0.id);
    let mut response = ok("Logged out successfully", Option::<String>::None);
    let mut expired = Cookie::new(AUTH_COOKIE, "");
    expired.set_path("/");
    expired.make_removal();
    response.add_removal_cookie(&expired).ok();
    Ok(response)
}
