//! Tax: a buyer's billing details (`/users/billing`), her invoices
//! (`/users/transactions/{id}/invoice`), the operator's monthly GST export (`/admin/tax/gst`) and
//! quarterly TDS export (`/admin/tax/tds`), and a telecaller's yearly TDS statement
//! (`/telecaller/tax/statement`).

use actix_web::{HttpResponse, get, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use talktime_domain::ids::TransactionId;
use talktime_domain::tax::{Invoice, InvoiceSeries};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

#[path = "tax_pdf.rs"]
mod pdf;

use super::rules::double_option;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{CurrentAdmin, CurrentTelecaller, CurrentUser, ValidJson, ValidQuery};
use crate::views::{Envelope, TdsSplitView, ok};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_billing)
        .service(put_billing)
        .service(invoice)
        .service(gst_export)
        .service(tds_export)
        .service(tds_statement);
}

/// Her GST state code and, for a business, its GSTIN.
#[derive(Debug, Serialize, ToSchema)]
pub struct BillingView {
    pub state: Option<String>,
    pub gstin: Option<String>,
}

/// Her billing details (on her invoices: the state decides CGST + SGST or IGST).
#[utoipa::path(tag = "users", security(("bearer" = [])), responses((status = 200, body = Envelope<BillingView>)))]
#[get("/users/billing")]
pub(crate) async fn get_billing(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, ApiError> {
    let (billing_state, gstin) = state.tax.billing(&user.0).await?;
    Ok(ok("Billing details fetched successfully", BillingView { state: billing_state, gstin }))
}

/// Absent fields stay; `null` clears one.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BillingRequest {
    /// A GST state code, `01`–`38` (`29`: Karnataka).
    #[serde(default, deserialize_with = "double_option")]
    #[garde(skip)]
    #[schema(value_type = Option<String>, example = "29", pattern = "^[0-9]{2}$")]
    pub state: Option<Option<String>>,
    /// A business's GSTIN (15 characters).
    #[serde(default, deserialize_with = "double_option")]
    #[garde(skip)]
    #[schema(value_type = Option<String>, example = "29ABCDE1234F1Z5",
        pattern = "^[0-9]{2}[A-Za-z]{5}[0-9]{4}[A-Za-z][1-9A-Za-z][Zz][0-9A-Za-z]$")]
    pub gstin: Option<Option<String>>,
}

/// Set her billing state and GSTIN (checked); later invoices use them.
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = BillingRequest,
    responses((status = 200, body = Envelope<BillingView>), (status = 400, body = ErrorBody)))]
#[put("/users/billing")]
pub(crate) async fn put_billing(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: ValidJson<BillingRequest>,
) -> Result<HttpResponse, ApiError> {
    let (now_state, now_gstin) = state.tax.billing(&user.0).await?;
    let billing_state = body.0.state.unwrap_or(now_state).map(|s| s.trim().to_owned());
    let gstin = body.0.gstin.unwrap_or(now_gstin).map(|g| g.trim().to_uppercase());
    state.tax.set_billing(&user.0, billing_state.as_deref(), gstin.as_deref()).await?;
    Ok(ok("Billing details updated", BillingView { state: billing_state, gstin }))
}

/// An invoice: who sold, who bought, the taxable value and the GST split, in paise.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub transaction_id: Uuid,
    #[schema(inline)]
    pub series: InvoiceSeries,
    pub number: String,
    pub financial_year: String,
    pub issued_at: DateTime<Utc>,
    pub seller: SellerView,
    pub buyer: BuyerView,
    pub sac_code: String,
    /// GST percent.
    pub rate: f64,
    pub taxable: i64,
    pub cgst: i64,
    pub sgst: i64,
    pub igst: i64,
    pub total: i64,
    pub coins: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SellerView {
    pub legal_name: Option<String>,
    pub address: Option<String>,
    pub gstin: Option<String>,
    pub state: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BuyerView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub name: Option<String>,
    pub state: Option<String>,
    pub gstin: Option<String>,
}

