//! `/users`: a phone account's own profile, plans, favorites and the telecaller list.
//!
//! Longer than most route modules on purpose: `/users` is the user app's whole home screen
//! (profile, plans, favorites, the telecaller list, history), each handler a few lines.

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use garde::Validate;
use serde::{Deserialize, Serialize};
use talktime_domain::account::FavoriteAdded;
use talktime_domain::account::{Avatar, Gender, Language, Role};
use talktime_domain::ids::AccountId;
use talktime_domain::profile;
use talktime_services::accounts::{CompleteProfile, EditProfile};
use talktime_services::catalog::{ListFilter, ListOrder};
use utoipa::ToSchema;
use uuid::Uuid;

use super::rules::{PageQuery, Paging, about_rule, dob_rule, name_rule, parsed};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{CurrentAccount, CurrentUser, ValidJson, ValidQuery};
use crate::views::{Envelope, PlanView, ProfileView, TelecallerCardView, ok, profile_reply};

const FAVORITES_PAGING: Paging = Paging { default_limit: 15, max_limit: 50 };
const TELECALLERS_PAGING: Paging = Paging { default_limit: 15, max_limit: 50 };

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(me)
        .service(delete_me)
        .service(complete_profile)
        .service(edit_profile)
        .service(plans)
        .service(favorites)
        .service(add_favorite)
        .service(remove_favorite)
        .service(favorite_alerts)
        .service(telecallers)
        .service(transactions);
}

/// The caller's profile (users and telecallers).
#[utoipa::path(tag = "users", security(("bearer" = [])), responses(
    (status = 200, body = Envelope<ProfileView>),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
))]
#[get("/users/me")]
pub(crate) async fn me(state: web::Data<AppState>, account: CurrentAccount) -> Result<HttpResponse, ApiError> {
    let figures = state.accounts.figures(&account.0).await?;
    Ok(ok("Profile fetched successfully", ProfileView::new(account.0, &figures)))
}

/// Delete the caller's account (users and telecallers): name, date of birth, phone and bank
/// details are erased, every token is revoked and every socket closed; calls, reports and the
/// ledger keep naming the deleted account. The phone may sign up again as a new account.
#[utoipa::path(tag = "users", security(("bearer" = [])), responses(
    (status = 200, body = Envelope<Option<String>>),
    (status = 409, description = "In a call (`call_in_progress`) or a withdrawal pending (`withdrawal_pending`)", body = ErrorBody),
))]
#[delete("/users/me")]
pub(crate) async fn delete_me(state: web::Data<AppState>, account: CurrentAccount) -> Result<HttpResponse, ApiError> {
    state.accounts.delete(&account.0).await?;
    Ok(ok("Account deleted", Option::<String>::None))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteProfileRequest {
    /// 3–50 characters.
    #[garde(custom(name_rule))]
    #[schema(min_length = 3)]
    pub name: String,
    /// `YYYY-MM-DD`; at least 18 years ago.
    #[garde(custom(dob_rule))]
    #[schema(example = "1998-04-21")]
    pub dob: String,
    /// `MALE`, `FEMALE` or `OTHER`.
    #[garde(skip)]
    #[schema(inline)]
    pub gender: Gender,
    #[garde(skip)]
    #[schema(inline)]
    pub language: Language,
    /// `USER` or `TELECALLER` (telecallers must be `FEMALE`).
    #[garde(custom(role_rule))]
    #[schema(schema_with = applying_role_schema)]
    pub role: String,
    /// 50–500 characters; required for `TELECALLER`, refused for `USER`.
    #[garde(inner(custom(about_rule)))]
    #[schema(min_length = 50)]
    pub about: Option<String>,
    /// Optional avatar `avatar-1` … `avatar-8`.
    #[garde(skip)]
    #[schema(schema_with = super::rules::avatar_or_null_schema)]
    pub profile: Option<Avatar>,
    /// Who referred her (another account's `referralCode`); USER only.
    #[serde(rename = "referralCode")]
    #[garde(inner(length(chars, min = 1, max = 32)))]
    #[schema(min_length = 1, max_length = 32)]
    pub referral_code: Option<String>,
}

fn applying_role_schema() -> utoipa::openapi::Object {
    super::rules::one_of_schema(["USER", "TELECALLER"])
}

fn role_rule(value: &str, _: &()) -> garde::Result {
    match value {
        "USER" | "TELECALLER" => Ok(()),
        _ => Err(garde::Error::new("must be USER or TELECALLER")),
    }
}

/// `data` is the profile; `token` is present when the role changed (the old token no longer works).
#[derive(Debug, Serialize, ToSchema)]
pub struct CompleteProfileResponse {
    pub success: bool,
    pub message: String,
    pub data: ProfileView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// Complete a new account's profile, once. Choosing TELECALLER files a PENDING application.
#[utoipa::path(tag = "users", security(("bearer" = [])),
    request_body = CompleteProfileRequest, responses(
    (status = 200, body = CompleteProfileResponse),
    (status = 400, description = "Validation, under 18, telecaller not female, about rules", body = ErrorBody),
    (status = 409, description = "Already complete", body = ErrorBody),
))]
#[patch("/users/complete-profile")]
pub(crate) async fn complete_profile(
    state: web::Data<AppState>,
    account: CurrentAccount,
    body: ValidJson<CompleteProfileRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let input = CompleteProfile {
        name: body.name,
        dob: profile::parse_dob(&body.dob).map_err(|e| ApiError::field("dob", e.message))?,
        gender: body.gender,
        language: body.language,
        role: parsed::<Role>("role", &body.role)?,
        about: body.about,
        profile: body.profile,
        referral_code: body.referral_code,
    };
    let before = account.0.role;
    let updated = state.accounts.complete_profile(&account.0, input).await?;
    let token = (updated.role != before).then(|| state.auth.token_for(&updated)).transpose()?;
    let figures = state.accounts.figures(&updated).await?;
    Ok(HttpResponse::Ok().json(CompleteProfileResponse {
        success: true,
        message: "Profile completed successfully".to_owned(),
        data: ProfileView::new(updated, &figures),
        token,
    }))
}

