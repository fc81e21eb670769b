//! The notification inbox of a phone account (`/users/notifications`), the categories it
//! receives (`/users/notification-preferences`), and operators' broadcasts
//! (`/admin/broadcasts`).

use std::collections::{BTreeMap, HashMap};

use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use talktime_domain::notification::{Notification, NotificationCategory};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{CurrentAccount, CurrentAdmin, ValidJson, ValidQuery};
use crate::views::{Envelope, ok};
use talktime_domain::notification::{Audience, Broadcast};
use talktime_services::notifications::{BroadcastInput, BroadcastOutcome};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(inbox)
        .service(read)
        .service(preferences)
        .service(set_preferences)
        .service(send_broadcast)
        .service(broadcast);
}

/// One notification as it was pushed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    #[schema(inline)]
    pub category: NotificationCategory,
    /// The push's kind (`MISSED_CALL`, `ONLINE_ALERT`, …).
    pub kind: String,
    pub title: Option<String>,
    pub body: Option<String>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub read: bool,
    pub created_at: DateTime<Utc>,
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        Self {
            id: n.id,
            category: n.category,
            kind: n.kind,
            title: n.title,
            body: n.body,
            data: n.data,
            read: n.read_at.is_some(),
            created_at: n.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InboxView {
    pub notifications: Vec<NotificationView>,
    pub unread_count: i64,
    pub has_more: bool,
}

super::rules::paged_query!(InboxQuery, limit 50, "1–50, default 20." {});

/// Her notifications, newest first, and how many are unread.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(InboxQuery),
    responses((status = 200, body = Envelope<InboxView>), (status = 400, body = ErrorBody)))]
#[get("/users/notifications")]
pub(crate) async fn inbox(
    state: web::Data<AppState>,
    account: CurrentAccount,
    query: ValidQuery<InboxQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = super::rules::Paging { default_limit: 20, max_limit: 50 }.request(query.0.page, query.0.limit);
    let inbox = state.inbox.inbox(&account.0, page).await?;
    Ok(ok(
        "Notifications fetched successfully",
        InboxView {
            notifications: inbox.notifications.into_iter().map(NotificationView::from).collect(),
            unread_count: inbox.unread,
            has_more: inbox.has_more,
        },
    ))
}

/// `{ids}` (1–100 of hers) or `{all: true}`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    #[garde(length(min = 1, max = 100))]
    pub ids: Option<Vec<Uuid>>,
    #[garde(skip)]
    pub all: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadView {
    pub updated: u64,
    pub unread_count: i64,
}

/// Marks notifications read: the given ones, or all (400 with neither).
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = ReadRequest,
    responses((status = 200, body = Envelope<ReadView>), (status = 400, body = ErrorBody)))]
#[post("/users/notifications/read")]
pub(crate) async fn read(
    state: web::Data<AppState>,
    account: CurrentAccount,
    body: ValidJson<ReadRequest>,
) -> Result<HttpResponse, ApiError> {
    let ids = match (body.0.ids, body.0.all) {
        (Some(ids), None | Some(false)) => Some(ids),
        (None, Some(true)) => None,
        _ => return Err(ApiError::field("body", "give `ids` or `all: true`")),
    };
    let (updated, unread_count) = state.inbox.read(&account.0, ids.as_deref()).await?;
    Ok(ok("Notifications marked read", ReadView { updated, unread_count }))
}

/// `{categories: {missed_calls, online_alerts, wallet, announcements, offers}}`: whether each is
/// pushed and kept. Rings are not a category: they always ring.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreferencesView {
    #[schema(value_type = Object)]
    pub categories: BTreeMap<String, bool>,
}

fn preferences_view(prefs: Vec<(NotificationCategory, bool)>) -> PreferencesView {
    PreferencesView { categories: prefs.into_iter().map(|(c, on)| (c.as_str().to_owned(), on)).collect() }
}

#[utoipa::path(tag = "users", security(("bearer" = [])), responses((status = 200, body = Envelope<PreferencesView>)))]
#[get("/users/notification-preferences")]
pub(crate) async fn preferences(state: web::Data<AppState>, account: CurrentAccount) -> Result<HttpResponse, ApiError> {
    Ok(ok("Preferences fetched successfully", preferences_view(state.inbox.preferences(&account.0).await?)))
}

/// Some categories switched on (`true`) or off; the others stay.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesRequest {
    /// Category → on; categories: `missed_calls`, `online_alerts`, `wallet`, `announcements`,
    /// `offers`.
    #[garde(skip)]
    #[schema(value_type = Object)]
    pub categories: HashMap<NotificationCategory, bool>,
}

#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = PreferencesRequest,
    responses((status = 200, body = Envelope<PreferencesView>), (status = 400, body = ErrorBody)))]