impl From<Invoice> for InvoiceView {
    fn from(i: Invoice) -> Self {
        Self {
            id: i.id,
            transaction_id: i.transaction_id.0,
            series: i.series,
            number: i.number,
            financial_year: i.financial_year,
            issued_at: i.issued_at,
            seller: SellerView {
                legal_name: i.operator_legal_name,
                address: i.operator_address,
                gstin: i.operator_gstin,
                state: i.operator_state,
            },
            buyer: BuyerView { id: i.account_id.0, name: i.buyer_name, state: i.buyer_state, gstin: i.buyer_gstin },
            sac_code: i.sac_code,
            rate: f64::from(i.rate_hundredths) / 100.0,
            taxable: i.taxable_paise,
            cgst: i.cgst_paise,
            sgst: i.sgst_paise,
            igst: i.igst_paise,
            total: i.total_paise,
            coins: i.coins,
        }
    }
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InvoiceQuery {
    /// `pdf` (the default) or `json`.
    #[garde(skip)]
    #[param(inline)]
    pub format: Option<InvoiceFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InvoiceFormat {
    Json,
    Pdf,
}

/// The invoice of one of her captured recharges, as a PDF or (`format=json`) its data; 404
/// `invoice_not_found`.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = Uuid, Path), InvoiceQuery),
    responses((status = 200, description = "application/pdf, or with format=json the invoice's data",
        body = Envelope<InvoiceView>), (status = 404, body = ErrorBody)))]
#[get("/users/transactions/{id}/invoice")]
pub(crate) async fn invoice(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<TransactionId>,
    query: ValidQuery<InvoiceQuery>,
) -> Result<HttpResponse, ApiError> {
    let found = state.tax.invoice(&user.0, path.into_inner()).await?;
    match query.0.format.unwrap_or(InvoiceFormat::Pdf) {
        InvoiceFormat::Json => Ok(ok("Invoice fetched successfully", InvoiceView::from(found))),
        InvoiceFormat::Pdf => {
            let name = found.number.replace('/', "-");
            Ok(HttpResponse::Ok()
                .content_type("application/pdf")
                .insert_header(("Content-Disposition", format!("inline; filename=\"{name}.pdf\"")))
                .body(pdf::render(&found)))
        }
    }
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MonthQuery {
    /// `YYYY-MM` (IST calendar month).
    #[garde(length(chars, min = 7, max = 7))]
    #[param(example = "2026-11", pattern = "^[0-9]{4}-[0-9]{2}$")]
    pub month: String,
}

/// A money amount in rupees with two decimals (paise in, exact).
fn rupees(paise: i64) -> String {
    let sign = if paise < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", paise.abs() / 100, paise.abs() % 100)
}

/// One CSV field, quoted when it needs to be.
fn field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// The month's invoices and credit notes as CSV with the tax split (rupees), and a last `TOTAL`
/// row that is the sum of the rows. Credit notes count negatively.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])), params(MonthQuery),
    responses((status = 200, description = "text/csv", content_type = "text/csv", body = String), (status = 400, body = ErrorBody)))]
#[get("/admin/tax/gst")]
pub(crate) async fn gst_export(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    query: ValidQuery<MonthQuery>,
) -> Result<HttpResponse, ApiError> {
    let month = NaiveDate::parse_from_str(&format!("{}-01", query.0.month), "%Y-%m-%d")
        .map_err(|_| ApiError::field("month", "must be YYYY-MM"))?;
    let records = state.tax.month(month).await?;
    let mut csv = String::from(
        "number,series,issued_at,buyer_id,buyer_name,buyer_state,buyer_gstin,sac,rate_percent,taxable,cgst,sgst,igst,total\n",
    );
    let mut sums = [0i64; 5];
    for r in &records {
        let sign = if r.series == InvoiceSeries::CreditNote { -1 } else { 1 };
        let figures = [r.taxable_paise, r.cgst_paise, r.sgst_paise, r.igst_paise, r.total_paise].map(|p| p * sign);
        for (sum, value) in sums.iter_mut().zip(figures) {
            *sum += value;
        }
        let cells = [
            field(&r.number),
            r.series.to_string(),
            r.issued_at.to_rfc3339(),
            r.account_id.to_string(),
            field(r.buyer_name.as_deref().unwrap_or_default()),
            r.buyer_state.clone().unwrap_or_default(),
            r.buyer_gstin.clone().unwrap_or_default(),
            field(&r.sac_code),
            format!("{:.2}", f64::from(r.rate_hundredths) / 100.0),
        ];
        csv.push_str(&cells.join(","));
        for value in figures {
            csv.push(',');
            csv.push_str(&rupees(value));
        }
        csv.push('\n');
    }
    csv.push_str("TOTAL,,,,,,,,");
    for value in sums {
        csv.push(',');
        csv.push_str(&rupees(value));
    }
    csv.push('\n');
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"gst-{}.csv\"", query.0.month)))
        .body(csv))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QuarterQuery {
    /// `YYYY-Qn`: quarter n of the financial year that starts in April of YYYY (`2026-Q3` is
    /// October to December 2026), as TDS returns count quarters.
    #[garde(length(chars, min = 7, max = 7))]
    #[param(example = "2026-Q3", pattern = "^[0-9]{4}-Q[1-4]$")]
    pub quarter: String,
}

