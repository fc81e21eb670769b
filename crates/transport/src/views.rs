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

/// A coin plan as users see it. `amount` is in rupees.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    /// Price in rupees before the discount.
    pub amount: f64,
    pub coins: i64,
    pub discount_percentage: i32,
    pub created_at: DateTime<Utc>,
}

impl From<talktime_services::catalog::Plan> for PlanView {
    fn from(plan: talktime_services::catalog::Plan) -> Self {
        Self {
            id: plan.id.0,
            amount: talktime_domain::money::Paise(plan.amount_paise).as_rupees(),
            coins: plan.coins,
            discount_percentage: plan.discount_percentage,
            created_at: plan.created_at,
        }
    }
}

/// A telecaller in a user's listing.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TelecallerCardView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub name: Option<String>,
    #[schema(value_type = Option<String>, example = "avatar-2")]
    pub profile: Option<talktime_domain::account::Avatar>,
    #[schema(value_type = Option<String>, example = "hindi")]
    pub language: Option<talktime_domain::account::Language>,
    pub about: String,
    /// `ONLINE`, `ON_CALL` or `OFFLINE`, live.
    #[schema(value_type = String, example = "ONLINE")]
    pub presence: talktime_domain::account::Presence,
    /// In `/users/telecallers` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_favorite: Option<bool>,
}

impl TelecallerCardView {
    pub fn new(listed: talktime_services::catalog::ListedTelecaller, with_favorite: bool) -> Self {
        let card = listed.card;
        Self {
            id: card.id.0,
            name: card.name,
            profile: card.profile,
            language: card.language,
            about: card.about,
            presence: listed.presence,
            is_favorite: with_favorite.then_some(card.is_favorite),
        }
    }
}

/// Bank details as their owner sees them (full account number).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BankDetailsView {
    pub account_number: String,
    pub ifsc_code: String,
    pub account_holder_name: String,
}

impl From<talktime_domain::profile::BankDetails> for BankDetailsView {
    fn from(details: talktime_domain::profile::BankDetails) -> Self {
        Self {
            account_number: details.account_number,
            ifsc_code: details.ifsc_code,
            account_holder_name: details.account_holder_name,
        }
    }
}