#[put("/users/notification-preferences")]
pub(crate) async fn set_preferences(
    state: web::Data<AppState>,
    account: CurrentAccount,
    body: ValidJson<PreferencesRequest>,
) -> Result<HttpResponse, ApiError> {
    let changes: Vec<(NotificationCategory, bool)> = body.0.categories.into_iter().collect();
    if changes.is_empty() {
        return Err(ApiError::field("categories", "give at least one category"));
    }
    let prefs = state.inbox.set_preferences(&account.0, &changes).await?;
    Ok(ok("Preferences updated", preferences_view(prefs)))
}

/// Who a broadcast goes to: every active account of `role`, narrowed by each filter given.
#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AudienceRequest {
    /// `USER` or `TELECALLER`.
    #[garde(skip)]
    #[schema(inline)]
    pub role: talktime_domain::account::Role,
    #[garde(skip)]
    #[schema(inline)]
    pub language: Option<talktime_domain::account::Language>,
    /// Coins she can spend, at least.
    #[bound(range(min = 0, max = 1_000_000_000_000i64))]
    pub min_balance: Option<i64>,
    /// Opened the app (registered her device) or was in a call within this many days.
    #[bound(range(min = 0.0, max = 3650.0))]
    pub last_active_within_days: Option<f64>,
    /// Has (`true`) or has not (`false`) a captured recharge.
    #[garde(skip)]
    pub has_recharged: Option<bool>,
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BroadcastRequest {
    #[bound(trimmed(min = 1, max = 100))]
    pub title: String,
    #[bound(trimmed(min = 1, max = 500))]
    pub body: String,
    /// `announcements` or `offers`.
    #[garde(skip)]
    #[schema(inline)]
    pub category: NotificationCategory,
    #[garde(dive)]
    pub audience: AudienceRequest,
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DryRunQuery {
    /// `true`: only count the audience.
    #[garde(skip)]
    pub dry_run: Option<bool>,
}

/// A broadcast and what came of it: pushes `sent` and `failed`, inbox entries `opened` (read).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BroadcastView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub title: String,
    pub body: String,
    #[schema(inline)]
    pub category: NotificationCategory,
    #[schema(value_type = Object)]
    pub audience: serde_json::Value,
    pub targeted: i32,
    pub per_second: i32,
    pub sent: i64,
    pub failed: i64,
    pub opened: i64,
    pub created_at: DateTime<Utc>,
}

impl From<Broadcast> for BroadcastView {
    fn from(b: Broadcast) -> Self {
        Self {
            id: b.id,
            title: b.title,
            body: b.body,
            category: b.category,
            audience: b.audience,
            targeted: b.targeted,
            per_second: b.per_second,
            sent: b.sent,
            failed: b.failed,
            opened: b.opened,
            created_at: b.created_at,
        }
    }
}

/// Sends an announcement or offer to a segment (audited), released at `BROADCAST_PER_SECOND`
/// behind every ring; `?dryRun=true` answers `{targeted}` only.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])), params(DryRunQuery),
    request_body = BroadcastRequest, responses(
    (status = 200, body = Envelope<BroadcastView>),
    (status = 400, body = ErrorBody),
))]
#[post("/admin/broadcasts")]
pub(crate) async fn send_broadcast(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    query: ValidQuery<DryRunQuery>,
    body: ValidJson<BroadcastRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let a = &b.audience;
    let audience_json = serde_json::json!({ "role": a.role, "language": a.language, "minBalance": a.min_balance,
        "lastActiveWithinDays": a.last_active_within_days, "hasRecharged": a.has_recharged });
    let input = BroadcastInput {
        title: b.title.trim().to_owned(),
        body: b.body.trim().to_owned(),
        category: b.category,
        audience: Audience {
            role: a.role,
            language: a.language,
            min_balance: a.min_balance,
            last_active_within_days: a.last_active_within_days,
            has_recharged: a.has_recharged,
        },
        audience_json,
    };
    match state.inbox.broadcast(admin.0.id, &input, query.0.dry_run.unwrap_or(false)).await? {
        BroadcastOutcome::Preview { targeted } => {
            Ok(ok("Audience counted", serde_json::json!({ "targeted": targeted, "dryRun": true })))
        }
        BroadcastOutcome::Sent(sent) => Ok(ok("Broadcast queued", BroadcastView::from(sent))),
    }
}

/// A broadcast's figures (404 `broadcast_not_found`).
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Envelope<BroadcastView>), (status = 404, body = ErrorBody)))]
#[get("/admin/broadcasts/{id}")]
pub(crate) async fn broadcast(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        "Broadcast fetched successfully",
        BroadcastView::from(state.inbox.broadcast_figures(path.into_inner()).await?),
    ))
}
