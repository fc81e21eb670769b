//! Tax records: invoices and credit notes with numbers from gap-free sequences, a buyer's billing
//! details, and the month's records for the GST export.

use chrono::{DateTime, Utc};
use talktime_domain::ids::{AccountId, TransactionId};
use talktime_domain::tax::{Invoice, InvoiceSeries};
use uuid::Uuid;

use crate::{Executor, RepoError, Tx};

/// `query_as!(Invoice, …)`: `$head`, every column of `invoices` (written once, here), `$tail`.
macro_rules! invoice_query {
    ($head:tt, $tail:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Invoice,
            $head
                + r#"id, transaction_id AS "transaction_id: TransactionId", series AS "series: InvoiceSeries", number,
                     financial_year, account_id AS "account_id: AccountId", buyer_name, buyer_state, buyer_gstin,
                     operator_gstin, operator_state, operator_legal_name, operator_address, sac_code, rate_hundredths,
                     taxable_paise, cgst_paise, sgst_paise, igst_paise, total_paise, coins, issued_at"#
                + $tail
            $(, $arg)*
        )
    };
}

/// What a captured recharge's invoice needs from the order and its buyer.
#[derive(Debug, Clone)]
pub struct Sale {
    pub account: AccountId,
    pub total_paise: i64,
    /// Fixed when the order was made (`None` for orders from before GST was recorded).
    pub taxable_paise: Option<i64>,
    pub rate_hundredths: Option<i32>,
    pub coins: i64,
    pub buyer_name: Option<String>,
    pub buyer_state: Option<String>,
    pub buyer_gstin: Option<String>,
}

pub async fn sale(ex: impl Executor<'_>, transaction: TransactionId) -> Result<Option<Sale>, RepoError> {
    Ok(sqlx::query_as!(
        Sale,
        r#"SELECT t.account_id AS "account: AccountId", t.amount_paise AS total_paise, t.taxable_paise,
                  t.gst_rate_hundredths AS rate_hundredths, t.coins, a.name AS buyer_name,
                  a.billing_state AS buyer_state, a.gstin AS buyer_gstin
           FROM transactions t JOIN accounts a ON a.id = t.account_id WHERE t.id = $1"#,
        transaction.0
    )
    .fetch_optional(ex)
    .await?)
}

/// An invoice or credit note to issue (its number is taken in [`issue`]).
#[derive(Debug, Clone)]
pub struct NewInvoice<'a> {
    pub transaction: TransactionId,
    pub series: InvoiceSeries,
    pub financial_year: &'a str,
    pub prefix: &'a str,
    pub sale: &'a Sale,
    pub operator_gstin: Option<&'a str>,
    pub operator_state: Option<&'a str>,
    pub operator_legal_name: Option<&'a str>,
    pub operator_address: Option<&'a str>,
    pub sac_code: &'a str,
    pub rate_hundredths: i32,
    pub taxable_paise: i64,
    pub cgst_paise: i64,
    pub sgst_paise: i64,
    pub igst_paise: i64,
}

/// Takes the series' next number for the year (the sequence row stays locked until the caller
/// commits: concurrent issues queue, a rollback gives the number back) and issues the record.
pub async fn issue(tx: &mut Tx, n: &NewInvoice<'_>) -> Result<Invoice, RepoError> {
    let seq: i32 = sqlx::query_scalar!(
        "INSERT INTO invoice_sequences (series, financial_year, last) VALUES ($1, $2, 1) \
         ON CONFLICT (series, financial_year) DO UPDATE SET last = invoice_sequences.last + 1 RETURNING last",
        n.series.as_str(),
        n.financial_year
    )
    .fetch_one(&mut **tx)
    .await?;
    let number = talktime_domain::tax::invoice_number(n.prefix, n.series, n.financial_year, seq);
    let total = n.taxable_paise + n.cgst_paise + n.sgst_paise + n.igst_paise;
    Ok(invoice_query!(
        "INSERT INTO invoices (id, transaction_id, series, number, financial_year, seq, account_id, buyer_name, \
         buyer_state, buyer_gstin, operator_gstin, operator_state, operator_legal_name, operator_address, sac_code, \
         rate_hundredths, taxable_paise, cgst_paise, sgst_paise, igst_paise, total_paise, coins) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22) \
         RETURNING ",
        "",
        Uuid::now_v7(),
        n.transaction.0,
        n.series.as_str(),
        number,
        n.financial_year,
        seq,
        n.sale.account.0,
        n.sale.buyer_name,
        n.sale.buyer_state,
        n.sale.buyer_gstin,
        n.operator_gstin,
        n.operator_state,
        n.operator_legal_name,
        n.operator_address,
        n.sac_code,
        n.rate_hundredths,
        n.taxable_paise,
        n.cgst_paise,
        n.sgst_paise,
        n.igst_paise,
        total,
        n.sale.coins
    )
    .fetch_one(&mut **tx)
    .await?)
}

/// The transaction's record of this series, when it belongs to `account`.
pub async fn find(
    ex: impl Executor<'_>,
    transaction: TransactionId,
    series: InvoiceSeries,
    account: AccountId,
) -> Result<Option<Invoice>, RepoError> {
    Ok(invoice_query!(
        "SELECT ",
        " FROM invoices WHERE transaction_id = $1 AND series = $2 AND account_id = $3",
        transaction.0,
        series.as_str(),
        account.0
    )
    .fetch_optional(ex)
    .await?)
}

/// Every record issued in `[from, to)`, in the order they were issued (index `invoices_issued_idx`).
pub async fn issued_between(
    ex: impl Executor<'_>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Invoice>, RepoError> {
    Ok(invoice_query!(
        "SELECT ",
        " FROM invoices WHERE issued_at >= $1 AND issued_at < $2 ORDER BY issued_at, seq",
        from,
        to
    )
    .fetch_all(ex)
    .await?)
}

/// A buyer's billing state (GST state code) and GSTIN (`None` clears).
pub async fn set_billing(
    ex: impl Executor<'_>,
    account: AccountId,
    state: Option<&str>,
    gstin: Option<&str>,
) -> Result<(), RepoError> {
    sqlx::query!("UPDATE accounts SET billing_state = $2, gstin = $3 WHERE id = $1", account.0, state, gstin)
        .execute(ex)
        .await?;
    Ok(())
}

/// A buyer's billing state and GSTIN.
pub async fn billing(ex: impl Executor<'_>, account: AccountId) -> Result<(Option<String>, Option<String>), RepoError> {
    let row =
        sqlx::query!("SELECT billing_state, gstin FROM accounts WHERE id = $1", account.0).fetch_optional(ex).await?;
    Ok(row.map_or((None, None), |r| (r.billing_state, r.gstin)))
}
