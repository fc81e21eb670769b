//! Tax: GST on recharges and TDS on payouts. Each captured recharge gets its invoice in the
//! capture's transaction (numbers from a gap-free sequence per financial year); buyers give a
//! billing state and GSTIN; operators export a month's GST records and a quarter's TDS;
//! telecallers read their year's statement (docs/tax.md).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use std::collections::HashMap;
use talktime_domain::account::Account;
use talktime_domain::ids::{AccountId, TransactionId};
use talktime_domain::kyc::{HostKyc, KycStatus};
use talktime_domain::pricing::AppConfig;
use talktime_domain::tax::{self as gst, GstMode, Invoice, InvoiceSeries};
use talktime_domain::transaction::Transaction;
use talktime_repository::tax::{self as records, NewInvoice};
use talktime_repository::{Db, Tx, kyc, transactions};

use crate::ServiceError;
use crate::secrets::OwnerCipher;

/// Issues the invoice of a recharge captured in `tx`: its taxable value as fixed by the order
/// (or, for an order from before, as the price including GST at today's rate), the GST split by
/// the buyer's billing state against the operator's.
pub async fn invoice_capture(
    tx: &mut Tx,
    config: &AppConfig,
    recharge: TransactionId,
) -> Result<Invoice, ServiceError> {
    let sale = records::sale(&mut **tx, recharge)
        .await?
        .ok_or_else(|| ServiceError::not_found("order_not_found", "Order not found"))?;
    let rate = sale.rate_hundredths.unwrap_or(config.gst_rate_hundredths);
    let taxable = sale.taxable_paise.unwrap_or_else(|| gst::charge(sale.total_paise, rate, GstMode::Inclusive).taxable);
    let split = gst::split(sale.total_paise - taxable, config.operator_state.as_deref(), sale.buyer_state.as_deref());
    let year = gst::financial_year(Utc::now());
    let invoice = NewInvoice {
        transaction: recharge,
        series: InvoiceSeries::Invoice,
        financial_year: &year,
        prefix: &config.invoice_prefix,
        sale: &sale,
        operator_gstin: config.operator_gstin.as_deref(),
        operator_state: config.operator_state.as_deref(),
        operator_legal_name: config.operator_legal_name.as_deref(),
        operator_address: config.operator_address.as_deref(),
        sac_code: &config.sac_code,
        rate_hundredths: rate,
        taxable_paise: taxable,
        cgst_paise: split.cgst,
        sgst_paise: split.sgst,
        igst_paise: split.igst,
    };
    Ok(records::issue(tx, &invoice).await?)
}

/// The credit note of a recharge whose payment was taken back (a lost chargeback): the
/// invoice's figures, numbered from the credit notes' own sequence; `None` when the recharge had
/// no invoice (captured before GST was recorded) or already has its credit note.
pub async fn credit_note(
    tx: &mut Tx,
    config: &AppConfig,
    recharge: &Transaction,
) -> Result<Option<Invoice>, ServiceError> {
    let owner = recharge.account_id;
    let Some(invoice) = records::find(&mut **tx, recharge.id, InvoiceSeries::Invoice, owner).await? else {
        return Ok(None);
    };
    if records::find(&mut **tx, recharge.id, InvoiceSeries::CreditNote, owner).await?.is_some() {
        return Ok(None);
    }
    let sale = records::Sale {
        account: owner,
        total_paise: invoice.total_paise,
        taxable_paise: Some(invoice.taxable_paise),
        rate_hundredths: Some(invoice.rate_hundredths),
        coins: invoice.coins,
        buyer_name: invoice.buyer_name.clone(),
        buyer_state: invoice.buyer_state.clone(),
        buyer_gstin: invoice.buyer_gstin.clone(),
    };
    let year = gst::financial_year(Utc::now());
    let note = NewInvoice {
        transaction: recharge.id,
        series: InvoiceSeries::CreditNote,
        financial_year: &year,
        prefix: &config.invoice_prefix,
        sale: &sale,
        operator_gstin: invoice.operator_gstin.as_deref(),
        operator_state: invoice.operator_state.as_deref(),
        operator_legal_name: invoice.operator_legal_name.as_deref(),
        operator_address: invoice.operator_address.as_deref(),
        sac_code: &invoice.sac_code,
        rate_hundredths: invoice.rate_hundredths,
        taxable_paise: invoice.taxable_paise,
        cgst_paise: invoice.cgst_paise,
        sgst_paise: invoice.sgst_paise,
        igst_paise: invoice.igst_paise,
    };
    Ok(Some(records::issue(tx, &note).await?))
}

pub struct TaxService {
    db: Db,
    pan_cipher: OwnerCipher,
}

/// One deductee's payouts in a quarter under one section (a row of the TDS export).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deductee {
    pub telecaller: AccountId,
    /// Her verified-or-not PAN whole (the export is for the tax return), `None` without KYC.
    pub pan: Option<String>,
    pub name: Option<String>,
    pub section: String,
    pub paid_paise: i64,
    pub withheld_paise: i64,
    /// When each payout was made.
    pub dates: Vec<DateTime<Utc>>,
}

