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

/// `balance`: what the account can spend (paid and promotional coins); `balances`: by source.
#[derive(Debug, Serialize, ToSchema)]
pub struct WalletView {
    pub balance: i64,
    pub balances: BalancesView,
}

/// Coins by source: `paid` (bought or earned), `promo` (granted, spent first), `owed` (after a
/// lost chargeback: her next recharges pay it first, and she cannot call while she owes), and
/// when the promotional ones expire, soonest first. `balance` = paid + promo − owed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BalancesView {
    pub paid: i64,
    pub promo: i64,
    pub owed: i64,
    pub promo_expiring: Vec<ExpiringView>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExpiringView {
    pub coins: i64,
    pub expires_at: DateTime<Utc>,
}

impl From<&talktime_domain::promotion::Balances> for WalletView {
    fn from(b: &talktime_domain::promotion::Balances) -> Self {
        Self {
            balance: b.total(),
            balances: BalancesView {
                paid: b.paid,
                promo: b.promo,
                owed: b.owed,
                promo_expiring: b
                    .promo_expiring
                    .iter()
                    .map(|e| ExpiringView { coins: e.coins, expires_at: e.expires_at })
                    .collect(),
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TelecallerProfileView {
    pub about: String,
    #[schema(inline, example = "PENDING")]
    pub approval_status: talktime_domain::account::ApprovalStatus,
    pub verification_notes: Option<String>,
    /// Whether she may be rung through a push while her app has no connection (she is AWAY
    /// then); `PUT /telecaller/availability`.
    pub reachable_by_push: bool,
    /// Her prices in force, coins per second (her own, or the platform's default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rates: Option<talktime_domain::pricing::RatesInForce>,
    /// Admin details only: `ONLINE`, `ON_CALL`, `AWAY` or `OFFLINE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence: Option<String>,
    /// Admin details only: bank details with the account number masked, or `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_details: Option<Option<BankDetailsView>>,
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
    #[schema(inline, example = "FEMALE")]
    pub gender: Option<talktime_domain::account::Gender>,
    /// Avatar `avatar-1` … `avatar-8`.
    #[schema(inline, example = "avatar-3")]
    pub profile: Option<talktime_domain::account::Avatar>,
    #[schema(inline, example = "hindi")]
    pub language: Option<talktime_domain::account::Language>,
    #[schema(inline, example = "ACTIVE")]
    pub account_status: talktime_domain::account::AccountStatus,
    #[schema(inline, example = "USER")]
    pub role: talktime_domain::account::Role,
    pub wallet: WalletView,
    /// What another user gives to say this account referred her.
    pub referral_code: String,
    pub created_at: DateTime<Utc>,
    /// Present for telecallers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telecaller_profile: Option<TelecallerProfileView>,
}

/// 200 with the account's profile object (its wallet balance read now) as `data`.
pub async fn profile_reply(
    state: &crate::AppState,
    message: &str,
    account: Account,
) -> Result<HttpResponse, crate::error::ApiError> {
    let figures = state.accounts.figures(&account).await?;
    Ok(ok(message, ProfileView::new(account, &figures)))
}

impl ProfileView {
    pub fn new(account: Account, figures: &talktime_services::accounts::ProfileFigures) -> Self {
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
            wallet: WalletView::from(&figures.balances),
            referral_code: account.referral_code,
            created_at: account.created_at,
            telecaller_profile: account.telecaller.map(|t| TelecallerProfileView {
                about: t.about,
                approval_status: t.approval_status,
                verification_notes: t.verification_notes,
                reachable_by_push: t.reachable_by_push,
                rates: figures.rates,
                presence: None,
                bank_details: None,
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
    /// Percent, up to two decimals (12.5).
    #[schema(value_type = f64)]
    pub discount_percentage: serde_json::Number,
    pub created_at: DateTime<Utc>,
}

impl From<talktime_domain::plan::Plan> for PlanView {
    fn from(plan: talktime_domain::plan::Plan) -> Self {
        Self {
            id: plan.id.0,
            amount: talktime_domain::money::Paise(plan.amount_paise).as_rupees(),
            coins: plan.coins,
            discount_percentage: percent(plan.discount_hundredths),
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
    #[schema(inline, example = "avatar-2")]
    pub profile: Option<talktime_domain::account::Avatar>,
    #[schema(inline, example = "hindi")]
    pub language: Option<talktime_domain::account::Language>,
    pub about: String,
    /// `ONLINE`, `ON_CALL`, `AWAY` or `OFFLINE`, live.
    #[schema(inline, example = "ONLINE")]
    pub presence: talktime_domain::account::Presence,
    /// In `/users/telecallers` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_favorite: Option<bool>,
    /// In `/users/favorites` only: whether a push comes when she is online.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alerts: Option<bool>,
    pub rating: RatingView,
    /// Her prices in force, coins per second (her own, or the platform's default).
    pub rates: talktime_domain::pricing::RatesInForce,
}

/// Users' ratings of her calls: `average` (smoothed toward the platform's mean until she has 10;
/// `null` before the first) and how many there are.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct RatingView {
    pub average: Option<f64>,
    pub count: i64,
}

impl From<talktime_domain::rating::RatingTally> for RatingView {
    fn from(tally: talktime_domain::rating::RatingTally) -> Self {
        Self { average: tally.average(), count: tally.count }
    }
}

impl TelecallerCardView {
    pub fn new(listed: talktime_services::catalog::ListedTelecaller, with_favorite: bool) -> Self {
        let card = &*listed.card;
        Self {
            id: card.id.0,
            name: card.name.clone(),
            profile: card.profile,
            language: card.language,
            about: card.about.clone(),
            presence: listed.presence,
            is_favorite: with_favorite.then_some(listed.is_favorite),
            alerts: listed.alerts,
            rating: card.rating.into(),
            rates: listed.rates,
        }
    }
}

/// Bank details as their owner sees them (full account number).
#[derive(Debug, Clone, Serialize, ToSchema)]
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

/// What every transaction view shows: `amount` in rupees (the price of a recharge, what a
/// withdrawal owes).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionCoreView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    #[serde(rename = "type")]
    #[schema(inline)]
    pub kind: talktime_domain::transaction::TransactionKind,
    pub amount: f64,
    pub coins: i64,
    #[schema(inline)]
    pub status: talktime_domain::transaction::TransactionStatus,
    pub created_at: DateTime<Utc>,
}

impl From<&talktime_domain::transaction::Transaction> for TransactionCoreView {
    fn from(t: &talktime_domain::transaction::Transaction) -> Self {
        Self {
            id: t.id.0,
            kind: t.r#type,
            amount: talktime_domain::money::Paise(t.amount_paise).as_rupees(),
            coins: t.coins,
            status: t.status,
            created_at: t.created_at,
        }
    }
}

/// The payment gateway's order and payment of a recharge.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GatewayView {
    pub gateway_order_id: Option<String>,
    pub gateway_payment_id: Option<String>,
}

/// How an admin settled a withdrawal.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProcessingView {
    pub transfer_reference: Option<String>,
    pub rejection_reason: Option<String>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// A user's recharge.
#[derive(Debug, Serialize, ToSchema)]
pub struct RechargeView {
    #[serde(flatten)]
    pub core: TransactionCoreView,
    #[serde(flatten)]
    pub gateway: GatewayView,
}

impl From<talktime_domain::transaction::Transaction> for RechargeView {
    fn from(t: talktime_domain::transaction::Transaction) -> Self {
        Self {
            core: TransactionCoreView::from(&t),
            gateway: GatewayView { gateway_order_id: t.gateway_order_id, gateway_payment_id: t.gateway_payment_id },
        }
    }
}

/// Bank details copied onto a withdrawal; the account number is masked except for admins
/// looking at one withdrawal.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WithdrawalBankView {
    pub account_number: String,
    pub ifsc_code: String,
    pub account_holder_name: String,
}

/// A withdrawal's rupees (docs/tax.md): `gross` (its `amount`), the `tds` withheld, the `net`
/// she receives, and the TDS rate (percent) and section.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TdsSplitView {
    pub gross: f64,
    pub tds: f64,
    pub net: f64,
    #[schema(value_type = Option<f64>)]
    pub tds_rate: Option<serde_json::Number>,
    pub tds_section: Option<String>,
}

impl From<&talktime_domain::transaction::Transaction> for TdsSplitView {
    fn from(t: &talktime_domain::transaction::Transaction) -> Self {
        use talktime_domain::money::Paise;
        Self {
            gross: Paise(t.amount_paise).as_rupees(),
            tds: Paise(t.tds_paise).as_rupees(),
            net: Paise(t.net_paise()).as_rupees(),
            tds_rate: t.tds_rate_hundredths.map(percent),
            tds_section: t.tds_section.clone(),
        }
    }
}

/// A telecaller's withdrawal.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WithdrawalView {
    #[serde(flatten)]
    pub core: TransactionCoreView,
    #[serde(flatten)]
    pub tds: TdsSplitView,
    pub bank_details: Option<WithdrawalBankView>,
    #[serde(flatten)]
    pub processing: ProcessingView,
}

fn bank_view(t: &talktime_domain::transaction::Transaction, full_number: Option<String>) -> Option<WithdrawalBankView> {
    let last4 = t.bank_account_last4.clone()?;
    let length = usize::try_from(t.bank_account_len.unwrap_or(0)).unwrap_or(0);
    Some(WithdrawalBankView {
        account_number: full_number.unwrap_or_else(|| talktime_domain::profile::mask_account_number(length, &last4)),
        ifsc_code: t.bank_ifsc_code.clone().unwrap_or_default(),
        account_holder_name: t.bank_holder_name.clone().unwrap_or_default(),
    })
}

impl From<talktime_domain::transaction::Transaction> for WithdrawalView {
    fn from(t: talktime_domain::transaction::Transaction) -> Self {
        Self {
            core: TransactionCoreView::from(&t),
            tds: TdsSplitView::from(&t),
            bank_details: bank_view(&t, None),
            processing: ProcessingView::from(t),
        }
    }
}

impl From<talktime_domain::transaction::Transaction> for ProcessingView {
    fn from(t: talktime_domain::transaction::Transaction) -> Self {
        Self {
            transfer_reference: t.transfer_reference,
            rejection_reason: t.rejection_reason,
            processed_at: t.processed_at,
        }
    }
}

/// Any transaction as admins see it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminTransactionView {
    #[serde(flatten)]
    pub core: TransactionCoreView,
    pub account_id: Uuid,
    /// The owner: `{_id, name}` in lists, with `phone` and `walletBalance` in the details.
    pub user: TransactionOwnerView,
    pub plan_id: Option<Uuid>,
    #[serde(flatten)]
    pub gateway: GatewayView,
    pub bank_details: Option<WithdrawalBankView>,
    /// A withdrawal's gross, TDS and net (absent for a recharge).
    #[serde(flatten)]
    pub tds: Option<TdsSplitView>,
    /// A withdrawal paid through the payout provider: its payout id and mode, and the
    /// provider's last refusal (it is asked again).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payout: Option<PayoutView>,
    #[serde(flatten)]
    pub processing: ProcessingView,
    pub processed_by: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PayoutView {
    pub payout_id: Option<String>,
    pub mode: Option<String>,
    pub error: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
}

/// Who a transaction belongs to.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionOwnerView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wallet_balance: Option<i64>,
}

impl TransactionOwnerView {
    pub fn named(id: Uuid, name: Option<String>) -> Self {
        Self { id, name, phone: None, wallet_balance: None }
    }
}

impl AdminTransactionView {
    /// `full_number`: the decrypted account number, for the single-withdrawal view.
    pub fn new(
        t: talktime_domain::transaction::Transaction,
        full_number: Option<String>,
        user: TransactionOwnerView,
    ) -> Self {
        Self {
            core: TransactionCoreView::from(&t),
            account_id: t.account_id.0,
            user,
            plan_id: t.plan_id.map(|p| p.0),
            gateway: GatewayView {
                gateway_order_id: t.gateway_order_id.clone(),
                gateway_payment_id: t.gateway_payment_id.clone(),
            },
            bank_details: bank_view(&t, full_number),
            tds: (t.r#type == talktime_domain::transaction::TransactionKind::Withdrawal)
                .then(|| TdsSplitView::from(&t)),
            payout: t.approved_at.map(|approved_at| PayoutView {
                payout_id: t.payout_id.clone(),
                mode: t.payout_mode.clone(),
                error: t.payout_error.clone(),
                approved_at: Some(approved_at),
            }),
            processed_by: t.processed_by.map(|a| a.0),
            updated_at: t.updated_at,
            processing: ProcessingView::from(t),
        }
    }
}

/// The name admins see for an account: "Deleted User" once it was deleted (its name erased).
pub fn shown_name(name: Option<String>, account_status: talktime_domain::account::AccountStatus) -> Option<String> {
    if account_status == talktime_domain::account::AccountStatus::Deleted {
        Some(DELETED_USER.to_owned())
    } else {
        name
    }
}

/// How a deleted account is named wherever it still appears (reports, complaints, calls).
pub const DELETED_USER: &str = "Deleted User";

/// A percentage kept in hundredths, as JSON: `10` for a whole one (as the earlier backend sent
/// it), `12.5` otherwise.
pub fn percent(hundredths: i32) -> serde_json::Number {
    if hundredths % 100 == 0 {
        serde_json::Number::from(hundredths / 100)
    } else {
        serde_json::Number::from_f64(talktime_domain::money::from_hundredths(hundredths.into()))
            .unwrap_or_else(|| serde_json::Number::from(0))
    }
}
