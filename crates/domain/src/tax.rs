//! Tax: GST on recharges (docs/tax.md). Rates are the operator's settings, not code.

use chrono::{DateTime, Datelike, FixedOffset, Utc};

wire_enum!(
    /// Whether a plan's price includes GST (`INCLUSIVE`, today's prices stay) or GST is added on
    /// top (`EXCLUSIVE`).
    GstMode { Inclusive => "INCLUSIVE", Exclusive => "EXCLUSIVE" }
);

wire_enum!(
    /// An invoice for a captured recharge, or a credit note for a refunded one.
    InvoiceSeries { Invoice => "INVOICE", CreditNote => "CREDIT_NOTE" }
);

/// What an order charges: the taxable value and the GST on it, in paise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charge {
    pub taxable: i64,
    pub total: i64,
}

/// The charge for a plan priced `price` paise at `rate_hundredths` (1800 = 18%).
///
/// ```
/// use talktime_domain::tax::{Charge, GstMode, charge};
/// // ₹99 including 18%: 8390 taxable (99 ÷ 1.18, rounded), 1510 GST.
/// assert_eq!(charge(9_900, 1_800, GstMode::Inclusive), Charge { taxable: 8_390, total: 9_900 });
/// // ₹99 before 18%: 1782 GST on top.
/// assert_eq!(charge(9_900, 1_800, GstMode::Exclusive), Charge { taxable: 9_900, total: 11_682 });
/// ```
pub fn charge(price: i64, rate_hundredths: i32, mode: GstMode) -> Charge {
    let rate = i128::from(rate_hundredths.max(0));
    let price_wide = i128::from(price.max(0));
    match mode {
        GstMode::Inclusive => {
            // round(price × 10000 / (10000 + rate)), half up.
            let whole = 10_000 + rate;
            let taxable = (price_wide * 10_000 * 2 + whole) / (2 * whole);
            Charge { taxable: i64::try_from(taxable).unwrap_or(0), total: price }
        }
        GstMode::Exclusive => {
            let tax = (price_wide * rate + 5_000) / 10_000;
            Charge { taxable: price, total: i64::try_from(price_wide + tax).unwrap_or(i64::MAX) }
        }
    }
}

/// The GST of an invoice split by where the buyer is: CGST + SGST (half each, the odd paisa to
/// SGST) within the operator's state, IGST otherwise or when either state is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    pub cgst: i64,
    pub sgst: i64,
    pub igst: i64,
}

/// ```
/// use talktime_domain::tax::{Split, split};
/// assert_eq!(split(1_511, Some("29"), Some("29")), Split { cgst: 755, sgst: 756, igst: 0 });
/// assert_eq!(split(1_511, Some("29"), Some("27")), Split { cgst: 0, sgst: 0, igst: 1_511 });
/// assert_eq!(split(1_511, Some("29"), None), Split { cgst: 0, sgst: 0, igst: 1_511 });
/// ```
pub fn split(tax: i64, operator_state: Option<&str>, buyer_state: Option<&str>) -> Split {
    match (operator_state, buyer_state) {
        (Some(ours), Some(theirs)) if ours == theirs => Split { cgst: tax / 2, sgst: tax - tax / 2, igst: 0 },
        _ => Split { cgst: 0, sgst: 0, igst: tax },
    }
}

/// India's financial year (April to March, in IST) of a moment: `2026-27`.
///
/// ```
/// use talktime_domain::tax::financial_year;
/// let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
/// assert_eq!(financial_year(at("2026-12-03T10:00:00Z")), "2026-27");
/// assert_eq!(financial_year(at("2027-03-31T18:29:59Z")), "2026-27");
/// assert_eq!(financial_year(at("2027-03-31T18:30:00Z")), "2027-28");
/// ```
pub fn financial_year(at: DateTime<Utc>) -> String {
    let ist =
        FixedOffset::east_opt(5 * 3600 + 1800).map_or_else(|| at.naive_utc(), |tz| at.with_timezone(&tz).naive_local());
    let start = if ist.month() >= 4 { ist.year() } else { ist.year() - 1 };
    format!("{start}-{:02}", (start + 1) % 100)
}

/// `TT/2026-27/000001` (invoices) or `TT/CN/2026-27/000001` (credit notes).
pub fn invoice_number(prefix: &str, series: InvoiceSeries, year: &str, seq: i32) -> String {
    match series {
        InvoiceSeries::Invoice => format!("{prefix}/{year}/{seq:06}"),
        InvoiceSeries::CreditNote => format!("{prefix}/CN/{year}/{seq:06}"),
    }
}

/// A GSTIN's shape: two digits of the state, a PAN (five letters, four digits, a letter), the
/// entity number, `Z`, a check character.
///
/// ```
/// use talktime_domain::tax::is_gstin;
/// assert!(is_gstin("29ABCDE1234F1Z5"));
/// assert!(!is_gstin("29ABCDE1234F1X5"));
/// assert!(!is_gstin("29abcde1234f1z5"));
/// ```
pub fn is_gstin(value: &str) -> bool {
    let b = value.as_bytes();
    b.len() == 15
        && b[..2].iter().all(u8::is_ascii_digit)
        && b[2..7].iter().all(u8::is_ascii_uppercase)
        && b[7..11].iter().all(u8::is_ascii_digit)
        && b[11].is_ascii_uppercase()
        && (b[12].is_ascii_uppercase() || (b'1'..=b'9').contains(&b[12]))
        && b[13] == b'Z'
        && (b[14].is_ascii_uppercase() || b[14].is_ascii_digit())
}

/// A GST state code: two digits, 01–38 (97: other territory).
pub fn is_state_code(value: &str) -> bool {
    value.len() == 2 && value.parse::<u8>().is_ok_and(|n| (1..=38).contains(&n) || n == 97)
}

/// An issued invoice or credit note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    pub id: uuid::Uuid,
    pub transaction_id: crate::ids::TransactionId,
    pub series: InvoiceSeries,
    pub number: String,
    pub financial_year: String,
    pub account_id: crate::ids::AccountId,
    pub buyer_name: Option<String>,
    pub buyer_state: Option<String>,
    pub buyer_gstin: Option<String>,
    pub operator_gstin: Option<String>,
    pub operator_state: Option<String>,
    pub operator_legal_name: Option<String>,
    pub operator_address: Option<String>,
    pub sac_code: String,
    pub rate_hundredths: i32,
    pub taxable_paise: i64,
    pub cgst_paise: i64,
    pub sgst_paise: i64,
    pub igst_paise: i64,
    pub total_paise: i64,
    pub coins: i64,
    pub issued_at: DateTime<Utc>,
}