/// A telecaller's own year: each paid withdrawal with its gross, TDS and net.
#[derive(Debug, Clone)]
pub struct TdsStatement {
    pub financial_year: String,
    pub kyc: KycStatus,
    /// Masked.
    pub pan: Option<String>,
    pub payouts: Vec<Transaction>,
}

impl TaxService {
    pub fn new(db: Db, pan_cipher: OwnerCipher) -> Self {
        Self { db, pan_cipher }
    }

    /// The TDS export of a quarter (`2026-Q3`: October to December 2026, as TDS returns count
    /// quarters): one row per deductee and section.
    pub async fn tds_quarter(&self, quarter: &str) -> Result<Vec<Deductee>, ServiceError> {
        let (start, end) = gst::quarter_bounds(quarter)
            .ok_or_else(|| ServiceError::invalid_field("quarter", "validation_error", "must be YYYY-Q1 to YYYY-Q4"))?;
        let paid = transactions::paid_withdrawals(self.db.pool(), None, start, end).await?;
        let owners: Vec<uuid::Uuid> = paid.iter().map(|w| w.account_id.0).collect();
        let kycs: HashMap<AccountId, HostKyc> =
            kyc::of_many(self.db.pool(), &owners).await?.into_iter().map(|k| (k.telecaller_id, k)).collect();
        let mut rows: Vec<Deductee> = Vec::new();
        let mut index: HashMap<(AccountId, String), usize> = HashMap::new();
        for w in paid {
            let section = w.tds_section.clone().unwrap_or_default();
            if let Some(row) = index.get(&(w.account_id, section.clone())).map(|&i| &mut rows[i]) {
                row.paid_paise += w.amount_paise;
                row.withheld_paise += w.tds_paise;
                row.dates.extend(w.processed_at);
                continue;
            }
            let kyc = kycs.get(&w.account_id);
            let pan = match kyc {
                Some(k) => Some(self.pan_cipher.open(w.account_id, &k.pan_enc)?),
                None => None,
            };
            index.insert((w.account_id, section.clone()), rows.len());
            rows.push(Deductee {
                telecaller: w.account_id,
                pan,
                name: kyc.map(|k| k.name_on_pan.clone()).or_else(|| w.bank_holder_name.clone()),
                section,
                paid_paise: w.amount_paise,
                withheld_paise: w.tds_paise,
                dates: w.processed_at.into_iter().collect(),
            });
        }
        Ok(rows)
    }

    /// Her statement of a financial year (`2026-27`).
    pub async fn tds_statement(&self, telecaller: &Account, year: &str) -> Result<TdsStatement, ServiceError> {
        let (start, end) = gst::financial_year_bounds(year).ok_or_else(|| {
            ServiceError::invalid_field("year", "validation_error", "must be a financial year, 2026-27")
        })?;
        let payouts = transactions::paid_withdrawals(self.db.pool(), Some(telecaller.id), start, end).await?;
        let kyc = kyc::find(self.db.pool(), telecaller.id).await?;
        Ok(TdsStatement {
            financial_year: year.to_owned(),
            kyc: kyc.as_ref().map_or(KycStatus::NotSubmitted, |k| k.status),
            pan: kyc.map(|k| talktime_domain::kyc::mask_pan(&k.pan_last4)),
            payouts,
        })
    }

    /// `PUT /users/billing`: her GST state code and, for a business, its GSTIN (checked).
    pub async fn set_billing(
        &self,
        user: &Account,
        state: Option<&str>,
        gstin: Option<&str>,
    ) -> Result<(), ServiceError> {
        if state.is_some_and(|s| !gst::is_state_code(s)) {
            return Err(ServiceError::invalid_field("state", "validation_error", "must be a GST state code (01–38)"));
        }
        if gstin.is_some_and(|g| !gst::is_gstin(g)) {
            return Err(ServiceError::invalid_field("gstin", "validation_error", "is not a GSTIN"));
        }
        records::set_billing(self.db.pool(), user.id, state, gstin).await?;
        Ok(())
    }

    /// Her billing state and GSTIN.
    pub async fn billing(&self, user: &Account) -> Result<(Option<String>, Option<String>), ServiceError> {
        Ok(records::billing(self.db.pool(), user.id).await?)
    }

    /// The invoice of one of her captured recharges (404 `invoice_not_found`).
    pub async fn invoice(&self, user: &Account, recharge: TransactionId) -> Result<Invoice, ServiceError> {
        records::find(self.db.pool(), recharge, InvoiceSeries::Invoice, user.id)
            .await?
            .ok_or_else(|| ServiceError::not_found("invoice_not_found", "This transaction has no invoice"))
    }

    /// Every invoice and credit note issued in the calendar month (IST) that `month` starts.
    pub async fn month(&self, month: NaiveDate) -> Result<Vec<Invoice>, ServiceError> {
        let (start, end) = gst::month_bounds(month.year(), month.month())
            .ok_or_else(|| ServiceError::invalid_field("month", "validation_error", "is out of range"))?;
        Ok(records::issued_between(self.db.pool(), start, end).await?)
    }
}
