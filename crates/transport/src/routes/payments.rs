//! `/payment`: recharges through the gateway and telecaller withdrawals.

use actix_web::{HttpRequest, HttpResponse, post, web};
use garde::Validate;
use serde::{Deserialize, Serialize};
use talktime_domain::ids::PlanId;
use utoipa::ToSchema;
use uuid::Uuid;

use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{CurrentTelecaller, CurrentUser, ValidJson};
use crate::views::{Envelope, WithdrawalView, ok};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_order).service(verify).service(webhook).service(withdraw).service(sandbox_pay);
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateOrderRequest {
    #[garde(skip)]
    #[schema(inline)]
    pub plan_id: PlanId,
    /// A coupon to apply (`POST /users/coupons/check` previews it); 400 `coupon_invalid` with
    /// `reason` when it does not apply.
    #[bound(trimmed(min = 1, max = 32))]
    pub coupon_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    pub order_id: String,
    /// Price to pay, in paise.
    pub amount: i64,
    pub currency: &'static str,
    pub plan_id: Uuid,
    pub coins: i64,
    pub razorpay_key_id: String,
    /// The coupon applied: its code, the discount (paise) and the promotional coins it brings at
    /// capture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coupon: Option<OrderCouponView>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderCouponView {
    pub code: String,
    pub discount: i64,
    pub bonus_coins: i64,
}

/// Create a gateway order for a plan (2 per minute).
#[utoipa::path(tag = "payments", security(("bearer" = [])),
    request_body = CreateOrderRequest, responses(
    (status = 200, body = Envelope<OrderView>),
    (status = 400, description = "`coupon_invalid` (with `reason`)", body = ErrorBody),
    (status = 404, description = "No such active plan", body = ErrorBody),
    (status = 429, body = ErrorBody),
    (status = 502, description = "Gateway failed", body = ErrorBody),
))]
#[post("/payment/create-order")]
pub(crate) async fn create_order(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: ValidJson<CreateOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let order = state.payments.create_order(&user.0, body.plan_id, body.coupon_code.as_deref()).await?;
    Ok(ok(
        "Order created successfully",
        OrderView {
            order_id: order.order_id,
            amount: order.amount.0,
            currency: "INR",
            plan_id: order.plan_id.0,
            coins: order.coins,
            razorpay_key_id: order.key_id,
            coupon: order.coupon.map(|c| OrderCouponView {
                code: c.code,
                discount: c.discount.0,
                bonus_coins: c.bonus_coins,
            }),
        },
    ))
}

/// Razorpay Checkout's answer, or a cancellation.
#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyPaymentRequest {
    #[bound(chars(min = 1, max = 100))]
    pub razorpay_order_id: String,
    #[bound(chars(min = 1, max = 100))]
    pub razorpay_payment_id: Option<String>,
    #[bound(chars(min = 1, max = 200))]
    pub razorpay_signature: Option<String>,
    #[garde(skip)]
    pub cancelled: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentResultView {
    pub transaction_id: Uuid,
    pub order_id: String,
    #[schema(inline)]
    pub status: talktime_domain::transaction::TransactionStatus,
    pub coins: i64,
    /// Rupees paid.
    pub amount: f64,
    /// The wallet balance after crediting (the earlier backend's name).
    pub new_balance: i64,
    /// The same as `newBalance`.
    pub balance: i64,
}

impl PaymentResultView {
    fn new(recharge: talktime_domain::transaction::Transaction, order_id: String, balance: i64) -> Self {
        Self {
            transaction_id: recharge.id.0,
            order_id,
            status: recharge.status,
            coins: recharge.coins,
            amount: talktime_domain::money::Paise(recharge.amount_paise).as_rupees(),
            new_balance: balance,
            balance,
        }
    }
}

