//! Response shapes: the success envelope and the objects the clients read.

use actix_web::HttpResponse;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use talktime_domain::account::Account;
use utoipa::ToSchema;
use uuid::Uuid;

/// `{success: true, message, data}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Envelope<T> {
    pub success: bool,
    pub message: String,
    pub data: T,
}

/// 200 with the success envelope.
pub fn ok<T: Serialize>(message: impl Into<String>, data: T) -> HttpResponse {
    HttpResponse::Ok().json(Envelope { success: true, message: message.into(), data })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WalletView {
    pub balance: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TelecallerProfileView {
    pub about: String,
    #[schema(value_type = String, example = "PENDING")]
    pub approval_status: talktime_domain::account::ApprovalStatus,
    pub verification_notes: Option<String>,
}

/// The profile object of `/auth/verify` (`user`) and the profile endpoints.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub phone: String,
    pub name: Option<String>,
    /// Date of birth, `YYYY-MM-DD`.
    pub dob: Option<NaiveDate>,
    #[schema(value_type = Option<String>, example = "FEMALE")]
    pub gender: Option<talktime_domain::account::Gender>,
    /// Avatar `avatar-1` … `avatar-8`.
    #[schema(value_type = Option<String>, example = "avatar-3")]
    pub profile: Option<talktime_domain::account::Avatar>,
    #[schema(value_type = Option<String>, example = "hindi")]
    pub language: Option<talktime_domain::account::Language>,
    #[schema(value_type = String, example = "ACTIVE")]
    pub account_status: talktime_domain::account::AccountStatus,
    #[schema(value_type = String, example = "USER")]
    pub role: talktime_domain::account::Role,
    pub wallet: WalletView,
    pub created_at: DateTime<Utc>,
    /// Present for telecallers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telecaller_profile: Option<TelecallerProfileView>,
}

impl ProfileView {
    pub fn new(account: Account, balance: i64) -> Self {
        Self {
            id: account.id.0,
            phone: account.phone,
            name: account.name,
            dob: account.dob,
            gender: account.gender,
            profile: account.profile,
            language: account.language,
            account_status: account.status,
            role: account.role,
            wallet: WalletView { balance },
            created_at: account.created_at,
            telecaller_profile: account.telecaller.map(|t| TelecallerProfileView {
                about: t.about,
                approval_status: t.approval_status,
                verification_notes: t.verification_notes,
            }),
        }
    }
}