/// A profile edit's body: name, language and avatar (written once, here), then the fields of
/// its role; `about` is the telecaller's.
macro_rules! edit_profile_request {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident: $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, serde::Deserialize, garde::Validate, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// 3–50 letters and spaces.
            #[garde(inner(custom($crate::routes::rules::letters_name_rule)))]
            #[schema(min_length = 3)]
            pub name: Option<String>,
            #[garde(skip)]
            #[schema(inline)]
            pub language: Option<talktime_domain::account::Language>,
            /// An avatar, or `null` to clear it.
            #[serde(default, deserialize_with = "crate::routes::rules::double_option")]
            #[garde(skip)]
            #[schema(schema_with = $crate::routes::rules::avatar_or_null_schema)]
            pub profile: Option<Option<talktime_domain::account::Avatar>>,
            $($(#[$fmeta])* pub $field: $ty,)*
        }
    };
}
pub(crate) use edit_profile_request;

edit_profile_request!(EditUserProfileRequest {});

/// Edit a user's name, language or avatar (at least one).
#[utoipa::path(tag = "users", security(("bearer" = [])),
    request_body = EditUserProfileRequest, responses(
    (status = 200, body = Envelope<ProfileView>),
    (status = 400, body = ErrorBody),
    (status = 403, description = "Not a USER", body = ErrorBody),
))]
#[patch("/users/edit-profile")]
pub(crate) async fn edit_profile(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: ValidJson<EditUserProfileRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let edit = EditProfile { name: body.name, language: body.language, profile: body.profile, about: None };
    let updated = state.accounts.edit_user_profile(&user.0, edit).await?;
    profile_reply(&state, "Profile updated successfully", updated).await
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlansView {
    pub plans: Vec<PlanView>,
    pub is_first_recharge: bool,
}

/// Active plans by price.
#[utoipa::path(tag = "users", security(("bearer" = [])), responses(
    (status = 200, body = Envelope<PlansView>),
    (status = 403, body = ErrorBody),
))]
#[get("/users/plans")]
pub(crate) async fn plans(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, ApiError> {
    let talktime_services::catalog::PlanOffer { plans, is_first_recharge } = state.catalog.plans(&user.0).await?;
    let plans = plans.into_iter().map(PlanView::from).collect();
    Ok(ok("Plans fetched successfully", PlansView { plans, is_first_recharge }))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FavoritesView {
    pub favorites: Vec<TelecallerCardView>,
    pub has_more: bool,
}

/// The user's saved telecallers (approved and active), newest saved first.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(PageQuery), responses(
    (status = 200, body = Envelope<FavoritesView>),
    (status = 400, body = ErrorBody),
))]
#[get("/users/favorites")]
pub(crate) async fn favorites(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: ValidQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = FAVORITES_PAGING.request(query.0.page, query.0.limit);
    let found = state.catalog.favorites(&user.0, page).await?;
    let favorites = found.favorites.into_iter().map(|t| TelecallerCardView::new(t, false)).collect();
    Ok(ok("Favorites fetched successfully", FavoritesView { favorites, has_more: found.has_more }))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FavoriteView {
    pub telecaller_id: Uuid,
    pub is_favorite: bool,
}

/// Save a telecaller (at most 50).
#[utoipa::path(tag = "users", security(("bearer" = [])),
    params(("telecallerId" = Uuid, Path)), responses(
    (status = 200, description = "Saved, or already saved", body = Envelope<FavoriteView>),
    (status = 400, description = "Yourself, unavailable telecaller, or 50 already", body = ErrorBody),
    (status = 404, body = ErrorBody),
))]
#[post("/users/favorites/{telecallerId}")]
pub(crate) async fn add_favorite(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<AccountId>,
) -> Result<HttpResponse, ApiError> {
    let telecaller = path.into_inner();
    let outcome = state.catalog.add_favorite(&user.0, telecaller).await?;
    let message = match outcome {
        FavoriteAdded::AlreadySaved => "Telecaller is already in your favorites",
        _ => "Added to favorites",
    };
    Ok(ok(message, FavoriteView { telecaller_id: telecaller.0, is_favorite: true }))
}