/// Verify a Checkout payment and credit the coins once (a repeat answers the same success), or
/// mark the order cancelled (`cancelled: true`, answered with `success: false`). 5 per minute.
#[utoipa::path(tag = "payments", security(("bearer" = [])),
    request_body = VerifyPaymentRequest, responses(
    (status = 200, body = Envelope<PaymentResultView>),
    (status = 400, description = "Bad signature (the order stays PENDING)", body = ErrorBody),
    (status = 404, description = "Not your order", body = ErrorBody),
    (status = 429, body = ErrorBody),
))]
#[post("/payment/verify")]
pub(crate) async fn verify(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: ValidJson<VerifyPaymentRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let balance = |state: web::Data<AppState>, id| async move { state.accounts.balance(id).await };
    if body.cancelled == Some(true) {
        let recharge = state.payments.cancel(&user.0, &body.razorpay_order_id).await?;
        let paid = recharge.status == talktime_domain::transaction::TransactionStatus::Success;
        let view = PaymentResultView::new(recharge, body.razorpay_order_id, balance(state.clone(), user.0.id).await?);
        let message = if paid { "Payment already completed" } else { "Payment cancelled" };
        return Ok(HttpResponse::Ok().json(Envelope { success: paid, message: message.to_owned(), data: view }));
    }
    let (Some(payment_id), Some(signature)) = (body.razorpay_payment_id, body.razorpay_signature) else {
        return Err(ApiError::field(
            "razorpay_signature",
            "razorpay_payment_id and razorpay_signature are required unless cancelled is true",
        ));
    };
    let credited = state.payments.verify(&user.0, &body.razorpay_order_id, &payment_id, &signature).await?;
    let balance = balance(state.clone(), user.0.id).await?;
    Ok(ok("Payment verified successfully", PaymentResultView::new(credited.recharge, body.razorpay_order_id, balance)))
}

/// Razorpay webhooks (`payment.captured`, `order.paid`, `payment.failed`), signed with the
/// webhook secret over the raw body; redeliveries are acknowledged and ignored.
#[utoipa::path(tag = "payments", request_body = String, responses(
    (status = 200, body = Envelope<Option<String>>),
    (status = 400, description = "Bad signature", body = ErrorBody),
))]
#[post("/payment/webhook")]
pub(crate) async fn webhook(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let signature = req.headers().get("x-razorpay-signature").and_then(|v| v.to_str().ok());
    let outcome = state.payments.webhook(&body, signature).await?;
    Ok(ok(format!("{outcome:?}").to_lowercase(), Option::<String>::None))
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawRequest {
    /// Whole coins, at least the minimum withdrawal and at most the balance.
    #[bound(range(min = 1))]
    pub coins: i64,
}

/// The withdrawal just requested, with the earlier backend's names beside it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WithdrawalRequestedView {
    /// The same as `_id`.
    pub transaction_id: Uuid,
    #[serde(flatten)]
    pub withdrawal: WithdrawalView,
    /// The wallet balance after the hold.
    pub current_balance: i64,
}

/// Ask to withdraw coins to the saved bank account; the coins are held at once. 3 per hour.
#[utoipa::path(tag = "payments", security(("bearer" = [])),
    request_body = WithdrawRequest, responses(
    (status = 200, body = Envelope<WithdrawalRequestedView>),
    (status = 400, description = "Below minimum, above balance, or no bank details", body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 409, description = "A withdrawal is already pending", body = ErrorBody),
    (status = 429, description = "More than 3 requests in an hour", body = ErrorBody),
))]
#[post("/payment/withdraw")]
pub(crate) async fn withdraw(
    state: web::Data<AppState>,
    telecaller: CurrentTelecaller,
    body: ValidJson<WithdrawRequest>,
) -> Result<HttpResponse, ApiError> {
    let held = state.wallet.withdraw(&telecaller.0, body.0.coins).await?;
    Ok(ok(
        "Withdrawal requested successfully",
        WithdrawalRequestedView {
            transaction_id: held.withdrawal.id.0,
            current_balance: held.balance,
            withdrawal: WithdrawalView::from(held.withdrawal),
        },
    ))
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SandboxPayRequest {
    #[bound(chars(min = 1, max = 100))]
    pub order_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SandboxPaymentView {
    pub razorpay_order_id: String,
    pub razorpay_payment_id: String,
    pub razorpay_signature: String,
}

/// Development only (`PAYMENT_GATEWAY=sandbox`; 404 otherwise): pays an own order and returns
/// what Razorpay Checkout would, to pass to `/payment/verify`.
#[utoipa::path(tag = "payments", security(("bearer" = [])),
    request_body = SandboxPayRequest, responses(
    (status = 200, body = Envelope<SandboxPaymentView>),
    (status = 404, body = ErrorBody),
))]
#[post("/payment/sandbox/pay")]
pub(crate) async fn sandbox_pay(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: ValidJson<SandboxPayRequest>,
) -> Result<HttpResponse, ApiError> {
    let (order, payment, signature) = state.payments.sandbox_pay(&user.0, &body.0.order_id).await?;
    Ok(ok(
        "Sandbox payment made",
        SandboxPaymentView { razorpay_order_id: order, razorpay_payment_id: payment, razorpay_signature: signature },
    ))
}