/// The quarter's TDS as CSV: one row per deductee and section (PAN, name, paid, withheld, the
/// payment dates), rupees, and a last `TOTAL` row that is the sum of the rows.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])), params(QuarterQuery),
    responses((status = 200, description = "text/csv", content_type = "text/csv", body = String), (status = 400, body = ErrorBody)))]
#[get("/admin/tax/tds")]
pub(crate) async fn tds_export(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    query: ValidQuery<QuarterQuery>,
) -> Result<HttpResponse, ApiError> {
    let rows = state.tax.tds_quarter(&query.0.quarter).await?;
    let mut csv = String::from("telecaller_id,pan,name,section,payments,paid,withheld,dates\n");
    let (mut paid, mut withheld, mut payments) = (0, 0, 0);
    for r in &rows {
        paid += r.paid_paise;
        withheld += r.withheld_paise;
        payments += r.dates.len();
        let dates: Vec<String> = r.dates.iter().map(|d| d.to_rfc3339()).collect();
        let cells = [
            r.telecaller.to_string(),
            field(r.pan.as_deref().unwrap_or("PANNOTAVBL")),
            field(r.name.as_deref().unwrap_or_default()),
            field(&r.section),
            r.dates.len().to_string(),
            rupees(r.paid_paise),
            rupees(r.withheld_paise),
            dates.join(";"),
        ];
        csv.push_str(&cells.join(","));
        csv.push('\n');
    }
    csv.push_str(&format!("TOTAL,,,,{payments},{},{},\n", rupees(paid), rupees(withheld)));
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"tds-{}.csv\"", query.0.quarter)))
        .body(csv))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct YearQuery {
    /// A financial year, `2026-27` (April 2026 to March 2027).
    #[garde(length(chars, min = 7, max = 7))]
    #[param(example = "2026-27", pattern = "^[0-9]{4}-[0-9]{2}$")]
    pub year: String,
}

/// One paid withdrawal in her statement.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatementPayoutView {
    pub withdrawal_id: Uuid,
    pub paid_at: Option<DateTime<Utc>>,
    pub coins: i64,
    #[serde(flatten)]
    pub split: TdsSplitView,
}

/// `{gross, tds, net}` rupees.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementTotalsView {
    pub gross: f64,
    pub tds: f64,
    pub net: f64,
}

/// Her TDS statement of a financial year.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TdsStatementView {
    pub financial_year: String,
    /// Her KYC status, and her PAN masked.
    #[schema(inline)]
    pub kyc_status: talktime_domain::kyc::KycStatus,
    pub pan: Option<String>,
    pub payouts: Vec<StatementPayoutView>,
    pub totals: StatementTotalsView,
}

/// Her paid withdrawals in a financial year with the TDS withheld on each, and the totals.
#[utoipa::path(tag = "telecaller", security(("bearer" = [])), params(YearQuery),
    responses((status = 200, body = Envelope<TdsStatementView>), (status = 400, body = ErrorBody)))]
#[get("/telecaller/tax/statement")]
pub(crate) async fn tds_statement(
    state: web::Data<AppState>,
    telecaller: CurrentTelecaller,
    query: ValidQuery<YearQuery>,
) -> Result<HttpResponse, ApiError> {
    let statement = state.tax.tds_statement(&telecaller.0, &query.0.year).await?;
    let sum = |f: fn(&talktime_domain::transaction::Transaction) -> i64| {
        talktime_domain::money::Paise(statement.payouts.iter().map(f).sum()).as_rupees()
    };
    let totals = StatementTotalsView {
        gross: sum(|w| w.amount_paise),
        tds: sum(|w| w.tds_paise),
        net: sum(talktime_domain::transaction::Transaction::net_paise),
    };
    let payouts = statement
        .payouts
        .iter()
        .map(|w| StatementPayoutView {
            withdrawal_id: w.id.0,
            paid_at: w.processed_at,
            coins: w.coins,
            split: TdsSplitView::from(w),
        })
        .collect();
    Ok(ok(
        "Statement fetched successfully",
        TdsStatementView {
            financial_year: statement.financial_year,
            kyc_status: statement.kyc,
            pan: statement.pan,
            payouts,
            totals,
        },
    ))
}
