//! Gifts over REST (docs/chat.md#gifts): the catalogue users pick from, the operators' catalogue
//! (audited; a gift once sent is deactivated, never deleted), and the dashboard's gift figures.
//! Sending one is a socket event (`gift:send`).

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use talktime_domain::gift::Gift;
use talktime_domain::ids::GiftId;
use talktime_services::gifts::GiftInput;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::dashboard::DistributionQuery;
use super::rules::{ADMIN_PAGING, AdminPage};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{CurrentAdmin, CurrentUser, ValidJson, ValidQuery};
use crate::views::{Envelope, ok};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(catalogue)
        .service(admin_gifts)
        .service(create_gift)
        .service(update_gift)
        .service(remove_gift)
        .service(gift_figures);
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GiftView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub name: String,
    pub icon: String,
    pub coins: i64,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Gift> for GiftView {
    fn from(g: Gift) -> Self {
        Self {
            id: g.id.0,
            name: g.name,
            icon: g.icon,
            coins: g.coins,
            active: g.active,
            created_at: g.created_at,
            updated_at: g.updated_at,
        }
    }
}

/// A gift in her transactions: what the user paid (`coins`) and what the telecaller earned.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GiftSentView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub gift_id: Uuid,
    pub name: String,
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub telecaller_id: Uuid,
    pub coins: i64,
    pub earned: i64,
    pub created_at: DateTime<Utc>,
}

impl From<talktime_domain::gift::GiftSent> for GiftSentView {
    fn from(g: talktime_domain::gift::GiftSent) -> Self {
        Self {
            id: g.id.0,
            gift_id: g.gift_id.0,
            name: g.name,
            session_id: g.call_id.0,
            user_id: g.user_id.0,
            telecaller_id: g.telecaller_id.0,
            coins: g.coins,
            earned: g.earned,
            created_at: g.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GiftsView {
    pub gifts: Vec<GiftView>,
}

/// The gifts a user can send, cheapest first.
#[utoipa::path(tag = "gifts", security(("bearer" = [])), responses((status = 200, body = Envelope<GiftsView>)))]
#[get("/users/gifts")]
pub(crate) async fn catalogue(state: web::Data<AppState>, _user: CurrentUser) -> Result<HttpResponse, ApiError> {
    let gifts = state.gifts.catalogue().await?.into_iter().map(GiftView::from).collect();
    Ok(ok("Gifts fetched successfully", GiftsView { gifts }))
}

/// Every gift, newest first.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])), params(AdminPage),
    responses((status = 200, body = Envelope<Object>)))]
#[get("/admin/gifts")]
pub(crate) async fn admin_gifts(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    query: ValidQuery<AdminPage>,
) -> Result<HttpResponse, ApiError> {
    let page = ADMIN_PAGING.request(query.0.page, query.0.limit);
    let found = state.gifts.page(page).await?;
    let gifts: Vec<GiftView> = found.rows.into_iter().map(GiftView::from).collect();
    Ok(ok(
        "Gifts fetched successfully",
        json!({ "gifts": gifts, "total": found.total, "totalPages": page.total_pages(found.total) }),
    ))
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GiftRequest {
    /// 1–60 characters.
    #[bound(trimmed(min = 1, max = 60))]
    pub name: String,
    /// An image URL or an emoji, 1–500 characters.
    #[bound(trimmed(min = 1, max = 500))]
    pub icon: String,
    /// What the user pays, ≥ 1.
    #[bound(range(min = 1, max = 1_000_000_000))]
    pub coins: i64,
}

/// Add a gift (audited).
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])), request_body = GiftRequest,
    responses((status = 201, body = Envelope<GiftView>), (status = 400, body = ErrorBody)))]
#[post("/admin/gifts")]
pub(crate) async fn create_gift(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    body: ValidJson<GiftRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let gift = state.gifts.create(admin.0.id, b.name.trim(), b.icon.trim(), b.coins).await?;
    Ok(HttpResponse::Created().json(Envelope {
        success: true,
        message: "Gift created".into(),
        data: GiftView::from(gift),
    }))
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GiftEditRequest {
    #[bound(trimmed(min = 1, max = 60))]
    pub name: Option<String>,
    #[bound(trimmed(min = 1, max = 500))]
    pub icon: Option<String>,
    #[bound(range(min = 1, max = 1_000_000_000))]
    pub coins: Option<i64>,
    /// `false` stops offering it.
    #[garde(skip)]
    pub active: Option<bool>,
}

/// Edit a gift (audited); a new price applies to gifts sent afterwards.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = GiftEditRequest,
    responses((status = 200, body = Envelope<GiftView>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[patch("/admin/gifts/{id}")]
pub(crate) async fn update_gift(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<GiftId>,
    body: ValidJson<GiftEditRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let input = GiftInput {
        name: b.name.map(|n| n.trim().to_owned()),
        icon: b.icon.map(|i| i.trim().to_owned()),
        coins: b.coins,
        active: b.active,
    };
    let gift = state.gifts.update(admin.0.id, path.into_inner(), input).await?;
    Ok(ok("Gift updated", GiftView::from(gift)))
}

/// Remove a gift (audited): deleted if it was never sent, otherwise deactivated (the histories
/// name it). `data: {deleted}`.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Envelope<Object>), (status = 404, body = ErrorBody)))]
#[delete("/admin/gifts/{id}")]
pub(crate) async fn remove_gift(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<GiftId>,
) -> Result<HttpResponse, ApiError> {
    let deleted = state.gifts.remove(admin.0.id, path.into_inner()).await?;
    let message = if deleted { "Gift deleted" } else { "Gift deactivated (it was sent before)" };
    Ok(ok(message, json!({ "deleted": deleted })))
}

/// Gifts in the period (UTC days): coins spent on gifts, the platform's revenue from them, how
/// many were sent, and the ten top gifts by coins.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])), params(DistributionQuery),
    responses((status = 200, body = Envelope<Object>)))]
#[get("/admin/dashboard/gifts")]
pub(crate) async fn gift_figures(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    query: ValidQuery<DistributionQuery>,
) -> Result<HttpResponse, ApiError> {
    let period = query.0.period;
    let f = state.gifts.figures(period).await?;
    let top: Vec<_> = f
        .top
        .iter()
        .map(|t| json!({ "giftId": t.gift_id.0, "name": t.name, "sent": t.sent, "coins": t.coins }))
        .collect();
    Ok(ok(
        "Gift figures fetched successfully",
        json!({ "period": period, "coins": f.coins, "revenue": f.revenue, "sent": f.sent, "topGifts": top }),
    ))
}