/// Remove a saved telecaller (idempotent).
#[utoipa::path(tag = "users", security(("bearer" = [])),
    params(("telecallerId" = Uuid, Path)), responses((status = 200, body = Envelope<FavoriteView>)))]
#[delete("/users/favorites/{telecallerId}")]
pub(crate) async fn remove_favorite(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<AccountId>,
) -> Result<HttpResponse, ApiError> {
    let telecaller = path.into_inner();
    state.catalog.remove_favorite(&user.0, telecaller).await?;
    Ok(ok("Removed from favorites", FavoriteView { telecaller_id: telecaller.0, is_favorite: false }))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertsRequest {
    /// Push me when she comes online.
    #[garde(skip)]
    pub enabled: bool,
}

/// Turn "tell me when she's online" on or off for a saved telecaller: when she comes online,
/// one push, at most once an hour (`ONLINE_ALERT_COOLDOWN_SECS`), never during a call.
#[utoipa::path(tag = "users", security(("bearer" = [])),
    params(("telecallerId" = Uuid, Path)), request_body = AlertsRequest, responses(
    (status = 200, body = Envelope<Object>),
    (status = 404, description = "Not in your favorites", body = ErrorBody),
))]
#[put("/users/favorites/{telecallerId}/alerts")]
pub(crate) async fn favorite_alerts(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<AccountId>,
    body: ValidJson<AlertsRequest>,
) -> Result<HttpResponse, ApiError> {
    let telecaller = path.into_inner();
    state.catalog.set_alerts(&user.0, telecaller, body.0.enabled).await?;
    Ok(ok(
        if body.0.enabled { "Alerts on" } else { "Alerts off" },
        serde_json::json!({ "telecallerId": telecaller.0, "alerts": body.0.enabled }),
    ))
}

