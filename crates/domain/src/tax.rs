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
    let ist = ist().map_or_else(|| at.naive_utc(), |tz| at.with_timezone(&tz).naive_local());
    let start = if ist.month() >= 4 { ist.year() } else { ist.year() - 1 };
    format!("{start}-{:02}", (start + 1) % 100)
}

/// India Standard Time, where financial years, quarters and months begin.
fn ist() -> Option<FixedOffset> {
    FixedOffset::east_opt(5 * 3600 + 1800)
}

/// Midnight IST of a day, as a UTC moment.
fn ist_midnight(year: i32, month: u32) -> Option<DateTime<Utc>> {
    let day = chrono::NaiveDate::from_ymd_opt(year, month, 1)?.and_hms_opt(0, 0, 0)?;
    Some(day.and_local_timezone(ist()?).single()?.with_timezone(&Utc))
}

/// The moments an IST calendar month starts and ends (exclusive).
///
/// ```
/// use talktime_domain::tax::month_bounds;
/// let (start, end) = month_bounds(2026, 12).unwrap();
/// assert_eq!(start.to_rfc3339(), "2026-11-30T18:30:00+00:00");
/// assert_eq!(end.to_rfc3339(), "2026-12-31T18:30:00+00:00");
/// assert!(month_bounds(2026, 13).is_none());
/// ```
pub fn month_bounds(year: i32, month: u32) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let (next_year, next_month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    Some((ist_midnight(year, month)?, ist_midnight(next_year, next_month)?))
}

/// The moments a financial year (`2026-27`) starts and ends (exclusive), IST.
///
/// ```
/// use talktime_domain::tax::financial_year_bounds;
/// let (start, end) = financial_year_bounds("2026-27").unwrap();
/// assert_eq!(start.to_rfc3339(), "2026-03-31T18:30:00+00:00");
/// assert_eq!(end.to_rfc3339(), "2027-03-31T18:30:00+00:00");
/// assert!(financial_year_bounds("2026-28").is_none());
/// assert!(financial_year_bounds("2026").is_none());
/// ```
pub fn financial_year_bounds(year: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let (start, end) = year.split_once('-')?;
    let start: i32 = start.parse().ok().filter(|y| (2000..=9998).contains(y))?;
    (end.len() == 2 && end.parse::<i32>().ok()? == (start + 1) % 100).then_some(())?;
    Some((ist_midnight(start, 4)?, ist_midnight(start + 1, 4)?))
}

/// The moments a quarter of a financial year starts and ends (exclusive), IST. `2026-Q3` is the
/// third quarter of the year that starts in April 2026 (October to December 2026), as TDS
/// returns count them.
///
/// ```
/// use talktime_domain::tax::quarter_bounds;
/// let (start, end) = quarter_bounds("2026-Q3").unwrap();
/// assert_eq!(start.to_rfc3339(), "2026-09-30T18:30:00+00:00");
/// assert_eq!(end.to_rfc3339(), "2026-12-31T18:30:00+00:00");
/// let (start, _) = quarter_bounds("2026-Q4").unwrap();
/// assert_eq!(start.to_rfc3339(), "2026-12-31T18:30:00+00:00");
/// assert!(quarter_bounds("2026-Q5").is_none());
/// ```
pub fn quarter_bounds(quarter: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let (year, q) = quarter.split_once("-Q")?;
    let year: i32 = year.parse().ok().filter(|y| (2000..=9998).contains(y))?;
    let q: u32 = q.parse().ok().filter(|q| (1..=4).contains(q))?;
    // Q1 starts in April: months 4, 7, 10 of the year, then January of the next.
    let at = |n: u32| {
        let month0 = 3 + (n - 1) * 3;
        ist_midnight(year + (month0 / 12) as i32, month0 % 12 + 1)
    };
    Some((at(q)?, at(q + 1)?))
}

/// What a telecaller was paid in a financial year before a payout, and the TDS withheld on it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TdsYear {
    pub paid: i64,
    pub withheld: i64,
}

/// The TDS on a payout of `gross` paise (docs/tax.md): nothing while the year's payouts, this one
/// included, stay within `threshold`; once they pass it, the year's TDS is brought up to `rate`
/// of everything paid in the year (so what was paid untaxed before is taxed now), never more
/// than this payout and never less than nothing.
///
/// ```
/// use talktime_domain::tax::{TdsYear, tds_due};
/// let year = |paid, withheld| TdsYear { paid, withheld };
/// // Within ₹30,000 at 10%: nothing.
/// assert_eq!(tds_due(year(2_000_000, 0), 1_000_000, 3_000_000, 1_000), 0);
/// // Crossing it: 10% of the whole ₹31,000.
/// assert_eq!(tds_due(year(2_000_000, 0), 1_100_000, 3_000_000, 1_000), 310_000);
/// // Past it: 10% of the new payout.
/// assert_eq!(tds_due(year(3_100_000, 310_000), 500_000, 3_000_000, 1_000), 50_000);
/// // Never more than the payout itself.
/// assert_eq!(tds_due(year(2_999_000, 0), 2_000, 3_000_000, 1_000), 2_000);
/// ```
pub fn tds_due(year: TdsYear, gross: i64, threshold: i64, rate_hundredths: i32) -> i64 {
    let total = i128::from(year.paid) + i128::from(gross);
    if total <= i128::from(threshold) {
        return 0;
    }
    let due = total * i128::from(rate_hundredths) / 10_000 - i128::from(year.withheld);
    i64::try_from(due.clamp(0, i128::from(gross))).unwrap_or(gross)
}

/// The coins of a withdrawal's paid journal that stand for its TDS: the same share of its coins
/// as the TDS is of its rupees (rounded down; the rest is paid out).
///
/// ```
/// use talktime_domain::tax::tds_coins;
/// assert_eq!(tds_coins(1_000, 100_000, 10_000), 100);
/// assert_eq!(tds_coins(999, 99_900, 3_333), 33);
/// assert_eq!(tds_coins(5, 0, 0), 0);
/// ```
pub fn tds_coins(coins: i64, amount_paise: i64, tds_paise: i64) -> i64 {
    if amount_paise <= 0 {
        return 0;
    }
    let share = i128::from(coins) * i128::from(tds_paise) / i128::from(amount_paise);
    i64::try_from(share.clamp(0, i128::from(coins))).unwrap_or(0)
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