super::rules::paged_query!(TelecallersQuery, limit 50, "1–50, default 15." {
    /// Only telecallers speaking this language.
    #[garde(skip)]
    #[param(inline)]
    language: Option<Language>,
    /// `presence` (default: ONLINE first, then the order they joined), `rating` (ONLINE first,
    /// then best rated) or `price` (ONLINE first, then cheapest audio price, then video).
    #[garde(skip)]
    #[param(inline)]
    sort: Option<ListOrder>,
    /// Only telecallers whose audio price in force (coins per second) is at most this.
    #[serde(rename = "maxRate")]
    #[bound(range(min = 1, max = 1_000_000))]
    max_rate: Option<i64>,
});

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TelecallersView {
    /// The telecallers (the earlier backend's name for this list).
    pub data: Vec<TelecallerCardView>,
    pub has_more: bool,
    /// Coins per second a user pays for an audio call.
    pub audio_call_charge: i64,
    /// Coins per second a user pays for a video call.
    pub video_call_charge: i64,
}

/// Approved, active telecallers who are online or on a call, ONLINE first. Page 1 fixes the order
/// the later pages follow (see docs/rest.md).
#[utoipa::path(tag = "users", security(("bearer" = [])), params(TelecallersQuery),
    responses((status = 200, body = Envelope<TelecallersView>), (status = 400, body = ErrorBody)))]
#[get("/users/telecallers")]
pub(crate) async fn telecallers(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: ValidQuery<TelecallersQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let page = TELECALLERS_PAGING.request(query.page, query.limit);
    let by = query.sort.unwrap_or(ListOrder::Presence);
    let filter = ListFilter { language: query.language, by, max_rate: query.max_rate };
    let found = state.catalog.online_telecallers(&user.0, page, filter).await?;
    Ok(ok(
        "Telecallers fetched successfully",
        TelecallersView {
            data: found.telecallers.into_iter().map(|t| TelecallerCardView::new(t, true)).collect(),
            has_more: found.has_more,
            audio_call_charge: found.audio_call_charge,
            video_call_charge: found.video_call_charge,
        },
    ))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RechargesView {
    pub transactions: Vec<crate::views::RechargeView>,
    pub has_more: bool,
    /// Her promotional grants (and refunds' promotional parts), newest first, paged alike.
    pub promotions: Vec<PromoLotView>,
    pub promotions_has_more: bool,
    /// The gifts she sent in calls and chats, newest first, paged alike.
    pub gifts: Vec<super::gifts::GiftSentView>,
    pub gifts_has_more: bool,
}

/// A lot of promotional coins: why it came, how many, what is left and when that expires.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PromoLotView {
    #[serde(rename = "_id")]
    pub id: uuid::Uuid,
    #[schema(inline)]
    pub cause: talktime_domain::promotion::LotCause,
    pub coins: i64,
    pub remaining: i64,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<talktime_domain::promotion::PromoLot> for PromoLotView {
    fn from(l: talktime_domain::promotion::PromoLot) -> Self {
        Self {
            id: l.id,
            cause: l.cause,
            coins: l.coins,
            remaining: l.remaining,
            expires_at: l.expires_at,
            created_at: l.created_at,
        }
    }
}

/// The user's recharges and promotional grants, newest first (limit 1–50, default 10).
#[utoipa::path(tag = "users", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Envelope<RechargesView>), (status = 400, body = ErrorBody)))]
#[get("/users/transactions")]
pub(crate) async fn transactions(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: ValidQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = Paging { default_limit: 10, max_limit: 50 }.request(query.0.page, query.0.limit);
    let found =
        state.wallet.own_transactions(&user.0, talktime_domain::transaction::TransactionKind::Recharge, page).await?;
    let (lots, promotions_has_more) = state.promotions.lots(user.0.id, page.limit(), page.offset()).await?;
    let (gifts, gifts_has_more) = state.gifts.of_account(&user.0, page.limit(), page.offset()).await?;
    Ok(ok(
        "Transactions fetched successfully",
        RechargesView {
            transactions: found.transactions.into_iter().map(crate::views::RechargeView::from).collect(),
            has_more: found.has_more,
            promotions: lots.into_iter().map(PromoLotView::from).collect(),
            promotions_has_more,
            gifts: gifts.into_iter().map(super::gifts::GiftSentView::from).collect(),
            gifts_has_more,
        },
    ))
}
